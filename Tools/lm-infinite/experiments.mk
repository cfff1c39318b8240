# lm-infinite's experiments (Tools/lm-infinite/README.md). Included by the top Makefile, which defines
# BINDIR, PYTHON and SMOLGGUF. Outputs go to results/lm-infinite/; `lm-infinite-small` trains the small
# model into data/models/.
SMALL    = data/models/small-shakespeare
LMRES    = results/lm-infinite
SHAKES   = data/tinyshakespeare/input.txt

.PHONY: lm-infinite-small exp-lm-infinite-small exp-lm-infinite-smollm2 exp-lm-infinite-passkey exp-lm-infinite-plots

# A 3M-parameter byte-level LLaMA (4 layers, context 256) trained here on tinyshakespeare (~25 min on
# 2 cores); checked against transformers when the reference environment exists.
lm-infinite-small: $(SMALL)/model.safetensors
$(SMALL)/model.safetensors: | build
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite train --text $(SHAKES) --out $(SMALL) --steps 1500 --log $(LMRES)/small-train.jsonl --resume
	@if [ -x $(PYTHON) ] && $(PYTHON) -c "import transformers" 2>/dev/null; then \
	  $(PYTHON) scripts/check_transformers_load.py $(SMALL) $(SHAKES) 300 | tee $(LMRES)/small-transformers-check.json; fi

# NLL by position on held-out Shakespeare, to 16x the trained length, every mode and the G=0 ablation.
exp-lm-infinite-small: build $(SMALL)/model.safetensors
	@mkdir -p $(LMRES)
	tail -c 110000 $(SHAKES) > $(LMRES)/heldout.txt
	$(BINDIR)/lm-infinite perplexity --model $(SMALL) --text $(LMRES)/heldout.txt --max-length 4096 --bucket 128 --documents 26 \
	  --modes lambda,vanilla,streaming --with-g0 --plot $(LMRES)/small-nll.png \
	  --title "3M byte-level LLaMA (trained on 256 tokens): NLL by position, 26 held-out stretches" > $(LMRES)/small-nll.jsonl

# SmolLM2-135M past its 8,192-token context: NLL by position to 32k tokens (Shakespeare; one stretch,
# about 75 minutes on one core).
exp-lm-infinite-smollm2: build models
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite perplexity --model $(SMOLGGUF) --text $(SHAKES) --max-length 32768 --bucket 1024 --documents 1 --progress \
	  --modes lambda,vanilla,streaming --with-g0 --plot $(LMRES)/smollm2-nll.png \
	  --title "SmolLM2-135M (trained on 8192 tokens): NLL by position, Shakespeare" > $(LMRES)/smollm2-nll.jsonl

# The two NLL plots again (PNG and SVG) from the committed rows, without rescoring.
exp-lm-infinite-plots: build
	$(BINDIR)/lm-infinite plot $(LMRES)/small-nll.jsonl --plot $(LMRES)/small-nll.png --trained-length 256 \
	  --title "3M byte-level LLaMA (trained on 256 tokens): NLL by position, 26 held-out stretches"
	$(BINDIR)/lm-infinite plot $(LMRES)/smollm2-nll.jsonl --plot $(LMRES)/smollm2-nll.png --trained-length 8192 \
	  --title "SmolLM2-135M (trained on 8192 tokens): NLL by position, Shakespeare"

# Passkey retrieval by prompt length and mode (the reference's prompts), SmolLM2. Prompts of 2,048
# and 4,096 tokens fit the trained length (8,192), where the three modes attend to the same tokens, so
# they run once (vanilla); 8,192 (prompts of 8,205 tokens) and 16,384 compare the modes. The prompts
# depend only on the length and seed, so every mode sees the same ones. About 35 minutes on one core.
PASSKEY_SAMPLES ?= 3
PASSKEY_SAMPLES_16K ?= 2
exp-lm-infinite-passkey: build models
	@mkdir -p $(LMRES)
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 2048,4096,8192 --samples $(PASSKEY_SAMPLES) \
	  --modes vanilla --threads 1 --progress > $(LMRES)/smollm2-passkey.jsonl
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 16384 --samples $(PASSKEY_SAMPLES_16K) \
	  --modes lambda,vanilla,streaming --threads 1 --progress >> $(LMRES)/smollm2-passkey.jsonl
	$(BINDIR)/lm-infinite passkey --model $(SMOLGGUF) --lengths 8192 --samples $(PASSKEY_SAMPLES) \
	  --modes lambda,streaming --threads 1 --progress >> $(LMRES)/smollm2-passkey.jsonl
