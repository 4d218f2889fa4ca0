#!/bin/sh
# Guest test: Debian sid's unmodified rocminfo in the /sid root
. /tests/rocm-guest.sh
rocm_rocminfo /sid sid
