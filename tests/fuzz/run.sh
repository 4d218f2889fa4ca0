#!/bin/sh
# Run the amdkfd-mc fuzzers (docs/devel/amdkfd-mc-fuzzing.rst).
#
#   run.sh campaign   both fuzzers for FUZZ_SECONDS in all (default 600):
#                     half for amdkfd-mc-cmd, half for generic-fuzz's three
#                     amdkfd-mc configurations; prints executions, exec/s,
#                     coverage, corpus size and crashes of each; a crash
#                     is minimised and kept under $FUZZ_OUT/crashes
#   run.sh smoke      the in-tree corpus through every target and a short
#                     fuzzing run of the two main ones (about 60 s); one
#                     "PASS|FAIL fuzz <target> ..." line per target, in
#                     scripts/run-tests.sh's format, then the summary line
#   run.sh reach      run the in-tree amdkfd-mc-cmd corpus once with the
#                     device's trace on and check that its seeds reach
#                     every opcode (completed with S_OK), every allowlisted
#                     ioctl (returned 0 from the backend) and every refused
#                     one (refused); one PASS|FAIL line (smoke runs it too)
#   run.sh seeds      write the seed corpora into tests/fuzz/corpus/
#   run.sh repro TARGET FILE
#                     run one input, with the commands it submits printed
#
# Environment: QEMU_FUZZ_BIN (qemu-fuzz-x86_64), FUZZ_SECONDS, FUZZ_OUT
# (working corpora, logs and crashes; default build/fuzz), FUZZ_JOBS,
# FUZZ_TARGETS (campaign: only these targets, space-separated, sharing
# FUZZ_SECONDS evenly; e.g. one target alone for a per-target figure).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${QEMU_FUZZ_BIN:-$top/build/qemu-asan/qemu-fuzz-x86_64}
out=${FUZZ_OUT:-$top/build/fuzz}
corpus=$here/corpus
mode=${1:-campaign}

# Sanitizer reports end the run; leaks are reported at exit by libFuzzer
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$top/scripts/lsan.supp:print_suppressions=0"

# target, its in-tree corpus, its largest input
targets="amdkfd-mc-cmd:cmd:16384
generic-fuzz-amdkfd-mc:generic:32768
generic-fuzz-amdkfd-mc-legacy-shared:generic:32768
generic-fuzz-amdkfd-mc-small-window:generic:32768"

if [ ! -x "$bin" ] && [ "$mode" != help ]; then
	echo "run.sh: no $bin; run make fuzz-build" >&2
	exit 1
fi

