// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmio.c: the virtio-mmio register window, version 2 (virtio 1.x spec §4.2).
 *
 * How Linux's virtio_mmio driver brings a device up (§3.1.1, §4.2.3.1):
 * read MagicValue, Version, DeviceID; reset (Status = 0); set ACKNOWLEDGE
 * and DRIVER; read DeviceFeatures (two 32-bit halves, DeviceFeaturesSel 0
 * and 1), write the subset it accepts to DriverFeatures; set FEATURES_OK
 * and read it back (we clear it if the subset is not acceptable); for each
 * queue: QueueSel, QueueNumMax, QueueNum, the three ring addresses,
 * QueueReady = 1; at last DRIVER_OK. From then on it writes the queue's
 * index to QueueNotify when it adds buffers, and reads InterruptStatus and
 * writes InterruptACK in its interrupt handler.
 *
 * QueueNotify normally never gets here: KVM's ioeventfd takes that write
 * (virtio.c). If it does (a KVM without ioeventfd) we still hand the work
 * to the I/O thread through the notify callback, so device work is never
 * done on a vCPU thread either way.
 */
#include <stdio.h>
#include <string.h>

#include "mmio.h"

void virtio_mmio__init(struct virtio_mmio *m, const struct virtio_dev_ops *ops,
		       void *dev, uint64_t features, virtq_gpa_fn gpa, void *mem)
{
	memset(m, 0, sizeof(*m));
	m->ops = ops;
	m->dev = dev;
	m->features = features | 1ull << VIRTIO_F_VERSION_1;
	pthread_mutex_init(&m->lock, NULL);
	for (int i = 0; i < VIRTIO_MMIO_QUEUES; i++) {
		m->vq[i].gpa = gpa;
		m->vq[i].mem = mem;
	}
}

/* Status = 0: forget everything the driver set up (§2.4). */
static void virtio_mmio__reset(struct virtio_mmio *m)
{
	m->status = m->isr = 0;
	m->dev_features_sel = m->drv_features_sel = m->queue_sel = 0;
	m->driver_features = 0;
	for (int i = 0; i < VIRTIO_MMIO_QUEUES; i++)
		virtq__reset(&m->vq[i]);
}

/* The queue QueueSel points at, or NULL for one this device does not have. */
static struct virtq *virtio_mmio__queue(struct virtio_mmio *m)
{
	return m->queue_sel < (uint32_t)m->ops->nr_queues ? &m->vq[m->queue_sel] : NULL;
}

static void virtio_mmio__set_status(struct virtio_mmio *m, uint32_t status)
{
	if (status == 0) {
		virtio_mmio__reset(m);
		return;
	}
	/*
	 * FEATURES_OK is the driver asking "is this subset fine?" (§3.1.1 step
	 * 5): only features we offered, and VERSION_1, which a version 2
	 * device must not work without (§4.2.2). Otherwise we leave the bit
	 * clear, and the driver gives up.
	 */
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(m->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((m->driver_features & ~m->features) ||
	     !(m->driver_features & 1ull << VIRTIO_F_VERSION_1)))
		status &= ~VIRTIO_STATUS_FEATURES_OK;
	m->status = status;
}

static uint32_t virtio_mmio__config_read(struct virtio_mmio *m, uint64_t off, int size)
{
	uint32_t v = 0;

	if (off + size <= m->config_len)
		memcpy(&v, m->config + off, size > 4 ? 4 : size);
	return v;
}

uint32_t virtio_mmio__read(void *opaque, uint64_t offset, int size)
{
	struct virtio_mmio *m = opaque;
	struct virtq *vq;
	uint32_t v = 0;

	pthread_mutex_lock(&m->lock);
	vq = virtio_mmio__queue(m);
	if (offset >= VMMIO_CONFIG) {
		v = virtio_mmio__config_read(m, offset - VMMIO_CONFIG, size);
		goto out;
	}
	switch (offset) {
	case VMMIO_MAGIC:	v = VIRTIO_MMIO_MAGIC; break;
	case VMMIO_VERSION:	v = 2; break;
	case VMMIO_DEVICE_ID:	v = m->ops->device_id; break;
	case VMMIO_VENDOR_ID:	v = VIRTIO_MMIO_VENDOR; break;
	case VMMIO_DEV_FEATURES:
		v = m->dev_features_sel < 2 ? m->features >> (32 * m->dev_features_sel) : 0;
		break;
	case VMMIO_QUEUE_NUM_MAX: v = vq ? VIRTQ_MAX_SIZE : 0; break;
	case VMMIO_QUEUE_READY:	v = vq && vq->ready; break;
	case VMMIO_INTERRUPT_STATUS: v = m->isr; break;
	case VMMIO_STATUS:	v = m->status; break;
	case VMMIO_CONFIG_GEN:	v = 0; break;	/* our config never changes */
	default:		v = 0; break;	/* write-only or reserved */
	}
out:
	pthread_mutex_unlock(&m->lock);
	return v;
}

