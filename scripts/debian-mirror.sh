#!/bin/sh
# Print the Debian archive URI this machine's apt already uses, so that no
# mirror host name is ever written into the repository.
set -eu
uri=$(apt-cache policy 2>/dev/null |
	awk '$3 ~ /^(bookworm|trixie|sid|stable|testing|unstable)\/main$/ &&
	     $2 ~ /^https?:\/\// && $2 !~ /security/ { print $2; exit }')
if [ -z "$uri" ]; then
	echo "debian-mirror: no Debian main archive found in apt's configuration" >&2
	echo "debian-mirror: run 'apt-get update' or configure a Debian mirror" >&2
	exit 1
fi
echo "${uri%/}"
