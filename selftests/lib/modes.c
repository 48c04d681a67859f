// SPDX-License-Identifier: GPL-2.0-only
/*
 * modes.c: start a vCPU directly in real, protected, paged or long mode.
 *
 * A real machine gets from the reset state to long mode by running code: load a GDT,
 * set CR0.PE, far jump, build page tables, set CR4.PAE, EFER.LME, CR0.PG, far jump
 * again. A VMM can skip all of that: the whole processor state is in its hands, so it
 * writes the tables into guest memory and then the final register state with
 * KVM_SET_SREGS and KVM_SET_REGS. The state must be self-consistent (what the
 * hidden parts of the segment registers hold must match the descriptors in the
 * GDT, because the guest reloads them on an IRET or far jump) and valid for the
 * hardware's VM-entry checks (SDM Vol.3 27.3.1, APM Vol.2 15.5.1).
 */
#include <string.h>

#include "vm.h"
#include "x86.h"

const char *guest_mode_name(enum guest_mode mode)
{
	static const char *const names[NR_GUEST_MODES] = {
		[MODE_REAL] = "real",
		[MODE_PROT32] = "prot32",
		[MODE_PAGED32] = "paged32",
		[MODE_LONG64] = "long64",
	};

	return mode < NR_GUEST_MODES ? names[mode] : "?";
}

/* ---------------------------------------------------------------- segments */

/*
 * The segments of the protected and long modes. kvm_segment holds the "hidden part"
 * of a segment register as the CPU caches it: the limit in bytes (already scaled by
 * G), and the attribute bits unpacked.
 */
static const struct kvm_segment seg_code32 = {
	.base = 0, .limit = 0xffffffff, .selector = SEL_CODE32,
	.type = SEG_TYPE_CODE_XRA, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
};

static const struct kvm_segment seg_data = {
	.base = 0, .limit = 0xffffffff, .selector = SEL_DATA,
	.type = SEG_TYPE_DATA_RWA, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
};

/* In 64-bit mode base and limit of CS are ignored; L=1 requires D=0 (SDM 3.4.5). */
static const struct kvm_segment seg_code64 = {
	.base = 0, .limit = 0xffffffff, .selector = SEL_CODE64,
	.type = SEG_TYPE_CODE_XRA, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
};

static const struct kvm_segment seg_code16 = {
	.base = 0, .limit = 0xffff, .selector = SEL_CODE16,
	.type = SEG_TYPE_CODE_XRA, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 0, .g = 0,
};

/*
 * Entering a guest needs TR to hold a busy TSS (VMX checks it, SDM 27.3.1.2); the
 * TSS itself is never used because nothing here changes privilege level.
 */
static const struct kvm_segment seg_tss = {
	.base = GUEST_TSS_GPA, .limit = 0x67, .selector = SEL_TSS,
	.type = SEG_TYPE_TSS_BUSY, .present = 1, .dpl = 0, .db = 0, .s = 0, .l = 0, .g = 0,
};

