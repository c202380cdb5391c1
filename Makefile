# pgreconciler — a GitOps reconciler for PostgreSQL fleets.
#
#   make demo          the main job on a throwaway local primary + replica
#   make test          every test, against real PostgreSQL, sshd, git and gpg
#                      (PostgreSQL 18), and the version-sensitive ones on 13-17
#   make test-matrix   every test on every PostgreSQL major, 13 to 18
#   make test-chaos    the fault suite, long: CHAOS_ITERATIONS seeded runs of each fault
#
# Both install what a fresh Debian machine lacks (scripts/install-deps.sh).

GO       ?= go
BIN      := bin/reconciler
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...
# Inputs each fuzz target tries in `make test` (its seed corpus always runs).
# A count, not a duration: with a duration, Go's fuzz coordinator can fail a
# target at the deadline having found nothing (go.dev/issue/75804, fixed in
# Go 1.27) when the machine is busy.
FUZZTIME ?= 50000x

# PostgreSQL majors. The whole suite runs on PGRECONCILER_PG_VERSION
# (Pigsty v4's default, 18); `make test` runs the version-sensitive tests
# on every other major of PGRECONCILER_PG_VERSIONS too, `make test-matrix`
# everything on each. `make deps` installs them all (internal/testenv reads
# PGRECONCILER_PG_VERSION; a major that is not installed is an error).
PGRECONCILER_PG_VERSION  ?= 18
PGRECONCILER_PG_VERSIONS ?= 13 14 15 16 17 18
# The version-sensitive tests: whole packages (catalog reads, apply, the
# HBA, parameter and SCRAM oracles, the dialer, the CLI against a server,
# drift's change log) and, in VERSIONED_RUN_PKGS, the tests VERSIONED_RUN
# names (full round trips: converge, idempotence, parameters judged by the
# server, Pigsty's databases; the daemon's scheduling is not version-sensitive).
VERSIONED_PKGS     := ./internal/testenv ./internal/inspect ./internal/apply ./internal/hba ./internal/pgconf \
                      ./internal/scram ./internal/dbconn ./internal/drift ./cmd/reconciler
VERSIONED_RUN_PKGS := ./internal/reconcile
VERSIONED_RUN      := ^Test(ConvergeThenDrift|ConvergedApplyIsQuiet|FutureModificationTimes|ParametersJudgedByServer|DatabasesAsPigstyMakesThem|DatabaseWithoutDbroleAdmin|LocaleProviders|CreateroleReconciler|HBAInclude|MD5Deprecated)$$

export PATH := $(PATH):/usr/local/go/bin

