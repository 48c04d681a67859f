// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the CPUID a guest sees.
 *
 * CPUID is how an operating system learns what the CPU can do, so it is
 * also how a hypervisor decides what the guest may use. KVM's contract:
 * KVM_GET_SUPPORTED_CPUID says what the hypervisor *could* offer (host
 * features it can virtualize), the VMM picks from that and installs the
 * result per vCPU with KVM_SET_CPUID2, and the guest's CPUID instruction
 * exits to the kernel, which answers from that table (emulate.c).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/kvm_para.h>
#include <asm/processor.h>

#include "minikvm.h"

#define MKVM_MAX_SUPPORTED	32

/*
 * Features we pass through from the host (MCE and MCA: the machine-check
 * registers of mce.c; XSAVE and the AVX family: the guest's XCR0 and
 * state are switched, xsave.c). Everything else is hidden: the
 * guest must not see VMX/SVM (no nesting), MONITOR/MWAIT, PCID/INVPCID,
 * TSC-deadline (a VMM turns it on when KVM_CAP_TSC_DEADLINE_TIMER says
 * the LAPIC has it), RDTSCP (TSC_AUX is not switched), performance
 * counters, AVX-512, PKU. OSXSAVE (leaf 1 ECX 27) is not a feature but
 * the guest's CR4.OSXSAVE, filled in at run time (see below).
 * Bit numbers: SDM Vol.2 CPUID, Tables 3-10/3-11; APM Vol.3 E.4.
 */
#define F(bit)	BIT(bit)
static const u32 leaf1_edx = F(0) | F(1) | F(2) | F(3) | F(4) | F(5) |
	F(6) | F(7) | F(8) | F(9) | F(11) | F(12) | F(13) | F(14) | F(15) | F(16) |
	F(17) | F(19) | F(23) | F(24) | F(25) | F(26);	/* FPU..SSE2 */
static const u32 leaf1_ecx = F(0) | F(1) | F(9) | F(13) | F(19) |
	F(20) | F(22) | F(23) | F(25) | F(30);	/* SSE3..RDRAND */
static const u32 leaf7_ebx = F(0) | F(3) | F(8) | F(9);	/* FSGSBASE, BMI */
/* Need XCR0.AVX: FMA, AVX, F16C (leaf 1 ECX); AVX2 (leaf 7 EBX). */
static const u32 leaf1_ecx_avx = F(12) | F(28) | F(29);
static const u32 leaf7_ebx_avx = F(5);
#define CPUID_1_ECX_XSAVE	BIT(26)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
/* Leaf 0DH sub-leaf 1 EAX: XSAVEOPT, XSAVEC, XGETBV1 (no XSAVES). */
static const u32 leafd1_eax = F(0) | F(1) | F(2);
#define CPUID_D1_EAX_XSAVEC	BIT(1)
#define CPUID_D1_EAX_XSAVES	BIT(3)
static const u32 ext1_edx = F(11) | F(20) | F(29);	/* SYSCALL, NX, LM */
static const u32 ext1_ecx = F(0) | F(5) | F(8);	/* LAHF, LZCNT, PREFETCHW */
#undef F

/*
 * Leaf 0DH, the XSAVE leaf (SDM Vol.2 CPUID, Vol.1 13.2), limited to the
 * components a guest may enable (xsave.c). Sub-leaf 0: EDX:EAX the XCR0
 * bits, ECX the area size for all of them, EBX the size for the XCR0 in
 * force (rewritten at run time, below). Sub-leaf 1: instruction variants,
 * EBX the compacted size, ECX:EDX the IA32_XSS bits (none). Sub-leaf i:
 * component i's size, offset and alignment, as the host's.
 */
static void mkvm_xsave_leaf(struct kvm_cpuid_entry2 *x)
{
	u64 xcr0 = mkvm_supported_xcr0;

	switch (x->index) {
	case 0:
		x->eax &= (u32)xcr0;
		x->edx &= xcr0 >> 32;
		x->ebx = x->ecx = mkvm_xstate_size(xcr0, false);
		break;
	case 1:
		x->eax &= leafd1_eax;
		x->ebx = x->eax & CPUID_D1_EAX_XSAVEC ?
			 mkvm_xstate_size(xcr0, true) : 0;
		x->ecx = x->edx = 0;
		break;
	default:
		x->edx = 0;	/* reserved */
		break;
	}
}

