# Shared parts of the guest VM scripts (sourced, POSIX sh).
# shellcheck shell=sh
top=$(cd "$(dirname "$0")/../../.." && pwd)
AMDKFD_MC_CACHE=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
QEMU_BIN=${QEMU_BIN:-$top/build/qemu/qemu-system-x86_64}
GUEST_BUILD=${GUEST_BUILD:-$top/build/guest}
GUEST_CACHE=$AMDKFD_MC_CACHE/guest
KCACHE=$AMDKFD_MC_CACHE/kernel
KV=6.12.95+deb12-amd64
KERNEL=$KCACHE/6.12/root/boot/vmlinuz-$KV
KHEADERS=$KCACHE/6.12/headers
BUSYBOX=$KCACHE/6.12/root/bin/busybox
INITRD=$GUEST_BUILD/initramfs.cpio.gz
# The guest kernel that build_guest builds for and boot() boots (see
# guest_kernel): Debian's 6.12 unless another is chosen.
KLABEL=6.12
KREL=$KV
KMODDIR=$KCACHE/6.12/root/lib/modules/$KV
KMAKE=
MODULE_OUT=$GUEST_BUILD/module

die() {
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

log() {
	echo "$(basename "$0"): $*" >&2
}

now() {
	date +%s.%N
}

elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

# Debian's 6.12 kernel, headers and busybox-static (another engineer's
# fetch script; a no-op when cached).  The initramfs's busybox is 6.12's
# whatever the kernel.
ensure_kernel() {
	if [ ! -f "$KCACHE/6.12/root/boot/vmlinuz-$KV" ] || [ ! -d "$KCACHE/6.12/headers" ] ||
		[ ! -x "$BUSYBOX" ]; then
		log "fetching Debian's linux 6.12 packages"
		"$top/tests/vm/kernel/fetch-6.12.sh" >&2 ||
			die "cannot fetch the 6.12 kernel packages"
	fi
}

# guest_kernel 6.12|6.1|7.x: make build_guest and boot() use another of
# the guest kernels the driver supports, fetching it when it is not
# cached: Debian bookworm's own 6.1 (tests/vm/kernel/fetch-6.1.sh: image,
# headers), or sid's 7.x (tests/vm/kernel/prepare-7.x.sh: image, modules,
# and linux-source-7.x prepared with the image's configuration, which the
# driver is built against, as kbuild's host tools of linux-kbuild-7.x need
# a newer libc than bookworm's).  Sets KLABEL, KREL (the release), KERNEL,
# KHEADERS (the tree the driver builds against), KMAKE (its extra make
# arguments), KMODDIR (the kernel's own modules), MODULE_OUT and INITRD;
# 6.12 keeps build/guest/module and build/guest/initramfs.cpio.gz, the
# others get build/guest/KLABEL/.
guest_kernel() {
	ensure_kernel
	KLABEL=$1
	case $1 in
	6.12)
		KREL=$KV
		KERNEL=$KCACHE/6.12/root/boot/vmlinuz-$KV
		KHEADERS=$KCACHE/6.12/headers
		KMAKE=
		KMODDIR=$KCACHE/6.12/root/lib/modules/$KV
		MODULE_OUT=$GUEST_BUILD/module
		INITRD=$GUEST_BUILD/initramfs.cpio.gz
		return 0
		;;
	6.1)
		abi=$("$top/tests/vm/kernel/fetch-6.1.sh") ||
			die "cannot fetch Debian bookworm's linux 6.1 packages"
		KREL=$abi-amd64
		kb=$KCACHE/6.1/$abi
		KERNEL=$kb/root/boot/vmlinuz-$KREL
		KHEADERS=$kb/headers
		KMAKE=
		KMODDIR=$kb/root/lib/modules/$KREL
		;;
	7.x)
		kv7=$("$top/tests/vm/kernel/prepare-7.x.sh") ||
			die "cannot fetch or prepare Debian sid's linux 7.x"
		KREL=$kv7-amd64
		kb=$KCACHE/7.x/$kv7
		KERNEL=$kb/vmlinuz
		KHEADERS=$kb/source
		KMAKE="CC=gcc KERNELRELEASE=$KREL"
		KMODDIR=$(find "$kb/root" -maxdepth 4 -type d -path "*/modules/$KREL" | head -n 1)
		;;
	*)
		die "no guest kernel $1 (6.12, 6.1 or 7.x)"
		;;
	esac
	if [ ! -f "$KERNEL" ] || [ ! -d "$KMODDIR/kernel" ]; then
		die "linux $1 ($KREL): no image or modules in $kb"
	fi
	MODULE_OUT=$GUEST_BUILD/$1/module
	INITRD=$GUEST_BUILD/$1/initramfs.cpio.gz
}

