# Shared parts of the ROCm VM scripts (sourced, POSIX sh).  On top of
# tests/vm/guest/common.sh (paths, kernel, driver, the base initramfs,
# boot), this adds Debian's ROCm roots and the ROCm test programs as a
# second and third cpio archive appended to the guest's initramfs (the
# kernel unpacks concatenated archives in order), so the VM boots exactly
# like check-guest's with two more directories, /bookworm and /sid, and
# more tests in /tests.
# shellcheck shell=sh
. "$(dirname "$0")/../guest/common.sh"
ROCM_CACHE=${ROCM_CACHE:-$AMDKFD_MC_CACHE/rocm}
ROCM_BUILD=${ROCM_BUILD:-$top/build/rocm}
ROCM_INITRD=$ROCM_BUILD/initramfs-rocm.cpio.gz
# Guest memory: the bookworm root alone is about 230 MB of tmpfs (HIP's
# code object compiler, libamd_comgr and libLLVM-15, are most of it)
ROCM_VM_MEM=${ROCM_VM_MEM:-1536}

# Files of the unpacked roots the guest never uses
ROCM_PRUNE="usr/share/doc usr/share/man usr/share/locale usr/share/lintian
usr/share/info usr/share/bug usr/share/gcc usr/share/gdb
usr/lib/x86_64-linux-gnu/gconv usr/lib/x86_64-linux-gnu/cmake"

