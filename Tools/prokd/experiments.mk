# prokd's experiments (Tools/prokd/README.md): English CoNLL-2003 → Spanish and Dutch CoNLL-2002 with
# multilingual-e5-small, at CPU scale: the first $(PROKD_N) English training sentences (labelled), the
# first $(PROKD_N) target training sentences (tags never read), 2 epochs of batch 16 at lr 1e-4 for
# every model, the last epoch kept (no target labels for selection), the target test sets (testb)
# scored once. Included by the top Makefile (BINDIR, E5). One thread per run: `make -j2 exp-prokd`.
#
#   direct   teacher, cross-entropy on English only               (a) direct transfer
#   tsl      student of `direct`, distillation only               (b) TSL
#   cpa      teacher with prototype alignment to the language     (c)
#   prokd    student of `cpa` with prototypical self-training     (d) ProKD
#   nocpa    student of `direct` with self-training               (ablation: − CPA)
#   nopst    student of `cpa`, distillation only                  (ablation: − PST)
#   tslfresh student of `direct` from the pretrained encoder          (TSL exactly: a fresh student)
PROKD_EXP    = results/prokd
PROKD        = $(BINDIR)/prokd
CONLL2003    ?= ../shared/data/conll/conll2003
CONLL2002    ?= ../shared/data/conll/conll2002
PROKD_MODEL  ?= $(E5)
PROKD_SEEDS  ?= 0 1 2
PROKD_N      ?= 2000
# Teachers trained this briefly are not confident on the target: the seed-0 direct teacher's largest
# probability over 1,931 Spanish words (data/prokd/esp.train.100) averaged 0.80, none reached 0.9
# (unlabelled data only); at 0.5 only O passed in most steps (CPA needs two classes). The alignment
# therefore takes every target word at its argmax (the confidence filter is optional in the spec).
PROKD_CPA_THRESHOLD ?= 0
# A fresh student (TSL's) does not reach its teacher in 250 steps here (seed 0, Spanish: 18.2 F1 against
# the teacher's 54.4), so the students of the table start from their teacher (--from-teacher); the
# fresh student is the tslfresh row.
PROKD_STUDENT ?= --from-teacher
# Self-training at the default --pst-temperature 0.1 made the seed-0 Spanish ProKD student tag every
# word O (no entity predicted on the unlabelled target sentences; test F1 0.0): with cosine distances on
# these features the O prototype weighs most for nearly every word, and the relabelled words pull the
# student to O. At τ = 1 the prototype weights rarely overturn the teacher (0 of 1,623 self-trained words relabelled in one epoch on
# data/prokd/esp.train.100, against 59 of 1,697 at τ = 0.1) and PST is mostly confident self-training.
PROKD_PST ?= --pst --pst-temperature 1
PROKD_TRAIN  = --epochs 2 --train-batch 16 --lr 1e-4 --threads 1 --quiet --resume --checkpoint-every 50
PROKD_TEST_es = $(CONLL2002)/esp.testb
PROKD_TEST_nl = $(CONLL2002)/ned.testb
PROKD_TARGET_es = $(CONLL2002)/esp.train
PROKD_TARGET_nl = $(CONLL2002)/ned.train

.PHONY: exp-prokd exp-prokd-table

# A finished training run is marked by <dir>/done (prokd.json is written after every epoch); its test score by <dir>/test-<lang>.json.
define prokd_seed
$(PROKD_EXP)/$(1)/direct/done: | build models
	$(PROKD) teacher --model $(PROKD_MODEL) --source $(CONLL2003)/eng.train --max-source $(PROKD_N) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/direct \
	  && touch $$@
$(foreach lang,es nl,
$(PROKD_EXP)/$(1)/cpa-$(lang)/done: | build models
	$(PROKD) teacher --model $(PROKD_MODEL) --source $(CONLL2003)/eng.train --max-source $(PROKD_N) --target $(PROKD_TARGET_$(lang)) --max-target $(PROKD_N) \
	  --cpa --cpa-threshold $(PROKD_CPA_THRESHOLD) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/cpa-$(lang) \
	  && touch $$@
$(PROKD_EXP)/$(1)/tsl-$(lang)/done: $(PROKD_EXP)/$(1)/direct/done
	$(PROKD) student --teacher $(PROKD_EXP)/$(1)/direct --target $(PROKD_TARGET_$(lang)) --max-target $(PROKD_N) $(PROKD_STUDENT) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/tsl-$(lang) \
	  && touch $$@
$(PROKD_EXP)/$(1)/nocpa-$(lang)/done: $(PROKD_EXP)/$(1)/direct/done
	$(PROKD) student --teacher $(PROKD_EXP)/$(1)/direct --target $(PROKD_TARGET_$(lang)) --max-target $(PROKD_N) $(PROKD_PST) $(PROKD_STUDENT) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/nocpa-$(lang) \
	  && touch $$@
$(PROKD_EXP)/$(1)/prokd-$(lang)/done: $(PROKD_EXP)/$(1)/cpa-$(lang)/done
	$(PROKD) student --teacher $(PROKD_EXP)/$(1)/cpa-$(lang) --target $(PROKD_TARGET_$(lang)) --max-target $(PROKD_N) $(PROKD_PST) $(PROKD_STUDENT) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/prokd-$(lang) \
	  && touch $$@
$(PROKD_EXP)/$(1)/nopst-$(lang)/done: $(PROKD_EXP)/$(1)/cpa-$(lang)/done
	$(PROKD) student --teacher $(PROKD_EXP)/$(1)/cpa-$(lang) --target $(PROKD_TARGET_$(lang)) --max-target $(PROKD_N) $(PROKD_STUDENT) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/nopst-$(lang) \
	  && touch $$@
$(PROKD_EXP)/$(1)/tslfresh-$(lang)/done: $(PROKD_EXP)/$(1)/direct/done
	$(PROKD) student --teacher $(PROKD_EXP)/$(1)/direct --target $(PROKD_TARGET_$(lang)) --max-target $(PROKD_N) --seed $(1) $(PROKD_TRAIN) --out $(PROKD_EXP)/$(1)/tslfresh-$(lang) \
	  && touch $$@
$(foreach sys,direct cpa-$(lang) tsl-$(lang) nocpa-$(lang) prokd-$(lang) nopst-$(lang) tslfresh-$(lang),
$(PROKD_EXP)/$(1)/$(sys)/test-$(lang).json: $(PROKD_EXP)/$(1)/$(sys)/done
	$(PROKD) eval --model $(PROKD_EXP)/$(1)/$(sys) --data $(PROKD_TEST_$(lang)) --threads 1 > $$@.tmp && mv $$@.tmp $$@
PROKD_TESTS += $(PROKD_EXP)/$(1)/$(sys)/test-$(lang).json
))
endef
$(foreach seed,$(PROKD_SEEDS),$(eval $(call prokd_seed,$(seed))))

exp-prokd: $(PROKD_TESTS)
	$(MAKE) exp-prokd-table

exp-prokd-table:
	python3 scripts/prokd/table.py $(PROKD_EXP)
