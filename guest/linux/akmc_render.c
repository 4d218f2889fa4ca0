// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: the DRM render node of each GPU node
 *
 * libhsakmt opens /dev/dri/renderD<drm_render_minor> of every GPU node,
 * hands the file to AMDKFD_IOC_ACQUIRE_VM (the device supplies each
 * context's own GPU VM and ignores it), asks libdrm_amdgpu for the GPU's
 * marketing name (amdgpu_device_initialize) and maps memory objects
 * through it.  libdrm only treats a file as a render node if it is one of
 * the DRM core's (its sysfs device has a drm directory and its minor is a
 * render minor), so each GPU node gets a DRM device of its own, render
 * node only (DRIVER_RENDER, no GEM, no modesetting), whose minor the
 * topology publishes as drm_render_minor.
 *
 * Of its ioctls only DRM_IOCTL_VERSION (the core's answer: amdkfd_mc 3.0.0,
 * major 3 being what libdrm_amdgpu requires) and DRM_IOCTL_AMDGPU_INFO are
 * served; every other request is ENOTTY before the DRM core sees it.
 * AMDGPU_INFO answers ACCEL_WORKING (1), VRAM_GTT, DEV_INFO and MEMORY
 * (the device's OP_QUERY_DRM_INFO, so the marketing name is the GPU's),
 * READ_MMR_REG of GB_ADDR_CONFIG alone (the one register libdrm_amdgpu
 * reads for GFX9 and later; the device does not tell it, so it reads as 0)
 * and EINVAL for every other query, as amdgpu does for unknown ones.
 * mmap() is forwarded: the mapping resolves the offset in the calling
 * process's /dev/kfd context (its newest open file), exactly as an mmap of
 * /dev/kfd would, and keeps that context alive until it is unmapped
 * (akmc_map.c).  See README.md.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <uapi/drm/amdgpu_drm.h>

#include "akmc.h"

/* The one register libdrm_amdgpu's amdgpu_device_initialize() reads */
#define AKMC_GB_ADDR_CONFIG	0x263e
/* AMDGPU_INFO queries of all programs in flight to the device at once */
#define AKMC_DRM_QUERIES	8

struct akmc_drm {
	struct drm_device drm;
	struct akmc_dev *dev;		/* referenced */
	u32 node;			/* index of its GPU node record */
};

static struct akmc_drm *akmc_drm_of(struct drm_device *drm)
{
	return container_of(drm, struct akmc_drm, drm);
}

/* An AMDGPU_INFO query the device answers, copied as amdgpu copies it */
static int akmc_drm_query(struct akmc_drm *ad, u32 query, void __user *out,
			  u32 size)
{
	struct akmc_dev *dev = ad->dev;
	struct amdkfd_mc_cpl cpl = {};
	u8 *buf;
	int ret;

	buf = kzalloc(AMDKFD_MC_DRM_INFO_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = down_killable(&dev->drm_sem);
	if (ret)
		goto out;
	ret = akmc_cmd(dev, NULL, AMDKFD_MC_OP_QUERY_DRM_INFO, 0, ad->node,
		       query, buf, AMDKFD_MC_DRM_INFO_MAX, &cpl, AKMC_RUN_KILLABLE);
	up(&dev->drm_sem);
	if (ret)
		goto out;
	size = min3(size, (u32)min_t(u64, cpl.value, U32_MAX),
		    (u32)AMDKFD_MC_DRM_INFO_MAX);
	ret = copy_to_user(out, buf, size) ? -EFAULT : 0;
out:
	kfree(buf);
	return ret;
}

static int akmc_drm_info(struct drm_device *drm, void *data,
			 struct drm_file *file)
{
	struct akmc_drm *ad = akmc_drm_of(drm);
	struct drm_amdgpu_info *info = data;
	void __user *out = u64_to_user_ptr(info->return_pointer);
	u32 size = info->return_size;
	u32 one = 1, zero = 0;

	/* As amdgpu: a query needs somewhere to write its answer */
	if (!size || !info->return_pointer)
		return -EINVAL;
	switch (info->query) {
	case AMDGPU_INFO_ACCEL_WORKING:
		return copy_to_user(out, &one, min(size, 4U)) ? -EFAULT : 0;
	case AMDGPU_INFO_VRAM_GTT:
	case AMDGPU_INFO_DEV_INFO:
	case AMDGPU_INFO_MEMORY:
		return akmc_drm_query(ad, info->query, out, size);
	case AMDGPU_INFO_READ_MMR_REG:
		if (info->read_mmr_reg.dword_offset != AKMC_GB_ADDR_CONFIG ||
		    info->read_mmr_reg.count != 1)
			return -EINVAL;
		return copy_to_user(out, &zero, min(size, 4U)) ? -EFAULT : 0;
	default:
		return -EINVAL;
	}
}

static const struct drm_ioctl_desc akmc_drm_ioctls[] = {
	DRM_IOCTL_DEF_DRV(AMDGPU_INFO, akmc_drm_info, DRM_RENDER_ALLOW),
};

/* DRM_IOCTL_VERSION and DRM_IOCTL_AMDGPU_INFO; nothing else */
static bool akmc_drm_allowed(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == DRM_IOCTL_BASE &&
	       (_IOC_NR(cmd) == _IOC_NR(DRM_IOCTL_VERSION) ||
		_IOC_NR(cmd) == _IOC_NR(DRM_IOCTL_AMDGPU_INFO));
}

static long akmc_drm_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	if (!akmc_drm_allowed(cmd))
		return -ENOTTY;
	return drm_ioctl(filp, cmd, arg);
}

