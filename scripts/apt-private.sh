#!/bin/sh
# Run apt-get against one extra Debian suite through a private apt state
# directory, leaving the system's sources untouched.
#
#   apt-private.sh SUITE apt-get-arguments...
#
# The state lives under $AMDKFD_MC_CACHE/apt/SUITE (no spaces in paths) and is refreshed at most
# once a day.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
suite=$1
shift
cache=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
dir=$cache/apt/$suite
mirror=$("$here/debian-mirror.sh")
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$dir/etc/apt.conf.d" "$dir/etc/preferences.d" "$dir/lists/partial" \
	"$dir/archives/partial"
cat > "$dir/etc/sources.list.new" <<SRC
deb [signed-by=$keyring] $mirror $suite main
deb-src [signed-by=$keyring] $mirror $suite main
SRC
if ! cmp -s "$dir/etc/sources.list.new" "$dir/etc/sources.list" 2>/dev/null; then
	mv "$dir/etc/sources.list.new" "$dir/etc/sources.list"
	rm -f "$dir/stamp"
else
	rm -f "$dir/etc/sources.list.new"
fi

opts="-o Dir::Etc::SourceList=$dir/etc/sources.list
	-o Dir::Etc::SourceParts=$dir/etc/sources.list.d
	-o Dir::Etc::Preferences=$dir/etc/preferences
	-o Dir::Etc::PreferencesParts=$dir/etc/preferences.d
	-o Dir::State::Lists=$dir/lists
	-o Dir::State::status=/var/lib/dpkg/status
	-o Dir::Cache::Archives=$dir/archives
	-o Dir::Cache::pkgcache=$dir/pkgcache.bin
	-o Dir::Cache::srcpkgcache=$dir/srcpkgcache.bin
	-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1"

if [ -z "$(find "$dir/stamp" -mmin -1440 2>/dev/null)" ]; then
	# shellcheck disable=SC2086
	apt-get -qq $opts update >&2 2>"$dir/update.log" || {
		cat "$dir/update.log" >&2
		echo "apt-private: cannot read the $suite index from $mirror" >&2
		exit 1
	}
	touch "$dir/stamp"
fi
# shellcheck disable=SC2086
exec apt-get $opts "$@"
