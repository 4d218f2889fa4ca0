#!/bin/sh
# host-contexts: create+destroy cycles per second of real secondary KFD
# contexts through -device amdkfd-mc,backend=host, inside the patched-kernel
# VM of make check-host, vs. the same cycles made directly on /dev/kfd in
# that VM.  check-host measures both in one boot and prints the figure.
#
# Environment: QEMU_BIN, QEMU_BUILD, AMDKFD_MC_CACHE.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
log=${BENCH_BUILD:-$top/build/bench}/host-contexts.log
mkdir -p "$(dirname "$log")"

"$top/tests/vm/host/check-host.sh" "$QEMU_BIN" "$QEMU_BUILD" >"$log" 2>&1 ||
	true
line=$(grep -E '^host-contexts: ' "$log" | tail -n 1)
if [ -z "$line" ]; then
	echo "host-contexts: unavailable (the patched-kernel VM did not report" \
		"the figure; see $log)"
	exit 0
fi
echo "$line"
grep -E '^# host-contexts' "$log" || true
for f in head-of-line-host command-throughput-host-get-version \
	command-throughput-host-set-event command-throughput-host-event-pair \
	event-wake-host context-scaling-host; do
	grep -E "^(# )?$f:" "$log" ||
		echo "$f: unavailable (the VM did not report it; see $log)"
done
