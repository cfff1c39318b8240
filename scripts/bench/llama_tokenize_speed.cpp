// llama_tokenize_speed [--ids] VOCAB.gguf... : llama.cpp's tokenizer speed on the parity corpus, for
// tokenizer-bench. The corpus comes on stdin, each line as its byte length in decimal, a newline and
// its UTF-8 bytes (the lines of data/fixtures/tokenizers/corpus.jsonl, decoded). For each GGUF (vocabulary only), every line is
// tokenized one call at a time, no special tokens added, special tokens not parsed (test-tokenizer-0's
// protocol), single thread, repeated for about 3 s after one warm-up pass; one JSON line per file.
// --ids: instead of timing, print each line's ids (space-separated, one line per corpus line) for one
// GGUF, to compare our ids with llama.cpp's beyond its test suite (scripts/tokenizer/compare_llama_cpp.py).
// Built against libllama from llama.cpp's source (scripts/bench/build-llama-cpp.sh) by tokenizers.sh.
#include "llama.h"
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

static void quiet(ggml_log_level, const char *, void *) {}

int main(int argc, char ** argv) {
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    std::vector<std::string> lines;  // each line as "<byte length>\n<bytes>" (a line may hold any byte)
    size_t pos = 0;
    while (pos < all.size()) {
        size_t nl = all.find('\n', pos);
        if (nl == std::string::npos) break;
        size_t n = std::stoul(all.substr(pos, nl - pos));
        lines.push_back(all.substr(nl + 1, n));
        pos = nl + 1 + n;
    }
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    const bool ids = argc > 1 && std::string(argv[1]) == "--ids";
    for (int a = ids ? 2 : 1; a < argc; a++) {
        llama_model_params mp = llama_model_default_params();
        mp.vocab_only = true;
        llama_model * model = llama_model_load_from_file(argv[a], mp);
        if (!model) { fprintf(stderr, "cannot load %s\n", argv[a]); return 1; }
        const llama_vocab * vocab = llama_model_get_vocab(model);
        std::vector<llama_token> buf(1 << 16);
        auto encode = [&](const std::string & s) -> long {
            int n = llama_tokenize(vocab, s.data(), (int) s.size(), buf.data(), (int) buf.size(), false, false);
            if (n < 0) { buf.resize(-n); n = llama_tokenize(vocab, s.data(), (int) s.size(), buf.data(), (int) buf.size(), false, false); }
            return n;
        };
        if (ids) {
            for (const auto & l : lines) {
                long n = encode(l);
                for (long i = 0; i < n; i++) printf(i ? " %d" : "%d", buf[i]);
                printf("\n");
            }
            llama_model_free(model);
            continue;
        }
        for (const auto & l : lines) encode(l);
        long tokens = 0, count = 0;
        auto start = std::chrono::steady_clock::now();
        double elapsed = 0;
        do {
            for (const auto & l : lines) { tokens += encode(l); count++; }
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        } while (elapsed < 3);
        std::string name = argv[a];
        name = name.substr(name.find_last_of('/') + 1);
        printf("{\"tokenizer\": \"%s\", \"impl\": \"llama.cpp\", \"tokens_per_s\": %ld, \"lines_per_s\": %ld}\n",
               name.c_str(), (long) (tokens / elapsed), (long) (count / elapsed));
        fflush(stdout);
        llama_model_free(model);
    }
    llama_backend_free();
    return 0;
}
