#!/bin/sh
# Debian's Linux 7.x from sid, ready for external modules: fetch-7.x.sh
# (the release kernel-patches/linux-7.x/DEBIAN-VERSION names, unless KV7
# is set), then linux-source-7.x prepared for that image
# (prepare_7x_source in common.sh; linux-kbuild-7.x's host tools need a
# newer libc than bookworm's).  Used by the guest driver's 7.x builds
# (tests/vm/guest); a no-op when cached.  Prints KV7 (e.g. 7.2.13+deb14);
# the tree is $KCACHE/7.x/KV7/source.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
: "${KV7:=$(sed -n 's/^kernel-release: *//p' "$top/kernel-patches/linux-7.x/DEBIAN-VERSION" | sed 's/-amd64$//')}"
export KV7
KV7=$("$here/fetch-7.x.sh")
base=$KCACHE/7.x/$KV7
command -v pahole >/dev/null || die "pahole missing: install dwarves"
prepare_7x_source "$base/source" "$base/root/usr/src/linux-headers-$KV7-amd64" \
	"$KV7-amd64" >&2
echo "$KV7"
