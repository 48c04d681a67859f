// SPDX-License-Identifier: GPL-2.0-only
/*
 * rng.c: virtio-rng (virtio 1.x spec §5.4), the guest's /dev/hwrng.
 *
 * The simplest virtio device: one queue (requestq), no features, no
 * configuration. The driver offers device-writable buffers; we fill them
 * from the host's /dev/urandom and say how many bytes we wrote.
 */
#include <errno.h>
#include <unistd.h>

#include "rng.h"

static void rng__queue_work(struct virtio_mmio *m, int q);

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = 4,
	.nr_queues = 1,
	.queue_work = rng__queue_work,
};

void rng__init(struct virtio_rng *r, int fd, virtq_gpa_fn gpa, void *mem)
{
	r->fd = fd;
	virtio_mmio__init(&r->mmio, &rng_ops, r, 0, gpa, mem);
}

/* Fill the chain's writable buffers; returns the bytes written. */
static uint32_t rng__fill(struct virtio_rng *r, struct virtq_chain *c)
{
	uint32_t done = 0;

	for (int i = 0; i < c->nr_in; i++) {
		ssize_t n = read(r->fd, c->in[i].iov_base, c->in[i].iov_len);

		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n <= 0)
			break;
		done += n;
		if ((size_t)n < c->in[i].iov_len)
			break;		/* a short read: give what we have */
	}
	return done;
}

static uint32_t rng__serve(void *dev, struct virtq_chain *c)
{
	return rng__fill(dev, c);
}

static void rng__queue_work(struct virtio_mmio *m, int q)
{
	struct virtio_rng *r = m->dev;

	virtio_mmio__serve_queue(m, q, &r->chain, rng__serve);
}
