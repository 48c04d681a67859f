// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the 8254 programmable interval timer (PIT) of a PC, in the
 * kernel (KVM_CREATE_PIT2, api.rst 4.71-4.73 and 4.99 KVM_REINJECT_CONTROL;
 * the chip: Intel 8254 datasheet, order number 231164).
 *
 * The 8254 has three 16-bit counters clocked at 1.193182 MHz (the PC's
 * 14.31818 MHz crystal divided by 12). On a PC:
 *
 *   counter 0  gate tied high, OUT0 wired to IRQ 0: the system timer
 *   counter 1  once the DRAM refresh; nobody listens to it any more
 *   counter 2  gate = bit 0 of port 0x61, OUT2 read back as bit 5 of it
 *              and gated onto the speaker (the BIOS beep; Linux measures
 *              the TSC against it at boot)
 *
 * Ports 0x40-0x42 read and write the counters, one byte at a time, 0x43 is
 * the control word (datasheet "Control Word Format"): which counter, how
 * its 16 bits travel through the 8-bit port (low byte, high byte, or low
 * then high), and its mode (0 interrupt on terminal count, 1 one-shot,
 * 2 rate generator, 3 square wave, 4 and 5 strobes).
 *
 * The model keeps no ticking counter. A counter is its initial count and
 * the host time it was loaded (count_load_time); the count now is
 * computed from the time elapsed whenever the guest reads it. This is
 * exactly what struct kvm_pit_channel_state records, so the model state
 * *is* the KVM_GET/SET_PIT2 state, and QEMU's saved state round-trips.
 * Only counter 0 needs an hrtimer, to raise GSI 0 through mkvm_set_irq()
 * at each terminal count: periodically in modes 2 and 3, once in the
 * others. It runs in hard interrupt context (mkvm_set_irq() allows it).
 *
 * Lost ticks ("reinjection", KVM_REINJECT_CONTROL, on by default as in
 * KVM): a guest that counts timer interrupts to keep time loses time when
 * a tick comes before it acknowledged the previous one (the PIC would
 * merge the two). With reinjection we hold back each tick until the guest
 * acknowledged the previous one (an ack notifier on GSI 0, irqchip.h) and
 * then deliver the ones that waited, one by one. A tick no chip took
 * (IRQ 0 masked everywhere) is dropped, and when the guest unmasks IRQ 0
 * the count starts over (a mask notifier, irqchip.h).
 *
 * Simplifications, each said where it matters: no BCD counting (the BCD
 * bit is kept and reported); the NULL COUNT status bit always reads 0; a
 * gate only restarts counting at its rising edge (modes 1, 2, 3, 5), a low
 * gate does not pause modes 0 and 4. The LVT0-as-NMI watchdog route of
 * the PIT is not modelled.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minikvm.h"

#define MKVM_PIT_HZ		1193182	/* 14.31818 MHz / 12 */
#define MKVM_PIT_PORT		0x40	/* counters 0-2, control word at +3 */
#define MKVM_PIT_PORTS		4
#define MKVM_PIT_SPEAKER_PORT	0x61	/* the PC's port B */

/*
 * How the guest's host-side cost is bounded: a periodic counter 0 never
 * fires the host timer more often than every 200 us (KVM's default
 * min_timer_period_us), whatever count the guest programs.
 */
#define MKVM_PIT_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)
/* Ticks held back for reinjection, at most (a guest that never acks). */
#define MKVM_PIT_MAX_PENDING	10000

/*
 * How a count travels through the 8-bit port, the values of the RW field
 * of the control word, and the states of a two-byte transfer in progress
 * (the numbering of kvm_pit_channel_state's rw_mode, read_state,
 * write_state and count_latched, shared with QEMU).
 */
#define RW_LSB		1	/* low byte only */
#define RW_MSB		2	/* high byte only */
#define RW_WORD0	3	/* low byte, then high: the low one next */
#define RW_WORD1	4	/* ... the high one next */

struct mkvm_pit {
	struct mkvm *vm;
	spinlock_t lock;		/* everything below but the atomics */
	struct mkvm_io_device dev;	/* ports 0x40-0x43 */
	struct mkvm_io_device speaker;	/* port 0x61, with SPEAKER_DUMMY */
	bool has_speaker;
	struct kvm_pit_channel_state ch[3];
	u32 flags;			/* KVM_PIT_FLAGS_* */

