#!/bin/sh
# Guest test, as unprivileged users: vm_close unmapping a newer mapping at the same offset (race d).
# /dev/kfd is world-accessible as ROCm's udev rules make it.
chmod 0666 /dev/kfd
exec /tests/kfd-race mremap