# rocm_roots: the cpio archive of /bookworm and /sid, cached under
# $ROCM_CACHE and made again only when a root's packages changed
rocm_roots() {
	"$top/tests/vm/rocm/fetch-rocm.sh" || die "cannot fetch Debian's ROCm packages"
	key=$( (cat "$ROCM_CACHE/root-bookworm/.ready" "$ROCM_CACHE/root-sid/.ready" \
		"$top/tests/vm/rocm/common.sh"; sha256sum "$BUSYBOX") | sha256sum | cut -c1-16)
	ROCM_ROOTS=$ROCM_CACHE/roots.cpio.gz
	[ -f "$ROCM_ROOTS" ] && [ "$(cat "$ROCM_ROOTS.key" 2>/dev/null)" = "$key" ] &&
		return 0
	log "packing the bookworm and sid roots"
	st=$ROCM_CACHE/stage
	rm -rf "$st"
	mkdir -p "$st"
	cp -al "$ROCM_CACHE/root-bookworm" "$st/bookworm"
	cp -al "$ROCM_CACHE/root-sid" "$st/sid"
	for r in bookworm sid; do
		rm -f "$st/$r/.ready" "$st/$r/.closed"
		for p in $ROCM_PRUNE; do
			rm -rf "${st:?}/$r/$p"
		done
		mkdir -p "$st/$r/proc" "$st/$r/sys" "$st/$r/dev" "$st/$r/tmp" \
			"$st/$r/root" "$st/$r/etc"
		chmod 1777 "$st/$r/tmp"
		echo "root:x:0:0:root:/root:/bin/sh" > "$st/$r/etc/passwd"
		echo "root:x:0:" > "$st/$r/etc/group"
	done
	# sid is merged-/usr: the links that its base-files package makes
	for d in bin sbin lib lib64; do
		mkdir -p "$st/sid/usr/$d"
		ln -s "usr/$d" "$st/sid/$d"
	done
	# rocminfo 5.2.3 runs "lsmod | grep amdgpu" through /bin/sh (Debian's
	# package gets them from dash, kmod and grep); busybox-static is the
	# one shell and lsmod in this image
	mkdir -p "$st/bookworm/bin"
	for r in bookworm/bin sid/usr/bin; do
		cp "$BUSYBOX" "$st/$r/busybox"
		for a in sh lsmod grep cat ls; do
			[ -e "$st/$r/$a" ] || ln -s busybox "$st/$r/$a"
		done
	done
	(cd "$st" && find bookworm sid | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$ROCM_ROOTS.tmp"
	mv "$ROCM_ROOTS.tmp" "$ROCM_ROOTS"
	echo "$key" > "$ROCM_ROOTS.key"
	rm -rf "$st"
}

# rocm_programs: tests/rocm built against bookworm's ROCm (headers of its
# -dev packages, the libraries of the bookworm root), with the run
# scripts, as the archive $ROCM_BUILD/tests.cpio.gz
rocm_programs() {
	d=$ROCM_CACHE/dev-bookworm/usr/include
	l=$ROCM_CACHE/root-bookworm/usr/lib/x86_64-linux-gnu
	src=$top/tests/rocm
	st=$ROCM_BUILD/stage
	mkdir -p "$st/bookworm/opt/akmc" "$st/tests"
	o=$st/bookworm/opt/akmc
	if [ ! -x "$o/rocm-secrets" ] || [ "$src/rocm-secrets.c" -nt "$o/rocm-secrets" ]; then
		${CC:-gcc} -O2 -g -Wall -Wextra -Wno-unused-parameter -I"$d" \
			-o "$o/rocm-secrets" "$src/rocm-secrets.c" \
			"$l/libhsa-runtime64.so.1" -Wl,-rpath-link,"$l" ||
			die "rocm-secrets failed to build"
	fi
	if [ ! -x "$o/hip-probe" ] || [ "$src/hip-probe.cpp" -nt "$o/hip-probe" ]; then
		${CXX:-g++} -O2 -g -Wall -Wextra -D__HIP_PLATFORM_AMD__ -I"$d" \
			-o "$o/hip-probe" "$src/hip-probe.cpp" \
			"$l/libamdhip64.so.5" -Wl,-rpath-link,"$l" ||
			die "hip-probe failed to build"
	fi
	for f in "$src"/run-*.sh "$src/rocm-guest.sh"; do
		install -m 755 "$f" "$st/tests/$(basename "$f")"
	done
	(cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$ROCM_BUILD/tests.cpio.gz"
}

# build_rocm: the guest's initramfs with the ROCm roots and programs
build_rocm() {
	build_guest
	mkdir -p "$ROCM_BUILD"
	rocm_roots
	rocm_programs
	cat "$INITRD" "$ROCM_ROOTS" "$ROCM_BUILD/tests.cpio.gz" > "$ROCM_INITRD.tmp"
	mv "$ROCM_INITRD.tmp" "$ROCM_INITRD"
}

# rocm_boot LOG DEVICE_OPTS TESTS [TIMEOUT_S]: tests/vm/guest's boot() with
# the ROCm initramfs, and guest RAM ($ROCM_VM_MEM MiB) in a shared memfd
# backend: ROCm's paged system memory is USERPTR memory, which the device
# makes of guest RAM pages only when they are in a shared file (spec,
# OP_ALLOC_GUEST_MEMORY)
rocm_boot() {
	[ -x "$QEMU_BIN" ] || die "no QEMU at $QEMU_BIN"
	rb_log=$1 rb_opts=$2 rb_tests=$3 rb_tmo=${4:-600}
	L=
	for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
		[ -d "$d" ] && L="$L -L $d"
	done
	# shellcheck disable=SC2086
	timeout -k 10 "$rb_tmo" "$QEMU_BIN" $L -machine q35 \
		-accel tcg,thread=${AKMC_TCG_THREAD:-multi} -cpu max \
		-smp 2 -m "$ROCM_VM_MEM" \
		-object "memory-backend-memfd,id=ram,size=${ROCM_VM_MEM}M,share=on" \
		-machine memory-backend=ram -nographic -nodefaults -serial stdio \
		-no-reboot -net none -device "amdkfd-mc,backend=sim$rb_opts" \
		-kernel "$KERNEL" -initrd "$ROCM_INITRD" \
		-append "console=ttyS0 panic=-1 loglevel=4 quiet slub_debug=P akmc.run=$rb_tests ${AKMC_APPEND:-}" \
		< /dev/null > "$rb_log" 2>&1 || true
	grep -q '^@@AKMC-END' "$rb_log"
}

# rocm_outputs LOG: the @@ROCM-OUT blocks of LOG into $ROCM_BUILD/NAME.txt
rocm_outputs() {
	tr -d '\r' < "$1" | awk -v dir="$ROCM_BUILD" '
		/^@@ROCM-OUT-BEGIN / { f = dir "/" $2 ".txt"; printf "" > f; next }
		/^@@ROCM-OUT-END / { close(f); f = ""; next }
		f { print >> f }'
}
