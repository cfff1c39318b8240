# ptec's experiments (Tools/ptec/README.md). Included by the top Makefile (BINDIR, SMOLLM2).
# HateSpeech (22 labels, 2,338 / 313 / 556) from the shared data folder (PTEC_DATA); outputs go to
# results/ptec/ (models are kept out of git). One thread each, as measured.
PTEC_EXP   = results/ptec
PTEC       = $(BINDIR)/ptec
PTEC_DATA ?= ../shared/data/ptec_hatespeech
PTEC_TRAIN_N ?= 600
PTEC_SEEDS ?= 1
PTEC_ARGS  = --text-field prompt --threads 1
PTEC_TEST  = $(PTEC_DATA)/test_preprocessed.json

.PHONY: exp-ptec exp-ptec-gzip exp-ptec-ch exp-ptec-lh exp-ptec-probe exp-ptec-knn

exp-ptec: exp-ptec-gzip exp-ptec-ch exp-ptec-probe exp-ptec-knn exp-ptec-lh
	python3 scripts/ptec/results_table.py $(PTEC_EXP)

# gzip NCD 1-NN on the full training set (deterministic: ties to the earliest training text).
exp-ptec-gzip: build
	mkdir -p $(PTEC_EXP)
	$(PTEC) gzip $(PTEC_ARGS) --train $(PTEC_DATA)/train_preprocessed.json < $(PTEC_TEST) > $(PTEC_EXP)/gzip-test.jsonl
	$(PTEC) eval $(PTEC_ARGS) --data $(PTEC_TEST) < $(PTEC_EXP)/gzip-test.jsonl > $(PTEC_EXP)/gzip-test.json

# PTEC on SmolLM2-135M with a CPU budget: the first PTEC_TRAIN_N training texts, sp_len 20, texts cut at
# 256 tokens, 3 epochs (57 updates of 32); lr 1e-3 / ch-lr 5e-3, exponential schedule; every epoch kept
# on dev (no early stop, no interrupt: the first epoch scores 0 at σ > 0.5); dev = the full dev split;
# test scored once with the kept model at 0.5, and again with per-label thresholds tuned on dev.
exp-ptec-ch: build models
	for s in $(PTEC_SEEDS); do \
	  $(PTEC) train --head ch --model $(SMOLLM2) $(PTEC_ARGS) --data $(PTEC_DATA)/train_preprocessed.json --dev $(PTEC_DATA)/dev_preprocessed.json \
	    --max-examples $(PTEC_TRAIN_N) --sp-len 20 --max-length 256 --epochs 3 --lr 1e-3 --ch-lr 5e-3 --early-stop 0 --interrupt-threshold=-1 \
	    --seed $$s --resume --out $(PTEC_EXP)/ch-s$$s || exit 1; \
	  $(PTEC) eval --model $(PTEC_EXP)/ch-s$$s $(PTEC_ARGS) --data $(PTEC_TEST) > $(PTEC_EXP)/ch-s$$s/test.json; \
	  rm -rf $(PTEC_EXP)/ch-s$$s-tuned && cp -r $(PTEC_EXP)/ch-s$$s $(PTEC_EXP)/ch-s$$s-tuned; \
	  $(PTEC) tune-thresholds --model $(PTEC_EXP)/ch-s$$s-tuned $(PTEC_ARGS) --data $(PTEC_DATA)/dev_preprocessed.json > $(PTEC_EXP)/ch-s$$s-tuned/thresholds.json; \
	  $(PTEC) eval --model $(PTEC_EXP)/ch-s$$s-tuned $(PTEC_ARGS) --data $(PTEC_TEST) > $(PTEC_EXP)/ch-s$$s-tuned/test.json; \
	done

# The prompt-tuning baseline with the same texts (1 epoch: its dev scoring generates, and the CPU budget ran out), warmup schedule
# at the reference CLI's lr 3e-3; test generated unconstrained and with the label constraint (timed).
exp-ptec-lh: build models
	for s in $(PTEC_SEEDS); do \
	  $(PTEC) train --head lh --model $(SMOLLM2) $(PTEC_ARGS) --data $(PTEC_DATA)/train_preprocessed.json --dev $(PTEC_DATA)/dev_preprocessed.json \
	    --max-examples $(PTEC_TRAIN_N) --sp-len 20 --max-length 256 --epochs 1 --lr 3e-3 --early-stop 0 --interrupt-threshold=-1 \
	    --seed $$s --resume --out $(PTEC_EXP)/lh-s$$s || exit 1; \
	  ( time $(PTEC) eval --model $(PTEC_EXP)/lh-s$$s $(PTEC_ARGS) --data $(PTEC_TEST) > $(PTEC_EXP)/lh-s$$s/test.json ) 2> $(PTEC_EXP)/lh-s$$s/test.time; \
	  ( time $(PTEC) eval --model $(PTEC_EXP)/lh-s$$s $(PTEC_ARGS) --trie --data $(PTEC_TEST) > $(PTEC_EXP)/lh-s$$s/test-trie.json ) 2> $(PTEC_EXP)/lh-s$$s/test-trie.time; \
	done

# The reference's CH baseline (frozen mean-pooled states + linear head) on the same training texts.
exp-ptec-probe: build models
	$(PTEC) train --head probe --model $(SMOLLM2) $(PTEC_ARGS) --data $(PTEC_DATA)/train_preprocessed.json --dev $(PTEC_DATA)/dev_preprocessed.json \
	  --max-examples $(PTEC_TRAIN_N) --max-length 256 --overwrite --out $(PTEC_EXP)/probe
	$(PTEC) eval --model $(PTEC_EXP)/probe $(PTEC_ARGS) --data $(PTEC_TEST) > $(PTEC_EXP)/probe/test.json
	rm -rf $(PTEC_EXP)/probe-tuned && cp -r $(PTEC_EXP)/probe $(PTEC_EXP)/probe-tuned
	$(PTEC) tune-thresholds --model $(PTEC_EXP)/probe-tuned $(PTEC_ARGS) --data $(PTEC_DATA)/dev_preprocessed.json > $(PTEC_EXP)/probe-tuned/thresholds.json
	$(PTEC) eval --model $(PTEC_EXP)/probe-tuned $(PTEC_ARGS) --data $(PTEC_TEST) > $(PTEC_EXP)/probe-tuned/test.json

# k-NN on the same embeddings, k chosen on dev.
exp-ptec-knn: build models
	head -n $(PTEC_TRAIN_N) $(PTEC_DATA)/train_preprocessed.json > $(PTEC_EXP)/train-subset.json
	$(PTEC) knn --model $(SMOLLM2) $(PTEC_ARGS) --max-length 256 --train $(PTEC_EXP)/train-subset.json --dev $(PTEC_DATA)/dev_preprocessed.json \
	  < $(PTEC_TEST) > $(PTEC_EXP)/knn-test.jsonl
	$(PTEC) eval $(PTEC_ARGS) --data $(PTEC_TEST) < $(PTEC_EXP)/knn-test.jsonl > $(PTEC_EXP)/knn-test.json
