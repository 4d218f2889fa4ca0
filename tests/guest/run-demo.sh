#!/bin/sh
# Guest side of `make demo`: alice and bob, HSA programs on Debian's
# unmodified ROCr 5.2.3, keep a secret each in device memory; mallory, on
# the same ROCr, copies from their GPU addresses with
# hsa_amd_memory_async_copy (ROCr's SDMA engine) behind AQL barrier
# packets (tests/rocm/rocm-secrets.c, run in the guest's /bookworm root).
. /tests/rocm-guest.sh
rocm_secrets
sed 's/^/rocm: mallory  stderr: /' /tmp/rocm-attack.err
case $attack_rc in
0) echo "demo: RESULT attack faulted, nothing read" ;;
3) echo "demo: RESULT secrets STOLEN" ;;
*) echo "demo: RESULT attacker failed (exit $attack_rc)" ;;
esac
# the host script judges the result per mode
[ $owners_rc -eq 0 ] && { [ $attack_rc -eq 0 ] || [ $attack_rc -eq 3 ]; }
