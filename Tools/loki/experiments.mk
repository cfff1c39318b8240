# loki's experiments (Tools/loki/README.md): the paper's grid experiment, active selection on random
# trees, Fashion-MNIST with a class tree and with a metric from `embed` of the class names, zero-shot
# text through embed. Included by the top Makefile, which defines BINDIR, MINILM and LOKI.
# Outputs go to results/loki/; the large intermediates (records of features and probabilities) are
# kept out of git by results/loki/.gitignore.
LOKI_EXP = results/loki
FASHION  = /usr/share/datasets/fashion-mnist

.PHONY: exp-loki exp-loki-grid exp-loki-select exp-loki-fashion exp-loki-zeroshot

exp-loki: build exp-loki-grid exp-loki-select exp-loki-fashion exp-loki-zeroshot

# 100 classes on a 10x10 grid (Euclidean metric), Gaussian features (sigma 0.4) around the grid points;
# softmax regression on the 9 classes at rows/columns 1, 4, 7; evaluated on all 100. Seed 1 in full,
# then the E[d²] reduction for data seeds 1-5.
exp-loki-grid: build
	@mkdir -p $(LOKI_EXP)/grid
	@for s in 1 2 3 4 5; do \
	  d=$(LOKI_EXP)/grid/seed-$$s; mkdir -p $$d; \
	  $(LOKI) synth grid --per-class 200 --sigma 0.4 --seed $$s --metric-out $$d/metric.jsonl --observed-out $$d/observed.txt > $$d/train.jsonl; \
	  $(LOKI) synth grid --per-class 100 --sigma 0.4 --seed $$((s + 100)) > $$d/test.jsonl; \
	  $(LOKI) fit --observed $$d/observed.txt --epochs 50 --lr 0.01 --seed $$s --out $$d/model --quiet --overwrite < $$d/train.jsonl; \
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
	$(LOKI) fit --observed $(LOKI_EXP)/fashion/observed.txt --epochs 10 --lr 0.001 --seed 1 --out $(LOKI_EXP)/fashion/model --quiet --overwrite < $(LOKI_EXP)/fashion/train.jsonl
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
	  --out $(LOKI_EXP)/fashion/model-loki --quiet --overwrite < $(LOKI_EXP)/fashion/train.jsonl
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