# split TARGET:SUBDIR:MAXLEN
split() {
	t=${1%%:*}
	rest=${1#*:}
	sub=${rest%%:*}
	maxlen=${rest#*:}
}

# libFuzzer's figures from a log: runs exec/s cov ft
stats() {
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$1" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$1" | grep ' cov: ' | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	echo "${runs:-0} ${eps:-0} ${cov:-0} ${ft:-0}"
}

# edges and features once the corpus was read: cov ft
inited() {
	first=$(grep -m 1 -E '^#[0-9]+[[:space:]]+INITED' "$1")
	echo "$(echo "$first" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')" \
		"$(echo "$first" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')"
}

# fuzz TARGET SUBDIR MAXLEN SECONDS WORKDIR [libFuzzer options...]:
# 0 if no crash; the log is WORKDIR/TARGET.log
fuzz() {
	t=$1 sub=$2 maxlen=$3 secs=$4 work=$5
	shift 5
	mkdir -p "$work/corpus/$t" "$work/crashes"
	nice "$bin" --fuzz-target="$t" -max_len="$maxlen" -timeout=60 \
		-rss_limit_mb=6144 -print_final_stats=1 -max_total_time="$secs" \
		-artifact_prefix="$work/crashes/$t-" "$@" \
		"$work/corpus/$t" "$corpus/$sub" >"$work/$t.log" 2>&1
}

# Minimise the crash of a failed run and tell how it becomes a qtest
triage() {
	t=$1 work=$2
	crash=$(ls -t "$work/crashes/$t-"* 2>/dev/null | grep -v minimized |
		head -n 1)
	[ -n "$crash" ] || return 0
	grep -m 1 -E 'ERROR: AddressSanitizer|runtime error|invariant violated|ERROR: LeakSanitizer|deadly signal|timeout' \
		"$work/$t.log" | sed 's/^/  /'
	min=$crash.minimized
	nice "$bin" --fuzz-target="$t" -minimize_crash=1 -max_total_time=120 \
		-exact_artifact_path="$min" "$crash" >"$crash.minimize.log" 2>&1
	[ -s "$min" ] || cp "$crash" "$min"
	echo "  crash: $crash"
	echo "  minimised: $min ($(wc -c <"$min") bytes)"
	echo "  reproduce: tests/fuzz/run.sh repro $t $min"
	echo "  then make it a qtest in tests/qtest/amdkfd-mc-fuzz-repro.c" \
		"(docs/devel/amdkfd-mc-fuzzing.rst, \"From a crash to a qtest\")"
}

# names TABLE: the request names of one of ioctl.c's tables
names() {
	sed -n "/^static const AmdkfdMcIoctl $1\[\] = {/,/^};/p" \
		"$top/hw/misc/amdkfd-mc/ioctl.c" |
		sed -n 's/^ *AMDKFD_MC_IOCTL(\(AMDKFD_IOC_[A-Z0-9_]*\).*/\1/p'
}

# reach WORKDIR: PASS/FAIL line of what the cmd seeds reach; 0 if all
reach() {
	log=$1/reach.trace
	rm -f "$log"
	AMDKFD_MC_FUZZ_REACH=$log nice "$bin" --fuzz-target=amdkfd-mc-cmd \
		-runs=0 -max_len=16384 -timeout=60 "$corpus/cmd" \
		>"$1/reach.log" 2>&1 || {
		echo "FAIL fuzz seeds-reach (the corpus run failed; see $1/reach.log)"
		return 1
	}
	miss=""
	nop=0
	for op in $(sed -n 's/^#define AMDKFD_MC_OP_[A-Z_]* *\(0x[0-9a-fA-F]*\)$/\1/p' \
		"$top/include/hw/misc/amdkfd-mc-abi.h"); do
		nop=$((nop + 1))
		grep -Eq "amdkfd_mc_cmd opcode $(printf %d "$op") .* status 0 " "$log" ||
			miss="$miss opcode-$op"
	done
	nok=0
	for n in $(names amdkfd_mc_ioctls); do
		nok=$((nok + 1))
		grep -Eq "amdkfd_mc_ioctl ctx 0x[0-9a-f]+ $n ret 0\$" "$log" ||
			miss="$miss $n"
	done
	nref=0
	for n in $(names amdkfd_mc_refused_ioctls); do
		nref=$((nref + 1))
		grep -q "($n) refused" "$log" || miss="$miss refused-$n"
	done
	if [ "$nop" -lt 9 ] || [ "$nok" -lt 20 ] || [ "$nref" -lt 8 ]; then
		echo "FAIL fuzz seeds-reach: read only $nop opcodes, $nok allowed and $nref refused ioctls from the sources"
		return 1
	fi
	if [ -n "$miss" ]; then
		echo "FAIL fuzz seeds-reach: the seeds do not reach:$miss"
		return 1
	fi
	echo "PASS fuzz seeds-reach (all $nop opcodes completed with S_OK, all $nok allowlisted ioctls returned 0 from the backend, all $nref refused ones were refused)"
}

case $mode in
reach)
	work=$(mktemp -d "${TMPDIR:-/tmp}/amdkfd-mc-fuzz.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	reach "$work"
	;;
seeds)
	# the inputs that once crashed (crash-*) stay
	find "$corpus/cmd" "$corpus/generic" -type f ! -name 'crash-*' \
		-delete 2>/dev/null
	AMDKFD_MC_FUZZ_SEEDS=$corpus "$bin" --fuzz-target=amdkfd-mc-cmd \
		>/dev/null 2>&1
	echo "seeds: $(ls "$corpus/cmd" | wc -l) amdkfd-mc-cmd," \
		"$(ls "$corpus/generic" | wc -l) generic-fuzz in $corpus"
	;;
repro)
	t=$2 f=$3
	AMDKFD_MC_FUZZ_TRACE=1 FUZZ_SERIALIZE_QTEST=1 "$bin" \
		--fuzz-target="$t" "$f"
	;;
