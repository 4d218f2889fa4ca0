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

# prepare_7x_source SRC HEADERS RELEASE: make linux-source-7.x in SRC an
# external-module build tree for Debian's RELEASE (e.g. 7.2.13+deb14-amd64):
# the image's .config and Module.symvers from its HEADERS package,
# olddefconfig and modules_prepare with the host's gcc (Debian builds 7.x
# with a newer one; the rest of the configuration stays).  A no-op once
# SRC/.prepared says RELEASE.  Modules are then built with
# make -C SRC CC=gcc KERNELRELEASE=RELEASE M=DIR modules.
prepare_7x_source() {
	[ "$(cat "$1/.prepared" 2>/dev/null)" = "$3" ] && return 0
	[ -f "$2/.config" ] || die "no .config in $2"
	log "preparing linux-source for $3 (olddefconfig + modules_prepare)"
	cp "$2/.config" "$1/.config"
	cp "$2/Module.symvers" "$1/Module.symvers"
	make -s -C "$1" CC=gcc olddefconfig >/dev/null
	make -s -C "$1" CC=gcc KERNELRELEASE="$3" -j"$(nproc)" modules_prepare
	echo "$3" > "$1/.prepared"
}
