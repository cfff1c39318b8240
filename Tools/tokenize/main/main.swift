// tokenize: JSONL records with text in, token ids and strings out (or ids back to text with --decode).
import ArgumentParser
import Foundation
import Runtime
import RuntimeCLI
import TokenizeCore

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Add token ids and token strings to each JSONL record (or decode ids back to text).",
        discussion: """
        The tokenizer is a Hugging Face tokenizer.json (or a model directory holding one) or the \
        tokenizer inside a llama.cpp GGUF file; ids are identical to Hugging Face's (for a GGUF file, to \
        the model's original tokenizer and to llama.cpp, whose tokenizer test suite passes whole; \
        --gguf-as transformers follows transformers' GGUF loader instead). --offsets adds \
        [start, end) spans in Unicode code points of the text. --decode reads the ids field and writes \
        the text field (special tokens kept, so tokenize | tokenize --decode gives the text back; \
        --no-special drops them).

        Examples:
          tokenize --model data/models/all-MiniLM-L6-v2 --offsets < texts.jsonl
          tokenize --model data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf < texts.jsonl | tokenize --decode --model ...
        """,
        version: BuildInfo.text(program: "tokenize"))

    @Option(help: "tokenizer.json, a directory holding it, or a .gguf file.")
    var model: String

    @Flag(help: "Turn the ids field back into text instead.")
    var decode = false

    @Flag(help: "Add character offsets ([start, end) code points) as the offsets field.")
    var offsets = false

    @Flag(name: .customLong("no-special"), help: "Leave special tokens out (encoding: do not add them; decoding: drop them).")
    var noSpecial = false

    @Option(help: "Truncate to this many tokens (special tokens included).")
    var maxLength: Int?

    @Option(help: "Text field (input; output with --decode).")
    var field = "text"

    @Option(help: "Ids field (output; input with --decode).")
    var idsField = "ids"

    @Option(help: "Token strings field.")
    var tokensField = "tokens"

    @Option(help: "Offsets field.")
    var offsetsField = "offsets"

    @Option(name: .customLong("gguf-as"),
            help: "How a GGUF file's tokenizer splits text: llama.cpp (as llama.cpp and the model's original tokenizer do) or transformers (as transformers' GGUF loader builds it).")
    var ggufAs = "llama.cpp"

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if !["llama.cpp", "transformers"].contains(ggufAs) { throw ValidationError("--gguf-as is llama.cpp or transformers, not \(ggufAs)") }
        if decode && offsets { throw ValidationError("--offsets applies to encoding, not --decode") }
        if let m = maxLength, m < 1 { throw ValidationError("--max-length must be at least 1") }
    }

    func run() throws {
        common.apply()
        let tokenizer: Tokenizer
        do {
            tokenizer = ggufAs == "transformers" && model.hasSuffix(".gguf")
                ? try Tokenizer.fromGGUF(path: model, llamaCpp: false) : try ModelRegistry.loadTokenizer(path: model)
        } catch {
            fatalLoad(program: "tokenize", path: model, problem: "\(error)", hint: "give tokenizer.json, its directory, or a .gguf file")
        }
        if let m = maxLength { tokenizer.truncation = Truncation(maxLength: m) }
        tokenizer.padding = nil
        var fields = TokenizeFields()
        (fields.text, fields.ids, fields.tokens, fields.offsets) = (field, idsField, tokensField, offsetsField)
        let runner = JSONLRunner(program: "tokenize", io: io, common: common)
        let status = decode
            ? decodeRecords(runner, tokenizer: tokenizer, fields: fields, skipSpecialTokens: noSpecial)
            : tokenizeRecords(runner, tokenizer: tokenizer, fields: fields, addSpecialTokens: !noSpecial, withOffsets: offsets)
        throw ExitCode(status)
    }
}

Tokenize.main()