campaign)
	total=${FUZZ_SECONDS:-600}
	work=$out/campaign
	mkdir -p "$work"
	start=$(date +%s)
	crashes=0
	echo "fuzz: campaign of $total s in $work"
	chosen=""
	for spec in $targets; do
		split "$spec"
		if [ -z "${FUZZ_TARGETS:-}" ] ||
			echo " $FUZZ_TARGETS " | grep -q " $t "; then
			chosen="$chosen $spec"
		fi
	done
	if [ -z "$chosen" ]; then
		echo "run.sh: FUZZ_TARGETS names no target of:" $targets >&2
		exit 2
	fi
	nchosen=$(echo $chosen | wc -w)
	printf '%-38s %10s %8s %13s %13s %7s %7s\n' target executions \
		"exec/s" "edges" "features" corpus crashes
	for spec in $chosen; do
		split "$spec"
		case ${FUZZ_TARGETS:+sel}$t in
		amdkfd-mc-cmd) secs=$((total / 2)) ;;
		sel*) secs=$((total / nchosen)) ;;
		*) secs=$((total / 6)) ;;
		esac
		[ "$secs" -ge 10 ] || secs=10
		# go on after a crash (once minimised) until the time is used up
		end=$(($(date +%s) + secs))
		n=0 tot_runs=0 tot_eps=0 k=0 cov=0 ft=0 cov0=0 ft0=0
		while :; do
			left=$((end - $(date +%s)))
			[ $left -ge 5 ] || break
			fuzz "$t" "$sub" "$maxlen" "$left" "$work"
			rc=$?
			# shellcheck disable=SC2046
			set -- $(stats "$work/$t.log")
			tot_runs=$((tot_runs + $1))
			tot_eps=$((tot_eps + $2))
			k=$((k + 1))
			cov=$3 ft=$4
			if [ $k = 1 ]; then
				# shellcheck disable=SC2046
				set -- $(inited "$work/$t.log")
				cov0=${1:-0} ft0=${2:-0}
			fi
			cp "$work/$t.log" "$work/$t.$k.log"
			[ $rc = 0 ] && break
			n=$((n + 1))
			triage "$t" "$work" >"$work/$t.triage.$n"
			[ $n -lt 5 ] || break
		done
		printf '%-38s %10s %8s %13s %13s %7s %7s\n' "$t" "$tot_runs" \
			"$((tot_eps / (k ? k : 1)))" "${cov0:-0}/${cov:-0}" \
			"${ft0:-0}/${ft:-0}" \
			"$(ls "$work/corpus/$t" | wc -l)" "$n"
		cat "$work/$t.triage."* 2>/dev/null
		rm -f "$work/$t.triage."*
		crashes=$((crashes + n))
	done
	echo "fuzz: $crashes crashes in $(($(date +%s) - start)) s (logs: $work)"
	[ "$crashes" = 0 ]
	;;
smoke)
	work=$(mktemp -d "${TMPDIR:-/tmp}/amdkfd-mc-fuzz.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	pass=0 fail=0
	start=$(date +%s)
	for spec in $targets; do
		split "$spec"
		case $t in
		amdkfd-mc-cmd | generic-fuzz-amdkfd-mc) opts=-max_total_time=20 ;;
		*) opts=-runs=0 ;;
		esac
		fuzz "$t" "$sub" "$maxlen" 20 "$work" $opts
		rc=$?
		# shellcheck disable=SC2046
		set -- $(stats "$work/$t.log")
		if [ $rc = 0 ]; then
			echo "PASS fuzz $t ($1 runs, $2 exec/s, cov $3)"
			pass=$((pass + 1))
		else
			echo "FAIL fuzz $t (exit status $rc)"
			triage "$t" "$work" | sed "s/^/  fuzz: /"
			mkdir -p "$out/smoke"
			cp "$work/crashes/$t-"* "$out/smoke/" 2>/dev/null
			tail -n 30 "$work/$t.log" | sed "s/^/  fuzz: /"
			fail=$((fail + 1))
		fi
	done
	if reach "$work"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
	echo "# fuzz: $(($(date +%s) - start)) s"
	echo "fuzz: $pass passed, $fail failed"
	[ $fail = 0 ]
	;;
*)
	sed -n '2,20p' "$0"
	exit 2
	;;
esac
