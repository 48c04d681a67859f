/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm: the in-kernel interrupt controllers and timers of a PC, and how
 * an interrupt travels through them to a vCPU.
 *
 * Without KVM_CREATE_IRQCHIP the VMM emulates every interrupt controller
 * and hands minikvm one vector at a time (KVM_INTERRUPT). With it, the
 * kernel keeps the PC's controllers itself, as KVM does:
 *
 *   device / VMM                   kernel                           vCPU
 *   KVM_IRQ_LINE(gsi) --+
 *   irqfd (eventfd)  ---+--> routing table (route.c) --+--> PIC (pic.c) ----+ ExtINT, BSP only
 *   PIT timer (pit.c) --+      gsi -> chip pin or MSI  +--> IOAPIC (ioapic.c)+
 *   KVM_SIGNAL_MSI  --------------------------------------------------------+--> LAPIC (lapic.c)
 *   another vCPU's ICR write (an IPI) ---------------------------------------+    IRR -> inject
 *
 * One interrupt, step by step (a level-triggered IOAPIC pin):
 *   1. mkvm_set_irq(vm, source, gsi, 1) finds the routes of @gsi (route.c);
 *   2. mkvm_ioapic_set_irq() sees the pin rise, reads its redirection entry
 *      and builds a struct mkvm_lapic_irq (vector, destination, mode);
 *   3. mkvm_irq_delivery_to_apic() picks the LAPICs the destination names
 *      and calls mkvm_lapic_accept_irq() on each: the vector's IRR bit is
 *      set, and the vCPU is kicked (woken from HLT, or made to exit);
 *   4. before its next entry the vCPU asks mkvm_irqchip_pending_vector()
 *      (vcpu.c); the vendor injects it; mkvm_irqchip_ack() moves the bit
 *      from IRR to ISR;
 *   5. the guest's handler writes EOI: the LAPIC clears ISR and, since the
 *      vector's TMR bit says level, calls mkvm_ioapic_eoi(), which clears
 *      Remote IRR and tells irqfd resamplers (mkvm_notify_acked_irq()).
 *
 * Locking, in one place:
 *   - Every device model has one spinlock (pic->lock, ioapic->lock,
 *     pit->lock), taken with spin_lock_irqsave: an interrupt may be raised
 *     from a vCPU thread, an ioctl, an hrtimer or an eventfd wake-up, and
 *     nothing on these paths sleeps or allocates.
 *   - A LAPIC's registers belong to its own vCPU thread. Other threads only
 *     set bits in IRR/TMR (atomic bit operations) and pending_events, then
 *     kick the vCPU; the vCPU thread does the rest.
 *   - Lock order: pic->lock or ioapic->lock may be held while calling into
 *     the LAPICs (atomic bits and kicks only); never the reverse.
 *   - The I/O buses are read under vm->srcu and replaced as a whole under
 *     vm->lock (the memslot pattern). The routing table too is replaced
 *     whole under vm->lock, but read under rcu_read_lock(): mkvm_set_irq()
 *     runs in hard IRQ context (the PIT's hrtimer) as well.
 *   - The PIC and the IOAPIC call ack notifiers (mkvm_notify_acked_irq())
 *     with their lock dropped: a notifier may raise or lower a line.
 */
#ifndef MKVM_IRQCHIP_H
#define MKVM_IRQCHIP_H

#include <linux/hrtimer.h>
#include <linux/kvm.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct mkvm;
struct mkvm_vcpu;
struct workqueue_struct;

/* ------------------------------------------------------------------ */
/* The in-kernel device bus (iobus.c)                                  */
/* ------------------------------------------------------------------ */

/*
 * Ports and MMIO ranges the kernel answers itself, without an exit to
 * userspace: the PIC, the PIT, the IOAPIC, ioeventfds. A device embeds a
 * struct mkvm_io_device and registers one or more ranges for it.
 */
enum mkvm_bus {
	MKVM_PIO_BUS,
	MKVM_MMIO_BUS,
	MKVM_NR_BUSES
};

struct mkvm_io_device;

/*
 * @read/@write return 0 when the device took the access, -EOPNOTSUPP to
 * let the bus try the next device and in the end userspace (an ioeventfd
 * whose datamatch does not match, for instance). @vcpu may be NULL when
 * the access does not come from a vCPU. Called under vm->srcu, from a vCPU
 * thread; must not sleep.
 */
struct mkvm_io_device_ops {
	int (*read)(struct mkvm_vcpu *vcpu, struct mkvm_io_device *dev,
		    u64 addr, int len, void *val);
	int (*write)(struct mkvm_vcpu *vcpu, struct mkvm_io_device *dev,
		     u64 addr, int len, const void *val);
};

struct mkvm_io_device {
	const struct mkvm_io_device_ops *ops;
};

#define MKVM_IO_BUS_MAX_DEVS	1000	/* KVM's NR_IOBUS_DEVS */

struct mkvm_io_range {
	u64 addr;
	int len;
	struct mkvm_io_device *dev;
};

/* The ranges of one bus, sorted by address; replaced as a whole. */
struct mkvm_io_bus {
	int nr;
	struct rcu_head rcu;
	struct mkvm_io_range range[];
};

/* Caller holds vm->lock. 0, -ENOSPC (bus full), -ENOMEM. */
int mkvm_io_bus_register(struct mkvm *vm, enum mkvm_bus bus, u64 addr,
			 int len, struct mkvm_io_device *dev);
/* Caller holds vm->lock. Removes every range of @dev; waits for readers. */
void mkvm_io_bus_unregister(struct mkvm *vm, enum mkvm_bus bus,
			    struct mkvm_io_device *dev);
/* Caller holds vm->srcu. 0 if a device took it, else -EOPNOTSUPP. */
int mkvm_io_bus_read(struct mkvm_vcpu *vcpu, enum mkvm_bus bus, u64 addr,
		     int len, void *val);
int mkvm_io_bus_write(struct mkvm_vcpu *vcpu, enum mkvm_bus bus, u64 addr,
		      int len, const void *val);
void mkvm_io_bus_free_all(struct mkvm *vm);

/* ------------------------------------------------------------------ */
/* Local APIC (lapic.c): one per vCPU                                  */
/* ------------------------------------------------------------------ */

/* ICR destination shorthand "none" (SDM Vol.3 10.6.1); <apicdef.h> lacks it. */
#ifndef APIC_DEST_NOSHORT
#define APIC_DEST_NOSHORT	0x0
#endif

/* An interrupt message as the APIC bus carries it (SDM Vol.3 10.6.1). */
struct mkvm_lapic_irq {
	u32 vector;
	u32 delivery_mode;	/* APIC_DM_FIXED ... APIC_DM_EXTINT (<apicdef.h>) */
	bool dest_logical;	/* destination mode: logical, else physical */
	bool level;		/* INIT: assert (1) or de-assert (0) */
	bool trig_level;	/* trigger mode: level, else edge */
	u32 shorthand;		/* APIC_DEST_NOSHORT, _SELF, _ALLINC, _ALLBUT */
	u32 dest_id;		/* 8 bits in xAPIC, 32 in x2APIC */
};

/* Bits of mkvm_lapic.pending_events, set by other threads. */
#define MKVM_APIC_INIT	0
#define MKVM_APIC_SIPI	1

struct mkvm_lapic {
	struct mkvm_vcpu *vcpu;
	/* The register page, laid out as the hardware's (SDM Vol.3 Table 10-1). */
	u8 regs[1024] __aligned(16);
	u64 base;		/* MSR_IA32_APICBASE */
	bool sw_enabled;	/* SVR bit 8 */
	/* The timer (SDM Vol.3 10.5.4): one hrtimer for all three modes. */
	struct hrtimer timer;
	ktime_t timer_period;	/* periodic mode: the period; else 0 */
	u64 tsc_deadline;	/* MSR_IA32_TSC_DEADLINE, guest TSC */
	ktime_t timer_start;	/* when the current count started */
	u32 timer_initial;	/* TMICT as written */
	atomic_t timer_pending;	/* expiries the vCPU has not injected yet */
	unsigned long pending_events;	/* MKVM_APIC_INIT, MKVM_APIC_SIPI */
	u8 sipi_vector;
	/*
	 * Split irqchip: the IOAPIC is in userspace, so the EOI of a
	 * level-triggered vector goes there (KVM_EXIT_IOAPIC_EOI): the
	 * vector, or -1.
	 */
	int eoi_exit_vector;
	/*
	 * KVM_SET_VAPIC_ADDR: a guest-physical u32 the kernel keeps in step
	 * with the TPR and the highest ISR/IRR vectors (the "VAPIC" that
	 * QEMU's option ROM uses to patch TPR accesses of old Windows
	 * guests), or 0.
	 */
	u64 vapic_addr;
};

int mkvm_lapic_create(struct mkvm_vcpu *vcpu);
void mkvm_lapic_free(struct mkvm_vcpu *vcpu);
/* Power-on (@init false) or INIT (@init true) state, SDM Vol.3 10.4.7.1. */
void mkvm_lapic_reset(struct mkvm_vcpu *vcpu, bool init);
/* Raise @irq at @target (any thread, any context). 1 if accepted. */
int mkvm_lapic_accept_irq(struct mkvm_vcpu *target,
			  const struct mkvm_lapic_irq *irq);
/* Does the message address @target? (SDM Vol.3 10.6.2) */
bool mkvm_lapic_match_dest(struct mkvm_vcpu *target, struct mkvm_vcpu *src,
			   u32 shorthand, u32 dest, bool logical);
/* Vector to inject now (IRR above PPR), or -1. Own thread only. */
int mkvm_lapic_pending_vector(struct mkvm_vcpu *vcpu);
/* The vendor is injecting @vector: IRR -> ISR. */
void mkvm_lapic_ack(struct mkvm_vcpu *vcpu, int vector);
/* Timer expiries, INIT and SIPI become state before an entry. */
void mkvm_lapic_sync(struct mkvm_vcpu *vcpu);
/* Does the LAPIC take the PIC's INTR (LVT0 ExtINT, or APIC off)? */
bool mkvm_lapic_accepts_pic(struct mkvm_vcpu *vcpu);
/* MMIO at the APIC page: 0, or -EOPNOTSUPP if @gpa is not ours. */
int mkvm_lapic_mmio(struct mkvm_vcpu *vcpu, u64 gpa, int len, void *val,
		    bool write);
/* x2APIC MSRs 0x800-0x8ff, TSC_DEADLINE: 0, -EINVAL (#GP), -ENOENT not ours. */
int mkvm_lapic_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data);
int mkvm_lapic_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data);
/* MSR_IA32_APICBASE: 0, or -EINVAL (#GP: reserved bits, bad transition). */
int mkvm_lapic_set_base(struct mkvm_vcpu *vcpu, u64 value, bool host);
/* CR8 = TPR[7:4] (SDM Vol.3 10.8.6.1). */
void mkvm_lapic_set_cr8(struct mkvm_vcpu *vcpu, u64 cr8);
u64 mkvm_lapic_get_cr8(struct mkvm_vcpu *vcpu);
int mkvm_lapic_set_vapic_addr(struct mkvm_vcpu *vcpu, u64 gpa);
void mkvm_lapic_sync_to_vapic(struct mkvm_vcpu *vcpu);
void mkvm_lapic_sync_from_vapic(struct mkvm_vcpu *vcpu);
int mkvm_lapic_get_state(struct mkvm_vcpu *vcpu, struct kvm_lapic_state *s);
int mkvm_lapic_set_state(struct mkvm_vcpu *vcpu,
			 const struct kvm_lapic_state *s);

