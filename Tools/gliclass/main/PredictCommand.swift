// `gliclass predict`: JSONL records with a text and their candidate labels in, scores out.
import ArgumentParser
import Foundation
import GLiClassCore
import Runtime
import RuntimeCLI

/// The reference behaviours a released checkpoint's numbers may need (shared by predict and train).
struct QuirkOptions: ParsableArguments {
    @Flag(help: "Pool over padding and label tokens as the reference does (its `last` is position S-1; its last averaged label span runs to the end; padded label slots enter the hopfield softmax). Scores then depend on the batch: use with --batch 1.")
    var referencePooling = false

    @Flag(help: "Segment ids as the reference computes them (its argmin puts every token of a record with examples in segment 2).")
    var referenceSegments = false

    @Flag(help: "Truncate from the right as the reference does: with the text first, a long text cuts the labels off (they are still scored, from zero vectors).")
    var referenceTruncation = false

    var quirks: ReferenceQuirks { ReferenceQuirks(pooling: referencePooling, segments: referenceSegments) }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score each record's text against its candidate labels.",
        discussion: """
        Each record carries a text and its candidate labels (a list, or a hierarchy {"topic": ["a", "b"]} \
        read as "topic.a", "topic.b"), or --labels gives one set for all. Optional: few-shot examples \
        (`examples`: [{"text", "labels"}], or --examples FILE) and a task prompt (`prompt`, or --prompt). \
        Writes `scores` (label → probability, in label order), `prediction` (the best label) and, \
        multi-label, `predictions` (the labels at or above --threshold). Multi-label scores are σ(logit) \
        per label; --single-label takes a softmax over the record's labels. The scores feed \
        `loki predict` (its `scores` field).

        The input is built and tokenized as the reference builds it, byte for byte. Differences, each \
        with a --reference-… flag: poolers read only the record's own text tokens (the reference's read \
        padding, so its scores change with the batch); a long input loses the end of its text, never a \
        label; --chunk scores long texts in windows (the reference's chunks are 8,192 characters).

        Example:
          echo '{"text": "The match ended 2-1.", "labels": ["sports", "politics"]}' \\
            | gliclass predict --model MODEL_DIR
        """)

    @Option(help: "A GLiClass model directory (config.json with encoder_config, model.safetensors, tokenizer.json).")
    var model: String

    @Option(help: "Field with the text.")
    var field = "text"

    @Option(help: "Field with the candidate labels.")
    var labelsField = "labels"

    @Option(help: ArgumentHelp("The candidate labels for every record, one per line (or a JSON list or hierarchy).", valueName: "file"))
    var labels: String?

    @Option(help: "Field with few-shot examples.")
    var examplesField = "examples"

    @Option(help: ArgumentHelp("Few-shot examples for every record: JSONL {\"text\", \"labels\"}.", valueName: "file"))
    var examples: String?

    @Option(help: "Field with a task prompt.")
    var promptField = "prompt"

    @Option(help: "A task prompt for every record.")
    var prompt: String?

    @Option(help: "Multi-label decision threshold on σ(logit).")
    var threshold: Float = 0.5

    @Flag(help: "One label per text: softmax over its labels (default: multi-label, sigmoid per label).")
    var singleLabel = false

    @Option(help: "Tokens per input, special tokens included (default: 1024, the reference's, capped at the encoder's positions).")
    var maxLength: Int?

    @Flag(help: "Score texts longer than --max-length in windows and take each label's maximum (single-label: renormalized).")
    var chunk = false

    @Option(help: "Tokens shared by consecutive windows (--chunk).")
    var chunkOverlap = 32

    @Option(help: "Labels scored per input (0: all of a record's labels together; the reference's chunking pipeline uses 8).")
    var labelChunk = 0

    @Flag(help: "Also write the raw logits (`logits`, in label order).")
    var logits = false

    @OptionGroup var quirkOptions: QuirkOptions
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if let m = maxLength, m < 4 { throw ValidationError("--max-length must be at least 4") }
        guard chunkOverlap >= 0, labelChunk >= 0 else { throw ValidationError("--chunk-overlap and --label-chunk must not be negative") }
        guard threshold.isFinite else { throw ValidationError("--threshold must be a number") }
    }

    func run() throws {
        common.apply()
        let bundle: GLiClassBundle
        do { bundle = try GLiClassCheckpoint.load(directory: model) } catch {
            fatalLoad(program: "gliclass", path: model, problem: "\(error)", hint: "give a directory written by `gliclass train` or the reference's save_pretrained")
        }
        bundle.model.setQuirks(quirkOptions.quirks)
        let fixedLabels = labels.map { path in loadOrExit(path) { try readLabelList(path: path) } }
        let fixedExamples = examples.map { path in loadOrExit(path) { try readExamples(path: path) } }
        var options = PredictOptions()
        options.threshold = threshold
        options.singleLabel = singleLabel
        options.batch = common.batch
        options.chunk = chunk
        options.chunkOverlap = chunkOverlap
        options.labelChunk = labelChunk
        let length = effectiveMaxLength(maxLength, bundle: bundle)
        let predictor = Predictor(bundle: bundle, maxLength: length, options: options, referenceTruncation: quirkOptions.referenceTruncation)
        let runner = JSONLRunner(program: "gliclass", io: io, common: common)
        let status = runner.mapBatches(batchSize: common.batch * 4, read: { r -> ClassificationInput in
            let text = try r.string(field)
            let labelList = try fixedLabels ?? GLiClassRecords.labels(r.value(labelsField) ?? { throw RecordError.missing(labelsField) }(), field: labelsField)
            let ex = try fixedExamples ?? r.value(examplesField).map { try GLiClassRecords.examples($0, field: examplesField) } ?? []
            let p = try prompt ?? (r.has(promptField) ? r.string(promptField) : "")
            return ClassificationInput(text: text, labels: labelList, examples: ex, prompt: p)
        }, compute: { inputs in predictor.predict(inputs) }, write: { r, result in
            let p = try result.get()
            var scores = JSONObject()
            for (l, s) in zip(p.labels, p.scores) { scores[l] = JSONValue(s) ?? .null }
            r.set("scores", .object(scores))
            r.set("prediction", string: p.labels[p.best])
            if !singleLabel { r.set("predictions", strings: p.chosen.map { p.labels[$0] }) }
            if logits, let l = p.logits { try r.set("logits", floats: l) }
        })
        throw ExitCode(status)
    }
}

