// A training run's output directory, the same for every trainer (zo train, lm-infinite train, loki fit):
//
//   - it refuses an --out that already holds another run's files, unless --resume (continue that run
//     from its last checkpoint) or --overwrite (remove those files and start over);
//   - a checkpoint (checkpoint.safetensors: the trained tensors, the optimizer state, and as metadata
//     the step, the number of log lines behind it and the run's options) is written atomically every
//     N steps, after the log lines it counts are on disk; a run killed at any moment resumes from it
//     and reaches the same final weights, bit for bit, as a run never interrupted (the data order and
//     every random draw come from (seed, step), never from state a kill would lose);
//   - log.jsonl: one JSON object per step, appended in one write each; a non-finite number is written
//     as null with a note, never dropped (RunLog.swift).
import Foundation
import Runtime
import ArgumentParser

public struct RunDirectoryOptions: ParsableArguments {
    @Option(help: "Output directory.")
    public var out: String

    @Flag(help: "Continue the run in --out from its last checkpoint (a killed run then reaches the same final weights as one never interrupted).")
    public var resume = false

    @Flag(help: "Start over in an --out that holds another run's files (those files are removed first).")
    public var overwrite = false

    @Option(help: "Write a checkpoint every this many steps (and at the end).")
    public var checkpointEvery = 50

    public init() {}

    public func validate() throws {
        if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
        if checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1 (got \(checkpointEvery))") }
    }
}

/// What a checkpoint holds besides tensors.
public struct CheckpointInfo {
    /// Steps completed.
    public var step: Int
    /// Lines of each append-only file (log.jsonl, and e.g. zo's trajectory.jsonl) that belong to it.
    public var lines: [String: Int]
    /// Anything else the program keeps (CPU seconds so far, a sampler's position, ...).
    public var extra: JSONValue

    public init(step: Int, lines: [String: Int], extra: JSONValue = .object([:])) {
        (self.step, self.lines, self.extra) = (step, lines, extra)
    }
}

public final class RunDirectory {
    public let path: String
    public let program: String
    /// The run's options (what its result depends on), stored in every checkpoint: resuming with other
    /// options is refused.
    public let runOptions: JSONValue
    public static let checkpointName = "checkpoint.safetensors"
    /// The checkpoint found when resuming (nil for a fresh run, or a resumed run that never checkpointed).
    public private(set) var resumed: (info: CheckpointInfo, tensors: [String: Tensor])?

    /// `files`: what this program's runs write into the directory (their presence means another run).
    public init(_ options: RunDirectoryOptions, program: String, files: [String], runOptions: JSONValue) throws {
        path = options.out
        self.program = program
        self.runOptions = runOptions
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue {
            throw LoadError(path: path, problem: "exists and is not a directory")
        }
        let present = (files + [RunDirectory.checkpointName]).filter { fm.fileExists(atPath: (path as NSString).appendingPathComponent($0)) }
        if !present.isEmpty && !options.resume && !options.overwrite {
            throw LoadError(path: path, problem: "holds another run's files (\(present.joined(separator: ", ")))",
                            hint: "--resume continues that run, --overwrite starts over, or choose another --out")
        }
        if options.overwrite {
            for f in present { try? fm.removeItem(atPath: (path as NSString).appendingPathComponent(f)) }
        }
        do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw LoadError(path: path, problem: "cannot create the directory: \(error.localizedDescription)")
        }
        if options.resume { resumed = try RunDirectory.readCheckpoint(options, program: program, runOptions: runOptions) }
    }

    /// The checkpoint `options.out` holds, checked against `runOptions`, read without changing anything
    /// (nil when there is none). The other ranks of a distributed run read rank 0's this way.
    public static func readCheckpoint(_ options: RunDirectoryOptions, program: String,
                                      runOptions: JSONValue) throws -> (info: CheckpointInfo, tensors: [String: Tensor])? {
        let path = (options.out as NSString).appendingPathComponent(checkpointName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let (info, stored, tensors) = try loadCheckpoint(path, program: program)
        guard stored == runOptions else {
            throw LoadError(path: path, problem: "was written by a run with other options: \(stored.jsonText)",
                            hint: "resume with the same options, or --overwrite to start over")
        }
        return (info, tensors)
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// The lines of append-only file `name` a fresh or resumed run keeps (nil: start it empty).
    public func keptLines(_ name: String) -> Int? { resumed.map { $0.info.lines[name] ?? 0 } }

    /// Writes the checkpoint atomically (call after the appended files it counts are synced).
    public func saveCheckpoint(_ tensors: [(String, Tensor)], info: CheckpointInfo) throws {
        let meta: JSONValue = .object(["step": .number(JSONNumber(info.step)),
                                       "lines": .object(JSONObject(info.lines.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .number(JSONNumber($0.value))) })),
                                       "options": runOptions, "extra": info.extra])
        try writeSafeTensors(tensors, metadata: ["format": "pt", "producer": program, "checkpoint": meta.jsonText],
                             to: file(RunDirectory.checkpointName))
    }

    private static func loadCheckpoint(_ path: String, program: String) throws -> (info: CheckpointInfo, options: JSONValue, tensors: [String: Tensor]) {
        let f = try SafeTensorsFile(path: path)
        guard let text = f.metadata["checkpoint"], let meta = try? JSONValue(parsing: [UInt8](text.utf8)),
              let step = (try? meta["step"]?.numberValue?.int()) ?? nil, step >= 0,
              let lines = meta["lines"]?.objectValue, let options = meta["options"] else {
            throw LoadError(path: path, problem: "not a checkpoint of \(program) (no valid checkpoint metadata)")
        }
        var counts: [String: Int] = [:]
        for m in lines.members {
            guard let n = (try? m.value.numberValue?.int()) ?? nil, n >= 0 else { throw LoadError(path: path, problem: "bad line count for \(m.key)") }
            counts[m.key] = n
        }
        var tensors: [String: Tensor] = [:]
        for t in f.tensors { tensors[t.name] = try f.tensor(t.name).copy() }
        return (CheckpointInfo(step: step, lines: counts, extra: meta["extra"] ?? .object([:])), options, tensors)
    }
}
