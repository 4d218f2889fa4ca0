#!/bin/sh
# Build Debian's Linux 7.x amdgpu.ko out of tree with the
# kernel-patches/linux-7.x series applied (the fixed 7.x of check-kernel).
#
#   build-amdgpu-7x.sh            prints the path of the stripped amdgpu.ko,
#                                 cached by KVER, series, patches and script
#   build-amdgpu-7x.sh --upto N   only the first N patches (development:
#                                 does every prefix build?); not cached
#
# As for the test-only module (build-7x-test-module.sh), linux-kbuild-7.x's
# host tools need a newer libc than bookworm's, so the module is built
# against linux-source-7.x prepared with Debian's .config and Module.symvers
# and the release string of the Debian image (pahole must be installed so
# that struct module matches). The amd/ tree and the KFD uapi headers are
# copied from that source to one fixed work directory, patched there and
# built with ccache (through /usr/lib/ccache, so that CC stays "gcc").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
series_dir=$top/kernel-patches/linux-7.x
jobs=${JOBS:-$(nproc)}
upto=
[ "${1:-}" = --upto ] && upto=${2:?--upto needs a number}

# The test module's build prepares the source tree.
"$here/build-7x-test-module.sh" >/dev/null
KV7=$("$here/fetch-7.x.sh")
base=$KCACHE/7.x/$KV7
rel=$KV7-amd64
src=$base/source
[ "$(cat "$src/.prepared" 2>/dev/null)" = "$rel" ] || die "$src is not prepared for $rel"
[ -f "$series_dir/series" ] || die "missing $series_dir/series"
patches=$(grep -v '^#' "$series_dir/series" | sed '/^$/d')
export CCACHE_DIR=${CCACHE_DIR:-$KCACHE/ccache}
export CCACHE_BASEDIR=$KCACHE
export CCACHE_NOHASHDIR=1
[ -d /usr/lib/ccache ] && export PATH=/usr/lib/ccache:$PATH
work=$KCACHE/build/work-7x

prepare() {
	n=$1 i=0
	rm -rf "$work"
	mkdir -p "$work/drivers/gpu/drm" "$work/include/uapi/linux"
	cp -a "$src/drivers/gpu/drm/amd" "$work/drivers/gpu/drm/"
	cp -a "$src/include/uapi/linux/kfd_ioctl.h" \
		"$src/include/uapi/linux/kfd_sysfs.h" "$work/include/uapi/linux/"
	for p in $patches; do
		[ "$i" -lt "$n" ] || break
		i=$((i + 1))
		log "applying $p"
		patch -s -p1 -d "$work" --no-backup-if-mismatch < "$series_dir/$p" ||
			die "$p does not apply to linux-source of $KV7"
	done
}

kbuild() {
	ov=$work/.uapi-override
	mkdir -p "$ov/uapi/linux" "$ov/linux"
	for h in kfd_ioctl.h kfd_sysfs.h; do
		cp "$work/include/uapi/linux/$h" "$ov/uapi/linux/$h"
		cp "$work/include/uapi/linux/$h" "$ov/linux/$h"
	done
	nodc=$(without_display_core "$src/include/config/auto.conf" "$ov") ||
		return 1
	# amdgpu_trace.h names its directory relative to an include
	# directory two levels below the source root.
	# shellcheck disable=SC2086 # $nodc is a list of make assignments
	make -s -C "$src" CC=gcc KERNELRELEASE="$rel" $nodc \
		M="$work/drivers/gpu/drm/amd/amdgpu" -j"$jobs" \
		NOSTDINC_FLAGS="-nostdinc -I$ov" \
		KCFLAGS="-I$work/drivers/gpu" modules
}

if [ -n "$upto" ]; then
	prepare "$upto"
	t0=$(date +%s)
	kbuild || die "build failed with the first $upto patches"
	log "first $upto patches: built in $(( $(date +%s) - t0 )) s"
	echo "$work/drivers/gpu/drm/amd/amdgpu/amdgpu.ko"
	exit 0
fi

key=$( {
	echo "$KV7"
	cat "$series_dir/series" "$0" "$here/common.sh"
	for p in $patches; do
		cat "$series_dir/$p" || exit 1
	done
} | sha256sum | cut -c1-16)
out=$base/amdgpu-$key
if [ -f "$out/amdgpu.ko" ]; then
	log "cached: $out/amdgpu.ko"
	echo "$out/amdgpu.ko"
	exit 0
fi
prepare 999
t0=$(date +%s)
log "building amdgpu.ko for $rel (cold: several minutes; ccache makes rebuilds quick)"
kbuild || die "build of the fixed $KV7 amdgpu.ko failed"
ko=$work/drivers/gpu/drm/amd/amdgpu/amdgpu.ko
strings "$ko" | grep -q "vermagic=$rel " || die "vermagic of $ko is not $rel"
log "built in $(( $(date +%s) - t0 )) s"
mkdir -p "$out.tmp"
strip --strip-debug -o "$out.tmp/amdgpu.ko" "$ko"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/amdgpu.ko"
