#!/bin/sh
# Compile the kernel-patches/linux-6.12 series with CONFIG_HSA_AMD_SVM=y.
#
# Debian builds 6.12 without CONFIG_DEVICE_PRIVATE, so without
# CONFIG_HSA_AMD_SVM, and its headers package cannot build kfd_svm.c and
# kfd_migrate.c or the SVM branches elsewhere. This copies linux-source-6.12
# (once), configures the copy with the headers package's .config plus
# DEVICE_PRIVATE and HSA_AMD_SVM, prepares it for external modules and
# builds amdgpu with the series applied, as build-amdgpu.sh does against the
# headers. The display core (DRM_AMD_DC) is left out of this copy: the
# series does not touch it, every header it changes is also compiled by
# the rest of amdgpu, and DC is about half of amdgpu's compile time.
# Modules are not linked against the image (no Module.symvers), so modpost
# only warns. A development check, not part of make check: cold, on 2
# cores shared with other builds, the preparation took 5 minutes and the
# module build 23; warm (ccache), a few minutes. Prints one line and exits
# non-zero when the series does not compile.
#   check-svm-build.sh [--upto N]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
series_dir=$top/kernel-patches/linux-6.12
n=999
[ "${1:-}" = --upto ] && n=${2:?--upto needs a number}
"$here/fetch-6.12.sh"
export CCACHE_DIR=${CCACHE_DIR:-$KCACHE/ccache} CCACHE_BASEDIR=$KCACHE CCACHE_NOHASHDIR=1
[ -d /usr/lib/ccache ] && export PATH=/usr/lib/ccache:$PATH
base=$KCACHE/build/svm-6.12
tree=$base/linux
stamp="$KV612_DEB HSA_AMD_SVM=y DRM_AMD_DC=n"
if [ "$(cat "$base/prepared" 2>/dev/null)" != "$stamp" ]; then
	log "preparing a copy of linux-source-6.12 with CONFIG_HSA_AMD_SVM=y"
	rm -rf "$base"
	mkdir -p "$base"
	cp -a "$KCACHE/6.12/source" "$tree"
	cp "$KCACHE/6.12/headers/.config" "$tree/.config"
	"$tree/scripts/config" --file "$tree/.config" --enable DEVICE_PRIVATE \
		--enable HSA_AMD_SVM --disable DRM_AMD_DC
	make -s -C "$tree" CC=gcc olddefconfig
	grep -qx 'CONFIG_HSA_AMD_SVM=y' "$tree/.config" ||
		die "CONFIG_HSA_AMD_SVM did not stay enabled in $tree/.config"
	! grep -q '^CONFIG_DRM_AMD_DC=' "$tree/.config" ||
		die "CONFIG_DRM_AMD_DC did not stay disabled in $tree/.config"
	make -s -C "$tree" CC=gcc -j"$(nproc)" modules_prepare
	echo "$stamp" > "$base/prepared"
fi
work=$base/work
rm -rf "$work"
mkdir -p "$work/drivers/gpu/drm" "$work/include/uapi/linux"
cp -a "$tree/drivers/gpu/drm/amd" "$work/drivers/gpu/drm/"
cp -a "$tree/include/uapi/linux/kfd_ioctl.h" "$tree/include/uapi/linux/kfd_sysfs.h" \
	"$work/include/uapi/linux/"
i=0
for p in $(grep -v '^#' "$series_dir/series" | sed '/^$/d'); do
	[ "$i" -lt "$n" ] || break
	i=$((i + 1))
	patch -s -p1 -d "$work" --no-backup-if-mismatch < "$series_dir/$p" ||
		die "$p does not apply"
done
ov=$work/.uapi-override
mkdir -p "$ov/uapi/linux" "$ov/linux"
for h in kfd_ioctl.h kfd_sysfs.h; do
	cp "$work/include/uapi/linux/$h" "$ov/uapi/linux/$h"
	cp "$work/include/uapi/linux/$h" "$ov/linux/$h"
done
t0=$(date +%s)
if make -s -C "$tree" CC=gcc M="$work/drivers/gpu/drm/amd/amdgpu" -j"$(nproc)" \
	KBUILD_MODPOST_WARN=1 NOSTDINC_FLAGS="-nostdinc -I$ov" \
	KCFLAGS="-I$work/drivers/gpu" modules >"$base/build.log" 2>&1 &&
	[ -f "$work/drivers/gpu/drm/amd/amdkfd/kfd_svm.o" ]; then
	echo "PASS svm-build: the first $i patches compile with CONFIG_HSA_AMD_SVM=y ($(($(date +%s) - t0)) s)"
else
	tail -n 30 "$base/build.log"
	echo "FAIL svm-build: the first $i patches do not compile with CONFIG_HSA_AMD_SVM=y (log: $base/build.log)"
	exit 1
fi