/* Replace the low or high half of a 64-bit ring address. */
static void set_half(uint64_t *addr, bool high, uint32_t value)
{
	if (high)
		*addr = (*addr & 0xffffffffull) | (uint64_t)value << 32;
	else
		*addr = (*addr & ~0xffffffffull) | value;
}

static void virtio_mmio__queue_write(struct virtio_mmio *m, struct virtq *vq,
				     uint64_t offset, uint32_t value)
{
	/* §4.2.3.2: the ring's size and addresses only change while not ready. */
	if (vq->ready && offset != VMMIO_QUEUE_READY)
		return;
	switch (offset) {
	case VMMIO_QUEUE_NUM:
		/* Split rings have a power-of-2 size up to QueueNumMax. */
		if (value && value <= VIRTQ_MAX_SIZE && !(value & (value - 1)))
			vq->num = value;
		break;
	case VMMIO_QUEUE_READY:
		vq->ready = value == 1 && vq->num;
		break;
	case VMMIO_QUEUE_DESC_LO:   set_half(&vq->desc_gpa, false, value); break;
	case VMMIO_QUEUE_DESC_HI:   set_half(&vq->desc_gpa, true, value); break;
	case VMMIO_QUEUE_DRIVER_LO: set_half(&vq->avail_gpa, false, value); break;
	case VMMIO_QUEUE_DRIVER_HI: set_half(&vq->avail_gpa, true, value); break;
	case VMMIO_QUEUE_DEVICE_LO: set_half(&vq->used_gpa, false, value); break;
	case VMMIO_QUEUE_DEVICE_HI: set_half(&vq->used_gpa, true, value); break;
	}
	(void)m;
}

void virtio_mmio__write(void *opaque, uint64_t offset, int size, uint32_t value)
{
	struct virtio_mmio *m = opaque;
	struct virtq *vq;
	int notify = -1;

	(void)size;
	pthread_mutex_lock(&m->lock);
	vq = virtio_mmio__queue(m);
	switch (offset) {
	case VMMIO_DEV_FEATURES_SEL: m->dev_features_sel = value; break;
	case VMMIO_DRV_FEATURES_SEL: m->drv_features_sel = value; break;
	case VMMIO_DRV_FEATURES:
		/* Only before FEATURES_OK (§3.1.1). */
		if (m->drv_features_sel < 2 && !(m->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&m->driver_features, m->drv_features_sel == 1, value);
		break;
	case VMMIO_QUEUE_SEL:	m->queue_sel = value; break;
	case VMMIO_QUEUE_NOTIFY:
		if (value < (uint32_t)m->ops->nr_queues)
			notify = value;
		break;
	case VMMIO_INTERRUPT_ACK: m->isr &= ~value; break;
	case VMMIO_STATUS:	virtio_mmio__set_status(m, value); break;
	case VMMIO_QUEUE_NUM: case VMMIO_QUEUE_READY:
	case VMMIO_QUEUE_DESC_LO: case VMMIO_QUEUE_DESC_HI:
	case VMMIO_QUEUE_DRIVER_LO: case VMMIO_QUEUE_DRIVER_HI:
	case VMMIO_QUEUE_DEVICE_LO: case VMMIO_QUEUE_DEVICE_HI:
		if (vq)
			virtio_mmio__queue_write(m, vq, offset, value);
		break;
	}
	pthread_mutex_unlock(&m->lock);
	/* Outside the lock: the I/O thread may be holding it right now. */
	if (notify >= 0 && m->notify)
		m->notify(m->opaque, notify);
}

void virtio_mmio__used(struct virtio_mmio *m, int q)
{
	if (!virtq__want_interrupt(&m->vq[q]))
		return;
	m->isr |= VIRTIO_INT_USED;
	if (m->interrupt)
		m->interrupt(m->opaque);
}

void virtio_mmio__serve_queue(struct virtio_mmio *m, int q, struct virtq_chain *c,
			      uint32_t (*serve)(void *dev, struct virtq_chain *c))
{
	bool used = false;
	int r;

	while ((r = virtq__pop(&m->vq[q], c)) > 0) {
		virtq__push(&m->vq[q], c->head, serve(m->dev, c));
		used = true;
	}
	if (r < 0)
		virtio_mmio__broken(m, "bad descriptor chain on the request queue");
	if (used)
		virtio_mmio__used(m, q);
}

void virtio_mmio__broken(struct virtio_mmio *m, const char *why)
{
	if (!(m->status & VIRTIO_STATUS_NEEDS_RESET))
		fprintf(stderr, "minikvm-run: %s: %s; the device needs a reset\n",
			m->ops->name, why);
	/* §2.1.2: NEEDS_RESET, and a configuration change interrupt. */
	m->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (int i = 0; i < VIRTIO_MMIO_QUEUES; i++)
		m->vq[i].ready = false;
	m->isr |= VIRTIO_INT_CONFIG;
	if (m->interrupt)
		m->interrupt(m->opaque);
}
