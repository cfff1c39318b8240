// A prokd model directory: prokd.json (ProKDConfig) and model.safetensors with the tensors training
// changed (the classifier and the unfrozen layers, under the base model's own names), so the base is
// read from base_model (or --base) at load time and not copied.
import Foundation
import Runtime

public struct TaggerBundle {
    public let tagger: TokenTagger
    public let tokenizer: Tokenizer
    public var config: ProKDConfig { tagger.config }
    public var encoder: TaggerEncoder { TaggerEncoder(tokenizer: tokenizer, config: config) }
    public var padId: Int { tagger.backbone.descriptor.padId ?? 0 }
    public init(tagger: TokenTagger, tokenizer: Tokenizer) { (self.tagger, self.tokenizer) = (tagger, tokenizer) }
}

public enum TaggerFiles {
    public static let configName = "prokd.json"
    public static let weightsName = "model.safetensors"

    /// A new tagger on the base at `config.baseModel`, its classifier drawn from `seed`.
    public static func fresh(_ config: ProKDConfig, seed: UInt64) throws -> TaggerBundle {
        try config.validate()
        let loaded = try ModelRegistry.load(path: config.baseModel)
        try check(config, loaded.backbone.descriptor)
        let tagger = TokenTagger(backbone: loaded.backbone, config: config, generator: RandomGenerator(seed: seed, stream: 0xC1A5))
        return TaggerBundle(tagger: tagger, tokenizer: loaded.tokenizer)
    }

    static func check(_ config: ProKDConfig, _ d: BackboneDescriptor) throws {
        if let p = d.maxPositions, config.maxLength > p {
            throw ProKDError("max_length \(config.maxLength) is past the model's \(p) positions: give --max-length \(p) or less")
        }
        guard config.freezeBottom < d.layers else {
            throw ProKDError("--freeze-bottom \(config.freezeBottom) leaves none of the model's \(d.layers) layers to train")
        }
    }

    public static func isModel(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(configName))
    }

    /// A saved tagger (eval mode); `base` overrides the base model path it names; `role` (when given)
    /// sets the role a copy made from it will have.
    public static func load(directory: String, base: String? = nil) throws -> TaggerBundle {
        let path = (directory as NSString).appendingPathComponent(configName)
        var config = try ProKDConfig(json: try ConfigFile.read(path).json(), path: path)
        if let base { config.baseModel = base }
        let loaded: ModelRegistry.Loaded
        do { loaded = try ModelRegistry.load(path: config.baseModel) } catch {
            throw ProKDError("the base model of \(directory) (\(config.baseModel)): \(error) — give --base PATH if it moved")
        }
        try check(config, loaded.backbone.descriptor)
        let tagger = TokenTagger(backbone: loaded.backbone, config: config, generator: RandomGenerator(seed: 0, stream: 0))
        let weights = (directory as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: weights)
        let trained = Dictionary(uniqueKeysWithValues: tagger.trainedTensors())
        guard Set(file.names) == Set(trained.keys) else {
            let missing = Set(trained.keys).subtracting(file.names).sorted().prefix(3), extra = Set(file.names).subtracting(trained.keys).sorted().prefix(3)
            throw CheckpointError(weights, "the tensors do not match the trained part of \(config.baseModel) with freeze_bottom \(config.freezeBottom) (missing: \(missing.joined(separator: ", ")); unexpected: \(extra.joined(separator: ", ")))")
        }
        var state: [String: Tensor] = [:]
        for n in file.names { state[n] = try file.tensor(n) }
        do { try tagger.load(state: state, strict: false) } catch { throw CheckpointError(weights, "\(error)") }
        tagger.eval()
        return TaggerBundle(tagger: tagger, tokenizer: loaded.tokenizer)
    }

    /// Writes model.safetensors and prokd.json (each atomically; prokd.json last).
    public static func save(_ bundle: TaggerBundle, to directory: String) throws {
        try writeSafeTensors(bundle.tagger.trainedTensors(), metadata: ["producer": "prokd"],
                             to: (directory as NSString).appendingPathComponent(weightsName))
        var w = JSONWriter()
        w.write(bundle.config.json)
        let path = (directory as NSString).appendingPathComponent(configName)
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }
}
