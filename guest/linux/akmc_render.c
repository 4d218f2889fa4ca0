// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: DRM render node stand-ins
 *
 * libhsakmt opens /dev/dri/renderD<drm_render_minor> of every GPU node
 * and hands the file to AMDKFD_IOC_ACQUIRE_VM.  The device supplies each
 * context's own GPU VM and ignores that descriptor, so a render node here
 * only has to exist and open: it is emulated, nothing of it is forwarded.
 * DRM_IOCTL_VERSION answers "amdkfd_mc" (not "amdgpu", so libdrm_amdgpu
 * refuses it cleanly) and every other ioctl fails with ENOTTY.  mmap() is
 * forwarded: libhsakmt maps memory objects through the render node, so
 * the mapping resolves the mmap offset in the calling process's /dev/kfd
 * context (its newest open file), exactly as an mmap of /dev/kfd would,
 * and keeps that context alive until it is unmapped (akmc_map.c).
 * See README.md.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/drm/drm.h>

#include "akmc.h"

static dev_t akmc_render_devt;
static struct cdev akmc_render_cdev;
static struct class *akmc_render_class;
static struct device *akmc_render_devs[AMDKFD_MC_MAX_NODES];

static const char akmc_render_name[] = "amdkfd_mc";
static const char akmc_render_desc[] = "amdkfd-mc render node stand-in";

static int akmc_render_open(struct inode *inode, struct file *filp)
{
	struct akmc_dev *dev = akmc_dev_get();

	if (!dev)
		return -ENODEV;
	akmc_dev_put(dev);
	return 0;
}

static int akmc_render_str(char __user *dst, __kernel_size_t *len,
			   const char *src)
{
	size_t n = strlen(src);

	if (*len && dst && copy_to_user(dst, src, min_t(size_t, *len, n)))
		return -EFAULT;
	*len = n;
	return 0;
}

static long akmc_render_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	struct drm_version v;
	int ret;

	if (cmd != DRM_IOCTL_VERSION)
		return -ENOTTY;
	if (copy_from_user(&v, (void __user *)arg, sizeof(v)))
		return -EFAULT;
	v.version_major = 1;
	v.version_minor = 0;
	v.version_patchlevel = 0;
	ret = akmc_render_str(v.name, &v.name_len, akmc_render_name);
	if (!ret)
		ret = akmc_render_str(v.date, &v.date_len, "20260101");
	if (!ret)
		ret = akmc_render_str(v.desc, &v.desc_len, akmc_render_desc);
	if (!ret && copy_to_user((void __user *)arg, &v, sizeof(v)))
		ret = -EFAULT;
	return ret;
}

static int akmc_render_mmap(struct file *filp, struct vm_area_struct *vma)
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

static const struct file_operations akmc_render_fops = {
	.owner = THIS_MODULE,
	.open = akmc_render_open,
	.mmap = akmc_render_mmap,
	.unlocked_ioctl = akmc_render_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static char *akmc_render_devnode(const struct device *d, umode_t *mode)
{
	if (mode)
		*mode = 0666;
	return kasprintf(GFP_KERNEL, "dri/%s", dev_name(d));
}

int akmc_render_init(struct akmc_dev *dev)
{
	struct device *d;
	u32 i, minor;
	int ret;

	ret = alloc_chrdev_region(&akmc_render_devt, 0, AMDKFD_MC_MAX_NODES,
				  "amdkfd_mc_render");
	if (ret)
		return ret;
	cdev_init(&akmc_render_cdev, &akmc_render_fops);
	akmc_render_cdev.owner = THIS_MODULE;
	ret = cdev_add(&akmc_render_cdev, akmc_render_devt,
		       AMDKFD_MC_MAX_NODES);
	if (ret)
		goto err_region;
	akmc_render_class = class_create("amdkfd_mc_render");
	if (IS_ERR(akmc_render_class)) {
		ret = PTR_ERR(akmc_render_class);
		goto err_cdev;
	}
	akmc_render_class->devnode = akmc_render_devnode;
	for (i = 0; i < dev->num_nodes; i++) {
		minor = le32_to_cpu(dev->nodes[i].drm_render_minor);
		d = device_create(akmc_render_class, &dev->pdev->dev,
				  akmc_render_devt + i, NULL, "renderD%u",
				  minor);
		if (IS_ERR(d)) {
			/* e.g. a real DRM driver owns that name: not fatal */
			dev_warn(&dev->pdev->dev, "no renderD%u stand-in: %ld\n",
				 minor, PTR_ERR(d));
			continue;
		}
		akmc_render_devs[i] = d;
	}
	return 0;

err_cdev:
	cdev_del(&akmc_render_cdev);
err_region:
	unregister_chrdev_region(akmc_render_devt, AMDKFD_MC_MAX_NODES);
	akmc_render_class = NULL;
	return ret;
}

void akmc_render_fini(struct akmc_dev *dev)
{
	u32 i;

	if (!akmc_render_class)
		return;
	for (i = 0; i < AMDKFD_MC_MAX_NODES; i++) {
		if (akmc_render_devs[i])
			device_destroy(akmc_render_class, akmc_render_devt + i);
		akmc_render_devs[i] = NULL;
	}
	class_destroy(akmc_render_class);
	akmc_render_class = NULL;
	cdev_del(&akmc_render_cdev);
	unregister_chrdev_region(akmc_render_devt, AMDKFD_MC_MAX_NODES);
}
