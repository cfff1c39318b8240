// `loki eval`: argmax against Loki on records with gold labels, as the paper reports it: 0-1 accuracy
// and the mean squared distance E[d²(ŷ, y)] between prediction and gold label under the metric,
// with the relative improvement (argmax − Loki) / argmax of the latter; over all records and split by
// whether the gold class was observed.
import Foundation
import Runtime
import RuntimeCLI

public struct EvalGroup: Equatable {
    public var count = 0
    public var argmaxCorrect = 0, lokiCorrect = 0
    public var argmaxSquared = 0.0, lokiSquared = 0.0

    public var argmaxAccuracy: Double { count > 0 ? Double(argmaxCorrect) / Double(count) : .nan }
    public var lokiAccuracy: Double { count > 0 ? Double(lokiCorrect) / Double(count) : .nan }
    public var argmaxMeanSquared: Double { count > 0 ? argmaxSquared / Double(count) : .nan }
    public var lokiMeanSquared: Double { count > 0 ? lokiSquared / Double(count) : .nan }
    /// (argmax − Loki) / argmax of E[d²]: positive when Loki is closer.
    public var relativeImprovement: Double {
        argmaxSquared > 0 ? (argmaxSquared - lokiSquared) / argmaxSquared : .nan
    }

    mutating func add(argmaxHit: Bool, lokiHit: Bool, argmaxSq: Double, lokiSq: Double) {
        count += 1
        if argmaxHit { argmaxCorrect += 1 }
        if lokiHit { lokiCorrect += 1 }
        argmaxSquared += argmaxSq
        lokiSquared += lokiSq
    }
}

public final class LokiEvaluation {
    public let classCount: Int
    public let observed: Set<Int>
    public private(set) var all = EvalGroup(), seen = EvalGroup(), unseen = EvalGroup()
    /// Records where Loki predicted a class the model never saw.
    public private(set) var lokiUnobservedPredictions = 0

    public init(classCount: Int, observed: [Int]) {
        self.classCount = classCount
        self.observed = Set(observed)
    }

    /// One record: class indices and squared distances of both predictions to the gold class.
    public func add(gold: Int, argmax: Int, loki: Int, argmaxSq: Double, lokiSq: Double) {
        let hitA = argmax == gold, hitL = loki == gold
        all.add(argmaxHit: hitA, lokiHit: hitL, argmaxSq: argmaxSq, lokiSq: lokiSq)
        if observed.contains(gold) { seen.add(argmaxHit: hitA, lokiHit: hitL, argmaxSq: argmaxSq, lokiSq: lokiSq) }
        else { unseen.add(argmaxHit: hitA, lokiHit: hitL, argmaxSq: argmaxSq, lokiSq: lokiSq) }
        if !observed.contains(loki) { lokiUnobservedPredictions += 1 }
    }

    static func number(_ x: Double) -> JSONValue {
        guard x.isFinite, let n = JSONNumber((x * 1e6).rounded() / 1e6) else { return .null }
        return .number(n)
    }

    static func group(_ g: EvalGroup) -> JSONValue {
        [
            "count": JSONValue(g.count),
            "argmax": ["accuracy": number(g.argmaxAccuracy), "mean_sq_distance": number(g.argmaxMeanSquared)],
            "loki": ["accuracy": number(g.lokiAccuracy), "mean_sq_distance": number(g.lokiMeanSquared)],
            "relative_improvement": number(g.relativeImprovement),
        ]
    }

    /// The report as one JSON object.
    public func report() -> JSONValue {
        [
            "records": JSONValue(all.count), "classes": JSONValue(classCount), "observed_classes": JSONValue(observed.count),
            "all": Self.group(all), "observed": Self.group(seen), "unobserved": Self.group(unseen),
            "loki_unobserved_predictions": JSONValue(lokiUnobservedPredictions),
        ]
    }