/*
 * Deliver @irq to every LAPIC its destination names (@src: the sending
 * vCPU for IPIs, NULL for the IOAPIC and MSIs). Return: the number of
 * LAPICs that accepted it, or -1 if none was addressed (KVM's convention,
 * reported by KVM_IRQ_LINE_STATUS).
 */
int mkvm_irq_delivery_to_apic(struct mkvm *vm, struct mkvm_vcpu *src,
			      const struct mkvm_lapic_irq *irq);
/* The PIC's output changed: kick the vCPUs that listen to it. */
void mkvm_lapic_pic_kick(struct mkvm *vm);

/* ------------------------------------------------------------------ */
/* Two 8259A PICs (pic.c)                                              */
/* ------------------------------------------------------------------ */

/* Callers hold vm->lock. Registers ports 0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1. */
int mkvm_pic_create(struct mkvm *vm);
void mkvm_pic_destroy(struct mkvm *vm);
/* Pin @pin (0-15) of source @src to @level. 1 raised, 0 masked/coalesced. */
int mkvm_pic_set_irq(struct mkvm *vm, int pin, int src, int level);
/* Is the master's INTR output high? */
bool mkvm_pic_has_interrupt(struct mkvm *vm);
/* INTA: the vector to deliver (ISR set, IRR cleared), spurious if none. */
int mkvm_pic_read_irq(struct mkvm *vm);
/* KVM_GET/SET_IRQCHIP for chip 0 (master) or 1 (slave). */
void mkvm_pic_get_state(struct mkvm *vm, int chip, struct kvm_pic_state *s);
void mkvm_pic_set_state(struct mkvm *vm, int chip,
			const struct kvm_pic_state *s);

