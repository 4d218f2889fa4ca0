/*
 * amdkfd-mc guest test: the render node through Debian's libdrm_amdgpu
 *
 * What libhsakmt and ROCr do with a GPU node's render node, with nothing
 * else in the way: open /dev/dri/renderD<drm_render_minor of the
 * topology>, drmGetVersion, amdgpu_device_initialize (twice, the second
 * through another file, which libdrm matches to the first), the marketing
 * name, the GPU info and the AMDGPU_INFO queries the device answers;
 * unanswered queries and other ioctls must fail (EINVAL, ENOTTY).  The
 * run script checks that nothing was printed on stderr.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xf86drm.h>
#include <amdgpu.h>
#include <amdgpu_drm.h>
#include "report.h"

static unsigned long node_prop(const char *name)
{
    FILE *f = fopen("/sys/class/kfd/kfd/topology/nodes/1/properties", "r");
    char key[64];
    unsigned long long v, found = 0;

    if (!f) {
        return 0;
    }
    while (fscanf(f, "%63s %llu", key, &v) == 2) {
        if (!strcmp(key, name)) {
            found = v;
        }
    }
    fclose(f);
    return (unsigned long)found;
}

/*
 * The name libdrm's table gives (asic id, PCI revision), or libdrm's
 * fallback when it has none
 */
static void ids_name(unsigned did, unsigned rid, char *name, size_t len)
{
    FILE *f = fopen("/usr/share/libdrm/amdgpu.ids", "r");
    char line[256];
    unsigned d, r;
    int n;

    snprintf(name, len, "AMD Radeon Graphics");
    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%x, %x, %n", &d, &r, &n) == 2 && d == did &&
            r == rid) {
            line[strcspn(line, "\n")] = 0;
            snprintf(name, len, "%s", line + n);
        }
    }
    if (f) {
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    unsigned minor = (unsigned)node_prop("drm_render_minor");
    unsigned device = (unsigned)node_prop("device_id");
    struct drm_amdgpu_memory_info mem = { 0 };
    struct drm_amdgpu_info_hw_ip ip = { 0 };
    amdgpu_device_handle h, h2;
    struct amdgpu_gpu_info gi;
    uint32_t major, min, accel = 0;
    drmVersionPtr v;
    const char *name;
    char path[64], expect[128];
    int fd, fd2, r;

    /* -u UID: as an unprivileged program (root drops to UID) */
    if (argc > 2 && !strcmp(argv[1], "-u") && !getuid() &&
        (setgid(atoi(argv[2])) || setuid(atoi(argv[2])))) {
        perror("setuid");
        return 2;
    }
    snprintf(path, sizeof(path), "/dev/dri/renderD%u", minor);
    fd = open(path, O_RDWR | O_CLOEXEC);
    check(fd >= 0, "open %s (drm_render_minor of node 1): %s", path,
          fd < 0 ? strerror(errno) : "ok");
    if (fd < 0) {
        goto out;
    }
    check(drmGetNodeTypeFromFd(fd) == DRM_NODE_RENDER,
          "libdrm sees a render node");
    v = drmGetVersion(fd);
    check(v && v->version_major == 3, "DRM_IOCTL_VERSION: %s %d.%d.%d",
          v ? v->name : "?", v ? v->version_major : -1,
          v ? v->version_minor : -1, v ? v->version_patchlevel : -1);
    drmFreeVersion(v);
    r = amdgpu_device_initialize(fd, &major, &min, &h);
    check(!r, "amdgpu_device_initialize: %d (DRM %u.%u)", r, major, min);
    if (r) {
        goto out;
    }
    r = amdgpu_query_gpu_info(h, &gi);
    name = amdgpu_get_marketing_name(h);
    ids_name(gi.asic_id, gi.pci_rev_id, expect, sizeof(expect));
    check(name && !strcmp(name, expect),
          "marketing name: \"%s\" (amdgpu.ids for %04X rev %02X: \"%s\")",
          name ? name : "(none)", gi.asic_id, gi.pci_rev_id, expect);
    check(!r && gi.asic_id == device && gi.family_id,
          "GPU info: asic 0x%x (topology 0x%x), family %u, %u CUs, chip rev "
          "%u", gi.asic_id, device, gi.family_id, gi.cu_active_number,
          gi.chip_rev);
    r = amdgpu_query_info(h, AMDGPU_INFO_ACCEL_WORKING, 4, &accel);
    check(!r && accel == 1, "ACCEL_WORKING: %u", accel);
    r = amdgpu_query_info(h, AMDGPU_INFO_MEMORY, sizeof(mem), &mem);
    check(!r && mem.vram.total_heap_size &&
          mem.vram.total_heap_size == node_prop("local_mem_size") +
          mem.vram.total_heap_size * !node_prop("local_mem_size"),
          "MEMORY: VRAM %llu MiB, GTT %llu MiB",
          (unsigned long long)mem.vram.total_heap_size >> 20,
          (unsigned long long)mem.gtt.total_heap_size >> 20);
    r = amdgpu_query_hw_ip_info(h, AMDGPU_HW_IP_GFX, 0, &ip);
    check(r == -EINVAL, "an unanswered query (HW_IP_INFO): %s",
          strerror(-r));
    errno = 0;
    r = ioctl(fd, DRM_IOCTL_GEM_CLOSE, &(struct drm_gem_close) { 1 });
    check(r < 0 && errno == ENOTTY, "DRM_IOCTL_GEM_CLOSE: %s",
          strerror(errno));
    errno = 0;
    r = ioctl(fd, DRM_IOCTL_GET_CAP, &(struct drm_get_cap) { 1, 0 });
    check(r < 0 && errno == ENOTTY, "DRM_IOCTL_GET_CAP: %s",
          strerror(errno));
    errno = 0;
    r = ioctl(fd, DRM_IOCTL_AMDGPU_CS, &(union drm_amdgpu_cs) { 0 });
    check(r < 0 && errno == ENOTTY, "DRM_IOCTL_AMDGPU_CS: %s",
          strerror(errno));
    /* a second file of the same node: libdrm finds the device again */
    fd2 = open(path, O_RDWR | O_CLOEXEC);
    r = fd2 < 0 ? -errno : amdgpu_device_initialize(fd2, &major, &min, &h2);
    check(!r && h2 == h, "amdgpu_device_initialize again: %d, %s handle",
          r, h2 == h ? "the same" : "another");
    if (!r) {
        amdgpu_device_deinitialize(h2);
    }
    amdgpu_device_deinitialize(h);
    close(fd2);
    close(fd);
out:
    return report_finish("drm-client");
}
