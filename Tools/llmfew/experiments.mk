# llmfew's experiments (Tools/llmfew/README.md): BasicMotions, JapaneseVowels and Handwriting with
# SmolLM2-135M, against --llm none (PTCEnc + head) and 1-nearest-neighbour (Euclidean, DTW), at 1, 5 and
# all shots. Included by the top Makefile (BINDIR). Outputs in results/llmfew/<set>-<shots>-<mode>-<seed>/
# (test.json: the test set scored once, with the validation-selected model) and results/llmfew/knn/.
# One thread per run: `make -j2 exp-llmfew` runs two at a time.
LLMFEW_EXP   = results/llmfew
LLMFEW       = $(BINDIR)/llmfew
LLMFEW_MODEL ?= data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf
LLMFEW_SEEDS ?= 0 1 2
LLMFEW_DATA  = $(LLMFEW_EXP)/data
# JapaneseVowels comes from the aeon wheel on PyPI (the UEA archive's copy); BasicMotions and
# Handwriting are in data/llmfew/.
AEON_WHEEL   = aeon-1.6.0-py3-none-any.whl

.PHONY: exp-llmfew exp-llmfew-data exp-llmfew-table exp-llmfew-bm exp-llmfew-jv exp-llmfew-hw exp-llmfew-knn

exp-llmfew: exp-llmfew-bm exp-llmfew-jv exp-llmfew-hw exp-llmfew-knn exp-llmfew-table

$(LLMFEW_DATA)/bm-train.jsonl $(LLMFEW_DATA)/bm-test.jsonl: data/llmfew/BasicMotions_TRAIN.ts data/llmfew/BasicMotions_TEST.ts | build
	@mkdir -p $(LLMFEW_DATA)
	$(LLMFEW) convert --ts data/llmfew/BasicMotions_TRAIN.ts > $(LLMFEW_DATA)/bm-train.jsonl
	$(LLMFEW) convert --ts data/llmfew/BasicMotions_TEST.ts > $(LLMFEW_DATA)/bm-test.jsonl

$(LLMFEW_DATA)/hw-train.jsonl $(LLMFEW_DATA)/hw-test.jsonl: | build
	@mkdir -p $(LLMFEW_DATA)
	$(LLMFEW) convert --x data/llmfew/Handwriting_train_x.npy --y data/llmfew/Handwriting_train_y.npy > $(LLMFEW_DATA)/hw-train.jsonl
	$(LLMFEW) convert --x data/llmfew/Handwriting_test_x.npy --y data/llmfew/Handwriting_test_y.npy > $(LLMFEW_DATA)/hw-test.jsonl

$(LLMFEW_DATA)/jv-train.jsonl $(LLMFEW_DATA)/jv-test.jsonl: | build
	@mkdir -p $(LLMFEW_DATA)/aeon
	test -f $(LLMFEW_DATA)/aeon/$(AEON_WHEEL) || python3 -m pip download aeon==1.6.0 --no-deps -q -d $(LLMFEW_DATA)/aeon
	cd $(LLMFEW_DATA)/aeon && python3 -m zipfile -e $(AEON_WHEEL) . >/dev/null
	$(LLMFEW) convert --ts $(LLMFEW_DATA)/aeon/aeon/datasets/data/JapaneseVowels/JapaneseVowels_TRAIN.ts > $(LLMFEW_DATA)/jv-train.jsonl
	$(LLMFEW) convert --ts $(LLMFEW_DATA)/aeon/aeon/datasets/data/JapaneseVowels/JapaneseVowels_TEST.ts > $(LLMFEW_DATA)/jv-test.jsonl

exp-llmfew-data: $(LLMFEW_DATA)/bm-train.jsonl $(LLMFEW_DATA)/hw-train.jsonl $(LLMFEW_DATA)/jv-train.jsonl

