#!/bin/sh
# Check that every prefix of the series builds (one logical change per patch,
# each patch building). Starting from the fully patched, fully built work
# tree of build-amdgpu.sh, the patches are reverse-applied one at a time and
# the module is rebuilt incrementally after each step, so each build
# recompiles only what that patch touched. Prints one line per prefix and
# "N passed, N failed"; slow when a patch touches a widely included header.
# STOP_AT=N stops after checking the prefix of N patches (default 1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
series_dir=$here/../../../kernel-patches/linux-6.12
"$here/build-amdgpu.sh" >/dev/null || die "the full series does not build"
work=$KCACHE/build/work
headers=$KCACHE/6.12/headers
export CCACHE_DIR=${CCACHE_DIR:-$KCACHE/ccache} CCACHE_BASEDIR=$KCACHE CCACHE_NOHASHDIR=1
patches=$(grep -v '^#' "$series_dir/series" | sed '/^$/d')
n=$(echo "$patches" | wc -l)
rev=$(echo "$patches" | sed -n '1!G;h;$p')
passed=1 failed=0
echo "PASS prefix $n: full series builds (build-amdgpu.sh)"
for p in $rev; do
	n=$((n - 1))
	[ "$n" -ge "${STOP_AT:-1}" ] || break
	patch -s -R -p1 -d "$work" --no-backup-if-mismatch < "$series_dir/$p" ||
		die "cannot reverse $p"
	ov=$work/.uapi-override
	for h in kfd_ioctl.h kfd_sysfs.h; do
		for d in uapi/linux linux; do
			cmp -s "$work/include/uapi/linux/$h" "$ov/$d/$h" ||
				cp "$work/include/uapi/linux/$h" "$ov/$d/$h"
		done
	done
	t0=$(date +%s)
	if make -s -C "$headers" M="$work/drivers/gpu/drm/amd/amdgpu" \
		-j"${JOBS:-$(nproc)}" DEBIAN_KERNEL_USE_CCACHE=1 \
		NOSTDINC_FLAGS="-nostdinc -I$ov" KCFLAGS="-I$work/drivers/gpu" \
		modules >"$KCACHE/build/prefix-$n.log" 2>&1; then
		echo "PASS prefix $n: builds without $p and later ($(($(date +%s) - t0)) s)"
		passed=$((passed + 1))
	else
		echo "FAIL prefix $n: does not build (log: $KCACHE/build/prefix-$n.log)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
