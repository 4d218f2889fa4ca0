#!/bin/sh
# Debian's Linux 7.x from sid, ready for external modules: fetch-7.x.sh
# (the release kernel-patches/linux-7.x/DEBIAN-VERSION names, unless KV7
# is set), then linux-source-7.x made an external-module build tree for
# that image.  linux-kbuild-7.x's host tools need a newer libc than
# bookworm's, so modules are built against the source, prepared with the
# image's .config and Module.symvers (from linux-headers-KVER-amd64),
# olddefconfig and modules_prepare with the host's gcc (Debian builds
# 7.x with a newer one; the rest of the configuration stays):
#   make -C $KCACHE/7.x/KV7/source CC=gcc KERNELRELEASE=KV7-amd64 M=DIR modules
# pahole (dwarves) must be installed, otherwise Kconfig drops BTF and
# struct module would not match the running kernel.  Used by
# build-7x-test-module.sh and the guest driver's 7.x builds
# (tests/vm/guest); a no-op once prepared (source/.prepared).  Prints KV7
# (e.g. 7.2.13+deb14).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
: "${KV7:=$(sed -n 's/^kernel-release: *//p' "$top/kernel-patches/linux-7.x/DEBIAN-VERSION" | sed 's/-amd64$//')}"
export KV7
KV7=$("$here/fetch-7.x.sh")
base=$KCACHE/7.x/$KV7
src=$base/source
rel=$KV7-amd64
hdr=$base/root/usr/src/linux-headers-$rel
command -v pahole >/dev/null || die "pahole missing: install dwarves"
if [ "$(cat "$src/.prepared" 2>/dev/null)" != "$rel" ]; then
	[ -f "$hdr/.config" ] || die "no .config in linux-headers-$rel"
	log "preparing linux-source for $rel (olddefconfig + modules_prepare)"
	cp "$hdr/.config" "$src/.config"
	cp "$hdr/Module.symvers" "$src/Module.symvers"
	make -s -C "$src" CC=gcc olddefconfig >/dev/null
	make -s -C "$src" CC=gcc KERNELRELEASE="$rel" -j"$(nproc)" modules_prepare >&2
	echo "$rel" > "$src/.prepared"
fi
echo "$KV7"
