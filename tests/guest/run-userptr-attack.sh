#!/bin/sh
# Guest test, as unprivileged users: program B's GPU DMA to program A's
# USERPTR addresses faults and A's data stays intact.
chmod 0666 /dev/kfd
exec /tests/kfd-userptr -u 65534 attack
