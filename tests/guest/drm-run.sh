#!/bin/sh
# Guest test: the render node through Debian's libdrm_amdgpu (drm-client),
# as an unprivileged program (render nodes are 0666, as ROCm's udev rules
# make them); nothing may be printed on stderr.
chmod 0666 /dev/dri/renderD*
LD_LIBRARY_PATH=/lib /tests/drm-client -u 65534 2> /tmp/drm.err
rc=$?
if [ -s /tmp/drm.err ]; then
	echo "drm: stderr (must be empty):"
	sed 's/^/    /' /tmp/drm.err
	rc=1
else
	echo "drm: nothing on stderr"
fi
exit $rc
