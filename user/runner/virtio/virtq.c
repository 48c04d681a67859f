// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtq.c: the device's side of a split virtqueue (virtio 1.x spec §2.7):
 * take a chain of buffers the driver offered, give it back used.
 *
 * The rings live in guest memory, which the guest's vCPUs write while we
 * read. Two orderings matter (§2.7.13, §2.7.8):
 *   - read avail->idx with acquire, then the ring entry and descriptors it
 *     covers: the driver wrote them before it bumped idx;
 *   - write the used element, then used->idx with release: the driver reads
 *     idx first and then the element.
 * Every descriptor is copied once before use and every index checked: the
 * guest may be hostile, and a bad ring must end in -EINVAL, never in a read
 * outside guest memory. x86 is little-endian like virtio 1.x, so the fields
 * are used as they are.
 */
#include <errno.h>
#include <string.h>

#include "virtq.h"

void virtq__reset(struct virtq *vq)
{
	virtq_gpa_fn gpa = vq->gpa;
	void *mem = vq->mem;

	*vq = (struct virtq){ .gpa = gpa, .mem = mem };
}

/* The available ring: flags, idx, ring[num] (§2.7.6). */
static uint16_t *virtq__avail(struct virtq *vq)
{
	return vq->gpa(vq->mem, vq->avail_gpa, 4 + 2 * (uint64_t)vq->num);
}

/* Follow the chain from head into c's iovecs. */
static int virtq__walk(struct virtq *vq, uint16_t head, struct virtq_chain *c)
{
	struct virtq_desc *table = vq->gpa(vq->mem, vq->desc_gpa,
					   sizeof(*table) * (uint64_t)vq->num);
	uint16_t i = head;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	if (!table)
		return -EINVAL;
	/* A chain visits each descriptor at most once: num steps bound a loop. */
	for (int steps = 0; steps < vq->num; steps++) {
		struct virtq_desc d;
		void *buf;

		if (i >= vq->num)
			return -EINVAL;
		memcpy(&d, &table[i], sizeof(d));	/* one read of a moving target */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;			/* we did not offer it */
		buf = vq->gpa(vq->mem, d.addr, d.len);
		if (!buf && d.len)
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			c->in[c->nr_in++] = (struct iovec){ buf, d.len };
		} else {
			/* §2.7.4.2: readable buffers come before writable ones. */
			if (c->nr_in)
				return -EINVAL;
			c->out[c->nr_out++] = (struct iovec){ buf, d.len };
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		i = d.next;
	}
	return -EINVAL;					/* a loop */
}

int virtq__pop(struct virtq *vq, struct virtq_chain *c)
{
	uint16_t *avail, idx, head;

	if (!vq->ready || !vq->num)
		return 0;
	avail = virtq__avail(vq);
	if (!avail)
		return -EINVAL;
	idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	if (idx == vq->last_avail)
		return 0;
	/* More offered than the ring holds: the driver lost count. */
	if ((uint16_t)(idx - vq->last_avail) > vq->num)
		return -EINVAL;
	head = __atomic_load_n(&avail[2 + vq->last_avail % vq->num], __ATOMIC_RELAXED);
	vq->last_avail++;
	return virtq__walk(vq, head, c);
}

void virtq__push(struct virtq *vq, uint16_t head, uint32_t written)
{
	/* The used ring: flags, idx, ring[num] of { id, len } (§2.7.8). */
	uint8_t *used = vq->gpa(vq->mem, vq->used_gpa,
				4 + sizeof(struct virtq_used_elem) * (uint64_t)vq->num);
	struct virtq_used_elem *ring;

	if (!used)
		return;
	ring = (struct virtq_used_elem *)(used + 4);
	ring[vq->used_idx % vq->num] = (struct virtq_used_elem){ head, written };
	vq->used_idx++;
	__atomic_store_n((uint16_t *)(used + 2), vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq__want_interrupt(struct virtq *vq)
{
	uint16_t *avail = virtq__avail(vq);

	/* Our used->idx store before the driver's flags load (§2.7.7). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail && !(__atomic_load_n(&avail[0], __ATOMIC_RELAXED) &
			  VIRTQ_AVAIL_F_NO_INTERRUPT);
}

size_t iov__length(const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* Walk [skip, skip + len) of the iovecs, copying to or from buf. */
static size_t iov__copy(const struct iovec *iov, int n, size_t skip, void *buf,
			size_t len, bool to_buf)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t here = iov[i].iov_len;
		uint8_t *base = iov[i].iov_base;

		if (skip >= here) {
			skip -= here;
			continue;
		}
		here -= skip;
		if (here > len - done)
			here = len - done;
		if (to_buf)
			memcpy((uint8_t *)buf + done, base + skip, here);
		else
			memcpy(base + skip, (uint8_t *)buf + done, here);
		done += here;
		skip = 0;
	}
	return done;
}

size_t iov__to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len)
{
	return iov__copy(iov, n, skip, buf, len, true);
}

size_t iov__from_buf(const struct iovec *iov, int n, size_t skip, const void *buf, size_t len)
{
	return iov__copy(iov, n, skip, (void *)buf, len, false);
}

int iov__slice(const struct iovec *src, int n, size_t skip, size_t len, struct iovec *dst)
{
	int out = 0;

	for (int i = 0; i < n && len; i++) {
		size_t here = src[i].iov_len;

		if (skip >= here) {
			skip -= here;
			continue;
		}
		here -= skip;
		if (here > len)
			here = len;
		dst[out++] = (struct iovec){ (uint8_t *)src[i].iov_base + skip, here };
		len -= here;
		skip = 0;
	}
	return out;
}
