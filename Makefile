# The two commands of the README: `make demo` and `make test`. Both install what
# is missing (Debian packages, the Go-built control plane) and are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PRESET ?= ci
BUILD_DIR := build/$(PRESET)
PLANE := test/controlplane
CTEST_ARGS ?=
JOBS ?= 2

FUZZ_SECONDS ?= 300

.PHONY: help deps build fuzz-build fuzz plugin-install plane-build plane-up plane-down plane-status unit test integration demo bench bench-peer bench-mass bench-soak bench-restart chaos asan tsan clean lint

help:
	@echo "make demo   - start the local control plane, run the operator, show a blue -> green release"
	@echo "make test   - every test (unit, component, control plane, integration, e2e)"
	@echo "make unit   - the fast loop: unit + component tests"
	@echo "make bench  - benchmarks (print figures)"
	@echo "make bench-peer - this operator and Argo Rollouts side by side on a private plane (builds Argo Rollouts; BGO_PEER_SIZES=1,100,1000)"
	@echo "make bench-soak - 10,000 releases processed back to back on a private plane: RSS slope, threads, sockets (BGO_SOAK_RELEASES=100 BGO_SOAK_TARGET=10000)"
	@echo "make bench-restart - the operator restarted over 1,000 / 5,000 / 10,000 settled releases: RSS, peak, start-up (BGO_RESTART_SIZES)"
	@echo "make bench-mass - 1,000 releases promoted at once -> main routes switched, on a private plane with an audit log (BGO_MASS_RELEASES=1000 BGO_MASS_WORKERS=2)"
	@echo "make plugin-install [PREFIX=/usr/local] - build kubectl-bluegreen and put it in PREFIX/bin"
	@echo "make chaos  - releases under faults on a private plane, with invariant checks (~9 min; CHAOS_ARGS=...)"
	@echo "make asan | tsan - unit + component tests under sanitizers"
	@echo "make fuzz   - every libFuzzer target for FUZZ_SECONDS each (default 300; make test runs 20 s each)"
	@echo "make plane-up | plane-down | plane-status - the local control plane"

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# libFuzzer targets: clang, ASan+UBSan, only the libraries they link.
fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target fuzz_all

fuzz: fuzz-build
	@scripts/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

# The kubectl plugin onto PATH: PREFIX/bin/kubectl-bluegreen (`kubectl bluegreen ...`).
PREFIX ?= /usr/local
plugin-install: build
	@cmake --install $(BUILD_DIR) --component plugin --prefix $(PREFIX) --strip
	@echo "installed $(PREFIX)/bin/kubectl-bluegreen: try kubectl bluegreen --help"

plane-build: deps
	@$(PLANE)/build.sh

plane-up: plane-build
	@$(PLANE)/start.sh

plane-down:
	@$(PLANE)/stop.sh

plane-status:
	@$(PLANE)/status.sh

unit: build
	@ctest --test-dir $(BUILD_DIR) -L '^(unit|component)$$' --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Every test against the real control plane. A plane this target started is
# stopped at the end; one that was already running is left running.
# One build after another: side by side (make -j3) the cold builds took 27.8 min against 26.4 min for
# the pieces measured one at a time (both compilers keep the two cores busy on their own).
test: build fuzz-build plane-build
	@scripts/run-tests.sh $(BUILD_DIR) $(CTEST_ARGS)

demo: build plane-build
	@scripts/demo.sh $(BUILD_DIR)

bench: build plane-up
	@scripts/run-bench.sh $(BUILD_DIR)

# Not part of `make test`: the only target that builds Argo Rollouts (docs/performance.md).
bench-peer: build plane-build
	@scripts/run-bench-peer.sh $(BUILD_DIR)

# Not part of `make test`: 1,000 releases promoted at once (issue 14, item 5; ~20 min on 2 cores).
bench-mass: build plane-build
	@scripts/run-bench-mass.sh $(BUILD_DIR)

# Not part of `make test`: the soak (issue 14, item 6; ~1 h on 2 cores).
bench-soak: build plane-build
	@scripts/run-bench-soak.sh $(BUILD_DIR)

# Not part of `make test`: memory at 10,000 settled releases (issue 14, item 4; ~30 min on 2 cores).
bench-restart: build plane-build
	@scripts/run-bench-restart.sh $(BUILD_DIR)

# Releases under faults (test/chaos; results in docs/reliability.md). Not part of `make test`, which runs
# a short variant (ctest chaos.short). Needs only the operator binary. CHAOS_ARGS passes flags to the
# runner (e.g. --rounds 10).
CHAOS_ARGS ?=
chaos: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS) --target bluegreen-operator
	@test/chaos/run.sh --operator $(BUILD_DIR)/operator/bluegreen-operator $(CHAOS_ARGS)

asan:
	@$(MAKE) --no-print-directory unit PRESET=asan

tsan:
	@$(MAKE) --no-print-directory unit PRESET=tsan

clean:
	rm -rf build/ci build/dev build/asan build/tsan build/release