.PHONY: help build test test-matrix test-chaos demo demo-ha bench bench-fleet bench-peers lint fmt deps fuzz clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/reconciler (static, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reconciler

deps: ## install what is missing: system packages (openssh-server, gpg, promtool, systemd-nspawn …), PostgreSQL 13-18
	@PGRECONCILER_PG_VERSIONS="$(sort $(PGRECONCILER_PG_VERSIONS) $(PGRECONCILER_PG_VERSION))" scripts/install-deps.sh

test: deps lint ## every test on PostgreSQL 18, the version-sensitive ones on 13-17 too, then the fuzz targets
	PGRECONCILER_PG_VERSION=$(PGRECONCILER_PG_VERSION) $(GO) test -count=1 -timeout 20m $(PKGS)
	@failed=; for v in $(PGRECONCILER_PG_VERSIONS); do \
	  [ "$$v" = "$(PGRECONCILER_PG_VERSION)" ] && continue; \
	  echo "== PostgreSQL $$v: the version-sensitive tests"; \
	  PGRECONCILER_PG_VERSION=$$v $(GO) test -count=1 -timeout 20m $(VERSIONED_PKGS) || failed="$$failed $$v"; \
	  PGRECONCILER_PG_VERSION=$$v $(GO) test -count=1 -timeout 20m -run '$(VERSIONED_RUN)' $(VERSIONED_RUN_PKGS) || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "version-sensitive tests failed on PostgreSQL:$$failed"; exit 1; fi
	$(MAKE) --no-print-directory fuzz

test-matrix: deps lint ## every test on every PostgreSQL major of PGRECONCILER_PG_VERSIONS, then the fuzz targets
	@failed=; for v in $(PGRECONCILER_PG_VERSIONS); do \
	  echo "== PostgreSQL $$v: every test"; \
	  PGRECONCILER_PG_VERSION=$$v $(GO) test -count=1 -timeout 20m $(PKGS) || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "tests failed on PostgreSQL:$$failed"; exit 1; fi
	$(MAKE) --no-print-directory fuzz

# The fault suite (internal/chaos, docs/faults.md): `make test` runs each
# fault once on a small spec; this runs CHAOS_ITERATIONS seeded runs of
# each on CHAOS_ROLES roles. Every run prints its seed; CHAOS_SEED=<seed>
# CHAOS_ITERATIONS=1 replays one.
CHAOS_ITERATIONS ?= 25
CHAOS_ROLES      ?= 500
test-chaos: deps ## the fault suite, long: kills, server restarts, network cuts, a full state directory (CHAOS_ITERATIONS, CHAOS_ROLES, CHAOS_SEED)
	CHAOS_ITERATIONS=$(CHAOS_ITERATIONS) CHAOS_ROLES=$(CHAOS_ROLES) PGRECONCILER_PG_VERSION=$(PGRECONCILER_PG_VERSION) \
	  $(GO) test -count=1 -v -timeout 6h ./internal/chaos/ ./internal/testenv/faultproxy/

fuzz: ## run each fuzz target for FUZZTIME inputs
	@set -e; for t in $$(grep -rl --include='*_test.go' '^func Fuzz' internal cmd | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$t $$f ($(FUZZTIME))"; \
	    log=$$(mktemp); \
	    if ! $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) ./$$t >$$log 2>&1; then cat $$log; rm -f $$log; exit 1; fi; \
	    rm -f $$log; \
	  done; \
	done

demo: deps build ## run the reconciler against a throwaway primary + replica (DEMO_KEEP=1 keeps it running, DEMO_PG_VERSION=16 picks the major)
	@$(GO) run ./scripts/demo --bin $(BIN) --dir .demo --examples examples/repo

demo-ha: deps build ## the reconciler following a Patroni switchover: etcd + two Patroni members on loopback, plan, apply, switchover, apply to the new leader
	@$(GO) run ./scripts/demo-ha --bin $(BIN) --dir .demo-ha

# The whole-process benchmark (scripts/bench): bin/reconciler run as a
# process on generated workloads against a throwaway server. BENCH_SIZES
# picks the workloads (1k, 10k, 50k roles), BENCH_RUNS the runs of each.
# `make bench-peers` runs the same scenarios with ldap2pg (LDAP2PG) too.
BENCH_SIZES ?= 1k,10k,50k
BENCH_RUNS  ?= 3
LDAP2PG     ?= /work/shared/peers/ldap2pg-6.6.0-linux-amd64

bench: build ## run the benchmarks: Go benchmarks, then whole-process wall time and peak RSS (figures go in BENCHMARKS.md)
	$(GO) test -run='^$$' -bench=. -benchmem -timeout 60m $(PKGS)
	$(GO) run ./scripts/bench --bin $(BIN) --sizes $(BENCH_SIZES) --runs $(BENCH_RUNS)

bench-peers: build ## the whole-process scenarios, reconciler and ldap2pg (binary from LDAP2PG) alternating, with ratios
	$(GO) run ./scripts/bench --bin $(BIN) --sizes $(BENCH_SIZES) --runs $(BENCH_RUNS) --peer $(LDAP2PG)

bench-fleet: deps ## the daemon against 10, 100 and 1,000 clusters on real servers (FLEETBENCH_SIZES, FLEETBENCH_SERVERS, FLEETBENCH_PROFILE); figures in BENCHMARKS.md
	$(GO) test -tags fleetbench -run '^TestFleetBench$$' -count=1 -v -timeout 90m ./internal/daemon/ | grep -v '^{'

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build and demo leftovers
	rm -rf bin .demo
