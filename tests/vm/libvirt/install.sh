#!/bin/sh
# Install what make check-libvirt needs from Debian (bookworm: libvirt 9.0):
#   libvirt-daemon-driver-qemu  virt-qemu-run and the QEMU driver module
#   libvirt-clients             virt-xml-validate, virsh
#   libxml2-utils               xmllint (virt-xml-validate runs it)
# and, as Debian's libvirt-daemon-system postinst does, the libvirt-qemu
# user and group: libvirt's privileged QEMU driver resolves its built-in
# default user libvirt-qemu:libvirt-qemu before it reads qemu.conf, and
# QEMU runs as that user (tests/vm/libvirt/qemu.conf).
# As root: installs.  Otherwise: prints the exact commands and fails.
set -eu
PKGS="libvirt-daemon-driver-qemu libvirt-clients libxml2-utils"

have_tools() {
	command -v virt-qemu-run >/dev/null 2>&1 &&
		command -v virt-xml-validate >/dev/null 2>&1 &&
		command -v virsh >/dev/null 2>&1 &&
		command -v xmllint >/dev/null 2>&1
}

have_users() {
	getent passwd libvirt-qemu >/dev/null 2>&1 &&
		getent group libvirt-qemu >/dev/null 2>&1 &&
		getent group kvm >/dev/null 2>&1
}

if have_tools && { [ "$(id -u)" -ne 0 ] || have_users; }; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install.sh: libvirt is missing; as root run:" >&2
	echo "    apt-get install --no-install-recommends $PKGS" >&2
	exit 1
fi

if ! have_tools; then
	echo "install.sh: installing $PKGS" >&2
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! apt-get install -y -q --no-install-recommends $PKGS >&2; then
		apt-get update -q >&2
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $PKGS >&2
	fi
	have_tools || {
		echo "install.sh: $PKGS installed but virt-qemu-run/virt-xml-validate missing" >&2
		exit 1
	}
fi

if ! have_users; then
	echo "install.sh: adding the libvirt-qemu user and group (as libvirt-daemon-system does)" >&2
	getent group kvm >/dev/null || addgroup --quiet --system kvm
	getent passwd libvirt-qemu >/dev/null ||
		adduser --quiet --system --ingroup kvm --disabled-login \
			--disabled-password --home /var/lib/libvirt --no-create-home \
			--gecos "Libvirt Qemu" libvirt-qemu
	if ! getent group libvirt-qemu >/dev/null; then
		addgroup --quiet --system libvirt-qemu
		adduser --quiet libvirt-qemu libvirt-qemu
	fi
fi
