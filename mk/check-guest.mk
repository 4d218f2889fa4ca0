# make check-guest: guest end-to-end tests of amdkfd-mc (rung 3).
# Included from the top Makefile, which provides QEMU_BIN and
# AMDKFD_MC_CACHE.  Boots Debian's 6.12 kernel under multi-threaded TCG with
# our QEMU, -device amdkfd-mc,backend=sim and the guest driver; see
# tests/vm/guest/check-guest.sh.
#
#   make check-guest CHECK_GUEST_RUNS=50   repeat it and tally assertions,
#                                          hangs and failures (summary in
#                                          build/guest/loop/summary.txt)
AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
QEMU_BIN ?= $(CURDIR)/build/qemu/qemu-system-x86_64
CHECK_GUEST_RUNS ?= 1

.PHONY: check-guest guest-driver
check-guest:
ifeq ($(CHECK_GUEST_RUNS),1)
	QEMU_BIN="$(QEMU_BIN)" AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		sh tests/vm/guest/check-guest.sh
else
	QEMU_BIN="$(QEMU_BIN)" AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		sh tests/vm/guest/check-guest-loop.sh $(CHECK_GUEST_RUNS)
endif

# The driver, the guest programs and the initramfs, without booting
guest-driver:
	AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" sh tests/vm/guest/build.sh
