// CLIP (Radford et al. 2021) as Hugging Face's CLIPModel: two pre-LayerNorm transformer towers and
// their projections into one embedding space.
//
//   vision  x = [class; Conv2d_patch(pixels)] + position;  x = LN_pre(x);  per layer: x += attn(LN1 x),
//           x += fc2(act(fc1(LN2 x)));  pooled = LN_post(x[:, 0]);  image = W_visual pooled
//   text    x = token[ids] + position;  the same layers with causal attention (and padded keys hidden);
//           x = LN_final(x);  pooled = x at the EOS token (the first id == eos_token_id; the highest id
//           when eos_token_id is 2, as transformers does for old configs);  text = W_text pooled
//   logits  exp(logit_scale) · cos(image, text)
// act is quick_gelu (x σ(1.702 x)) for OpenAI's checkpoints. Names are transformers' (vision_model.…,
// text_model.…, visual_projection, text_projection, logit_scale).
import Foundation

final class CLIPEncoderLayer: Module {
    let q: Linear, k: Linear, v: Linear, out: Linear
    let norm1: LayerNorm, norm2: LayerNorm
    let fc1: Linear, fc2: Linear
    let heads: Int
    let act: (Tensor) -> Tensor
    override var keyMap: [String: String] {
        ["q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "out": "self_attn.out_proj",
         "norm1": "layer_norm1", "norm2": "layer_norm2", "fc1": "mlp.fc1", "fc2": "mlp.fc2"]
    }

    init(_ c: CLIPTowerConfig, _ w: WeightScope) throws {
        let h = c.hiddenSize, std: Float = 0.02
        let a = w.pp("self_attn")
        q = try a.linear("q_proj", h, h, std: std)
        k = try a.linear("k_proj", h, h, std: std)
        v = try a.linear("v_proj", h, h, std: std)
        out = try a.linear("out_proj", h, h, std: std)
        norm1 = try w.layerNorm("layer_norm1", h, eps: c.layerNormEps)
        norm2 = try w.layerNorm("layer_norm2", h, eps: c.layerNormEps)
        fc1 = try w.pp("mlp").linear("fc1", h, c.intermediateSize, std: std)
        fc2 = try w.pp("mlp").linear("fc2", c.intermediateSize, h, std: std)
        heads = c.numAttentionHeads
        act = activation(named: c.hiddenAct)!  // checked by CLIPConfig
        super.init()
        placed(at: w)
    }

    func callAsFunction(_ x: Tensor, causal: Bool, padding: [[Bool]]?) -> Tensor {
        let (b, t, width) = (x.shape[0], x.shape[1], x.shape[2])
        let shape = [b, t, heads, width / heads]
        let n = norm1(x)
        let ctx = attention(q(n).reshaped(shape), k(n).reshaped(shape), v(n).reshaped(shape),
                            mask: AttentionMask(causal: causal, keyPadding: padding))
        let y = x + out(ctx.reshaped([b, t, width]))
        return y + fc2(act(fc1(norm2(y))))
    }
}

public final class CLIPModel: Module {
    public let config: CLIPConfig
    // vision
    let patchEmbedding: Conv2d
    let classEmbedding: Tensor
    let visionPositions: Embedding
    let preNorm: LayerNorm
    let visionLayers: [CLIPEncoderLayer]
    let postNorm: LayerNorm
    let visualProjection: Linear
    // text
    let tokenEmbedding: Embedding
    let textPositions: Embedding
    let textLayers: [CLIPEncoderLayer]
    let finalNorm: LayerNorm
    let textProjection: Linear
    public let logitScale: Tensor

