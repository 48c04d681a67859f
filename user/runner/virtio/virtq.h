/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtq.h: the device's side of a split virtqueue (virtio 1.x spec §2.7).
 *
 * A split virtqueue is three arrays in guest memory that the driver (the
 * guest) allocates and the device (us) reads and writes:
 *
 *   descriptor table  num entries of { addr, len, flags, next }: buffers,
 *                     chained with NEXT; WRITE marks a device-writable one
 *   available ring    { flags, idx, ring[num] }: heads of the chains the
 *                     driver offers; idx counts up forever (mod 2^16)
 *   used ring         { flags, idx, ring[num] of { id, len } }: heads the
 *                     device is done with and how many bytes it wrote
 *
 * The device side is two verbs: virtq__pop() takes the next offered chain
 * and turns it into iovecs that point straight into guest memory (no copy);
 * virtq__push() returns it on the used ring. Nothing here knows about KVM:
 * guest memory is reached through a callback, so that the unit tests
 * (tests/unit/virtq_test.c) can play the driver in a plain buffer.
 */
#ifndef RUNNER_VIRTIO_VIRTQ_H
#define RUNNER_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Descriptor flags (§2.7.5). */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4	/* not offered (no VIRTIO_F_INDIRECT_DESC) */
/* Available ring flags (§2.7.6): the driver needs no interrupt. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* The largest queue we offer (QueueNumMax), and so the longest chain. */
#define VIRTQ_MAX_SIZE		256

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;		/* head of the chain */
	uint32_t len;		/* bytes the device wrote into it */
};

/*
 * Guest memory: a host pointer to len bytes at guest physical gpa, or NULL
 * when the range is not all RAM.
 */
typedef void *(*virtq_gpa_fn)(void *mem, uint64_t gpa, uint64_t len);

struct virtq {
	/* Set by the driver through the transport's registers. */
	uint16_t num;		/* entries, a power of 2 */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* The device's own state. */
	uint16_t last_avail;	/* next available entry to take */
	uint16_t used_idx;	/* our copy of used->idx */
	virtq_gpa_fn gpa;
	void *mem;
};

/* One chain: device-readable buffers first (out), then device-writable (in). */
struct virtq_chain {
	uint16_t head;
	int nr_out, nr_in;
	struct iovec out[VIRTQ_MAX_SIZE];
	struct iovec in[VIRTQ_MAX_SIZE];
};

void virtq__reset(struct virtq *vq);
/* 1: *c holds the next chain; 0: none offered; -EINVAL: the driver broke a rule. */
int virtq__pop(struct virtq *vq, struct virtq_chain *c);
void virtq__push(struct virtq *vq, uint16_t head, uint32_t written);
/* After pushing: does the driver want an interrupt? */
bool virtq__want_interrupt(struct virtq *vq);

/* Helpers over an iovec array, for the device models. */
size_t iov__length(const struct iovec *iov, int n);
/* Copy up to len bytes out of (into) the iovecs, starting skip bytes in. */
size_t iov__to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len);
size_t iov__from_buf(const struct iovec *iov, int n, size_t skip, const void *buf, size_t len);
/*
 * The bytes [skip, skip + len) of src as a new iovec array in dst (room for
 * n entries); returns the number of entries, the slice may be shorter.
 */
int iov__slice(const struct iovec *src, int n, size_t skip, size_t len, struct iovec *dst);

#endif /* RUNNER_VIRTIO_VIRTQ_H */
