#!/bin/sh
# Check that every prefix of the series builds (one logical change per patch,
# each patch building). The work tree of build-amdgpu.sh is prepared afresh
# with the whole series and built (build-amdgpu.sh --upto, mostly ccache
# hits; the cached module of a plain build-amdgpu.sh says nothing about the
# state of the work tree, which an interrupted run leaves half reversed).
# Then the patches are reverse-applied one at a time and the module is
# rebuilt incrementally after each step, so each build recompiles only what
# that patch touched. Prints one line per prefix and "N passed, N failed";
# slow when a patch touches a widely included header (amdgpu_amdkfd.h, which
# 0010 and 0014 change, is in most of amdgpu: cold, the prefix without 0014
# took 25 minutes on 2 shared cores; with a warm ccache each prefix takes
# one to two minutes).
# STOP_AT=N stops after checking the prefix of N patches (default 1);
# START_AT=N builds prefixes of N patches and fewer only (default: all), to
# resume an interrupted run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
series_dir=$here/../../../kernel-patches/linux-6.12
work=$KCACHE/build/work
headers=$KCACHE/6.12/headers
export CCACHE_DIR=${CCACHE_DIR:-$KCACHE/ccache} CCACHE_BASEDIR=$KCACHE CCACHE_NOHASHDIR=1
patches=$(grep -v '^#' "$series_dir/series" | sed '/^$/d')
n=$(echo "$patches" | wc -l)
rev=$(echo "$patches" | sed -n '1!G;h;$p')
"$here/build-amdgpu.sh" --upto "$n" >/dev/null || die "the full series does not build"
passed=1 failed=0
echo "PASS prefix $n: full series builds (build-amdgpu.sh --upto $n)"
for p in $rev; do
	n=$((n - 1))
	[ "$n" -ge "${STOP_AT:-1}" ] || break
	patch -s -R -p1 -d "$work" --no-backup-if-mismatch < "$series_dir/$p" ||
		die "cannot reverse $p"
	[ "$n" -le "${START_AT:-$n}" ] || continue
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
