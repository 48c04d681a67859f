// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the vCPU file descriptor and the run loop.
 *
 * A vCPU is a host thread that calls ioctl(KVM_RUN) in a loop. Inside
 * KVM_RUN the thread switches to guest mode (VMRUN / VMLAUNCH), the guest
 * runs until something it does needs the hypervisor, the CPU exits back,
 * and we either handle the exit here and re-enter, or fill in the shared
 * struct kvm_run page and return to userspace (the VMM) to do the rest.
 *
 *   userspace:   ioctl(KVM_RUN) ................ handle run->exit_reason
 *                      |                                  ^
 *   kernel:      mkvm_vcpu_run() -> handle_exit() ---- 0 -+
 *                      |            ^        | 1
 *   guest:             +-> guest -->+        +--> re-enter
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/processor.h>

#include "minikvm.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Linux 6.10 renamed the kernel's view of this kvm_run field (not the ABI). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define MKVM_IMMEDIATE_EXIT immediate_exit__unsafe
#else
#define MKVM_IMMEDIATE_EXIT immediate_exit
#endif

/* ------------------------------------------------------------------ */
/* Loading a vCPU onto a host CPU                                      */
/* ------------------------------------------------------------------ */

/*
 * The VMCS/VMCB of a vCPU belongs to one host CPU at a time. While the vCPU
 * thread is inside one of our ioctls, a preempt notifier tells the vendor
 * whenever the scheduler moves the thread away and back (maybe to another
 * CPU, which then needs VMCLEAR/VMPTRLD or a TLB flush).
 */
static inline struct mkvm_vcpu *pn_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct mkvm_vcpu, pn);
}

static void mkvm_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct mkvm_vcpu *vcpu = pn_to_vcpu(pn);

	/* Another CPU's TSC: kvmclock takes a fresh reading (kvmclock.c). */
	if (cpu != vcpu->cpu)
		set_bit(MKVM_REQ_CLOCK_UPDATE, &vcpu->requests);
	mkvm_ops->vcpu_load(vcpu, cpu);
	WRITE_ONCE(vcpu->cpu, cpu);
}

static void mkvm_sched_out(struct preempt_notifier *pn,
			   struct task_struct *next)
{
	mkvm_ops->vcpu_put(pn_to_vcpu(pn));
}

static struct preempt_ops mkvm_preempt_ops = {
	.sched_in = mkvm_sched_in,
	.sched_out = mkvm_sched_out,
};

static void mkvm_vcpu_load(struct mkvm_vcpu *vcpu)
{
	int cpu = get_cpu();

	if (cpu != vcpu->cpu)
		set_bit(MKVM_REQ_CLOCK_UPDATE, &vcpu->requests);
	preempt_notifier_register(&vcpu->pn);
	mkvm_ops->vcpu_load(vcpu, cpu);
	WRITE_ONCE(vcpu->cpu, cpu);
	put_cpu();
}

static void mkvm_vcpu_put(struct mkvm_vcpu *vcpu)
{
	preempt_disable();
	mkvm_ops->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->pn);
	preempt_enable();
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */
/* ------------------------------------------------------------------ */

static void mkvm_get_regs(struct mkvm_vcpu *vcpu, struct kvm_regs *r)
{
	unsigned long *g = vcpu->regs;

	r->rax = g[MKVM_RAX]; r->rbx = g[MKVM_RBX];
	r->rcx = g[MKVM_RCX]; r->rdx = g[MKVM_RDX];
	r->rsi = g[MKVM_RSI]; r->rdi = g[MKVM_RDI];
	r->rsp = g[MKVM_RSP]; r->rbp = g[MKVM_RBP];
	r->r8 = g[MKVM_R8];   r->r9 = g[MKVM_R9];
	r->r10 = g[MKVM_R10]; r->r11 = g[MKVM_R11];
	r->r12 = g[MKVM_R12]; r->r13 = g[MKVM_R13];
	r->r14 = g[MKVM_R14]; r->r15 = g[MKVM_R15];
	r->rip = vcpu->rip;
	r->rflags = mkvm_get_rflags(vcpu);	/* without a stepping TF */
}

static void mkvm_set_regs(struct mkvm_vcpu *vcpu, const struct kvm_regs *r)
{
	unsigned long *g = vcpu->regs;

	g[MKVM_RAX] = r->rax; g[MKVM_RBX] = r->rbx;
	g[MKVM_RCX] = r->rcx; g[MKVM_RDX] = r->rdx;
	g[MKVM_RSI] = r->rsi; g[MKVM_RDI] = r->rdi;
	g[MKVM_RSP] = r->rsp; g[MKVM_RBP] = r->rbp;
	g[MKVM_R8] = r->r8;   g[MKVM_R9] = r->r9;
	g[MKVM_R10] = r->r10; g[MKVM_R11] = r->r11;
	g[MKVM_R12] = r->r12; g[MKVM_R13] = r->r13;
	g[MKVM_R14] = r->r14; g[MKVM_R15] = r->r15;
	vcpu->rip = r->rip;
	/* Bit 1 of RFLAGS always reads as 1 (SDM Vol.1 3.4.3). */
	mkvm_set_rflags(vcpu, r->rflags | MKVM_RFLAGS_FIXED);
	/* As in KVM, new registers drop a queued exception. */
	if (!vcpu->event.is_irq && !vcpu->event.is_nmi)
		vcpu->event.pending = false;
}

/* The kvm_segment pointers of kvm_sregs, in enum mkvm_seg order. */
static struct kvm_segment *sregs_seg(struct kvm_sregs *s, int seg)
{
	struct kvm_segment *const map[MKVM_NR_SEGS] = {
		[MKVM_ES] = &s->es, [MKVM_CS] = &s->cs, [MKVM_SS] = &s->ss,
		[MKVM_DS] = &s->ds, [MKVM_FS] = &s->fs, [MKVM_GS] = &s->gs,
		[MKVM_TR] = &s->tr, [MKVM_LDTR] = &s->ldt,
	};
	return map[seg];
}

