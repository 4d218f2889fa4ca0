#!/bin/sh
# Fetch a Debian qemu source package into the download cache and extract
# it, with Debian's patches applied, into DEST.
#
#   fetch-qemu.sh DEST
#
# QEMU_SERIES picks the line: 10 (the default) is trixie's 10.0.x, 11 is
# the 11.1 release of sid that the 11.x hooks patch is kept against (pinned
# below).  QEMU_PRISTINE=1 extracts the upstream source alone, without
# Debian's patches and debian/ (what a patch for qemu-devel applies to).
# The archive may list versions whose files are already gone, so the 10.0
# candidates are tried in a fixed order, cached versions are used when the
# archive has none, and what arrives is verified against its .dsc before
# it is used.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
cache=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
series=${QEMU_SERIES:-10}
case $series in
10)
	src=$cache/src
	glob='10.0.*'
	suites="trixie trixie-updates trixie-backports bookworm-backports"
	;;
11)
	src=$cache/src11
	glob='11.*'
	suites="sid"
	# sid moves on; the build uses the release scripts/qemu-hooks-11.patch
	# is kept against, from sid's pool directory (the index may name a
	# newer release, and once named 11.1.3 while the mirror had none of
	# its files), its .dsc checked against this hash and the tarballs
	# against the .dsc.  Moving to a newer 11.x is a change of these two
	# lines, tested like any other.
	pin=11.1.1+ds-1
	pin_sha256=dfd4fbdd38517e2467002091bbcd938bbff8b2c851cc3f56b019236c7d1f21da
	;;
*)
	echo "fetch-qemu: unknown QEMU_SERIES '$series' (10 or 11)" >&2
	exit 1
	;;
esac
mkdir -p "$src"
skip=
[ "${QEMU_PRISTINE:-0}" = 0 ] || skip=--skip-patches

if [ -f "$dest/.amdkfd-mc-extracted" ]; then
	exit 0
fi

# Extract the newest cached .dsc whose files are complete; dpkg-source
# checks every checksum the .dsc lists.
extract() {
	for f in $(find "$src" -maxdepth 1 -name "qemu_$glob.dsc" | sort -rV); do
		rm -rf "$dest"
		mkdir -p "$(dirname "$dest")"
		echo "fetch-qemu: extracting $(basename "$f")"
		if dpkg-source $skip -x "$f" "$dest" >"$src/extract.log" 2>&1; then
			[ -z "$skip" ] || rm -rf "$dest/debian" "$dest/.pc"
			touch "$dest/.amdkfd-mc-extracted"
			return 0
		fi
		echo "fetch-qemu: $(basename "$f") is incomplete or corrupt"
		rm -rf "$dest"
	done
	return 1
}

# fetch_pin: the pinned release from the pool directory the index names
fetch_pin() {
	[ -n "${pin:-}" ] || return 1
	[ -f "$src/qemu_$pin.dsc" ] && return 0
	pool=$("$here/apt-private.sh" "${suites%% *}" -qq --print-uris source qemu \
		2>/dev/null | sed -n "s/^'\([^']*\)\/qemu_[^/']*\.dsc' .*/\1/p")
	[ -n "$pool" ] || return 1
	echo "fetch-qemu: fetching the pinned qemu $pin from the pool"
	enc=$(echo "$pin" | sed 's/+/%2b/g')
	/usr/lib/apt/apt-helper -qq download-file "$pool/qemu_$enc.dsc" \
		"$src/qemu_$pin.dsc.part" "SHA256:$pin_sha256" >/dev/null 2>&1 ||
		return 1
	sed -n '/^Checksums-Sha256:/,/^[^ ]/s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\)/\1 \2/p' \
		"$src/qemu_$pin.dsc.part" | while read -r sum file; do
		[ -f "$src/$file" ] && continue
		/usr/lib/apt/apt-helper -qq download-file \
			"$pool/$(echo "$file" | sed 's/+/%2b/g')" "$src/$file.part" \
			"SHA256:$sum" >/dev/null 2>&1 || exit 1
		mv "$src/$file.part" "$src/$file"
	done || return 1
	mv "$src/qemu_$pin.dsc.part" "$src/qemu_$pin.dsc"
}

# A suite may have moved on to a version the cache lacks; it is fetched
# once, and a cached older version serves when the download fails.
fetched=$src/.fetched
if [ -n "${pin:-}" ]; then
	glob=$pin
	fetch_pin ||
		echo "fetch-qemu: qemu $pin could not be fetched from sid's pool"
elif [ -z "$(find "$fetched" -mmin -1440 2>/dev/null)" ]; then
	for suite in $suites; do
		# The second field is the file name, which is not URL-encoded
		ver=$("$here/apt-private.sh" "$suite" -qq --print-uris source qemu \
			2>/dev/null | awk '$2 ~ /^qemu_.*\.dsc$/ {
				sub(/^qemu_/, "", $2); sub(/\.dsc$/, "", $2); print $2 }')
		# shellcheck disable=SC2254
		case $ver in
		$glob) ;;
		*)
			echo "fetch-qemu: $suite has no qemu $glob (found '${ver:-none}')"
			continue
			;;
		esac
		[ -f "$src/qemu_$ver.dsc" ] && break
		echo "fetch-qemu: fetching qemu $ver from $suite"
		if (cd "$src" && "$here/apt-private.sh" "$suite" -qq \
			source --download-only qemu >/dev/null 2>&1); then
			break
		fi
		echo "fetch-qemu: qemu $ver from $suite did not download completely"
		rm -f "$src/qemu_$ver.dsc"
	done
	touch "$fetched"
fi

if ! extract; then
	echo "fetch-qemu: no complete qemu $glob source package could be fetched" >&2
	echo "fetch-qemu: needed: qemu_$glob.dsc, .orig.tar.xz and" \
		".debian.tar.xz in $src" >&2
	exit 1
fi
