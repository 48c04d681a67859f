// SPDX-License-Identifier: GPL-2.0-only
/*
 * io.c: range tables for port I/O and MMIO (see io.h).
 *
 * The table is small (a PC has about a dozen legacy devices) and kept sorted
 * by base, so a lookup is a binary search.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io.h"

int io_bus__register(struct io_bus *bus, uint64_t base, uint64_t len,
		     const struct io_ops *ops, void *dev, const char *name)
{
	int i;

	if (bus->count == IO_BUS_MAX || len == 0)
		return -ENOSPC;
	/* Keep the table sorted; refuse overlaps, they are always a bug. */
	for (i = bus->count; i > 0 && bus->range[i - 1].base > base; i--)
		bus->range[i] = bus->range[i - 1];
	if ((i > 0 && bus->range[i - 1].base + bus->range[i - 1].len > base) ||
	    (i < bus->count && base + len > bus->range[i + 1].base)) {
		/* undo the shift */
		for (; i < bus->count; i++)
			bus->range[i] = bus->range[i + 1];
		return -EBUSY;
	}
	bus->range[i] = (struct io_range){ base, len, ops, dev, name };
	bus->count++;
	return 0;
}

const struct io_range *io_bus__find(const struct io_bus *bus, uint64_t addr)
{
	int lo = 0, hi = bus->count - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct io_range *r = &bus->range[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr >= r->base + r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

void io_bus__access(struct io_bus *bus, uint64_t addr, int size, bool write,
		    uint8_t *data)
{
	const struct io_range *r = io_bus__find(bus, addr);
	uint32_t v = 0;

	if (!r) {
		if (bus->trace)
			fprintf(stderr, "minikvm-run: unclaimed %s %s 0x%llx/%d\n",
				bus->name, write ? "write" : "read",
				(unsigned long long)addr, size);
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	if (write) {
		memcpy(&v, data, size > 4 ? 4 : size);
		if (r->ops->write)
			r->ops->write(r->dev, addr - r->base, size, v);
	} else {
		v = r->ops->read ? r->ops->read(r->dev, addr - r->base, size)
				 : 0xffffffff;
		memcpy(data, &v, size > 4 ? 4 : size);
	}
}
