# make bench: performance figures of amdkfd-mc (project issue 7).
#
# Included from the top Makefile, which provides QEMU_BIN, QEMU_BUILD and
# AMDKFD_MC_CACHE.  Prints one line per figure, "name: value unit (ratio
# R)", plus "# " detail lines; see docs/performance.rst.  Benchmarks fail
# only when they cannot run, never on timing.  Products go to build/bench.
AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
QEMU_BUILD ?= $(CURDIR)/build/qemu
QEMU_BIN ?= $(QEMU_BUILD)/qemu-system-x86_64
BENCH_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/..

.PHONY: bench
bench: qemu
	@QEMU_BIN="$(abspath $(QEMU_BIN))" QEMU_BUILD="$(abspath $(QEMU_BUILD))" \
		AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		BENCH_BUILD="$(abspath $(BENCH_DIR))/build/bench" \
		sh $(BENCH_DIR)/tests/bench/run.sh
