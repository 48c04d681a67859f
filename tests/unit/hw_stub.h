/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stub wires for the device-model tests of user/runner/hw/: an interrupt line
 * that records its level and counts rising edges, a reset line that counts,
 * and port accessors that call a device's io_ops like the VMM's run loop.
 */
#ifndef MINIKVM_HW_STUB_H
#define MINIKVM_HW_STUB_H

#include <stdbool.h>
#include <stdio.h>

#include "hw/hw.h"
#include "tap.h"

struct stub_irq {
	int level[16];
	int edges[16];
};

static inline void stub_irq__set(void *opaque, int irq, int level)
{
	struct stub_irq *s = opaque;

	if (level && !s->level[irq])
		s->edges[irq]++;
	s->level[irq] = level;
}

static inline struct irq_line stub_irq__line(struct stub_irq *s, int irq)
{
	return (struct irq_line){ stub_irq__set, s, irq };
}

struct stub_reset {
	int count;
	enum machine_event last;
};

static inline void stub_reset__fire(void *opaque, enum machine_event ev, const char *why)
{
	struct stub_reset *r = opaque;

	(void)why;
	r->count++;
	r->last = ev;
}

static inline struct reset_line stub_reset__line(struct stub_reset *r)
{
	return (struct reset_line){ stub_reset__fire, r };
}

static inline uint8_t inb(const struct io_ops *ops, void *dev, uint64_t off)
{
	return ops->read(dev, off, 1);
}

static inline void outb(const struct io_ops *ops, void *dev, uint64_t off, uint8_t v)
{
	ops->write(dev, off, 1, v);
}

#endif /* MINIKVM_HW_STUB_H */