static void mkvm_add_leaf(struct kvm_cpuid_entry2 *e, int *n, u32 fn,
			  u32 idx, bool indexed)
{
	struct kvm_cpuid_entry2 *x = &e[(*n)++];

	memset(x, 0, sizeof(*x));
	x->function = fn;
	x->index = idx;
	x->flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	cpuid_count(fn, idx, &x->eax, &x->ebx, &x->ecx, &x->edx);

	switch (fn) {
	case 0:
		x->eax = min_t(u32, x->eax, 0xd);
		break;
	case 1:
		/* EBX[31:24] is the host's APIC id: the guest's is its own. */
		x->ebx &= 0x0000ffff;
		/*
		 * Not the "hypervisor present" bit (ECX 31) either: as with
		 * KVM, the VMM sets it in KVM_SET_CPUID2 if it wants it.
		 */
		x->ecx &= leaf1_ecx |
			  (mkvm_supported_xcr0 ? CPUID_1_ECX_XSAVE : 0) |
			  (mkvm_supported_xcr0 & XFEATURE_MASK_YMM ?
			   leaf1_ecx_avx : 0);
		x->edx &= leaf1_edx;
		/*
		 * x2APIC is the in-kernel LAPIC's (lapic.c), whatever the host
		 * has: offered as KVM does, used with KVM_CREATE_IRQCHIP.
		 */
		x->ecx |= BIT(21);
		break;
	case 7:
		x->eax = 0;
		x->ebx &= leaf7_ebx |
			  (mkvm_supported_xcr0 & XFEATURE_MASK_YMM ?
			   leaf7_ebx_avx : 0);
		/* TSC_ADJUST: emulated whatever the host has (msr.c). */
		x->ebx |= BIT(1);
		x->ecx = x->edx = 0;
		break;
	case 0xd:
		mkvm_xsave_leaf(x);
		break;
	case 0x80000000:
		x->eax = min_t(u32, x->eax, 0x80000008);
		break;
	case 0x80000001:
		x->ecx &= ext1_ecx;
		x->edx &= ext1_edx;
		break;
	case 0x80000008:
		/* Address sizes only; no extra AMD features. */
		x->eax &= 0xffff;
		x->ebx = x->ecx = x->edx = 0;
		break;
	default:
		/* Brand string leaves 0x80000002-4 are passed as they are. */
		break;
	}
}

/*
 * The hypervisor's own leaves (Documentation/virt/kvm/x86/cpuid.rst in
 * Linux): 0x40000000 says "KVMKVMKVM" and how far the range goes,
 * 0x40000001 lists the paravirtual features. We offer kvmclock (both MSR
 * pairs, and the stable-bit flag it may carry: kvmclock.c), where the
 * host's TSC allows it, and NOP_IO_DELAY (a pure hint: port 0x80 delays
 * are not needed), and PV_SCHED_YIELD, the hypercall of pv.c. A guest
 * sees these only if the VMM copies them into KVM_SET_CPUID2, as QEMU does.
 */
static int mkvm_add_kvm_leaves(struct kvm_cpuid_entry2 *e)
{
	static const char sig[12] = "KVMKVMKVM\0\0\0";

	memset(e, 0, 2 * sizeof(*e));
	e[0].function = KVM_CPUID_SIGNATURE;
	e[0].eax = KVM_CPUID_FEATURES;
	memcpy(&e[0].ebx, sig, 4);
	memcpy(&e[0].ecx, sig + 4, 4);
	memcpy(&e[0].edx, sig + 8, 4);
	e[1].function = KVM_CPUID_FEATURES;
	e[1].eax = BIT(KVM_FEATURE_NOP_IO_DELAY) |
		   BIT(KVM_FEATURE_PV_SCHED_YIELD);
	if (mkvm_kvmclock_usable())
		e[1].eax |= BIT(KVM_FEATURE_CLOCKSOURCE) |
			    BIT(KVM_FEATURE_CLOCKSOURCE2) |
			    BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
	return 2;
}

static int mkvm_build_supported(struct kvm_cpuid_entry2 *e)
{
	u32 max = cpuid_eax(0), max_ext = cpuid_eax(0x80000000);
	static const u32 ext[] = { 0x80000000, 0x80000001, 0x80000002,
				   0x80000003, 0x80000004, 0x80000008 };
	int n = 0, i;

	mkvm_add_leaf(e, &n, 0, 0, false);
	mkvm_add_leaf(e, &n, 1, 0, false);
	if (max >= 7)
		mkvm_add_leaf(e, &n, 7, 0, true);
	if (max >= 0xd && mkvm_supported_xcr0) {
		mkvm_add_leaf(e, &n, 0xd, 0, true);
		mkvm_add_leaf(e, &n, 0xd, 1, true);
		for (i = 2; i < 64; i++)
			if (mkvm_supported_xcr0 & BIT_ULL(i))
				mkvm_add_leaf(e, &n, 0xd, i, true);
	}
	for (i = 0; i < ARRAY_SIZE(ext); i++)
		if (ext[i] <= max_ext)
			mkvm_add_leaf(e, &n, ext[i], 0, false);
	n += mkvm_add_kvm_leaves(&e[n]);
	return n;
}

