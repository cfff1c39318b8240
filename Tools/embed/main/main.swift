// embed: JSONL records with text in, the same records with a sentence embedding out.
import ArgumentParser
import EmbedCore
import Foundation
import Runtime
import RuntimeCLI

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Add a sentence embedding to each JSONL record.",
        discussion: """
        Reads JSON Lines (files or stdin), embeds each record's text field and writes the record back \
        with the vector added, in input order. A sentence-transformers model directory is followed as \
        sentence-transformers does (modules.json: pooling, Dense layers, normalization; \
        sentence_bert_config.json: max_seq_length); a plain BERT directory gets mean pooling; a \
        LLaMA-family directory or GGUF file gets last-token pooling. Texts longer than the maximum \
        length are truncated, as sentence-transformers does.

        A CLIP directory (Hugging Face CLIPModel: config.json with model_type clip, model.safetensors, \
        tokenizer.json, preprocessor_config.json) embeds both: a record with an --image-field (a PNG \
        or JPEG path, or base64 bytes) gets the image tower's vector, one with a text the text \
        tower's, in the joint space (not normalized unless --normalize, as transformers' \
        get_image_features / get_text_features; CLIP compares normalized vectors). An image that \
        cannot be read, or a record with both an image and a text, is a bad record.

        Example:
          embed --model data/models/all-MiniLM-L6-v2 < sentences.jsonl > embedded.jsonl
        """,
        version: BuildInfo.text(program: "embed"))

    @Option(help: "A model directory (config.json, model.safetensors, tokenizer.json; modules.json if sentence-transformers) or a .gguf file.")
    var model: String

    @Option(help: "Input field holding the text.")
    var field = "text"

    @Option(help: "Input field holding an image path or base64 bytes (CLIP models).")
    var imageField = "image"

    @Option(help: "Output field for the vector.")
    var outField = "embedding"

    @Option(help: "Pooling: mean, max, cls, last, mean_sqrt_len (default: the model's).")
    var pooling: String?

    @Flag(inversion: .prefixedNo, help: "L2-normalize the vectors (default: the model's, e.g. yes for all-MiniLM-L6-v2).")
    var normalize: Bool?

    @Option(help: "Maximum tokens per text, special tokens included (default: the model's max_seq_length).")
    var maxLength: Int?

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if let p = pooling, PoolingMode(rawValue: p) == nil {
            throw ValidationError("--pooling must be one of \(PoolingMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let m = maxLength, m < 2 { throw ValidationError("--max-length must be at least 2") }
    }

    func run() throws {
        common.apply()
        Initializer.seed(common.seed)
        if CLIPEncoder.isCLIP(model) {
            if pooling != nil || maxLength != nil {
                throw ValidationError("--pooling and --max-length do not apply to CLIP models (EOS pooling, the model's positions)")
            }
            let clip: CLIPEncoder
            do { clip = try CLIPEncoder(path: model, normalize: normalize ?? false) } catch {
                fatalLoad(program: "embed", path: model, problem: "\(error)")
            }
            let runner = JSONLRunner(program: "embed", io: io, common: common)
            throw ExitCode(runner.mapBatches(batchSize: common.batch > Int.max / 32 ? Int.max : common.batch * 32, read: { r -> EmbedInput in
                if r.has(imageField) {
                    if r.has(field) { throw RecordError.field(imageField, "the record has both an image and a '\(field)': give one per record") }
                    let v = try r.string(imageField)
                    do { return .pixels(try clip.preprocessing.pixels(try recordImage(v))) } catch { throw RecordError.field(imageField, "\(error)") }
                }
                return .text(try r.string(field))
            }, compute: { clip.embedEach($0, batchSize: common.batch) }, write: { r, v in try r.set(outField, floats: try v.get()) }))
        }
        let encoder: SentenceEncoder
        do {
            encoder = try SentenceEncoder(path: model, pooling: pooling.flatMap(PoolingMode.init), normalize: normalize,
                                          maxLength: maxLength)
        } catch {
            fatalLoad(program: "embed", path: model, problem: "\(error)", hint: modelHint(inCheckout: "`make models` fetches all-MiniLM-L6-v2, all-mpnet-base-v2 and multilingual-e5-small into data/models/"))
        }
        let runner = JSONLRunner(program: "embed", io: io, common: common)
        throw ExitCode(embedRecords(runner, encoder: encoder, field: field, outField: outField, batchSize: common.batch))
    }
}

Embed.main()