void mkvm_get_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s)
{
	int seg;

	memset(s, 0, sizeof(*s));
	for (seg = 0; seg < MKVM_NR_SEGS; seg++)
		mkvm_ops->get_segment(vcpu, sregs_seg(s, seg), seg);
	mkvm_ops->get_dtable(vcpu, &s->gdt, false);
	mkvm_ops->get_dtable(vcpu, &s->idt, true);
	s->cr0 = mkvm_ops->get_cr(vcpu, 0);
	s->cr2 = mkvm_ops->get_cr(vcpu, 2);
	s->cr3 = mkvm_ops->get_cr(vcpu, 3);
	s->cr4 = mkvm_ops->get_cr(vcpu, 4);
	s->cr8 = mkvm_ops->get_cr(vcpu, 8);
	s->efer = vcpu->efer;
	s->apic_base = vcpu->apic ? vcpu->apic->base : vcpu->msr_apic_base;
	if (vcpu->event.pending && vcpu->event.is_irq)
		set_bit(vcpu->event.vector,
			(unsigned long *)s->interrupt_bitmap);
}

/*
 * Control-register combinations no CPU accepts; KVM refuses them in
 * KVM_SET_SREGS with EINVAL instead of letting the entry fail
 * (SDM Vol.3 2.5, 9.8.5; APM Vol.2 3.1.1, 14.6).
 */
#define MKVM_CR0_NW	BIT_ULL(29)
#define MKVM_CR0_CD	BIT_ULL(30)

static bool mkvm_sregs_valid(struct mkvm_vcpu *vcpu, const struct kvm_sregs *s)
{
	if ((s->efer & MKVM_EFER_LME) && (s->cr0 & MKVM_CR0_PG)) {
		if (!(s->cr4 & MKVM_CR4_PAE) || !(s->efer & MKVM_EFER_LMA))
			return false;
		/* CR3 bits above the guest's MAXPHYADDR are reserved then. */
		if (s->cr3 >> mkvm_guest_maxphyaddr(vcpu))
			return false;
	} else if ((s->efer & MKVM_EFER_LMA) || s->cs.l) {
		return false;
	}
	if (s->cr0 >> 32)
		return false;
	if ((s->cr0 & MKVM_CR0_NW) && !(s->cr0 & MKVM_CR0_CD))
		return false;
	if ((s->cr0 & MKVM_CR0_PG) && !(s->cr0 & MKVM_CR0_PE))
		return false;
	/* Reserved CR4 bits, and those the guest's CPUID does not allow. */
	return mkvm_cr4_valid(vcpu, s->cr4);
}

/* EFER, CR0/2/3/4, the segments and descriptor tables of @s (checked). */
static void mkvm_load_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s)
{
	int seg;

	vcpu->efer = s->efer;
	mkvm_ops->set_efer(vcpu, s->efer);
	mkvm_ops->set_cr(vcpu, 0, s->cr0);
	mkvm_ops->set_cr(vcpu, 4, s->cr4);
	mkvm_ops->set_cr(vcpu, 3, s->cr3);
	mkvm_ops->set_cr(vcpu, 2, s->cr2);
	for (seg = 0; seg < MKVM_NR_SEGS; seg++)
		mkvm_ops->set_segment(vcpu, sregs_seg(s, seg), seg);
	mkvm_ops->set_dtable(vcpu, &s->gdt, false);
	mkvm_ops->set_dtable(vcpu, &s->idt, true);
}

/**
 * mkvm_rsm_set_sregs() - the registers RSM reads back from SMRAM (smm.c):
 * checked as KVM_SET_SREGS checks them, but no CR8, APIC base or
 * interrupt bitmap. The save area holds neither, and writing CR8 back
 * would drop TPR bits 3:0 (CR8 is TPR[7:4], SDM Vol.3 10.8.6.1).
 * Return: 0, or -EINVAL for a state no CPU could be in.
 */
int mkvm_rsm_set_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s)
{
	if (!mkvm_sregs_valid(vcpu, s))
		return -EINVAL;
	mkvm_load_sregs(vcpu, s);
	return 0;
}

int mkvm_set_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s)
{
	int irq;

	if (!mkvm_sregs_valid(vcpu, s))
		return -EINVAL;
	/* The in-kernel APIC checks the base as a WRMSR would (lapic.c). */
	if (vcpu->apic && mkvm_lapic_set_base(vcpu, s->apic_base, true))
		return -EINVAL;
	if (!vcpu->apic && !mkvm_apic_base_valid(vcpu, s->apic_base))
		return -EINVAL;

	mkvm_load_sregs(vcpu, s);
	if (vcpu->apic)
		mkvm_lapic_set_cr8(vcpu, s->cr8);
	else
		mkvm_ops->set_cr(vcpu, 8, s->cr8);
	vcpu->msr_apic_base = s->apic_base;

	/* A set bit in interrupt_bitmap queues that interrupt (KVM ABI). */
	irq = find_first_bit((unsigned long *)s->interrupt_bitmap, 256);
	if (irq < 256) {
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .is_irq = true, .vector = irq };
	}
	vcpu->sregs_set = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* KVM_RUN                                                             */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */
/* ------------------------------------------------------------------ */

/*
 * Two models. With the interrupt controllers in userspace (no
 * KVM_CREATE_IRQCHIP), the VMM decides which vector to raise and calls
 * KVM_INTERRUPT; we hold it in queued_irq until the guest can take it,
 * then inject it at an entry. With them in the kernel (kmod/irqchip/),
 * the LAPIC's IRR (or the PIC, through LVT0) holds what is pending, and
 * we ask it before every entry. "Can take it" is the vendor's to say
 * (RFLAGS.IF, interrupt shadow).
 */
static bool mkvm_ready_for_interrupt(struct mkvm_vcpu *vcpu)
{
	/* Split irqchip: the VMM's PIC reaches the CPU through LVT0. */
	if (vcpu->apic && !mkvm_lapic_accepts_pic(vcpu))
		return false;
	return mkvm_ops->interrupt_allowed && vcpu->queued_irq < 0 &&
	       !vcpu->event.pending && mkvm_ops->interrupt_allowed(vcpu);
}

/*
 * The VMM asked to hear when it may inject (run->request_interrupt_window).
 * Ignored when the PIC is in the kernel: the VMM injects nothing then.
 */
static bool mkvm_wants_irq_window(struct mkvm_vcpu *vcpu)
{
	return vcpu->run->request_interrupt_window &&
	       vcpu->vm->irqchip_mode != MKVM_IRQCHIP_KERNEL;
}

static int mkvm_interrupt(struct mkvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_interrupt irq;

	if (!mkvm_ops->interrupt_allowed)
		return -ENOTTY;
	/* The PIC is in the kernel: it, not the VMM, raises vectors. */
	if (vcpu->vm->irqchip_mode == MKVM_IRQCHIP_KERNEL)
		return -ENXIO;
	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= 256)
		return -EINVAL;
	if (vcpu->queued_irq >= 0)	/* one at a time, as in KVM */
		return vcpu->apic ? -EEXIST : -ENXIO;
	vcpu->queued_irq = irq.irq;
	return 0;
}

