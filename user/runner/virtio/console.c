// SPDX-License-Identifier: GPL-2.0-only
/*
 * console.c: virtio-console (virtio 1.x spec §5.3), one port: the guest's
 * /dev/hvc0 on the host's stdin and stdout.
 *
 * Two queues, no features (no size, no multiport, no emergency write):
 *
 *   transmitq (1)  the driver offers device-readable buffers of output; we
 *                  write them to out_fd and return them with length 0
 *   receiveq (0)   the driver keeps device-writable buffers posted; when
 *                  the host types, we read into the next one and return it
 *                  with the number of bytes read
 *
 * The transmit side is driven by the guest's notifications, like blk.c and
 * rng.c. The receive side is driven by the host: the I/O thread (virtio.c)
 * also polls in_fd through the ops' poll_fd and calls input when it is
 * readable. With no buffer posted, the bytes stay in in_fd (rx_wait) until
 * the driver posts more and notifies the receiveq: nothing is lost and
 * nothing spins.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

static void console__queue_work(struct virtio_mmio *m, int q);
static int console__poll_fd(struct virtio_mmio *m);
static void console__input(struct virtio_mmio *m);

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = 3,
	.nr_queues = 2,
	.queue_work = console__queue_work,
	.poll_fd = console__poll_fd,
	.input = console__input,
};

void console__init(struct virtio_console *c, int in_fd, int out_fd,
		   virtq_gpa_fn gpa, void *mem)
{
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	virtio_mmio__init(&c->mmio, &console_ops, c, 0, gpa, mem);
}

/* Output: every device-readable buffer of the chain, in order. */
static uint32_t console__transmit(void *dev, struct virtq_chain *ch)
{
	struct virtio_console *c = dev;

	for (int i = 0; i < ch->nr_out; i++) {
		const char *p = ch->out[i].iov_base;
		size_t left = ch->out[i].iov_len;

		while (left) {
			ssize_t n = write(c->out_fd, p, left);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 0;	/* the host side is gone: drop it */
			p += n;
			left -= n;
		}
	}
	return 0;		/* we wrote nothing into the chain */
}

static void console__queue_work(struct virtio_mmio *m, int q)
{
	struct virtio_console *c = m->dev;

	if (q == VIRTIO_CONSOLE_TX)
		virtio_mmio__serve_queue(m, q, &c->chain, console__transmit);
	else
		c->rx_wait = false;	/* new receive buffers: read input again */
}

/* The fd the I/O thread should watch for this device now, or -1. */
static int console__poll_fd(struct virtio_mmio *m)
{
	struct virtio_console *c = m->dev;

	return c->rx_wait || c->in_eof ? -1 : c->in_fd;
}

/* Host input is there: into the next receive buffer, filtered. */
static void console__input(struct virtio_mmio *m)
{
	struct virtio_console *c = m->dev;
	struct virtq_chain *ch = &c->chain;
	uint8_t buf[256];
	size_t room, len, kept = 0;
	ssize_t n;
	int r;

	r = virtq__pop(&m->vq[VIRTIO_CONSOLE_RX], ch);
	if (r < 0) {
		virtio_mmio__broken(m, "bad descriptor chain on the receiveq");
		return;
	}
	if (r == 0) {
		c->rx_wait = true;
		return;
	}
	room = iov__length(ch->in, ch->nr_in);
	len = room < sizeof(buf) ? room : sizeof(buf);
	n = read(c->in_fd, buf, len);
	if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
		c->in_eof = true;
	for (ssize_t i = 0; i < n; i++)
		if (!c->filter || !c->filter(c->filter_opaque, buf[i]))
			buf[kept++] = buf[i];
	iov__from_buf(ch->in, ch->nr_in, 0, buf, kept);
	/* An empty buffer back is fine: the driver posts it again (§5.3.6.1). */
	virtq__push(&m->vq[VIRTIO_CONSOLE_RX], ch->head, kept);
	virtio_mmio__used(m, VIRTIO_CONSOLE_RX);
}