/* ------------------------------------------------------------------ */
/* IOAPIC (ioapic.c)                                                   */
/* ------------------------------------------------------------------ */

#define MKVM_IOAPIC_PINS	24	/* KVM_IOAPIC_NUM_PINS */
#define MKVM_IOAPIC_BASE	0xfec00000ULL

/* Callers hold vm->lock. Registers its page on the MMIO bus. */
int mkvm_ioapic_create(struct mkvm *vm);
void mkvm_ioapic_destroy(struct mkvm *vm);
/* Pin @pin of source @src to @level. 1 delivered, 0 coalesced/masked, -1 none. */
int mkvm_ioapic_set_irq(struct mkvm *vm, int pin, int src, int level);
/* A LAPIC EOIed @vector: clear Remote IRR, tell the ack notifiers. */
void mkvm_ioapic_eoi(struct mkvm *vm, int vector, bool level);
/* Does an entry carry @vector (so its EOI matters to the IOAPIC)? */
bool mkvm_ioapic_routes_vector(struct mkvm *vm, int vector);
void mkvm_ioapic_get_state(struct mkvm *vm, struct kvm_ioapic_state *s);
int mkvm_ioapic_set_state(struct mkvm *vm, const struct kvm_ioapic_state *s);

/* ------------------------------------------------------------------ */
/* GSI routing, KVM_IRQ_LINE, MSIs (route.c)                           */
/* ------------------------------------------------------------------ */

