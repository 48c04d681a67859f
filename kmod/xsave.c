// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the guest's extended FPU state (XSAVE) and XCR0.
 *
 * Beyond the x87 and SSE registers, a CPU with XSAVE has "state
 * components" (AVX's upper YMM halves, AVX-512, ...) that software turns
 * on in XCR0 with XSETBV and saves/restores with XSAVE/XRSTOR
 * (SDM Vol.1 13). A guest has its own XCR0 and its own copy of every
 * component:
 *
 *  - The registers themselves: the kernel's FPU code keeps the guest's
 *    in vcpu->fpu (struct fpu_guest, sized by the kernel for every
 *    component the host enabled). vcpu.c swaps them in at the start of
 *    KVM_RUN (fpu_swap_kvm_fpstate()); from then on the kernel treats
 *    them as this thread's FPU state, so preemption, kernel_fpu_begin()
 *    in interrupts and signals save and reload them like any task's.
 *
 *  - XCR0: neither VMRUN nor VM entry switches it. XSETBV always exits
 *    (SVM: the XSETBV intercept, APM Vol.2 15.9; VMX: exit reason 55,
 *    SDM Vol.3 26.1.2) and lands in mkvm_emulate_xsetbv(); the guest's
 *    value is written into the real XCR0 with interrupts off right
 *    before the world switch and the host's right after it
 *    (mkvm_xcr0_load_guest/host()), so no host code ever runs with the
 *    guest's XCR0. XSAVE/XRSTOR of the whole FPU state by the kernel
 *    therefore always see the host's XCR0, a superset of the guest's.
 *
 *  - The ioctls: KVM_GET/SET_XSAVE (a 4 KiB XSAVE image in the standard,
 *    non-compacted format), KVM_GET_XSAVE2, KVM_GET/SET_XCRS and the
 *    older KVM_GET/SET_FPU, which reads and writes the legacy region of
 *    the same image, so the two views never disagree.
 *
 * What a guest may enable: x87, SSE and AVX, where the host has them in
 * its own XCR0 (mkvm_supported_xcr0). Not AVX-512, MPX or PKRU (their
 * CPUID bits stay hidden, cpuid.c), not AMX (dynamic, needs XFD), and no
 * supervisor component (IA32_XSS is not offered).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>

#include "minikvm.h"

/* The components minikvm lets a guest enable, if the host has them. */
#define MKVM_XCR0_OFFERED \
	(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM)
/* Legacy region (512 bytes) and XSAVE header (64), SDM Vol.1 13.4. */
#define MKVM_XSAVE_BASE_SIZE	576

u64 mkvm_host_xcr0 __read_mostly;
u64 mkvm_supported_xcr0 __read_mostly;
static u64 mkvm_host_xss __read_mostly;

/* Size, standard-format offset, 64-byte alignment of each component. */
static struct {
	u32 size;
	u32 offset;
	bool align64;
} mkvm_xstate[64] __read_mostly;

/**
 * mkvm_xsave_init() - module load: what the host's XSAVE offers.
 *
 * CPUID.(EAX=0DH,ECX=i) describes component i: EAX its size, EBX its
 * offset in the standard format, ECX[1] its 64-byte alignment in the
 * compacted format (SDM Vol.2 CPUID, Vol.1 13.2). Read once here, so
 * the CPUID exit path does not execute CPUID itself.
 */