static long akmc_drm_compat_ioctl(struct file *filp, unsigned int cmd,
				  unsigned long arg)
{
	if (!akmc_drm_allowed(cmd))
		return -ENOTTY;
	return drm_compat_ioctl(filp, cmd, arg);
}

static int akmc_drm_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct akmc_file *kf;
	int ret;

	if (!dev)
		return -ENODEV;
	kf = akmc_file_of_current(dev);
	if (kf) {
		/*
		 * On success the mapping holds a reference on the file state
		 * and one user of the context, so the context outlives it
		 * even when the /dev/kfd file is closed first.
		 */
		ret = akmc_map_create(kf, vma, true);
		akmc_file_put(kf);
	} else {
		ret = -EBADF;
	}
	akmc_dev_put(dev);
	return ret;
}

static const struct file_operations akmc_drm_fops = {
	.owner = THIS_MODULE,
	.open = drm_open,
	.release = drm_release,
	.unlocked_ioctl = akmc_drm_ioctl,
	.compat_ioctl = akmc_drm_compat_ioctl,
	.mmap = akmc_drm_mmap,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	/* the DRM core's requirement; KFD mmap offsets use all 64 bits */
	AKMC_DRM_FOP_FLAGS
};

static const struct drm_driver akmc_drm_driver = {
	.driver_features = DRIVER_RENDER,
	.ioctls = akmc_drm_ioctls,
	.num_ioctls = ARRAY_SIZE(akmc_drm_ioctls),
	.fops = &akmc_drm_fops,
	.name = "amdkfd_mc",
	.desc = "amdkfd-mc render node",
	AKMC_DRM_DRIVER_DATE
	.major = 3,
	.minor = 0,
	.patchlevel = 0,
};

static void akmc_drm_release(struct drm_device *drm, void *data)
{
	akmc_dev_put(data);
}

/*
 * A DRM device per GPU node; dev->render_minor[i] is the minor of node
 * i's render node.  Devices that were made are undone by
 * akmc_render_fini() (the DRM core frees them with the binding).
 */
int akmc_render_init(struct akmc_dev *dev)
{
	struct akmc_drm *ad;
	u32 i;
	int ret;

	sema_init(&dev->drm_sem, AKMC_DRM_QUERIES);
	for (i = 0; i < dev->num_nodes; i++) {
		ad = devm_drm_dev_alloc(&dev->pdev->dev, &akmc_drm_driver,
					struct akmc_drm, drm);
		if (IS_ERR(ad))
			return PTR_ERR(ad);
		kref_get(&dev->kref);
		ad->dev = dev;
		ad->node = i;
		ret = drmm_add_action_or_reset(&ad->drm, akmc_drm_release, dev);
		if (ret)
			return ret;
		ret = drm_dev_register(&ad->drm, 0);
		if (ret)
			return ret;
		dev->drms[i] = &ad->drm;
		dev->render_minor[i] = ad->drm.render->index;
	}
	return 0;
}

void akmc_render_fini(struct akmc_dev *dev)
{
	u32 i;

	for (i = 0; i < AMDKFD_MC_MAX_NODES; i++) {
		if (dev->drms[i])
			drm_dev_unplug(dev->drms[i]);
		dev->drms[i] = NULL;
	}
}
