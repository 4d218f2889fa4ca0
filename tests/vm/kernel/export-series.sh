#!/bin/sh
# Maintainer helper: regenerate kernel-patches/linux-6.12 from a scratch git
# tree of linux-source-6.12 (base commit = pristine Debian source) and run
# checkpatch --strict on every patch.
#   export-series.sh GIT_TREE BASE_COMMIT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
tree=$1 base=$2
out=$here/../../../kernel-patches/linux-6.12
rm -f "$out"/*.patch
git -C "$tree" format-patch -q --no-signature --zero-commit -o "$out" "$base..HEAD"
(cd "$out" && ls ./*.patch | sed 's|^\./||') > "$out/series.new"
{ echo "# Apply in order with patch -p1 to linux-source-6.12 (see DEBIAN-VERSION)."
  cat "$out/series.new"; } > "$out/series"
rm -f "$out/series.new"
"$here/checkpatch-series.sh"
