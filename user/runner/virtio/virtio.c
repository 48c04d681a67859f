// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio.c: the virtio devices in the machine: where they sit, how the
 * guest's notifications reach them and how their interrupts reach the guest.
 *
 * Each device (--disk, --rng, --virtio-console) gets a 0x200-byte virtio-mmio window at
 * VIRTIO_MMIO_BASE + 0x200 * n and an ISA interrupt line from virtio_irqs[],
 * and the guest learns both from its kernel command line:
 * "virtio_mmio.device=0x200@0xd0000000:5" (Linux's
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES). Three kernel objects per device
 * keep its work off the vCPU threads:
 *
 *   ioeventfd  KVM_IOEVENTFD on the QueueNotify register, one eventfd per
 *              queue with datamatch = the queue's index. The guest's "there
 *              is work on queue q" write is swallowed by KVM, which signals
 *              the eventfd and re-enters the guest: no KVM_EXIT_MMIO, the
 *              vCPU thread never hears of it.
 *   I/O thread one per device: poll()s on the queues' eventfds (and the
 *              console on stdin), and serves the queue (blk.c, rng.c,
 *              console.c) under the device's lock.
 *   irqfd      KVM_IRQFD on the device's GSI: the I/O thread writes the
 *              eventfd, KVM raises and lowers the line (an edge, as the
 *              MP table describes ISA lines), the IOAPIC delivers it. Again
 *              no vCPU thread, no KVM_IRQ_LINE.
 *
 * Only the register accesses of set-up and of the interrupt handler
 * (InterruptStatus, InterruptACK) exit to the vCPU thread, as KVM_EXIT_MMIO.
 * This needs the in-kernel irqchip: a GSI only exists there.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runner.h"
#include "blk.h"
#include "console.h"
#include "rng.h"

/* Free ISA lines: 0 PIT, 1 keyboard, 4 COM1, 8 RTC, 12 mouse are taken. */
static const int virtio_irqs[MAX_VIRTIO] = { 5, 9, 10, 11, 14, 15 };

static void *virtio__gpa(void *mem, uint64_t gpa, uint64_t len)
{
	return vm__gpa(mem, gpa, len);
}

