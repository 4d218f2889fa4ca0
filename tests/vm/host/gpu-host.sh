#!/bin/sh
# On a host with an AMD GPU and a multi-context KFD (Linux >= 7.0, or 6.12
# with kernel-patches/linux-6.12): the checks that the GPU-less VM of
# check-host.sh cannot make.  Run as a user that may open /dev/kfd and the
# GPU's render node (group render), after make qemu:
#
#   tests/vm/host/gpu-host.sh [QEMU_BUILD]
#
# Runs tests/kfd (the KFD itself) and then akmc-host-qtest patched gpu
# (the device with backend=host on this KFD: contexts, events, event
# pages, reset, hot-unplug; ACQUIRE_VM per context, GTT memory in the
# window, the same GPU VA in two contexts, handles, an SDMA queue and its
# doorbell, destroy and reset with GPU state).  Prints one line per check
# and "N passed, N failed"; exits non-zero on failure.  Nothing is
# installed; products go to build/host/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qb=$(cd "${1:-${QEMU_BUILD:-$top/build/qemu}}" && pwd) || exit 1
out=$top/build/host
mkdir -p "$out"
for f in /dev/kfd /sys/class/kfd/kfd/topology/nodes; do
	[ -e "$f" ] || { echo "gpu-host: $f is missing (amdgpu not loaded?)"; exit 1; }
done
[ -r /dev/kfd ] && [ -w /dev/kfd ] ||
	{ echo "gpu-host: no read/write access to /dev/kfd (group render?)"; exit 1; }
client=$("$top/scripts/build-qtest-client.sh" "$qb" "$out" "$top/tests/host/akmc-host-qtest.c") || exit 1
make -s -C "$top/tests/kfd" O="$out" || exit 1
echo "gpu-host: $(uname -r); GPUs in the KFD topology:" \
	"$(grep -l -v '^0$' /sys/class/kfd/kfd/topology/nodes/*/gpu_id 2>/dev/null | wc -l)"
echo "== tests/kfd"
"$out/kfd-conformance"
crc=$?
echo "== akmc-host-qtest patched gpu"
QTEST_QEMU_BINARY=$qb/qemu-system-x86_64 "$client" patched gpu
rc=$?
echo "gpu-host: tests/kfd exit $crc, akmc-host-qtest exit $rc"
[ $crc -eq 0 ] && [ $rc -eq 0 ]
