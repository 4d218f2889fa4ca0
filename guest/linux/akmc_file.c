// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: /dev/kfd files and their device contexts
 *
 * Every open of /dev/kfd creates one device context (OP_CREATE_CONTEXT),
 * which the device backs with an isolated KFD context of its own on the
 * host.  The context is destroyed (OP_DESTROY_CONTEXT) when its last user
 * goes: the file, or a mapping made through a render node.  By then no
 * CPU mapping of the context is left (see akmc.h), and any that were
 * would be revoked first.
 *
 * Each process (mm) may hold at most max_contexts_per_process contexts;
 * more opens fail with EMFILE, so one program cannot take every context
 * of the device.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/cdev.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "akmc.h"

static dev_t akmc_devt;
static struct cdev akmc_cdev;
static struct class *akmc_class;
static struct dentry *akmc_debugfs;

bool akmc_same_process(const struct akmc_file *kf)
{
	return kf->mm == current->mm;
}

/* ---- processes ---- */

static void akmc_proc_free(struct kref *kref)
{
	kfree(container_of(kref, struct akmc_proc, kref));
	atomic_dec(&akmc_live[AKMC_LIVE_PROCS]);
}

void akmc_proc_put(struct akmc_proc *proc)
{
	kref_put(&proc->kref, akmc_proc_free);
}

/* The calling process's entry, made from @spare if new (files_lock held) */
static struct akmc_proc *akmc_proc_lookup(struct akmc_dev *dev,
					  struct akmc_proc **spare)
{
	struct akmc_proc *proc;

	list_for_each_entry(proc, &dev->procs, node)
		if (proc->mm == current->mm)
			return proc;
	proc = *spare;
	*spare = NULL;
	proc->mm = current->mm;
	proc->tgid = current->tgid;
	atomic_set(&proc->inflight, 0);
	atomic_set(&proc->waits, 0);
	atomic_long_set(&proc->pinned, 0);
	init_waitqueue_head(&proc->wq);
	kref_init(&proc->kref);
	list_add_tail(&proc->node, &dev->procs);
	atomic_inc(&akmc_live[AKMC_LIVE_PROCS]);
	return proc;
}

/* files_lock held */
static void akmc_proc_unuse(struct akmc_proc *proc)
{
	if (--proc->users)
		return;
	list_del(&proc->node);
	akmc_proc_put(proc);
}

/* ---- files ---- */

static void akmc_file_free(struct kref *kref)
{
	struct akmc_file *kf = container_of(kref, struct akmc_file, kref);
	struct akmc_dev *dev = kf->dev;

	/* Ended by the context's destruction, or given up with it */
	WARN_ON_ONCE(!list_empty(&kf->uptrs));
	xa_destroy(&kf->uptr_xa);
	mutex_lock(&dev->files_lock);
	akmc_proc_unuse(kf->proc);
	mutex_unlock(&dev->files_lock);
	mmdrop(kf->mm);
	akmc_dev_put(dev);
	kfree(kf);
	atomic_dec(&akmc_live[AKMC_LIVE_FILES]);
}

void akmc_file_put(struct akmc_file *kf)
{
	kref_put(&kf->kref, akmc_file_free);
}

/* How the OP_DESTROY_CONTEXT of @kf ended: its USERPTR pages follow */
static void akmc_ctx_destroyed(void *data, const struct amdkfd_mc_cpl *cpl,
			       int err)
{
	struct akmc_file *kf = data;
	struct akmc_dev *dev = kf->dev;

	if (!err && cpl->status == AMDKFD_MC_S_OK)
		akmc_uptr_context_gone(kf);
	else
		akmc_uptr_context_lost(kf);
	if (atomic_dec_and_test(&dev->destroying))
		wake_up_all(&dev->destroy_wq);
	akmc_file_put(kf);
}

/*
 * Sends OP_DESTROY_CONTEXT for @kf, which the caller counted in
 * dev->destroying.  The device completes it once the host context is
 * closed: only then are the context's pinned pages unpinned.  If the wait
 * is abandoned, its completion decides later.
 */