/* Put @vector into the guest at this entry. */
static void mkvm_inject_irq(struct mkvm_vcpu *vcpu, int vector)
{
	vcpu->event = (struct mkvm_pending_event){
		.pending = true, .is_irq = true, .vector = vector };
	trace_kvm_inj_virq(vector, false, false);
	vcpu->stat.irq_injections++;
}

/*
 * The in-kernel irqchip's half: a vector is pending if the LAPIC has one
 * above its priority, or the PIC raises INTR and LVT0 passes it. Inject
 * it if the guest can take it now; else exit as soon as it can.
 */
static void mkvm_prepare_irqchip_interrupts(struct mkvm_vcpu *vcpu)
{
	int vector;

	if (mkvm_irqchip_pending_vector(vcpu) < 0)
		return;
	if (vcpu->event.pending || !mkvm_ops->interrupt_allowed(vcpu)) {
		mkvm_ops->enable_irq_window(vcpu);
		return;
	}
	vector = mkvm_irqchip_ack(vcpu);
	if (vector >= 0)
		mkvm_inject_irq(vcpu, vector);
}

/* Before an entry (interrupts off): inject, or ask to hear when we can. */
static void mkvm_prepare_interrupts(struct mkvm_vcpu *vcpu)
{
	bool allowed;

	if (!mkvm_ops->interrupt_allowed)
		return;
	/* NMIs first: they outrank interrupts (events.c). */
	mkvm_prepare_nmi(vcpu);
	/* The VMM debugs the guest and wants no interrupts (guestdbg.c). */
	if (unlikely(vcpu->guest_debug & KVM_GUESTDBG_BLOCKIRQ))
		return;
	if (vcpu->apic) {
		mkvm_prepare_irqchip_interrupts(vcpu);
		/* Split irqchip: the VMM asks when its PIC may inject. */
		if (mkvm_wants_irq_window(vcpu) &&
		    !mkvm_ready_for_interrupt(vcpu))
			mkvm_ops->enable_irq_window(vcpu);
		return;
	}
	if (vcpu->queued_irq < 0 && !vcpu->run->request_interrupt_window)
		return;
	allowed = !vcpu->event.pending && mkvm_ops->interrupt_allowed(vcpu);
	if (vcpu->queued_irq >= 0 && allowed) {
		mkvm_inject_irq(vcpu, vcpu->queued_irq);
		vcpu->queued_irq = -1;
		allowed = false;
	}
	/*
	 * Ask to hear when the guest can take one, if anybody wants to know:
	 * for a vector still queued, or because the VMM asked. Not merely
	 * because one just went in, which would cost a window exit per
	 * interrupt for nothing.
	 */
	if (!allowed && (vcpu->queued_irq >= 0 ||
			 vcpu->run->request_interrupt_window))
		mkvm_ops->enable_irq_window(vcpu);
}

/**
 * mkvm_vcpu_on_spin() - the guest spins in a PAUSE loop (vendor exit).
 *
 * It waits for something, most likely a lock held by another vCPU whose
 * thread is not running: give the CPU away once, so that thread may run.
 * KVM picks a vCPU of the same VM to yield to; we let the scheduler pick.
 */
void mkvm_vcpu_on_spin(struct mkvm_vcpu *vcpu)
{
	vcpu->stat.pause_exits++;
	yield();
}

/* The interrupt window opened: the run loop decides what to tell the VMM. */
int mkvm_handle_irq_window(struct mkvm_vcpu *vcpu)
{
	vcpu->stat.irq_window_exits++;
	return 1;
}

/* Fill the kvm_run fields every exit reports (KVM's post_kvm_run_save). */
static void mkvm_post_run(struct mkvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(vcpu->rflags & MKVM_RFLAGS_IF);
	if (vcpu->apic) {
		run->cr8 = mkvm_lapic_get_cr8(vcpu);
		run->apic_base = vcpu->apic->base;
	} else {
		run->cr8 = mkvm_ops->get_cr(vcpu, 8);
		run->apic_base = vcpu->msr_apic_base;
	}
	/* KVM ABI: the VMM sees whether the vCPU is in SMM (smm.c). */
	run->flags = vcpu->in_smm ? KVM_RUN_X86_SMM : 0;
	/* With the PIC in the kernel there is nothing for the VMM to wait for. */
	run->ready_for_interrupt_injection =
		vcpu->vm->irqchip_mode == MKVM_IRQCHIP_KERNEL ||
		mkvm_ready_for_interrupt(vcpu);
}

/*
 * One trip into the guest. Everything between local_irq_disable() and
 * the vendor's run() is about not losing a wake-up: a kick (IPI) or a
 * signal that arrives after we looked must still stop us, so we publish
 * mode = MKVM_IN_GUEST first, then look at requests and signals. With
 * interrupts off, a pending IPI fires as a VM exit right after entry.
 * Return: 1 after a trip, 0 if we did not go (look at signals and the
 * scheduler, then try again), -EIO if the machine is rebooting and SVM/VMX
 * may already be off.
 */
static int mkvm_enter_guest(struct mkvm_vcpu *vcpu)
{
	int r = 0;

	preempt_disable();
	local_irq_disable();
	smp_store_mb(vcpu->mode, MKVM_IN_GUEST);

	/*
	 * An SMI requested since the run loop looked (mkvm_smi(): its kick
	 * found us outside the guest): go back and take it.
	 */
	if (need_resched() || signal_pending(current) ||
	    READ_ONCE(mkvm_rebooting) ||
	    test_bit(MKVM_REQ_SMI, &vcpu->requests)) {
		if (READ_ONCE(mkvm_rebooting))
			r = -EIO;
		WRITE_ONCE(vcpu->mode, MKVM_OUTSIDE_GUEST);
		local_irq_enable();
		preempt_enable();
		return r;
	}
	/*
	 * The guest's FPU/SSE registers went into the CPU at the start of
	 * KVM_RUN (fpu_swap_kvm_fpstate()). If this thread was scheduled out
	 * since, or an interrupt used the FPU (kernel_fpu_begin()), the kernel
	 * saved them and only flagged them to be reloaded on the way back to
	 * userspace (TIF_NEED_FPU_LOAD). We are not going there but into the
	 * guest: reload them now, or the guest runs on with another task's
	 * XMM registers.
	 */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	if (mkvm_test_clear_request(vcpu, MKVM_REQ_TLB_FLUSH))
		mkvm_ops->flush_tlb(vcpu);
	mkvm_prepare_interrupts(vcpu);

	vcpu->ran = true;
	trace_kvm_entry(vcpu);
	/*
	 * The guest's XCR0 only for the world switch itself (xsave.c): after
	 * any FPU reload above, which needs the host's, and back before
	 * interrupts are on again.
	 */
	mkvm_xcr0_load_guest(vcpu);
	mkvm_ops->run(vcpu);
	mkvm_xcr0_load_host(vcpu);
	trace_kvm_exit(vcpu, mkvm_ops->isa);

	WRITE_ONCE(vcpu->mode, MKVM_OUTSIDE_GUEST);
	vcpu->stat.exits++;
	/* The host now takes the interrupt that made the guest exit. */
	local_irq_enable();
	preempt_enable();
	return 1;
}

