# amdkfd-mc: build orchestration
#
#   make demo     build, then show isolated guest contexts on the sim backend
#   make check    build everything and run every test
#
# QEMU comes from Debian's qemu source package, extracted into build/ and
# overlaid with this repository's files.  Downloads and the compiler cache
# live in $(AMDKFD_MC_CACHE), outside the work tree.
#
# QEMU_SERIES picks the QEMU line that make qemu, qemu-asan, demo and the
# VM suites use: 10 (the default) is Debian trixie's 10.0.x in build/qemu,
# 11 is sid's 11.x in build/qemu11.  make check tests both lines: the
# qtests and unit tests also run in a plain 11.x build without TCG
# (make qemu11, in build/qemu11-qtest).

AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
export AMDKFD_MC_CACHE

TOP := $(CURDIR)
BUILD := $(TOP)/build
QEMU_SERIES ?= 10
export QEMU_SERIES
QEMU_DIR := qemu$(filter-out 10,$(QEMU_SERIES))
QEMU_SRC := $(BUILD)/$(QEMU_DIR)-src
QEMU_BUILD := $(BUILD)/$(QEMU_DIR)
QEMU_ASAN_BUILD := $(BUILD)/$(QEMU_DIR)-asan
QEMU11_SRC := $(BUILD)/qemu11-src
QEMU11_BUILD := $(BUILD)/qemu11-qtest
QEMU_BIN := $(QEMU_BUILD)/qemu-system-x86_64
QEMU_ASAN_BIN := $(QEMU_ASAN_BUILD)/qemu-system-x86_64
export QEMU_BIN QEMU_BUILD

# ccache through Debian's masquerade directory; paths are made relative to
# the work tree so that every clone shares one cache.
export PATH := /usr/lib/ccache:$(PATH)
export CCACHE_DIR := $(AMDKFD_MC_CACHE)/ccache
export CCACHE_BASEDIR := $(TOP)
export CCACHE_NOHASHDIR := 1
export CCACHE_MAXSIZE := 5G

# Firmware of the x86 machines comes from Debian's packages.
export FIRMWARE_PATH := /usr/share/seabios:/usr/lib/ipxe/qemu:/usr/share/qemu
export QEMU_SRC

.PHONY: all deps qemu qemu-asan qemu11 check demo clean distclean

all: qemu

deps:
	@scripts/install-deps.sh

# ninja decides what is out of date, so these always run.
qemu: deps
	@scripts/build-qemu.sh $(QEMU_BUILD)

# The plain build of the 11.x line, whatever QEMU_SERIES says.  Only
# qtests and unit tests run in it, so it leaves out TCG like qemu-asan
# (a shorter cold build).
qemu11: deps
	@QEMU_SERIES=11 QEMU_SRC=$(QEMU11_SRC) scripts/build-qemu.sh $(QEMU11_BUILD) \
		--disable-tcg --enable-kvm

# The sanitizer build runs only qtests and the fuzzers, which need no TCG:
# leaving it out shortens a cold build a lot (KVM is the accelerator QEMU
# then requires to be built; the qtests use none).  It is clang's with
# libFuzzer's coverage hooks, so that one build serves the ASan/UBSan
# qtests and qemu-fuzz-x86_64 (mk/fuzz.mk).
qemu-asan: deps
	@scripts/build-qemu.sh $(QEMU_ASAN_BUILD) --cc=clang --cxx=clang++ \
		--host-cc=clang --enable-fuzzing --enable-asan --enable-ubsan \
		--disable-tcg --enable-kvm

# Rungs 3 to 5 of the verification ladder and the libvirt boot: VM tests
# with their own summary lines (mk/check-*.mk).
include mk/check-guest.mk
include mk/check-kernel.mk
include mk/check-host.mk
include mk/check-libvirt.mk
include mk/check-rocm.mk
include mk/fuzz.mk
include mk/bench.mk

VM_SUITES := "$(MAKE) -s --no-print-directory check-guest" \
	"$(MAKE) -s --no-print-directory check-kernel" \
	"$(MAKE) -s --no-print-directory check-host" \
	"$(MAKE) -s --no-print-directory check-libvirt" \
	"$(MAKE) -s --no-print-directory check-rocm" \
	"tests/fuzz/run.sh smoke"

# Every test is run by scripts/run-tests.sh, which prints one result line
# per test and the summary line.
check: qemu qemu-asan qemu11
	@QEMU11_BUILD=$(QEMU11_BUILD) \
		scripts/run-tests.sh $(QEMU_BUILD) $(QEMU_ASAN_BUILD) $(VM_SUITES)

# Boots a small guest with the sim backend: three programs, one attacker.
demo: qemu
	@QEMU_BIN=$(QEMU_BIN) sh tests/vm/guest/demo.sh

clean:
	rm -rf $(QEMU_BUILD) $(QEMU_ASAN_BUILD) $(QEMU11_BUILD)

distclean:
	rm -rf $(BUILD)
