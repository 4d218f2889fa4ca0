#!/bin/sh
# Run the kernel's scripts/checkpatch.pl --strict (from the unpacked
# linux-source-6.12) on every patch of kernel-patches/linux-6.12/series.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
"$here/fetch-6.12.sh"
src=$KCACHE/6.12/source
dir=$here/../../../kernel-patches/linux-6.12
fail=0
for p in $(grep -v '^#' "$dir/series"); do
	if out=$(cd "$src" && perl scripts/checkpatch.pl --strict --no-tree -q "$dir/$p" 2>&1); then
		echo "checkpatch ok: $p"
	else
		echo "checkpatch FAILED: $p"; echo "$out"; fail=1
	fi
done
exit $fail