static int akmc_ctx_destroy(struct akmc_file *kf)
{
	struct amdkfd_mc_cmd cmd = {
		.opcode = AMDKFD_MC_OP_DESTROY_CONTEXT, .ctx_id = kf->ctx_id,
	};
	struct akmc_req *req;
	int ret;

	kref_get(&kf->kref);
	req = akmc_req_new(kf->dev, 0);
	if (!req) {
		akmc_ctx_destroyed(kf, NULL, -ENOMEM);
		return -ENOMEM;
	}
	akmc_req_set_late(req, akmc_ctx_destroyed, kf);
	ret = akmc_req_run(req, NULL, &cmd, AKMC_RUN_TEARDOWN);
	if ((ret == -ETIMEDOUT || ret == -EINTR) && akmc_req_submitted(req)) {
		/* abandoned: akmc_ctx_destroyed() runs when it ends */
		akmc_req_put(req);
		return ret;
	}
	akmc_ctx_destroyed(kf, akmc_req_cpl(req), ret);
	if (!ret)
		ret = akmc_status_errno(akmc_req_cpl(req));
	akmc_req_put(req);
	return ret;
}

/*
 * Drops one user of @kf's context.  The last one revokes whatever CPU
 * mapping is left (none can be: see akmc.h) and then destroys the context.
 */
void akmc_ctx_put(struct akmc_file *kf)
{
	struct akmc_dev *dev = kf->dev;
	bool last, destroy = false;

	mutex_lock(&kf->maps_lock);
	last = !--kf->ctx_users;
	if (last && kf->ctx_alive) {
		if (kf->nmaps) {
			dev_err_ratelimited(&dev->pdev->dev,
					    "ctx %#x: %u mappings left at destroy, revoked\n",
					    kf->ctx_id, kf->nmaps);
			akmc_revoke_all_locked(kf);
		}
		kf->ctx_alive = false;
		destroy = true;
		atomic_inc(&dev->destroying);
	}
	mutex_unlock(&kf->maps_lock);
	if (!last)
		return;
	if (destroy) {
		int ret = akmc_ctx_destroy(kf);

		if (ret && ret != -ENODEV)
			dev_warn_ratelimited(&dev->pdev->dev,
					     "ctx %#x: destroy failed: %d\n",
					     kf->ctx_id, ret);
	}
	mutex_lock(&dev->files_lock);
	list_del(&kf->node);
	kf->proc->contexts--;
	mutex_unlock(&dev->files_lock);
}

/*
 * Device removal, before the reset: every context that holds pinned
 * USERPTR pages is destroyed on its own (its mappings revoked first), so
 * that its pages are unpinned only once the device says the context is
 * gone; then the destructions under way are waited for.  A reset would
 * end the contexts too, but without telling when their DMA stopped.
 */
void akmc_files_quiesce(struct akmc_dev *dev)
{
	struct akmc_file *kf, *tmp;
	LIST_HEAD(todo);
	bool destroy;

	mutex_lock(&dev->files_lock);
	list_for_each_entry(kf, &dev->files, node) {
		if (akmc_uptr_any(kf)) {
			kref_get(&kf->kref);
			list_add_tail(&kf->quiesce, &todo);
		}
	}
	mutex_unlock(&dev->files_lock);
	list_for_each_entry_safe(kf, tmp, &todo, quiesce) {
		mutex_lock(&kf->maps_lock);
		destroy = kf->ctx_alive;
		if (destroy) {
			akmc_revoke_all_locked(kf);
			kf->ctx_alive = false;
			atomic_inc(&dev->destroying);
		}
		mutex_unlock(&kf->maps_lock);
		if (destroy)
			akmc_ctx_destroy(kf);
		list_del(&kf->quiesce);
		akmc_file_put(kf);
	}
	if (!wait_event_timeout(dev->destroy_wq, !atomic_read(&dev->destroying),
				AKMC_CMD_TIMEOUT))
		dev_warn(&dev->pdev->dev,
			 "%d context destructions unanswered at removal\n",
			 atomic_read(&dev->destroying));
}

/* The calling process's newest open /dev/kfd file, referenced */
struct akmc_file *akmc_file_of_current(struct akmc_dev *dev)
{
	struct akmc_file *kf, *found = NULL;

	mutex_lock(&dev->files_lock);
	list_for_each_entry_reverse(kf, &dev->files, node) {
		if (kf->open && kf->mm == current->mm) {
			kref_get(&kf->kref);
			found = kf;
			break;
		}
	}
	mutex_unlock(&dev->files_lock);
	return found;
}