/* Pack a segment into the 8-byte descriptor format of the GDT (SDM 3.4.5). */
static uint64_t desc_pack(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t d;

	d = limit & 0xffff;
	d |= (s->base & 0xffffffULL) << 16;
	d |= (uint64_t)s->type << 40;
	d |= (uint64_t)s->s << 44;
	d |= (uint64_t)s->dpl << 45;
	d |= (uint64_t)s->present << 47;
	d |= ((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)s->avl << 52;
	d |= (uint64_t)s->l << 53;
	d |= (uint64_t)s->db << 54;
	d |= (uint64_t)s->g << 55;
	d |= ((s->base >> 24) & 0xff) << 56;
	return d;
}

static void gdt_set(uint64_t *gdt, const struct kvm_segment *s)
{
	gdt[s->selector >> 3] = desc_pack(s);
}

/* ---------------------------------------------------------------- tables */

static void write_gdt(struct vm *vm)
{
	uint64_t *gdt = gpa_to_hva(vm, GUEST_GDT_GPA);

	memset(gdt, 0, GDT_ENTRIES * 8);
	gdt_set(gdt, &seg_code32);
	gdt_set(gdt, &seg_data);
	gdt_set(gdt, &seg_code64);
	gdt_set(gdt, &seg_code16);
	/* A system descriptor is 16 bytes in long mode: the upper half holds base 63:32. */
	gdt_set(gdt, &seg_tss);
	gdt[(SEL_TSS >> 3) + 1] = seg_tss.base >> 32;
}

/*
 * 32-bit paging (SDM 4.3): a page directory of 1024 entries, each mapping 4 MiB.
 * Entry 0 points to a page table (1024 x 4 KiB pages); the others are 4 MiB pages
 * (PS=1, needs CR4.PSE). So both kinds of walk are exercised.
 */
static void write_paging32(struct vm *vm)
{
	uint32_t *pd = gpa_to_hva(vm, GUEST_PD32_GPA);
	uint32_t *pt = gpa_to_hva(vm, GUEST_PT32_GPA);
	uint32_t i;

	for (i = 0; i < 1024; i++)
		pt[i] = (i << 12) | PTE_P | PTE_RW;
	pd[0] = GUEST_PT32_GPA | PTE_P | PTE_RW;
	for (i = 1; i < 1024; i++)
		pd[i] = (i << 22) | PTE_P | PTE_RW | PTE_PS;
}

/*
 * 4-level paging (SDM 4.5): PML4[0] -> PDPT, PDPT[0..3] -> four page directories
 * covering 4 GiB in 2 MiB pages, except the first 2 MiB, mapped by a page table.
 */
static void write_paging64(struct vm *vm)
{
	uint64_t *pml4 = gpa_to_hva(vm, GUEST_PML4_GPA);
	uint64_t *pdpt = gpa_to_hva(vm, GUEST_PDPT_GPA);
	uint64_t *pd = gpa_to_hva(vm, GUEST_PD64_GPA);
	uint64_t *pt = gpa_to_hva(vm, GUEST_PT64_GPA);
	uint64_t i;

	pml4[0] = GUEST_PDPT_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (GUEST_PD64_GPA + i * PAGE_SIZE) | PTE_P | PTE_RW;
	pd[0] = GUEST_PT64_GPA | PTE_P | PTE_RW;
	for (i = 1; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	for (i = 0; i < 512; i++)
		pt[i] = (i << 12) | PTE_P | PTE_RW;
}

/*
 * Write the GDT and both sets of page tables into guest memory. Memory at
 * 0..GUEST_CODE_GPA must be mapped (vm_create_guest() does that with slot 0).
 */
void vm_init_tables(struct vm *vm)
{
	write_gdt(vm);
	write_paging32(vm);
	write_paging64(vm);
}

/*
 * Point IDT entry @vector at @handler (a guest address): an interrupt gate, 8 bytes
 * in 32-bit modes, 16 in long mode (SDM 6.11, 6.14.1). Gates not set are zero, i.e.
 * not present: an exception through them escalates to #DF and then to a shutdown.
 */
void vm_set_idt_gate(struct vm *vm, enum guest_mode mode, int vector, uint64_t handler)
{
	uint32_t *gate;

	if (mode == MODE_REAL)
		test_fail("vm_set_idt_gate: real mode uses the IVT");
	if (mode == MODE_LONG64) {
		gate = gpa_to_hva(vm, GUEST_IDT_GPA + vector * 16);
		gate[0] = (handler & 0xffff) | (SEL_CODE64 << 16);
		gate[1] = (handler & 0xffff0000) | (1u << 15) | (SEG_TYPE_INT_GATE << 8);
		gate[2] = handler >> 32;
		gate[3] = 0;
	} else {
		gate = gpa_to_hva(vm, GUEST_IDT_GPA + vector * 8);
		gate[0] = (handler & 0xffff) | (SEL_CODE32 << 16);
		gate[1] = (handler & 0xffff0000) | (1u << 15) | (SEG_TYPE_INT_GATE << 8);
	}
}

/* ---------------------------------------------------------------- vCPU state */

/*
 * Real mode: CS:IP must reach the code, and CS.base = selector * 16 is how real mode
 * forms addresses, so CS = GUEST_CODE_GPA >> 4. Data segments and SS stay at base 0:
 * the layout addresses below 64 KiB (stack, data page) are reachable directly. TR,
 * LDTR, GDTR and IDTR keep what the vCPU had at reset (IDTR base 0: the IVT).
 */
static void sregs_real(struct kvm_sregs *sregs, uint64_t entry, struct kvm_regs *regs)
{
	struct kvm_segment rm = {
		.base = 0, .limit = 0xffff, .selector = 0,
		.type = SEG_TYPE_DATA_RWA, .present = 1, .s = 1,
	};

	if (entry < GUEST_CODE_GPA || entry - GUEST_CODE_GPA > 0xffff)
		test_fail("real-mode entry %#llx outside CS", (unsigned long long)entry);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = rm;
	rm.type = SEG_TYPE_CODE_XRA;
	rm.selector = GUEST_CODE_GPA >> 4;
	rm.base = GUEST_CODE_GPA;
	sregs->cs = rm;
	sregs->cr0 = X86_CR0_ET;
	sregs->cr4 = 0;
	sregs->efer = 0;
	regs->rip = entry - GUEST_CODE_GPA;
}

static void sregs_flat(struct kvm_sregs *sregs, const struct kvm_segment *cs)
{
	sregs->cs = *cs;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = seg_data;
	sregs->tr = seg_tss;
	sregs->gdt.base = GUEST_GDT_GPA;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->idt.base = GUEST_IDT_GPA;
}

/*
 * Put @vcpu in @mode with RIP at guest address @entry, RSP at GUEST_STACK_TOP,
 * RFLAGS = 2 (interrupts off) and every other general register zero. Tables must
 * have been written with vm_init_tables().
 */
void vcpu_init_mode(struct vcpu *vcpu, enum guest_mode mode, uint64_t entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = X86_RFLAGS_FIXED;
	regs.rsp = GUEST_STACK_TOP;
	regs.rip = entry;

	vcpu_get_sregs(vcpu, &sregs);
	switch (mode) {
	case MODE_REAL:
		sregs_real(&sregs, entry, &regs);
		break;
	case MODE_PROT32:
		sregs_flat(&sregs, &seg_code32);
		sregs.idt.limit = 256 * 8 - 1;
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
		sregs.cr4 = 0;
		sregs.efer = 0;
		break;
	case MODE_PAGED32:
		sregs_flat(&sregs, &seg_code32);
		sregs.idt.limit = 256 * 8 - 1;
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
		sregs.cr3 = GUEST_PD32_GPA;
		sregs.cr4 = X86_CR4_PSE;
		sregs.efer = 0;
		break;
	case MODE_LONG64:
		/*
		 * Long mode = EFER.LME + CR0.PG + CR4.PAE; the CPU reports it active in
		 * EFER.LMA, and KVM_SET_SREGS insists that LMA matches (api.rst).
		 */
		sregs_flat(&sregs, &seg_code64);
		sregs.idt.limit = 256 * 16 - 1;
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
		sregs.cr3 = GUEST_PML4_GPA;
		sregs.cr4 = X86_CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
		break;
	default:
		test_fail("bad guest mode %d", mode);
	}
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_set_regs(vcpu, &regs);
}

/* Copy @code to GUEST_CODE_GPA. */
void vm_load_code(struct vm *vm, struct guest_code code)
{
	size_t size = code.end - code.start;

	if (size > GUEST_CODE_MAX)
		test_fail("guest code is %zu bytes, more than %d", size, GUEST_CODE_MAX);
	memcpy(gpa_to_hva(vm, GUEST_CODE_GPA), code.start, size);
	vm->code = code;
}

/* The guest address of @label, a symbol inside the loaded guest code blob. */
uint64_t guest_code_gpa(struct vm *vm, const void *label)
{
	const uint8_t *l = label;

	if (l < vm->code.start || l > vm->code.end)
		test_fail("label %p is not in the loaded guest code", label);
	return GUEST_CODE_GPA + (l - vm->code.start);
}

/*
 * The usual start of a test: a VM with GUEST_MEM_SIZE of memory in slot 0 at GPA 0,
 * the tables, @code at GUEST_CODE_GPA and vCPU 0 in @mode at the start of the code.
 * vcpu->vm is the VM; vm_free() it at the end.
 */
struct vcpu *vm_create_guest(enum guest_mode mode, struct guest_code code)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	vm_load_code(vm, code);
	vcpu = vcpu_add(vm, 0);
	vcpu_init_mode(vcpu, mode, GUEST_CODE_GPA);
	return vcpu;
}
