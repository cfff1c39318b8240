// The model registry: model_type → how to read its config and build it, in one table (as
// mlx-swift-examples' LLMModelFactory registers "llama": create(LlamaConfiguration.self, LlamaModel.init)).
// Programs ask `ModelRegistry.load(path:)` for a backbone and its tokenizer and never switch on the
// model type themselves.
//
// A path may be a model directory (config.json + safetensors + tokenizer.json), a .gguf file, a
// directory holding one .gguf file, or a file inside a model directory (model.safetensors,
// config.json). A tokenizer whose ids run past the model's vocabulary is refused here, at load time.
import Foundation

/// How to build a backbone out of a checkpoint beyond its own config: where its weights sit in a
/// larger model's file, a grown (or shrunk) vocabulary, whether to keep its task heads.
public struct BackboneOptions: Sendable {
    /// The backbone's weight-name prefix in the file ("model.encoder_model." inside a GLiClass
    /// checkpoint); nil: the architecture's own ("bert." when the file has it, else none).
    public var prefix: String?
    /// Token embedding rows wanted (tokens added to the tokenizer): new rows start at the mean of the
    /// stored ones, as Hugging Face's resize_token_embeddings (ResizedEmbeddingLoader). Encoders only.
    public var vocabularySize: Int?
    /// Build the task heads the checkpoint carries (an MLM head); false leaves them out and unread.
    public var heads: Bool
    /// Keep a GGUF file's matrices in their block formats (inference: quantized products, no Float32
    /// copy); false expands them at load (training, `--dequantize`).
    public var keepQuantized: Bool

    public init(prefix: String? = nil, vocabularySize: Int? = nil, heads: Bool = true, keepQuantized: Bool = false) {
        self.prefix = prefix
        self.vocabularySize = vocabularySize
        self.heads = heads
        self.keepQuantized = keepQuantized
    }
}

public enum ModelRegistry {
    /// One architecture: its kind and how to build it from a config and tensors.
    public struct Architecture {
        public let kind: BackboneKind
        let build: (_ config: ConfigFile, _ source: TensorSource, _ options: BackboneOptions) throws -> Backbone
    }

    /// An encoder family whose task checkpoints keep the body under `prefix` ("bert.") and their heads
    /// (`heads`: "cls", "lm_head") beside it. `make` gets the config, the weights and whether to build heads.
    static func encoder<C: VocabularySized>(_ readConfig: @escaping (ConfigFile) throws -> C, prefix: String, heads: Set<String>,
                                            _ make: @escaping (C, WeightLoader, Bool) throws -> Backbone) -> Architecture {
        Architecture(kind: .encoder) { file, source, options in
            var config = try readConfig(file)
            let body = options.prefix ?? (source.tensorNames.contains { $0.hasPrefix(prefix) } ? prefix : "")
            // Non-persistent buffers that older checkpoints still hold.
            var unused: Set<String> = [body + "embeddings.position_ids", body + "embeddings.token_type_ids"]
            if !options.heads {
                unused.formUnion(source.tensorNames.filter { n in heads.contains { n.hasPrefix($0 + ".") || n.hasPrefix(body + $0 + ".") } })
            }
            var loader: WeightLoader = CheckpointLoader(source, prefix: body, unprefixed: options.heads ? heads : [], ignorable: unused)
            if let rows = options.vocabularySize, rows != config.vocabSize {
                guard rows > 0 else { throw CheckpointError(file.path, "cannot resize the vocabulary to \(rows) rows") }
                loader = ResizedEmbeddingLoader(loader, name: "embeddings.word_embeddings.weight", storedRows: config.vocabSize)
                config.vocabSize = rows
            }
            return try make(config, loader, options.heads)
        }
    }

