# gliclass's experiments (Tools/gliclass/README.md). Included by the top Makefile, which defines BINDIR
# and MINILM. AG News comes from the shared data folder (AGNEWS below; research / non-commercial use);
# outputs go to results/gliclass/ (models and predictions are kept out of git by its .gitignore).
GLICLASS_EXP = results/gliclass
AGNEWS      ?= ../shared/data/ag_news/test.csv
GLICLASS     = $(BINDIR)/gliclass
AGN          = $(GLICLASS_EXP)/data

.PHONY: exp-gliclass exp-gliclass-data exp-gliclass-supervised exp-gliclass-cosine exp-gliclass-invariance exp-gliclass-zeroshot exp-gliclass-rl

exp-gliclass: exp-gliclass-supervised exp-gliclass-cosine exp-gliclass-invariance exp-gliclass-zeroshot exp-gliclass-rl

exp-gliclass-data: $(AGN)/agnews-train.jsonl
$(AGN)/agnews-train.jsonl: $(AGNEWS)
	python3 scripts/gliclass/agnews.py $(AGNEWS) $(AGN)

# Supervised: GLiClass on MiniLM trained on 80% of the AG News test set (6,080 items, 4 labels each)
# with the reference recipe (batch 8, lr 3e-5 heads / 1e-5 encoder, warm-up 5%, augmentation on), one
# thread: one epoch, then one more epoch continued from it (a second run of the recipe: warm-up and
# decay again, --seed 1); each scored on the other 20% (1,520) by its best label.
exp-gliclass-supervised: build models exp-gliclass-data
	$(GLICLASS) train --model $(MINILM) --data $(AGN)/agnews-train.jsonl --eval $(AGN)/agnews-test.jsonl \
	  --epochs 1 --threads 1 --checkpoint-every 100 --quiet --resume --out $(GLICLASS_EXP)/agnews-supervised
	$(GLICLASS) evaluate --model $(GLICLASS_EXP)/agnews-supervised --data $(AGN)/agnews-test.jsonl --single-label \
	  | tee $(GLICLASS_EXP)/agnews-supervised.json
	$(GLICLASS) train --model $(GLICLASS_EXP)/agnews-supervised --data $(AGN)/agnews-train.jsonl --eval $(AGN)/agnews-test.jsonl \
	  --epochs 1 --seed 1 --threads 1 --checkpoint-every 100 --quiet --resume --out $(GLICLASS_EXP)/agnews-supervised-2
	$(GLICLASS) evaluate --model $(GLICLASS_EXP)/agnews-supervised-2 --data $(AGN)/agnews-test.jsonl --single-label \
	  | tee $(GLICLASS_EXP)/agnews-supervised-2.json

# The cosine baseline on the same backbone: MiniLM sentence embeddings of the texts against those of
# the four class names, softmax(cos / 0.1) (`embed | loki zeroshot`); no training.
exp-gliclass-cosine: build models exp-gliclass-data
	printf '%s\n' World Sports Business Sci/Tech > $(AGN)/classes.txt
	python3 -c 'import json; [print(json.dumps({"class": c, "text": c})) for c in ["World", "Sports", "Business", "Sci/Tech"]]' \
	  | $(BINDIR)/embed --model $(MINILM) > $(AGN)/class-emb.jsonl
	$(BINDIR)/embed --model $(MINILM) < $(AGN)/agnews-test-records.jsonl \
	  | $(BINDIR)/loki zeroshot --class-embeddings $(AGN)/class-emb.jsonl --observed $(AGN)/classes.txt --temperature 0.1 \
	  | python3 scripts/gliclass/score.py cosine-minilm $(AGN)/classes.txt | tee $(GLICLASS_EXP)/agnews-cosine.json