static int mkvm_vcpu_run_loop(struct mkvm_vcpu *vcpu);

/*
 * KVM_SET_SIGNAL_MASK: the signals to block while the thread is inside
 * KVM_RUN. A VMM blocks, say, its kick signal everywhere else and lets it
 * through only here, so a kick can never be lost between two KVM_RUNs.
 */
static int mkvm_set_signal_mask(struct mkvm_vcpu *vcpu,
				struct kvm_signal_mask __user *um)
{
	struct kvm_signal_mask m;
	sigset_t set;

	if (!um) {
		vcpu->sigset_active = false;
		return 0;
	}
	if (copy_from_user(&m, um, sizeof(m)))
		return -EFAULT;
	if (m.len != sizeof(set))
		return -EINVAL;
	if (copy_from_user(&set, um->sigset, sizeof(set)))
		return -EFAULT;
	sigdelsetmask(&set, sigmask(SIGKILL) | sigmask(SIGSTOP));
	vcpu->sigset = set;
	vcpu->sigset_active = true;
	return 0;
}

static void mkvm_sigset_activate(struct mkvm_vcpu *vcpu)
{
	if (vcpu->sigset_active)
		sigprocmask(SIG_SETMASK, &vcpu->sigset, &current->real_blocked);
}

static void mkvm_sigset_deactivate(struct mkvm_vcpu *vcpu)
{
	if (!vcpu->sigset_active)
		return;
	sigprocmask(SIG_SETMASK, &current->real_blocked, NULL);
	sigemptyset(&current->real_blocked);
}

static int mkvm_vcpu_run(struct mkvm_vcpu *vcpu)
{
	int r;

	mkvm_sigset_activate(vcpu);
	r = mkvm_vcpu_run_loop(vcpu);
	mkvm_sigset_deactivate(vcpu);
	return r;
}

/* ------------------------------------------------------------------ */
/* Halted vCPUs and INIT/SIPI (in-kernel irqchip only)                 */
/* ------------------------------------------------------------------ */

/*
 * The state a CPU takes on INIT (SDM Vol.3 9.1.1, Table 9-1): real mode at
 * F000:FFF0, as at power-on, except that some registers keep their values
 * (we keep MSRs and FPU state as KVM does). The APIC resets itself
 * (lapic.c).
 */
static void mkvm_vcpu_init_state(struct mkvm_vcpu *vcpu)
{
	struct kvm_sregs s = {};
	int seg;

	for (seg = 0; seg < MKVM_NR_SEGS; seg++) {
		struct kvm_segment *g = sregs_seg(&s, seg);

		g->limit = 0xffff;
		g->present = 1;
		g->s = 1;
		g->type = 3;		/* read/write data, accessed */
	}
	s.cs.type = 0xb;		/* execute/read code, accessed */
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	s.tr.s = 0;
	s.tr.type = 0xb;		/* busy 32-bit TSS */
	s.ldt.s = 0;
	s.ldt.type = 2;			/* LDT */
	s.gdt.limit = 0xffff;
	s.idt.limit = 0xffff;
	s.cr0 = 0x60000010;		/* CD, NW, ET */
	s.apic_base = vcpu->apic->base;
	mkvm_set_sregs(vcpu, &s);
	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	vcpu->regs[MKVM_RDX] = 0x600;
	vcpu->rip = 0xfff0;
	vcpu->rflags = MKVM_RFLAGS_FIXED;
	vcpu->event.pending = false;
	vcpu->queued_irq = -1;
	mkvm_events_reset(vcpu);
	mkvm_smm_reset(vcpu, true);
}

/* After a SIPI: CS = vector << 8, base vector << 12 (SDM Vol.3 8.4.4.1). */
static void mkvm_vcpu_sipi_cs(struct mkvm_vcpu *vcpu, u8 vector)
{
	struct kvm_segment cs;

	mkvm_ops->get_segment(vcpu, &cs, MKVM_CS);
	cs.selector = vector << 8;
	cs.base = (u64)vector << 12;
	mkvm_ops->set_segment(vcpu, &cs, MKVM_CS);
}

/*
 * INIT and SIPI arrive from other vCPUs as bits in the LAPIC (lapic.c);
 * the vCPU acts on them itself, here (SDM Vol.3 8.4.4, 10.6.1):
 * INIT resets it and makes it wait for a SIPI (the BSP, which has no one
 * to send it a SIPI, starts again at the reset vector); a SIPI to a
 * waiting vCPU starts it in real mode at vector * 4096.
 */
static void mkvm_accept_events(struct mkvm_vcpu *vcpu)
{
	struct mkvm_lapic *apic = vcpu->apic;
	u8 v;

	if (!READ_ONCE(apic->pending_events))
		return;
	/*
	 * In SMM, INIT stays latched until RSM and a SIPI is lost, as on a
	 * real CPU (SDM Vol.3 32.5.1 "INIT ... blocked"), as in KVM.
	 */
	if (vcpu->in_smm) {
		clear_bit(MKVM_APIC_SIPI, &apic->pending_events);
		return;
	}
	if (test_and_clear_bit(MKVM_APIC_INIT, &apic->pending_events)) {
		mkvm_vcpu_init_state(vcpu);
		mkvm_lapic_reset(vcpu, true);
		vcpu->mp_state = apic->base & MSR_IA32_APICBASE_BSP ?
			KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_INIT_RECEIVED;
	}
	if (test_and_clear_bit(MKVM_APIC_SIPI, &apic->pending_events) &&
	    vcpu->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		smp_rmb();	/* the bit, then the vector (lapic.c) */
		v = READ_ONCE(apic->sipi_vector);
		mkvm_vcpu_init_state(vcpu);
		mkvm_vcpu_sipi_cs(vcpu, v);
		vcpu->rip = 0;
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	}
}