/**
 * mkvm_get_supported_cpuid() - KVM_GET_SUPPORTED_CPUID on /dev/kvm.
 * @uc: struct kvm_cpuid2 with nent = room in entries[]
 *
 * Return: 0 (nent updated), -E2BIG if the array is too small, -EFAULT.
 */
int mkvm_get_supported_cpuid(struct kvm_cpuid2 __user *uc)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 c;
	int n, r = 0;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	e = kcalloc(MKVM_MAX_SUPPORTED, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	n = mkvm_build_supported(e);
	if (c.nent < n) {
		r = -E2BIG;
		goto out;
	}
	c.nent = n;
	if (copy_to_user(uc, &c, sizeof(c)) ||
	    copy_to_user(uc->entries, e, n * sizeof(*e)))
		r = -EFAULT;
out:
	kfree(e);
	return r;
}

/* The entry for @fn/@idx in the table @e of @n entries; NULL if none. */
static struct kvm_cpuid_entry2 *mkvm_cpuid_entry(struct kvm_cpuid_entry2 *e,
						 int n, u32 fn, u32 idx)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e[i].index == idx))
			return &e[i];
	return NULL;
}

/*
 * The XCR0 bits the guest may set (xsave.c): those its leaf 0DH lists,
 * as far as the host backs them (KVM's guest_supported_xcr0). Without
 * the leaf, x87 only.
 */
static void mkvm_cpuid_set_xcr0_mask(struct mkvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 0xd, 0);

	vcpu->guest_supported_xcr0 = e ?
		(((u64)e->edx << 32 | e->eax) & mkvm_supported_xcr0) : 0;
}

/*
 * The entries of the table @t that follow the vCPU's XSAVE state (the
 * MWAIT bit, which follows MISC_ENABLE, is features.c's).
 *
 * On a real CPU, CPUID.1:ECX.OSXSAVE[27] reads as CR4.OSXSAVE, and
 * CPUID.(0DH,0):EBX (and (0DH,1):EBX with XSAVEC) is the size of an
 * XSAVE area for the XCR0 in force (SDM Vol.2 CPUID). KVM rewrites these
 * entries of the table whenever CR4 or XCR0 change. An SVM guest writes
 * CR4 here without an exit, so minikvm brings them up to date where the
 * table is read instead: the guest's CPUID and KVM_GET_CPUID2 (and after
 * KVM_SET_CPUID2, as KVM). The same values, seen from both sides.
 */
static void mkvm_cpuid_xsave_update(struct mkvm_vcpu *vcpu,
				    struct kvm_cpuid_entry2 *t, int n)
{
	struct kvm_cpuid_entry2 *e;

