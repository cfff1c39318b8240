# ls-llama's experiments (Tools/ls-llama/README.md). Included by the top Makefile (BINDIR, SMOLLM2, MINILM).
# SST-2 and CoNLL come from the shared data folder (SST2_DIR, CONLL_DIR below); outputs go to
# results/ls-llama/ (models are kept out of git by results/.gitignore). One thread each, as measured.
LSL_EXP   = results/ls-llama
LSL       = $(BINDIR)/ls-llama
SST2_DIR  ?= ../shared/data/sst2
CONLL_DIR ?= ../shared/data/conll/conll2003
LSL_SMOL  = $(SMOLLM2)
LSL_SEEDS ?= 1 2

.PHONY: exp-ls-llama exp-ls-llama-sst2 exp-ls-llama-sst2-minilm exp-ls-llama-conll exp-ls-llama-data

exp-ls-llama: exp-ls-llama-sst2 exp-ls-llama-sst2-minilm exp-ls-llama-conll

# SST-2 splits: 4,000 shuffled train sentences, 400 more as the dev set for model selection, GLUE's
# validation (872) scored once as the test set (GLUE's test labels are not public).
exp-ls-llama-data: $(LSL_EXP)/data/sst2-train.jsonl $(LSL_EXP)/data/conll-dev500.conll
$(LSL_EXP)/data/sst2-train.jsonl:
	python3 scripts/ls-llama/sst2.py $(SST2_DIR) 4000 400
$(LSL_EXP)/data/conll-dev500.conll:
	mkdir -p $(LSL_EXP)/data
	python3 scripts/ls-llama/conll_dev.py $(CONLL_DIR)/eng.testa 500 $@

# SmolLM2-135M, causal (LS-LLaMA) and unmasked (LS-unLLaMA), the same budget: 1 epoch at lr 3e-4
# (the reference's 10-20 epochs at 5e-5/1e-4 do not fit a CPU budget), dev every 125 steps.
exp-ls-llama-sst2: build models exp-ls-llama-data
	for v in causal unmasked; do \
	  flag=""; [ $$v = unmasked ] && flag="--unmasked"; \
	  $(LSL) train --task seq --model $(LSL_SMOL) --data $(LSL_EXP)/data/sst2-train.jsonl --dev $(LSL_EXP)/data/sst2-dev.jsonl \
	    --epochs 1 --lr 3e-4 --eval-every 125 --threads 1 --resume --out $(LSL_EXP)/sst2-$$v $$flag || exit 1; \
	  $(LSL) eval --model $(LSL_EXP)/sst2-$$v --data $(LSL_EXP)/data/sst2-test.jsonl --threads 1 | tee $(LSL_EXP)/sst2-$$v/test.json; \
	done

# The encoder baseline with the same program: MiniLM (LoRA on query/value, mean pooling as the model was
# trained by sentence-transformers; lr 1e-3), same data and budget.
exp-ls-llama-sst2-minilm: build models exp-ls-llama-data
	$(LSL) train --task seq --model $(MINILM) --data $(LSL_EXP)/data/sst2-train.jsonl --dev $(LSL_EXP)/data/sst2-dev.jsonl \
	  --pooling mean --epochs 1 --lr 1e-3 --eval-every 125 --threads 1 --resume --out $(LSL_EXP)/sst2-minilm
	$(LSL) eval --model $(LSL_EXP)/sst2-minilm --data $(LSL_EXP)/data/sst2-test.jsonl --threads 1 | tee $(LSL_EXP)/sst2-minilm/test.json

# CoNLL-2003 English NER: the first 2,000 training sentences, 1 epoch at 3e-4, model selection on the
# first 500 dev sentences, the whole test set (3,453 sentences, nothing truncated) scored once.
exp-ls-llama-conll: build models exp-ls-llama-data
	for s in $(LSL_SEEDS); do for v in causal unmasked; do \
	  flag=""; [ $$v = unmasked ] && flag="--unmasked"; \
	  $(LSL) train --task token --model $(LSL_SMOL) --data $(CONLL_DIR)/eng.train --max-examples 2000 \
	    --dev $(LSL_EXP)/data/conll-dev500.conll --epochs 1 --lr 3e-4 --threads 1 --seed $$s --resume \
	    --out $(LSL_EXP)/conll-$$v-s$$s $$flag || exit 1; \
	  $(LSL) eval --model $(LSL_EXP)/conll-$$v-s$$s --data $(CONLL_DIR)/eng.testb --threads 1 | tee $(LSL_EXP)/conll-$$v-s$$s/test.json; \
	done; done