static int akmc_open(struct inode *inode, struct file *filp)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct amdkfd_mc_context_info info = {};
	struct akmc_proc *proc, *spare = NULL;
	struct amdkfd_mc_cpl cpl = {};
	struct akmc_file *kf = NULL;
	int ret;

	if (!dev)
		return -ENODEV;
	if (!current->mm) {
		ret = -EINVAL;
		goto err_put;
	}
	kf = kzalloc(sizeof(*kf), GFP_KERNEL);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!kf || !spare) {
		ret = -ENOMEM;
		goto err_put;
	}

	mutex_lock(&dev->files_lock);
	if (dev->removing) {
		mutex_unlock(&dev->files_lock);
		ret = -ENODEV;
		goto err_put;
	}
	proc = akmc_proc_lookup(dev, &spare);
	proc->users++;
	if (proc->contexts >= READ_ONCE(akmc_max_contexts_per_process)) {
		akmc_proc_unuse(proc);
		mutex_unlock(&dev->files_lock);
		ret = -EMFILE;
		goto err_put;
	}
	proc->contexts++;
	mutex_unlock(&dev->files_lock);
	/* Not needed when this process already had an entry */
	kfree(spare);
	spare = NULL;

	ret = akmc_cmd(dev, proc, AMDKFD_MC_OP_CREATE_CONTEXT, 0, 0, 0, &info,
		       sizeof(info), &cpl, AKMC_RUN_KILLABLE);
	/* S_NO_RESOURCES (no context left in the device): ENOSPC */
	if (!ret && !cpl.value)
		ret = -EIO;
	if (ret) {
		mutex_lock(&dev->files_lock);
		proc->contexts--;
		akmc_proc_unuse(proc);
		mutex_unlock(&dev->files_lock);
		goto err_put;
	}

	kf->dev = dev;
	kf->proc = proc;
	kf->ctx_id = cpl.value;
	kf->info.ctx_id = le32_to_cpu(info.ctx_id);
	kf->info.host_ctx_id = le32_to_cpu(info.host_ctx_id);
	kf->info.pasid = le32_to_cpu(info.pasid);
	kf->info.flags = le32_to_cpu(info.flags);
	kf->mm = current->mm;
	mmgrab(kf->mm);
	atomic_inc(&akmc_live[AKMC_LIVE_FILES]);
	kf->tgid = current->tgid;
	kref_init(&kf->kref);
	mutex_init(&kf->maps_lock);
	INIT_LIST_HEAD(&kf->maps);
	akmc_uptr_file_init(kf);
	kf->ctx_users = 1;
	kf->ctx_alive = true;
	kf->open = true;

	mutex_lock(&dev->files_lock);
	if (dev->removing) {
		/* The reset that follows destroys the new context */
		kf->proc->contexts--;
		mutex_unlock(&dev->files_lock);
		kf->ctx_alive = false;
		akmc_file_put(kf);
		return -ENODEV;
	}
	list_add_tail(&kf->node, &dev->files);
	mutex_unlock(&dev->files_lock);
	filp->private_data = kf;
	dev_dbg(&dev->pdev->dev,
		"pid %d: context %#x, host context %#x, pasid %u, flags %#x\n",
		kf->tgid, kf->ctx_id, kf->info.host_ctx_id, kf->info.pasid,
		kf->info.flags);
	return 0;

err_put:
	kfree(spare);
	kfree(kf);
	akmc_dev_put(dev);
	return ret;
}

static int akmc_release(struct inode *inode, struct file *filp)
{
	struct akmc_file *kf = filp->private_data;

	mutex_lock(&kf->dev->files_lock);
	kf->open = false;
	mutex_unlock(&kf->dev->files_lock);
	akmc_ctx_put(kf);
	akmc_file_put(kf);
	return 0;
}

static int akmc_mmap(struct file *filp, struct vm_area_struct *vma)
{
	return akmc_map_create(filp->private_data, vma, false);
}

static const struct file_operations akmc_fops = {
	.owner = THIS_MODULE,
	.open = akmc_open,
	.release = akmc_release,
	.unlocked_ioctl = akmc_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = akmc_mmap,
};

/* Device removal: every context is gone with the reset; revoke its maps */
void akmc_files_revoke(struct akmc_dev *dev)
{
	struct akmc_file *kf;

	mutex_lock(&dev->files_lock);
	list_for_each_entry(kf, &dev->files, node) {
		mutex_lock(&kf->maps_lock);
		kf->ctx_alive = false;
		akmc_revoke_all_locked(kf);
		mutex_unlock(&kf->maps_lock);
	}
	mutex_unlock(&dev->files_lock);
}

int akmc_files_register(struct akmc_dev *dev)
{
	dev->kfd_dev = device_create(akmc_class, NULL, akmc_devt, NULL, "kfd");
	return PTR_ERR_OR_ZERO(dev->kfd_dev);
}