	e = mkvm_cpuid_entry(t, n, 1, 0);
	if (e && boot_cpu_has(X86_FEATURE_XSAVE)) {
		if (mkvm_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
			e->ecx |= CPUID_1_ECX_OSXSAVE;
		else
			e->ecx &= ~CPUID_1_ECX_OSXSAVE;
	}
	e = mkvm_cpuid_entry(t, n, 0xd, 0);
	if (e)
		e->ebx = mkvm_xstate_size(vcpu->xcr0, false);
	e = mkvm_cpuid_entry(t, n, 0xd, 1);
	if (e && (e->eax & (CPUID_D1_EAX_XSAVEC | CPUID_D1_EAX_XSAVES)))
		e->ebx = mkvm_xstate_size(vcpu->xcr0, true);
}

/**
 * mkvm_cpuid_update_runtime() - bring the vCPU's own table up to date.
 * @vcpu: the vCPU; its thread, or an ioctl holding its mutex
 */
void mkvm_cpuid_update_runtime(struct mkvm_vcpu *vcpu)
{
	mkvm_cpuid_xsave_update(vcpu, vcpu->cpuid, vcpu->nr_cpuid);
}

/*
 * Once the vCPU has run, its CPU model is fixed: the guest may already
 * have acted on what CPUID told it (MAXPHYADDR, features it switched on),
 * and nothing here would follow a change. KVM refuses a different table
 * then, but takes the same one again (QEMU sets the CPUID of a vCPU fd
 * it reuses for CPU hotplug). "The same": entry for entry, in order,
 * padding aside.
 */
static bool mkvm_cpuid_same(struct mkvm_vcpu *vcpu,
			    const struct kvm_cpuid_entry2 *e, int n)
{
	const struct kvm_cpuid_entry2 *o = vcpu->cpuid;
	int i;

	if (n != vcpu->nr_cpuid)
		return false;
	for (i = 0; i < n; i++)
		if (e[i].function != o[i].function || e[i].index != o[i].index ||
		    e[i].flags != o[i].flags || e[i].eax != o[i].eax ||
		    e[i].ebx != o[i].ebx || e[i].ecx != o[i].ecx ||
		    e[i].edx != o[i].edx)
			return false;
	return true;
}

/*
 * Install the table @e of @n entries (kmalloc'ed; always consumed) as the
 * vCPU's CPUID: KVM_SET_CPUID and KVM_SET_CPUID2 end here.
 */
static int mkvm_install_cpuid(struct mkvm_vcpu *vcpu,
			      struct kvm_cpuid_entry2 *e, int n)
{
	/*
	 * Bits that follow vCPU state, as the guest would read them, in the
	 * new table and (for the comparison) in the current one.
	 */
	mkvm_cpuid_mwait_update(vcpu, e, n);
	mkvm_cpuid_xsave_update(vcpu, e, n);
	if (vcpu->ran) {
		bool same;

		mkvm_cpuid_update_runtime(vcpu);
		same = mkvm_cpuid_same(vcpu, e, n);
		kfree(e);
		return same ? 0 : -EINVAL;
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->nr_cpuid = n;
	mkvm_cpuid_set_xcr0_mask(vcpu);
	return 0;
}

/* KVM_SET_CPUID2: the table the guest's CPUID answers from. */
int mkvm_set_cpuid2(struct mkvm_vcpu *vcpu, struct kvm_cpuid2 __user *uc)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (c.nent > MKVM_MAX_CPUID)
		return -E2BIG;
	/*
	 * All or nothing: a fault half-way leaves the old table intact. The
	 * table is as long as the VMM's (QEMU's has some 30 entries), not
	 * MKVM_MAX_CPUID in every vCPU.
	 */
	e = kmalloc_array(c.nent, sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	if (copy_from_user(e, uc->entries, c.nent * sizeof(*e))) {
		kfree(e);
		return -EFAULT;
	}
	return mkvm_install_cpuid(vcpu, e, c.nent);
}

/*
 * KVM_SET_CPUID: the first form of the ioctl, entries without index and
 * flags (struct kvm_cpuid_entry). Each becomes a kvm_cpuid_entry2 with
 * index 0 and no flags, as KVM converts them.
 */
int mkvm_set_cpuid(struct mkvm_vcpu *vcpu, struct kvm_cpuid __user *uc)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid_entry old;
	struct kvm_cpuid c;
	int i;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (c.nent > MKVM_MAX_CPUID)
		return -E2BIG;
	e = kcalloc(c.nent, sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	for (i = 0; i < c.nent; i++) {
		if (copy_from_user(&old, &uc->entries[i], sizeof(old))) {
			kfree(e);
			return -EFAULT;
		}
		e[i].function = old.function;
		e[i].eax = old.eax;
		e[i].ebx = old.ebx;
		e[i].ecx = old.ecx;
		e[i].edx = old.edx;
	}
	return mkvm_install_cpuid(vcpu, e, c.nent);
}

int mkvm_get_cpuid2(struct mkvm_vcpu *vcpu, struct kvm_cpuid2 __user *uc)
{
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (c.nent < vcpu->nr_cpuid)
		return -E2BIG;
	mkvm_cpuid_update_runtime(vcpu);
	c.nent = vcpu->nr_cpuid;
	if (copy_to_user(uc, &c, sizeof(c)) ||
	    copy_to_user(uc->entries, vcpu->cpuid,
			 c.nent * sizeof(vcpu->cpuid[0])))
		return -EFAULT;
	return 0;
}

/*
 * The guest's MAXPHYADDR: CPUID 0x80000008 EAX[7:0] if the table goes that
 * far, else 36 (KVM's cpuid_query_maxphyaddr()).
 */
int mkvm_guest_maxphyaddr(struct mkvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 0x80000000, 0);