	/* Counter 0's interrupt. */
	struct hrtimer timer;
	u64 period_ns;			/* periodic modes; 0 = one-shot */
	bool reinject;			/* KVM_REINJECT_CONTROL */
	atomic_t pending;		/* ticks not delivered yet */
	atomic_t irq_ack;		/* 1: the last tick was acknowledged */
	struct mkvm_irq_ack_notifier ack;
	struct mkvm_irq_mask_notifier mask;
};

/* ------------------------------------------------------------------ */
/* The counters                                                        */
/* ------------------------------------------------------------------ */

/* The initial count as the chip counts it: 0 stands for 2^16. */
static u32 mkvm_pit_initial(const struct kvm_pit_channel_state *c)
{
	return c->count ? c->count : 0x10000;
}

/* Input clock pulses since the count was loaded. */
static u64 mkvm_pit_clocks(const struct kvm_pit_channel_state *c)
{
	s64 ns = ktime_to_ns(ktime_get()) - c->count_load_time;

	if (ns <= 0)
		return 0;
	return mul_u64_u32_div(ns, MKVM_PIT_HZ, NSEC_PER_SEC);
}

/*
 * The counting element now. Modes 2 and 3 reload the initial count and go
 * on (mode 3 counts down by two, datasheet "Mode 3"); the others count
 * once and then wrap around through 0xffff.
 */
static u16 mkvm_pit_count(const struct kvm_pit_channel_state *c)
{
	u32 n = mkvm_pit_initial(c);
	u64 t = mkvm_pit_clocks(c);

	switch (c->mode) {
	case 2:
		return n - do_div(t, n);
	case 3:
		t *= 2;
		return n - do_div(t, n);
	default:
		return (n - t) & 0xffff;
	}
}

/* The OUT pin now (datasheet, the waveforms of each mode). */
static int mkvm_pit_out(const struct kvm_pit_channel_state *c)
{
	u32 n = mkvm_pit_initial(c);
	u64 t = mkvm_pit_clocks(c);

	switch (c->mode) {
	case 0:		/* low until terminal count, then high */
	case 1:		/* low from the trigger to terminal count */
		return t >= n;
	case 2:		/* high, low for one clock when the count is 1 */
		return do_div(t, n) != n - 1;
	case 3:		/* high for the first half of each period */
		return do_div(t, n) < (n + 1) / 2;
	case 4:		/* high, low for one clock at terminal count */
	case 5:
		return t != n;
	default:	/* never programmed */
		return 0;
	}
}

/* Counter latch command: freeze the count for the next reads. */
static void mkvm_pit_latch_count(struct kvm_pit_channel_state *c)
{
	if (c->count_latched)
		return;		/* the first latch holds until read */
	c->latched_count = mkvm_pit_count(c);
	c->count_latched = c->rw_mode;
}

/* Read-back command, status: OUT, NULL COUNT (0), RW, mode, BCD. */
static void mkvm_pit_latch_status(struct kvm_pit_channel_state *c)
{
	if (c->status_latched)
		return;
	c->status = mkvm_pit_out(c) << 7 | (c->rw_mode & 3) << 4 |
		    (c->mode & 7) << 1 | (c->bcd & 1);
	c->status_latched = 1;
}

/* ------------------------------------------------------------------ */
/* Counter 0's interrupt                                               */
/* ------------------------------------------------------------------ */

/*
 * An edge on IRQ 0: OUT0 rises, and falls again. Return: did a chip take
 * it (> 0), or was it masked everywhere or already pending (mkvm_set_irq)?
 */
static int mkvm_pit_pulse(struct mkvm_pit *pit)
{
	int r = mkvm_set_irq(pit->vm, MKVM_IRQ_SOURCE_PIT, 0, 1);

	mkvm_set_irq(pit->vm, MKVM_IRQ_SOURCE_PIT, 0, 0);
	return r;
}

/*
 * Deliver one waiting tick if the guest acknowledged the last one. Called
 * by the timer (a tick was added) and the ack notifier (the way is open);
 * whoever takes irq_ack delivers. A caller that gets it but finds nothing
 * pending gives it back and looks again, in case a tick came meanwhile
 * from a caller that found irq_ack taken.
 */