# One run: $(1) set, $(2) shots (0: all), $(3) mode (lora, none), $(4) seed, $(5) extra train options.
# JapaneseVowels is padded to 29 steps (the longest test series; TSLib's convention).
define llmfew_run
$(LLMFEW_EXP)/$(1)-$(2)-$(3)-$(4)/test.json: $(LLMFEW_DATA)/$(1)-train.jsonl | build models
	$(LLMFEW) train --model $(LLMFEW_MODEL) --llm $(3) --data $(LLMFEW_DATA)/$(1)-train.jsonl --shots $(2) \
	  --seed $(4) --threads 1 --quiet --resume --checkpoint-every 100 --out $(LLMFEW_EXP)/$(1)-$(2)-$(3)-$(4) $(5)
	$(LLMFEW) eval --model $(LLMFEW_EXP)/$(1)-$(2)-$(3)-$(4) --data $(LLMFEW_DATA)/$(1)-test.jsonl --threads 1 > $$@.tmp && mv $$@.tmp $$@
endef
LLMFEW_LEN_jv = --length 29
LLMFEW_RUNS =
$(foreach set,bm jv hw,$(foreach shots,1 5 0,$(foreach mode,lora none,$(foreach seed,$(LLMFEW_SEEDS),\
  $(eval $(call llmfew_run,$(set),$(shots),$(mode),$(seed),$(LLMFEW_LEN_$(set)))) \
  $(eval LLMFEW_RUNS_$(set) += $(LLMFEW_EXP)/$(set)-$(shots)-$(mode)-$(seed)/test.json)))))

exp-llmfew-bm: $(LLMFEW_RUNS_bm)
exp-llmfew-jv: $(LLMFEW_RUNS_jv)
exp-llmfew-hw: $(LLMFEW_RUNS_hw)

# 1-NN on the same shots (same --seed and --val-split as the runs above).
define llmfew_knn
$(LLMFEW_EXP)/knn/$(1)-$(2)-$(3)-$(4).json: $(LLMFEW_DATA)/$(1)-train.jsonl | build
	@mkdir -p $(LLMFEW_EXP)/knn
	$(LLMFEW) knn --data $(LLMFEW_DATA)/$(1)-train.jsonl --test $(LLMFEW_DATA)/$(1)-test.jsonl --shots $(2) \
	  --distance $(3) --seed $(4) --threads 1 > $$@.tmp && mv $$@.tmp $$@
endef
$(foreach set,bm jv hw,$(foreach shots,1 5 0,$(foreach dist,euclidean dtw,$(foreach seed,$(LLMFEW_SEEDS),\
  $(eval $(call llmfew_knn,$(set),$(shots),$(dist),$(seed))) \
  $(eval LLMFEW_KNN += $(LLMFEW_EXP)/knn/$(set)-$(shots)-$(dist)-$(seed).json)))))
exp-llmfew-knn: $(LLMFEW_KNN)

exp-llmfew-table:
	python3 scripts/llmfew/table.py $(LLMFEW_EXP)

# What the reference's model selection inflates: the same 1-shot BasicMotions runs (the same shots:
# --val-split 0.2 given, the held-out part unused) with the epoch of the best test macro accuracy kept
# (--reference-selection), against the validation-selected runs above.
define llmfew_refsel
$(LLMFEW_EXP)/$(1)-$(2)-refsel-$(3)/test.json: $(LLMFEW_DATA)/$(1)-train.jsonl | build models
	$(LLMFEW) train --model $(LLMFEW_MODEL) --data $(LLMFEW_DATA)/$(1)-train.jsonl --shots $(2) --seed $(3) --threads 1 --quiet \
	  --reference-selection --val-split 0.2 --test $(LLMFEW_DATA)/$(1)-test.jsonl --resume --checkpoint-every 100 --out $(LLMFEW_EXP)/$(1)-$(2)-refsel-$(3)
	$(LLMFEW) eval --model $(LLMFEW_EXP)/$(1)-$(2)-refsel-$(3) --data $(LLMFEW_DATA)/$(1)-test.jsonl --threads 1 > $$@.tmp && mv $$@.tmp $$@
endef
$(foreach seed,$(LLMFEW_SEEDS),$(eval $(call llmfew_refsel,bm,1,$(seed))) $(eval LLMFEW_REFSEL += $(LLMFEW_EXP)/bm-1-refsel-$(seed)/test.json))
.PHONY: exp-llmfew-refsel
exp-llmfew-refsel: $(LLMFEW_REFSEL)
exp-llmfew: exp-llmfew-refsel