/*
 * An SMI wakes a halted vCPU (smm.c), not one in SMM already (it waits for
 * RSM), and not one waiting for a SIPI: the caller checks HALTED.
 */
static bool mkvm_smi_wakes(struct mkvm_vcpu *vcpu)
{
	return !vcpu->in_smm && (vcpu->smi_pending ||
				 test_bit(MKVM_REQ_SMI, &vcpu->requests));
}

/* Would an interrupt reach this vCPU if it ran now? */
static bool mkvm_vcpu_has_interrupt(struct mkvm_vcpu *vcpu)
{
	return (vcpu->rflags & MKVM_RFLAGS_IF) &&
	       mkvm_irqchip_pending_vector(vcpu) >= 0;
}

/*
 * The wait condition of a vCPU that does not run: anything that could
 * change its state. Called by the sleeping thread itself, so it may read
 * its own LAPIC.
 */
static bool mkvm_vcpu_should_wake(struct mkvm_vcpu *vcpu)
{
	unsigned long events = READ_ONCE(vcpu->apic->pending_events);

	/* An INIT latched in SMM (mkvm_accept_events()) waits for RSM. */
	if (vcpu->in_smm)
		events &= ~BIT(MKVM_APIC_INIT);
	if (events || signal_pending(current))
		return true;
	if (vcpu->mp_state != KVM_MP_STATE_HALTED)
		return false;
	/* A new NMI: mkvm_vcpu_wait_runnable() decides whether it wakes us. */
	return atomic_read(&vcpu->apic->timer_pending) ||
	       mkvm_vcpu_has_interrupt(vcpu) ||
	       atomic_read(&vcpu->nmi_queued) || mkvm_smi_wakes(vcpu);
}

/**
 * mkvm_vcpu_wait_runnable() - sleep until this vCPU may run.
 * @vcpu: a vCPU with an in-kernel LAPIC
 * @idx: the caller's SRCU index; the read side is dropped while asleep
 *
 * A halted vCPU (HLT) sleeps until an interrupt it would take, a timer
 * expiry, INIT or SIPI; one waiting for a SIPI (INIT_RECEIVED,
 * UNINITIALIZED) until INIT or SIPI. Kicks (mkvm_vcpu_kick()) wake it.
 * Return: 1 to run, -EINTR (KVM_EXIT_INTR) if a signal came first; the
 * vCPU then stays halted and the next KVM_RUN sleeps again, as in KVM.
 */
static int mkvm_vcpu_wait_runnable(struct mkvm_vcpu *vcpu, int *idx)
{
	for (;;) {
		mkvm_accept_events(vcpu);
		mkvm_lapic_sync(vcpu);
		if (vcpu->mp_state == KVM_MP_STATE_HALTED &&
		    (mkvm_vcpu_has_interrupt(vcpu) ||
		     mkvm_nmi_waiting(vcpu) || mkvm_smi_wakes(vcpu))) {
			vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
			vcpu->stat.halt_wakeups++;
		}
		if (vcpu->mp_state == KVM_MP_STATE_RUNNABLE)
			return 1;
		if (signal_pending(current)) {
			vcpu->run->exit_reason = KVM_EXIT_INTR;
			vcpu->stat.signal_exits++;
			return -EINTR;
		}
		srcu_read_unlock(&vcpu->vm->srcu, *idx);
		wait_event_interruptible(vcpu->wq, mkvm_vcpu_should_wake(vcpu));
		*idx = srcu_read_lock(&vcpu->vm->srcu);
	}
}

/*
 * KVM_CAP_SYNC_REGS (api.rst, "kvm_valid_regs"): the VMM may hand the
 * registers in and take them out through kvm_run->s instead of separate
 * KVM_SET/GET_(S)REGS calls around each KVM_RUN. kvm_dirty_regs names the
 * sets to load before the run (we clear each bit once it is loaded);
 * kvm_valid_regs the sets to store at every return from KVM_RUN. Bits we
 * do not support are -EINVAL, in either word.
 *
 * The kvm_run page is shared with userspace, which may write it while we
 * read: each set is copied to the stack first, then checked and loaded,
 * like a KVM_SET_REGS/KVM_SET_SREGS argument. Not inlined, so the run
 * path carries the stack for kvm_sregs only when a set is dirty.
 */
static noinline int mkvm_sync_regs_load(struct mkvm_vcpu *vcpu, u64 dirty)
{
	struct kvm_run *run = vcpu->run;
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_vcpu_events events;
	} u;

	if (dirty & KVM_SYNC_X86_REGS) {
		memcpy(&u.regs, &run->s.regs.regs, sizeof(u.regs));
		mkvm_set_regs(vcpu, &u.regs);
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_REGS;
	}
	if (dirty & KVM_SYNC_X86_SREGS) {
		memcpy(&u.sregs, &run->s.regs.sregs, sizeof(u.sregs));
		if (mkvm_set_sregs(vcpu, &u.sregs))
			return -EINVAL;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_SREGS;
	}
	if (dirty & KVM_SYNC_X86_EVENTS) {
		memcpy(&u.events, &run->s.regs.events, sizeof(u.events));
		if (mkvm_set_vcpu_events(vcpu, &u.events))
			return -EINVAL;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_EVENTS;
	}
	return 0;
}

static noinline void mkvm_sync_regs_store(struct mkvm_vcpu *vcpu, u64 valid)
{
	struct kvm_run *run = vcpu->run;

	if (valid & KVM_SYNC_X86_REGS)
		mkvm_get_regs(vcpu, &run->s.regs.regs);
	if (valid & KVM_SYNC_X86_SREGS)
		mkvm_get_sregs(vcpu, &run->s.regs.sregs);
	if (valid & KVM_SYNC_X86_EVENTS)
		mkvm_get_vcpu_events(vcpu, &run->s.regs.events);
}

/*
 * The kernel moved RIP past an instruction (emulated it) that began with
 * RFLAGS.TF set (@rflags: before it): the single-step trap the hardware
 * did not raise (guestdbg.c). TF as it was before counts, not after (SDM
 * Vol.3 17.3.1.4): RSM, which may load a TF of 1, raises no trap itself.
 */
static inline int mkvm_step_check(struct mkvm_vcpu *vcpu, unsigned long rip,
				  unsigned long rflags)
{
	if (likely(!(rflags & MKVM_RFLAGS_TF)) || vcpu->rip == rip)
		return 1;
	return mkvm_step_emulated(vcpu);
}