/* Interrupt sources: a pin is high while any source holds it high. */
#define MKVM_IRQ_SOURCE_USER	0	/* KVM_IRQ_LINE */
#define MKVM_IRQ_SOURCE_RESAMPLE 1	/* irqfd with KVM_IRQFD_FLAG_RESAMPLE */
#define MKVM_IRQ_SOURCE_PIT	2	/* the in-kernel PIT */
#define MKVM_NR_IRQ_SOURCES	3

struct mkvm_irq_route {
	u32 gsi;
	u32 type;		/* KVM_IRQ_ROUTING_IRQCHIP or _MSI */
	union {
		struct { u32 chip, pin; } irqchip;	/* KVM_IRQCHIP_* */
		struct kvm_irq_routing_msi msi;
	};
};

struct mkvm_irq_routing {
	struct rcu_head rcu;
	u32 nr_gsi;		/* highest gsi + 1 */
	u32 nr;
	/* The GSI an EOI of a chip's pin reports (ack notifiers), or -1. */
	s16 chip_gsi[KVM_NR_IRQCHIPS][MKVM_IOAPIC_PINS];
	struct mkvm_irq_route route[];	/* sorted by gsi */
};

/* KVM_CREATE_IRQCHIP: GSI 0-15 to both PICs and the IOAPIC, 16-23 IOAPIC. */
int mkvm_setup_default_irq_routing(struct mkvm *vm);
/* KVM_SET_GSI_ROUTING, the entries already copied in. */
int mkvm_set_irq_routing(struct mkvm *vm,
			 const struct kvm_irq_routing_entry *ue, u32 nr,
			 u32 flags);
