// `zo eval` and `zo report`: accuracy of a model on labeled data (with each prediction), and a table
// and plot of dev accuracy from runs' logs.
import Foundation
import Runtime
import RuntimeCLI

public struct EvalResult {
    public var examples: Int
    public var correct: Int
    /// One record per example: text, label, prediction.
    public var predictions: [Record]
    public var accuracy: Double { Double(correct) / Double(max(examples, 1)) }
}

/// Predicts every example (in batches of `batch`). Labels must index the model's classes.
public func evaluate(_ model: TaskModel, _ examples: [Example], classes: Int, batch: Int) throws -> EvalResult {
    if let bad = examples.first(where: { $0.label < 0 || $0.label >= classes }) {
        throw DataError(description: "label \(bad.label) is outside the model's \(classes) classes (0..<\(classes))")
    }
    var result = EvalResult(examples: examples.count, correct: 0, predictions: [])
    for start in stride(from: 0, to: examples.count, by: max(1, batch)) {
        let chunk = Array(examples[start..<min(start + batch, examples.count)])
        for (e, p) in zip(chunk, model.predict(chunk)) {
            if p == e.label { result.correct += 1 }
            var r = Record()
            r.set("text", string: e.text)
            r.set("label", int: e.label)
            r.set("prediction", int: p)
            result.predictions.append(r)
        }
    }
    return result
}

/// One run's summary row and dev-accuracy curve, from its log.jsonl.
public struct RunSummary {
    public var name: String
    public var best: Double?, last: Double?
    public var steps: Int?, cpuSeconds: Double?
    /// (step, CPU seconds, dev accuracy) at each evaluation.
    public var evaluations: [(step: Double, cpu: Double, accuracy: Double)]

    public var tableRow: String {
        "| \(name) | \(best.map { String(format: "%.3f", $0) } ?? "-") | \(last.map { String(format: "%.3f", $0) } ?? "-") | "
            + "\(steps.map(String.init) ?? "-") | \(cpuSeconds.map { String(format: "%.0f s", $0) } ?? "-") |"
    }
    public static let tableHeader = "| run | best dev acc. | last dev acc. | steps | CPU time |\n|---|---|---|---|---|"
}

/// Reads `dir`/log.jsonl.
public func summarizeRun(name: String, directory dir: String) throws -> RunSummary {
    guard let text = try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8) else { throw CheckpointError(dir + "/log.jsonl", "cannot read") }
    let rows = text.split(separator: "\n").compactMap { try? Record(parsing: String($0)) }
    let evals = rows.compactMap { r -> (step: Double, cpu: Double, accuracy: Double)? in
        guard let a = try? r.double("dev_accuracy") else { return nil }
        return (Double((try? r.int("step")) ?? 0), (try? r.double("cpu_seconds")) ?? 0, a)
    }
    let lastRow = rows.last
    return RunSummary(name: name, best: evals.map(\.accuracy).max(), last: evals.last?.accuracy,
                      steps: lastRow.flatMap { try? $0.int("step") }, cpuSeconds: lastRow.flatMap { try? $0.double("cpu_seconds") },
                      evaluations: evals)
}

/// The dev-accuracy plot of several runs, against steps or CPU minutes, with reference lines.
public func accuracyPlot(_ runs: [RunSummary], againstSteps: Bool, references: [(y: Double, label: String)], title: String) -> LinePlot {
    var plot = LinePlot(title: title, xLabel: againstSteps ? "steps" : "CPU minutes", yLabel: "dev accuracy",
                        series: runs.map { r in PlotSeries(name: r.name, points: r.evaluations.map { (againstSteps ? $0.step : $0.cpu / 60, $0.accuracy) }) })
    plot.references = references
    return plot
}
