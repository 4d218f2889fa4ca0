# make check-rocm: Debian's unmodified ROCm user space in the guest of
# check-guest (rocminfo 5.2.3 from bookworm and 7.x from sid, HSA
# programs as owners and attacker, a HIP probe), on backend=sim; see
# tests/vm/rocm/check-rocm.sh.  Included from the top Makefile, which
# provides QEMU_BIN and AMDKFD_MC_CACHE.  The packages are downloaded
# once into $(AMDKFD_MC_CACHE)/rocm.
AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
QEMU_BIN ?= $(CURDIR)/build/qemu/qemu-system-x86_64

.PHONY: check-rocm rocm-guest
check-rocm:
	QEMU_BIN="$(QEMU_BIN)" AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		sh tests/vm/rocm/check-rocm.sh

# The ROCm roots, the programs and the initramfs, without booting
rocm-guest:
	AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" sh tests/vm/rocm/build.sh
