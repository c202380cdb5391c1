# pgreconciler — a GitOps reconciler for PostgreSQL fleets.
#
#   make demo   the main job on a throwaway local primary + replica
#   make test   every test, against real PostgreSQL, sshd, git and gpg
#
# Both install what a fresh Debian machine lacks (scripts/install-deps.sh).

GO       ?= go
BIN      := bin/reconciler
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...
# Seconds each fuzz target runs in `make test` (its seed corpus always runs).
FUZZTIME ?= 10s

export PATH := $(PATH):/usr/local/go/bin

.PHONY: help build test demo bench lint fmt deps fuzz clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/reconciler (static, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reconciler

deps: ## install missing system packages (PostgreSQL 15, openssh-server, gpg, promtool, systemd-nspawn …)
	@scripts/install-deps.sh

test: deps lint ## run every test (installs what is missing first)
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(MAKE) --no-print-directory fuzz

fuzz: ## run each fuzz target for FUZZTIME
	@set -e; for t in $$(grep -rl --include='*_test.go' '^func Fuzz' internal cmd | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$t $$f ($(FUZZTIME))"; \
	    log=$$(mktemp); \
	    if ! $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) ./$$t >$$log 2>&1; then cat $$log; rm -f $$log; exit 1; fi; \
	    rm -f $$log; \
	  done; \
	done

demo: deps build ## run the reconciler against a throwaway primary + replica (DEMO_KEEP=1 keeps it running)
	@$(GO) run ./scripts/demo --bin $(BIN) --dir .demo --examples examples/repo

bench: ## run the benchmarks (figures go in BENCHMARKS.md)
	$(GO) test -run='^$$' -bench=. -benchmem -timeout 60m $(PKGS)

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build and demo leftovers
	rm -rf bin .demo
