// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/x86/mptable.c, the MP spec 1.4 table: the
 * checks Linux's arch/x86/kernel/mpparse.c makes before it believes a table
 * (signatures, both checksums, revision, the LAPIC address), and the entries
 * it reads: one enabled processor per vCPU with vCPU 0 the BSP, the ISA bus,
 * the IOAPIC at 0xfec00000, ISA IRQ n on IOAPIC pin n.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "x86/x86.h"

#define BASE	0xf0000u

static uint8_t buf[4096];

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void check(int n)
{
	const uint8_t *mpc = buf + 16, *e;
	int cpus = 0, bsp = -1, irqs = 0, lint = 0, ioapic = -1;
	uint16_t len, count;
	bool ids_ok = true, pins_ok = true;

	memset(buf, 0xaa, sizeof(buf));
	mptable__write(buf, BASE, n, 0x00a50f00, 0x178bfbff);
	tap_ok(!memcmp(buf, "_MP_", 4) && buf[8] == 1 && buf[9] == 4 && sum(buf, 16) == 0,
	       "%d CPUs: floating pointer signature, length, revision 1.4, checksum", n);
	tap_ok(get32(buf + 4) == BASE + 16, "%d CPUs: it points to the table after it", n);
	len = mpc[4] | mpc[5] << 8;
	count = mpc[34] | mpc[35] << 8;
	tap_ok(!memcmp(mpc, "PCMP", 4) && mpc[6] == 4 && sum(mpc, len) == 0,
	       "%d CPUs: table signature, revision, checksum over %u bytes", n, len);
	tap_ok(16u + len == mptable__size(n), "%d CPUs: mptable__size() is what was written", n);
	tap_ok(get32(mpc + 36) == 0xfee00000, "%d CPUs: local APICs at 0xfee00000", n);
	e = mpc + 44;
	for (int i = 0; i < count; i++) {
		switch (e[0]) {
		case 0:
			ids_ok &= e[1] == cpus && (e[3] & 1) && get32(e + 4) == 0x00a50f00;
			if (e[3] & 2)
				bsp = e[1];
			cpus++;
			e += 20;
			continue;
		case 2:
			ioapic = e[1];
			pins_ok &= get32(e + 4) == 0xfec00000 && (e[3] & 1);
			break;
		case 3:
			pins_ok &= e[1] == 0 && e[4] == 0 && e[5] == e[7] && e[6] == ioapic &&
				   e[5] != 2;
			irqs++;
			break;
		case 4:
			lint++;
			break;
		}
		e += 8;
	}
	tap_ok(e == mpc + len, "%d CPUs: %u entries fill the table exactly", n, count);
	tap_ok(cpus == n && ids_ok && bsp == 0,
	       "%d CPUs: processors with APIC IDs 0..%d, all enabled, BSP 0", n, n - 1);
	tap_ok(ioapic == n && pins_ok && irqs == 15,
	       "%d CPUs: IOAPIC id %d at 0xfec00000, ISA IRQ n -> pin n (15, not 2)", n, ioapic);
	tap_ok(lint == 2, "%d CPUs: ExtINT and NMI local interrupt entries", n);
}

int main(void)
{
	check(1);
	check(4);
	check(64);
	tap_ok(mptable__size(64) <= 0x10000, "64 CPUs fit in the BIOS area");
	return tap_done();
}
