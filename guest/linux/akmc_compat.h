/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * amdkfd-mc guest driver: the differences between the kernels it builds for
 *
 * The driver is written against the interfaces of Linux 6.12 and later
 * (tested on Debian's 6.12 and sid's 7.x) and builds down to Debian
 * bookworm's 6.1.  Every difference between those kernels is handled
 * here, and only here: no other file of the driver tests a kernel version.
 * Where an interface changed its signature the driver calls an akmc_
 * wrapper, which is the new interface itself on a new kernel.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */
#ifndef AKMC_COMPAT_H
#define AKMC_COMPAT_H

#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/version.h>

/* The kernel built against, as MAJOR.MINOR (from <linux/version.h>) */
#define AKMC_KERNEL (LINUX_VERSION_MAJOR * 256 + LINUX_VERSION_PATCHLEVEL)
#define AKMC_KERNEL_AT_LEAST(major, minor) \
	((major) * 256 + (minor) <= AKMC_KERNEL)

/* 6.10 renamed the INTx flag of pci_alloc_irq_vectors() */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

/*
 * A DRM device's file_operations must carry FOP_UNSIGNED_OFFSET from 6.12
 * on (drm_open() refuses the file otherwise); before, drm_open() set
 * FMODE_UNSIGNED_OFFSET in the file itself and there was no fop_flags.
 * Used as the last member of an initializer.
 */
#ifdef FOP_UNSIGNED_OFFSET
#define AKMC_DRM_FOP_FLAGS .fop_flags = FOP_UNSIGNED_OFFSET,
#else
#define AKMC_DRM_FOP_FLAGS
#endif

/*
 * 6.14 dropped the driver date of struct drm_driver (DRM_IOCTL_VERSION
 * answers "0" since); before, the DRM core warns when it is missing.
 */
#if AKMC_KERNEL_AT_LEAST(6, 14)
#define AKMC_DRM_DRIVER_DATE
#else
#define AKMC_DRM_DRIVER_DATE .date = "20260101",
#endif

#if AKMC_KERNEL_AT_LEAST(6, 12)

/* Map one BAR, managed: requested and ioremapped until the driver unbinds */
static inline void __iomem *akmc_pcim_iomap_region(struct pci_dev *pdev,
						   int bar, const char *name)
{
	return pcim_iomap_region(pdev, bar, name);
}

/* Reserve one BAR without mapping it, managed */
static inline int akmc_pcim_request_region(struct pci_dev *pdev, int bar,
					   const char *name)
{
	return pcim_request_region(pdev, bar, name);
}

#else

/*
 * 6.1 has neither: pcim_iomap_regions() maps a mask of BARs into the
 * device's managed table, and pci_request_region() is released by the
 * device's devres once pcim_enable_device() made it managed.
 */
static inline void __iomem *akmc_pcim_iomap_region(struct pci_dev *pdev,
						   int bar, const char *name)
{
	int ret = pcim_iomap_regions(pdev, BIT(bar), name);

	if (ret)
		return IOMEM_ERR_PTR(ret);
	return pcim_iomap_table(pdev)[bar];
}

static inline int akmc_pcim_request_region(struct pci_dev *pdev, int bar,
					   const char *name)
{
	return pci_request_region(pdev, bar, name);
}

#endif

/* 6.4 dropped class_create()'s owner argument */
static inline struct class *akmc_class_create(const char *name)
{
#if AKMC_KERNEL_AT_LEAST(6, 4)
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/* 6.3 made vm_flags writable only through these */
static inline void akmc_vm_flags_set(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
#if AKMC_KERNEL_AT_LEAST(6, 3)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void akmc_vm_flags_clear(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#if AKMC_KERNEL_AT_LEAST(6, 3)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* 6.5 dropped pin_user_pages()'s vmas argument (always NULL here) */
static inline long akmc_pin_user_pages(unsigned long start,
				       unsigned long nr_pages,
				       unsigned int gup_flags,
				       struct page **pages)
{
#if AKMC_KERNEL_AT_LEAST(6, 5)
	return pin_user_pages(start, nr_pages, gup_flags, pages);
#else
	return pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
#endif
}

#endif
