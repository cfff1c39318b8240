// TensorSource: where a model's weights come from, by checkpoint name. A single safetensors file,
// a sharded checkpoint (model.safetensors.index.json mapping names to shard files) and a GGUF file
// all look the same to model loaders, which fetch weights by name and check shapes.
import Foundation

public protocol TensorSource: AnyObject {
    /// What to name in error messages (a file or directory).
    var sourcePath: String { get }
    var tensorNames: [String] { get }
    func hasTensor(_ name: String) -> Bool
    func tensor(_ name: String) throws -> Tensor
}

extension TensorSource {
    /// The tensor, which must have `shape`; the error names the weight, both shapes and the file.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard hasTensor(name) else { throw CheckpointError(sourcePath, "missing weight '\(name)' \(shape)") }
        let t = try tensor(name)
        guard t.shape == shape else {
            throw CheckpointError(sourcePath, "weight '\(name)' has shape \(t.shape), expected \(shape)")
        }
        return t
    }
}

extension SafeTensorsFile: TensorSource {
    public var sourcePath: String { path }
    public var tensorNames: [String] { names }
    public func hasTensor(_ name: String) -> Bool { info(name) != nil }
}

extension GGUFFile: TensorSource {
    public var sourcePath: String { path }
    public var tensorNames: [String] { tensors.map(\.name) }
    public func hasTensor(_ name: String) -> Bool { info(name) != nil }
}

/// The safetensors weights of a model directory: `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json` (each shard mapped when first needed).
public final class SafeTensorsCheckpoint: TensorSource {
    public let sourcePath: String
    private var shards: [String: SafeTensorsFile] = [:]
    private let weightMap: [String: String]  // tensor name → shard path
    private let order: [String]

    /// `path` is a directory, a .safetensors file, or a model.safetensors.index.json file.
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CheckpointError(path, "no such file or directory")
        }
        sourcePath = path
        var indexPath: String? = nil
        var single: String? = nil
        if isDir.boolValue {
            let idx = (path as NSString).appendingPathComponent("model.safetensors.index.json")
            let one = (path as NSString).appendingPathComponent("model.safetensors")
            if FileManager.default.fileExists(atPath: one) { single = one }
            else if FileManager.default.fileExists(atPath: idx) { indexPath = idx }
            else { throw CheckpointError(path, "no model.safetensors or model.safetensors.index.json in this directory") }
        } else if path.hasSuffix(".json") {
            indexPath = path
        } else {
            single = path
        }
        if let single {
            let f = try SafeTensorsFile(path: single)
            shards[single] = f
            order = f.names
            weightMap = Dictionary(uniqueKeysWithValues: f.names.map { ($0, single) })
            return
        }
        let ip = indexPath!  // invariant: every branch above sets `single` or `indexPath`
        guard let data = FileManager.default.contents(atPath: ip) else { throw CheckpointError(ip, "cannot read") }
        let json: JSONValue
        do { json = try JSONValue(parsing: [UInt8](data)) } catch { throw CheckpointError(ip, "not valid JSON: \(error)") }
        guard let map = json["weight_map"]?.objectValue else { throw CheckpointError(ip, "no weight_map object") }
        let dir = (ip as NSString).deletingLastPathComponent
        var m: [String: String] = [:], names: [String] = []
        for member in map {
            guard let file = member.value.stringValue, !file.contains("/") else {
                throw CheckpointError(ip, "weight_map entry for '\(member.key)' is not a file name in this directory")
            }
            m[member.key] = (dir as NSString).appendingPathComponent(file)
            names.append(member.key)
        }
        weightMap = m
        order = names
    }

    public var tensorNames: [String] { order }
    public func hasTensor(_ name: String) -> Bool { weightMap[name] != nil }

    public func tensor(_ name: String) throws -> Tensor {
        guard let shardPath = weightMap[name] else { throw CheckpointError(sourcePath, "no tensor named '\(name)'") }
        let shard: SafeTensorsFile
        if let s = shards[shardPath] { shard = s } else {
            shard = try SafeTensorsFile(path: shardPath)
            shards[shardPath] = shard
        }
        guard shard.info(name) != nil else {
            throw CheckpointError(shardPath, "the index maps '\(name)' to this shard, which does not hold it")
        }
        return try shard.tensor(name)
    }
}
