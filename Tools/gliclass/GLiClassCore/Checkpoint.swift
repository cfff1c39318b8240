// GLiClass model directories, as the reference's save_pretrained writes them: config.json (GLiClass's
// fields, the encoder's config under "encoder_config"), model.safetensors (the encoder under
// "model.encoder_model.", the heads under "model."), and the tokenizer with <<LABEL>>, <<SEP>> and
// <<EXAMPLE>> added. A new model starts from a plain encoder directory as train.py builds one: the
// three tokens added to the tokenizer, the embedding table grown by their rows (each the mean of the
// old rows), heads drawn N(0, initializer_range²) with zero biases, logit_scale at its initial value.
import Foundation
import Runtime

public struct GLiClassBundle {
    public let model: GLiClassModel
    public let tokenizer: Tokenizer
    /// The tokenizer.json the tokenizer came from (saved back with the added tokens).
    public let tokenizerJSON: JSONValue
    /// The directory the tokenizer's other files (tokenizer_config.json, vocab) are copied from.
    public let tokenizerDirectory: String
}

/// The tokenizer files besides tokenizer.json that save_pretrained writes; copied when present.
let tokenizerSideFiles = ["tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "sentencepiece.bpe.model", "spm.model"]

public enum GLiClassCheckpoint {
    /// Whether `path` holds a GLiClass checkpoint (a config.json with an encoder_config).
    public static func isGLiClass(_ path: String) -> Bool {
        let config = (path as NSString).appendingPathComponent("config.json")
        guard let json = try? ConfigFile.read(config).json() else { return false }
        return json["encoder_config"] != nil
    }

    static func readTokenizer(_ directory: String) throws -> (Tokenizer, JSONValue) {
        let path = (directory as NSString).appendingPathComponent("tokenizer.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path, "cannot read (a GLiClass model directory holds its tokenizer.json)")
        }
        let json: JSONValue
        do { json = try JSONValue(parsing: [UInt8](data)) } catch { throw CheckpointError(path, "not valid JSON: \(error)") }
        do { return (try Tokenizer(json: json), json) } catch { throw CheckpointError(path, "\(error)") }
    }

    /// A saved GLiClass model.
    public static func load(directory: String) throws -> GLiClassBundle {
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        let config = try GLiClassConfig.load(path: configPath)
        let source = try SafeTensorsCheckpoint(path: directory)
        let encoderFile = ConfigFile(path: configPath + ":encoder_config", json: config.encoderConfig)
        let backbone = try ModelRegistry.build(config: encoderFile, source: source,
                                               options: BackboneOptions(prefix: "model.encoder_model.", heads: false))
        let heads = CheckpointLoader(source, ignorable: Set(source.tensorNames.filter { $0.hasPrefix("model.encoder_model.") }))
        let model = try GLiClassModel(config: config, backbone: backbone, heads: heads)
        model.eval()
        let (tokenizer, json) = try readTokenizer(directory)
        try check(tokenizer, config, directory)
        return GLiClassBundle(model: model, tokenizer: tokenizer, tokenizerJSON: json, tokenizerDirectory: directory)
    }

    /// A new GLiClass on the encoder at `encoderPath`, configured by `configure` (indices and vocabulary
    /// are set here); heads drawn from `seed`.
    public static func fresh(encoder encoderPath: String, seed: UInt64, configure: (inout GLiClassConfig) throws -> Void) throws -> GLiClassBundle {
        let location = try ModelRegistry.locate(encoderPath)
        guard case .directory(let directory) = location else {
            throw CheckpointError(encoderPath, "GLiClass needs an encoder directory (config.json, model.safetensors, tokenizer.json)")
        }
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        let (tokenizer, json) = try readTokenizer(directory)
        let before = tokenizer.vocabSize
        var config = try GLiClassConfig(encoder: try ConfigFile.read(configPath).json(), encoderName: directory, tokenizerSize: before)
        try configure(&config)
        try config.validate(path: "the GLiClass options")
        let ids = tokenizer.addTokens(PromptTokens.all, special: true)
        guard ids == [before, before + 1, before + 2] else {
            throw CheckpointError(directory, "the tokenizer already has \(PromptTokens.all.joined(separator: ", ")) at \(ids): start from a plain encoder, or load the GLiClass model")
        }
        let backbone = try ModelRegistry.loadBackbone(path: directory, options: BackboneOptions(vocabularySize: config.vocabSize, heads: false))
        guard backbone.descriptor.kind == .encoder else { throw CheckpointError(directory, "GLiClass's uni-encoder needs an encoder, not a decoder") }
        let model = try GLiClassModel(config: config, backbone: backbone, heads: InitLoader(generator: RandomGenerator(seed: seed, stream: 0x611C)))
        return GLiClassBundle(model: model, tokenizer: tokenizer, tokenizerJSON: json, tokenizerDirectory: directory)
    }

    /// The tokenizer must spell the three tokens with the config's ids, and fit the embedding table.
    static func check(_ tokenizer: Tokenizer, _ config: GLiClassConfig, _ directory: String) throws {
        for (token, id) in zip(PromptTokens.all, [config.classTokenIndex, config.textTokenIndex, config.exampleTokenIndex]) {
            let found = tokenizer.tokenToId(token)
            guard found == id else {
                throw CheckpointError((directory as NSString).appendingPathComponent("tokenizer.json"),
                                      "\(token) is \(found.map(String.init) ?? "missing"), but config.json says \(id)")
            }
        }
        guard tokenizer.vocabSize <= config.vocabSize else {
            throw CheckpointError(directory, "the tokenizer's ids run to \(tokenizer.vocabSize - 1), past the model's \(config.vocabSize) embedding rows")
        }
    }

    /// Writes the model as the reference's save_pretrained does (each file atomically).
    public static func save(_ bundle: GLiClassBundle, to directory: String, metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var cfg = bundle.model.config.json
        if case .object(var o) = cfg {
            o["transformers_version"] = o["transformers_version"] ?? "5.25.0"
            cfg = .object(o)
        }
        try writeFile(Array((cfg.jsonText + "\n").utf8), to: path("config.json"))
        try writeSafeTensors(bundle.model.namedState(), metadata: ["format": "pt"].merging(metadata) { $1 }, to: path("model.safetensors"))
        try writeFile(Array(bundle.tokenizer.json(updating: bundle.tokenizerJSON).jsonText.utf8), to: path("tokenizer.json"))
        for name in tokenizerSideFiles where (bundle.tokenizerDirectory as NSString).standardizingPath != (directory as NSString).standardizingPath {
            let source = (bundle.tokenizerDirectory as NSString).appendingPathComponent(name)
            if let data = FileManager.default.contents(atPath: source) { try writeFile([UInt8](data), to: path(name)) }
        }
    }
}
