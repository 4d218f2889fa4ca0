# check-kernel: verification rung 4 (ARCHITECTURE.md section 4).
#
# Builds the patched Linux 6.12 amdgpu.ko from kernel-patches/linux-6.12
# (cached by series content), boots Debian's matching 6.12 kernel under TCG
# with $(QEMU_BIN) and runs tests/kfd in it; boots the stock 6.12 modules as
# negative control (must fail the isolation checks); runs the same program
# on Debian's Linux 7.x from sid with a test-only helper module as the
# upstream reference (results must agree). Set SKIP_7X=1 to leave out the
# reference (it then counts as a failed check).
#
# Expects QEMU_BIN; AMDKFD_MC_CACHE defaults to $(HOME)/.cache/amdkfd-mc.
# Downloads and build products live under $(AMDKFD_MC_CACHE)/kernel.

AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
CHECK_KERNEL_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/..

.PHONY: check-kernel
check-kernel:
	@test -n "$(QEMU_BIN)" || { echo "check-kernel: QEMU_BIN is not set"; exit 1; }
	AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		$(CHECK_KERNEL_DIR)/tests/vm/kernel/check-kernel.sh "$(abspath $(QEMU_BIN))"
