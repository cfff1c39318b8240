// lm-infinite: decoding and scoring far past a model's trained length (LM-Infinite), with vanilla and
// StreamingLLM attention for comparison; passkey and perplexity experiments; a small model trainer.
import ArgumentParser
import Foundation
import LMInfiniteCore
import Runtime
import RuntimeCLI

struct LMInfinite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm-infinite",
        abstract: "Run a LLaMA-family model far past its trained length with LM-Infinite's Λ-shaped attention.",
        discussion: """
        Modes: lambda (LM-Infinite: each token attends to the first G tokens, seen at distance D, and to \
        the last L tokens at their true distances; one softmax), vanilla (full attention, as trained), \
        streaming (StreamingLLM: 4 sink tokens and a window of L − 4, positions by cache index).

        Unlike the reference, which keeps the whole cache and absolute positions, lambda and streaming \
        keep a bounded cache (G + L entries per layer) and rotate keys relative to their L-token epoch, \
        so memory and the float32 RoPE phase error stay bounded however long the sequence (--top-k is \
        the exception: choosing middle tokens needs every key).
        """,
        version: BuildInfo.text(program: "lm-infinite"),
        subcommands: [Generate.self, Score.self, PasskeyCommand.self, Perplexity.self, Plot.self, Train.self])
}

struct ModelOptions: ParsableArguments {
    @Option(help: "A model directory (config.json, model.safetensors, tokenizer.json) or a GGUF file.")
    var model: String

    @Option(help: "Attention: lambda, vanilla or streaming.")
    var mode = "lambda"

    @Option(name: .customLong("global"), help: "G: global tokens (lambda; the reference's perplexity runs use 100).")
    var globals = 10

    @Option(help: "L: local window (default: the model's max_position_embeddings).")
    var local: Int?

    @Option(help: "D: the distance global tokens are seen at (default L).")
    var limit: Int?

    @Option(help: "Also attend to the k best middle tokens (lambda; last query of each pass; keeps every key).")
    var topK: Int?

    @Option(help: "Distance the top-k middle tokens are scored and seen at.")
    var topKDistance = 2048

    @Option(help: "First layer (0-based) that uses the top-k middle tokens.")
    var topKFromLayer = 4

    @Option(help: "Tokens per forward pass when reading long inputs.")
    var chunk = 512

    @Flag(help: "Expand a GGUF file's quantized weights to float32 at load (default: keep them in their block formats; decoding then multiplies the blocks with 8-bit activations as llama.cpp does, about 3x faster at decoding, a quarter of the memory).")
    var dequantize = false

    func validate() throws {
        guard AttentionMode(rawValue: mode) != nil else { throw ValidationError("--mode must be lambda, vanilla or streaming") }
        if let l = local, l < 1 { throw ValidationError("--local must be positive") }
        if globals < 0 { throw ValidationError("--global must not be negative") }
        if chunk < 1 { throw ValidationError("--chunk must be positive") }
        if topK != nil && mode != "lambda" { throw ValidationError("--top-k applies to --mode lambda") }
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1 (got \(k))") }
    }

    func options(mode m: AttentionMode? = nil) -> InfiniteOptions {
        var o = InfiniteOptions()
        o.mode = m ?? AttentionMode(rawValue: mode)!  // invariant: validate() checked --mode
        o.globals = globals
        o.local = local
        o.limit = limit
        o.topK = topK.map { TopKOptions(k: $0, distance: topKDistance, fromLayer: topKFromLayer) }
        return o
    }

    func load(_ program: String) -> (LLaMAModel, Tokenizer) {
        do { return try loadModel(model, keepQuantized: !dequantize) } catch {
            fatalLoad(program: program, path: model, problem: "\(error)", hint: modelHint(inCheckout: "`make models` fetches SmolLM2; `make lm-infinite-small` trains the small model"))
        }
    }
}

func parseModes(_ s: String) throws -> [AttentionMode] {
    try s.split(separator: ",").map {
        guard let m = AttentionMode(rawValue: String($0)) else { throw ValidationError("unknown mode '\($0)' (lambda, vanilla, streaming)") }
        return m
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Complete each record's prompt: adds completion and completion_ids.")
    @OptionGroup var m: ModelOptions
    @Option(help: "Input field with the prompt.") var field = "prompt"
    @Option(help: "Most new tokens (generation stops earlier at end of sequence).") var maxTokens = 128
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Nucleus sampling: keep the most likely tokens up to this probability mass.") var topP: Float = 1
    @Flag(help: "Show tokens on stderr as they come.") var stream = false
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if temperature < 0 { throw ValidationError("--temperature must not be negative") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        common.apply()
        let (model, tok) = m.load("lm-infinite")
        let lm = InfiniteLM(model: model, options: m.options())
        let runner = JSONLRunner(program: "lm-infinite", io: io, common: common)
        throw ExitCode(generateRecords(runner, lm: lm, tokenizer: tok, field: field, maxTokens: maxTokens,
                                       sampler: Sampler(temperature: temperature, topP: topP, seed: common.seed), stream: stream))
    }
}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Score each record's text: adds tokens and nll (mean nats per predicted token).")
    @OptionGroup var m: ModelOptions
    @Option(help: "Input field with the text.") var field = "text"
    @Option(help: "Also add nll_by_position: the mean NLL per bucket of this many positions.") var byPosition: Int?
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if let b = byPosition, b < 1 { throw ValidationError("--by-position must be at least 1 (got \(b))") }
    }

    func run() throws {
        common.apply()
        let (model, tok) = m.load("lm-infinite")
        let lm = InfiniteLM(model: model, options: m.options())
        let runner = JSONLRunner(program: "lm-infinite", io: io, common: common)
        throw ExitCode(scoreRecords(runner, lm: lm, tokenizer: tok, field: field, bucket: byPosition, chunk: m.chunk))
    }
}

