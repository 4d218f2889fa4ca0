#!/bin/sh
# Guest test, negative control (legacy-shared=on): the same attack on
# USERPTR memory must be seen to succeed.
chmod 0666 /dev/kfd
exec /tests/kfd-userptr -u 65534 attack --legacy
