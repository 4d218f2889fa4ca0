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

# without_display_core AUTO_CONF OVERRIDE_DIR
# The test modules leave out amdgpu's display core (DRM_AMD_DC and the
# options that depend on it): no test drives a display, and DC is more than
# half of amdgpu's compile time (476 of its 875 C files in 6.12). The
# kernel's own configuration stays as Debian built it. Writes
# OVERRIDE_DIR/generated/autoconf.h, which comes first on the include path
# (NOSTDINC_FLAGS="-nostdinc -IOVERRIDE_DIR") and takes the options back
# out of the C preprocessor, and prints the make assignments that take them
# out of the Makefiles (make gives command-line variables precedence over
# include/config/auto.conf).
without_display_core() {
	opts=$(sed -n 's/^\(CONFIG_\(DRM_AMD_DC\|DEBUG_KERNEL_DC\|DRM_AMD_SECURE_DISPLAY\)[A-Z0-9_]*\)=.*/\1/p' "$1")
	[ -n "$opts" ] || die "no display core options in $1"
	mkdir -p "$2/generated"
	{
		echo '#include_next <generated/autoconf.h>'
		for o in $opts; do
			echo "#undef $o"
		done
	} > "$2/generated/autoconf.h"
	for o in $opts; do
		printf '%s= ' "$o"
	done
}