struct PasskeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passkey",
        abstract: "Passkey retrieval accuracy by prompt length and mode (the reference's prompts), as JSONL rows.",
        discussion: "--seed is added to each length to seed numpy's RandomState, as the reference does (0 reproduces its keys and depths).")
    @OptionGroup var m: ModelOptions
    @Option(help: "Prompt lengths in tokens, comma-separated.") var lengths = "2048,4096,8192,16384"
    @Option(help: "Prompts per length.") var samples = 20
    @Option(help: "Modes to compare, comma-separated (overrides --mode).") var modes: String?
    @Flag(help: "Count the instruction as the reference does (2 tokens: a bug there) when sizing prompts.") var referenceLengths = false
    @OptionGroup var common: RunOptions

    func validate() throws {
        if common.seed > UInt64(UInt32.max) { throw ValidationError("--seed must fit numpy's RandomState (at most \(UInt32.max)) here") }
        if samples < 1 { throw ValidationError("--samples must be at least 1 (got \(samples))") }
    }

    func run() throws {
        common.apply()
        let seed = UInt32(common.seed), progress = common.showsProgress()
        let ls = try lengths.split(separator: ",").map { s -> Int in
            guard let v = Int(s), v > 0 else { throw ValidationError("bad length '\(s)'") }
            return v
        }
        let ms = try modes.map(parseModes) ?? [AttentionMode(rawValue: m.mode)!]  // invariant: ModelOptions.validate() checked --mode
        let (model, tok) = m.load("lm-infinite")
        _ = try passkeyRows(model: model, tokenizer: tok, lengths: ls, modes: ms, options: m.options(), samples: samples,
                            seed: seed, referenceLengths: referenceLengths, chunk: m.chunk, progress: { msg in
            if progress { FileHandle.standardError.write(Data("\r\(msg)   ".utf8)) }
        }, onRow: { row in
            StandardOutput.line(row.jsonText, program: "lm-infinite")
        })
        if progress { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "NLL by position bucket over a long text for each mode (JSONL), and a PNG plot.")
    @OptionGroup var m: ModelOptions
    @Option(help: "A UTF-8 text file.") var text: String
    @Option(help: "Tokens of the text to score.") var maxLength: Int
    @Option(help: "Positions per bucket (default max-length / 64).") var bucket: Int?
    @Option(help: "Average over this many consecutive stretches of max-length tokens of the text.") var documents = 1
    @Option(help: "Modes, comma-separated.") var modes = "lambda,vanilla,streaming"
    @Flag(help: "Add lambda with no global tokens (G = 0), the paper's ablation.") var withG0 = false
    @Option(help: "Write the curves as a PNG line plot.") var plot: String?
    @Option(help: "Plot title.") var title = "NLL by position"
    @OptionGroup var common: RunOptions

    func validate() throws {
        if maxLength < 2 { throw ValidationError("--max-length must be at least 2 (got \(maxLength))") }
        if documents < 1 { throw ValidationError("--documents must be at least 1 (got \(documents))") }
        if documents > Int.max / maxLength { throw ValidationError("--documents × --max-length is too large") }
        if let b = bucket, b < 1 { throw ValidationError("--bucket must be at least 1 (got \(b))") }
    }

    func run() throws {
        common.apply()
        let progress = common.showsProgress()
        guard let body = try? String(contentsOfFile: text, encoding: .utf8) else {
            fatalLoad(program: "lm-infinite", path: text, problem: "cannot read as UTF-8 text")
        }
        let (model, tok) = m.load("lm-infinite")
        let b = bucket ?? max(1, maxLength / 64)
        let curves = try perplexityCurves(model: model, tokenizer: tok, text: body, maxLength: maxLength, bucket: b,
                                          documents: documents, modes: try parseModes(modes), withoutGlobals: withG0,
                                          options: m.options(),
                                          chunk: m.chunk) { msg in
            if progress { FileHandle.standardError.write(Data("\(msg)\n".utf8)) }
        }
        for c in curves {
            for (k, nll) in c.result.buckets.enumerated() where c.result.bucketCounts[k] > 0 {
                var r = Record()
                r.set("mode", string: c.mode)
                r.set("from", int: k * b)
                r.set("to", int: (k + 1) * b)
                try r.set("nll", double: nll)
                r.set("count", int: c.result.bucketCounts[k])
                r.set("documents", int: documents)
                StandardOutput.line(r.jsonText, program: "lm-infinite")
            }
        }
        if let plot {
            let trained = m.local ?? model.config.maxPositionEmbeddings
            try perplexityPlot(nllCurves(curves, bucket: b), trainedLength: trained, title: title).write(to: plot)
        }
    }
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw perplexity's JSONL rows (NLL by position bucket per mode) as a plot, PNG and SVG, without rescoring.")
    @Argument(help: "perplexity's output (JSONL).") var rows: String
    @Option(help: "The plot (PNG; an SVG is written beside it).") var plot: String
    @Option(help: "Where to draw the trained-length line (the model's trained context).") var trainedLength: Int
    @Option(help: "Plot title.") var title = "NLL by position"

    func run() throws {
        guard let text = try? String(contentsOfFile: rows, encoding: .utf8) else { fatalLoad(program: "lm-infinite", path: rows, problem: "cannot read") }
        let curves: [NLLCurve]
        do { curves = try nllCurves(rows: text.split(separator: "\n").map { try Record(parsing: String($0)) }) } catch {
            fatalLoad(program: "lm-infinite", path: rows, problem: "not perplexity's rows: \(error)")
        }
        try perplexityPlot(curves, trainedLength: trainedLength, title: title).write(to: plot)
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small byte-level LLaMA on a text file (our runtime, autograd) and save it as a transformers-loadable directory.",
        discussion: """
        --out gets the model (config.json, model.safetensors, tokenizer.json) and, while training, a \
        checkpoint every --checkpoint-every steps: after a kill, --resume continues from it and ends with the \
        weights of a run never interrupted. An --out holding another run's files is refused unless \
        --resume or --overwrite. A loss that is not finite stops training (exit 1) with the last good model written.
        """)
    @Option(help: "Training text (UTF-8); the last 10% is held out for validation.") var text: String
    @Option(help: "Trained context length.") var context = 256
    @Option(help: "Decoder layers.") var layers = 4
    @Option(help: "Hidden size.") var hidden = 256
    @Option(help: "Attention heads.") var heads = 8
    @Option(help: "Key/value heads.") var kvHeads = 4
    @Option(help: "Optimizer steps.") var steps = 1500
    @Option(help: "Sequences per step.") var batch = 16
    @Option(help: "Peak learning rate (AdamW, cosine schedule with warm-up).") var lr: Float = 3e-3
    @Option(help: "The training log (JSONL; default: log.jsonl in --out).") var log: String?
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: RunOptions

    func validate() throws {
        guard context >= 2, layers >= 1, hidden >= 2, heads >= 1, kvHeads >= 1, heads % kvHeads == 0, hidden % heads == 0,
              (hidden / heads) % 2 == 0, steps >= 1, batch >= 1, lr.isFinite, lr > 0 else {
            throw ValidationError("sizes must be positive, --heads divisible by --kv-heads, --hidden by --heads into an even head size, --lr finite and positive")
        }
        guard context <= 1 << 24, hidden <= 1 << 20 else {  // sizes the trainer multiplies (20 × context, 8 × hidden)
            throw ValidationError("--context must be at most \(1 << 24) and --hidden at most \(1 << 20)")
        }
    }

    func run() throws {
        common.apply()
        guard let data = FileManager.default.contents(atPath: text) else { fatalLoad(program: "lm-infinite", path: text, problem: "cannot read") }
        var o = SmallLMOptions()
        (o.context, o.layers, o.hidden, o.heads, o.kvHeads, o.steps, o.batch, o.lr, o.seed) =
            (context, layers, hidden, heads, kvHeads, steps, batch, lr, common.seed)
        o.intermediate = (hidden * 8 / 3 + 15) / 16 * 16
        var identity = o.json.objectValue ?? JSONObject()
        identity.members.append(.init(key: "text", value: .string(text)))
        do {
            let run = try RunDirectory(directory, program: "lm-infinite", files: smallLMRunFiles, runOptions: .object(identity))
            let logPath = log ?? run.file("log.jsonl")
            let runLog = try RunLog(path: logPath, keep: run.keptLines("log.jsonl"), program: "lm-infinite", progress: common.showsProgress())
            _ = try trainSmallLM(text: [UInt8](data), options: o, run: run, log: runLog, checkpointEvery: directory.checkpointEvery)
        } catch let e as LoadError {
            fatalLoad(program: "lm-infinite", e)
        } catch let stop as SmallLMStopped {
            printError(program: "lm-infinite", "\(stop)")
            throw ExitCode(ExitStatus.badRecords)
        }
        if !common.quiet { FileHandle.standardError.write(Data("saved \(directory.out)\n".utf8)) }
    }
}

LMInfinite.main()