static void mkvm_pit_reinject(struct mkvm_pit *pit)
{
	for (;;) {
		if (!atomic_xchg(&pit->irq_ack, 0))
			return;		/* a tick is in flight */
		if (atomic_dec_if_positive(&pit->pending) >= 0) {
			/*
			 * A tick no chip took (IRQ 0 masked at the PIC and the
			 * IOAPIC, as Linux has it while it switches its timer
			 * from one to the other) will never be acknowledged:
			 * it is lost, and must not hold back the ones after it.
			 * KVM gets there with mask notifiers.
			 */
			if (mkvm_pit_pulse(pit) <= 0) {
				atomic_set(&pit->irq_ack, 1);
				continue;
			}
			return;
		}
		atomic_set(&pit->irq_ack, 1);
		smp_mb__after_atomic();
		if (!atomic_read(&pit->pending))
			return;
	}
}

static void mkvm_pit_acked(struct mkvm_irq_ack_notifier *n)
{
	struct mkvm_pit *pit = container_of(n, struct mkvm_pit, ack);

	atomic_set(&pit->irq_ack, 1);
	smp_mb__after_atomic();
	mkvm_pit_reinject(pit);
}

/*
 * The guest unmasked IRQ 0 at the PIC or the IOAPIC: whatever it missed
 * while it was masked is forgotten, and the tick in flight too. That
 * tick may never be acknowledged: an edge request ICW1 erased, or an
 * IOAPIC vector the guest changed before its EOI (whose EOI then names a
 * vector no entry carries). Without this, reinjection would wait for it
 * forever and IRQ 0 would stay silent; Linux's boot-time check of the
 * timer through the IOAPIC (check_timer()) does both. KVM resets its
 * reinjection the same way (arch/x86/kvm/i8254.c, pit_mask_notifer).
 * Runs with the chip's lock held: atomics only, no interrupt raised; the
 * next tick is delivered as usual.
 */
static void mkvm_pit_mask_changed(struct mkvm_irq_mask_notifier *n,
				  bool masked)
{
	struct mkvm_pit *pit = container_of(n, struct mkvm_pit, mask);

	if (masked)
		return;
	atomic_set(&pit->pending, 0);
	atomic_set(&pit->irq_ack, 1);
}

/*
 * Terminal count of counter 0, in hard interrupt context. A periodic
 * timer moves on by whole periods; if the host was late, the periods it
 * missed are ticks too (reinjected, or merged into one without).
 */
static enum hrtimer_restart mkvm_pit_timer_fn(struct hrtimer *timer)
{
	struct mkvm_pit *pit = container_of(timer, struct mkvm_pit, timer);
	u64 ticks = 1;

	if (pit->period_ns)
		ticks = hrtimer_forward_now(timer, ns_to_ktime(pit->period_ns));
	if (!READ_ONCE(pit->reinject)) {
		mkvm_pit_pulse(pit);
	} else {
		if (atomic_read(&pit->pending) < MKVM_PIT_MAX_PENDING)
			atomic_add(min_t(u64, ticks, MKVM_PIT_MAX_PENDING),
				   &pit->pending);
		mkvm_pit_reinject(pit);
	}
	return pit->period_ns ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

/*
 * Counter 0 was (re)loaded: (re)start its timer from the load time. No
 * timer without the in-kernel PIC and IOAPIC to hear it (as in KVM), nor
 * in HPET legacy mode, where the HPET drives IRQ 0 instead. The callback
 * takes no lock, so cancelling under pit->lock cannot deadlock; period_ns
 * changes only while the timer is stopped.
 */
static void mkvm_pit_start_timer(struct mkvm_pit *pit)
{
	const struct kvm_pit_channel_state *c = &pit->ch[0];
	u64 interval;

	lockdep_assert_held(&pit->lock);
	hrtimer_cancel(&pit->timer);
	atomic_set(&pit->pending, 0);
	atomic_set(&pit->irq_ack, 1);
	if (READ_ONCE(pit->vm->irqchip_mode) != MKVM_IRQCHIP_KERNEL ||
	    (pit->flags & KVM_PIT_FLAGS_HPET_LEGACY))
		return;

	interval = div_u64((u64)mkvm_pit_initial(c) * NSEC_PER_SEC,
			   MKVM_PIT_HZ);
	switch (c->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		pit->period_ns = 0;
		break;
	case 2:
	case 3:
		pit->period_ns = max_t(u64, interval, MKVM_PIT_MIN_PERIOD_NS);
		break;
	default:
		return;		/* no mode programmed */
	}
	hrtimer_start(&pit->timer, ns_to_ktime(c->count_load_time + interval),
		      HRTIMER_MODE_ABS_HARD);
}

/* A new initial count: counting starts over from now. */
static void mkvm_pit_load(struct mkvm_pit *pit, int i, u32 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];

