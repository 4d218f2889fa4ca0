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

# rocm_roots: the cpio archive of /bookworm and /sid ($ROCM_ROOTS), cached
# under $ROCM_CACHE and packed again only when a root's packages or
# pack-roots.sh changed
rocm_roots() {
	"$top/tests/vm/rocm/fetch-rocm.sh" || die "cannot fetch Debian's ROCm packages"
	ROCM_ROOTS=$ROCM_CACHE/roots.cpio.gz
	key=$(cat "$ROCM_CACHE/root-bookworm/.ready" "$ROCM_CACHE/root-sid/.ready" \
		"$top/tests/vm/rocm/pack-roots.sh" "$BUSYBOX" | sha256sum | cut -c1-16)
	[ -f "$ROCM_ROOTS" ] && [ "$(cat "$ROCM_ROOTS.key" 2>/dev/null)" = "$key" ] &&
		return 0
	log "packing the bookworm and sid roots"
	sh "$top/tests/vm/rocm/pack-roots.sh" "$ROCM_CACHE" "$BUSYBOX" "$ROCM_ROOTS" ||
		die "cannot pack the ROCm roots"
	echo "$key" > "$ROCM_ROOTS.key"
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
	# the HSA programs, each rebuilt when it or the shared header changed
	for prog in rocm-secrets hsa-kernel; do
		if [ ! -x "$o/$prog" ] || [ "$src/$prog.c" -nt "$o/$prog" ] ||
			[ "$src/hsa-picks.h" -nt "$o/$prog" ]; then
			${CC:-gcc} -O2 -g -Wall -Wextra -Wno-unused-parameter -I"$d" \
				-o "$o/$prog" "$src/$prog.c" \
				"$l/libhsa-runtime64.so.1" -Wl,-rpath-link,"$l" ||
				die "$prog failed to build"
		fi
	done
	# the kernels of hsa-kernel: a gfx906 code object v4 for ROCr 5.2
	if [ ! -e "$o/hsa-kernels.co" ] ||
		[ "$src/hsa-kernels.s" -nt "$o/hsa-kernels.co" ]; then
		llvm-mc-14 -triple=amdgcn-amd-amdhsa -mcpu=gfx906 -filetype=obj \
			-o "$ROCM_BUILD/hsa-kernels.o" "$src/hsa-kernels.s" &&
			ld.lld-14 -shared -o "$o/hsa-kernels.co" \
				"$ROCM_BUILD/hsa-kernels.o" ||
			die "hsa-kernels.s failed to assemble"
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

# rocm_boot LOG DEVICE_OPTS TESTS [TIMEOUT_S]: tests/vm/guest's boot() of
# the ROCm initramfs (its guest RAM is a shared memfd, which ROCm's
# USERPTR system memory needs)
rocm_boot() {
	rb_initrd=$INITRD
	INITRD=$ROCM_INITRD
	rb_rc=0
	boot "$@" || rb_rc=$?
	INITRD=$rb_initrd
	return $rb_rc
}

# rocm_outputs LOG: the @@ROCM-OUT blocks of LOG into $ROCM_BUILD/NAME.txt
rocm_outputs() {
	tr -d '\r' < "$1" | awk -v dir="$ROCM_BUILD" '
		/^@@ROCM-OUT-BEGIN / { f = dir "/" $2 ".txt"; printf "" > f; next }
		/^@@ROCM-OUT-END / { close(f); f = ""; next }
		f { print >> f }'
}
