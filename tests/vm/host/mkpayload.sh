#!/bin/sh
# Pack what QEMU needs to run inside the VM into a gzip'd newc cpio that is
# appended to tests/vm/kernel/mkinitramfs.py's image (the kernel unpacks
# concatenated archives into one root):
#   /akmc/qemu-system-x86_64   QEMU_BIN, debug info stripped
#   /akmc/akmc-host-qtest      the qtest client
#   /akmc/kfd-conformance      tests/kfd (static)
#   their shared libraries at their host paths, the dynamic loader, and the
#   x86 firmware directories QEMU was configured with (--firmwarepath:
#   seabios, ipxe-qemu, qemu-system-data), at the same paths.
#
#   mkpayload.sh OUT QEMU_BIN QTEST_CLIENT CONFORMANCE
#
# Rebuilds only when an input changed (sizes and mtimes are the key).
set -eu
out=$1 qemu=$2 client=$3 conf=$4
here=$(cd "$(dirname "$0")" && pwd)
fw="/usr/share/seabios /usr/lib/ipxe/qemu /usr/share/qemu"
key=$(for f in "$qemu" "$client" "$conf" "$here/mkpayload.sh"; do
	stat -L -c '%n %s %Y' "$f"; done; ls -lLR $fw 2>/dev/null | md5sum)
key=$(echo "$key" | md5sum | cut -d' ' -f1)
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	echo "mkpayload: $out is up to date" >&2
	exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/akmc" "$root/lib64" "$root/tmp"
strip --strip-debug -o "$root/akmc/qemu-system-x86_64" "$qemu"
cp "$client" "$root/akmc/akmc-host-qtest"
cp "$conf" "$root/akmc/kfd-conformance"
libs=$(ldd "$qemu" "$client" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	$1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u)
[ -n "$libs" ] || { echo "mkpayload: ldd found no libraries" >&2; exit 1; }
for l in $libs; do
	mkdir -p "$root$(dirname "$l")"
	cp -L "$l" "$root$l"
done
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] ||
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
for d in $fw; do
	[ -d "$d" ] || { echo "mkpayload: firmware directory $d is missing" \
		"(packages seabios, ipxe-qemu, qemu-system-data)" >&2; exit 1; }
	mkdir -p "$root$d"
	cp -rL "$d/." "$root$d/"
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$key" > "$out.key"
echo "mkpayload: $out ($(du -h "$out" | cut -f1); $(echo $libs | wc -w) libraries)" >&2
