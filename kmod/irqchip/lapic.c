// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the local APIC, one per vCPU (SDM Vol.3 chapter 10).
 *
 * Every x86 CPU has a local APIC: the unit that takes interrupt messages
 * (from the IOAPIC, from MSIs, from other CPUs' IPIs, from its own timer),
 * keeps them in three 256-bit registers and hands the CPU one vector at a
 * time, by priority:
 *
 *   IRR  requested, not yet taken       -- set by whoever sends
 *   ISR  being serviced (taken, no EOI)  -- IRR -> ISR when the vendor
 *                                           injects (mkvm_lapic_ack())
 *   TMR  which of them were level-triggered, so that EOI tells the IOAPIC
 *
 * A vector goes in only if its priority class (vector >> 4) is above the
 * processor priority PPR = max(TPR, class of the highest ISR): an
 * interrupt never interrupts one of its own class or higher (10.8.3.1).
 *
 * The guest reaches the registers two ways: as a 4 KiB MMIO page at the
 * APIC base (xAPIC; the page is no memslot, so accesses exit and come
 * here through emulate.c), and as MSRs 0x800-0x8ff (x2APIC, 10.12).
 * Registers live in apic->regs laid out as in the page (Table 10-1), which
 * is also the format of KVM_GET/SET_LAPIC.
 *
 * Threads: only the vCPU's own thread changes these registers, except
 * IRR/TMR bits and pending_events, which any thread (an IPI from another
 * vCPU, the IOAPIC, an MSI, the timer) sets atomically before kicking the
 * vCPU (irqchip.h).
 */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "minikvm.h"

#define MKVM_APIC_VERSION	0x14	/* an integrated xAPIC (10.4.8) */
#define MKVM_APIC_NR_LVT	6	/* timer, thermal, PMC, LINT0/1, error */
#define MKVM_APIC_SHORT_MASK	0xc0000	/* ICR destination shorthand */
#define MKVM_X2APIC_BROADCAST	0xffffffffU
#define MKVM_APIC_BASE_ADDR	0xfffff000ULL	/* MSR bits 12 and up */

/* The timer counts bus clocks; like KVM, we say a bus clock is 1 ns. */
#define MKVM_APIC_BUS_NS	1
/* A periodic timer faster than this would keep a host CPU busy: clamp. */
#define MKVM_APIC_MIN_PERIOD_NS	200000

/* ------------------------------------------------------------------ */
/* The register page                                                   */
/* ------------------------------------------------------------------ */

static u32 apic_reg(const struct mkvm_lapic *apic, u32 reg)
{
	return READ_ONCE(*(u32 *)(apic->regs + reg));
}

static void apic_set_reg(struct mkvm_lapic *apic, u32 reg, u32 val)
{
	WRITE_ONCE(*(u32 *)(apic->regs + reg), val);
}

/*
 * IRR, ISR and TMR are 8 registers of 32 bits, 16 bytes apart: vector v
 * is bit v % 32 of register v / 32 (Figure 10-20).
 */
static unsigned long *apic_vec_word(struct mkvm_lapic *apic, u32 base, int v)
{
	return (unsigned long *)(apic->regs + base + (v >> 5) * 16);
}

static bool apic_test_vec(struct mkvm_lapic *apic, u32 base, int v)
{
	return test_bit(v & 31, apic_vec_word(apic, base, v));
}

/* The highest vector set in IRR, ISR or TMR, or -1. */
static int apic_highest_vec(struct mkvm_lapic *apic, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = apic_reg(apic, base + i * 16);

		if (w)
			return i * 32 + __fls(w);
	}
	return -1;
}

static bool apic_x2apic_mode(const struct mkvm_lapic *apic)
{
	return apic->base & X2APIC_ENABLE;
}

static bool apic_hw_enabled(const struct mkvm_lapic *apic)
{
	return apic->base & MSR_IA32_APICBASE_ENABLE;
}

/* Enabled in the MSR and in the spurious-vector register (10.4.3). */
static bool apic_enabled(const struct mkvm_lapic *apic)
{
	return apic_hw_enabled(apic) && apic->sw_enabled;
}

/* The id other APICs address this one by: 8 bits in xAPIC mode. */
static u32 apic_id(const struct mkvm_lapic *apic)
{
	u32 id = apic_reg(apic, APIC_ID);

	return apic_x2apic_mode(apic) ? id : id >> 24;
}

/* x2APIC: the logical id is derived from the id (10.12.10.2). */
static u32 apic_x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1U << (id & 0xf));
}

/* The guest's CPUID.1:ECX has @bit (x2APIC 21, TSC-deadline 24)? */
static bool apic_guest_has(struct mkvm_vcpu *vcpu, int bit)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 1, 0);

	return e && (e->ecx & BIT(bit));
}

/* ------------------------------------------------------------------ */
/* Priorities (10.8.3)                                                 */
/* ------------------------------------------------------------------ */

