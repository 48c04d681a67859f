// SPDX-License-Identifier: GPL-2.0-only
/*
 * blk.c: virtio-blk (virtio 1.x spec §5.2): a raw image file as the guest's
 * /dev/vda.
 *
 * One request is one chain on queue 0 (§5.2.6):
 *
 *   out  struct virtio_blk_req_hdr   type, sector
 *   out  data ...                    for a write (T_OUT)
 *   in   data ...                    for a read (T_IN) or the ID (T_GET_ID)
 *   in   u8 status                   the last device-writable byte
 *
 * The data iovecs point into guest memory, so a read is one preadv() from
 * the file straight into the guest's page cache, a write one pwritev() out
 * of it. The path of a request, on the I/O thread (virtio.c):
 * blk__queue_work() hands the queue to virtio_mmio__serve_queue(), which
 * pops chains; blk__request() splits one into header, data and status and
 * calls blk__rw() or blk__flush(); then the chain goes back on the used ring
 * and the guest gets its interrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

static void blk__queue_work(struct virtio_mmio *m, int q);

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = 2,
	.nr_queues = 1,
	.queue_work = blk__queue_work,
};

/* Longest chain minus header and status: what we tell the driver (seg_max). */
#define BLK_SEG_MAX	(VIRTQ_MAX_SIZE - 2)

void blk__init(struct virtio_blk *b, int fd, uint64_t size, bool ro,
	       virtq_gpa_fn gpa, void *mem)
{
	uint64_t features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_FLUSH;
	uint32_t seg_max = BLK_SEG_MAX;

	if (ro)
		features |= 1ull << VIRTIO_BLK_F_RO;
	b->fd = fd;
	b->ro = ro;
	b->sectors = size / SECTOR_SIZE;
	virtio_mmio__init(&b->mmio, &blk_ops, b, features, gpa, mem);
	/* struct virtio_blk_config (§5.2.4): capacity at 0, seg_max at 12. */
	memcpy(b->mmio.config + 0, &b->sectors, 8);
	memcpy(b->mmio.config + 12, &seg_max, 4);
	b->mmio.config_len = 16;
}

/* Read or write the data iovecs at byte offset off of the image, all or nothing. */
static uint8_t blk__rw(struct virtio_blk *b, uint64_t sector, struct iovec *iov,
		       int n, bool write)
{
	uint64_t len = iov__length(iov, n), off = sector * SECTOR_SIZE;

	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;	/* we said VIRTIO_BLK_F_RO */
	if (len % SECTOR_SIZE || sector > b->sectors ||
	    len / SECTOR_SIZE > b->sectors - sector)
		return VIRTIO_BLK_S_IOERR;	/* past the end of the disk */
	for (int i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			ssize_t r = write ? pwrite(b->fd, p, left, off) : pread(b->fd, p, left, off);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return VIRTIO_BLK_S_IOERR;
			p += r;
			off += r;
			left -= r;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* VIRTIO_BLK_F_FLUSH: what the guest wrote reaches the disk before we answer. */
static uint8_t blk__flush(struct virtio_blk *b)
{
	return fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* Serve one chain; returns the bytes written into its device-writable part. */
static uint32_t blk__request(struct virtio_blk *b, struct virtq_chain *c)
{
	size_t out_len = iov__length(c->out, c->nr_out), in_len = iov__length(c->in, c->nr_in);
	struct iovec data[VIRTQ_MAX_SIZE];
	struct virtio_blk_req_hdr hdr;
	char id[VIRTIO_BLK_ID_BYTES] = "minikvm-disk";
	uint8_t status;
	int n;

	/* A chain without a header or a status byte cannot even be answered. */
	if (out_len < sizeof(hdr) || in_len < 1)
		return 0;
	iov__to_buf(c->out, c->nr_out, 0, &hdr, sizeof(hdr));
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:		/* data: the in part minus the status byte */
		n = iov__slice(c->in, c->nr_in, 0, in_len - 1, data);
		status = blk__rw(b, hdr.sector, data, n, false);
		break;
	case VIRTIO_BLK_T_OUT:		/* data: the out part after the header */
		n = iov__slice(c->out, c->nr_out, sizeof(hdr), out_len - sizeof(hdr), data);
		status = blk__rw(b, hdr.sector, data, n, true);
		in_len = 1;
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = blk__flush(b);
		in_len = 1;
		break;
	case VIRTIO_BLK_T_GET_ID:	/* up to 20 bytes, no NUL needed */
		n = in_len - 1 < sizeof(id) ? in_len - 1 : sizeof(id);
		iov__from_buf(c->in, c->nr_in, 0, id, n);
		status = VIRTIO_BLK_S_OK;
		in_len = n + 1;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		in_len = 1;
		break;
	}
	if (status != VIRTIO_BLK_S_OK)
		in_len = 1;
	iov__from_buf(c->in, c->nr_in, iov__length(c->in, c->nr_in) - 1, &status, 1);
	return in_len;
}

static uint32_t blk__serve(void *dev, struct virtq_chain *c)
{
	return blk__request(dev, c);
}

/* I/O thread, m->lock held: the guest added requests to the queue. */
static void blk__queue_work(struct virtio_mmio *m, int q)
{
	struct virtio_blk *b = m->dev;

	virtio_mmio__serve_queue(m, q, &b->chain, blk__serve);
}
