// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci.c: PCI configuration mechanism #1 with nothing behind it, and the
 * reset control register at 0xcf9.
 *
 * Mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): a 32-bit write
 * to 0xcf8 sets CONFIG_ADDRESS (bit 31 enable, bus, device, function,
 * register), then 0xcfc-0xcff read or write that configuration dword. Every
 * read returns all ones, which is what a master abort looks like: "no device
 * here" for every bus/device/function, so a guest finds an empty bus. The
 * address register itself reads back, which is how Linux decides that
 * mechanism #1 exists at all (pci_check_type1()).
 *
 * 0xcf9 (a byte inside the 0xcf8 dword, Intel PIIX/ICH "reset control"):
 * writing bit 2 (RST_CPU) resets the machine; Linux's reboot=pci.
 */
#include <string.h>

#include "hw.h"

void pci__init(struct pci *p, struct reset_line reset)
{
	memset(p, 0, sizeof(*p));
	p->reset = reset;
}

static uint32_t pci_addr__read(void *dev, uint64_t off, int size)
{
	struct pci *p = dev;

	if (off == 0 && size == 4)
		return p->address;
	if (off == 1 && size == 1)
		return p->reset_control;
	return 0xffffffff;
}

static void pci_addr__write(void *dev, uint64_t off, int size, uint32_t value)
{
	struct pci *p = dev;

	if (off == 0 && size == 4) {
		p->address = value & 0x80fffffc;	/* reserved bits read 0 */
	} else if (off == 1 && size == 1) {
		p->reset_control = value & 0x0e;
		if (value & 0x04)
			reset_line__fire(&p->reset, MACHINE_RESET,
					 "reset control register (port 0xcf9)");
	}
	/* Byte and word writes to 0xcf8/0xcfa/0xcfb are not config cycles. */
}

const struct io_ops pci_addr_io_ops = {
	.read = pci_addr__read,
	.write = pci_addr__write,
};

static uint32_t pci_data__read(void *dev, uint64_t off, int size)
{
	(void)dev; (void)off; (void)size;
	return 0xffffffff;	/* master abort: no device */
}

const struct io_ops pci_data_io_ops = {
	.read = pci_data__read,		/* writes go nowhere */
};
