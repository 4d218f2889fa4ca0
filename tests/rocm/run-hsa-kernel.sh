#!/bin/sh
# Guest test: kernels dispatched by an HSA program on Debian's unmodified
# ROCr 5.2.3 (tests/rocm/hsa-kernel.c), run by the sim's gfx906
# interpreter.  ROCr loads the code object of tests/rocm/hsa-kernels.s
# (code object v4, amdgcn-amd-amdhsa--gfx906); the program writes AQL
# KERNEL_DISPATCH packets itself.  "store" (4096 work-items in
# workgroups of 256) must write id*3+7 to every element; "illegal" (a
# MUBUF load, not modelled) must stop its own queue and be reported by
# ROCr through the queue's error callback within the program's timeout.
# Nothing on stderr.
. /tests/rocm-guest.sh
rocm_run /bookworm /opt/akmc/hsa-kernel /opt/akmc/hsa-kernels.co \
	> /tmp/hsa-kernel.out 2> /tmp/hsa-kernel.err
rc=$?
cat /tmp/hsa-kernel.out
sed 's/^/  stderr: /' /tmp/hsa-kernel.err | head -n 20
bad=0
grep -q '^hsa-kernel: store: 4096 work-items .* 4096 of 4096 elements are id\*3+7 (all)$' \
	/tmp/hsa-kernel.out || {
	echo "hsa-kernel: the store kernel's data are not all right"
	bad=1
}
grep -q "^hsa-kernel: illegal: after [0-9.]* s ROCr's queue error callback reported status 0x" \
	/tmp/hsa-kernel.out || {
	echo "hsa-kernel: no error report from ROCr for the illegal kernel"
	bad=1
}
[ ! -s /tmp/hsa-kernel.err ] || {
	echo "hsa-kernel: the program wrote to stderr"
	bad=1
}
echo "hsa-kernel: program exit $rc"
[ $rc -eq 0 ] || bad=1
exit $bad
