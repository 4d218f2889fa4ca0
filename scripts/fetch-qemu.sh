#!/bin/sh
# Fetch Debian trixie's qemu source package (10.0.x) into the download cache
# and extract it, with Debian's patches applied, into DEST.
#
#   fetch-qemu.sh DEST
#
# The archive may list versions whose files are already gone, so the
# candidates are tried in a fixed order and what arrives is verified against
# its .dsc before it is used.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
cache=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
src=$cache/src
mkdir -p "$src"

if [ -f "$dest/.amdkfd-mc-extracted" ]; then
	exit 0
fi

# Extract the first cached .dsc whose files are complete; dpkg-source checks
# every checksum the .dsc lists.
extract() {
	for f in "$src"/qemu_10.0.*.dsc; do
		[ -f "$f" ] || continue
		rm -rf "$dest"
		mkdir -p "$(dirname "$dest")"
		echo "fetch-qemu: extracting $(basename "$f")"
		if dpkg-source -x "$f" "$dest" >"$src/extract.log" 2>&1; then
			touch "$dest/.amdkfd-mc-extracted"
			return 0
		fi
		echo "fetch-qemu: $(basename "$f") is incomplete or corrupt"
		rm -rf "$dest"
	done
	return 1
}

if ! extract; then
	ok=0
	for suite in trixie trixie-updates trixie-backports bookworm-backports; do
		echo "fetch-qemu: fetching the qemu source package from $suite"
		# The second field is the file name, which is not URL-encoded
		ver=$("$here/apt-private.sh" "$suite" -qq --print-uris source qemu \
			2>/dev/null | awk '$2 ~ /^qemu_.*\.dsc$/ {
				sub(/^qemu_/, "", $2); sub(/\.dsc$/, "", $2); print $2 }')
		case $ver in
		10.0.*) ;;
		*)
			echo "fetch-qemu: $suite has no qemu 10.0.x (found '${ver:-none}')"
			continue
			;;
		esac
		if (cd "$src" && "$here/apt-private.sh" "$suite" -qq \
			source --download-only qemu >/dev/null 2>&1) &&
			extract; then
			ok=1
			break
		fi
		echo "fetch-qemu: qemu $ver from $suite did not download completely"
	done
	if [ $ok = 0 ]; then
		echo "fetch-qemu: no complete qemu 10.0.x source package could be fetched" >&2
		echo "fetch-qemu: needed: qemu_10.0.*.dsc, .orig.tar.xz and" \
			".debian.tar.xz in $src" >&2
		exit 1
	fi
fi