/* The transport's callbacks: an eventfd write each. */
static void virtio__signal(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

static void virtio__notify(void *opaque, int q)
{
	struct virtio_slot *s = opaque;

	virtio__signal(s->queue_fd[q]);
}

static void virtio__interrupt(void *opaque)
{
	struct virtio_slot *s = opaque;

	virtio__signal(s->irq_fd);
}

/* The I/O thread of one device. */
static void *virtio__thread(void *arg)
{
	struct virtio_slot *s = arg;
	struct virtio_mmio *m = s->mmio;
	int nq = m->ops->nr_queues;
	struct pollfd fds[2 + VIRTIO_MMIO_QUEUES];
	uint64_t count;

	while (!atomic_load(&s->vm->stopping)) {
		int in_fd = -1;

		fds[0] = (struct pollfd){ .fd = s->vm->stop_fd, .events = POLLIN };
		for (int q = 0; q < nq; q++)
			fds[1 + q] = (struct pollfd){ .fd = s->queue_fd[q], .events = POLLIN };
		/* A device fed by the host (the console) watches its input too. */
		if (m->ops->poll_fd) {
			pthread_mutex_lock(&m->lock);
			in_fd = m->ops->poll_fd(m);
			pthread_mutex_unlock(&m->lock);
		}
		fds[1 + nq] = (struct pollfd){ .fd = in_fd, .events = POLLIN };
		if (poll(fds, 2 + nq, -1) < 0 && errno != EINTR)
			break;
		if (fds[1 + nq].revents & (POLLIN | POLLHUP | POLLERR)) {
			pthread_mutex_lock(&m->lock);
			m->ops->input(m);
			pthread_mutex_unlock(&m->lock);
		}
		for (int q = 0; q < nq; q++) {
			if (!(fds[1 + q].revents & POLLIN) ||
			    read(s->queue_fd[q], &count, sizeof(count)) != sizeof(count))
				continue;
			pthread_mutex_lock(&m->lock);
			m->ops->queue_work(m, q);
			pthread_mutex_unlock(&m->lock);
		}
	}
	return NULL;
}

static const struct io_ops virtio_mmio_io_ops = {
	.read = virtio_mmio__read,
	.write = virtio_mmio__write,
};

/* The irqfd and one ioeventfd per queue. */
static int virtio__wire(struct vm *vm, struct virtio_slot *s)
{
	struct kvm_irqfd irqfd = { .gsi = s->irq };

	s->irq_fd = eventfd(0, EFD_CLOEXEC);
	irqfd.fd = s->irq_fd;
	if (s->irq_fd < 0 || ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		pr_err("%s: KVM_IRQFD on GSI %d: %s", s->mmio->ops->name, s->irq, strerror(errno));
		return -errno;
	}
	for (int q = 0; q < s->mmio->ops->nr_queues; q++) {
		struct kvm_ioeventfd io = {
			.addr = s->base + VMMIO_QUEUE_NOTIFY, .len = 4,
			.datamatch = q, .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		s->queue_fd[q] = io.fd = eventfd(0, EFD_CLOEXEC);
		if (io.fd < 0 || ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
			pr_err("%s: KVM_IOEVENTFD at 0x%llx: %s", s->mmio->ops->name,
			       (unsigned long long)io.addr, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Put a device at the next free window and line. */
static int virtio__add(struct vm *vm, struct virtio_mmio *m)
{
	struct virtio_slot *s = &vm->virtio[vm->nr_virtio];
	int ret;

	if (vm->nr_virtio == MAX_VIRTIO) {
		pr_err("%s: at most %d virtio devices", m->ops->name, MAX_VIRTIO);
		return -ENOSPC;
	}
	*s = (struct virtio_slot){
		.vm = vm, .mmio = m, .irq = virtio_irqs[vm->nr_virtio],
		.base = VIRTIO_MMIO_BASE + VIRTIO_MMIO_SIZE * vm->nr_virtio,
	};
	m->notify = virtio__notify;
	m->interrupt = virtio__interrupt;
	m->opaque = s;
	ret = virtio__wire(vm, s);
	if (!ret)
		ret = io_bus__register(&vm->mmio, s->base, VIRTIO_MMIO_SIZE,
				       &virtio_mmio_io_ops, m, m->ops->name);
	if (ret)
		return ret;
	vm->nr_virtio++;
	return 0;
}

static int virtio__add_disk(struct vm *vm, const char *path, bool ro)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("--disk %s: %s", path, strerror(errno));
		return -ENOENT;		/* bad input, not a KVM matter */
	}
	if (!S_ISREG(st.st_mode) || st.st_size < SECTOR_SIZE) {
		pr_err("--disk %s: not a raw image file of at least %d bytes", path, SECTOR_SIZE);
		return -EINVAL;
	}
	if (!b)
		return -ENOMEM;
	blk__init(b, fd, st.st_size, ro, virtio__gpa, vm);
	return virtio__add(vm, &b->mmio);
}

static int virtio__add_rng(struct vm *vm)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !r) {
		pr_err("--rng: /dev/urandom: %s", strerror(errno));
		return -ENOENT;
	}
	rng__init(r, fd, virtio__gpa, vm);
	return virtio__add(vm, &r->mmio);
}

/* Ctrl-A x still quits when stdin belongs to hvc0 (event.c). */
static bool virtio__console_filter(void *opaque, uint8_t byte)
{
	static bool seen_ctrl_a;

	return event__escape(opaque, byte, &seen_ctrl_a);
}

static int virtio__add_console(struct vm *vm)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	console__init(c, STDIN_FILENO, STDOUT_FILENO, virtio__gpa, vm);
	c->filter = virtio__console_filter;
	c->filter_opaque = vm;
	vm->stdin_virtio = true;	/* the event loop leaves stdin alone */
	return virtio__add(vm, &c->mmio);
}

/*
 * The devices cfg asks for, and the kernel command line that names them:
 * cfg->append becomes the user's text plus one virtio_mmio.device= each.
 */
int virtio__init(struct vm *vm, struct config *cfg)
{
	static char cmdline[4096];
	size_t len;
	int ret = 0;

	if (!cfg->nr_disks && !cfg->rng && !cfg->virtio_console)
		return 0;
	if (!vm->kernel_irqchip) {
		pr_err("virtio devices need the in-kernel irqchip (their interrupts are irqfds)");
		return -ENOTTY;
	}
	for (int i = 0; i < cfg->nr_disks && !ret; i++)
		ret = virtio__add_disk(vm, cfg->disk[i].path, cfg->disk[i].ro);
	if (!ret && cfg->rng)
		ret = virtio__add_rng(vm);
	if (!ret && cfg->virtio_console)
		ret = virtio__add_console(vm);
	if (ret)
		return ret;
	len = snprintf(cmdline, sizeof(cmdline), "%s", cfg->append ? cfg->append : "");
	for (int i = 0; i < vm->nr_virtio && len < sizeof(cmdline); i++)
		len += snprintf(cmdline + len, sizeof(cmdline) - len,
				"%svirtio_mmio.device=0x%x@0x%llx:%d", len ? " " : "",
				VIRTIO_MMIO_SIZE, (unsigned long long)vm->virtio[i].base,
				vm->virtio[i].irq);
	cfg->append = cmdline;
	return 0;
}

int virtio__start(struct vm *vm)
{
	for (int i = 0; i < vm->nr_virtio; i++)
		if (pthread_create(&vm->virtio[i].thread, NULL, virtio__thread, &vm->virtio[i]))
			return -EAGAIN;
	return 0;
}

/* After vm->stopping and stop_fd: the I/O threads see them and end. */
void virtio__stop(struct vm *vm)
{
	for (int i = 0; i < vm->nr_virtio; i++)
		pthread_join(vm->virtio[i].thread, NULL);
}
