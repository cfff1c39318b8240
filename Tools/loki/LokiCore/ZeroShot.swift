// `loki zeroshot`: probabilities over the observed classes from embeddings alone, so plain text runs
// through `embed | loki zeroshot | loki predict` with no trained classifier. As CLIP's zero-shot
// classifier (the reference's clip_exp/libs/clip_logit_extractor.py): cosine similarity between the
// record's embedding and each class embedding, divided by a temperature (CLIP's logit scale 100 is
// T = 0.01), softmax over the classes.
import CBLAS
import Foundation
import Runtime
import RuntimeCLI

public final class ZeroShotClassifier {
    public let classNames: [String]
    /// [K, D], rows L2-normalized.
    let classEmbeddings: Tensor
    public let temperature: Float

    public init(classNames: [String], embeddings: Tensor, temperature: Float) {
        // invariant: built from an EmbeddingMetric ([N, D]) and its names, filtered alike.
        precondition(embeddings.rank == 2 && embeddings.shape[0] == classNames.count, "ZeroShotClassifier: \(embeddings.shape) for \(classNames.count) classes")
        self.classNames = classNames
        self.temperature = temperature
        classEmbeddings = ZeroShotClassifier.normalized(embeddings)
    }

    /// From class-embedding JSONL (as `embed` writes it), keeping `observed` (all when nil) in that order.
    public convenience init(path: String, observedPath: String?, classField: String?, embeddingField: String, temperature: Float) throws {
        var spec = MetricSpec(path: path)
        spec.format = .embeddings
        spec.classField = classField
        spec.embeddingField = embeddingField
        guard let m = try MetricFiles.load(spec) as? EmbeddingMetric else { preconditionFailure() }  // invariant: format .embeddings
        var names = m.classes, e = m.embeddings
        if let observedPath {
            let keep = try classPositions(try readClassList(observedPath), in: names, path: observedPath, what: "observed class")
            e = e.indexSelect(axis: 0, keep)
            names = keep.map { names[$0] }
        }
        self.init(classNames: names, embeddings: e, temperature: temperature)
    }

    public var dimension: Int { classEmbeddings.shape[1] }

    static func normalized(_ x: Tensor) -> Tensor {
        let out = x.copy(), d = x.shape[1]
        for i in 0..<x.shape[0] {
            var s: Float = 0
            for j in 0..<d { s += out.data[i * d + j] * out.data[i * d + j] }
            let inv = 1 / Swift.max(s.squareRoot(), 1e-12)
            for j in 0..<d { out.data[i * d + j] *= inv }
        }
        return out
    }

    /// Probabilities [rows, K] for `rows` embeddings of this dimension, back to back.
    public func probabilities(_ embeddings: [Float], rows: Int) -> [Float] {
        let d = dimension, k = classNames.count
        // invariant: zeroShotRecords checks each record's vector has d numbers.
        precondition(embeddings.count == rows * d, "ZeroShotClassifier: \(embeddings.count) values for \(rows) × \(d)")
        let x = ZeroShotClassifier.normalized(Tensor(shape: [rows, d], scalars: embeddings))
        var out = [Float](repeating: 0, count: rows * k)
        out.withUnsafeMutableBufferPointer { o in
            if rows > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(k), Int32(d), 1 / temperature,
                            x.data, Int32(d), classEmbeddings.data, Int32(d), 0, o.baseAddress!, Int32(k))
            }
            for r in 0..<rows { softmaxRow(o.baseAddress! + r * k, o.baseAddress! + r * k, k) }  // invariant: rows, k >= 1 here
        }
        return out
    }
}

public func zeroShotRecords(_ runner: JSONLRunner, classifier: ZeroShotClassifier, field: String, outField: String,
                            asScores: Bool = false) -> Int32 {
    let k = classifier.classNames.count
    return runner.mapBatches(
        read: { r -> [Float] in
            let v = try r.floats(field)
            guard v.count == classifier.dimension else {
                throw RecordError.field(field, "\(v.count) numbers, the class embeddings have \(classifier.dimension)")
            }
            return v
        },
        compute: { rows -> [[Float]] in
            let probs = classifier.probabilities(rows.flatMap { $0 }, rows: rows.count)
            return (0..<rows.count).map { Array(probs[($0 * k)..<(($0 + 1) * k)]) }
        },
        write: { r, p in
            try p.withUnsafeBufferPointer {
                try setProbabilities(&r, field: outField, names: classifier.classNames, values: $0, asScores: asScores)
            }
        })
}
