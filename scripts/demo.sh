#!/bin/sh
# make demo: show, with the sim backend, that each guest program gets its
# own host KFD context, and what a hypervisor without multi-context does.
#
#   demo.sh QEMU_BUILD
set -eu
build=$1
echo "Starting QEMU: -machine q35 -device amdkfd-mc,backend=sim"
out=$(QTEST_QEMU_BINARY=$build/qemu-system-x86_64 \
	"$build/tests/qtest/amdkfd-mc-demo" 2>&1) || {
	echo "$out"
	echo "demo: FAILED" >&2
	exit 1
}
# Keep the narrative, drop the test protocol's bookkeeping.
echo "$out" | grep -v -E '^(# |ok |1\.\.|TAP version)'
echo "demo: OK"
