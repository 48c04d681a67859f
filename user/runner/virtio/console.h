/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * console.h: virtio-console (virtio 1.x spec §5.3), the guest's /dev/hvc0.
 */
#ifndef RUNNER_VIRTIO_CONSOLE_H
#define RUNNER_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmio.h"

#define VIRTIO_CONSOLE_RX	0	/* receiveq: host -> guest */
#define VIRTIO_CONSOLE_TX	1	/* transmitq: guest -> host */

struct virtio_console {
	struct virtio_mmio mmio;
	int in_fd, out_fd;		/* the host side: stdin, stdout */
	/*
	 * Input waits in in_fd while the guest has no receive buffer
	 * posted (rx_wait, until it notifies the receiveq), and for good
	 * once in_fd reached its end (in_eof). m->lock protects both.
	 */
	bool rx_wait, in_eof;
	/* Drop a host byte (e.g. an escape key) before it reaches the guest. */
	bool (*filter)(void *opaque, uint8_t byte);
	void *filter_opaque;
	struct virtq_chain chain;
};

void console__init(struct virtio_console *c, int in_fd, int out_fd,
		   virtq_gpa_fn gpa, void *mem);

#endif /* RUNNER_VIRTIO_CONSOLE_H */
