// tokenizer-speed ROOT: for MiniLM (WordPiece) and SmolLM2 (byte-level BPE from the GGUF), encode every
// corpus line one at a time, single thread, repeated for about 3 s; print one JSON line per tokenizer
// with tokens/s (and lines/s). Load time is not counted. The Python twin is ../tokenizers_hf.py.
import Foundation
import Runtime

let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "."
let corpusData = try Data(contentsOf: URL(fileURLWithPath: root + "/data/fixtures/tokenizers/corpus.jsonl"))
let corpus: [String] = try corpusData.split(separator: UInt8(ascii: "\n")).map { try JSONValue(parsing: [UInt8]($0)).stringValue! }

for (name, path) in [("minilm-wordpiece", root + "/data/models/all-MiniLM-L6-v2/tokenizer.json"),
                     ("smollm2-bpe", root + "/data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")] {
    let tok = try Tokenizer.load(path: path)
    tok.truncation = nil
    tok.padding = nil
    var tokens = 0, lines = 0
    for line in corpus { tokens += try tok.encode(line).count }  // warm-up (fills the BPE cache, as HF's)
    tokens = 0
    let start = Date()
    var elapsed = 0.0
    repeat {
        for line in corpus { tokens += try tok.encode(line).count; lines += 1 }
        elapsed = Date().timeIntervalSince(start)
    } while elapsed < 3
    print("{\"tokenizer\": \"\(name)\", \"impl\": \"swift\", \"tokens_per_s\": \(Int(Double(tokens) / elapsed)), \"lines_per_s\": \(Int(Double(lines) / elapsed))}")
}