static u32 apic_ppr(struct mkvm_lapic *apic)
{
	u32 tpr = apic_reg(apic, APIC_TASKPRI);
	int isr = apic_highest_vec(apic, APIC_ISR);
	u32 isrv = isr < 0 ? 0 : isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr & 0xff : isrv & 0xf0;
}

static void apic_set_tpr(struct mkvm_lapic *apic, u32 tpr)
{
	apic_set_reg(apic, APIC_TASKPRI, tpr & 0xff);
	/* CR8 is TPR[7:4]; the vendor keeps a copy the guest reads. */
	mkvm_ops->set_cr(apic->vcpu, 8, (tpr & 0xff) >> 4);
}

void mkvm_lapic_set_cr8(struct mkvm_vcpu *vcpu, u64 cr8)
{
	apic_set_tpr(vcpu->apic, (cr8 & 0xf) << 4);
}

u64 mkvm_lapic_get_cr8(struct mkvm_vcpu *vcpu)
{
	return apic_reg(vcpu->apic, APIC_TASKPRI) >> 4;
}

/**
 * mkvm_lapic_pending_vector() - the vector the CPU would take now.
 *
 * The highest IRR vector whose class is above PPR; -1 if none, or if the
 * APIC is off in the MSR (then it delivers nothing).
 */
int mkvm_lapic_pending_vector(struct mkvm_vcpu *vcpu)
{
	struct mkvm_lapic *apic = vcpu->apic;
	int v;

	if (!apic_hw_enabled(apic))
		return -1;
	v = apic_highest_vec(apic, APIC_IRR);
	if (v < 0 || (v & 0xf0) <= (apic_ppr(apic) & 0xf0))
		return -1;
	return v;
}

/* The vendor injects @vector: from requested to in service (10.8.4). */
void mkvm_lapic_ack(struct mkvm_vcpu *vcpu, int vector)
{
	struct mkvm_lapic *apic = vcpu->apic;

	clear_bit(vector & 31, apic_vec_word(apic, APIC_IRR, vector));
	set_bit(vector & 31, apic_vec_word(apic, APIC_ISR, vector));
}

/*
 * EOI (10.8.5): the highest vector in service is done. If it came
 * level-triggered from the IOAPIC, the IOAPIC hears of it, clears the
 * pin's Remote IRR and may deliver again if the line is still high; an
 * edge vector of an IOAPIC entry is told too, for the ack notifiers (the
 * PIT counts its ticks taken this way), as KVM does. With
 * the IOAPIC in userspace (split irqchip) the VMM hears of it instead;
 * KVM sends only the vectors its routes say came from the IOAPIC, we send
 * every level-triggered one (TMR set), which only the IOAPIC produces.
 */
static void apic_eoi(struct mkvm_lapic *apic)
{
	struct mkvm *vm = apic->vcpu->vm;
	int v = apic_highest_vec(apic, APIC_ISR);
	bool level;

	if (v < 0)
		return;
	clear_bit(v & 31, apic_vec_word(apic, APIC_ISR, v));
	level = apic_test_vec(apic, APIC_TMR, v);
	if (vm->irqchip_mode == MKVM_IRQCHIP_SPLIT) {
		if (level)
			apic->eoi_exit_vector = v;	/* the run loop exits */
		return;
	}
	if (level || mkvm_ioapic_routes_vector(vm, v))
		mkvm_ioapic_eoi(vm, v, level);
}

/* ------------------------------------------------------------------ */
/* Receiving interrupts (10.6, 10.8)                                   */
/* ------------------------------------------------------------------ */

/**
 * mkvm_lapic_accept_irq() - this APIC receives one interrupt message.
 *
 * Any thread, any context: only atomic bit operations here, then a kick.
 * Return: 1 if the message was taken, 0 if dropped (APIC disabled, or a
 * delivery mode this model does not carry: ExtINT messages).
 */
int mkvm_lapic_accept_irq(struct mkvm_vcpu *target,
			  const struct mkvm_lapic_irq *irq)
{
	struct mkvm_lapic *apic = target->apic;
	int v = irq->vector & 0xff;

	switch (irq->delivery_mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (!apic_enabled(apic))
			return 0;
		if (irq->trig_level)
			set_bit(v & 31, apic_vec_word(apic, APIC_TMR, v));
		else
			clear_bit(v & 31, apic_vec_word(apic, APIC_TMR, v));
		set_bit(v & 31, apic_vec_word(apic, APIC_IRR, v));
		break;
	case APIC_DM_INIT:
		/* A level de-assert INIT only synchronises arbitration ids. */
		if (irq->trig_level && !irq->level)
			return 0;
		/* A SIPI sent before this INIT is void; one sent after is not. */
		clear_bit(MKVM_APIC_SIPI, &apic->pending_events);
		set_bit(MKVM_APIC_INIT, &apic->pending_events);
		break;
	case APIC_DM_NMI:
		/*
		 * The vector is ignored (10.6.1); a software-disabled APIC
		 * still takes NMIs (10.4.7.2). events.c queues it and kicks.
		 */
		mkvm_vcpu_queue_nmi(target);
		return 1;
	case APIC_DM_SMI:
		/* Vector ignored too (10.6.1); smm.c takes it before entry. */
		mkvm_smi(target);
		return 1;
	case APIC_DM_STARTUP:
		WRITE_ONCE(apic->sipi_vector, v);
		smp_wmb();	/* the vector before the bit (vcpu.c reads) */
		set_bit(MKVM_APIC_SIPI, &apic->pending_events);
		break;
	default:
		return 0;
	}
	mkvm_vcpu_kick(target);
	return 1;
}

