#!/bin/sh
# host-contexts: create+destroy cycles per second of real secondary KFD
# contexts through -device amdkfd-mc,backend=host inside the patched-kernel
# VM (tests/vm/kernel/), vs. the same cycles made directly on /dev/kfd in
# that VM.
#
# This needs "host backend in the VM" plumbing (verification rung 5), which
# belongs to tests/vm/kernel/: an initramfs holding QEMU (the binary, its
# shared libraries and the pc firmware) and a qtest client, booted on the
# patched 6.12 amdgpu.  Until a script for that exists this prints the
# figure as unavailable with what is missing; see docs/performance.rst.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kdir=$top/tests/vm/kernel

# The plumbing announces itself by booting the device with backend=host
found=$(grep -l 'backend=host' "$kdir"/*.sh "$kdir"/*.py 2>/dev/null | head -n 1 || true)
if [ -z "$found" ]; then
	echo "host-contexts: unavailable (no backend=host run in the patched-kernel VM yet: tests/vm/kernel/ packs only busybox, amdgpu and tests/kfd into its initramfs, not QEMU with its libraries and firmware nor a qtest client; tests/kfd has no create+destroy cycle mode)"
	exit 0
fi
echo "host-contexts: unavailable (found $found, but tests/bench does not drive it yet)"
exit 0