	c->count = val ? val : 0x10000;
	c->count_load_time = ktime_to_ns(ktime_get());
	if (i == 0)
		mkvm_pit_start_timer(pit);
}

/*
 * The gate input (counter 2's is port 0x61 bit 0). A rising edge starts
 * the count over in the modes it triggers (datasheet "Gate").
 */
static void mkvm_pit_set_gate(struct mkvm_pit *pit, int i, u8 gate)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];

	if (!c->gate && gate && c->mode != 0 && c->mode != 4)
		c->count_load_time = ktime_to_ns(ktime_get());
	c->gate = gate;
}

/* ------------------------------------------------------------------ */
/* Ports 0x40-0x43                                                     */
/* ------------------------------------------------------------------ */

/* Port 0x43: control word, counter latch or read-back command. */
static void mkvm_pit_control(struct mkvm_pit *pit, u8 val)
{
	int sc = val >> 6, rw = (val >> 4) & 3, i;
	struct kvm_pit_channel_state *c;

	if (sc == 3) {		/* read-back: bits 3-1 pick the counters */
		for (i = 0; i < 3; i++) {
			if (!(val & (2 << i)))
				continue;
			if (!(val & 0x20))	/* COUNT# low: latch count */
				mkvm_pit_latch_count(&pit->ch[i]);
			if (!(val & 0x10))	/* STATUS# low: latch status */
				mkvm_pit_latch_status(&pit->ch[i]);
		}
		return;
	}
	c = &pit->ch[sc];
	if (rw == 0) {		/* counter latch command */
		mkvm_pit_latch_count(c);
		return;
	}
	c->rw_mode = rw;
	c->read_state = rw;
	c->write_state = rw;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)	/* modes 6 and 7 are 2 and 3 */
		c->mode -= 4;
	c->bcd = val & 1;
	/* A control word stops the counter until a count is written. */
	if (sc == 0)
		hrtimer_cancel(&pit->timer);
}

/* Ports 0x40-0x42: the next byte of a new initial count. */
static void mkvm_pit_write_count(struct mkvm_pit *pit, int i, u8 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];

	switch (c->write_state) {
	case RW_MSB:
		mkvm_pit_load(pit, i, val << 8);
		break;
	case RW_WORD0:
		c->write_latch = val;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		mkvm_pit_load(pit, i, c->write_latch | val << 8);
		c->write_state = RW_WORD0;
		break;
	default:		/* RW_LSB */
		mkvm_pit_load(pit, i, val);
		break;
	}
}

/* The byte a latch holds, and what is left of it after this read. */
static u8 mkvm_pit_read_latched(struct kvm_pit_channel_state *c)
{
	u16 v = c->latched_count;

	switch (c->count_latched) {
	case RW_MSB:
		c->count_latched = 0;
		return v >> 8;
	case RW_WORD0:
		c->count_latched = RW_MSB;
		return v & 0xff;
	default:		/* RW_LSB */
		c->count_latched = 0;
		return v & 0xff;
	}
}

/* Ports 0x40-0x42: status or latched count first, else the live count. */
static u8 mkvm_pit_read_counter(struct kvm_pit_channel_state *c)
{
	u16 count;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched)
		return mkvm_pit_read_latched(c);
	count = mkvm_pit_count(c);
	switch (c->read_state) {
	case RW_MSB:
		return count >> 8;
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return count & 0xff;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return count >> 8;
	default:		/* RW_LSB */
		return count & 0xff;
	}
}

/*
 * An access of more than one byte acts on its first port only (the 8254
 * has an 8-bit data bus); the other bytes of a read are 0.
 */