    static func decoder(_ file: ConfigFile, _ source: TensorSource, _ options: BackboneOptions) throws -> Backbone {
        let c = try LLaMAConfig.load(file)
        if let rows = options.vocabularySize, rows != c.vocabSize {
            throw CheckpointError(file.path, "resizing a decoder's vocabulary is not supported (\(c.vocabSize) → \(rows) rows)")
        }
        // Tied checkpoints may still carry lm_head.weight (a copy): allowed, unused.
        return try LLaMAModel(config: c, weights: CheckpointLoader(source, prefix: options.prefix ?? "",
                                                                   ignorable: c.tieWordEmbeddings ? ["lm_head.weight"] : []))
    }

    static func decodeJSON<C: Decodable>(_ type: C.Type) -> (ConfigFile) throws -> C {
        { file in try file.decode(C.self) }
    }

    /// model_type → architecture.
    public static let architectures: [String: Architecture] = {
        let bertFamily = { (prefix: String, heads: Set<String>) in
            encoder(decodeJSON(BERTConfig.self), prefix: prefix, heads: heads) { try BERTModel(config: $0, weights: $1, mlmHead: $2) }
        }
        let roberta = bertFamily("roberta.", ["lm_head"])
        return [
            "bert": bertFamily("bert.", ["cls"]),
            "roberta": roberta,
            "xlm-roberta": roberta,
            "camembert": roberta,
            "mpnet": encoder(decodeJSON(MPNetConfig.self), prefix: "mpnet.", heads: ["lm_head"]) { try MPNetModel(config: $0, weights: $1, mlmHead: $2) },
            "deberta-v2": encoder(DeBERTaV2Config.load, prefix: "deberta.", heads: ["cls", "lm_predictions", "mask_predictions"]) {
                try DeBERTaV2Model(config: $0, weights: $1, mlmHead: $2)
            },
            "llama": Architecture(kind: .decoder, build: decoder),
            "mistral": Architecture(kind: .decoder, build: decoder),
            "qwen2": Architecture(kind: .decoder, build: decoder),
        ]
    }()

    /// GGUF general.architecture values we read (the LLaMA family; LLaMALoading.swift maps the names).
    public static let ggufArchitectures = ["llama", "mistral", "qwen2"]

    public static var supportedTypes: [String] { architectures.keys.sorted() }

    /// Where a model lives: a Hugging Face directory or a GGUF file.
    public enum Location: Equatable {
        case directory(String)
        case gguf(String)

        public var path: String {
            switch self {
            case .directory(let p), .gguf(let p): return p
            }
        }
    }

