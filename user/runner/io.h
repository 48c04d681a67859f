/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * io.h: the VMM's two address spaces for devices, port I/O and MMIO.
 *
 * A device registers the ranges it decodes together with a read and a write
 * callback; the run loop looks the address of every KVM_EXIT_IO / KVM_EXIT_MMIO
 * up in the table and calls the device with the offset into its range. There
 * is no switch over port numbers anywhere: adding a device is one
 * io_bus__register() call.
 */
#ifndef RUNNER_IO_H
#define RUNNER_IO_H

#include <stdbool.h>
#include <stdint.h>

struct io_ops {
	/* size is 1, 2 or 4 (8 for MMIO); offset is from the range's base. */
	uint32_t (*read)(void *dev, uint64_t offset, int size);
	void (*write)(void *dev, uint64_t offset, int size, uint32_t value);
};

struct io_range {
	uint64_t base, len;
	const struct io_ops *ops;
	void *dev;
	const char *name;
};

#define IO_BUS_MAX	32

struct io_bus {
	const char *name;		/* "port" or "mmio", for messages */
	struct io_range range[IO_BUS_MAX];
	int count;
	bool trace;			/* print accesses nobody decodes */
};

int io_bus__register(struct io_bus *bus, uint64_t base, uint64_t len,
		     const struct io_ops *ops, void *dev, const char *name);
const struct io_range *io_bus__find(const struct io_bus *bus, uint64_t addr);
/*
 * One access of size bytes at addr; data is little-endian guest data.
 * An address nobody decodes reads as all ones (an ISA or PCI bus with
 * nothing driving the data lines) and swallows writes.
 */
void io_bus__access(struct io_bus *bus, uint64_t addr, int size, bool write,
		    uint8_t *data);

#endif /* RUNNER_IO_H */