void akmc_files_unregister(struct akmc_dev *dev)
{
	mutex_lock(&dev->files_lock);
	dev->removing = true;
	mutex_unlock(&dev->files_lock);
	device_destroy(akmc_class, akmc_devt);
}

/* ---- debugfs: which host context backs which guest program ---- */

static int akmc_contexts_show(struct seq_file *s, void *unused)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct akmc_file *kf;

	if (!dev)
		return 0;
	mutex_lock(&dev->files_lock);
	list_for_each_entry(kf, &dev->files, node)
		seq_printf(s, "pid=%d ctx=%#x host_ctx=%#x pasid=%u flags=%#x maps=%u%s%s%s\n",
			   kf->tgid, kf->ctx_id, kf->info.host_ctx_id,
			   kf->info.pasid, kf->info.flags, READ_ONCE(kf->nmaps),
			   kf->info.flags & AMDKFD_MC_CTX_SECONDARY ?
			   " secondary" : "",
			   kf->info.flags & AMDKFD_MC_CTX_SHARED ?
			   " shared" : "", kf->open ? "" : " closed");
	mutex_unlock(&dev->files_lock);
	akmc_dev_put(dev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(akmc_contexts);

static int akmc_procs_show(struct seq_file *s, void *unused)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct akmc_proc *proc;

	if (!dev)
		return 0;
	mutex_lock(&dev->files_lock);
	list_for_each_entry(proc, &dev->procs, node)
		seq_printf(s, "pid=%d contexts=%u inflight=%d waits=%d pinned=%ld\n",
			   proc->tgid, proc->contexts,
			   atomic_read(&proc->inflight),
			   atomic_read(&proc->waits),
			   atomic_long_read(&proc->pinned));
	mutex_unlock(&dev->files_lock);
	akmc_dev_put(dev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(akmc_procs);

static int akmc_uptrs_show(struct seq_file *s, void *unused)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct akmc_file *kf;

	if (!dev)
		return 0;
	mutex_lock(&dev->files_lock);
	list_for_each_entry(kf, &dev->files, node)
		akmc_uptr_show(s, kf);
	mutex_unlock(&dev->files_lock);
	akmc_dev_put(dev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(akmc_uptrs);

static int akmc_live_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "files=%d procs=%d maps=%d reqs=%d uptrs=%d pinned=%ld leaked=%ld\n",
		   atomic_read(&akmc_live[AKMC_LIVE_FILES]),
		   atomic_read(&akmc_live[AKMC_LIVE_PROCS]),
		   atomic_read(&akmc_live[AKMC_LIVE_MAPS]),
		   atomic_read(&akmc_live[AKMC_LIVE_REQS]),
		   atomic_read(&akmc_live[AKMC_LIVE_UPTRS]),
		   atomic_long_read(&akmc_pinned_pages),
		   atomic_long_read(&akmc_leaked_pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(akmc_live);

int akmc_file_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&akmc_devt, 0, 1, "kfd");
	if (ret)
		return ret;
	cdev_init(&akmc_cdev, &akmc_fops);
	akmc_cdev.owner = THIS_MODULE;
	ret = cdev_add(&akmc_cdev, akmc_devt, 1);
	if (ret)
		goto err_region;
	akmc_class = akmc_class_create("kfd");
	if (IS_ERR(akmc_class)) {
		ret = PTR_ERR(akmc_class);
		goto err_cdev;
	}
	akmc_debugfs = debugfs_create_dir(AKMC_NAME, NULL);
	debugfs_create_file("contexts", 0444, akmc_debugfs, NULL,
			    &akmc_contexts_fops);
	debugfs_create_file("procs", 0444, akmc_debugfs, NULL,
			    &akmc_procs_fops);
	debugfs_create_file("live", 0444, akmc_debugfs, NULL,
			    &akmc_live_fops);
	debugfs_create_file("uptrs", 0444, akmc_debugfs, NULL,
			    &akmc_uptrs_fops);
	return 0;

err_cdev:
	cdev_del(&akmc_cdev);
err_region:
	unregister_chrdev_region(akmc_devt, 1);
	return ret;
}

void akmc_file_exit(void)
{
	debugfs_remove_recursive(akmc_debugfs);
	class_destroy(akmc_class);
	cdev_del(&akmc_cdev);
	unregister_chrdev_region(akmc_devt, 1);
}
