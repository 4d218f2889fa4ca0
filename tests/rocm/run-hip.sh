#!/bin/sh
# Guest test: Debian bookworm's unmodified HIP (libamdhip64-5 5.2.3):
# device count, properties and malloc work; hipFree and hipMemcpy, which
# need HIP's null stream and with it a kernel, end in the sim's queue
# error instead of hanging: HIP returns an error, or (5.2.3) reports the
# queue error and aborts.  Two probes: "free" and "memcpy".
. /tests/rocm-guest.sh
bad=0
for call in free memcpy; do
	rocm_run /bookworm /opt/akmc/hip-probe $call > /tmp/hip-$call.out \
		2> /tmp/hip-$call.err
	rc=$?
	cat /tmp/hip-$call.out
	sed 's/^/  stderr: /' /tmp/hip-$call.err | head -n 20
	case $rc in
	0) why="the call returned an error" ;;
	134) why="aborted (SIGABRT)" ;;
	2) why="the call hung (watchdog)" ;;
	*) why="failed" ;;
	esac
	echo "hip ($call): probe exit $rc: $why"
	for c in hipGetDeviceCount hipGetDeviceProperties hipMalloc; do
		grep -q "^hip: $c = 0 hipSuccess" /tmp/hip-$call.out || {
			echo "hip ($call): $c did not succeed"
			bad=1
		}
	done
	[ $rc -eq 0 ] && continue
	# HIP 5.2.3's queue error callback: the message, then abort()
	if [ $rc -eq 134 ] && grep -q '^hip: calling hip' /tmp/hip-$call.out &&
		grep -q 'inactivated due to async error' /tmp/hip-$call.err &&
		grep -q 'HSA_STATUS_ERROR_INVALID_PACKET_FORMAT' /tmp/hip-$call.err; then
		echo "hip ($call): ended by the queue error, as expected"
	else
		bad=1
	fi
done
exit $bad