/// --max-length, or the reference's 1024, never past the encoder's position table.
func effectiveMaxLength(_ requested: Int?, bundle: GLiClassBundle) -> Int {
    let positions = bundle.model.backbone.descriptor.maxPositions ?? Int.max
    return Swift.min(requested ?? 1024, positions)
}

func loadOrExit<T>(_ path: String, _ body: () throws -> T) -> T {
    do { return try body() } catch { fatalLoad(program: "gliclass", path: path, problem: "\(error)") }
}

/// Labels, one per line, or a JSON list or hierarchy.
func readLabelList(path: String) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw GLiClassError("cannot read") }
    let text = String(decoding: data, as: UTF8.self)
    if let first = text.first(where: { !$0.isWhitespace }), first == "[" || first == "{" {
        return try GLiClassRecords.labels(try JSONValue(parsing: Array(data)), field: "labels")
    }
    let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !lines.isEmpty else { throw GLiClassError("no labels in the file") }
    return try GLiClassRecords.labels(.array(lines.map { .string($0) }), field: "labels")
}

/// Few-shot examples, JSONL {"text", "labels"}.
func readExamples(path: String) throws -> [FewShotExample] {
    guard let data = FileManager.default.contents(atPath: path) else { throw GLiClassError("cannot read") }
    let lines = data.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }
    return try GLiClassRecords.examples(.array(try lines.map { try JSONValue(parsing: Array($0)) }), field: "examples")
}
