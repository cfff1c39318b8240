# The toolkit's workflows. `make demo` and `make test` are the two set-up commands of the README.
# Everything builds in release mode with -enable-testing, so `make build`, `make test` and
# `make bench` share one build folder (debug builds run numeric code 10-50x slower).

SWIFT      ?= swift
SWIFTFLAGS ?= -c release -Xswiftc -enable-testing
PREFIX     ?= /usr/local
BINDIR      = $(shell $(SWIFT) build $(SWIFTFLAGS) --show-bin-path 2>/dev/null)
PYTHON     ?= $(shell [ -x .refenv/bin/python ] && echo .refenv/bin/python || echo python3)
PROGRAMS    =

.PHONY: build test bench models demo install clean refenv

build:
	$(SWIFT) build $(SWIFTFLAGS)

test: models
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	$(SWIFT) test $(SWIFTFLAGS) --skip-build

bench: build
	REFPYTHON=$(PYTHON) $(BINDIR)/runtime-bench

# Later issues add the models their programs need (from the package registries) into data/models/.
models:
	@mkdir -p data/models

demo: build models
	@echo "no programs yet: the runtime is in place (see README)"

install: build
	install -d $(PREFIX)/bin
	for p in $(PROGRAMS); do install -m 755 $(BINDIR)/$$p $(PREFIX)/bin/; done

# The PyTorch + Hugging Face reference environment for fixtures and benchmarks (kept out of git).
refenv:
	python3 -m venv .refenv
	# the CPU build of torch is named explicitly: a bare `torch` pulls a 5 GB CUDA build
	.refenv/bin/pip install -q "torch==2.13.0+cpu" \
	  transformers safetensors tokenizers sentence-transformers accelerate gguf numpy pillow scikit-image

clean:
	rm -rf .build
