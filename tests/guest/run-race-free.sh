#!/bin/sh
# Guest test, as unprivileged users: mmap() of an object racing FREE_MEMORY_OF_GPU of it (issue 11 race a).
# /dev/kfd is world-accessible as ROCm's udev rules make it.
chmod 0666 /dev/kfd
exec /tests/kfd-race free
