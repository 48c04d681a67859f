// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/pci.c: configuration mechanism #1 with
 * an empty bus, as Linux's pci_check_type1() probes it, and the 0xcf9 reset.
 */
#include "hw_stub.h"

static struct pci p;
static struct stub_reset rst;

int main(void)
{
	pci__init(&p, stub_reset__line(&rst));

	pci_addr_io_ops.write(&p, 0, 4, 0x80000000);
	tap_ok(pci_addr_io_ops.read(&p, 0, 4) == 0x80000000,
	       "CONFIG_ADDRESS reads back (mechanism #1 present)");
	pci_addr_io_ops.write(&p, 0, 4, 0x80000803);
	tap_ok(pci_addr_io_ops.read(&p, 0, 4) == 0x80000800, "low two bits read as zero");
	tap_ok(pci_data_io_ops.read(&p, 0, 4) == 0xffffffff, "config data: no device");
	tap_ok(pci_data_io_ops.read(&p, 2, 2) == 0xffffffff, "word reads too");
	tap_ok((uint8_t)pci_addr_io_ops.read(&p, 0, 1) == 0xff,
	       "byte read of 0xcf8 is not the address register");
	pci_addr_io_ops.write(&p, 1, 1, 0x02);
	tap_ok(rst.count == 0 && pci_addr_io_ops.read(&p, 1, 1) == 0x02,
	       "0xcf9 without RST_CPU: no reset");
	pci_addr_io_ops.write(&p, 1, 1, 0x06);
	tap_ok(rst.count == 1, "0xcf9 with RST_CPU resets");
	return tap_done();
}
