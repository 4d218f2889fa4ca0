# Shared settings for the tests/vm/kernel scripts (sourced, POSIX sh).
#
# Everything downloaded or built lives under $KCACHE (never in the work tree).
# shellcheck shell=sh
AMDKFD_MC_CACHE=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
KCACHE=$AMDKFD_MC_CACHE/kernel
KV612=6.12.95+deb12-amd64
# Debian package version of linux-source-6.12 / linux-image / linux-headers
# that kernel-patches/linux-6.12 applies to (see DEBIAN-VERSION there).
KV612_DEB=$(sed -n 's/^debian-version: *//p' \
	"$(dirname "$0")/../../../kernel-patches/linux-6.12/DEBIAN-VERSION")
KV612_ABI=${KV612%-amd64}

die() {
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

log() {
	echo "$(basename "$0"): $*" >&2
}