    /// Understands a directory, a .gguf file, a directory with one .gguf file, or a file inside a
    /// model directory; anything else is an error that says what was found.
    public static func locate(_ path: String) throws -> Location {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw CheckpointError(path, "no such file or directory") }
        if !isDir.boolValue {
            if path.hasSuffix(".gguf") { return .gguf(path) }
            let name = (path as NSString).lastPathComponent
            if name.hasSuffix(".safetensors") || name == "config.json" || name == "model.safetensors.index.json" {
                let dir = (path as NSString).deletingLastPathComponent
                return try locate(dir.isEmpty ? "." : dir)
            }
            throw CheckpointError(path, "not a model: give a model directory (config.json, model.safetensors), a .gguf file, or a file inside a model directory")
        }
        if fm.fileExists(atPath: (path as NSString).appendingPathComponent("config.json")) { return .directory(path) }
        let ggufs = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".gguf") }.sorted()
        if ggufs.count == 1 { return .gguf((path as NSString).appendingPathComponent(ggufs[0])) }
        if ggufs.count > 1 {
            throw CheckpointError(path, "holds \(ggufs.count) .gguf files (\(ggufs.joined(separator: ", "))); name one of them")
        }
        throw CheckpointError(path, "no config.json and no .gguf file in this directory")
    }

    /// The model_type of a directory's config.json (or of a GGUF file's architecture).
    public static func modelType(at location: Location) throws -> String {
        switch location {
        case .gguf(let p):
            return try GGUFFile(path: p).metadata["general.architecture"]?.string ?? "?"
        case .directory(let d):
            let configPath = (d as NSString).appendingPathComponent("config.json")
            guard let type = try readConfigJSON(configPath)["model_type"]?.stringValue else {
                throw CheckpointError(configPath, "no model_type (supported: \(supportedTypes.joined(separator: ", ")))")
            }
            return type
        }
    }

    /// The backbone at `path` (weights only; see `load` for the tokenizer too). Inference mode.
    public static func loadBackbone(path: String, options: BackboneOptions = BackboneOptions()) throws -> Backbone {
        let location = try locate(path)
        switch location {
        case .gguf(let p):
            if options.vocabularySize != nil || options.prefix != nil {
                throw CheckpointError(p, "a GGUF model cannot be resized or read under a prefix")
            }
            let m = try LLaMAModel.load(path: p, keepQuantized: options.keepQuantized)
            m.eval()
            return m
        case .directory(let d):
            let configPath = (d as NSString).appendingPathComponent("config.json")
            return try build(config: ConfigFile.read(configPath), source: try SafeTensorsCheckpoint(path: d), options: options)
        }
    }

    /// The backbone a config describes, its weights read from `source` (a config and weights nested in
    /// a larger model: `options.prefix`). Inference mode.
    public static func build(config: ConfigFile, source: TensorSource, options: BackboneOptions = BackboneOptions()) throws -> Backbone {
        guard let type = try config.json()["model_type"]?.stringValue else {
            throw CheckpointError(config.path, "no model_type (supported: \(supportedTypes.joined(separator: ", ")))")
        }
        guard let arch = architectures[type] else {
            throw CheckpointError(config.path, "model_type '\(type)' is not supported (supported: \(supportedTypes.joined(separator: ", ")))")
        }
        let m = try arch.build(config, source, options)
        m.eval()
        return m
    }

    /// A tokenizer alone: a tokenizer.json file, a directory with one, or anything `locate` understands
    /// (a .gguf file or a directory holding one, a file inside a model directory).
    public static func loadTokenizer(path: String) throws -> Tokenizer {
        let inDirectory = (path as NSString).appendingPathComponent("tokenizer.json")
        if path.hasSuffix(".json") && !path.hasSuffix("config.json") && !path.hasSuffix(".index.json") || FileManager.default.fileExists(atPath: inDirectory) {
            return try Tokenizer.load(path: path)
        }
        return try Tokenizer.load(path: try locate(path).path)
    }

    /// A backbone with its tokenizer.
    public struct Loaded {
        public let backbone: Backbone
        public let tokenizer: Tokenizer
        public let location: Location
    }

    /// The backbone and tokenizer at `path`; the tokenizer's ids must fit the model's vocabulary.
    public static func load(path: String, options: BackboneOptions = BackboneOptions()) throws -> Loaded {
        let location = try locate(path)
        let backbone = try loadBackbone(path: location.path, options: options)
        let tokenizer = try Tokenizer.load(path: location.path)
        let tokenizerPath = location == .gguf(location.path) ? location.path : (location.path as NSString).appendingPathComponent("tokenizer.json")
        try checkVocabulary(tokenizer, tokenizerPath: tokenizerPath, backbone, modelPath: location.path)
        return Loaded(backbone: backbone, tokenizer: tokenizer, location: location)
    }

    /// Refuses a tokenizer that can produce ids the model has no embedding for.
    public static func checkVocabulary(_ tokenizer: Tokenizer, tokenizerPath: String, _ backbone: Backbone, modelPath: String) throws {
        let ids = tokenizer.vocabSize, rows = backbone.descriptor.vocabSize
        guard ids <= rows else {
            throw CheckpointError(tokenizerPath, "the tokenizer's ids run to \(ids - 1), but the model at \(modelPath) has only \(rows) "
                                  + "embedding rows (vocabulary \(ids) > \(rows)): this tokenizer belongs to another model")
        }
    }
}