    /// The report as a Markdown table.
    public func table() -> String {
        func f(_ x: Double, _ digits: Int = 3) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "–" }
        func pct(_ x: Double) -> String { x.isFinite ? String(format: "%.1f%%", 100 * x) : "–" }
        var lines = [
            "| gold class | records | argmax acc. | Loki acc. | argmax E[d²] | Loki E[d²] | E[d²] reduction |",
            "|---|---|---|---|---|---|---|",
        ]
        for (name, g) in [("all", all), ("observed (\(observed.count))", seen), ("unobserved (\(classCount - observed.count))", unseen)] {
            lines.append("| \(name) | \(g.count) | \(f(g.argmaxAccuracy)) | \(f(g.lokiAccuracy)) | \(f(g.argmaxMeanSquared)) | "
                         + "\(f(g.lokiMeanSquared)) | \(pct(g.relativeImprovement)) |")
        }
        lines.append("")
        lines.append("Loki predicted an unobserved class for \(lokiUnobservedPredictions) of \(all.count) records "
                     + "(\(unseen.lokiCorrect) of them exactly right).")
        return lines.joined(separator: "\n") + "\n"
    }
}

public struct EvalOptions {
    public var labelField = "label"
    /// Read Loki's predictions from this field (as `loki predict` writes them) instead of computing them.
    public var predictionField: String?
    /// pubmed/exp.py's argmax baseline: the argmax column's position is taken as a class index.
    public var referencePubmed = false
    public init() {}
}

/// Runs the evaluation over the runner's records; returns the exit status (the report is in `eval`).
public func evaluateRecords(_ runner: JSONLRunner, predictor: FrechetPredictor, metric: LabelMetric, input: ProbabilityInput,
                            options: EvalOptions, into eval: LokiEvaluation) -> Int32 {
    let d = predictor.distances, n = d.classes.count, k = d.observed.count
    let index = metric.classIndex()
    var observedPosition = [Int](repeating: -1, count: n)
    for (p, c) in d.observed.enumerated() { observedPosition[c] = p }
    func squared(_ a: Int, _ gold: Int) -> Double {
        if observedPosition[gold] >= 0 { return Double(d.squared.data[observedPosition[gold] * n + a]) }
        if observedPosition[a] >= 0 { return Double(d.squared.data[observedPosition[a] * n + gold]) }
        let x = Double(metric.distance(a, gold))
        return x * x
    }
    func classOf(_ r: Record, _ field: String, _ what: String) throws -> Int {
        guard let v = r.value(field) else { throw RecordError.missing(field) }
        guard let name = className(of: v) else { throw RecordError.field(field, "expected a class name (string or number), got \(v.kindDescription)") }
        guard let i = index[name] else { throw RecordError.field(field, "\(what) '\(name)' is not a class of the metric") }
        return i
    }
    return runner.run { records in
        var results = [Result<Record, RecordError>](repeating: .failure(RecordError("not processed")), count: records.count)
        var probs: [Float] = [], rows: [(slot: Int, gold: Int, argmax: Int, given: Int?)] = []
        for (s, r) in records.enumerated() {
            do {
                let gold = try classOf(r, options.labelField, "label")
                let given = try options.predictionField.map { try classOf(r, $0, "prediction") }
                let p = try input.read(r)
                let a = argmaxIndex(p)
                let argmax: Int
                if options.referencePubmed {
                    guard a < n else { throw RecordError("argmax position \(a) is not a class index (--reference-pubmed)") }
                    argmax = a
                } else {
                    argmax = d.observed[a]
                }
                if given == nil { probs += p }
                rows.append((s, gold, argmax, given))
                results[s] = .success(r)
            } catch let e as RecordError {
                results[s] = .failure(e)
            } catch {
                results[s] = .failure(RecordError("\(error)"))
            }
        }
        let computed = predictor.predict(probs, rows: probs.count / k)
        var next = 0
        for row in rows {
            let loki: Int
            if let g = row.given { loki = g } else { loki = computed[next].best; next += 1 }
            guard loki >= 0 else {  // as in predictRecords: the metric's distances overflow Float
                results[row.slot] = .failure(RecordError("no class has a finite expected squared distance (the metric's distances overflow 32-bit floats)"))
                continue
            }
            eval.add(gold: row.gold, argmax: row.argmax, loki: loki, argmaxSq: squared(row.argmax, row.gold), lokiSq: squared(loki, row.gold))
        }
        return results
    }
}