static int mkvm_vcpu_run_loop(struct mkvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u64 dirty = READ_ONCE(run->kvm_dirty_regs);
	unsigned long rip, rflags;
	int r, idx;

	run->flags = 0;
	idx = srcu_read_lock(&vcpu->vm->srcu);
	if (unlikely((READ_ONCE(run->kvm_valid_regs) | dirty) &
		     ~(u64)MKVM_SYNC_REGS_VALID)) {
		r = -EINVAL;
		goto out;
	}
	if (unlikely(dirty)) {
		r = mkvm_sync_regs_load(vcpu, dirty);
		if (r)
			goto out;
	}
	/*
	 * With the APIC in userspace, the VMM owns the TPR's value between
	 * two KVM_RUNs: it may have changed kvm_run->cr8 (QEMU writes its
	 * APIC's TPR there before every entry). CR8 holds 4 bits
	 * (SDM Vol.3 10.8.6.1); anything else is refused, as in KVM. With
	 * the APIC in the kernel, the TPR is the kernel's.
	 */
	if (!vcpu->apic) {
		if (run->cr8 > 0xf) {
			r = -EINVAL;
			goto out;
		}
		mkvm_ops->set_cr(vcpu, 8, run->cr8);
	}
	rip = vcpu->rip;
	rflags = vcpu->rflags;
	r = mkvm_complete_userspace_io(vcpu);
	if (r > 0)
		r = mkvm_step_check(vcpu, rip, rflags);
	if (r <= 0)
		goto out;
	/* KVM_X86_SET_MCE found the machine unable to take the #MC. */
	if (mkvm_test_clear_request(vcpu, MKVM_REQ_SHUTDOWN)) {
		r = mkvm_exit_shutdown(vcpu);
		goto out;
	}
	if (READ_ONCE(run->MKVM_IMMEDIATE_EXIT)) {
		r = -EINTR;
		goto out;
	}

	fpu_swap_kvm_fpstate(vcpu->fpu, true);
	for (;;) {
		/* A halted vCPU, or one waiting for a SIPI, sleeps here. */
		if (vcpu->apic) {
			r = mkvm_vcpu_wait_runnable(vcpu, &idx);
			if (r <= 0)
				break;
		}
		/*
		 * The slot set may change while the guest runs: the guest
		 * itself never looks at it, only the exit handlers do. So
		 * the SRCU read side ends before the entry, and a
		 * KVM_SET_USER_MEMORY_REGION (synchronize_srcu) never waits
		 * for a guest that keeps its CPU busy without exiting.
		 */
		/* An SMI: enter SMM here, where guest memory may fault (smm.c). */
		if (unlikely(vcpu->smi_pending ||
			     test_bit(MKVM_REQ_SMI, &vcpu->requests)))
			mkvm_smm_prepare(vcpu);
		/* A TSC rate above the host's: catch up (features.c). */
		if (unlikely(vcpu->tsc_catchup))
			mkvm_tsc_catchup(vcpu);
		/* kvmclock: refreshed here, where guest memory may fault. */
		if (unlikely(test_bit(MKVM_REQ_CLOCK_UPDATE, &vcpu->requests)))
			mkvm_kvmclock_update(vcpu);
		if (vcpu->apic && unlikely(vcpu->apic->vapic_addr))
			mkvm_lapic_sync_to_vapic(vcpu);
		srcu_read_unlock(&vcpu->vm->srcu, idx);
		/*
		 * mkvm_enter_guest() looks for signals and the scheduler's
		 * wish with interrupts off, where no wake-up can be lost; it
		 * comes back with 0 when either needs us.
		 */
		r = mkvm_enter_guest(vcpu);
		if (!r && !signal_pending(current))
			cond_resched();
		idx = srcu_read_lock(&vcpu->vm->srcu);
		if (r > 0 && vcpu->apic && unlikely(vcpu->apic->vapic_addr))
			mkvm_lapic_sync_from_vapic(vcpu);
		if (r < 0)
			break;
		if (!r) {
			if (signal_pending(current)) {
				run->exit_reason = KVM_EXIT_INTR;
				vcpu->stat.signal_exits++;
				r = -EINTR;
				break;
			}
			continue;
		}
		rip = vcpu->rip;
		rflags = vcpu->rflags;
		r = mkvm_ops->handle_exit(vcpu);
		if (r > 0)
			r = mkvm_step_check(vcpu, rip, rflags);
		if (r <= 0)
			break;
		/* Split irqchip: the VMM's IOAPIC hears of a level EOI. */
		if (vcpu->apic && unlikely(vcpu->apic->eoi_exit_vector >= 0)) {
			run->exit_reason = KVM_EXIT_IOAPIC_EOI;
			run->eoi.vector = vcpu->apic->eoi_exit_vector;
			vcpu->apic->eoi_exit_vector = -1;
			r = 0;
			break;
		}
		/* The VMM asked to hear when it may inject (KVM ABI). */
		if (mkvm_wants_irq_window(vcpu) &&
		    mkvm_ready_for_interrupt(vcpu)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			vcpu->stat.request_irq_exits++;
			r = 0;
			break;
		}
	}
	fpu_swap_kvm_fpstate(vcpu->fpu, false);
out:
	/* Whatever the result, as KVM: the sets the VMM asked to see. */
	if (unlikely(READ_ONCE(run->kvm_valid_regs) & MKVM_SYNC_REGS_VALID))
		mkvm_sync_regs_store(vcpu, READ_ONCE(run->kvm_valid_regs) &
					   MKVM_SYNC_REGS_VALID);
	mkvm_post_run(vcpu);
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	trace_kvm_userspace_exit(run->exit_reason, r);
	return r;
}

/* ------------------------------------------------------------------ */
/* The vCPU fd                                                         */
/* ------------------------------------------------------------------ */

/*
 * KVM_GET/SET_MP_STATE. Without an in-kernel APIC a vCPU is always
 * runnable (KVM ABI). With one, the states are those of the run loop:
 * RUNNABLE, HALTED, INIT_RECEIVED and UNINITIALIZED (both: waiting for a
 * SIPI); setting SIPI_RECEIVED means "a SIPI is on its way", as in KVM.
 */
