#!/bin/sh
# Run the kernel's scripts/checkpatch.pl --strict on every patch of a series:
# kernel-patches/linux-6.12 (checked with the unpacked linux-source-6.12) or,
# with --7x, kernel-patches/linux-7.x (checked with linux-source-7.x).
#
# UNKNOWN_COMMIT_ID is the one check left out: it looks up the commits that
# Fixes: tags and "commit <id> (...)" references name in a git clone of
# Linux, which is not here (the sources are Debian's tarballs), so without
# one it fires for every reference. The ids were taken from upstream's
# history; every other check runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
if [ "${1:-}" = --7x ]; then
	KV7=$("$here/fetch-7.x.sh")
	src=$KCACHE/7.x/$KV7/source
	dir=$here/../../../kernel-patches/linux-7.x
else
	"$here/fetch-6.12.sh"
	src=$KCACHE/6.12/source
	dir=$here/../../../kernel-patches/linux-6.12
fi
fail=0
for p in $(grep -v '^#' "$dir/series"); do
	if out=$(cd "$src" && perl scripts/checkpatch.pl --strict --no-tree -q \
		--ignore UNKNOWN_COMMIT_ID "$dir/$p" 2>&1); then
		echo "checkpatch ok: $p"
	else
		echo "checkpatch FAILED: $p"; echo "$out"; fail=1
	fi
done
exit $fail
