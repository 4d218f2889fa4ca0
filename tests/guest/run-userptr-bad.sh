#!/bin/sh
# Guest test, as an unprivileged user: hostile USERPTR arguments (unaligned,
# huge, wrapping, unmapped, read-only, shared, device mappings, another
# process's address, another context's pages, a forked child).
chmod 0666 /dev/kfd
exec /tests/kfd-userptr -u 65534 bad
