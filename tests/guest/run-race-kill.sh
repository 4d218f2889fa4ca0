#!/bin/sh
# Guest test, as unprivileged users: a SIGKILLed FREE waiter with a CLONE_VM sibling (race c).
# /dev/kfd is world-accessible as ROCm's udev rules make it.
chmod 0666 /dev/kfd
exec /tests/kfd-race kill