static int mkvm_mp_state(struct mkvm_vcpu *vcpu, void __user *argp, bool set)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (!set) {
		if (vcpu->apic) {
			mkvm_accept_events(vcpu);
			mp.mp_state = vcpu->mp_state;
		}
		return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
	}
	if (copy_from_user(&mp, argp, sizeof(mp)))
		return -EFAULT;
	if (!vcpu->apic)
		return mp.mp_state == KVM_MP_STATE_RUNNABLE ? 0 : -EINVAL;
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE:
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
		/* KVM: no INIT/SIPI state in SMM or with an SMI pending. */
		if (mp.mp_state == KVM_MP_STATE_INIT_RECEIVED &&
		    (vcpu->in_smm || vcpu->smi_pending))
			return -EINVAL;
		vcpu->mp_state = mp.mp_state;
		return 0;
	case KVM_MP_STATE_SIPI_RECEIVED:
		if (vcpu->in_smm || vcpu->smi_pending)
			return -EINVAL;
		vcpu->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		set_bit(MKVM_APIC_SIPI, &vcpu->apic->pending_events);
		return 0;
	default:
		return -EINVAL;
	}
}

/* KVM_SET_VAPIC_ADDR (lapic.c): only with the LAPIC in the kernel. */
static int mkvm_set_vapic_addr(struct mkvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_vapic_addr va;
	int idx, r;

	if (!vcpu->apic)
		return -EINVAL;
	if (copy_from_user(&va, argp, sizeof(va)))
		return -EFAULT;
	idx = srcu_read_lock(&vcpu->vm->srcu);
	r = mkvm_lapic_set_vapic_addr(vcpu, va.vapic_addr);
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	return r;
}

/* KVM_GET/SET_LAPIC: the APIC register page (lapic.c). */
static int mkvm_lapic_ioctl(struct mkvm_vcpu *vcpu, void __user *argp,
			    bool set)
{
	struct kvm_lapic_state *st;
	int r;

	if (!vcpu->apic)
		return -EINVAL;		/* as KVM */
	st = kmalloc(sizeof(*st), GFP_KERNEL_ACCOUNT);
	if (!st)
		return -ENOMEM;
	if (set) {
		r = -EFAULT;
		if (!copy_from_user(st, argp, sizeof(*st)))
			r = mkvm_lapic_set_state(vcpu, st);
	} else {
		r = mkvm_lapic_get_state(vcpu, st);
		if (!r && copy_to_user(argp, st, sizeof(*st)))
			r = -EFAULT;
	}
	kfree(st);
	return r;
}

/*
 * The vCPU ioctls other than KVM_RUN. Not inlined into the caller: the
 * kernel zeroes this union on the stack on every call
 * (CONFIG_INIT_STACK_ALL_ZERO), 52 stores that KVM_RUN has no use for.
 */
static noinline long mkvm_vcpu_ioctl_state(struct mkvm_vcpu *vcpu,
					   unsigned int ioctl,
					   void __user *argp)
{
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_vcpu_events events;
	} u;

	switch (ioctl) {
	case KVM_GET_REGS:
		mkvm_get_regs(vcpu, &u.regs);
		return copy_to_user(argp, &u.regs, sizeof(u.regs)) ? -EFAULT : 0;
	case KVM_SET_REGS:
		if (copy_from_user(&u.regs, argp, sizeof(u.regs)))
			return -EFAULT;
		mkvm_set_regs(vcpu, &u.regs);
		return 0;
	case KVM_GET_SREGS:
		mkvm_get_sregs(vcpu, &u.sregs);
		return copy_to_user(argp, &u.sregs, sizeof(u.sregs)) ?
			-EFAULT : 0;
	case KVM_SET_SREGS:
		if (copy_from_user(&u.sregs, argp, sizeof(u.sregs)))
			return -EFAULT;
		return mkvm_set_sregs(vcpu, &u.sregs);
	case KVM_SET_CPUID2:
		return mkvm_set_cpuid2(vcpu, argp);
	case KVM_SET_CPUID:
		return mkvm_set_cpuid(vcpu, argp);
	case KVM_ENABLE_CAP:
		return mkvm_vcpu_enable_cap(vcpu, argp);
	case KVM_GET_TSC_KHZ:
		return mkvm_get_tsc_khz(vcpu);
	case KVM_SET_TSC_KHZ:
		return mkvm_set_tsc_khz(vcpu, (unsigned long)argp);
	case KVM_HAS_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:
		return mkvm_vcpu_device_attr(vcpu, ioctl, argp);
	case KVM_SET_GUEST_DEBUG:
		return mkvm_set_guest_debug(vcpu, argp);
	case KVM_GET_CPUID2:
		return mkvm_get_cpuid2(vcpu, argp);
	case KVM_GET_MSRS:
		return mkvm_msrs_ioctl(vcpu, argp, false);
	case KVM_SET_MSRS:
		return mkvm_msrs_ioctl(vcpu, argp, true);
	case KVM_INTERRUPT:
		return mkvm_interrupt(vcpu, argp);
	case KVM_SET_SIGNAL_MASK:
		return mkvm_set_signal_mask(vcpu, argp);
	case KVM_GET_STATS_FD:
		return mkvm_get_stats_fd(vcpu->vm, vcpu);
	case KVM_GET_MP_STATE:
		return mkvm_mp_state(vcpu, argp, false);
	case KVM_SET_MP_STATE:
		return mkvm_mp_state(vcpu, argp, true);
	case KVM_GET_LAPIC:
		return mkvm_lapic_ioctl(vcpu, argp, false);
	case KVM_SET_LAPIC:
		return mkvm_lapic_ioctl(vcpu, argp, true);
	case KVM_SET_VAPIC_ADDR:
		return mkvm_set_vapic_addr(vcpu, argp);
	case KVM_X86_SETUP_MCE:
	case KVM_X86_SET_MCE:
		return mkvm_mce_ioctl(vcpu, ioctl, argp);
	case KVM_SMI:	/* smm.c */
		if (!mkvm_ops->has_smm)
			return -ENOTTY;
		mkvm_smi(vcpu);
		return 0;
	case KVM_NMI:
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
		return mkvm_events_ioctl(vcpu, ioctl, argp);
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XSAVE:
	case KVM_SET_XSAVE:
	case KVM_GET_XSAVE2:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
		return mkvm_xsave_ioctl(vcpu, ioctl, argp);
	default:
		return -ENOTTY;
	}
}

static long mkvm_vcpu_ioctl_locked(struct mkvm_vcpu *vcpu, unsigned int ioctl,
				   void __user *argp)
{
	if (ioctl != KVM_RUN)
		return mkvm_vcpu_ioctl_state(vcpu, ioctl, argp);
	if (argp)
		return -EINVAL;
	return mkvm_vcpu_run(vcpu);
}

static long mkvm_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			    unsigned long arg)
{
	struct mkvm_vcpu *vcpu = filp->private_data;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (_IOC_TYPE(ioctl) != KVMIO)
		return -ENOTTY;
	/* One ioctl at a time per vCPU: KVM_RUN may sleep in here a while. */
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	mkvm_vcpu_load(vcpu);
	r = mkvm_vcpu_ioctl_locked(vcpu, ioctl, (void __user *)arg);
	mkvm_vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return r;
}

