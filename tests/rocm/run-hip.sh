#!/bin/sh
# Guest test: Debian bookworm's unmodified HIP (libamdhip64-5 5.2.3):
# device count, properties, malloc and free work; hipMemcpy, which needs a
# blit kernel, ends in the sim's queue error instead of hanging: HIP
# either returns an error or (5.2.3) reports the queue error and aborts.
. /tests/rocm-guest.sh
rocm_run /bookworm /opt/akmc/hip-probe > /tmp/hip.out 2> /tmp/hip.err
rc=$?
cat /tmp/hip.out
sed 's/^/  stderr: /' /tmp/hip.err | head -n 20
case $rc in
0) why="hipMemcpy returned an error" ;;
134) why="aborted (SIGABRT)" ;;
2) why="hipMemcpy hung (watchdog)" ;;
*) why="failed" ;;
esac
echo "hip: probe exit $rc: $why"
# Everything before hipMemcpy must have worked
for c in hipGetDeviceCount hipGetDeviceProperties hipMalloc hipFree; do
	grep -q "^hip: $c = 0 hipSuccess" /tmp/hip.out || {
		echo "hip: $c did not succeed"
		exit 1
	}
done
grep -q "properties are incomplete" /tmp/hip.out && exit 1
[ $rc -eq 0 ] && exit 0
# HIP 5.2.3's queue error callback: the message, then abort()
[ $rc -eq 134 ] && grep -q '^hip: calling hipMemcpy' /tmp/hip.out &&
	grep -q 'inactivated due to async error' /tmp/hip.err &&
	grep -q 'HSA_STATUS_ERROR_INVALID_PACKET_FORMAT' /tmp/hip.err
