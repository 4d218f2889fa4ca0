# check-kernel: verification rung 4 (docs/devel/amdkfd-mc.rst, Tests).
#
# Builds the patched Linux 6.12 amdgpu.ko from kernel-patches/linux-6.12
# (cached by series content), boots Debian's matching 6.12 kernel under TCG
# with $(QEMU_BIN) and runs tests/kfd in it; boots the stock 6.12 modules as
# negative control (must fail the isolation checks). Then runs the same
# program on Debian's Linux 7.x from sid with a test-only helper module:
# stock 7.x (must fail the checks of the 7.x defects that
# kernel-patches/linux-7.x fixes, and agree with patched 6.12 on all others)
# and 7.x with the fixed amdgpu.ko built from kernel-patches/linux-7.x
# (cached; must pass and agree on every check). Set SKIP_7X=1 to leave out
# the 7.x runs (they then count as a failed check).
#
# check-kernel-long: the exhaustion checks (create contexts until the kernel
# refuses; kfd-conformance --long) on patched 6.12, stock 7.x (control) and
# fixed 7.x. Creating 65535 contexts on 7.x takes 18 to 55 minutes per run
# under TCG (its create cost grows with the number of contexts), so this is
# not part of check-kernel or make check: one to two and a half hours.
# SKIP_STOCK_7X=1 leaves out the stock 7.x run (named as skipped), to check
# the fixed side alone.
#
# Expects QEMU_BIN; AMDKFD_MC_CACHE defaults to $(HOME)/.cache/amdkfd-mc.
# Downloads and build products live under $(AMDKFD_MC_CACHE)/kernel.

AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
CHECK_KERNEL_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/..

.PHONY: check-kernel check-kernel-long
check-kernel:
	@test -n "$(QEMU_BIN)" || { echo "check-kernel: QEMU_BIN is not set"; exit 1; }
	AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		$(CHECK_KERNEL_DIR)/tests/vm/kernel/check-kernel.sh "$(abspath $(QEMU_BIN))"

check-kernel-long:
	@test -n "$(QEMU_BIN)" || { echo "check-kernel-long: QEMU_BIN is not set"; exit 1; }
	AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		$(CHECK_KERNEL_DIR)/tests/vm/kernel/check-kernel.sh --long "$(abspath $(QEMU_BIN))"