void mkvm_free_irq_routing(struct mkvm *vm);
/*
 * Set @gsi to @level for @src through every route of @gsi. Any context,
 * caller need not hold vm->srcu. Return: >0 delivered, 0 coalesced
 * (already pending) or masked, -1 nothing there (KVM_IRQ_LINE_STATUS).
 */
int mkvm_set_irq(struct mkvm *vm, int src, u32 gsi, int level);
/* KVM_SIGNAL_MSI and MSI routes: SDM Vol.3 10.11 address/data format. */
int mkvm_deliver_msi(struct mkvm *vm, const struct kvm_irq_routing_msi *msi);
/* KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING. */
long mkvm_irq_ioctl(struct mkvm *vm, unsigned int ioctl, void __user *argp);
/*
 * A PIC or IOAPIC pin's interrupt was acknowledged (EOI): @pin is the pin
 * on @chip (0-7 on a PIC). The PIC reports every pin whose ISR bit an EOI
 * (or auto-EOI) clears, edge or level, the IOAPIC the pins of a level
 * vector a LAPIC ended. Called without the chip's lock, maybe with
 * interrupts off (auto-EOI at INTA in the run loop).
 */
void mkvm_notify_acked_irq(struct mkvm *vm, u32 chip, u32 pin);

/*
 * Ack notifiers: who wants to hear of those EOIs, by GSI (the GSI the
 * routing table maps the chip's pin from; with two GSIs on one pin, the
 * last route given wins, as in KVM). An irqfd resampler lowers its line
 * and signals its resample eventfd; the PIT counts the ticks the guest
 * took. @irq_acked runs under rcu_read_lock(), in any context: it must
 * not sleep, and may call mkvm_set_irq().
 *
 *   register: process context, any lock but pic/ioapic->lock held.
 *   unregister: sleeps (synchronize_rcu()); when it returns @irq_acked
 *   is not running, and the notifier may be freed.
 */
struct mkvm_irq_ack_notifier {
	struct hlist_node link;
	u32 gsi;
	void (*irq_acked)(struct mkvm_irq_ack_notifier *ian);
};

void mkvm_register_irq_ack_notifier(struct mkvm *vm,
				    struct mkvm_irq_ack_notifier *ian);
void mkvm_unregister_irq_ack_notifier(struct mkvm *vm,
				      struct mkvm_irq_ack_notifier *ian);

/*
 * Mask notifiers: who wants to hear when the guest masks or unmasks the
 * pin a GSI reaches, at the PIC (IMR, and ICW1, which clears it) or the
 * IOAPIC (the mask bit of the redirection entry). The PIT's reinjection
 * needs it: a tick that was taken and then lost without an EOI (an edge
 * request ICW1 erased, a vector the guest reprogrammed before its EOI)
 * would hold back every tick after it; when the guest unmasks the pin
 * again, the PIT starts over (KVM does the same). The GSI is the one an
 * EOI of the pin reports (mkvm_irq_ack_notifier). @mask_changed runs
 * under rcu_read_lock() with the chip's spinlock held and interrupts
 * off: it must not sleep nor raise a line.
 *
 *   register: process context. unregister: sleeps, as for ack notifiers.
 */
struct mkvm_irq_mask_notifier {
	struct hlist_node link;
	u32 gsi;
	void (*mask_changed)(struct mkvm_irq_mask_notifier *imn, bool masked);
};

void mkvm_register_irq_mask_notifier(struct mkvm *vm,
				     struct mkvm_irq_mask_notifier *imn);
void mkvm_unregister_irq_mask_notifier(struct mkvm *vm,
				       struct mkvm_irq_mask_notifier *imn);
/* The guest (un)masked @pin of @chip (0-7 on a PIC); chip lock held. */
void mkvm_notify_irq_mask(struct mkvm *vm, u32 chip, u32 pin, bool masked);

/* ------------------------------------------------------------------ */
/* The 8254 PIT (pit.c)                                                */
/* ------------------------------------------------------------------ */

