# check-host: the check-host rung of the tests (docs/devel/amdkfd-mc.rst).
#
# Inside a TCG VM running Debian's Linux 6.12 with the PATCHED amdgpu.ko
# (tests/vm/kernel/, cached), runs $(QEMU_BIN) with -accel qtest and
# -device amdkfd-mc,backend=host under the qtest client
# tests/host/akmc-host-qtest.c: real secondary contexts in sysfs, events and
# event pages isolated between guest contexts, destroy, CONTROL.RESET and
# ACPI hot-unplug leave no context, mapping or fd behind.  Then boots the
# STOCK 6.12 amdgpu.ko: the device must refuse to realize (negative
# control).  Also prints the host-contexts figure for make bench.
#
# Expects QEMU_BIN and QEMU_BUILD (a tree where make qemu built
# tests/qtest/amdkfd-mc-test); AMDKFD_MC_CACHE defaults to
# $(HOME)/.cache/amdkfd-mc.  Products and logs: $(AMDKFD_MC_CACHE)/host.

AMDKFD_MC_CACHE ?= $(HOME)/.cache/amdkfd-mc
CHECK_HOST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/..

.PHONY: check-host
check-host:
	@test -n "$(QEMU_BIN)" || { echo "check-host: QEMU_BIN is not set"; exit 1; }
	@test -n "$(QEMU_BUILD)" || { echo "check-host: QEMU_BUILD is not set"; exit 1; }
	@AMDKFD_MC_CACHE="$(AMDKFD_MC_CACHE)" \
		$(CHECK_HOST_DIR)/tests/vm/host/check-host.sh \
		"$(abspath $(QEMU_BIN))" "$(abspath $(QEMU_BUILD))"
