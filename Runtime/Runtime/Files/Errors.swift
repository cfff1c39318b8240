// Errors about data and files that every program and the runtime raise: a value or file whose content
// is wrong (DataError), an output that cannot be written (FileWriteError). Loaders of models and
// checkpoints use CheckpointError (Checkpoint/MappedFile.swift), JSONL records RecordError.

/// Data that is not what it must be (a field out of range, a malformed file's content).
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// An output file that could not be written: "cannot write PATH: problem".
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "cannot write \(path): \(problem)" }
}
