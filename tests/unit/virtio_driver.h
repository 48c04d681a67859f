/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio_driver.h: a tiny virtio driver for the host-side tests of
 * user/runner/virtio/: "guest memory" is a static buffer, and these helpers
 * lay out a split virtqueue in it and offer chains the way a guest driver
 * does (virtio 1.x spec §2.7.13): descriptors first, then the available
 * ring entry, then avail->idx with release.
 */
#ifndef MINIKVM_VIRTIO_DRIVER_H
#define MINIKVM_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtio/virtq.h"
#include "tap.h"

#define GUEST_MEM	(1 << 20)
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define DATA_GPA	0x10000		/* buffers from here */

static uint8_t guest[GUEST_MEM];

static inline void *guest_gpa(void *mem, uint64_t gpa, uint64_t len)
{
	(void)mem;
	if (gpa > GUEST_MEM || len > GUEST_MEM - gpa)
		return NULL;
	return guest + gpa;
}

struct drv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;		/* device-writable */
};

struct fake_driver {
	uint16_t num;
	uint16_t next_desc;	/* descriptors are handed out round-robin */
	uint16_t avail_idx;
	uint16_t used_seen;
};

static uint16_t *drv_avail(void) { return (uint16_t *)(guest + AVAIL_GPA); }
static uint16_t *drv_used_idx(void) { return (uint16_t *)(guest + USED_GPA + 2); }
static struct virtq_desc *drv_desc(void) { return (struct virtq_desc *)(guest + DESC_GPA); }

static inline void drv_init(struct fake_driver *d, uint16_t num)
{
	memset(guest, 0, DATA_GPA);
	*d = (struct fake_driver){ .num = num };
}

/* Point a virtq straight at the rings (what the transport's registers do). */
static inline void drv_attach(struct fake_driver *d, struct virtq *vq)
{
	*vq = (struct virtq){ .num = d->num, .ready = true, .desc_gpa = DESC_GPA,
			      .avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA,
			      .gpa = guest_gpa, .mem = NULL };
}

/* Write n descriptors chained in order; returns the head. */
static inline uint16_t drv_chain(struct fake_driver *d, int n, const struct drv_buf *b)
{
	uint16_t head = d->next_desc;

	for (int i = 0; i < n; i++) {
		uint16_t at = d->next_desc;

		d->next_desc = (d->next_desc + 1) % d->num;
		drv_desc()[at] = (struct virtq_desc){
			.addr = b[i].gpa, .len = b[i].len,
			.flags = (b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
			.next = i + 1 < n ? d->next_desc : 0,
		};
	}
	return head;
}

/* Offer the chain at head. */
static inline void drv_offer(struct fake_driver *d, uint16_t head)
{
	drv_avail()[2 + d->avail_idx % d->num] = head;
	d->avail_idx++;
	__atomic_store_n(&drv_avail()[1], d->avail_idx, __ATOMIC_RELEASE);
}

static inline uint16_t drv_add(struct fake_driver *d, int n, const struct drv_buf *b)
{
	uint16_t head = drv_chain(d, n, b);

	drv_offer(d, head);
	return head;
}

/* The next used element, if the device returned one. */
static inline bool drv_get_used(struct fake_driver *d, uint32_t *id, uint32_t *len)
{
	struct virtq_used_elem *ring = (struct virtq_used_elem *)(guest + USED_GPA + 4);

	if (__atomic_load_n(drv_used_idx(), __ATOMIC_ACQUIRE) == d->used_seen)
		return false;
	*id = ring[d->used_seen % d->num].id;
	*len = ring[d->used_seen % d->num].len;
	d->used_seen++;
	return true;
}

#endif /* MINIKVM_VIRTIO_DRIVER_H */
