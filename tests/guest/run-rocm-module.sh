#!/bin/sh
# Guest test: what ROCm's tools check before they touch /dev/kfd, as their
# sources do it: rocminfo 5.2.3 runs "lsmod | grep amdgpu"; later rocminfo
# reads /sys/module/amdgpu/initstate ("live") or needs /sys/module/amdgpu.
# The driver is the module named amdgpu (guest/linux/Kbuild, README.md).
fail=0
if lsmod | grep amdgpu > /dev/null; then
	echo "rocm-module: lsmod | grep amdgpu: $(lsmod | grep amdgpu)"
else
	echo "rocm-module: lsmod | grep amdgpu: nothing: FAIL"; fail=1
fi
s=$(cat /sys/module/amdgpu/initstate 2>/dev/null)
[ "$s" = live ] || { echo "rocm-module: /sys/module/amdgpu/initstate: '$s': FAIL"; fail=1; }
[ -e /sys/bus/pci/drivers/amdkfd_mc ] ||
	{ echo "rocm-module: PCI driver amdkfd_mc not registered: FAIL"; fail=1; }
[ $fail -eq 0 ] && echo "rocm-module: initstate live, PCI driver amdkfd_mc: ok"
exit $fail
