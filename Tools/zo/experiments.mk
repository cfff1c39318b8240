# zo's experiments (Tools/zo/README.md). Included by the top Makefile, which defines BINDIR, MINILM,
# SMOLGGUF and SST2 (data/sst2). Outputs go to results/zo/.
# Each run samples 1,000 / 500 of the SST-2 sentences with the seed, as ZO-Bench does. One thread per
# run: CPU seconds in the logs are then comparable, and the results are the same for any thread count.
ZORES = results/zo
ZORUNS = $(ZORES)/runs
ZOTRAIN = $(BINDIR)/zo train $(SST2) --threads 1 --quiet --resume

.PHONY: exp-zo exp-zo-zero-shot exp-zo-long exp-zo-fo-adam exp-zo-smollm2 exp-zo-minilm exp-zo-report

exp-zo: build exp-zo-zero-shot exp-zo-long exp-zo-fo-adam exp-zo-smollm2 exp-zo-minilm exp-zo-report

# MeZO (zo-sgd, full fine-tuning) on SmolLM2-135M for two hours of CPU.
exp-zo-long: build models
	$(ZOTRAIN) --model $(SMOLGGUF) --optimizer zo-sgd --scheme full --lr 1e-5 --steps 20000 --eval-every 200 --max-cpu 7200 \
	  --out $(ZORUNS)/smollm2-zo-sgd-long

# The zero-shot reference point: SmolLM2-135M with the template and verbalizer, no training.
exp-zo-zero-shot: build models
	@mkdir -p $(ZORES)
	$(BINDIR)/zo eval --model $(SMOLGGUF) --data data/sst2/dev.jsonl --count 500 --threads 1 > $(ZORES)/zero-shot.json

# The first-order reference point: fo-adam on SmolLM2-135M (full fine-tuning), 100 steps.
exp-zo-fo-adam: build models
	$(ZOTRAIN) --model $(SMOLGGUF) --optimizer fo-adam --scheme full --lr 1e-5 --steps 100 --eval-every 50 \
	  --out $(ZORUNS)/smollm2-fo-adam

# The other optimizers on SmolLM2-135M (full fine-tuning), short runs (optimizer:lr:steps), dev
# accuracy on 200 examples at the end.
ZO_SMOL_RUNS ?= fo-sgd:1e-3:30 forward-grad:1e-5:30 zo-sgd-mmt:1e-6:30 zo-sgd-cons:1e-5:30 zo-sgd-sign:1e-6:30 zo-adam:1e-5:30
exp-zo-smollm2: build models
	@for r in $(ZO_SMOL_RUNS); do o=$${r%%:*}; rest=$${r#*:}; lr=$${rest%%:*}; n=$${rest#*:}; \
	  echo "smollm2 $$o lr $$lr, $$n steps"; \
	  $(ZOTRAIN) --model $(SMOLGGUF) --optimizer $$o --scheme full --lr $$lr --steps $$n --eval-every 0 --dev-count 200 \
	    --out $(ZORUNS)/smollm2-$$o || exit 1; done

# Every optimizer on all-MiniLM-L6-v2 with a classification head (full fine-tuning), 200 steps.
ZO_MINILM_RUNS ?= fo-adam:5e-5 fo-sgd:1e-2 forward-grad:1e-4 zo-sgd:1e-4 zo-sgd-mmt:1e-5 zo-sgd-cons:1e-4 \
                  zo-sgd-sign:1e-5 zo-adam:1e-4
exp-zo-minilm: build models
	@for r in $(ZO_MINILM_RUNS); do o=$${r%%:*}; lr=$${r#*:}; echo "minilm $$o lr $$lr"; \
	  $(ZOTRAIN) --model $(MINILM) --optimizer $$o --scheme full --lr $$lr --steps 200 --eval-every 50 --dev-count 200 \
	    --out $(ZORUNS)/minilm-$$o || exit 1; done

# The README's tables and plots from the runs' logs.
exp-zo-report: build
	$(BINDIR)/zo report zo-sgd=$(ZORUNS)/smollm2-zo-sgd-long $$(for d in $(ZORUNS)/smollm2-*; do n=$${d##*/smollm2-}; \
	  [ $$n = zo-sgd-long ] || echo $$n=$$d; done) --reference zero-shot=0.504 --reference half-gap=0.688 \
	  --plot $(ZORES)/smollm2.png --title "SmolLM2-135M on SST-2: dev accuracy" > $(ZORES)/smollm2.md
	$(BINDIR)/zo report $$(for d in $(ZORUNS)/minilm-*; do echo $${d##*/minilm-}=$$d; done) \
	  --plot $(ZORES)/minilm.png --title "all-MiniLM-L6-v2 + head on SST-2: dev accuracy (200 examples)" > $(ZORES)/minilm.md
