// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: irqfd and ioeventfd, the two short cuts between a VMM's devices
 * and the guest that do not go through KVM_RUN (api.rst 4.75 KVM_IRQFD,
 * 4.59 KVM_IOEVENTFD).
 *
 * An eventfd (eventfd(2)) is a 64-bit counter in the kernel: a write adds
 * to it and wakes whoever waits on it, a read takes it back to zero.
 *
 *   irqfd      "when this eventfd is signalled, raise GSI n". We hang a
 *              wait-queue entry of our own on the eventfd. Whoever signals
 *              it (a device thread of the VMM, vhost, another process)
 *              calls our mkvm_irqfd_wakeup() with the eventfd's lock held,
 *              and it raises the GSI on the spot through mkvm_set_irq(),
 *              which may be called from any context (irqchip.h). The vCPU
 *              is kicked; the VMM's vCPU thread never hears of it.
 *
 *   ioeventfd  "when the guest writes there, signal this eventfd". It is a
 *              device on the PIO or MMIO bus (iobus.c). A matching guest
 *              write signals the eventfd and the vCPU re-enters the guest
 *              at once, without an exit to userspace: a virtio queue
 *              notification costs one VM exit and no KVM_RUN return. A
 *              write that does not match is declined, goes on to the next
 *              device and in the end to userspace (KVM_EXIT_IO or
 *              KVM_EXIT_MMIO). The MMIO bus is only asked for addresses
 *              that no memslot backs (emulate.c).
 *
 * A level-triggered interrupt needs one more piece, the resampler
 * (KVM_IRQFD_FLAG_RESAMPLE): a signal raises the line and leaves it high.
 * When the guest acknowledges the interrupt (EOI at the PIC or IOAPIC), the
 * line is lowered and the resamplefd is signalled, so that the VMM can look
 * at its device and signal again if it still wants service. The irqfds of
 * one GSI share one resampler, which hears of the EOI through an ack
 * notifier (mkvm_register_irq_ack_notifier(), route.c).
 *
 * Lifetime of an irqfd, the delicate part. It ends in one of three ways:
 * KVM_IRQFD with KVM_IRQFD_FLAG_DEASSIGN, the VMM closing the eventfd
 * (our wake-up function sees EPOLLHUP, in atomic context, with the
 * eventfd's lock held) or the VM going away. Each first takes the irqfd
 * off vm->eventfds.irqfds under vm->eventfds.lock ("deactivate"), which
 * only one of them can do, and queues its shutdown on the VM's workqueue.
 * The shutdown unhooks the wait-queue entry with
 * eventfd_ctx_remove_wait_queue(), which takes the eventfd's lock: once it
 * returns, the wake-up function is not running and never will again, and
 * only then is the memory freed. Deassign and VM teardown wait for the
 * workqueue, so when they return no callback can touch the VM.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "minikvm.h"

/* eventfd_signal() lost its count argument in Linux 6.8. */
static void mkvm_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

void mkvm_eventfd_init(struct mkvm *vm)
{
	struct mkvm_eventfds *e = &vm->eventfds;

	spin_lock_init(&e->lock);
	INIT_LIST_HEAD(&e->irqfds);
	INIT_LIST_HEAD(&e->ioeventfds);
	mutex_init(&e->resampler_lock);
	INIT_LIST_HEAD(&e->resamplers);
	e->wq = NULL;
}

/* ------------------------------------------------------------------ */
/* irqfd                                                               */
/* ------------------------------------------------------------------ */

/* The irqfds of one level-triggered GSI with KVM_IRQFD_FLAG_RESAMPLE. */
struct mkvm_resampler {
	struct mkvm *vm;
	struct list_head link;		/* in vm->eventfds.resamplers */
	struct list_head irqfds;	/* their resampler_link, under RCU */
	struct mkvm_irq_ack_notifier ack;
};

struct mkvm_irqfd {
	struct mkvm *vm;
	struct list_head link;		/* in vm->eventfds.irqfds while active */
	struct eventfd_ctx *eventfd;
	u32 gsi;
	wait_queue_entry_t wait;	/* on the eventfd's wait queue */
	poll_table pt;
	struct mkvm_resampler *resampler;	/* NULL: edge (a pulse) */
	struct eventfd_ctx *resamplefd;
	struct list_head resampler_link;
	struct work_struct shutdown;
};

/*
 * The guest acknowledged the resampled GSI: lower the line (once, for all
 * its irqfds: they share the source MKVM_IRQ_SOURCE_RESAMPLE), then tell
 * every VMM device behind it to look again.
 */
static void mkvm_resampler_acked(struct mkvm_irq_ack_notifier *n)
{
	struct mkvm_resampler *r = container_of(n, struct mkvm_resampler, ack);
	struct mkvm_irqfd *irqfd;

	mkvm_set_irq(r->vm, MKVM_IRQ_SOURCE_RESAMPLE, n->gsi, 0);
	rcu_read_lock();
	list_for_each_entry_rcu(irqfd, &r->irqfds, resampler_link)
		mkvm_eventfd_signal(irqfd->resamplefd);
	rcu_read_unlock();
}

/* Join the resampler of @irqfd->gsi, making it if needed. */
static int mkvm_resampler_attach(struct mkvm *vm, struct mkvm_irqfd *irqfd)
{
	struct mkvm_resampler *r;

	lockdep_assert_held(&vm->eventfds.resampler_lock);
	list_for_each_entry(r, &vm->eventfds.resamplers, link)
		if (r->ack.gsi == irqfd->gsi)
			goto found;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->vm = vm;
	INIT_LIST_HEAD(&r->irqfds);
	r->ack.gsi = irqfd->gsi;
	r->ack.irq_acked = mkvm_resampler_acked;
	list_add(&r->link, &vm->eventfds.resamplers);
	mkvm_register_irq_ack_notifier(vm, &r->ack);
found:
	irqfd->resampler = r;
	list_add_rcu(&irqfd->resampler_link, &r->irqfds);
	return 0;
}

/*
 * Leave the resampler; the last one out lowers the line for good (no ack
 * will come to do it) and frees it.
 */
static void mkvm_resampler_detach(struct mkvm_irqfd *irqfd)
{
	struct mkvm_resampler *r = irqfd->resampler;
	struct mkvm *vm = r->vm;

	mutex_lock(&vm->eventfds.resampler_lock);
	list_del_rcu(&irqfd->resampler_link);
	synchronize_rcu();	/* no ack notifier signals our resamplefd */
	if (list_empty(&r->irqfds)) {
		list_del(&r->link);
		mkvm_unregister_irq_ack_notifier(vm, &r->ack);
		mkvm_set_irq(vm, MKVM_IRQ_SOURCE_RESAMPLE, r->ack.gsi, 0);
		kfree(r);
	}
	mutex_unlock(&vm->eventfds.resampler_lock);
	irqfd->resampler = NULL;
}

static void mkvm_irqfd_free(struct mkvm_irqfd *irqfd)
{
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
	if (irqfd->eventfd)
		eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

/* Queued by mkvm_irqfd_deactivate(): the end of an irqfd. */
static void mkvm_irqfd_shutdown(struct work_struct *work)
{
	struct mkvm_irqfd *irqfd = container_of(work, struct mkvm_irqfd,
						shutdown);
	u64 cnt;

	/* Takes the eventfd's lock: no wake-up runs after this. */
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	if (irqfd->resampler)
		mkvm_resampler_detach(irqfd);
	mkvm_irqfd_free(irqfd);
}

/* Off the active list, shutdown queued. Caller holds eventfds.lock. */
static void mkvm_irqfd_deactivate(struct mkvm_irqfd *irqfd)
{
	lockdep_assert_held(&irqfd->vm->eventfds.lock);
	list_del_init(&irqfd->link);
	queue_work(irqfd->vm->eventfds.wq, &irqfd->shutdown);
}

/*
 * Raise the GSI: an edge GSI gets a pulse (up and down again, as a device
 * on an edge-triggered pin does); a resampled one stays up until the ack.
 */
static void mkvm_irqfd_raise(struct mkvm_irqfd *irqfd)
{
	if (irqfd->resampler) {
		mkvm_set_irq(irqfd->vm, MKVM_IRQ_SOURCE_RESAMPLE, irqfd->gsi, 1);
		return;
	}
	mkvm_set_irq(irqfd->vm, MKVM_IRQ_SOURCE_USER, irqfd->gsi, 1);
	mkvm_set_irq(irqfd->vm, MKVM_IRQ_SOURCE_USER, irqfd->gsi, 0);
}

/*
 * The eventfd's wake-up: eventfd_signal() or a write(2) (EPOLLIN), the
 * last close of the eventfd (EPOLLHUP). Runs with the eventfd's wait-queue
 * lock held, interrupts off, in whatever context signalled it.
 */
static int mkvm_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			     int sync, void *key)
{
	struct mkvm_irqfd *irqfd = container_of(wait, struct mkvm_irqfd, wait);
	struct mkvm_eventfds *e = &irqfd->vm->eventfds;
	__poll_t events = key_to_poll(key);
	unsigned long flags;
	u64 cnt;

	if (events & EPOLLIN) {
		/* Consume the count: one interrupt however many signals. */
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		mkvm_irqfd_raise(irqfd);
	}
	if (events & EPOLLHUP) {
		spin_lock_irqsave(&e->lock, flags);
		if (!list_empty(&irqfd->link))	/* not deactivated already */
			mkvm_irqfd_deactivate(irqfd);
		spin_unlock_irqrestore(&e->lock, flags);
	}
	return 0;
}

/* vfs_poll() hands us the eventfd's wait queue: hang our entry on it. */
static void mkvm_irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
				  poll_table *pt)
{
	struct mkvm_irqfd *irqfd = container_of(pt, struct mkvm_irqfd, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

/* The workqueue of irqfd shutdowns, made by the VM's first KVM_IRQFD. */
static int mkvm_irqfd_wq(struct mkvm *vm)
{
	lockdep_assert_held(&vm->eventfds.resampler_lock);
	if (vm->eventfds.wq)
		return 0;
	vm->eventfds.wq = alloc_workqueue("mkvm-irqfd", 0, 0);
	return vm->eventfds.wq ? 0 : -ENOMEM;
}

/* Is @eventfd already an active irqfd of this VM? (one GSI per eventfd) */
static bool mkvm_irqfd_busy(struct mkvm *vm, struct eventfd_ctx *eventfd)
{
	struct mkvm_irqfd *irqfd;
	bool busy = false;

	spin_lock_irq(&vm->eventfds.lock);
	list_for_each_entry(irqfd, &vm->eventfds.irqfds, link)
		if (irqfd->eventfd == eventfd)
			busy = true;
	spin_unlock_irq(&vm->eventfds.lock);
	return busy;
}

/*
 * Hook @irqfd on its eventfd and publish it. We hold a reference to the
 * eventfd's file meanwhile, so it cannot be closed (no EPOLLHUP) until the
 * irqfd is complete. A signal that came before we hooked on is not lost:
 * vfs_poll() reports it and we deliver it now.
 */
static void mkvm_irqfd_activate(struct mkvm *vm, struct mkvm_irqfd *irqfd,
				struct file *file)
{
	__poll_t events;

	init_waitqueue_func_entry(&irqfd->wait, mkvm_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, mkvm_irqfd_queue_proc);
	spin_lock_irq(&vm->eventfds.lock);
	list_add_tail(&irqfd->link, &vm->eventfds.irqfds);
	spin_unlock_irq(&vm->eventfds.lock);
	events = vfs_poll(file, &irqfd->pt);
	if (events & EPOLLIN)
		mkvm_irqfd_raise(irqfd);
}

static int mkvm_irqfd_assign(struct mkvm *vm, const struct kvm_irqfd *args)
{
	struct mkvm_irqfd *irqfd;
	struct file *file;
	int r;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->link);
	INIT_WORK(&irqfd->shutdown, mkvm_irqfd_shutdown);

	r = -EBADF;
	file = fget(args->fd);
	if (!file)
		goto err_free;
	irqfd->eventfd = eventfd_ctx_fileget(file);	/* -EINVAL: not one */
	if (IS_ERR(irqfd->eventfd)) {
		r = PTR_ERR(irqfd->eventfd);
		irqfd->eventfd = NULL;
		goto err_fput;
	}
	if (args->flags & KVM_IRQFD_FLAG_RESAMPLE) {
		irqfd->resamplefd = eventfd_ctx_fdget(args->resamplefd);
		if (IS_ERR(irqfd->resamplefd)) {
			r = PTR_ERR(irqfd->resamplefd);
			irqfd->resamplefd = NULL;
			goto err_fput;
		}
	}

	/* Serialises assign and deassign: see the EBUSY check. */
	mutex_lock(&vm->eventfds.resampler_lock);
	r = mkvm_irqfd_wq(vm);
	if (r)
		goto err_unlock;
	r = -EBUSY;
	if (mkvm_irqfd_busy(vm, irqfd->eventfd))
		goto err_unlock;
	if (irqfd->resamplefd) {
		r = mkvm_resampler_attach(vm, irqfd);
		if (r)
			goto err_unlock;
	}
	mkvm_irqfd_activate(vm, irqfd, file);
	mutex_unlock(&vm->eventfds.resampler_lock);
	fput(file);
	return 0;

err_unlock:
	mutex_unlock(&vm->eventfds.resampler_lock);
err_fput:
	fput(file);
err_free:
	mkvm_irqfd_free(irqfd);
	return r;
}

/*
 * Deassign every irqfd of (@fd, @gsi); none is not an error (KVM answers
 * 0 too). When this returns, the eventfd no longer raises anything.
 */
static int mkvm_irqfd_deassign(struct mkvm *vm, const struct kvm_irqfd *args)
{
	struct mkvm_irqfd *irqfd, *next;
	struct eventfd_ctx *eventfd;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	mutex_lock(&vm->eventfds.resampler_lock);
	spin_lock_irq(&vm->eventfds.lock);
	list_for_each_entry_safe(irqfd, next, &vm->eventfds.irqfds, link)
		if (irqfd->eventfd == eventfd && irqfd->gsi == args->gsi)
			mkvm_irqfd_deactivate(irqfd);
	spin_unlock_irq(&vm->eventfds.lock);
	mutex_unlock(&vm->eventfds.resampler_lock);
	eventfd_ctx_put(eventfd);
	/* The shutdowns take resampler_lock: wait for them outside it. */
	if (vm->eventfds.wq)
		flush_workqueue(vm->eventfds.wq);
	return 0;
}

/**
 * mkvm_irqfd() - KVM_IRQFD.
 *
 * Needs the in-kernel irqchip, and a resampler the in-kernel IOAPIC and
 * PIC whose EOIs it hears: EINVAL before KVM_CREATE_IRQCHIP, and for a
 * resampler with a split irqchip (KVM 6.1's kvm_arch_irqfd_allowed()).
 */
int mkvm_irqfd(struct mkvm *vm, const struct kvm_irqfd *args)
{
	int mode = READ_ONCE(vm->irqchip_mode);

	if (args->flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (memchr_inv(args->pad, 0, sizeof(args->pad)))
		return -EINVAL;
	if (args->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return mkvm_irqfd_deassign(vm, args);
	if (mode == MKVM_IRQCHIP_NONE)
		return -EINVAL;
	if ((args->flags & KVM_IRQFD_FLAG_RESAMPLE) &&
	    mode != MKVM_IRQCHIP_KERNEL)
		return -EINVAL;
	return mkvm_irqfd_assign(vm, args);
}

/* ------------------------------------------------------------------ */
/* ioeventfd                                                           */
/* ------------------------------------------------------------------ */

struct mkvm_ioeventfd {
	struct list_head link;		/* in vm->eventfds.ioeventfds */
	struct mkvm_io_device dev;
	enum mkvm_bus bus;
	u64 addr;
	u32 len;			/* 0: a write of any length */
	bool wildcard;			/* no KVM_IOEVENTFD_FLAG_DATAMATCH */
	u64 datamatch;
	struct eventfd_ctx *eventfd;
};

#define MKVM_IOEVENTFD_FLAGS	(KVM_IOEVENTFD_FLAG_DATAMATCH | \
				 KVM_IOEVENTFD_FLAG_PIO | \
				 KVM_IOEVENTFD_FLAG_DEASSIGN)

/*
 * Is this guest write ours? The address must be exact; the length too,
 * unless we take any; the value too, with a datamatch (x86 is little
 * endian: the low @len bytes of the value, as the guest stored them).
 */
static bool mkvm_ioeventfd_match(const struct mkvm_ioeventfd *p, u64 addr,
				 int len, const void *val)
{
	u64 data = 0;

	if (addr != p->addr)
		return false;
	if (!p->len)
		return true;
	if (len != p->len)
		return false;
	if (p->wildcard)
		return true;
	memcpy(&data, val, len);
	return data == p->datamatch;
}

static int mkvm_ioeventfd_write(struct mkvm_vcpu *vcpu,
				struct mkvm_io_device *dev, u64 addr, int len,
				const void *val)
{
	struct mkvm_ioeventfd *p = container_of(dev, struct mkvm_ioeventfd,
						dev);

	if (!mkvm_ioeventfd_match(p, addr, len, val))
		return -EOPNOTSUPP;	/* on to the next device, or userspace */
	mkvm_eventfd_signal(p->eventfd);
	return 0;
}

/* Reads are never ours: they go on to userspace. */
static const struct mkvm_io_device_ops mkvm_ioeventfd_ops = {
	.write = mkvm_ioeventfd_write,
};

/*
 * Two registrations on one bus and address collide when one write could
 * hit both: either takes any length, or the lengths are equal and either
 * takes any value or both want the same one (KVM's rule, hence EEXIST).
 */
static bool mkvm_ioeventfd_collides(struct mkvm *vm,
				    const struct mkvm_ioeventfd *p)
{
	struct mkvm_ioeventfd *q;

	list_for_each_entry(q, &vm->eventfds.ioeventfds, link) {
		if (q->bus != p->bus || q->addr != p->addr)
			continue;
		if (!q->len || !p->len)
			return true;
		if (q->len == p->len && (q->wildcard || p->wildcard ||
					 q->datamatch == p->datamatch))
			return true;
	}
	return false;
}

static void mkvm_ioeventfd_free(struct mkvm_ioeventfd *p)
{
	list_del(&p->link);
	eventfd_ctx_put(p->eventfd);
	kfree(p);
}

/*
 * The bus range we register. A length-0 registration takes any write at
 * its address, of up to 8 bytes; the bus offers a device only accesses
 * that lie wholly inside its range (iobus.c), so it gets 8 bytes.
 */
static int mkvm_ioeventfd_range(const struct mkvm_ioeventfd *p)
{
	if (p->len)
		return p->len;
	return min_t(u64, 8, U64_MAX - p->addr);
}

static int mkvm_ioeventfd_assign(struct mkvm *vm,
				 const struct kvm_ioeventfd *args,
				 enum mkvm_bus bus)
{
	struct mkvm_ioeventfd *p;
	int r;

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(p->eventfd)) {
		r = PTR_ERR(p->eventfd);
		goto err_free;
	}
	p->dev.ops = &mkvm_ioeventfd_ops;
	p->bus = bus;
	p->addr = args->addr;
	p->len = args->len;
	p->wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->datamatch = p->wildcard ? 0 : args->datamatch;

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (mkvm_ioeventfd_collides(vm, p))
		goto err_unlock;
	r = mkvm_io_bus_register(vm, bus, p->addr, mkvm_ioeventfd_range(p),
				 &p->dev);
	if (r)
		goto err_unlock;
	list_add_tail(&p->link, &vm->eventfds.ioeventfds);
	mutex_unlock(&vm->lock);
	return 0;

err_unlock:
	mutex_unlock(&vm->lock);
	eventfd_ctx_put(p->eventfd);
err_free:
	kfree(p);
	return r;
}

/* The registration that matches @args in every field, or ENOENT. */
static int mkvm_ioeventfd_deassign(struct mkvm *vm,
				   const struct kvm_ioeventfd *args,
				   enum mkvm_bus bus)
{
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	struct eventfd_ctx *eventfd;
	struct mkvm_ioeventfd *p;
	int r = -ENOENT;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	mutex_lock(&vm->lock);
	list_for_each_entry(p, &vm->eventfds.ioeventfds, link) {
		if (p->bus != bus || p->eventfd != eventfd ||
		    p->addr != args->addr || p->len != args->len ||
		    p->wildcard != wildcard ||
		    (!wildcard && p->datamatch != args->datamatch))
			continue;
		/* Waits until no vCPU is inside mkvm_ioeventfd_write(). */
		mkvm_io_bus_unregister(vm, bus, &p->dev);
		mkvm_ioeventfd_free(p);
		r = 0;
		break;
	}
	mutex_unlock(&vm->lock);
	eventfd_ctx_put(eventfd);
	return r;
}

/**
 * mkvm_ioeventfd() - KVM_IOEVENTFD.
 *
 * @args->len is 1, 2, 4 or 8 bytes, or 0 for a write of any length at
 * @args->addr (KVM_CAP_IOEVENTFD_ANY_LENGTH), which cannot have a
 * datamatch. KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY is s390's and EINVAL
 * here (x86 KVM accepts it and puts it on a bus that no x86 exit reads).
 */
int mkvm_ioeventfd(struct mkvm *vm, const struct kvm_ioeventfd *args)
{
	enum mkvm_bus bus = (args->flags & KVM_IOEVENTFD_FLAG_PIO) ?
			    MKVM_PIO_BUS : MKVM_MMIO_BUS;

	if (args->flags & ~MKVM_IOEVENTFD_FLAGS)
		return -EINVAL;
	if (memchr_inv(args->pad, 0, sizeof(args->pad)))
		return -EINVAL;
	if (args->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return mkvm_ioeventfd_deassign(vm, args, bus);

	switch (args->len) {
	case 0:
	case 1:
	case 2:
	case 4:
	case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args->addr + args->len < args->addr)	/* wraps around */
		return -EINVAL;
	if (!args->len && (args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;
	return mkvm_ioeventfd_assign(vm, args, bus);
}

/* ------------------------------------------------------------------ */
/* VM teardown                                                         */
/* ------------------------------------------------------------------ */

/**
 * mkvm_eventfd_release() - end every irqfd and ioeventfd of @vm.
 *
 * From mkvm_irqchip_destroy(): every vCPU fd is closed, so no vCPU is on
 * a bus; an eventfd may still be signalled by anyone at any time, so the
 * irqfds are shut down the careful way (see the top of this file).
 */
void mkvm_eventfd_release(struct mkvm *vm)
{
	struct mkvm_eventfds *e = &vm->eventfds;
	struct mkvm_irqfd *irqfd, *next;
	struct mkvm_ioeventfd *p, *q;

	spin_lock_irq(&e->lock);
	list_for_each_entry_safe(irqfd, next, &e->irqfds, link)
		mkvm_irqfd_deactivate(irqfd);
	spin_unlock_irq(&e->lock);
	if (e->wq) {
		destroy_workqueue(e->wq);	/* runs what is queued first */
		e->wq = NULL;
	}
	/*
	 * No vCPU runs: the buses go as a whole in mkvm_io_bus_free_all(),
	 * without a grace period for each ioeventfd.
	 */
	list_for_each_entry_safe(p, q, &e->ioeventfds, link)
		mkvm_ioeventfd_free(p);
}