/*
 * mmap of the vCPU fd: page 0 is struct kvm_run, page 1 the PIO data,
 * page 2 the VM's coalesced MMIO ring (the same page for every vCPU).
 */
static vm_fault_t mkvm_vcpu_fault(struct vm_fault *vmf)
{
	struct mkvm_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff == 0)
		vmf->page = virt_to_page(vcpu->run);
	else if (vmf->pgoff == MKVM_PIO_PAGE_OFFSET)
		vmf->page = virt_to_page(vcpu->pio_data);
	else if (vmf->pgoff == KVM_COALESCED_MMIO_PAGE_OFFSET)
		vmf->page = mkvm_coalesced_page(vcpu->vm);
	else
		return VM_FAULT_SIGBUS;
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct mkvm_vcpu_vm_ops = {
	.fault = mkvm_vcpu_fault,
};

static int mkvm_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	vma->vm_ops = &mkvm_vcpu_vm_ops;
	return 0;
}

static int mkvm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct mkvm_vcpu *vcpu = filp->private_data;

	/* The vCPU itself is freed with its VM (vm.c). */
	mkvm_put_vm(vcpu->vm);
	return 0;
}

static const struct file_operations mkvm_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= mkvm_vcpu_release,
	.unlocked_ioctl	= mkvm_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= mkvm_vcpu_mmap,
	.llseek		= noop_llseek,
};

/* ------------------------------------------------------------------ */
/* Creation and destruction                                            */
/* ------------------------------------------------------------------ */

static void mkvm_vcpu_reset(struct mkvm_vcpu *vcpu)
{
	/* What a CPU holds after RESET (SDM Vol.3 9.1.1, Table 9-1). */
	vcpu->rip = 0xfff0;
	vcpu->rflags = MKVM_RFLAGS_FIXED;
	/* EDX = family/model/stepping; KVM uses 0x600 with no CPUID set. */
	vcpu->regs[MKVM_RDX] = 0x600;
	vcpu->efer = 0;
	vcpu->msr_pat = 0x0007040600070406ULL;
	/* MISC_ENABLE: BTS and PEBS unavailable (bits 11, 12), as KVM. */
	vcpu->msr_misc_enable = BIT_ULL(11) | BIT_ULL(12);
	/*
	 * APIC base (SDM Vol.3 10.4.4): the default address, enabled, and
	 * the BSP flag on vCPU 0, the one that starts at reset.
	 */
	vcpu->msr_apic_base = 0xfee00000ULL | BIT_ULL(11) |
			      (vcpu->id == 0 ? BIT_ULL(8) : 0);
	mkvm_mce_reset(vcpu);
	mkvm_features_vcpu_init(vcpu);
	vcpu->xcr0 = XFEATURE_MASK_FP;	/* x87 only (SDM Vol.1 13.3) */
}

/**
 * mkvm_create_vcpu() - KVM_CREATE_VCPU.
 * @vm: the VM
 * @id: the vCPU id userspace chose (its APIC id), below KVM_CAP_MAX_VCPU_ID
 *
 * Return: the new vCPU fd, or -EINVAL (bad id, too many vCPUs), -EEXIST
 * (id taken), -ENOMEM.
 */
int mkvm_create_vcpu(struct mkvm *vm, unsigned long id)
{
	struct mkvm_vcpu *vcpu;
	int i, r;

	if (id >= MKVM_MAX_VCPUS)
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	vcpu->queued_irq = -1;
	vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	mkvm_smm_reset(vcpu, false);
	init_waitqueue_head(&vcpu->wq);
	mutex_init(&vcpu->mutex);
	preempt_notifier_init(&vcpu->pn, &mkvm_preempt_ops);
	mkvm_vcpu_reset(vcpu);

	r = -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->pio_data = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run || !vcpu->pio_data)
		goto err_free_pages;
	vcpu->fpu = kzalloc(sizeof(*vcpu->fpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu->fpu || !fpu_alloc_guest_fpstate(vcpu->fpu))
		goto err_free_fpu;

	r = mkvm_ops->vcpu_create(vcpu);
	if (r)
		goto err_free_fpstate;

	mutex_lock(&vm->lock);
	r = -EINVAL;
	if (vm->nr_vcpus == MKVM_MAX_VCPUS || !mkvm_vcpu_id_allowed(vm, id))
		goto err_unlock;
	r = -EEXIST;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->id == id)
			goto err_unlock;
	/*
	 * With the LAPICs in the kernel, the vCPUs other than the boot CPU
	 * start waiting for INIT and SIPI from it, as on a PC (SDM Vol.3
	 * 8.4.1), though VMMs usually set them runnable themselves.
	 */
	if (vm->irqchip_mode != MKVM_IRQCHIP_NONE) {
		r = mkvm_lapic_create(vcpu);
		if (r)
			goto err_unlock;
		if (id != vm->bsp_vcpu_id)
			vcpu->mp_state = KVM_MP_STATE_UNINITIALIZED;
	}

	/* The fd takes a reference on the VM; from here the VM owns us. */
	refcount_inc(&vm->users);
	r = anon_inode_getfd("kvm-vcpu", &mkvm_vcpu_fops, vcpu,
			     O_RDWR | O_CLOEXEC);
	if (r < 0) {
		refcount_dec(&vm->users);
		goto err_unlock;
	}
	vm->vcpus[vm->nr_vcpus] = vcpu;
	/* Publish the pointer before the count (mkvm_kick_all() reads). */
	smp_wmb();
	WRITE_ONCE(vm->nr_vcpus, vm->nr_vcpus + 1);
	mutex_unlock(&vm->lock);
	return r;

err_unlock:
	mutex_unlock(&vm->lock);
	mkvm_lapic_free(vcpu);
	mkvm_ops->vcpu_free(vcpu);
err_free_fpstate:
	fpu_free_guest_fpstate(vcpu->fpu);
err_free_fpu:
	kfree(vcpu->fpu);
err_free_pages:
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	return r;
}

void mkvm_vcpu_destroy(struct mkvm_vcpu *vcpu)
{
	mkvm_lapic_free(vcpu);
	mkvm_ops->vcpu_free(vcpu);
	kfree(vcpu->cpuid);
	mkvm_tdp_free_cache(vcpu);
	fpu_free_guest_fpstate(vcpu->fpu);
	kfree(vcpu->fpu);
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}
