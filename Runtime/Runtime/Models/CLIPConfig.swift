// The configuration of Hugging Face's CLIPModel: config.json with a text_config and a vision_config
// (defaults as transformers' CLIPTextConfig / CLIPVisionConfig, i.e. openai/clip-vit-base-patch32), and
// the image preprocessing of preprocessor_config.json (CLIPImageProcessor).
import Foundation

public struct CLIPTowerConfig: Sendable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var hiddenAct = "quick_gelu"
    public var layerNormEps: Float = 1e-5
    // text
    public var vocabSize = 49408
    public var maxPositionEmbeddings = 77
    public var eosTokenId = 49407
    public var padTokenId = 1
    // vision
    public var imageSize = 224
    public var patchSize = 32
    public var numChannels = 3

    public var numPatches: Int { (imageSize / patchSize) * (imageSize / patchSize) }
}

public struct CLIPConfig: Sendable {
    public var text: CLIPTowerConfig
    public var vision: CLIPTowerConfig
    public var projectionDim = 512
    public var logitScaleInitValue: Float = 2.6592

    public init(json: JSONValue, path: String) throws {
        func fail(_ s: String) -> Error { CheckpointError(path, s) }
        func int(_ o: JSONValue?, _ k: String, _ d: Int) throws -> Int {
            guard let v = o?[k] else { return d }
            guard let n = try? v.numberValue?.int() else { throw fail("\(k) must be an integer") }
            return n
        }
        func float(_ o: JSONValue?, _ k: String, _ d: Float) throws -> Float {
            guard let v = o?[k] else { return d }
            guard let n = try? v.numberValue?.float() else { throw fail("\(k) must be a number") }
            return n
        }
        let t = json["text_config"], v = json["vision_config"]
        text = CLIPTowerConfig(hiddenSize: try int(t, "hidden_size", 512), intermediateSize: try int(t, "intermediate_size", 2048),
                               numHiddenLayers: try int(t, "num_hidden_layers", 12), numAttentionHeads: try int(t, "num_attention_heads", 8))
        text.hiddenAct = t?["hidden_act"]?.stringValue ?? "quick_gelu"
        text.layerNormEps = try float(t, "layer_norm_eps", 1e-5)
        text.vocabSize = try int(t, "vocab_size", 49408)
        text.maxPositionEmbeddings = try int(t, "max_position_embeddings", 77)
        text.eosTokenId = try int(t, "eos_token_id", 49407)
        text.padTokenId = try int(t, "pad_token_id", 1)
        vision = CLIPTowerConfig(hiddenSize: try int(v, "hidden_size", 768), intermediateSize: try int(v, "intermediate_size", 3072),
                                 numHiddenLayers: try int(v, "num_hidden_layers", 12), numAttentionHeads: try int(v, "num_attention_heads", 12))
        vision.hiddenAct = v?["hidden_act"]?.stringValue ?? "quick_gelu"
        vision.layerNormEps = try float(v, "layer_norm_eps", 1e-5)
        vision.imageSize = try int(v, "image_size", 224)
        vision.patchSize = try int(v, "patch_size", 32)
        vision.numChannels = try int(v, "num_channels", 3)
        projectionDim = try int(json, "projection_dim", 512)
        logitScaleInitValue = try float(json, "logit_scale_init_value", 2.6592)
        for (name, tower) in [("text_config", text), ("vision_config", vision)] {
            for (k, x) in [("hidden_size", tower.hiddenSize), ("intermediate_size", tower.intermediateSize), ("num_attention_heads", tower.numAttentionHeads)] where x <= 0 {
                throw fail("\(name).\(k) is \(x); it must be positive")
            }
            guard tower.numHiddenLayers >= 0, tower.hiddenSize % tower.numAttentionHeads == 0 else {
                throw fail("\(name): hidden_size \(tower.hiddenSize) is not divisible by \(tower.numAttentionHeads) heads")
            }
            guard activation(named: tower.hiddenAct) != nil else { throw fail("\(name): unsupported hidden_act '\(tower.hiddenAct)'") }
        }
        guard vision.patchSize > 0, vision.imageSize >= vision.patchSize, vision.numChannels > 0 else {
            throw fail("vision_config: image_size \(vision.imageSize) and patch_size \(vision.patchSize) give no patches")
        }
        guard projectionDim > 0, text.vocabSize > 0, text.maxPositionEmbeddings > 0 else { throw fail("projection_dim, vocab_size and max_position_embeddings must be positive") }
        guard vision.numChannels == 3 else { throw fail("vision_config.num_channels is \(vision.numChannels); images are RGB (3)") }
        // A pad id outside the vocabulary (-1 in some configs): pads are hidden keys, any row works.
        if !(0..<text.vocabSize).contains(text.padTokenId) { text.padTokenId = 0 }
    }
}

/// CLIPImageProcessor's steps: resize the shortest edge (bicubic), centre crop, scale to [0, 1],
/// normalize per channel.
public struct CLIPImagePreprocessing: Sendable {
    public var shortestEdge = 224
    public var cropHeight = 224, cropWidth = 224
    public var mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public var std: [Float] = [0.26862954, 0.26130258, 0.27577711]
    public var rescaleFactor: Float = 1.0 / 255

    public init() {}

    /// preprocessor_config.json (missing keys keep CLIP's defaults; `imageSize` for a missing size and
    /// crop). Settings this port does not follow are errors, not silently different pixels.
    public init(json: JSONValue, imageSize: Int = 224, path: String = "preprocessor_config.json") throws {
        (shortestEdge, cropHeight, cropWidth) = (imageSize, imageSize, imageSize)
        for flag in ["do_resize", "do_center_crop", "do_rescale", "do_normalize", "do_convert_rgb"] where json[flag]?.boolValue == false {
            throw CheckpointError(path, "\(flag) false is not supported (CLIP's preprocessing does every step)")
        }
        if let r = try? json["resample"]?.numberValue?.int(), r != 3 { throw CheckpointError(path, "resample \(r) is not supported (3, bicubic, is)") }
        if let s = json["size"] {
            if let e = try? s["shortest_edge"]?.numberValue?.int() { shortestEdge = e } else if let e = try? s.numberValue?.int() { shortestEdge = e } else {
                throw CheckpointError(path, "size must be {\"shortest_edge\": N} (fixed height × width resizing is not supported)")
            }
        }
        guard shortestEdge > 0 else { throw CheckpointError(path, "size \(shortestEdge) must be positive") }
        if let m = json["image_mean"], m.arrayValue?.count != 3 { throw CheckpointError(path, "image_mean must have 3 numbers") }
        if let s = json["image_std"], s.arrayValue?.count != 3 { throw CheckpointError(path, "image_std must have 3 numbers") }
        if let c = json["crop_size"] {
            if let n = try? c.numberValue?.int() { (cropHeight, cropWidth) = (n, n) }
            if let h = try? c["height"]?.numberValue?.int(), let w = try? c["width"]?.numberValue?.int() { (cropHeight, cropWidth) = (h, w) }
        }
        if let m = json["image_mean"]?.arrayValue?.compactMap({ try? $0.numberValue?.float() }), m.count == 3 { mean = m }
        if let s = json["image_std"]?.arrayValue?.compactMap({ try? $0.numberValue?.float() }), s.count == 3 { std = s }
        if let r = try? json["rescale_factor"]?.numberValue?.float() { rescaleFactor = r }
    }
}
