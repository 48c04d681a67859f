// SPDX-License-Identifier: GPL-2.0-only
/*
 * mptable.c: the Intel MultiProcessor Specification 1.4 table, how the guest
 * learns how many CPUs the machine has and where its APICs are.
 *
 * Why an MP table and not ACPI's MADT: this machine has no firmware and no
 * ACPI at all (no RSDP, no FADT, no DSDT). Linux without ACPI looks for an MP
 * floating pointer (find_smp_config(): the first KiB of RAM, the last KiB
 * below 640 KiB, the BIOS ROM at 0xf0000-0xfffff) and takes the CPUs, the
 * IOAPIC and the ISA interrupt wiring from the table it points to. That is
 * five fixed-size record types and two checksums, the smallest complete
 * description there is; kvmtool and Firecracker boot Linux the same way. A
 * MADT would need an RSDP and an RSDT/XSDT around it, and an ACPI-enabled
 * Linux then also wants a FADT.
 *
 * Layout (MP spec 1.4, chapter 4), at MPTABLE_ADDR in the reserved BIOS area:
 *
 *   floating pointer (16 bytes): "_MP_", physical address of the table,
 *                                 revision 4, feature byte 2 bit 7 clear:
 *                                 virtual wire mode, no IMCR (4.1)
 *   configuration table header (44 bytes): "PCMP", length, checksum, the
 *                                 local APICs' address 0xfee00000 (4.2)
 *   entries, in the order the spec asks for (4.3):
 *     one processor entry per vCPU   APIC ID = vCPU id, vCPU 0 the BSP
 *     one bus entry                  bus 0, "ISA"
 *     one I/O APIC entry             at 0xfec00000, id = number of CPUs
 *     I/O interrupt entries          ISA IRQ n -> IOAPIC pin n, n = 0..15
 *                                    but 2 (the PICs' cascade: nothing there)
 *     two local interrupt entries    ExtINT on LINT0, NMI on LINT1, all CPUs
 *
 * IRQ 0 goes to pin 0. QEMU's tables say "IRQ 0 -> pin 2" (an interrupt
 * source override) because QEMU routes GSI 0 to IOAPIC pin 2 with
 * KVM_SET_GSI_ROUTING. We keep the routing KVM_CREATE_IRQCHIP sets up, where
 * GSI n reaches PIC input n (n < 16) and IOAPIC pin n, and the in-kernel PIT
 * raises GSI 0: pin 0 is where the timer arrives, so that is what we say.
 */
#include <string.h>

#include "x86.h"

/* Entry types and sizes (MP spec 1.4, Table 4-3). */
enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };

/* Interrupt types (Table 4-9) and CPU flags (Table 4-5). */
#define MP_INT			0
#define MP_NMI			1
#define MP_EXTINT		3
#define CPU_ENABLED		0x01
#define CPU_BSP			0x02

#define APIC_VERSION		0x14	/* an integrated xAPIC, as KVM reports */
#define IOAPIC_VERSION		0x11	/* 82093AA, as KVM's IOAPIC reports */
#define ALL_APICS		0xff

struct mpf_intel {			/* floating pointer, Figure 4-2 */
	char signature[4];
	uint32_t physptr;
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1;		/* 0: a configuration table is present */
	uint8_t feature2;		/* bit 7: IMCR present (PIC mode) */
	uint8_t feature3[3];
} __attribute__((packed));

struct mpc_table {			/* configuration table header, Figure 4-3 */
	char signature[4];
	uint16_t length;		/* base table, header included */
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;		/* number of entries */
	uint32_t lapic;
	uint16_t extended_length;
	uint8_t extended_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {			/* Figure 4-4 */
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature;		/* CPUID 1 EAX: family, model, stepping */
	uint32_t featureflag;		/* CPUID 1 EDX */
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {			/* Figure 4-5 */
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {			/* Figure 4-6 */
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {			/* Figures 4-7 and 4-8: both 8 bytes */
	uint8_t type, irqtype;
	uint16_t irqflag;		/* 0: polarity and trigger of the bus */
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "MP spec 4.1");
_Static_assert(sizeof(struct mpc_table) == 44, "MP spec 4.2");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP spec 4.3.1");
_Static_assert(sizeof(struct mpc_bus) == 8, "MP spec 4.3.2");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "MP spec 4.3.3");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "MP spec 4.3.4, 4.3.5");

/* The byte that makes the sum of [p, p + len) zero. */
static uint8_t mptable__checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

size_t mptable__size(int nr_cpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       nr_cpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + 15 * sizeof(struct mpc_intsrc) +
	       2 * sizeof(struct mpc_intsrc);
}

/* Append one entry at *pos; returns where it went. */
static void *mptable__add(uint8_t **pos, const void *entry, size_t len, uint16_t *count)
{
	void *at = *pos;

	memcpy(*pos, entry, len);
	*pos += len;
	(*count)++;
	return at;
}

/*
 * Write the floating pointer and the table to buf, which the guest will see
 * at guest physical address gpa (16-byte aligned), mptable__size() bytes.
 * cpu_signature and cpu_features are CPUID 1's EAX and EDX.
 */
void mptable__write(uint8_t *buf, uint32_t gpa, int nr_cpus,
		    uint32_t cpu_signature, uint32_t cpu_features)
{
	struct mpf_intel *mpf = (void *)buf;
	struct mpc_table *mpc = (void *)(mpf + 1);
	uint8_t *pos = (uint8_t *)(mpc + 1);
	uint8_t ioapic_id = nr_cpus;	/* the first ID no CPU has */
	uint16_t count = 0;

	memset(buf, 0, mptable__size(nr_cpus));
	for (int i = 0; i < nr_cpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR, .apicid = i, .apicver = APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BSP : 0),
			.cpufeature = cpu_signature, .featureflag = cpu_features,
		};
		mptable__add(&pos, &cpu, sizeof(cpu), &count);
	}
	mptable__add(&pos, &(struct mpc_bus){ .type = MP_BUS, .busid = 0,
					      .bustype = "ISA   " },
		     sizeof(struct mpc_bus), &count);
	mptable__add(&pos, &(struct mpc_ioapic){ .type = MP_IOAPIC, .apicid = ioapic_id,
						 .apicver = IOAPIC_VERSION, .flags = 1,
						 .apicaddr = IOAPIC_ADDR },
		     sizeof(struct mpc_ioapic), &count);
	for (int irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		mptable__add(&pos, &(struct mpc_intsrc){ .type = MP_INTSRC,
							 .irqtype = MP_INT, .srcbus = 0,
							 .srcbusirq = irq,
							 .dstapic = ioapic_id,
							 .dstirq = irq },
			     sizeof(struct mpc_intsrc), &count);
	}
	/* The 8259's INTR reaches every LAPIC's LINT0 as ExtINT; NMI on LINT1. */
	mptable__add(&pos, &(struct mpc_intsrc){ .type = MP_LINTSRC, .irqtype = MP_EXTINT,
						 .dstapic = ALL_APICS, .dstirq = 0 },
		     sizeof(struct mpc_intsrc), &count);
	mptable__add(&pos, &(struct mpc_intsrc){ .type = MP_LINTSRC, .irqtype = MP_NMI,
						 .dstapic = ALL_APICS, .dstirq = 1 },
		     sizeof(struct mpc_intsrc), &count);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = pos - (uint8_t *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "MINIKVM ", 8);
	memcpy(mpc->productid, "minikvm-run ", 12);
	mpc->oemcount = count;
	mpc->lapic = LAPIC_ADDR;
	mpc->checksum = mptable__checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = mptable__checksum(mpf, sizeof(*mpf));
}
