/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mmio.h: the virtio-mmio transport, version 2 ("modern", virtio 1.x spec
 * §4.2): a 0x200-byte register window per device that the guest finds on
 * its kernel command line (virtio_mmio.device=0x200@ADDR:IRQ).
 *
 * The transport knows registers, feature negotiation, the status byte and
 * the queues' addresses; the device model (blk.c, rng.c) knows what a
 * request means. Two callbacks connect it to the machine (virtio.c): notify
 * (a queue has work: wake the I/O thread) and interrupt (raise the line).
 * Nothing here calls KVM, so tests/unit/ runs it on the host.
 */
#ifndef RUNNER_VIRTIO_MMIO_H
#define RUNNER_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdint.h>

#include "virtq.h"

#define VIRTIO_MMIO_SIZE	0x200
#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR	0x4b4d4b4d	/* "MKMK" */
#define VIRTIO_MMIO_QUEUES	2

/* Register offsets (§4.2.2). */
#define VMMIO_MAGIC		0x000
#define VMMIO_VERSION		0x004
#define VMMIO_DEVICE_ID		0x008
#define VMMIO_VENDOR_ID		0x00c
#define VMMIO_DEV_FEATURES	0x010
#define VMMIO_DEV_FEATURES_SEL	0x014
#define VMMIO_DRV_FEATURES	0x020
#define VMMIO_DRV_FEATURES_SEL	0x024
#define VMMIO_QUEUE_SEL		0x030
#define VMMIO_QUEUE_NUM_MAX	0x034
#define VMMIO_QUEUE_NUM		0x038
#define VMMIO_QUEUE_READY	0x044
#define VMMIO_QUEUE_NOTIFY	0x050
#define VMMIO_INTERRUPT_STATUS	0x060
#define VMMIO_INTERRUPT_ACK	0x064
#define VMMIO_STATUS		0x070
#define VMMIO_QUEUE_DESC_LO	0x080
#define VMMIO_QUEUE_DESC_HI	0x084
#define VMMIO_QUEUE_DRIVER_LO	0x090
#define VMMIO_QUEUE_DRIVER_HI	0x094
#define VMMIO_QUEUE_DEVICE_LO	0x0a0
#define VMMIO_QUEUE_DEVICE_HI	0x0a4
#define VMMIO_CONFIG_GEN	0x0fc
#define VMMIO_CONFIG		0x100

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* InterruptStatus bits (§4.2.2). */
#define VIRTIO_INT_USED		1
#define VIRTIO_INT_CONFIG	2

#define VIRTIO_F_VERSION_1	32	/* feature bit: a virtio 1.x device */

struct virtio_mmio;

/* What a device model gives the transport. */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;		/* 2 block, 3 console, 4 entropy (§5) */
	int nr_queues;
	/* I/O thread, m->lock held: the driver notified queue q. */
	void (*queue_work)(struct virtio_mmio *m, int q);
	/*
	 * Optional, for a device fed by the host (console.c): the fd the I/O
	 * thread should also poll now (-1: none), and what to do when it is
	 * readable. Both with m->lock held.
	 */
	int (*poll_fd)(struct virtio_mmio *m);
	void (*input)(struct virtio_mmio *m);
};

struct virtio_mmio {
	const struct virtio_dev_ops *ops;
	void *dev;			/* the device model's own struct */
	uint64_t features;		/* offered, VIRTIO_F_VERSION_1 included */
	uint8_t config[64];		/* device configuration space (§5.x.4) */
	uint32_t config_len;

	/*
	 * The registers and queues: written by vCPU threads (MMIO exits), read
	 * by the I/O thread while it serves the queues.
	 */
	pthread_mutex_t lock;
	uint32_t status, isr;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t driver_features;	/* accepted by the driver */
	struct virtq vq[VIRTIO_MMIO_QUEUES];

	void (*notify)(void *opaque, int q);	/* wake the I/O thread for queue q */
	void (*interrupt)(void *opaque);	/* raise the device's interrupt */
	void *opaque;
};

void virtio_mmio__init(struct virtio_mmio *m, const struct virtio_dev_ops *ops,
		       void *dev, uint64_t features, virtq_gpa_fn gpa, void *mem);
/* The register window, for the MMIO bus (io.h); they take m->lock. */
uint32_t virtio_mmio__read(void *m, uint64_t offset, int size);
void virtio_mmio__write(void *m, uint64_t offset, int size, uint32_t value);
/* Device model, m->lock held: used buffers are on queue q, interrupt if wanted. */
void virtio_mmio__used(struct virtio_mmio *m, int q);
/* Device model, m->lock held: the driver broke the rules on a ring (§2.1.2). */
void virtio_mmio__broken(struct virtio_mmio *m, const char *why);
/*
 * Device model, m->lock held: serve every chain the driver offers on queue q,
 * one at a time in *c, with serve() (it returns the bytes it wrote into the
 * chain); then one interrupt for the lot, if the driver wants it.
 */
void virtio_mmio__serve_queue(struct virtio_mmio *m, int q, struct virtq_chain *c,
			      uint32_t (*serve)(void *dev, struct virtq_chain *c));

#endif /* RUNNER_VIRTIO_MMIO_H */