# Invariances the reference lacks, on the supervised model: the 1,520 test texts scored with their
# labels in 4 orders (top-1 agreement with the first order), and alone against in batches of 16 with
# longer texts (largest score difference).
exp-gliclass-invariance: exp-gliclass-supervised
	python3 scripts/gliclass/label_orders.py make $(AGN)/agnews-test-records.jsonl > $(AGN)/orders.jsonl
	$(GLICLASS) predict --model $(GLICLASS_EXP)/agnews-supervised-2 --batch 16 --threads 1 --quiet < $(AGN)/orders.jsonl > $(GLICLASS_EXP)/orders-pred.jsonl
	$(GLICLASS) predict --model $(GLICLASS_EXP)/agnews-supervised-2 --batch 1 --threads 1 --quiet < $(AGN)/orders.jsonl > $(GLICLASS_EXP)/orders-pred-b1.jsonl
	python3 scripts/gliclass/label_orders.py compare $(GLICLASS_EXP)/orders-pred.jsonl $(GLICLASS_EXP)/orders-pred-b1.jsonl \
	  | tee $(GLICLASS_EXP)/invariance.json

# Zero-shot: GLiClass on MiniLM trained on a mixture with no AG News and none of its topics (SST-2
# sentiment, PTEC HateSpeech's 22 labels, CoNLL-2003 "mentions a person/location/..."; label names
# paraphrased; scripts/gliclass/mixture.py), 1 epoch, label vectors averaged over their words
# (--class-token-pooling average) and lr 3e-5 encoder / 1e-4 heads, then AG News test (1,520 items,
# its 4 labels never seen) with 0, 1, 2 and 4 examples per label in the input (titles only).
exp-gliclass-zeroshot: build models exp-gliclass-data
	python3 scripts/gliclass/mixture.py ../shared/data $(AGN)
	$(GLICLASS) train --model $(MINILM) --data $(AGN)/mixture.jsonl --epochs 1 --max-length 512 \
	  --class-token-pooling average --encoder-lr 3e-5 --lr 1e-4 \
	  --threads 1 --checkpoint-every 100 --quiet --resume --out $(GLICLASS_EXP)/mixture-avg
	@for k in 0 1 2 4; do \
	  python3 scripts/gliclass/fewshot.py $(AGN) $$k > $(AGN)/fewshot-$$k.jsonl; \
	  printf '{"examples_per_label": %s, "scores": ' $$k; \
	  $(GLICLASS) evaluate --model $(GLICLASS_EXP)/mixture-avg --data $(AGN)/fewshot-$$k.jsonl --single-label --threads 1 --max-length 512; echo '}'; \
	done | tee $(GLICLASS_EXP)/agnews-zeroshot.jsonl

# RL: the reference's PPO trainer (gliclass train --rl) from the zero-shot mixture model on 600 PTEC
# HateSpeech training items with all 22 labels as candidates (1 epoch, batch 8, 3 PPO updates per
# batch, constant lr 1e-5 encoder / 3e-5 heads); mean per-text F1 (samples F1, threshold 0.5) on 300
# held-out dev items before and after.
exp-gliclass-rl: exp-gliclass-zeroshot
	python3 scripts/gliclass/ptec.py ../shared/data $(AGN) 600
	$(GLICLASS) evaluate --model $(GLICLASS_EXP)/mixture-avg --data $(AGN)/ptec-dev.jsonl --threads 1 | tee $(GLICLASS_EXP)/ptec-rl-before.json
	$(GLICLASS) train --rl --model $(GLICLASS_EXP)/mixture-avg --data $(AGN)/ptec-rl-train.jsonl --eval $(AGN)/ptec-dev.jsonl \
	  --epochs 1 --max-length 512 --threads 1 --quiet --resume --out $(GLICLASS_EXP)/ptec-rl
	$(GLICLASS) evaluate --model $(GLICLASS_EXP)/ptec-rl --data $(AGN)/ptec-dev.jsonl --threads 1 | tee $(GLICLASS_EXP)/ptec-rl-after.json
