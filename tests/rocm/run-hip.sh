#!/bin/sh
# Guest test: Debian bookworm's unmodified HIP (libamdhip64-5 5.2.3):
# device count, properties, malloc and free work; hipMemcpy returns an
# error (no kernel execution on the sim) instead of hanging.
. /tests/rocm-guest.sh
rocm_run /bookworm /opt/akmc/hip-probe > /tmp/hip.out 2> /tmp/hip.err
rc=$?
cat /tmp/hip.out
sed 's/^/  stderr: /' /tmp/hip.err | head -n 20
echo "hip: probe exit $rc"
[ $rc -eq 0 ]