void mkvm_xsave_init(void)
{
	u32 eax, ebx, ecx, edx;
	int i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	mkvm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	mkvm_supported_xcr0 = mkvm_host_xcr0 & MKVM_XCR0_OFFERED;
	if (boot_cpu_has(X86_FEATURE_XSAVES))
		rdmsrl(MSR_IA32_XSS, mkvm_host_xss);
	for (i = 2; i < 64; i++) {
		if (!(mkvm_supported_xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		mkvm_xstate[i].size = eax;
		mkvm_xstate[i].offset = ebx;
		mkvm_xstate[i].align64 = ecx & BIT(1);
	}
}

/**
 * mkvm_xstate_size() - bytes of an XSAVE area holding @xfeatures.
 * @xfeatures: components, a subset of mkvm_supported_xcr0 (and x87, SSE)
 * @compacted: the compacted format of XSAVEC/XSAVES: components packed
 *	in bit order; else the standard format, each at its fixed offset
 *	(SDM Vol.1 13.4.3)
 */
u32 mkvm_xstate_size(u64 xfeatures, bool compacted)
{
	u32 size = MKVM_XSAVE_BASE_SIZE, off;
	int i;

	xfeatures &= mkvm_supported_xcr0;
	for (i = 2; i < 64; i++) {
		if (!(xfeatures & BIT_ULL(i)))
			continue;
		if (!compacted)
			off = mkvm_xstate[i].offset;
		else if (mkvm_xstate[i].align64)
			off = ALIGN(size, 64);
		else
			off = size;
		size = max(size, off + mkvm_xstate[i].size);
	}
	return size;
}

/*
 * A new XCR0 for the guest, from XSETBV or KVM_SET_XCRS. The rules of
 * XSETBV (SDM Vol.2 XSETBV, Vol.1 13.3): only XCR0 exists (ECX = 0),
 * bit 0 (x87) is always set, AVX (bit 2) needs SSE (bit 1), and no bit
 * the processor does not support - here, the guest's CPUID.(0DH,0)
 * EDX:EAX as far as the host backs it. x87 is allowed even when the
 * CPUID table offers no XSAVE at all: it is XCR0's reset value.
 * Return: 0, or -EINVAL where the processor raises #GP(0).
 */
int mkvm_set_xcr(struct mkvm_vcpu *vcpu, u32 index, u64 xcr0)
{
	if (index != XCR_XFEATURE_ENABLED_MASK)
		return -EINVAL;
	if (!(xcr0 & XFEATURE_MASK_FP))
		return -EINVAL;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return -EINVAL;
	if (xcr0 & ~(vcpu->guest_supported_xcr0 | XFEATURE_MASK_FP))
		return -EINVAL;
	vcpu->xcr0 = xcr0;
	return 0;
}

/**
 * mkvm_emulate_xsetbv() - the guest's XSETBV, after the vendor decoded
 * the instruction length.
 *
 * The CPU checks CR4.OSXSAVE (#UD) before it exits, and on VMX the CPL
 * too (#GP, SDM Vol.3 26.1.1); both are checked again here, so the
 * result does not depend on which check the hardware made first.
 */
int mkvm_emulate_xsetbv(struct mkvm_vcpu *vcpu)
{
	u64 val = (vcpu->regs[MKVM_RDX] << 32) | (u32)vcpu->regs[MKVM_RAX];

	if (!(mkvm_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)) {
		mkvm_queue_exception(vcpu, MKVM_UD_VECTOR, false, 0);
		return 1;
	}
	if (mkvm_ops->get_cpl(vcpu) != 0 ||
	    mkvm_set_xcr(vcpu, (u32)vcpu->regs[MKVM_RCX], val)) {
		mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
		return 1;
	}
	mkvm_skip_insn(vcpu);
	return 1;
}

/*
 * Right before the world switch, interrupts off (vcpu.c): the guest's
 * XCR0, where it differs from the host's. KVM loads it only once the
 * guest has set CR4.OSXSAVE (without it XSAVE, XGETBV and AVX raise #UD,
 * so XCR0 is invisible); minikvm also does when the guest's CPUID offers
 * XSAVE, because an SVM guest sets CR4.OSXSAVE without an exit here, and
 * its first XSETBV must find the guest's XCR0 in the CPU (see
 * mkvm_xcr0_load_host()). A host with supervisor components in IA32_XSS
 * gets 0 there too, or the guest could XSAVES/XRSTORS them: SVM cannot
 * intercept those instructions, and minikvm offers no XSS.
 */
void mkvm_xcr0_load_guest(struct mkvm_vcpu *vcpu)
{
	vcpu->xcr0_loaded = false;
	if (!mkvm_host_xcr0)
		return;
	if (!vcpu->guest_supported_xcr0 &&
	    !(mkvm_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE))
		return;
	if (vcpu->xcr0 != mkvm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
	if (mkvm_host_xss)
		wrmsrl(MSR_IA32_XSS, 0);
	vcpu->xcr0_loaded = true;
}

/*
 * Right after it, interrupts still off: the host's XCR0 back. The CPU is
 * asked what XCR0 holds rather than trusted to hold what was loaded
 * (XGETBV does not exit, even nested): an emulator that lacks the XSETBV
 * intercept - QEMU 7.2's TCG does not check it (its helper_xsetbv()) -
 * lets the guest's XSETBV write the real XCR0 without an exit. The host
 * must never run on with that value; and the guest gets it as its XCR0
 * if XSETBV would have accepted it, as the intercept would have.
 */
void mkvm_xcr0_load_host(struct mkvm_vcpu *vcpu)
{
	u64 loaded, hw;

	if (!mkvm_host_xcr0)
		return;
	loaded = vcpu->xcr0_loaded ? vcpu->xcr0 : mkvm_host_xcr0;
	hw = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	if (unlikely(hw != loaded))
		mkvm_set_xcr(vcpu, XCR_XFEATURE_ENABLED_MASK, hw);
	if (hw != mkvm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, mkvm_host_xcr0);
	if (vcpu->xcr0_loaded && mkvm_host_xss)
		wrmsrl(MSR_IA32_XSS, mkvm_host_xss);
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                          */
/* ------------------------------------------------------------------ */

/*
 * The guest's FPU state as a standard-format XSAVE image of @size bytes
 * (the kernel converts from the compacted format of XSAVES hosts, and
 * writes the initial values of components in their init state, which
 * XSAVEOPT did not store). Only the components the guest may enable (and
 * always x87 and SSE): as in KVM, so a VMM can move the image to a host
 * with fewer components.
 */
static void *mkvm_xsave_get(struct mkvm_vcpu *vcpu, unsigned int size)
{
	void *buf = kzalloc(size, GFP_KERNEL_ACCOUNT);

	if (buf)
		fpu_copy_guest_fpstate_to_uabi(vcpu->fpu, buf, size,
					       vcpu->guest_supported_xcr0 |
					       XFEATURE_MASK_FPSSE, 0);
	return buf;
}

/*
 * Load an image into the guest's state. The kernel validates it as KVM
 * relies on it to: XSTATE_BV only with components minikvm supports,
 * XCOMP_BV and the header's reserved bytes 0 (standard format), no
 * reserved MXCSR bit (XRSTOR would #GP, SDM Vol.1 13.8). -EINVAL else.
 */
static int mkvm_xsave_put(struct mkvm_vcpu *vcpu, const void *buf)
{
	u32 pkru = 0;	/* PKRU is not among the supported components */

	return fpu_copy_uabi_to_guest_fpstate(vcpu->fpu, buf,
					      mkvm_supported_xcr0, &pkru);
}

static int mkvm_get_xsave(struct mkvm_vcpu *vcpu, void __user *argp,
			  unsigned int size)
{
	void *buf = mkvm_xsave_get(vcpu, size);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	if (copy_to_user(argp, buf, size))
		r = -EFAULT;
	kfree(buf);
	return r;
}

static int mkvm_set_xsave(struct mkvm_vcpu *vcpu, void __user *argp)
{
	void *buf = memdup_user(argp, vcpu->fpu->uabi_size);
	int r;

	if (IS_ERR(buf))
		return PTR_ERR(buf);
	r = mkvm_xsave_put(vcpu, buf);
	kfree(buf);
	return r;
}

/* KVM_GET_XCRS: XCR0, the only extended control register there is. */
static int mkvm_get_xcrs(struct mkvm_vcpu *vcpu, struct kvm_xcrs __user *argp)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		x.nr_xcrs = 1;
		x.xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
		x.xcrs[0].value = vcpu->xcr0;
	}
	return copy_to_user(argp, &x, sizeof(x)) ? -EFAULT : 0;
}

/*
 * KVM_SET_XCRS: the entry for XCR0 is checked as XSETBV would; entries
 * for other XCRs are ignored, as in KVM.
 */
static int mkvm_set_xcrs(struct mkvm_vcpu *vcpu, struct kvm_xcrs __user *argp)
{
	struct kvm_xcrs x;
	u32 i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	if (copy_from_user(&x, argp, sizeof(x)))
		return -EFAULT;
	if (x.nr_xcrs > KVM_MAX_XCRS || x.flags)
		return -EINVAL;
	for (i = 0; i < x.nr_xcrs; i++)
		if (x.xcrs[i].xcr == XCR_XFEATURE_ENABLED_MASK)
			return mkvm_set_xcr(vcpu, XCR_XFEATURE_ENABLED_MASK,
					    x.xcrs[i].value);
	return 0;
}

/*
 * KVM_GET_FPU: the legacy region (the FXSAVE layout, SDM Vol.1 10.5.1)
 * of the same image KVM_GET_XSAVE returns.
 */
static int mkvm_get_fpu(struct mkvm_vcpu *vcpu, struct kvm_fpu __user *argp)
{
	struct fxregs_state *fx = mkvm_xsave_get(vcpu, vcpu->fpu->uabi_size);
	struct kvm_fpu f;
	int r = 0;

	if (!fx)
		return -ENOMEM;
	memset(&f, 0, sizeof(f));
	memcpy(f.fpr, fx->st_space, sizeof(f.fpr));
	f.fcw = fx->cwd;
	f.fsw = fx->swd;
	f.ftwx = fx->twd;
	f.last_opcode = fx->fop;
	f.last_ip = fx->rip;
	f.last_dp = fx->rdp;
	memcpy(f.xmm, fx->xmm_space, sizeof(f.xmm));
	f.mxcsr = fx->mxcsr;
	kfree(fx);
	if (copy_to_user(argp, &f, sizeof(f)))
		r = -EFAULT;
	return r;
}

/*
 * KVM_SET_FPU: rewrite the legacy region and mark x87 and SSE as holding
 * state (XSTATE_BV bits 0, 1): with those bits clear, XRSTOR would load
 * their initial values and drop what was set here. Other components keep
 * their values. Unlike KVM, MXCSR is taken too (as minikvm always did);
 * a reserved MXCSR bit is refused with -EINVAL.
 */
static int mkvm_set_fpu(struct mkvm_vcpu *vcpu, struct kvm_fpu __user *argp)
{
	struct fxregs_state *fx;
	struct xregs_state *xs;
	struct kvm_fpu f;
	int r;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	xs = mkvm_xsave_get(vcpu, vcpu->fpu->uabi_size);
	if (!xs)
		return -ENOMEM;
	fx = &xs->i387;
	memcpy(fx->st_space, f.fpr, sizeof(f.fpr));
	fx->cwd = f.fcw;
	fx->swd = f.fsw;
	fx->twd = f.ftwx;
	fx->fop = f.last_opcode;
	fx->rip = f.last_ip;
	fx->rdp = f.last_dp;
	memcpy(fx->xmm_space, f.xmm, sizeof(f.xmm));
	fx->mxcsr = f.mxcsr;
	xs->header.xfeatures |= XFEATURE_MASK_FPSSE;
	r = mkvm_xsave_put(vcpu, xs);
	kfree(xs);
	return r;
}

/**
 * mkvm_xsave_ioctl() - the vCPU ioctls of the FPU state.
 * @vcpu: the vCPU, its mutex held, not running
 * @ioctl: KVM_GET/SET_FPU, KVM_GET/SET_XSAVE, KVM_GET_XSAVE2,
 *	KVM_GET/SET_XCRS
 * @argp: the user's struct
 *
 * The image is 4 KiB (struct kvm_xsave) for KVM_GET/SET_XSAVE and
 * KVM_CAP_XSAVE2's size for KVM_GET_XSAVE2: the same here, as no
 * supported component lies beyond 4 KiB (the guest's fpu_guest says so
 * in uabi_size; KVM grows it only for AMX).
 */
long mkvm_xsave_ioctl(struct mkvm_vcpu *vcpu, unsigned int ioctl,
		      void __user *argp)
{
	switch (ioctl) {
	case KVM_GET_FPU:
		return mkvm_get_fpu(vcpu, argp);
	case KVM_SET_FPU:
		return mkvm_set_fpu(vcpu, argp);
	case KVM_GET_XSAVE:
		if (vcpu->fpu->uabi_size > sizeof(struct kvm_xsave))
			return -EINVAL;
		return mkvm_get_xsave(vcpu, argp, sizeof(struct kvm_xsave));
	case KVM_GET_XSAVE2:
		return mkvm_get_xsave(vcpu, argp, vcpu->fpu->uabi_size);
	case KVM_SET_XSAVE:
		return mkvm_set_xsave(vcpu, argp);
	case KVM_GET_XCRS:
		return mkvm_get_xcrs(vcpu, argp);
	case KVM_SET_XCRS:
		return mkvm_set_xcrs(vcpu, argp);
	default:
		return -ENOTTY;
	}
}

/* KVM_CAP_XSAVE2: the size of KVM_GET_XSAVE2's image, at least 4 KiB. */
int mkvm_xsave2_size(void)
{
	return max_t(u32, mkvm_xstate_size(mkvm_supported_xcr0, false),
		     sizeof(struct kvm_xsave));
}
