// SPDX-License-Identifier: GPL-2.0
/*
 * hbench_exit: guest kernel module for `make bench` that times the two
 * cheapest ways out of the guest, which EL0 cannot reach on its own:
 *
 *   hvc   PSCI_VERSION through the kernel's PSCI conduit. Under the
 *         hypervisor the guest DTB says method = "hvc", so each call is one
 *         exit to EL2 and back (HVC trap, PSCI dispatch, ERET). Natively
 *         QEMU's DTB says "smc" and QEMU answers the SMC itself (its
 *         built-in PSCI firmware), which is the nearest native equivalent.
 *   mmio  32-bit reads of GICD_IIDR (distributor offset 0x8). Under the
 *         hypervisor the distributor is not mapped at stage 2, so each read
 *         is a data abort to EL2, decoded and emulated by the vGIC.
 *         Natively it is QEMU's own GIC model.
 *
 * and, third, a cross-CPU IPI that the sender busy-waits for:
 *
 *   ipi   smp_call_function_single(B, nop, NULL, wait=1) from the writer's
 *         CPU: one IPI to CPU B, whose handler runs the (empty) function and
 *         marks the call done, while the caller spins on that mark. hbench
 *         keeps B busy with a user-space spinner meanwhile, so B is running,
 *         not idle: under the hypervisor in single mode both vCPUs are
 *         runnable on one pCPU and the round trip shows how soon the
 *         scheduler lets B answer.
 *
 * Interface: /proc/hbench_exit. Write "hvc N" or "mmio N" (1 <= N <= 1e7);
 * the write runs N calls back to back on the writer's CPU, with interrupts
 * off in chunks of 256 calls, and returns when done. Reading the file then
 * gives one line
 *
 *   op=hvc conduit=hvc cpu=0 iters=N ticks=T freq=F result=0x10001
 *
 * where T is the CNTVCT ticks spent in the N calls and F is CNTFRQ. The guest
 * program (hbench exit ...) turns batches of these into BENCH lines.
 *
 * Write "ipi N B MS" (1 <= N <= 1e5 rounds, B another online CPU, a budget of
 * MS milliseconds, 1 <= MS <= 600000): rounds one after the other, with
 * interrupts on, until N are done or the budget is spent. The line read
 * back then has iters = the rounds done, ticks = their sum, result = how
 * often the function ran on B, and the round times' median, 90th
 * percentile, minimum and maximum in ticks:
 *
 *   op=ipi conduit=none cpu=0 iters=R ticks=T freq=F result=0x<R> target=1 median=M p90=P min=L max=H
 */
#include <linux/arm-smccc.h>
#include <linux/io.h>
#include <linux/irqflags.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/psci.h>
#include <asm/barrier.h>
#include <asm/sysreg.h>

#define GICD_IIDR 0x8
#define MAX_ITERS 10000000UL
#define MAX_IPI_ROUNDS 100000UL
#define MAX_IPI_MS 600000UL

static DEFINE_MUTEX(lock);
static char result[256];
static enum arm_smccc_conduit conduit = SMCCC_CONDUIT_NONE;
static void __iomem *gicd;

/* The kernel's SMCCC conduit if it knows one (SMCCC v1.1+ firmware), else
 * the "method" of the DT's PSCI node, which is what the PSCI driver itself
 * probes ("psci: probing for conduit method from DT"). */
static enum arm_smccc_conduit find_conduit(void)
{
	static const struct of_device_id psci_ids[] = {
		{ .compatible = "arm,psci" },
		{ .compatible = "arm,psci-0.2" },
		{ .compatible = "arm,psci-1.0" },
		{}
	};
	enum arm_smccc_conduit c = arm_smccc_1_1_get_conduit();
	struct device_node *np;
	const char *method = NULL;

	if (c != SMCCC_CONDUIT_NONE)
		return c;
	np = of_find_matching_node(NULL, psci_ids);
	if (!np)
		return SMCCC_CONDUIT_NONE;
	if (of_property_read_string(np, "method", &method) == 0) {
		if (!strcmp(method, "hvc"))
			c = SMCCC_CONDUIT_HVC;
		else if (!strcmp(method, "smc"))
			c = SMCCC_CONDUIT_SMC;
	}
	of_node_put(np);
	return c;
}

