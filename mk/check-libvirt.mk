# make check-libvirt: the documented libvirt domain
# (docs/system/devices/amdkfd-mc-libvirt.xml) validated with libvirt's
# schema and booted through virt-qemu-run with our QEMU and the guest
# products of check-guest; the guest's isolation test must pass.  Installs
# Debian's libvirt when run as root.  See tests/vm/libvirt/README.md.
# Included from the top Makefile, which provides QEMU_BIN and
# AMDKFD_MC_CACHE.
AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
QEMU_BIN ?= $(CURDIR)/build/qemu/qemu-system-x86_64

.PHONY: check-libvirt
check-libvirt:
	QEMU_BIN="$(QEMU_BIN)" AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		sh tests/vm/libvirt/check-libvirt.sh
