# Guest-side helpers of the ROCm tests (sourced by /tests/run-*.sh, busybox
# sh).  The initramfs holds two Debian roots, /bookworm and /sid
# (tests/vm/rocm/build.sh); programs of a root run in it with chroot, with
# /proc, /sys and /dev of the guest mounted there, a clean environment
# (no HSA_* or other variable) and the root's own loader and libraries.
# shellcheck shell=sh

# rocm_enter ROOT: mount /proc, /sys (with debugfs) and /dev (with
# /dev/shm) in ROOT, once
rocm_enter() {
	mkdir -p /dev/shm
	grep -q ' /dev/shm ' /proc/mounts || mount -t tmpfs tmpfs /dev/shm
	for d in proc sys dev; do
		grep -q " $1/$d " /proc/mounts || mount -o rbind "/$d" "$1/$d"
	done
}

# rocm_run ROOT PROGRAM ARGS...: run PROGRAM in ROOT as a fresh login
# would find it: PATH and HOME only
rocm_run() {
	r=$1
	shift
	rocm_enter "$r"
	env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root TERM=dumb \
		chroot "$r" "$@"
}

# rocm_out NAME FILE: FILE into the console log between markers, so the
# host keeps it (build/rocm/NAME.txt)
rocm_out() {
	echo "@@ROCM-OUT-BEGIN $1"
	cat "$2"
	echo "@@ROCM-OUT-END $1"
}

# rocm_contexts PID...: the guest driver's view of the programs' contexts
rocm_contexts() {
	for p in "$@"; do
		grep "pid=$p " /sys/kernel/debug/amdkfd_mc/contexts 2>/dev/null
	done
}

# rocm_secrets MODE [ARGS]: alice and bob keep their secrets in device
# memory; then "rocm-secrets attack ARGS" runs against both.  Sets
# $attack_rc (0 faulted, 3 read, 1 error) and $owners_rc (0 both intact);
# the attacker's stdout is /tmp/rocm-attack.log, its stderr
# /tmp/rocm-attack.err.
# Output lines are "rocm: ..." (the demo shows them).
rocm_secrets() {
	B=/bookworm
	rm -f "$B"/tmp/rocm-*
	rocm_run $B /opt/akmc/rocm-secrets owner alice \
		"alice: launch code 0451-7734" &
	a=$!
	rocm_run $B /opt/akmc/rocm-secrets owner bob \
		"bob: db password hunter2" &
	b=$!
	t=0
	while { [ ! -e $B/tmp/rocm-alice.ready ] ||
		[ ! -e $B/tmp/rocm-bob.ready ]; } && [ $t -lt 1200 ]; do
		kill -0 $a 2>/dev/null || kill -0 $b 2>/dev/null || break
		sleep 0.1
		t=$((t + 1))
	done
	targets=
	for n in alice bob; do
		targets="$targets $n:$(cat $B/tmp/rocm-$n.addr 2>/dev/null)"
	done
	rocm_run $B /opt/akmc/rocm-secrets attack "$@" $targets \
		> /tmp/rocm-attack.log 2> /tmp/rocm-attack.err
	attack_rc=$?
	cat /tmp/rocm-attack.log
	touch $B/tmp/rocm-done
	owners_rc=0
	wait $a || owners_rc=1
	wait $b || owners_rc=1
}

# rocm_rocminfo ROOT LABEL: run ROOT's unmodified rocminfo and check what
# it printed: exit 0, nothing on stderr, the ROCk module seen, and a GPU
# agent with a gfx name, a marketing name, compute units, caches, memory
# pools and an ISA.  Prints a summary; the full output goes to the log.
rocm_rocminfo() {
	r=$1 label=$2
	rocm_run "$r" rocminfo > /tmp/rocminfo-$label.out \
		2> /tmp/rocminfo-$label.err
	rc=$?
	rocm_out "rocminfo-$label" /tmp/rocminfo-$label.out
	bad=0
	if [ $rc -ne 0 ]; then
		echo "rocminfo ($label): exit status $rc"
		bad=1
	fi
	if [ -s /tmp/rocminfo-$label.err ]; then
		echo "rocminfo ($label): stderr is not empty:"
		sed 's/^/  stderr: /' /tmp/rocminfo-$label.err | head -n 20
		bad=1
	fi
	# The GPU agent's block: from its "Agent N" to the next one
	awk '/^Agent [0-9]+/ { n++ } n { b[n] = b[n] $0 "\n" }
	     END { for (i = 1; i <= n; i++) if (b[i] ~ /Device Type: *GPU/) {
	         printf "%s", b[i]; exit } }' \
		/tmp/rocminfo-$label.out > /tmp/rocminfo-$label.gpu
	field() {
		sed -n "s/^  $1: *\\(.*[^ ]\\) *\$/\\1/p" /tmp/rocminfo-$label.gpu | head -n1
	}
	name=$(field Name)
	mkt=$(field "Marketing Name")
	cus=$(field "Compute Unit")
	caches=$(sed -n '/^  Cache Info:/,/^  [A-Z]/s/^    \(L[0-9]\): *\([0-9]*\).*/\1 \2 KB/p' \
		/tmp/rocminfo-$label.gpu | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	pools=$(grep -c '^    Pool [0-9]' /tmp/rocminfo-$label.gpu)
	gpools=$(grep -c 'Segment: *GLOBAL' /tmp/rocminfo-$label.gpu)
	isa=$(sed -n '/ISA Info:/,$s/^      Name: *\(amdgcn[^ ]*\).*/\1/p' \
		/tmp/rocminfo-$label.gpu | head -n1)
	grep -q 'ROCk module.* is loaded' /tmp/rocminfo-$label.out || {
		echo "rocminfo ($label): no 'ROCk module is loaded' line"
		bad=1
	}
	echo "rocminfo ($label): GPU agent \"$name\", marketing name \"$mkt\"," \
		"$cus compute units, caches: ${caches:-none}, $pools pools" \
		"($gpools global), ISA $isa"
	case "$name" in gfx9*) ;; *) echo "rocminfo ($label): no gfx9 GPU agent"; bad=1 ;; esac
	# The marketing name is libdrm's, from amdgpu.ids by the device id and
	# revision that the render node's AMDGPU_INFO gave: it must be one of
	# the names listed for this chip id (libdrm says "AMD Radeon
	# Graphics" when the revision matches no entry)
	chip=$(printf '%04X' "$(field "Chip ID" | sed 's/(.*//')" 2>/dev/null)
	names=$(grep "^$chip," "$r/usr/share/libdrm/amdgpu.ids" 2>/dev/null | cut -f3)
	if [ -z "$mkt" ]; then
		echo "rocminfo ($label): empty marketing name"
		bad=1
	elif ! echo "$names" | grep -qxF "$mkt"; then
		echo "rocminfo ($label): marketing name \"$mkt\" is not amdgpu.ids' for chip $chip:" $names
		bad=1
	fi
	[ "${cus:-0}" -gt 0 ] 2>/dev/null || { echo "rocminfo ($label): no compute units"; bad=1; }
	case "$caches" in *L1*L2*) ;; *) echo "rocminfo ($label): L1 and L2 caches missing"; bad=1 ;; esac
	[ "$gpools" -gt 0 ] || { echo "rocminfo ($label): no global memory pool"; bad=1; }
	case "$isa" in amdgcn-amd-amdhsa--$name*) ;; *) echo "rocminfo ($label): no ISA for $name"; bad=1 ;; esac
	return $bad
}
