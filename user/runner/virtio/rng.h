/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rng.h: virtio-rng, the entropy device (virtio 1.x spec §5.4).
 */
#ifndef RUNNER_VIRTIO_RNG_H
#define RUNNER_VIRTIO_RNG_H

#include "mmio.h"

struct virtio_rng {
	struct virtio_mmio mmio;
	int fd;				/* /dev/urandom */
	struct virtq_chain chain;
};

void rng__init(struct virtio_rng *r, int fd, virtq_gpa_fn gpa, void *mem);

#endif /* RUNNER_VIRTIO_RNG_H */
