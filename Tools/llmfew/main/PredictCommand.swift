// `llmfew predict`: series records in, each with `prediction` and `probs` added.
import ArgumentParser
import Foundation
import LLMFewCore
import Runtime
import RuntimeCLI

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify series with a trained model.",
        discussion: """
        Reads {"series": [[…], …]} records and adds `prediction` (a class) and `probs` (class → \
        probability, in head order). A record that cannot be read, or whose series has other channels or \
        more steps than the model takes, is reported and skipped (exit 1), or written with an `error` \
        field with --on-error pass.

        Example:
          llmfew predict --model bm < bm-test.jsonl | jq -c '{label, prediction}'
        """)

    @Option(help: "A directory written by `llmfew train`.")
    var model: String

    @Option(help: "The decoder, if it moved since training (default: the path in llmfew.json).")
    var base: String?

    @OptionGroup var fields: SeriesFieldOptions
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        let net = loadModelOrExit(model, base: base)
        let c = net.config
        let runner = JSONLRunner(program: "llmfew", io: io, common: common)
        let status = runner.mapBatches(batchSize: common.batch, read: { r -> Series in
            guard let v = r.value(fields.seriesField) else { throw RecordError.field(fields.seriesField, "missing") }
            let s: Series
            do { s = Series(channels: try seriesChannels(v), label: nil) } catch { throw RecordError.field(fields.seriesField, "\(error)") }
            do { _ = try patchValues([s], dimensions: c.dimensions, length: c.length, patch: c.patchLen, stride: c.stride) } catch {
                throw RecordError.field(fields.seriesField, "\(error)")
            }
            return s
        }, compute: { batch in
            try net.probabilities(batch)
        }, write: { r, p in
            let best = p.indices.max { p[$0] < p[$1] } ?? 0
            r.set("prediction", string: c.classes[best])
            var probs = JSONObject()
            for (l, v) in zip(c.classes, p) { probs[l] = JSONValue(v) ?? .null }
            r.set("probs", .object(probs))
        })
        throw ExitCode(status)
    }
}