/* KVM_CREATE_PIT2 (KVM_CREATE_PIT: flags KVM_PIT_SPEAKER_DUMMY); vm->lock held. */
int mkvm_pit_create(struct mkvm *vm, const struct kvm_pit_config *cfg);
/* vm->lock held: ports gone, timer cancelled, notifier unregistered. */
void mkvm_pit_destroy(struct mkvm *vm);
/* KVM_GET/SET_PIT, KVM_GET/SET_PIT2, KVM_REINJECT_CONTROL. */
long mkvm_pit_ioctl(struct mkvm *vm, unsigned int ioctl, void __user *argp);

/* ------------------------------------------------------------------ */
/* irqfd and ioeventfd (eventfd.c)                                     */
/* ------------------------------------------------------------------ */

/* Per-VM lists, embedded in struct mkvm. */
struct mkvm_eventfds {
	spinlock_t lock;		/* @irqfds */
	struct list_head irqfds;	/* active irqfds */
	struct list_head ioeventfds;	/* changed under vm->lock */
	struct mutex resampler_lock;	/* KVM_IRQFD itself, @resamplers */
	struct list_head resamplers;
	struct workqueue_struct *wq;	/* irqfd shutdowns; first KVM_IRQFD */
};

void mkvm_eventfd_init(struct mkvm *vm);
/* KVM_IRQFD, KVM_IOEVENTFD. */
int mkvm_irqfd(struct mkvm *vm, const struct kvm_irqfd *args);
int mkvm_ioeventfd(struct mkvm *vm, const struct kvm_ioeventfd *args);
/* VM teardown: every irqfd and ioeventfd goes. */
void mkvm_eventfd_release(struct mkvm *vm);

/* ------------------------------------------------------------------ */
/* Coalesced MMIO and PIO (coalesced.c)                                */
/* ------------------------------------------------------------------ */

int mkvm_coalesced_init(struct mkvm *vm);
void mkvm_coalesced_free(struct mkvm *vm);
/* The ring page, mapped by each vCPU fd at KVM_COALESCED_MMIO_PAGE_OFFSET. */
struct page *mkvm_coalesced_page(struct mkvm *vm);
/* KVM_REGISTER_COALESCED_MMIO, KVM_UNREGISTER_COALESCED_MMIO. */
long mkvm_coalesced_ioctl(struct mkvm *vm, unsigned int ioctl,
			  void __user *argp);

/* ------------------------------------------------------------------ */
/* The VM's irqchip as a whole (irqchip.c)                             */
/* ------------------------------------------------------------------ */

enum mkvm_irqchip_mode {
	MKVM_IRQCHIP_NONE,	/* all in userspace: KVM_INTERRUPT */
	MKVM_IRQCHIP_KERNEL,	/* KVM_CREATE_IRQCHIP: PIC, IOAPIC, LAPICs */
	MKVM_IRQCHIP_SPLIT,	/* KVM_CAP_SPLIT_IRQCHIP: LAPICs only */
};

/* KVM_CREATE_IRQCHIP. */
int mkvm_create_irqchip(struct mkvm *vm);
/* KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): LAPICs in the kernel, the rest not. */
int mkvm_enable_split_irqchip(struct mkvm *vm, u64 nr_ioapic_pins);
/* KVM_GET/SET_IRQCHIP. */
long mkvm_irqchip_ioctl(struct mkvm *vm, unsigned int ioctl,
			void __user *argp);
/* Teardown of everything above, from mkvm_destroy_vm(). */
void mkvm_irqchip_destroy(struct mkvm *vm);

/*
 * The vCPU side, called by the run loop (vcpu.c) with interrupts off.
 * pending_vector: >= 0 if the LAPIC or the PIC has an interrupt for this
 * vCPU now (for the PIC, only that it has one: reading the vector is its
 * acknowledge). ack: acknowledge it, the INTA cycle, and return its vector
 * (or -1 if it went away meanwhile).
 */
int mkvm_irqchip_pending_vector(struct mkvm_vcpu *vcpu);
int mkvm_irqchip_ack(struct mkvm_vcpu *vcpu);
/* Kick @vcpu: wake it from HLT, or make it leave guest mode. Any context. */
void mkvm_vcpu_kick(struct mkvm_vcpu *vcpu);

#endif /* MKVM_IRQCHIP_H */
