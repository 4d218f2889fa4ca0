# Fuzzing of amdkfd-mc (docs/devel/amdkfd-mc-fuzzing.rst)
#
#   make fuzz                   both fuzzers, FUZZ_SECONDS in all (600)
#   make fuzz FUZZ_SECONDS=N    a longer (or shorter) campaign
#   make fuzz-smoke             the in-tree corpus through every target and
#                               a short run of each fuzzer (make check's)
#   make fuzz-build             only the libFuzzer build of QEMU
#   make fuzz-seeds             write tests/fuzz/corpus/ anew
#
# The fuzz build is a QEMU build of its own (clang, libFuzzer, ASan and
# UBSan) in $(QEMU_FUZZ_BUILD), cached with ccache like the others.

QEMU_FUZZ_BUILD := $(BUILD)/qemu-fuzz
QEMU_FUZZ_BIN := $(QEMU_FUZZ_BUILD)/qemu-fuzz-x86_64
FUZZ_SECONDS ?= 600
FUZZ_OUT ?= $(BUILD)/fuzz
export QEMU_FUZZ_BIN FUZZ_SECONDS FUZZ_OUT

# clang's libFuzzer and sanitizer runtimes, llvm-symbolizer for reports
FUZZ_DEPS := clang libclang-rt-14-dev llvm-14

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-seeds

fuzz-build:
	@scripts/install-deps.sh $(FUZZ_DEPS)
	@nice tests/fuzz/build.sh $(QEMU_FUZZ_BUILD)

fuzz: fuzz-build
	@tests/fuzz/run.sh campaign

fuzz-smoke: fuzz-build
	@tests/fuzz/run.sh smoke

fuzz-seeds: fuzz-build
	@tests/fuzz/run.sh seeds
