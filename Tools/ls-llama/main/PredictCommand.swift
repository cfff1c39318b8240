// `ls-llama predict`: JSONL in, each record with its prediction added.
import ArgumentParser
import Foundation
import LSLlamaCore
import Runtime
import RuntimeCLI

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label texts (seq) or tag words (token) with a trained model.",
        discussion: """
        seq models read the --text-field of each record and add `prediction` (the label) and `probs` \
        (label → probability, in head order). token models read the --tokens-field (a list of words; or \
        a string, split at whitespace) and add `tags` (one per word) and `entities` ([{"type", "start", \
        "end", "text"}] with character offsets into the words joined by spaces, first and last word \
        indices as "first"/"last"). A word is tagged from its first sub-token, as the reference does, or \
        from the mean or max of its sub-tokens' probabilities (--aggregate). Words past --max-length get \
        "O". A record that cannot be read is written with an `error` field (or --on-error).

        Example:
          echo '{"text": "a gorgeous, witty film"}' | ls-llama predict --model sst2-ls
        """)

    @Option(help: "A directory written by `ls-llama train`.")
    var model: String

    @Option(help: "The base model, if it moved since training (default: the path in ls_llama.json).")
    var base: String?

    @Option(help: "Token tasks: first, mean or max over a word's sub-tokens.")
    var aggregate: WordAggregation = .first

    @OptionGroup var fields: FieldOptions
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        let bundle = loadModelOrExit(model, base: base)
        let predictor = LSPredictor(bundle: bundle, batch: common.batch, aggregate: aggregate)
        let labels = bundle.config.labels
        let runner = JSONLRunner(program: "ls-llama", io: io, common: common)
        let status: Int32
        switch bundle.config.task {
        case .seq:
            let encoder = bundle.encoder
            status = runner.mapBatches(batchSize: common.batch * 4, read: { r in try encoder.encode(try r.string(fields.textField)) },
                                       compute: { predictor.predict(encoded: $0) }, write: { r, p in
                r.set("prediction", string: labels[p.best])
                var probs = JSONObject()
                for (l, v) in zip(labels, p.probs) { probs[l] = JSONValue(v) ?? .null }
                r.set("probs", .object(probs))
            })
        case .token:
            let encoder = bundle.encoder
            status = runner.mapBatches(batchSize: common.batch * 4, read: { r -> EncodedWords in
                let words = try r.value(fields.tokensField)?.stringValue.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
                    ?? r.strings(fields.tokensField)
                guard !words.isEmpty else { throw RecordError.field(fields.tokensField, "no words") }
                do { return try encoder.encode(words: words) } catch { throw RecordError.field(fields.tokensField, "\(error)") }
            }, compute: { predictor.predict(encoded: $0) }, write: { r, p in
                let tags = p.tags.map { labels[$0] }
                r.set("tags", strings: tags)
                let words = try r.value(fields.tokensField)?.stringValue.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
                    ?? r.strings(fields.tokensField)
                let entities = entityRecords(tags: tags, words: words, spans: p.spans)
                r.set("entities", .array(entities))
                if p.truncatedWords > 0 { r.set("truncated_words", int: p.truncatedWords) }
            })
        }
        throw ExitCode(status)
    }
}