	if (!e || e->eax < 0x80000008)
		return 36;
	e = mkvm_find_cpuid(vcpu, 0x80000008, 0);
	return e ? e->eax & 0xff : 36;
}

/* ------------------------------------------------------------------ */
/* CR4 bits and the CPUID that allows them                             */
/* ------------------------------------------------------------------ */

/*
 * CR4 bits every x86-64 CPU has (SDM Vol.3 2.5, APM Vol.2 3.1.3): VME,
 * PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT.
 */
#define MKVM_CR4_BASE	0x7ffULL

/*
 * The CR4 bits that exist only with a CPUID feature: where the SDM's
 * Table 2-x / CPUID leaf lists them (SDM Vol.2 CPUID, Tables 3-10, 3-11
 * and leaf 7). A bit not in MKVM_CR4_BASE nor here is reserved, e.g.
 * SMXE (14: minikvm offers no SMX, nor does KVM), bit 15, KL (19), CET
 * (23), PKS (24): setting one is refused.
 */
static const struct {
	u8 cr4_bit;
	u8 leaf;	/* 1 or 7 (subleaf 0) */
	u8 reg;		/* 2 = ECX, 1 = EBX */
	u8 bit;
} mkvm_cr4_features[] = {
	{ 11, 7, 2, 2 },	/* UMIP      <- CPUID.7.0:ECX.UMIP */
	{ 12, 7, 2, 16 },	/* LA57      <- CPUID.7.0:ECX.LA57 */
	{ 13, 1, 2, 5 },	/* VMXE      <- CPUID.1:ECX.VMX */
	{ 16, 7, 1, 0 },	/* FSGSBASE  <- CPUID.7.0:EBX.FSGSBASE */
	{ 17, 1, 2, 17 },	/* PCIDE     <- CPUID.1:ECX.PCID */
	{ 18, 1, 2, 26 },	/* OSXSAVE   <- CPUID.1:ECX.XSAVE */
	{ 20, 7, 1, 7 },	/* SMEP      <- CPUID.7.0:EBX.SMEP */
	{ 21, 7, 1, 20 },	/* SMAP      <- CPUID.7.0:EBX.SMAP */
	{ 22, 7, 2, 3 },	/* PKE       <- CPUID.7.0:ECX.PKU */
};

static bool mkvm_entry_has(const struct kvm_cpuid_entry2 *e, int reg, int bit)
{
	return e && ((reg == 1 ? e->ebx : e->ecx) & BIT(bit));
}

/* Whether KVM_GET_SUPPORTED_CPUID offers leaf @leaf's feature. */
static bool mkvm_supported_has(u32 leaf, int reg, int bit)
{
	struct kvm_cpuid_entry2 e;
	int n = 0;

	if (cpuid_eax(0) < leaf)
		return false;
	mkvm_add_leaf(&e, &n, leaf, 0, leaf == 7);
	return mkvm_entry_has(&e, reg, bit);
}

/**
 * mkvm_cr4_valid() - may the vCPU hold @cr4 (KVM_SET_SREGS)?
 *
 * As KVM: a bit of a feature is allowed if the hypervisor can offer the
 * feature (KVM_GET_SUPPORTED_CPUID) and, once the VMM has set the guest's
 * CPUID, if that CPUID has it. So a VMM may set up CR4 before CPUID, and
 * a guest model without, say, SMEP cannot be given CR4.SMEP afterwards.
 * Anything else is a reserved bit (SDM Vol.3 2.5: "setting a reserved
 * bit in CR4 causes #GP"; APM Vol.2 3.1.3).
 */
bool mkvm_cr4_valid(struct mkvm_vcpu *vcpu, u64 cr4)
{
	u64 known = MKVM_CR4_BASE;
	int i;

	for (i = 0; i < ARRAY_SIZE(mkvm_cr4_features); i++) {
		u64 bit = BIT_ULL(mkvm_cr4_features[i].cr4_bit);
		u32 leaf = mkvm_cr4_features[i].leaf;
		int reg = mkvm_cr4_features[i].reg;
		int fbit = mkvm_cr4_features[i].bit;

		known |= bit;
		if (!(cr4 & bit))
			continue;
		if (!mkvm_supported_has(leaf, reg, fbit))
			return false;
		/* Before KVM_SET_CPUID2 there is no guest model to ask. */
		if (vcpu->cpuid &&
		    !mkvm_entry_has(mkvm_find_cpuid(vcpu, leaf, 0), reg, fbit))
			return false;
	}
	return !(cr4 & ~known);
}
