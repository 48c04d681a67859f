// SPDX-License-Identifier: GPL-2.0-only
/*
 * cpu.c: what a virtual x86 CPU looks like to the guest (CPUID), and the
 * register state for entering a guest in real, protected or long mode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../runner.h"
#include "x86.h"

/* CPUID bits this VMM hides (SDM Vol.2A CPUID, APM Vol.3 Appendix E). */
#define CPUID1_ECX_VMX		(1u << 5)
#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID1_EDX_APIC		(1u << 9)
#define CPUID81_ECX_SVM		(1u << 2)

/* KVM_GET_SUPPORTED_CPUID, growing the buffer until it fits (E2BIG). */
static struct kvm_cpuid2 *cpu__supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c = NULL;

	for (unsigned int n = 64; n <= 4096; n *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		if (errno != E2BIG)
			break;
	}
	free(c);
	return NULL;
}

/*
 * What we drop from what KVM could offer, and why:
 *  - leaves 0x40000000+, KVM's paravirtual interface: kvmclock, PV EOI,
 *    async page faults... need MSRs that a userspace-irqchip VM cannot
 *    always use (real KVM refuses MSR_KVM_POLL_CONTROL then), and minikvm
 *    does not implement them;
 *  - with --irqchip=user, the local APIC, x2APIC and TSC-deadline timer:
 *    there is no APIC in that machine, interrupts come from our 8259 (with
 *    --irqchip=kernel KVM has a LAPIC per vCPU and they stay as KVM offers);
 *  - VMX and SVM: no nested virtualization for our guests.
 * The initial APIC ID fields carry the vCPU number: that is the LAPIC's ID
 * in KVM, and the ID the MP table gives the CPU (x86/mptable.c).
 */
static void cpu__filter(struct kvm_cpuid2 *c, int id, bool apic)
{
	uint32_t no_apic_ecx = apic ? 0 : CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE;

	unsigned int i, n = 0;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if ((e->function & 0xf0000000) == 0x40000000 || e->function == 0x8000000a)
			continue;
		switch (e->function) {
		case 1:
			e->ecx &= ~(CPUID1_ECX_VMX | no_apic_ecx);
			if (!apic)
				e->edx &= ~CPUID1_EDX_APIC;
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)id << 24;
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;	/* x2APIC ID */
			break;
		case 0x80000001:
			e->ecx &= ~CPUID81_ECX_SVM;
			break;
		}
		c->entries[n++] = *e;
	}
	c->nent = n;
}

int cpu__init_vcpu(struct vcpu *v)
{
	struct kvm_cpuid2 *c = cpu__supported_cpuid(v->vm->kvm_fd);
	int ret = 0;

	if (!c) {
		ret = -errno;
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return ret;
	}
	cpu__filter(c, v->id, v->vm->kernel_irqchip);
	for (unsigned int i = 0; i < c->nent; i++) {
		if (c->entries[i].function == 1) {	/* for the MP table */
			v->vm->cpu_signature = c->entries[i].eax;
			v->vm->cpu_features = c->entries[i].edx;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		pr_err("KVM_SET_CPUID2: %s", strerror(errno));
	}
	free(c);
	return ret;
}

/* ------------------------------------------------------------ descriptors */

/*
 * A flat 4 GiB segment (base 0, limit 0xfffff pages). Types (SDM Vol.3
 * 3.4.5.1): 0xb = code execute/read accessed, 0x3 = data read/write accessed.
 */
static struct kvm_segment cpu__flat(uint16_t sel, bool code, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = code ? 0xb : 0x3, .present = 1, .s = 1, .g = 1,
		.l = code64, .db = !code64,
	};
}

/* The same descriptors in guest memory, for when the guest reloads a selector. */
static int cpu__write_gdt(struct vm *vm)
{
	uint64_t *gdt = vm__gpa(vm, GDT_ADDR, 5 * 8);

	if (!gdt)
		return -ENOMEM;
	gdt[0] = gdt[1] = 0;
	gdt[SEL_CODE64 / 8] = 0x00af9b000000ffffull;	/* G, L, P, code e/r */
	gdt[SEL_DATA / 8]   = 0x00cf93000000ffffull;	/* G, D/B, P, data r/w */
	gdt[SEL_CODE32 / 8] = 0x00cf9b000000ffffull;	/* G, D/B, P, code e/r */
	return 0;
}

/* Identity-map 0-4 GiB with 2 MiB pages: PML4[0] -> PDPT[0..3] -> 4 PDs. */
static int cpu__write_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm__gpa(vm, PML4_ADDR, 4096);
	uint64_t *pdpt = vm__gpa(vm, PDPT_ADDR, 4096);
	uint64_t *pd = vm__gpa(vm, PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -ENOMEM;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_ADDR | PTE_P | PTE_RW;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (PD_ADDR + i * 4096) | PTE_P | PTE_RW;
	for (uint64_t j = 0; j < 4 * 512; j++)
		pd[j] = (j << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

/* --------------------------------------------------------------- modes */

static void cpu__real_mode(struct kvm_sregs *s, uint64_t rip, __u64 *ip)
{
	uint16_t seg = (rip >> 4) & 0xf000;	/* a segment that reaches rip */
	struct kvm_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss };

	for (unsigned int i = 0; i < 6; i++) {
		segs[i]->selector = seg;
		segs[i]->base = (uint64_t)seg << 4;
		segs[i]->limit = 0xffff;
	}
	*ip = rip - s->cs.base;
}

static void cpu__flat_mode(struct kvm_sregs *s, bool code64)
{
	s->cs = cpu__flat(code64 ? SEL_CODE64 : SEL_CODE32, true, code64);
	s->ds = s->es = s->fs = s->gs = s->ss = cpu__flat(SEL_DATA, false, false);
	s->gdt.base = GDT_ADDR;
	s->gdt.limit = 5 * 8 - 1;
	s->cr0 = CR0_PE | CR0_ET | CR0_NE;
	if (code64) {
		s->cr0 |= CR0_PG;
		s->cr3 = PML4_ADDR;
		s->cr4 = CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
	}
}

/*
 * Registers for the first instruction: rip in the given mode, rsp, and rsi
 * (where Linux's boot protocol passes boot_params). Interrupts off.
 */
int cpu__set_mode(struct vcpu *v, enum cpu_mode mode, uint64_t rip,
		  uint64_t rsp, uint64_t rsi)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 0x2, .rsp = rsp, .rsi = rsi, .rip = rip };
	int ret;

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	if (mode == MODE_REAL) {
		cpu__real_mode(&s, rip, &r.rip);
		r.rsp = rsp - s.ss.base;
	} else {
		ret = cpu__write_gdt(v->vm);
		if (!ret && mode == MODE_LONG)
			ret = cpu__write_page_tables(v->vm);
		if (ret)
			return ret;
		cpu__flat_mode(&s, mode == MODE_LONG);
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0 || ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}
