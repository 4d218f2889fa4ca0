#!/bin/sh
# Build Linux 6.12's amdgpu.ko out of tree against Debian's matching
# linux-headers, with the kernel-patches/linux-6.12 series applied.
#
#   build-amdgpu.sh                 patched build, cached by series content;
#                                   prints the path of the stripped amdgpu.ko
#   build-amdgpu.sh --upto N        build with only the first N patches
#                                   (development: check that each patch
#                                   builds); not cached, N=0 is stock
#
# The cache key covers the Debian version, the series file, every patch it
# lists and this script, so a warm run only hashes and prints the path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
series_dir=$top/kernel-patches/linux-6.12
jobs=${JOBS:-$(nproc)}

"$here/fetch-6.12.sh"
headers=$KCACHE/6.12/headers
export CCACHE_DIR=${CCACHE_DIR:-$KCACHE/ccache}
export CCACHE_BASEDIR=$KCACHE
export CCACHE_NOHASHDIR=1

# kbuild TREE: build TREE/drivers/gpu/drm/amd/amdgpu as an external module.
kbuild() {
	tree=$1
	ov=$tree/.uapi-override
	# The headers package carries the stock uapi kfd_ioctl.h; the tree's own
	# (possibly patched) copy must win, so it goes first on the include path.
	mkdir -p "$ov/uapi/linux" "$ov/linux"
	for h in kfd_ioctl.h kfd_sysfs.h; do
		cmp -s "$tree/include/uapi/linux/$h" "$ov/uapi/linux/$h" ||
			cp "$tree/include/uapi/linux/$h" "$ov/uapi/linux/$h"
		cmp -s "$tree/include/uapi/linux/$h" "$ov/linux/$h" ||
			cp "$tree/include/uapi/linux/$h" "$ov/linux/$h"
	done
	nodc=$(without_display_core "$headers/include/config/auto.conf" "$ov") ||
		return 1
	# amdgpu_trace.h names its directory relative to an include directory
	# two levels below the source root (../../drivers/gpu/...).
	# shellcheck disable=SC2086 # $nodc is a list of make assignments
	make -s -C "$headers" M="$tree/drivers/gpu/drm/amd/amdgpu" -j"$jobs" \
		DEBIAN_KERNEL_USE_CCACHE=1 $nodc \
		NOSTDINC_FLAGS="-nostdinc -I$ov" \
		KCFLAGS="-I$tree/drivers/gpu" modules
}

[ -f "$series_dir/series" ] || die "missing $series_dir/series"
patches=$(grep -v '^#' "$series_dir/series" | sed '/^$/d')
upto=
if [ "${1:-}" = --upto ]; then
	upto=${2:?--upto needs a number}
fi

# prepare N: fresh copy of the pristine amd/ tree in the one fixed work
# directory (so ccache, with CCACHE_BASEDIR, hits across runs and series
# versions and only changed files recompile), first N patches applied.
prepare() {
	n=$1 i=0
	rm -rf "$work"
	mkdir -p "$work/drivers/gpu/drm" "$work/include/uapi/linux"
	src=$KCACHE/6.12/source
	cp -a "$src/drivers/gpu/drm/amd" "$work/drivers/gpu/drm/"
	cp -a "$src/include/uapi/linux/kfd_ioctl.h" \
		"$src/include/uapi/linux/kfd_sysfs.h" "$work/include/uapi/linux/"
	for p in $patches; do
		[ "$i" -lt "$n" ] || break
		i=$((i + 1))
		log "applying $p"
		patch -s -p1 -d "$work" --no-backup-if-mismatch < "$series_dir/$p" ||
			die "$p does not apply to linux-source-6.12 $KV612_DEB"
	done
}
work=$KCACHE/build/work

if [ -n "$upto" ]; then
	# Development check: does the series build up to patch N?
	prepare "$upto"
	t0=$(date +%s)
	kbuild "$work" || die "build failed with the first $upto patches"
	log "first $upto patches: built in $(( $(date +%s) - t0 )) s"
	echo "$work/drivers/gpu/drm/amd/amdgpu/amdgpu.ko"
	exit 0
fi

key=$( {
	echo "$KV612_DEB"
	cat "$series_dir/series" "$0" "$here/common.sh"
	for p in $patches; do
		cat "$series_dir/$p" || exit 1
	done
} | sha256sum | cut -c1-16)
out=$KCACHE/build/amdgpu-$key
if [ -f "$out/amdgpu.ko" ]; then
	log "cached: $out/amdgpu.ko"
	echo "$out/amdgpu.ko"
	exit 0
fi

prepare 999
t0=$(date +%s)
log "building amdgpu.ko (cold: several minutes; ccache makes rebuilds quick)"
kbuild "$work" || die "build of the patched amdgpu.ko failed"
log "built in $(( $(date +%s) - t0 )) s"
mkdir -p "$out.tmp"
strip --strip-debug -o "$out.tmp/amdgpu.ko" "$work/drivers/gpu/drm/amd/amdgpu/amdgpu.ko"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/amdgpu.ko"
