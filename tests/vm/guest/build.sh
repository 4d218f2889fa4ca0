#!/bin/sh
# Build the guest driver, the guest test programs and the initramfs into
# build/guest (what check-guest.sh and demo.sh boot).
set -eu
. "$(dirname "$0")/common.sh"
build_guest
echo "$GUEST_BUILD/module/amdgpu.ko"
echo "$INITRD"