static inline u64 counter(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static const char *conduit_name(void)
{
	return conduit == SMCCC_CONDUIT_HVC ? "hvc" : conduit == SMCCC_CONDUIT_SMC ? "smc" : "none";
}

static unsigned long psci_version(void)
{
	struct arm_smccc_res res;

	if (conduit == SMCCC_CONDUIT_HVC)
		arm_smccc_1_1_hvc(PSCI_0_2_FN_PSCI_VERSION, &res);
	else
		arm_smccc_1_1_smc(PSCI_0_2_FN_PSCI_VERSION, &res);
	return res.a0;
}

/* Interrupts are off only for one chunk at a time, so a large N (or a slow
 * exit: about 20 us in single-pCPU mode) never holds them off for long;
 * only the time inside the chunks is counted. */
#define CHUNK 256

static unsigned long one_call(bool hvc)
{
	return hvc ? psci_version() : readl_relaxed(gicd + GICD_IIDR);
}

static int run(const char *op, unsigned long n)
{
	bool hvc = !strcmp(op, "hvc");
	unsigned long flags, done = 0, last = 0;
	u64 ticks = 0;
	int cpu = -1;

	if (!hvc && strcmp(op, "mmio"))
		return -EINVAL;
	if (hvc ? conduit == SMCCC_CONDUIT_NONE : !gicd)
		return -ENODEV;
	while (done < n) {
		unsigned long i, m = min(n - done, (unsigned long)CHUNK);
		u64 t0;

		local_irq_save(flags);
		t0 = counter();
		for (i = 0; i < m; i++)
			last = one_call(hvc);
		ticks += counter() - t0;
		cpu = smp_processor_id();
		local_irq_restore(flags);
		done += m;
		cond_resched();
	}
	snprintf(result, sizeof(result), "op=%s conduit=%s cpu=%d iters=%lu ticks=%llu freq=%llu result=0x%lx\n",
		 op, conduit_name(), cpu, n, ticks, (u64)read_sysreg(cntfrq_el0), last);
	return 0;
}

static atomic_t ipi_hits;

static void ipi_nop(void *info)
{
	atomic_inc(&ipi_hits);
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return (x > y) - (x < y);
}

/* The rounds are timed one by one, interrupts on (smp_call_function_single
 * must not wait with them off), so a round that a timer tick or the
 * hypervisor's scheduler stretched is in the sample: that is the point. */
static int run_ipi(unsigned long n, unsigned int target, unsigned long ms)
{
	u64 freq = read_sysreg(cntfrq_el0), start, ticks = 0;
	u64 budget = freq * ms / 1000;
	unsigned long done = 0;
	u32 *rounds;
	int cpu = raw_smp_processor_id(), err = 0;

	/* The writer is pinned (hbench pins itself), so cpu stays its CPU. */
	if (target == cpu || !cpu_online(target))
		return -EINVAL;
	rounds = kvmalloc_array(n, sizeof(*rounds), GFP_KERNEL);
	if (!rounds)
		return -ENOMEM;
	atomic_set(&ipi_hits, 0);
	start = counter();
	while (done < n && counter() - start < budget) {
		u64 t0 = counter(), t;

		err = smp_call_function_single(target, ipi_nop, NULL, 1);
		t = counter() - t0;
		if (err)
			break;
		rounds[done++] = (u32)min_t(u64, t, U32_MAX);
		ticks += t;
		cond_resched();
	}
	if (!err && done) {
		sort(rounds, done, sizeof(*rounds), cmp_u32, NULL);
		snprintf(result, sizeof(result),
			 "op=ipi conduit=none cpu=%d iters=%lu ticks=%llu freq=%llu result=0x%x target=%u median=%u p90=%u "
			 "min=%u max=%u\n", cpu, done, ticks, freq, atomic_read(&ipi_hits), target,
			 rounds[(done - 1) / 2], rounds[(done * 9 + 9) / 10 - 1], rounds[0], rounds[done - 1]);
	}
	kvfree(rounds);
	return err ? err : done ? 0 : -ETIMEDOUT;
}

static ssize_t hb_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[48], op[8];
	unsigned long n;
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%7s %lu", op, &n) != 2 || n == 0 || n > MAX_ITERS)
		return -EINVAL;
	mutex_lock(&lock);
	if (!strcmp(op, "ipi")) {
		unsigned long target, ms;

		if (sscanf(buf, "%*s %*u %lu %lu", &target, &ms) != 2 || n > MAX_IPI_ROUNDS || !ms ||
		    ms > MAX_IPI_MS || target >= nr_cpu_ids)
			err = -EINVAL;
		else
			err = run_ipi(n, (unsigned int)target, ms);
	} else {
		err = run(op, n);
	}
	mutex_unlock(&lock);
	return err ? err : (ssize_t)len;
}

static ssize_t hb_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	ssize_t r;

	mutex_lock(&lock);
	r = simple_read_from_buffer(ubuf, len, ppos, result, strlen(result));
	mutex_unlock(&lock);
	return r;
}

static const struct proc_ops hb_ops = {
	.proc_read = hb_read,
	.proc_write = hb_write,
	.proc_lseek = default_llseek,
};

static int __init hb_init(void)
{
	struct device_node *np = of_find_compatible_node(NULL, NULL, "arm,gic-v3");

	if (np) {
		gicd = of_iomap(np, 0); /* reg[0] is the distributor */
		of_node_put(np);
	}
	conduit = find_conduit();
	if (!proc_create("hbench_exit", 0600, NULL, &hb_ops)) {
		if (gicd)
			iounmap(gicd);
		return -ENOMEM;
	}
	pr_info("hbench_exit: PSCI conduit %s, GICD %s\n", conduit_name(), gicd ? "mapped" : "not found");
	return 0;
}

static void __exit hb_exit(void)
{
	remove_proc_entry("hbench_exit", NULL);
	if (gicd)
		iounmap(gicd);
}

module_init(hb_init);
module_exit(hb_exit);
MODULE_DESCRIPTION("make bench: null hypercall, emulated MMIO read and busy-waited IPI round trips");
MODULE_LICENSE("GPL");
