#!/bin/sh
# Guest test: Debian bookworm's unmodified rocminfo in the /bookworm root
. /tests/rocm-guest.sh
rocm_rocminfo /bookworm bookworm