static int mkvm_pit_port_write(struct mkvm_vcpu *vcpu,
			       struct mkvm_io_device *dev, u64 addr, int len,
			       const void *val)
{
	struct mkvm_pit *pit = container_of(dev, struct mkvm_pit, dev);
	int port = addr - MKVM_PIT_PORT;
	u8 byte = *(const u8 *)val;
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (port == 3)
		mkvm_pit_control(pit, byte);
	else
		mkvm_pit_write_count(pit, port, byte);
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static int mkvm_pit_port_read(struct mkvm_vcpu *vcpu,
			      struct mkvm_io_device *dev, u64 addr, int len,
			      void *val)
{
	struct mkvm_pit *pit = container_of(dev, struct mkvm_pit, dev);
	int port = addr - MKVM_PIT_PORT;
	unsigned long flags;
	u8 byte = 0xff;		/* 0x43 is write-only: nobody drives the bus */

	memset(val, 0, len);
	spin_lock_irqsave(&pit->lock, flags);
	if (port != 3)
		byte = mkvm_pit_read_counter(&pit->ch[port]);
	spin_unlock_irqrestore(&pit->lock, flags);
	*(u8 *)val = byte;
	return 0;
}

static const struct mkvm_io_device_ops mkvm_pit_ops = {
	.read = mkvm_pit_port_read,
	.write = mkvm_pit_port_write,
};

/* ------------------------------------------------------------------ */
/* Port 0x61 (KVM_PIT_SPEAKER_DUMMY): counter 2's gate and OUT         */
/* ------------------------------------------------------------------ */

/*
 * Bit 0 is counter 2's gate, bit 1 lets OUT2 through to the speaker (we
 * only remember it), bit 4 toggles with each DRAM refresh (about every
 * 15 us; software waits on it, so it must move: 2^14 ns here), bit 5 is
 * OUT2.
 */
static int mkvm_speaker_read(struct mkvm_vcpu *vcpu,
			     struct mkvm_io_device *dev, u64 addr, int len,
			     void *val)
{
	struct mkvm_pit *pit = container_of(dev, struct mkvm_pit, speaker);
	u8 refresh = (ktime_to_ns(ktime_get()) >> 14) & 1;
	unsigned long flags;
	u8 byte;

	spin_lock_irqsave(&pit->lock, flags);
	byte = (pit->ch[2].gate & 1) |
	       !!(pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) << 1 |
	       refresh << 4 | mkvm_pit_out(&pit->ch[2]) << 5;
	spin_unlock_irqrestore(&pit->lock, flags);
	memset(val, 0, len);
	*(u8 *)val = byte;
	return 0;
}

static int mkvm_speaker_write(struct mkvm_vcpu *vcpu,
			      struct mkvm_io_device *dev, u64 addr, int len,
			      const void *val)
{
	struct mkvm_pit *pit = container_of(dev, struct mkvm_pit, speaker);
	u8 byte = *(const u8 *)val;
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (byte & 2)
		pit->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	else
		pit->flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	mkvm_pit_set_gate(pit, 2, byte & 1);
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static const struct mkvm_io_device_ops mkvm_speaker_ops = {
	.read = mkvm_speaker_read,
	.write = mkvm_speaker_write,
};

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

/* Reinjection needs to hear the guest's acks of GSI 0; vm->lock held. */
static void mkvm_pit_set_reinject(struct mkvm_pit *pit, bool on)
{
	unsigned long flags;

	lockdep_assert_held(&pit->vm->lock);
	if (pit->reinject == on)
		return;
	if (on)
		mkvm_register_irq_ack_notifier(pit->vm, &pit->ack);
	else
		mkvm_unregister_irq_ack_notifier(pit->vm, &pit->ack);
	spin_lock_irqsave(&pit->lock, flags);
	atomic_set(&pit->pending, 0);
	atomic_set(&pit->irq_ack, 1);
	WRITE_ONCE(pit->reinject, on);
	spin_unlock_irqrestore(&pit->lock, flags);
}

/* Power-on: no mode programmed, gates 0 and 1 high (tied on a PC). */
static void mkvm_pit_reset(struct mkvm_pit *pit)
{
	int i;

	for (i = 0; i < 3; i++) {
		pit->ch[i].mode = 0xff;
		pit->ch[i].gate = i != 2;
		mkvm_pit_load(pit, i, 0);
	}
}

/**
 * mkvm_pit_create() - the PIT of KVM_CREATE_PIT2; vm->lock held.
 *
 * Ports 0x40-0x43 go on the PIO bus, and port 0x61 with
 * KVM_PIT_SPEAKER_DUMMY ("emulate speaker port stub", api.rst): without
 * it the VMM emulates port 0x61 and asks KVM_GET_PIT2 for OUT2. Works
 * without an in-kernel irqchip too, as in KVM; counter 0 then raises no
 * interrupt.
 */
int mkvm_pit_create(struct mkvm *vm, const struct kvm_pit_config *cfg)
{
	struct mkvm_pit *pit;
	unsigned long flags;
	int r;

	lockdep_assert_held(&vm->lock);
	if (vm->pit)
		return -EEXIST;
	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		return -ENOMEM;
	pit->vm = vm;
	spin_lock_init(&pit->lock);
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	pit->timer.function = mkvm_pit_timer_fn;
	pit->ack.gsi = 0;
	pit->ack.irq_acked = mkvm_pit_acked;
	pit->mask.gsi = 0;
	pit->mask.mask_changed = mkvm_pit_mask_changed;
	spin_lock_irqsave(&pit->lock, flags);
	mkvm_pit_reset(pit);
	spin_unlock_irqrestore(&pit->lock, flags);

	pit->dev.ops = &mkvm_pit_ops;
	r = mkvm_io_bus_register(vm, MKVM_PIO_BUS, MKVM_PIT_PORT,
				 MKVM_PIT_PORTS, &pit->dev);
	if (r)
		goto err_free;
	if (cfg->flags & KVM_PIT_SPEAKER_DUMMY) {
		pit->speaker.ops = &mkvm_speaker_ops;
		r = mkvm_io_bus_register(vm, MKVM_PIO_BUS,
					 MKVM_PIT_SPEAKER_PORT, 1,
					 &pit->speaker);
		if (r)
			goto err_unregister;
		pit->has_speaker = true;
	}
	mkvm_pit_set_reinject(pit, true);
	mkvm_register_irq_mask_notifier(vm, &pit->mask);
	smp_store_release(&vm->pit, pit);	/* complete before seen */
	return 0;

err_unregister:
	mkvm_io_bus_unregister(vm, MKVM_PIO_BUS, &pit->dev);
err_free:
	kfree(pit);
	return r;
}

/**
 * mkvm_pit_destroy() - VM teardown; vm->lock held, no vCPU runs.
 *
 * In this order: no guest access reaches the ports, no ack reaches the
 * notifier, no timer callback runs; then the memory goes.
 */
void mkvm_pit_destroy(struct mkvm *vm)
{
	struct mkvm_pit *pit = vm->pit;

	lockdep_assert_held(&vm->lock);
	if (!pit)
		return;
	mkvm_io_bus_unregister(vm, MKVM_PIO_BUS, &pit->dev);
	if (pit->has_speaker)
		mkvm_io_bus_unregister(vm, MKVM_PIO_BUS, &pit->speaker);
	mkvm_pit_set_reinject(pit, false);
	mkvm_unregister_irq_mask_notifier(vm, &pit->mask);
	hrtimer_cancel(&pit->timer);
	vm->pit = NULL;
	kfree(pit);
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                          */
/* ------------------------------------------------------------------ */

/* KVM_CREATE_PIT2, and KVM_CREATE_PIT: what KVM gives the old form. */
static int mkvm_pit_ioctl_create(struct mkvm *vm, unsigned int ioctl,
				 void __user *argp)
{
	struct kvm_pit_config cfg = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int r;

	if (ioctl == KVM_CREATE_PIT2) {
		if (copy_from_user(&cfg, argp, sizeof(cfg)))
			return -EFAULT;
		if (cfg.flags & ~KVM_PIT_SPEAKER_DUMMY)
			return -EINVAL;
		if (memchr_inv(cfg.pad, 0, sizeof(cfg.pad)))
			return -EINVAL;
	}
	mutex_lock(&vm->lock);
	r = mkvm_pit_create(vm, &cfg);
	mutex_unlock(&vm->lock);
	return r;
}

static void mkvm_pit_get_state(struct mkvm_pit *pit,
			       struct kvm_pit_state2 *s)
{
	unsigned long flags;

	memset(s, 0, sizeof(*s));
	spin_lock_irqsave(&pit->lock, flags);
	memcpy(s->channels, pit->ch, sizeof(s->channels));
	s->flags = pit->flags;
	spin_unlock_irqrestore(&pit->lock, flags);
}

/*
 * The VMM's state, taken as it is (any value a field can hold is safe
 * here), except that each counter starts its count over from now, as in
 * KVM: count_load_time is the host's clock, and after a migration it is
 * another host's.
 */
static void mkvm_pit_set_state(struct mkvm_pit *pit,
			       const struct kvm_pit_channel_state *ch,
			       const u32 *flags)
{
	unsigned long irqflags;
	int i;

	spin_lock_irqsave(&pit->lock, irqflags);
	memcpy(pit->ch, ch, sizeof(pit->ch));
	if (flags)
		pit->flags = *flags;
	for (i = 0; i < 3; i++)
		mkvm_pit_load(pit, i, pit->ch[i].count);
	spin_unlock_irqrestore(&pit->lock, irqflags);
}

#define MKVM_PIT_STATE_FLAGS	(KVM_PIT_FLAGS_HPET_LEGACY | \
				 KVM_PIT_FLAGS_SPEAKER_DATA_ON)

static long mkvm_pit_ioctl_state(struct mkvm_pit *pit, unsigned int ioctl,
				 void __user *argp)
{
	struct kvm_pit_state2 s;
	/* struct kvm_pit_state is the channels alone, at the same offset. */
	size_t size = (ioctl == KVM_GET_PIT || ioctl == KVM_SET_PIT) ?
		      sizeof(struct kvm_pit_state) : sizeof(s);

	BUILD_BUG_ON(sizeof(struct kvm_pit_state) != sizeof(s.channels));
	switch (ioctl) {
	case KVM_GET_PIT:
	case KVM_GET_PIT2:
		mkvm_pit_get_state(pit, &s);
		return copy_to_user(argp, &s, size) ? -EFAULT : 0;
	case KVM_SET_PIT:
		if (copy_from_user(&s, argp, size))
			return -EFAULT;
		mkvm_pit_set_state(pit, s.channels, NULL);
		return 0;
	default:	/* KVM_SET_PIT2 */
		if (copy_from_user(&s, argp, size))
			return -EFAULT;
		if (s.flags & ~MKVM_PIT_STATE_FLAGS ||
		    memchr_inv(s.reserved, 0, sizeof(s.reserved)))
			return -EINVAL;
		mkvm_pit_set_state(pit, s.channels, &s.flags);
		return 0;
	}
}

static long mkvm_pit_ioctl_reinject(struct mkvm *vm, struct mkvm_pit *pit,
				    void __user *argp)
{
	struct kvm_reinject_control rc;

	if (copy_from_user(&rc, argp, sizeof(rc)))
		return -EFAULT;
	if (memchr_inv(rc.reserved, 0, sizeof(rc.reserved)))
		return -EINVAL;
	mutex_lock(&vm->lock);
	mkvm_pit_set_reinject(pit, rc.pit_reinject);
	mutex_unlock(&vm->lock);
	return 0;
}

/**
 * mkvm_pit_ioctl() - the PIT's VM ioctls (vm.c routes them here).
 *
 * Every ioctl but the creation answers ENXIO while there is no PIT, as
 * KVM does. The PIT, once made, lives as long as the VM.
 */
long mkvm_pit_ioctl(struct mkvm *vm, unsigned int ioctl, void __user *argp)
{
	struct mkvm_pit *pit;

	if (ioctl == KVM_CREATE_PIT || ioctl == KVM_CREATE_PIT2)
		return mkvm_pit_ioctl_create(vm, ioctl, argp);
	pit = smp_load_acquire(&vm->pit);
	if (!pit)
		return -ENXIO;
	if (ioctl == KVM_REINJECT_CONTROL)
		return mkvm_pit_ioctl_reinject(vm, pit, argp);
	return mkvm_pit_ioctl_state(pit, ioctl, argp);
}
