// `embed` with a CLIP model directory (config.json with model_type "clip", model.safetensors;
// tokenizer.json for texts, preprocessor_config.json for images): records with an image get the image
// tower's embedding, records with a text the text tower's, both in CLIP's joint space (projected;
// L2-normalized with --normalize, as CLIP compares them). Images are preprocessed as
// CLIPImageProcessor's Pillow backend does; texts are cut to the model's positions.
import Foundation
import Runtime

public enum EmbedInput {
    case text(String)
    /// Preprocessed pixels [3, H, W] (decoded images are not kept: a batch of them could be large).
    case pixels(Tensor)
}

public final class CLIPEncoder {
    public let model: CLIPModel
    public let tokenizer: Tokenizer?
    public let preprocessing: CLIPImagePreprocessing
    public let normalize: Bool

    /// Whether `path` is a CLIP model directory.
    public static func isCLIP(_ path: String) -> Bool {
        let config = (path as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: config), let json = try? JSONValue(parsing: [UInt8](data)) else { return false }
        return json["model_type"]?.stringValue == "clip"
    }

    public init(path: String, normalize: Bool = false) throws {
        model = try CLIPModel.load(directory: path)
        let tok = (path as NSString).appendingPathComponent("tokenizer.json")
        tokenizer = FileManager.default.fileExists(atPath: tok) ? try Tokenizer.load(path: tok) : nil
        if let tokenizer, tokenizer.vocabSize > model.config.text.vocabSize {
            throw CheckpointError(tok, "token ids up to \(tokenizer.vocabSize - 1) for a text tower of \(model.config.text.vocabSize) tokens")
        }
        if let tokenizer, tokenizer.specialTokenCount() >= model.config.text.maxPositionEmbeddings {
            throw CheckpointError(tok, "\(tokenizer.specialTokenCount()) special tokens leave no room in \(model.config.text.maxPositionEmbeddings) positions")
        }
        let pre = (path as NSString).appendingPathComponent("preprocessor_config.json")
        if let data = FileManager.default.contents(atPath: pre) {
            let json: JSONValue
            do { json = try JSONValue(parsing: [UInt8](data)) } catch { throw CheckpointError(pre, "\(error)") }
            preprocessing = try CLIPImagePreprocessing(json: json, imageSize: model.config.vision.imageSize, path: pre)
        } else {
            var p = CLIPImagePreprocessing()
            p.shortestEdge = model.config.vision.imageSize
            (p.cropHeight, p.cropWidth) = (model.config.vision.imageSize, model.config.vision.imageSize)
            preprocessing = p
        }
        guard preprocessing.cropHeight == model.config.vision.imageSize && preprocessing.cropWidth == model.config.vision.imageSize else {
            throw CheckpointError(pre, "crops of \(preprocessing.cropHeight)×\(preprocessing.cropWidth) for a model of \(model.config.vision.imageSize)×\(model.config.vision.imageSize) images")
        }
        self.normalize = normalize
    }

    public var dimension: Int { model.config.projectionDim }

    /// One vector per input, or why there is none (a text that does not tokenize; no tokenizer).
    public func embedEach(_ inputs: [EmbedInput], batchSize: Int) -> [Result<[Float], Error>] {
        var out = [Result<[Float], Error>](repeating: .success([]), count: inputs.count)
        var images: [(Int, Tensor)] = [], texts: [(Int, [Int])] = []
        for (i, input) in inputs.enumerated() {
            switch input {
            case .pixels(let x):
                images.append((i, x))
            case .text(let s):
                guard let tokenizer else { out[i] = .failure(CheckpointError("tokenizer.json", "this CLIP model has no tokenizer.json: it embeds images only")); continue }
                do {
                    let ids = try tokenizer.encode(s, maxLength: model.config.text.maxPositionEmbeddings).ids
                    // Pooling reads the EOS token: a text without one (a tokenizer that adds none) has no vector.
                    let eos = model.config.text.eosTokenId
                    guard !ids.isEmpty, eos == 2 || ids.contains(eos) else {
                        throw EmbedError("the tokenizer gave \(ids.isEmpty ? "no tokens" : "no end-of-text token (id \(eos))") for this text")
                    }
                    texts.append((i, ids))
                } catch { out[i] = .failure(error) }
            }
        }
        withoutGrad {
            for start in stride(from: 0, to: images.count, by: max(1, batchSize)) {
                let part = images[start..<min(start + batchSize, images.count)]
                let x = stack(part.map(\.1), axis: 0)
                write(model.imageFeatures(x), to: part.map(\.0), &out)
            }
            for start in stride(from: 0, to: texts.count, by: max(1, batchSize)) {
                let part = Array(texts[start..<min(start + batchSize, texts.count)])
                let t = part.map(\.1.count).max() ?? 1
                // Right-padded with the model's pad id; padded keys are hidden and the EOS position
                // read per row, so a text's vector does not depend on its batch.
                let pad = model.config.text.padTokenId
                let ids = part.flatMap { $0.1 + [Int](repeating: pad, count: t - $0.1.count) }
                let padding = part.map { p in (0..<t).map { $0 < p.1.count } }
                write(model.textFeatures(ids: ids, batch: part.count, length: t, padding: padding), to: part.map(\.0), &out)
            }
        }
        return out
    }

    private func write(_ features: Tensor, to slots: [Int], _ out: inout [Result<[Float], Error>]) {
        let d = dimension, s = features.scalars
        for (k, i) in slots.enumerated() {
            var v = Array(s[(k * d)..<((k + 1) * d)])
            if normalize {
                let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if n > 0 { v = v.map { $0 / n } }
            }
            out[i] = .success(v)
        }
    }
}

struct EmbedError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// An image given in a record: a PNG or JPEG path, or its bytes in base64 (optionally as a data: URL).
public func recordImage(_ value: String) throws -> Image {
    if FileManager.default.fileExists(atPath: value) { return try Image(contentsOf: value) }
    var b64 = value
    if b64.hasPrefix("data:"), let comma = b64.firstIndex(of: ",") { b64 = String(b64[b64.index(after: comma)...]) }
    b64.removeAll { $0 == "\n" || $0 == "\r" || $0 == " " }
    guard let data = Data(base64Encoded: b64), data.count >= 8, Image.format(of: [UInt8](data.prefix(16))) != nil else {
        throw ImageError(.read, path: nil, "'\(value.prefix(80))' is neither a readable file nor base64 PNG/JPEG bytes")
    }
    return try Image(decoding: [UInt8](data), path: nil)
}