/**
 * mkvm_lapic_match_dest() - does a message for @dest reach @target?
 *
 * Shorthands first (self, all, all but self), then the destination field:
 * physical mode compares APIC ids, logical mode the logical id in LDR,
 * flat or cluster model per DFR in xAPIC mode (10.6.2.2), cluster in
 * x2APIC mode (10.12.10.2). All ones is the broadcast address.
 */
bool mkvm_lapic_match_dest(struct mkvm_vcpu *target, struct mkvm_vcpu *src,
			   u32 shorthand, u32 dest, bool logical)
{
	struct mkvm_lapic *apic = target->apic;
	bool x2 = apic_x2apic_mode(apic);
	u32 ldr;

	switch (shorthand) {
	case APIC_DEST_SELF:
		return target == src;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return target != src;
	}
	/* An 8-bit broadcast from the IOAPIC or an MSI reaches x2APICs too. */
	if (x2 && !src && dest == 0xff)
		dest = MKVM_X2APIC_BROADCAST;
	if (!x2)
		dest &= 0xff;
	if (dest == (x2 ? MKVM_X2APIC_BROADCAST : 0xff))
		return true;
	if (!logical)
		return dest == apic_id(apic);
	ldr = apic_reg(apic, APIC_LDR);
	if (x2)
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	ldr >>= 24;
	if ((apic_reg(apic, APIC_DFR) >> 28) == 0xf)	/* flat model */
		return dest & ldr;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

/**
 * mkvm_irq_delivery_to_apic() - carry a message to every APIC it names.
 *
 * Lowest-priority delivery goes to one of the matching APICs; we take the
 * first, which the SDM allows (10.6.2.4: the choice is model-specific).
 */
int mkvm_irq_delivery_to_apic(struct mkvm *vm, struct mkvm_vcpu *src,
			      const struct mkvm_lapic_irq *irq)
{
	int i, n = READ_ONCE(vm->nr_vcpus), r = -1;

	smp_rmb();	/* pairs with the smp_wmb() in mkvm_create_vcpu() */
	for (i = 0; i < n; i++) {
		struct mkvm_vcpu *v = vm->vcpus[i];

		if (!v->apic || !mkvm_lapic_match_dest(v, src, irq->shorthand,
							irq->dest_id,
							irq->dest_logical))
			continue;
		if (r < 0)
			r = 0;
		r += mkvm_lapic_accept_irq(v, irq);
		if (irq->delivery_mode == APIC_DM_LOWEST)
			break;
	}
	return r;
}

/* An interrupt from one of this APIC's own LVT entries (10.5.1). */
static void apic_local_deliver(struct mkvm_lapic *apic, u32 lvt)
{
	u32 val = apic_reg(apic, lvt);
	struct mkvm_lapic_irq irq = {
		.vector = val & APIC_VECTOR_MASK,
		.delivery_mode = val & APIC_MODE_MASK,
		.trig_level = val & APIC_LVT_LEVEL_TRIGGER,
	};

	if (apic_hw_enabled(apic) && !(val & APIC_LVT_MASKED))
		mkvm_lapic_accept_irq(apic->vcpu, &irq);
}

/*
 * The PIC's INTR reaches the CPU through LVT0 programmed as ExtINT, or
 * directly when the APIC is off in the MSR (10.4.3, 10.5.1).
 */
bool mkvm_lapic_accepts_pic(struct mkvm_vcpu *vcpu)
{
	struct mkvm_lapic *apic = vcpu->apic;
	u32 lvt0 = apic_reg(apic, APIC_LVT0);

	if (!apic_hw_enabled(apic))
		return true;
	return !(lvt0 & APIC_LVT_MASKED) &&
	       (lvt0 & APIC_MODE_MASK) == APIC_DM_EXTINT;
}

void mkvm_lapic_pic_kick(struct mkvm *vm)
{
	int i, n = READ_ONCE(vm->nr_vcpus);

	smp_rmb();
	for (i = 0; i < n; i++) {
		struct mkvm_vcpu *v = vm->vcpus[i];

		if (v->apic && mkvm_lapic_accepts_pic(v))
			mkvm_vcpu_kick(v);
	}
}

/* ICR written (10.6.1): send the IPI it describes. */
static void apic_send_ipi(struct mkvm_lapic *apic, u32 low, u32 high)
{
	struct mkvm_lapic_irq irq = {
		.vector = low & APIC_VECTOR_MASK,
		.delivery_mode = low & APIC_MODE_MASK,
		.dest_logical = low & APIC_DEST_LOGICAL,
		.level = low & APIC_INT_ASSERT,
		.trig_level = low & APIC_INT_LEVELTRIG,
		.shorthand = low & MKVM_APIC_SHORT_MASK,
		.dest_id = apic_x2apic_mode(apic) ? high : high >> 24,
	};

	mkvm_irq_delivery_to_apic(apic->vcpu->vm, apic->vcpu, &irq);
}

/* ------------------------------------------------------------------ */
/* The timer (10.5.4)                                                  */
/* ------------------------------------------------------------------ */

static u32 apic_timer_mode(struct mkvm_lapic *apic)
{
	return apic_reg(apic, APIC_LVTT) & (3 << 17);
}

/* Divide configuration: bits 3,1,0 encode 2, 4, ..., 128, 1 (Fig. 10-10). */
static u32 apic_timer_divide(struct mkvm_lapic *apic)
{
	u32 d = apic_reg(apic, APIC_TDCR);

	return 1U << ((((d & 3) | ((d & 8) >> 1)) + 1) & 7);
}

static void apic_timer_stop(struct mkvm_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
	apic->timer_period = 0;
}

/*
 * Expiry, in hard-IRQ context: note it and kick the vCPU, which turns it
 * into an interrupt itself (mkvm_lapic_sync()). Expiries the vCPU has not
 * seen yet are merged into one, as KVM does; a periodic timer that fell
 * behind skips the periods it missed.
 */
static enum hrtimer_restart apic_timer_fn(struct hrtimer *t)
{
	struct mkvm_lapic *apic = container_of(t, struct mkvm_lapic, timer);

	atomic_set(&apic->timer_pending, 1);
	mkvm_vcpu_kick(apic->vcpu);
	if (!apic->timer_period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, apic->timer_period);
	return HRTIMER_RESTART;
}

/* One-shot or periodic: fire after @count bus clocks times the divider. */
static void apic_timer_start(struct mkvm_lapic *apic, u32 count)
{
	u64 ns = (u64)count * MKVM_APIC_BUS_NS * apic_timer_divide(apic);

	apic_timer_stop(apic);
	if (!count)
		return;
	if (apic_timer_mode(apic) == APIC_LVT_TIMER_PERIODIC) {
		ns = max_t(u64, ns, MKVM_APIC_MIN_PERIOD_NS);
		apic->timer_period = ns;
	}
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* TSC-deadline mode: fire when the guest's TSC reaches the deadline. */
/*
 * TSC ticks at @khz to nanoseconds, saturated. The guest picks the
 * deadline, up to 2^64 - 1 ticks away: below 1 GHz (Bochs' TSC runs at
 * 200 MHz) ticks * 10^6 / khz would not fit in 64 bits, and the divide
 * would fault (#DE) in the host. Beyond 2^62 ns (146 years) it makes no
 * difference when the timer fires. (A host that could not measure its TSC
 * rate has khz 0: never fire.)
 */
static u64 apic_tsc_to_ns(u64 ticks, u32 khz)
{
	const u64 max_ns = 1ULL << 62;

	if (!khz || div64_u64(ticks, khz) >= div64_u64(max_ns, NSEC_PER_MSEC))
		return max_ns;
	return mul_u64_u32_div(ticks, NSEC_PER_MSEC, khz);
}

static void apic_deadline_start(struct mkvm_lapic *apic)
{
	struct mkvm_vcpu *vcpu = apic->vcpu;
	u64 now, ns;

	apic_timer_stop(apic);
	if (!apic->tsc_deadline)
		return;
	now = rdtsc() + vcpu->msr_tsc_offset;
	if (apic->tsc_deadline <= now) {
		atomic_set(&apic->timer_pending, 1);
		return;
	}
	/*
	 * At the guest's rate (KVM_SET_TSC_KHZ): above the host's, the TSC
	 * is caught up to it before each entry (features.c), so it has
	 * reached the deadline by the entry that delivers the interrupt.
	 */
	ns = apic_tsc_to_ns(apic->tsc_deadline - now, vcpu->tsc_khz);
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* Current count (TMCCT): what is left of this period, in timer ticks. */
static u32 apic_timer_current(struct mkvm_lapic *apic)
{
	s64 left;

	if (!apic_reg(apic, APIC_TMICT) ||
	    apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
		return 0;
	left = ktime_to_ns(hrtimer_get_remaining(&apic->timer));
	if (left <= 0)
		return 0;
	return div_u64(left, MKVM_APIC_BUS_NS * apic_timer_divide(apic));
}

/**
 * mkvm_lapic_sync() - turn a timer expiry into an interrupt.
 *
 * The vCPU thread, before each entry and while halted: the LVT timer
 * entry's vector goes into IRR unless masked (10.5.4).
 */
void mkvm_lapic_sync(struct mkvm_vcpu *vcpu)
{
	struct mkvm_lapic *apic = vcpu->apic;

	if (!atomic_read(&apic->timer_pending) ||
	    !atomic_xchg(&apic->timer_pending, 0))
		return;
	apic_local_deliver(apic, APIC_LVTT);
	if (apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
		apic->tsc_deadline = 0;	/* fired: the MSR reads 0 (10.5.4.1) */
}

/* ------------------------------------------------------------------ */
/* Register reads and writes, for MMIO and MSRs alike                  */
/* ------------------------------------------------------------------ */

/* Writable bits of each LVT entry (Figure 10-8), timer first. */
static const u32 apic_lvt_mask[MKVM_APIC_NR_LVT] = {
	APIC_LVT_MASKED | APIC_VECTOR_MASK | (3 << 17),		/* timer */
	APIC_LVT_MASKED | APIC_VECTOR_MASK | APIC_MODE_MASK,	/* thermal */
	APIC_LVT_MASKED | APIC_VECTOR_MASK | APIC_MODE_MASK,	/* PMC */
	APIC_LVT_MASKED | APIC_VECTOR_MASK | APIC_MODE_MASK |	/* LINT0 */
		APIC_INPUT_POLARITY | APIC_LVT_LEVEL_TRIGGER,
	APIC_LVT_MASKED | APIC_VECTOR_MASK | APIC_MODE_MASK |	/* LINT1 */
		APIC_INPUT_POLARITY | APIC_LVT_LEVEL_TRIGGER,
	APIC_LVT_MASKED | APIC_VECTOR_MASK,			/* error */
};

static bool apic_is_lvt(u32 reg)
{
	return reg >= APIC_LVTT && reg <= APIC_LVTERR;
}

static void apic_write_lvt(struct mkvm_lapic *apic, u32 reg, u32 val)
{
	u32 old_mode = apic_timer_mode(apic);

	val &= apic_lvt_mask[(reg - APIC_LVTT) >> 4];
	/* While software-disabled every LVT entry stays masked (10.4.7.2). */
	if (!apic->sw_enabled)
		val |= APIC_LVT_MASKED;
	if (reg == APIC_LVTT) {
		/* TSC-deadline mode only where CPUID offers it (10.5.4.1). */
		if ((val & (3 << 17)) == APIC_LVT_TIMER_TSCDEADLINE &&
		    !apic_guest_has(apic->vcpu, 24))
			val &= ~(3 << 17);
		if ((val & (3 << 17)) != old_mode) {
			apic_timer_stop(apic);
			apic->tsc_deadline = 0;
			apic_set_reg(apic, APIC_TMICT, 0);
		}
	}
	apic_set_reg(apic, reg, val);
}

static void apic_write_svr(struct mkvm_lapic *apic, u32 val)
{
	int reg;

	/* Vector, enable, focus check; no EOI-broadcast suppression. */
	val &= 0x3ff;
	apic_set_reg(apic, APIC_SPIV, val);
	apic->sw_enabled = val & APIC_SPIV_APIC_ENABLED;
	if (apic->sw_enabled)
		return;
	for (reg = APIC_LVTT; reg <= APIC_LVTERR; reg += 0x10)
		apic_set_reg(apic, reg, apic_reg(apic, reg) | APIC_LVT_MASKED);
	apic_timer_stop(apic);
}

/*
 * Write register @reg (an offset in the page). @x2: through an x2APIC MSR,
 * where registers that are read-only or absent give #GP (10.12.1.2).
 * Return: 0, or -EINVAL for #GP.
 */
static int apic_write(struct mkvm_lapic *apic, u32 reg, u64 val, bool x2)
{
	if (x2 && reg != APIC_ICR && (val >> 32))
		return -EINVAL;
	switch (reg) {
	case APIC_ID:
		if (x2)
			return -EINVAL;
		apic_set_reg(apic, APIC_ID, val & 0xff000000);
		break;
	case APIC_TASKPRI:
		apic_set_tpr(apic, val);
		break;
	case APIC_EOI:
		apic_eoi(apic);
		break;
	case APIC_LDR:
		if (x2)
			return -EINVAL;
		apic_set_reg(apic, APIC_LDR, val & APIC_LDR_MASK);
		break;
	case APIC_DFR:
		if (x2)
			return -EINVAL;
		apic_set_reg(apic, APIC_DFR, val | 0x0fffffff);
		break;
	case APIC_SPIV:
		apic_write_svr(apic, val);
		break;
	case APIC_ESR:
		if (x2 && val)
			return -EINVAL;
		apic_set_reg(apic, APIC_ESR, 0);
		break;
	case APIC_ICR:
		/* Delivery is instant here: the busy bit never stays set. */
		val &= ~(u64)APIC_ICR_BUSY;
		if (x2)
			apic_set_reg(apic, APIC_ICR2, val >> 32);
		apic_set_reg(apic, APIC_ICR, val);
		apic_send_ipi(apic, val, apic_reg(apic, APIC_ICR2));
		break;
	case APIC_ICR2:
		if (x2)
			return -EINVAL;
		apic_set_reg(apic, APIC_ICR2, val & 0xff000000);
		break;
	case APIC_LVTT ... APIC_LVTERR:
		if (!apic_is_lvt(reg) || (reg & 0xf))
			return x2 ? -EINVAL : 0;
		apic_write_lvt(apic, reg, val);
		break;
	case APIC_TMICT:
		if (apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			break;
		apic_set_reg(apic, APIC_TMICT, val);
		apic_timer_start(apic, val);
		break;
	case APIC_TDCR:
		apic_set_reg(apic, APIC_TDCR, val & 0xb);
		break;
	case APIC_SELF_IPI:
		if (!x2)
			return 0;
		apic_send_ipi(apic, APIC_DEST_SELF | (val & APIC_VECTOR_MASK), 0);
		break;
	default:
		/* Read-only or reserved: ignored in the page, #GP as an MSR. */
		return x2 ? -EINVAL : 0;
	}
	return 0;
}

/* Registers a read may name (Table 10-1; x2APIC: Table 10-6). */
static bool apic_readable(u32 reg, bool x2)
{
	switch (reg) {
	case APIC_ID: case APIC_LVR: case APIC_TASKPRI: case APIC_PROCPRI:
	case APIC_LDR: case APIC_SPIV: case APIC_ESR: case APIC_ICR:
	case APIC_LVTT ... APIC_LVTERR:
	case APIC_TMICT: case APIC_TMCCT: case APIC_TDCR:
	case APIC_ISR ... APIC_ISR + 0x70:
	case APIC_TMR ... APIC_TMR + 0x70:
	case APIC_IRR ... APIC_IRR + 0x70:
		return !(reg & 0xf);
	case APIC_ARBPRI: case APIC_DFR: case APIC_ICR2:
		return !x2;
	default:
		return false;
	}
}

/* Read register @reg. Return: 0, or -EINVAL for #GP (x2APIC MSRs). */
static int apic_read(struct mkvm_lapic *apic, u32 reg, u64 *val, bool x2)
{
	if (!apic_readable(reg, x2))
		return -EINVAL;
	switch (reg) {
	case APIC_PROCPRI:
		*val = apic_ppr(apic);
		break;
	case APIC_TMCCT:
		*val = apic_timer_current(apic);
		break;
	case APIC_ARBPRI:
		*val = 0;	/* P6-era register; KVM reads it as 0 too */
		break;
	case APIC_ICR:
		*val = apic_reg(apic, APIC_ICR);
		if (x2)
			*val |= (u64)apic_reg(apic, APIC_ICR2) << 32;
		break;
	default:
		*val = apic_reg(apic, reg);
	}
	return 0;
}

/**
 * mkvm_lapic_mmio() - an access to the xAPIC page.
 *
 * Registers are 32 bits, 16 bytes apart, and only aligned 32-bit accesses
 * are defined (10.4.1): other writes are dropped, other reads see the
 * bytes of the register they fall in. While the APIC is off or in x2APIC
 * mode the page reads as all ones and ignores writes, as on KVM.
 */
int mkvm_lapic_mmio(struct mkvm_vcpu *vcpu, u64 gpa, int len, void *val,
		    bool write)
{
	struct mkvm_lapic *apic = vcpu->apic;
	u64 base = apic->base & MKVM_APIC_BASE_ADDR;
	u32 off = gpa - base;
	u64 data = 0;

	if (gpa < base || gpa + len > base + PAGE_SIZE)
		return -EOPNOTSUPP;
	if (!apic_hw_enabled(apic) || apic_x2apic_mode(apic)) {
		if (!write)
			memset(val, 0xff, len);
		return 0;
	}
	if (write) {
		if (len == 4 && !(off & 0xf))
			apic_write(apic, off, *(u32 *)val, false);
		return 0;
	}
	memset(val, 0, len);
	if ((off & 0xf) + len > 4 ||
	    apic_read(apic, off & ~0xfU, &data, false))
		return 0;
	memcpy(val, (u8 *)&data + (off & 0xf), len);
	return 0;
}

/* MSRs 0x800-0x8ff: register (index - 0x800) * 16, x2APIC mode only. */
static int apic_msr_reg(struct mkvm_vcpu *vcpu, u32 index)
{
	if (index < APIC_BASE_MSR || index > APIC_BASE_MSR + 0xff)
		return -ENOENT;
	if (!vcpu->apic || !apic_x2apic_mode(vcpu->apic))
		return -EINVAL;
	return (index - APIC_BASE_MSR) << 4;
}

int mkvm_lapic_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data)
{
	int reg;

	if (index == MSR_IA32_TSC_DEADLINE) {
		*data = vcpu->apic && apic_timer_mode(vcpu->apic) ==
			APIC_LVT_TIMER_TSCDEADLINE ? vcpu->apic->tsc_deadline : 0;
		return 0;
	}
	reg = apic_msr_reg(vcpu, index);
	if (reg < 0)
		return reg;
	return apic_read(vcpu->apic, reg, data, true);
}

int mkvm_lapic_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data)
{
	struct mkvm_lapic *apic = vcpu->apic;
	int reg;

	if (index == MSR_IA32_TSC_DEADLINE) {
		/* Without an APIC, or in another timer mode: ignored (KVM). */
		if (apic && apic_hw_enabled(apic) &&
		    apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE) {
			apic->tsc_deadline = data;
			apic_deadline_start(apic);
		}
		return 0;
	}
	reg = apic_msr_reg(vcpu, index);
	if (reg < 0)
		return reg;
	return apic_write(apic, reg, data, true);
}

/* ------------------------------------------------------------------ */
/* The APIC base MSR and the modes (10.4.4, 10.12.5)                   */
/* ------------------------------------------------------------------ */

static void apic_set_id(struct mkvm_lapic *apic)
{
	u32 id = apic->vcpu->id;

	if (apic_x2apic_mode(apic)) {
		apic_set_reg(apic, APIC_ID, id);
		apic_set_reg(apic, APIC_LDR, apic_x2apic_ldr(id));
	} else {
		apic_set_reg(apic, APIC_ID, id << 24);
	}
}

/**
 * mkvm_lapic_set_base() - write MSR_IA32_APICBASE.
 *
 * Reserved bits: 0-7, 9, those above MAXPHYADDR, and EXTD (x2APIC enable)
 * when CPUID does not offer x2APIC. EXTD without EN is invalid; the guest
 * may not go from x2APIC straight to xAPIC, nor from disabled straight to
 * x2APIC (Figure 10-27); the VMM restoring state may.
 */
int mkvm_lapic_set_base(struct mkvm_vcpu *vcpu, u64 value, bool host)
{
	struct mkvm_lapic *apic = vcpu->apic;
	u64 old = apic->base, rsvd;
	bool old_x2 = old & X2APIC_ENABLE, new_x2 = value & X2APIC_ENABLE;
	bool old_en = old & MSR_IA32_APICBASE_ENABLE;
	bool new_en = value & MSR_IA32_APICBASE_ENABLE;

	rsvd = (~0ULL << mkvm_guest_maxphyaddr(vcpu)) | 0x2ff;
	if (!apic_guest_has(vcpu, 21))
		rsvd |= X2APIC_ENABLE;
	if (value & rsvd)
		return -EINVAL;
	if (new_x2 && !new_en)
		return -EINVAL;
	if (!host && ((old_x2 && new_en && !new_x2) || (!old_en && new_x2)))
		return -EINVAL;
	apic->base = value;
	if ((!old_en && new_en) || old_x2 != new_x2)
		apic_set_id(apic);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The VAPIC word (KVM_SET_VAPIC_ADDR)                                 */
/* ------------------------------------------------------------------ */

/*
 * A u32 in guest memory: TPR in bits 7:0, the class of the highest vector
 * in service in 15:12, the highest requested vector in 31:24. QEMU's
 * "kvmvapic" option ROM rewrites an old guest's TPR accesses into plain
 * memory accesses of this word, which the kernel refreshes before each
 * entry and reads the TPR back from after each exit (KVM's ABI; Linux
 * guests never use it, but QEMU always sets the address, 0 at reset).
 * Caller holds vm->srcu.
 */
int mkvm_lapic_set_vapic_addr(struct mkvm_vcpu *vcpu, u64 gpa)
{
	if (gpa && (!mkvm_gfn_to_slot(vcpu->vm, 0, gpa >> PAGE_SHIFT) ||
		    offset_in_page(gpa) > PAGE_SIZE - sizeof(u32)))
		return -EINVAL;
	vcpu->apic->vapic_addr = gpa;
	return 0;
}

void mkvm_lapic_sync_to_vapic(struct mkvm_vcpu *vcpu)
{
	struct mkvm_lapic *apic = vcpu->apic;
	int irr = apic_highest_vec(apic, APIC_IRR);
	int isr = apic_highest_vec(apic, APIC_ISR);
	u32 data = (apic_reg(apic, APIC_TASKPRI) & 0xff) |
		   ((max(isr, 0) & 0xf0) << 8) | ((u32)max(irr, 0) << 24);

	mkvm_write_guest_as0(vcpu, apic->vapic_addr, &data, sizeof(data));
}

void mkvm_lapic_sync_from_vapic(struct mkvm_vcpu *vcpu)
{
	u32 data;

	if (!mkvm_read_guest_as0(vcpu, vcpu->apic->vapic_addr, &data, sizeof(data)))
		apic_set_tpr(vcpu->apic, data & 0xff);
}

/* ------------------------------------------------------------------ */
/* Lifecycle and state                                                 */
/* ------------------------------------------------------------------ */

/**
 * mkvm_lapic_reset() - power-on or INIT state (10.4.7.1).
 *
 * IRR, ISR, TMR, TPR, timer and ESR cleared; every LVT entry masked;
 * SVR = 0xff (software-disabled); DFR all ones. INIT keeps the base MSR.
 * As on KVM, the BSP's LINT0 is left as ExtINT so that the PIC's
 * interrupts reach it before the guest programs its APIC.
 */
void mkvm_lapic_reset(struct mkvm_vcpu *vcpu, bool init)
{
	struct mkvm_lapic *apic = vcpu->apic;
	bool bsp = vcpu->id == vcpu->vm->bsp_vcpu_id;
	int reg;

	apic_timer_stop(apic);
	atomic_set(&apic->timer_pending, 0);
	apic->tsc_deadline = 0;
	if (!init)
		apic->base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			     (bsp ? MSR_IA32_APICBASE_BSP : 0);
	memset(apic->regs, 0, sizeof(apic->regs));
	apic_set_id(apic);
	apic_set_reg(apic, APIC_LVR, MKVM_APIC_VERSION |
		     ((MKVM_APIC_NR_LVT - 1) << 16));
	apic_set_reg(apic, APIC_DFR, 0xffffffff);
	apic_set_reg(apic, APIC_SPIV, 0xff);
	apic->sw_enabled = false;
	for (reg = APIC_LVTT; reg <= APIC_LVTERR; reg += 0x10)
		apic_set_reg(apic, reg, APIC_LVT_MASKED);
	if (bsp)
		apic_set_reg(apic, APIC_LVT0, APIC_DM_EXTINT);
	if (init)
		mkvm_ops->set_cr(vcpu, 8, 0);
}

static void mkvm_lapic_init_timer(struct mkvm_lapic *apic)
{
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = apic_timer_fn;
}

/* At KVM_CREATE_VCPU in a VM with an in-kernel irqchip. */
int mkvm_lapic_create(struct mkvm_vcpu *vcpu)
{
	struct mkvm_lapic *apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);

	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	apic->eoi_exit_vector = -1;
	mkvm_lapic_init_timer(apic);
	vcpu->apic = apic;
	mkvm_lapic_reset(vcpu, false);
	return 0;
}

void mkvm_lapic_free(struct mkvm_vcpu *vcpu)
{
	if (!vcpu->apic)
		return;
	hrtimer_cancel(&vcpu->apic->timer);
	kfree(vcpu->apic);
	vcpu->apic = NULL;
}

/*
 * KVM_GET_LAPIC: the register page as the guest would read it (PPR and
 * the current count computed now). In x2APIC mode the id is given in the
 * xAPIC position, bits 31:24, as KVM does without KVM_CAP_X2APIC_API.
 */
int mkvm_lapic_get_state(struct mkvm_vcpu *vcpu, struct kvm_lapic_state *s)
{
	struct mkvm_lapic *apic = vcpu->apic;

	BUILD_BUG_ON(sizeof(s->regs) != sizeof(apic->regs));
	apic_set_reg(apic, APIC_PROCPRI, apic_ppr(apic));
	memcpy(s->regs, apic->regs, sizeof(s->regs));
	*(u32 *)(s->regs + APIC_TMCCT) = apic_timer_current(apic);
	if (apic_x2apic_mode(apic))
		*(u32 *)(s->regs + APIC_ID) = apic_reg(apic, APIC_ID) << 24;
	return 0;
}

/*
 * KVM_SET_LAPIC: take the page, then rebuild what depends on it: the
 * enable bit, CR8, and the timer, restarted with the current count the
 * page holds (a migrated guest's timer fires when it would have).
 */
int mkvm_lapic_set_state(struct mkvm_vcpu *vcpu,
			 const struct kvm_lapic_state *s)
{
	struct mkvm_lapic *apic = vcpu->apic;
	u32 count;

	apic_timer_stop(apic);
	atomic_set(&apic->timer_pending, 0);
	memcpy(apic->regs, s->regs, sizeof(apic->regs));
	if (apic_x2apic_mode(apic)) {
		u32 id = apic_reg(apic, APIC_ID) >> 24;

		apic_set_reg(apic, APIC_ID, id);
		apic_set_reg(apic, APIC_LDR, apic_x2apic_ldr(id));
	}
	apic_set_reg(apic, APIC_LVR, MKVM_APIC_VERSION |
		     ((MKVM_APIC_NR_LVT - 1) << 16));
	apic->sw_enabled = apic_reg(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
	apic_set_tpr(apic, apic_reg(apic, APIC_TASKPRI));
	count = apic_reg(apic, APIC_TMCCT);
	apic_set_reg(apic, APIC_TMCCT, 0);
	if (apic_timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE &&
	    apic_reg(apic, APIC_TMICT)) {
		apic_timer_start(apic, count ? count :
				 apic_reg(apic, APIC_TMICT));
		/* A periodic timer then runs whole periods again. */
		if (apic->timer_period)
			apic->timer_period = max_t(u64, MKVM_APIC_MIN_PERIOD_NS,
				(u64)apic_reg(apic, APIC_TMICT) *
				MKVM_APIC_BUS_NS * apic_timer_divide(apic));
	}
	return 0;
}