    public init(config c: CLIPConfig, weights: WeightLoader) throws {
        config = c
        let root = WeightScope(weights)
        let vm = root.pp("vision_model"), ve = vm.pp("embeddings"), vc = c.vision
        patchEmbedding = Conv2d(weight: try ve.pp("patch_embedding").tensor("weight", [vc.hiddenSize, vc.numChannels, vc.patchSize, vc.patchSize], .normal(std: 0.02)),
                                bias: nil, stride: vc.patchSize)
        classEmbedding = try ve.tensor("class_embedding", [vc.hiddenSize], .normal(std: 0.02))
        visionPositions = try ve.embedding("position_embedding", vc.numPatches + 1, vc.hiddenSize, std: 0.02)
        preNorm = try vm.layerNorm("pre_layrnorm", vc.hiddenSize, eps: vc.layerNormEps)
        visionLayers = try (0..<vc.numHiddenLayers).map { try CLIPEncoderLayer(vc, vm.pp("encoder").pp("layers").pp($0)) }
        postNorm = try vm.layerNorm("post_layernorm", vc.hiddenSize, eps: vc.layerNormEps)
        visualProjection = try root.linear("visual_projection", vc.hiddenSize, c.projectionDim, bias: false, std: 0.02)
        let tm = root.pp("text_model"), te = tm.pp("embeddings"), tc = c.text
        tokenEmbedding = try te.embedding("token_embedding", tc.vocabSize, tc.hiddenSize, std: 0.02)
        textPositions = try te.embedding("position_embedding", tc.maxPositionEmbeddings, tc.hiddenSize, std: 0.02)
        textLayers = try (0..<tc.numHiddenLayers).map { try CLIPEncoderLayer(tc, tm.pp("encoder").pp("layers").pp($0)) }
        finalNorm = try tm.layerNorm("final_layer_norm", tc.hiddenSize, eps: tc.layerNormEps)
        textProjection = try root.linear("text_projection", tc.hiddenSize, c.projectionDim, bias: false, std: 0.02)
        logitScale = try root.tensor("logit_scale", [], .zeros)
        // Non-persistent buffers older checkpoints still hold.
        for n in ["vision_model.embeddings.position_ids", "text_model.embeddings.position_ids"] where weights.has(n) { weights.ignore(n) }
        try weights.finish()
        super.init()
    }

    /// Reads config.json and the safetensors weights of a Hugging Face CLIP directory.
    public static func load(directory: String) throws -> CLIPModel {
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        let json = try ConfigFile.read(configPath).json()
        guard json["model_type"]?.stringValue == "clip" else {
            throw CheckpointError(configPath, "model_type '\(json["model_type"]?.stringValue ?? "none")' is not clip")
        }
        let m = try CLIPModel(config: try CLIPConfig(json: json, path: configPath), weights: CheckpointLoader(try SafeTensorsCheckpoint(path: directory)))
        m.eval()
        return m
    }

    /// Pooled image features before the projection's normalization: pixels [B, C, H, W] (already
    /// preprocessed, H = W = image_size) → [B, projection_dim].
    public func imageFeatures(_ pixels: Tensor) -> Tensor {
        let vc = config.vision
        precondition(pixels.rank == 4 && Array(pixels.shape[1...]) == [vc.numChannels, vc.imageSize, vc.imageSize],
                     "CLIP: pixels must be [B, \(vc.numChannels), \(vc.imageSize), \(vc.imageSize)], got \(pixels.shape)")
        let b = pixels.shape[0], p = vc.numPatches, h = vc.hiddenSize
        let patches = patchEmbedding(pixels).reshaped([b, h, p]).transposed(1, 2)
        let cls = resolved(classEmbedding).reshaped([1, 1, h]).broadcasted(to: [b, 1, h])
        var x = concat([cls, patches], axis: 1) + visionPositions(Array(0...p), shape: [1, p + 1])
        x = preNorm(x)
        for layer in visionLayers { x = layer(x, causal: false, padding: nil) }
        return visualProjection(postNorm(x.slice(axis: 1, 0, 1).reshaped([b, h])))
    }

    /// Text features: token ids [B·T] right-padded (`padding[b][t]` false at pads) → [B, projection_dim].
    public func textFeatures(ids: [Int], batch b: Int, length t: Int, padding: [[Bool]]? = nil) -> Tensor {
        let tc = config.text
        precondition(ids.count == b * t && t <= tc.maxPositionEmbeddings, "CLIP: \(t) tokens for \(tc.maxPositionEmbeddings) positions")
        checkIds(ids, vocabulary: tc.vocabSize, model: "CLIP")
        var x = tokenEmbedding(ids, shape: [b, t]) + textPositions(Array(0..<t), shape: [1, t])
        for layer in textLayers { x = layer(x, causal: true, padding: padding) }
        x = finalNorm(x)
        let rows = (0..<b).map { r -> Int in
            let row = ids[(r * t)..<((r + 1) * t)]
            // torch's argmax: the first of equal maxima; firstIndex of EOS (argmax of a 0/1 row): none gives 0.
            var highest = row.startIndex
            for i in row.indices where row[i] > row[highest] { highest = i }
            let at = tc.eosTokenId == 2 ? highest : (row.firstIndex(of: tc.eosTokenId) ?? row.startIndex)
            return r * t + (at - row.startIndex)
        }
        let pooled = x.reshaped([b * t, tc.hiddenSize]).indexSelect(axis: 0, rows)
        return textProjection(pooled)
    }

    /// exp(logit_scale) · cos(image_i, text_j): [images, texts].
    public func logits(imageFeatures i: Tensor, textFeatures t: Tensor) -> Tensor {
        func unit(_ x: Tensor) -> Tensor { x / sqrt(square(x).sum(axis: 1, keepDims: true)) }
        return matmul(unit(i), unit(t), transposeB: true) * exp(resolved(logitScale)).item()
    }
}
