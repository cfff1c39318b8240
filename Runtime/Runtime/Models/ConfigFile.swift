// A model's config.json as bytes, with the path its errors name: a file on disk, or a config nested
// inside another model's (GLiClass keeps its encoder's config under "encoder_config"). Config readers
// take a ConfigFile, so a backbone can be built from either.
import Foundation

public struct ConfigFile: Sendable {
    /// What errors name: "dir/config.json", or "dir/config.json:encoder_config" for a nested config.
    public let path: String
    public let bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// A config held as a JSON object inside another file.
    public init(path: String, json: JSONValue) {
        var w = JSONWriter()
        w.write(json)
        self.init(path: path, bytes: w.bytes)
    }

    public static func read(_ path: String) throws -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError(path, "cannot read") }
        return ConfigFile(path: path, bytes: [UInt8](data))
    }

    public func json() throws -> JSONValue {
        do { return try JSONValue(parsing: bytes) } catch { throw CheckpointError(path, "not valid JSON: \(error)") }
    }

    public func decode<C: Decodable>(_ type: C.Type) throws -> C {
        do { return try JSONDecoder().decode(C.self, from: Data(bytes)) } catch { throw CheckpointError(path, "not a valid config: \(error)") }
    }
}

/// A config whose vocabulary a loader may resize (tokens added to the tokenizer).
public protocol VocabularySized {
    var vocabSize: Int { get set }
}

extension BERTConfig: VocabularySized {}
extension MPNetConfig: VocabularySized {}
extension DeBERTaV2Config: VocabularySized {}

/// A config.json as a JSON value, with errors naming the file.
func readConfigJSON(_ path: String) throws -> JSONValue { try ConfigFile.read(path).json() }