# The driver for the chosen kernel, the test programs and the initramfs
# (make-style: rebuilt only when a source is newer).
# AKMC_GUEST_MODULE=PATH boots another build of the driver on 6.12 instead
# (e.g. an older one, to show a test failing before a fix).
build_guest() {
	ensure_kernel
	mkdir -p "$GUEST_BUILD/bin" "$(dirname "$INITRD")"
	# shellcheck disable=SC2086
	make -s -C "$top/guest/linux" KDIR="$KHEADERS" $KMAKE \
		O_DIR="$MODULE_OUT" >&2 || die "driver build failed (linux $KLABEL)"
	module=$MODULE_OUT/amdgpu.ko
	[ "$KLABEL" != 6.12 ] || module=${AKMC_GUEST_MODULE:-$module}
	make -s -C "$top/tests/guest" O="$GUEST_BUILD/bin" \
		GUEST_CACHE="$GUEST_CACHE" TOP="$top" >&2 ||
		die "guest test programs failed to build"
	stamp=$( (echo "$KREL"; cat "$module" "$GUEST_BUILD"/bin/tests/* \
		"$top/tests/vm/guest/init.sh" "$top/tests/vm/guest/mkinitramfs.sh") \
		2>/dev/null | sha256sum | cut -c1-16)
	if [ ! -f "$INITRD" ] || [ "$(cat "$INITRD.key" 2>/dev/null)" != "$stamp" ]; then
		"$top/tests/vm/guest/mkinitramfs.sh" "$INITRD" "$BUSYBOX" \
			"$module" "$GUEST_BUILD/bin/tests" \
			"$GUEST_BUILD/bin/lib" "$KMODDIR" || die "initramfs build failed"
		echo "$stamp" > "$INITRD.key"
	fi
}

# boot LOG DEVICE_OPTS TESTS [TIMEOUT_S]: boot the guest with
# -device amdkfd-mc,backend=sim$DEVICE_OPTS and run TESTS (comma separated).
# Freed slab objects are poisoned (slub_debug=P), so that a use after
# free in the driver reads a non-canonical pointer and oopses instead of
# working by luck.  Guest RAM is a shared memfd (-object
# memory-backend-memfd,share=on): the device needs a file behind RAM for
# guest memory objects (USERPTR).  qmp-watch.py follows the device's QOM
# counters over QMP meanwhile and writes their largest and final values to
# LOG's .counters file once the guest says @@AKMC-PAUSE (akmc.pause=1:
# its tests are done and it waits), then quits QEMU.
boot() {
	blog=$1 dopts=$2 tests=$3 tmo=${4:-240}
	[ -x "$QEMU_BIN" ] || die "no QEMU at $QEMU_BIN"
	L=
	for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
		[ -d "$d" ] && L="$L -L $d"
	done
	qsock=${blog%.log}.qmp
	counters=${blog%.log}.counters
	rm -f "$qsock" "$counters"
	python3 "$top/tests/vm/guest/qmp-watch.py" "$qsock" "$blog" "$counters" &
	watcher=$!
	# shellcheck disable=SC2086
	# Multi-threaded TCG, one thread per vCPU, as users run it.  (The
	# first window, which changed the memory topology at every map, made
	# it hit QEMU-core assertions; AKMC_TCG_THREAD=single is the fallback
	# to tell such a QEMU-core problem from ours.)
	# A VM that outlives TIMEOUT is stopped by the watchdog below, which
	# first writes the backtraces of all QEMU threads to LOG's .threads
	# file (with gdb, when there is one): a guest hang whose cause is a
	# QEMU thread that never returns shows there.
	"$QEMU_BIN" $L -accel tcg,thread=${AKMC_TCG_THREAD:-multi} -cpu max \
		-smp 2 -m 1024 -object memory-backend-memfd,id=ram,size=1024M,share=on \
		-machine q35,memory-backend=ram -nographic -nodefaults -serial stdio -no-reboot \
		-net none -qmp "unix:$qsock,server=on,wait=off" \
		-device "amdkfd-mc,id=akmc,backend=sim$dopts" \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 loglevel=4 quiet slub_debug=P akmc.pause=1 akmc.run=$tests ${AKMC_APPEND:-}" \
		< /dev/null > "$blog" 2>&1 &
	qpid=$!
	threads=${blog%.log}.threads
	rm -f "$threads"
	(
		i=0
		while [ "$i" -lt "$tmo" ] && kill -0 "$qpid" 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		kill -0 "$qpid" 2>/dev/null || exit 0
		if command -v gdb >/dev/null; then
			timeout 60 gdb -p "$qpid" -batch -ex "thread apply all bt" \
				> "$threads" 2>&1
		fi
		echo "qemu-system-x86_64: stopped after $tmo s (timeout)" >> "$blog"
		kill -TERM "$qpid" 2>/dev/null
		i=0
		while [ "$i" -lt 10 ] && kill -0 "$qpid" 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		kill -KILL "$qpid" 2>/dev/null
	) &
	wdog=$!
	wait "$qpid" || true
	# the watchdog sees QEMU gone within a second
	wait "$wdog" 2>/dev/null || true
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	rm -f "$qsock"
	grep -q '^@@AKMC-END' "$blog"
}
