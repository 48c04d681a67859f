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
 * are not needed). A guest sees these only if the VMM copies them into
 * KVM_SET_CPUID2, as QEMU does.
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
	e[1].eax = BIT(KVM_FEATURE_NOP_IO_DELAY);
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

/* The table's entry for @fn/@idx, to change it; NULL if none. */
static struct kvm_cpuid_entry2 *mkvm_cpuid_entry(struct mkvm_vcpu *vcpu,
						 u32 fn, u32 idx)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, fn, idx);

	return e ? &vcpu->cpuid[e - vcpu->cpuid] : NULL;
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

/**
 * mkvm_cpuid_update_runtime() - the entries that follow the vCPU's state.
 * @vcpu: the vCPU; its thread, or an ioctl holding its mutex
 *
 * On a real CPU, CPUID.1:ECX.OSXSAVE[27] reads as CR4.OSXSAVE, and
 * CPUID.(0DH,0):EBX (and (0DH,1):EBX with XSAVEC) is the size of an
 * XSAVE area for the XCR0 in force (SDM Vol.2 CPUID). KVM rewrites these
 * entries of the table whenever CR4 or XCR0 change. An SVM guest writes
 * CR4 here without an exit, so minikvm brings them up to date where the
 * table is read instead: the guest's CPUID and KVM_GET_CPUID2 (and after
 * KVM_SET_CPUID2, as KVM). The same values, seen from both sides.
 */
void mkvm_cpuid_update_runtime(struct mkvm_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e;

	e = mkvm_cpuid_entry(vcpu, 1, 0);
	if (e && boot_cpu_has(X86_FEATURE_XSAVE)) {
		if (mkvm_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
			e->ecx |= CPUID_1_ECX_OSXSAVE;
		else
			e->ecx &= ~CPUID_1_ECX_OSXSAVE;
	}
	e = mkvm_cpuid_entry(vcpu, 0xd, 0);
	if (e)
		e->ebx = mkvm_xstate_size(vcpu->xcr0, false);
	e = mkvm_cpuid_entry(vcpu, 0xd, 1);
	if (e && (e->eax & (CPUID_D1_EAX_XSAVEC | CPUID_D1_EAX_XSAVES)))
		e->ebx = mkvm_xstate_size(vcpu->xcr0, true);
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
	kfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->nr_cpuid = c.nent;
	mkvm_cpuid_set_xcr0_mask(vcpu);
	mkvm_cpuid_update_runtime(vcpu);
	return 0;
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
