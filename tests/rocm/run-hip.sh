#!/bin/sh
# Guest test: Debian bookworm's unmodified HIP (libamdhip64-5 5.2.3):
# device count, properties, malloc, free, and a host-to-device and
# device-to-host hipMemcpy whose data must come back equal.  hipFree and
# hipMemcpy need HIP's null stream, whose set-up runs ROCclr's copyBuffer
# blit kernel and a PM4 ACQUIRE_MEM on a new AQL queue: the sim's shader
# interpreter and PM4 handling run them.  Two probes: "free" and
# "memcpy"; every call must return hipSuccess, without a hang (watchdog)
# or HIP's queue-error abort.
. /tests/rocm-guest.sh
bad=0
for call in free memcpy; do
	rocm_run /bookworm /opt/akmc/hip-probe $call > /tmp/hip-$call.out \
		2> /tmp/hip-$call.err
	rc=$?
	cat /tmp/hip-$call.out
	sed 's/^/  stderr: /' /tmp/hip-$call.err | head -n 20
	case $rc in
	0) why="every call succeeded" ;;
	134) why="aborted (SIGABRT)" ;;
	2) why="a call hung (watchdog)" ;;
	*) why="failed" ;;
	esac
	echo "hip ($call): probe exit $rc: $why"
	[ $rc -eq 0 ] || bad=1
	for c in hipGetDeviceCount hipGetDeviceProperties hipMalloc hipFree; do
		grep -q "^hip: $c = 0 hipSuccess" /tmp/hip-$call.out || {
			echo "hip ($call): $c did not succeed"
			bad=1
		}
	done
	if [ $call = memcpy ]; then
		[ "$(grep -c '^hip: hipMemcpy = 0 hipSuccess' /tmp/hip-$call.out)" = 2 ] &&
			grep -q '^hip: the data came back equal' /tmp/hip-$call.out || {
			echo "hip ($call): the round trip did not succeed"
			bad=1
		}
	fi
	# nothing on stderr: no queue error report
	[ ! -s /tmp/hip-$call.err ] || {
		echo "hip ($call): HIP wrote to stderr"
		bad=1
	}
done
exit $bad
