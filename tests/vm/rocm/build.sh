#!/bin/sh
# Build the guest initramfs of check-rocm without booting: the driver and
# check-guest's programs (tests/vm/guest), Debian's ROCm roots and the
# programs of tests/rocm.  Prints the initramfs.
set -eu
. "$(dirname "$0")/common.sh"
build_rocm
echo "$ROCM_INITRD"
