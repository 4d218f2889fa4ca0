# Fuzzing of amdkfd-mc (docs/devel/amdkfd-mc-fuzzing.rst)
#
#   make fuzz                   both fuzzers, FUZZ_SECONDS in all (600)
#   make fuzz FUZZ_SECONDS=N    a longer (or shorter) campaign
#   make fuzz-smoke             the in-tree corpus through every target and
#                               a short run of each fuzzer (make check's)
#   make fuzz-build             only the libFuzzer build of QEMU
#   make fuzz-seeds             write tests/fuzz/corpus/ anew
#
# qemu-fuzz-x86_64 comes from the sanitizer build (clang, libFuzzer's
# coverage hooks, ASan and UBSan; the top Makefile's qemu-asan), so the
# fuzzers cost no build of their own.

QEMU_FUZZ_BIN := $(QEMU_ASAN_BUILD)/qemu-fuzz-x86_64
FUZZ_SECONDS ?= 600
FUZZ_OUT ?= $(BUILD)/fuzz
export QEMU_FUZZ_BIN FUZZ_SECONDS FUZZ_OUT

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-seeds

fuzz-build: qemu-asan

fuzz: fuzz-build
	@tests/fuzz/run.sh campaign

fuzz-smoke: fuzz-build
	@tests/fuzz/run.sh smoke

fuzz-seeds: fuzz-build
	@tests/fuzz/run.sh seeds
