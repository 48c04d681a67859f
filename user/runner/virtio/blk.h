/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk.h: virtio-blk (virtio 1.x spec §5.2) on a raw image file.
 */
#ifndef RUNNER_VIRTIO_BLK_H
#define RUNNER_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "mmio.h"

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_FLUSH	9

/* Request types and status values (§5.2.6). */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_ID_BYTES	20
#define SECTOR_SIZE		512

/* The header that starts every request, device-readable (§5.2.6). */
struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk {
	struct virtio_mmio mmio;	/* the transport; mmio.dev points back here */
	int fd;				/* the image */
	bool ro;
	uint64_t sectors;		/* capacity in 512-byte sectors */
	struct virtq_chain chain;	/* the request being served (I/O thread) */
};

/* Opens nothing: fd is the image, size its length in bytes. */
void blk__init(struct virtio_blk *b, int fd, uint64_t size, bool ro,
	       virtq_gpa_fn gpa, void *mem);

#endif /* RUNNER_VIRTIO_BLK_H */
