// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY -- NEVER SHIP, NEVER LOAD OUTSIDE A THROW-AWAY TEST VM.
 *
 * Since the KFD hot-unplug rework (Linux 7.x), kfd_create_process() refuses
 * to create any KFD process while kfd_gpu_node_num() is 0, so on a machine
 * without an AMD GPU every open of /dev/kfd fails with EINVAL and the
 * upstream multiple-context code cannot be exercised. This module puts a
 * kretprobe on kfd_gpu_node_num() that turns a 0 result into 1, which lets
 * the GPU-less parts of KFD (processes, contexts, events, event pages,
 * sysfs) run in a VM, so the amdkfd-mc conformance program can use
 * upstream 7.x as the reference for the 6.12 backport.
 *
 * It lies to the driver about hardware, taints the kernel and would make
 * a real system misbehave. It is built only by tests/vm/kernel and loaded
 * only into the reference VM, after amdgpu.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/ptrace.h>

static unsigned long hits;

static int fake_gpu_node_ret(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	if (regs_return_value(regs) == 0)
		regs_set_return_value(regs, 1);
	hits++;
	return 0;
}

static struct kretprobe fake_gpu_node_probe = {
	.kp.symbol_name = "kfd_gpu_node_num",
	.handler = fake_gpu_node_ret,
	.maxactive = 64,
};

static int __init fake_gpu_init(void)
{
	int ret = register_kretprobe(&fake_gpu_node_probe);

	if (ret) {
		pr_err("test_only_kfd_fake_gpu: cannot probe kfd_gpu_node_num: %d\n",
		       ret);
		return ret;
	}
	add_taint(TAINT_TEST, LOCKDEP_STILL_OK);
	pr_warn("test_only_kfd_fake_gpu: TEST ONLY: kfd_gpu_node_num() now reports at least 1\n");
	return 0;
}

static void __exit fake_gpu_exit(void)
{
	unregister_kretprobe(&fake_gpu_node_probe);
	pr_info("test_only_kfd_fake_gpu: removed after %lu calls\n", hits);
}

module_init(fake_gpu_init);
module_exit(fake_gpu_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TEST ONLY: fake one KFD GPU node so GPU-less VMs can test KFD contexts");
