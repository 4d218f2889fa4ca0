#!/bin/sh
# make bench: print the performance figures of amdkfd-mc, one line each,
#   name: value unit (ratio R)
# followed by detail lines starting with "# " (method, goal, components).
# Benchmarks, not tests: no figure fails on timing.  The exit status is
# non-zero only when a benchmark could not run at all.
#
#   run.sh [QEMU_BUILD]
#
# Environment: QEMU_BUILD (default build/qemu), QEMU_BIN (default
# $QEMU_BUILD/qemu-system-x86_64), AMDKFD_MC_CACHE, BENCH_BUILD (default
# build/bench), AKMC_BENCH_QUICK=1 for fewer repetitions.  Figures are
# documented in docs/performance.rst.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
QEMU_BUILD=${1:-${QEMU_BUILD:-$top/build/qemu}}
QEMU_BIN=${QEMU_BIN:-$QEMU_BUILD/qemu-system-x86_64}
BENCH_BUILD=${BENCH_BUILD:-$top/build/bench}
export QEMU_BIN BENCH_BUILD
rc=0
t0=$(date +%s)

echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"

# 1, 3, 4: qtest-driven, on the host
if prog=$("$top/scripts/build-qtest-client.sh" "$QEMU_BUILD" "$BENCH_BUILD/host" "$here/akmc-bench.c"); then
	# libqtest's own "# random seed" and "# starting QEMU" lines go
	QTEST_QEMU_BINARY=$QEMU_BIN "$prog" throughput scaling hol window \
		>"$BENCH_BUILD/host/akmc-bench.out" \
		2>"$BENCH_BUILD/host/akmc-bench.err" || rc=1
	grep -v -E '^# (random seed|starting QEMU)' "$BENCH_BUILD/host/akmc-bench.out"
	if [ $rc != 0 ]; then
		tail -n 5 "$BENCH_BUILD/host/akmc-bench.err" >&2
		for f in device-cost context-scaling head-of-line \
			window-map-rate window-destroy window-rss; do
			grep -q "^$f:" "$BENCH_BUILD/host/akmc-bench.out" ||
				echo "$f: unavailable (akmc-bench failed; see $BENCH_BUILD/host/akmc-bench.err)"
		done
	fi
else
	echo "device-cost: unavailable (akmc-bench did not build)"
	echo "context-scaling: unavailable (akmc-bench did not build)"
	echo "head-of-line: unavailable (akmc-bench did not build)"
	rc=1
fi

# 2, 5: in a TCG guest with the guest driver, one boot
"$here/guest-figures.sh" || rc=1

# 5: the host backend in the patched-kernel VM
"$here/host-contexts.sh" || rc=1

echo "# make bench: $(($(date +%s) - t0)) s"
exit $rc
