// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: what the core does for an exit, whatever the vendor.
 *
 * Vendor code decodes, common code acts (STYLE.md 5): the SVM and VMX exit
 * handlers pull the port, size, address... out of EXITINFO or the exit
 * qualification into a neutral struct and call one of the functions here.
 * Each follows the handler contract of struct mkvm_x86_ops: return 1 to
 * re-enter the guest, 0 after filling vcpu->run for userspace, or -errno.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "minikvm.h"
#include "alu.h"
#include "gpt.h"
#include "trace.h"

/* ------------------------------------------------------------------ */
/* Guest memory by virtual address                                     */
/* ------------------------------------------------------------------ */

static int mkvm_walk_read(void *opaque, u64 gpa, void *buf, int len)
{
	return mkvm_read_guest(opaque, gpa, buf, len);
}

/* The walk of mkvm_gva_to_gpa(), also giving the #PF error code. */
static int mkvm_walk_linear(struct mkvm_vcpu *vcpu, u64 gva, bool write,
			    u64 *gpa, u32 *pf_error)
{
	struct mkvm_walk w = {
		.cr0 = mkvm_ops->get_cr(vcpu, 0),
		.cr3 = mkvm_ops->get_cr(vcpu, 3),
		.cr4 = mkvm_ops->get_cr(vcpu, 4),
		.efer = vcpu->efer,
		.read_gpa = mkvm_walk_read,
		.opaque = vcpu,
	};
	unsigned int access = write ? MKVM_WALK_WRITE : 0;

	if (mkvm_ops->get_cpl(vcpu) == 3)
		access |= MKVM_WALK_USER;
	return mkvm_walk_gva(&w, gva, access, gpa, pf_error);
}

/**
 * mkvm_gva_to_gpa() - translate a guest linear address with the guest's
 * own page tables, as the CPU would (gpt.c does the walk).
 * Return: 0, -EFAULT if the guest would take #PF, other -errno.
 */
int mkvm_gva_to_gpa(struct mkvm_vcpu *vcpu, u64 gva, bool write, u64 *gpa)
{
	return mkvm_walk_linear(vcpu, gva, write, gpa, NULL);
}

/* Copy @len bytes at guest linear address @lin, page by page. */
static int mkvm_access_linear(struct mkvm_vcpu *vcpu, u64 lin, void *buf,
			      int len, bool write)
{
	while (len > 0) {
		int n = min_t(int, len, PAGE_SIZE - offset_in_page(lin));
		u64 gpa;
		int r;

		r = mkvm_gva_to_gpa(vcpu, lin, write, &gpa);
		if (!r)
			r = write ? mkvm_write_guest(vcpu, gpa, buf, n) :
				    mkvm_read_guest(vcpu, gpa, buf, n);
		if (r)
			return r;
		lin += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static u64 mkvm_seg_base(struct mkvm_vcpu *vcpu, int seg)
{
	struct kvm_segment s;

	mkvm_ops->get_segment(vcpu, &s, seg);
	return s.base;
}

/* 16, 32 or 64: the code size of the current CS (SDM Vol.3 5.2.1). */
static int mkvm_code_mode(struct mkvm_vcpu *vcpu)
{
	struct kvm_segment cs;

	mkvm_ops->get_segment(vcpu, &cs, MKVM_CS);
	if ((vcpu->efer & MKVM_EFER_LMA) && cs.l)
		return 64;
	return cs.db ? 32 : 16;
}

/* ------------------------------------------------------------------ */
/* Exits that go to userspace as they are                              */
/* ------------------------------------------------------------------ */

int mkvm_emulate_hlt(struct mkvm_vcpu *vcpu)
{
	mkvm_skip_insn(vcpu);
	vcpu->stat.hlt_exits++;
	/*
	 * With the LAPIC in the kernel, HLT waits here for an interrupt: the
	 * run loop puts a HALTED vCPU to sleep (vcpu.c). Without it there is
	 * nothing to wait for: the VMM decides what HLT means (KVM_EXIT_HLT).
	 * RIP is already past the HLT when userspace looks, as in KVM.
	 */
	if (vcpu->apic) {
		vcpu->mp_state = KVM_MP_STATE_HALTED;
		return 1;
	}
	vcpu->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

/*
 * MOV to CR8 (both vendors exit on it: with the APIC in userspace the TPR
 * is the VMM's). Bits 63:4 are reserved: #GP(0). Lowering the TPR may
 * unmask an interrupt the VMM holds back, so it gets control right away:
 * KVM_EXIT_SET_TPR, as KVM. The exit length must be set.
 */
int mkvm_emulate_set_cr8(struct mkvm_vcpu *vcpu, u64 val)
{
	u64 old = mkvm_ops->get_cr(vcpu, 8);

	if (val & ~0xfULL) {
		mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
		return 1;
	}
	mkvm_skip_insn(vcpu);
	/* The in-kernel APIC keeps the TPR: nothing for userspace. */
	if (vcpu->apic) {
		mkvm_lapic_set_cr8(vcpu, val);
		return 1;
	}
	mkvm_ops->set_cr(vcpu, 8, val);
	if (val >= old)
		return 1;
	vcpu->run->exit_reason = KVM_EXIT_SET_TPR;
	return 0;
}

int mkvm_exit_shutdown(struct mkvm_vcpu *vcpu)
{
	/* Triple fault: a real CPU would reset; the VMM decides. */
	vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
	return 0;
}

int mkvm_exit_fail_entry(struct mkvm_vcpu *vcpu, u64 reason)
{
	vcpu->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_entry_failure_reason = reason;
	vcpu->run->fail_entry.cpu = vcpu->cpu;
	return 0;
}

/*
 * An exit no table entry handles. Never a host problem: the VMM learns
 * the raw code (data[0]) and where it happened, and decides.
 */
int mkvm_exit_unexpected(struct mkvm_vcpu *vcpu, u64 code, u64 info1,
			 u64 info2)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	run->internal.ndata = 4;
	run->internal.data[0] = code;
	run->internal.data[1] = vcpu->cpu;
	run->internal.data[2] = info1;
	run->internal.data[3] = info2;
	return 0;
}

/* We could not emulate an instruction: say so, with its bytes. */
static int mkvm_exit_emulation_failed(struct mkvm_vcpu *vcpu, const u8 *insn,
				      int len)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.ndata = 3;
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = len;
	memset(run->emulation_failure.insn_bytes, 0,
	       sizeof(run->emulation_failure.insn_bytes));
	if (len)
		memcpy(run->emulation_failure.insn_bytes, insn, len);
	return 0;
}

/**
 * mkvm_queue_exception() - deliver an exception at the next entry.
 *
 * A second exception while one is queued becomes #DF (SDM Vol.3 6.15,
 * Table 6-5, simplified: we do not distinguish benign classes).
 */
void mkvm_queue_exception(struct mkvm_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error)
{
	struct mkvm_pending_event *e = &vcpu->event;

	/* An NMI on its way in waits for the exception (events.c). */
	if (e->pending && e->is_nmi) {
		if (vcpu->nmi_pending < 2)
			vcpu->nmi_pending++;
		e->pending = false;
	}
	if (e->pending && !e->is_irq && e->vector != MKVM_DF_VECTOR) {
		vector = MKVM_DF_VECTOR;
		has_error = true;
		error = 0;
	}
	*e = (struct mkvm_pending_event){
		.pending = true, .vector = vector,
		.has_error = has_error, .error = error,
	};
}

/* ------------------------------------------------------------------ */
/* Port I/O                                                            */
/* ------------------------------------------------------------------ */

/* Register value masked to the address size of a string instruction. */
static u64 mkvm_addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/*
 * INS/OUTS (with or without REP). We move as many elements as fit in the
 * PIO page in one exit (the KVM ABI has run->io.count for that) and let
 * the instruction run again for the rest: like the CPU, which may take
 * an interrupt between iterations of a REP string instruction.
 */
static int mkvm_string_io_count(struct mkvm_vcpu *vcpu,
				const struct mkvm_io *io)
{
	u64 rcx = vcpu->regs[MKVM_RCX] & mkvm_addr_mask(io->addr_size);
	u64 count = io->rep ? rcx : 1;

	/* Going backwards (RFLAGS.DF): one element at a time, simply. */
	if (vcpu->rflags & BIT(10))
		return min_t(u64, count, 1);
	return min_t(u64, count, PAGE_SIZE / io->size);
}

/* Where a string instruction's memory operand is: DS:rSI or ES:rDI. */
static u64 mkvm_string_linear(struct mkvm_vcpu *vcpu, const struct mkvm_io *io)
{
	u64 mask = mkvm_addr_mask(io->addr_size);

	if (io->in)
		return mkvm_seg_base(vcpu, MKVM_ES) +
			(vcpu->regs[MKVM_RDI] & mask);
	return mkvm_seg_base(vcpu, io->seg) + (vcpu->regs[MKVM_RSI] & mask);
}

/* After @count elements: advance rSI/rDI, count down rCX, maybe RIP. */
static void mkvm_string_io_done(struct mkvm_vcpu *vcpu,
				const struct mkvm_io *io, u32 count)
{
	u64 mask = mkvm_addr_mask(io->addr_size);
	int reg = io->in ? MKVM_RDI : MKVM_RSI;
	s64 step = (s64)count * io->size;

	if (vcpu->rflags & BIT(10))
		step = -step;
	vcpu->regs[reg] = (vcpu->regs[reg] & ~mask) |
			  ((vcpu->regs[reg] + step) & mask);
	if (io->rep) {
		u64 rcx = (vcpu->regs[MKVM_RCX] & mask) - count;

		vcpu->regs[MKVM_RCX] = (vcpu->regs[MKVM_RCX] & ~mask) |
				       (rcx & mask);
		if (rcx & mask)
			return;		/* more to do: run it again */
	}
	vcpu->rip = io->next_rip;
}

/**
 * mkvm_emulate_io() - a guest IN/OUT/INS/OUTS: hand it to userspace.
 *
 * The data goes through the second page of the vCPU mmap (run->io.
 * data_offset). For OUT, the bytes are there when userspace looks; for IN,
 * userspace puts them there and the next KVM_RUN finishes the instruction
 * (mkvm_complete_userspace_io()).
 */
/*
 * Copy the 1, 2 or 4 bytes of one port access between RAX and the PIO
 * data page (both aligned: a GPR, the start of a page): inline moves,
 * not a call to memcpy(), on the path of every OUT and IN to userspace.
 */
static __always_inline void mkvm_pio_copy(void *dst, const void *src, u8 size)
{
	switch (size) {
	case 1:
		*(u8 *)dst = *(const u8 *)src;
		break;
	case 2:
		*(u16 *)dst = *(const u16 *)src;
		break;
	default:
		*(u32 *)dst = *(const u32 *)src;
		break;
	}
}

/*
 * IN/OUT to a port of an in-kernel device: done here, no exit. True if a
 * device took it (RIP and RAX are then updated).
 */
static bool mkvm_kernel_pio(struct mkvm_vcpu *vcpu, const struct mkvm_io *io)
{
	u64 rax = vcpu->regs[MKVM_RAX];
	u32 val = 0;

	if (io->in) {
		if (mkvm_io_bus_read(vcpu, MKVM_PIO_BUS, io->port, io->size,
				     &val))
			return false;
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends. */
		if (io->size == 4)
			rax = 0;
		mkvm_pio_copy(&rax, &val, io->size);
		vcpu->regs[MKVM_RAX] = rax;
	} else {
		mkvm_pio_copy(&val, &rax, io->size);
		if (mkvm_io_bus_write(vcpu, MKVM_PIO_BUS, io->port, io->size,
				      &val))
			return false;
	}
	trace_kvm_pio(!io->in, io->port, io->size, 1, &val);
	vcpu->rip = io->next_rip;
	return true;
}

int mkvm_emulate_io(struct mkvm_vcpu *vcpu, const struct mkvm_io *io)
{
	struct kvm_run *run = vcpu->run;
	struct mkvm_io_pending *p = &vcpu->pio;
	u32 count = 1;

	vcpu->stat.io_exits++;
	/* A port an in-kernel device (PIC, PIT, ioeventfd) answers itself. */
	if (!io->string && mkvm_kernel_pio(vcpu, io))
		return 1;
	if (io->string) {
		count = mkvm_string_io_count(vcpu, io);
		if (!count) {		/* REP with rCX = 0: nothing at all */
			vcpu->rip = io->next_rip;
			return 1;
		}
		if (!io->in &&
		    mkvm_access_linear(vcpu, mkvm_string_linear(vcpu, io),
				       vcpu->pio_data, count * io->size, false))
			goto fault;
	} else if (!io->in) {
		mkvm_pio_copy(vcpu->pio_data, &vcpu->regs[MKVM_RAX], io->size);
	}
	if (!io->in)
		trace_kvm_pio(1, io->port, io->size, count, vcpu->pio_data);

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = io->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.count = count;
	run->io.data_offset = MKVM_PIO_PAGE_OFFSET * PAGE_SIZE;

	p->kind = MKVM_PENDING_PIO;
	p->io = *io;
	p->count = count;
	p->rip = vcpu->rip;
	return 0;

fault:
	/* The guest's buffer is not mapped: what the CPU does is #PF/#GP. */
	mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
	return 1;
}

/*
 * How many of the @count elements of the last string I/O exit the
 * instruction still takes. Userspace may change rCX during the exit (with
 * KVM_SET_REGS): each element of a REP string instruction counts rCX down
 * by one and the instruction ends at zero (SDM Vol.2 "REP/REPE/REPZ..."),
 * so a lowered rCX takes fewer elements than the exit carried (the rest of
 * the data is dropped, as KVM drops it) and a raised one leaves more for
 * further exits. Never more than the exit carried: the PIO page holds
 * only that much.
 */
static u32 mkvm_string_io_left(struct mkvm_vcpu *vcpu,
			       const struct mkvm_io *io, u32 count)
{
	u64 rcx = vcpu->regs[MKVM_RCX] & mkvm_addr_mask(io->addr_size);

	return io->rep ? min_t(u64, count, rcx) : count;
}

static int mkvm_complete_pio(struct mkvm_vcpu *vcpu)
{
	struct mkvm_io_pending *p = &vcpu->pio;
	const struct mkvm_io *io = &p->io;
	u64 rax = vcpu->regs[MKVM_RAX];

	if (io->in)
		trace_kvm_pio(0, io->port, io->size, p->count, vcpu->pio_data);
	if (io->string) {
		u32 count = mkvm_string_io_left(vcpu, io, p->count);

		if (io->in && count &&
		    mkvm_access_linear(vcpu, mkvm_string_linear(vcpu, io),
				       vcpu->pio_data, count * io->size,
				       true)) {
			mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
			return 1;
		}
		mkvm_string_io_done(vcpu, io, count);
		return 1;
	}
	if (io->in) {
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends. */
		if (io->size == 4)
			rax = 0;
		mkvm_pio_copy(&rax, vcpu->pio_data, io->size);
		vcpu->regs[MKVM_RAX] = rax;
	}
	vcpu->rip = io->next_rip;
	return 1;
}

/* ------------------------------------------------------------------ */
/* MMIO: guest-physical accesses no memslot backs                      */
/* ------------------------------------------------------------------ */

/*
 * An instruction whose memory operand is MMIO cannot finish in the guest:
 * we carry it out. Each instruction (each element of a string
 * instruction) reads its memory operand at most once and writes it at
 * most once, and each access goes where the address leads: guest RAM (a
 * memslot) we read or write ourselves, through the VMM's mapping; MMIO
 * becomes one KVM_EXIT_MMIO of the access's size.
 *
 *   read exit   the instruction waits in vcpu->pio (MKVM_PENDING_MMIO_READ)
 *               for the next KVM_RUN, which brings the data in run->mmio;
 *               meanwhile RIP and the registers are as before it, as in
 *               KVM (KVM_GET_REGS shows RIP at the instruction).
 *   write exit  the instruction is finished before userspace sees it: RIP,
 *               registers and flags have moved on, as in KVM; the next
 *               KVM_RUN just enters the guest. (One nuance: after the last
 *               element of a REP instruction KVM's emulator leaves RIP at
 *               it with rCX = 0, and the guest runs it once more as a
 *               no-op; we step past it, as the CPU would.)
 *
 * So "or dword [mmio], 0x80" is a read exit, then (in the KVM_RUN that
 * brings the value) a write exit of value | 0x80; "add eax, [mmio]" and
 * "cmp [mmio], 0" are a read exit only; "rep movsb" from RAM to MMIO is one
 * write exit per byte.
 */

/*
 * MMIO that the kernel answers: this vCPU's LAPIC page first (each vCPU
 * sees its own APIC at the same address), then the MMIO bus (the IOAPIC,
 * ioeventfds). 0 if taken, -EOPNOTSUPP if it is for userspace.
 */
static int mkvm_kernel_mmio(struct mkvm_vcpu *vcpu, u64 gpa, int size,
			    void *val, bool write)
{
	if (vcpu->apic && !mkvm_lapic_mmio(vcpu, gpa, size, val, write))
		return 0;
	if (write)
		return mkvm_io_bus_write(vcpu, MKVM_MMIO_BUS, gpa, size, val);
	return mkvm_io_bus_read(vcpu, MKVM_MMIO_BUS, gpa, size, val);
}

/* Is @gpa RAM for this access? A read-only slot is RAM only for reads. */
static bool mkvm_gpa_is_ram(struct mkvm_vcpu *vcpu, u64 gpa, bool write)
{
	struct mkvm_memslot *slot = mkvm_vcpu_gfn_to_slot(vcpu,
							  gpa >> PAGE_SHIFT);

	return slot && !(write && (slot->flags & KVM_MEM_READONLY));
}

static int mkvm_mmio_finish(struct mkvm_vcpu *vcpu,
			    const struct mkvm_insn *insn, u64 gpa, u64 data);

/* Ask userspace for @insn->size bytes at @gpa; see the comment above. */
static int mkvm_mmio_read_exit(struct mkvm_vcpu *vcpu,
			       const struct mkvm_insn *insn, u64 gpa)
{
	struct kvm_run *run = vcpu->run;
	u64 data = 0;

	/* The LAPIC page, the IOAPIC: answered in the kernel. */
	if (!mkvm_kernel_mmio(vcpu, gpa, insn->size, &data, false)) {
		trace_kvm_mmio(MKVM_TRACE_MMIO_READ, insn->size, gpa, &data);
		return mkvm_mmio_finish(vcpu, insn, gpa, data);
	}

	vcpu->stat.mmio_exits++;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = insn->size;
	run->mmio.is_write = 0;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	trace_kvm_mmio(MKVM_TRACE_MMIO_READ_UNSATISFIED, insn->size, gpa, NULL);

	vcpu->pio.kind = MKVM_PENDING_MMIO_READ;
	vcpu->pio.insn = *insn;
	vcpu->pio.gpa = gpa;
	vcpu->pio.rip = vcpu->rip;
	return 0;
}

/*
 * Write @size bytes of @val at @gpa: to RAM if it is RAM after all (our
 * caller only knows the address is not plain guest memory to the
 * hardware), else to userspace as a write exit. The caller has already
 * moved RIP and the registers on.
 */
static int mkvm_mmio_write(struct mkvm_vcpu *vcpu, u64 gpa, u64 val, int size)
{
	struct kvm_run *run = vcpu->run;

	if (mkvm_gpa_is_ram(vcpu, gpa, true))
		return mkvm_write_guest(vcpu, gpa, &val, size) ?
			mkvm_exit_emulation_failed(vcpu, NULL, 0) : 1;
	if (!mkvm_kernel_mmio(vcpu, gpa, size, &val, true)) {
		trace_kvm_mmio(MKVM_TRACE_MMIO_WRITE, size, gpa, &val);
		return 1;
	}

	vcpu->stat.mmio_exits++;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = 1;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &val, size);
	trace_kvm_mmio(MKVM_TRACE_MMIO_WRITE, size, gpa, &val);
	return 0;
}

/* ---- read-modify-write and friends ---- */

/*
 * ALU_MEM, ALU_REG: the memory operand's old value is @data. Compute as
 * the CPU would (alu.c), keep the result where the instruction says and
 * the status flags in RFLAGS. CMP and TEST keep only the flags.
 */
static int mkvm_mmio_alu(struct mkvm_vcpu *vcpu, const struct mkvm_insn *insn,
			 u64 gpa, u64 data)
{
	unsigned long *reg = &vcpu->regs[insn->reg];
	u64 regval = mkvm_insn_reg_value(insn, *reg);
	u64 rflags = vcpu->rflags;
	bool writes = mkvm_alu_writes(insn->alu);
	u64 res;

	if (insn->op == MKVM_OP_ALU_REG) {
		res = mkvm_alu(insn->alu, insn->size, regval, data, &rflags);
		if (writes)
			*reg = mkvm_insn_reg_write(insn, *reg, res);
	} else {
		res = mkvm_alu(insn->alu, insn->size, data,
			       insn->has_imm ? insn->imm : regval, &rflags);
	}
	vcpu->rflags = rflags;
	vcpu->rip += insn->len;
	if (insn->op == MKVM_OP_ALU_MEM && writes)
		return mkvm_mmio_write(vcpu, gpa, res, insn->size);
	return 1;
}

/*
 * XCHG: the register takes the old memory value, memory takes the
 * register's. (Always locked on a CPU, SDM Vol.2 XCHG; a device sees a
 * read then a write either way.)
 */
static int mkvm_mmio_xchg(struct mkvm_vcpu *vcpu, const struct mkvm_insn *insn,
			  u64 gpa, u64 data)
{
	unsigned long *reg = &vcpu->regs[insn->reg];
	u64 old = mkvm_insn_reg_value(insn, *reg);

	*reg = mkvm_insn_reg_write(insn, *reg, data);
	vcpu->rip += insn->len;
	return mkvm_mmio_write(vcpu, gpa, old, insn->size);
}

/* ---- string instructions ---- */

/*
 * One element at a time (SDM Vol.2 "MOVS", "STOS", "LODS", "REP/REPE/
 * REPZ/REPNE/REPNZ"): move @insn->size bytes, step rSI and/or rDI by
 * that much (down if RFLAGS.DF is set), and with REP count rCX down. If
 * rCX is not 0 yet, RIP stays at the instruction and the guest simply
 * runs it again: a REP string instruction may be interrupted between
 * iterations with its registers up to date and resumes where it was, so
 * this is what a CPU taking an interrupt there would leave. The next
 * element that touches MMIO exits again and comes back here.
 *
 * The registers are cut to the address size (67 prefix); like KVM we
 * keep the bits above it. Segment limits are not checked.
 */

/* The decoder's segment numbers (insn->seg) are our segment indexes. */
static_assert(MKVM_INSN_SEG_ES == MKVM_ES && MKVM_INSN_SEG_CS == MKVM_CS &&
	      MKVM_INSN_SEG_SS == MKVM_SS && MKVM_INSN_SEG_DS == MKVM_DS &&
	      MKVM_INSN_SEG_FS == MKVM_FS && MKVM_INSN_SEG_GS == MKVM_GS);

/* reg = reg + @step within the address size, the bits above unchanged. */
static void mkvm_string_step(struct mkvm_vcpu *vcpu, int reg, u64 step,
			     u64 mask)
{
	vcpu->regs[reg] = (vcpu->regs[reg] & ~mask) |
			  ((vcpu->regs[reg] + step) & mask);
}

static void mkvm_string_advance(struct mkvm_vcpu *vcpu,
				const struct mkvm_insn *insn)
{
	u64 mask = mkvm_addr_mask(insn->addr_size);
	u64 step = (vcpu->rflags & MKVM_FLAG_DF) ? -(u64)insn->size :
						   insn->size;

	if (insn->op != MKVM_OP_STOS)
		mkvm_string_step(vcpu, MKVM_RSI, step, mask);
	if (insn->op != MKVM_OP_LODS)
		mkvm_string_step(vcpu, MKVM_RDI, step, mask);
	if (insn->rep) {
		mkvm_string_step(vcpu, MKVM_RCX, -1ULL, mask);
		if (vcpu->regs[MKVM_RCX] & mask)
			return;		/* more to do: run it again */
	}
	vcpu->rip += insn->len;
}

/*
 * The linear address of a string operand: segment base + rSI or rDI.
 * In 64-bit mode only FS and GS have a base (SDM Vol.1 3.3.7.1); outside
 * it linear addresses are 32 bits wide.
 */
static u64 mkvm_string_linear_addr(struct mkvm_vcpu *vcpu,
				   const struct mkvm_insn *insn, int reg,
				   int seg)
{
	u64 off = vcpu->regs[reg] & mkvm_addr_mask(insn->addr_size);

	if (mkvm_code_mode(vcpu) == 64)
		return seg == MKVM_FS || seg == MKVM_GS ?
			mkvm_seg_base(vcpu, seg) + off : off;
	return (u32)(mkvm_seg_base(vcpu, seg) + off);
}

/*
 * Translate a string operand's linear address with the guest's page
 * tables. If the guest would fault, queue what the CPU would deliver:
 * #PF with CR2 = the address, or #GP for a non-canonical one. The
 * instruction has not changed anything yet, so RIP stays at it and the
 * guest's handler sees a clean fault.
 */
static int mkvm_string_translate(struct mkvm_vcpu *vcpu, u64 lin, bool write,
				 u64 *gpa)
{
	u32 pf_error = 0;
	int r = mkvm_walk_linear(vcpu, lin, write, gpa, &pf_error);

	if (r == -EFAULT) {
		mkvm_ops->set_cr(vcpu, 2, lin);
		mkvm_queue_exception(vcpu, MKVM_PF_VECTOR, true, pf_error);
	} else if (r) {
		mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
	}
	return r;
}

/*
 * A string element in RAM. It may run into the next page, which is
 * mapped separately: then go page by page through the linear address.
 */
static int mkvm_string_ram(struct mkvm_vcpu *vcpu, u64 lin, u64 gpa,
			   u64 *val, int size, bool write)
{
	if (offset_in_page(lin) + size > PAGE_SIZE)
		return mkvm_access_linear(vcpu, lin, val, size, write);
	return write ? mkvm_write_guest(vcpu, gpa, val, size) :
		       mkvm_read_guest(vcpu, gpa, val, size);
}

/* The second half of an element: @val has been read; put it in place. */
static int mkvm_string_store(struct mkvm_vcpu *vcpu,
			     const struct mkvm_insn *insn, u64 val)
{
	u64 lin, gpa;

	if (insn->op == MKVM_OP_LODS) {
		vcpu->regs[MKVM_RAX] = mkvm_insn_load_value(insn,
						vcpu->regs[MKVM_RAX], val);
		mkvm_string_advance(vcpu, insn);
		return 1;
	}
	/* MOVS and STOS write to ES:rDI; no override (SDM Vol.2 MOVS). */
	lin = mkvm_string_linear_addr(vcpu, insn, MKVM_RDI, MKVM_ES);
	if (mkvm_string_translate(vcpu, lin, true, &gpa))
		return 1;
	if (mkvm_gpa_is_ram(vcpu, gpa, true)) {
		if (mkvm_string_ram(vcpu, lin, gpa, &val, insn->size, true))
			return mkvm_exit_emulation_failed(vcpu, NULL, 0);
		mkvm_string_advance(vcpu, insn);
		return 1;
	}
	mkvm_string_advance(vcpu, insn);
	return mkvm_mmio_write(vcpu, gpa, val, insn->size);
}

/* MOVS, STOS, LODS: one element, starting with its read. */
static int mkvm_emulate_string(struct mkvm_vcpu *vcpu,
			       const struct mkvm_insn *insn)
{
	u64 mask = mkvm_addr_mask(insn->addr_size);
	u64 lin, gpa, val = 0;

	/* REP with rCX = 0 does nothing at all (the CPU would not exit). */
	if (insn->rep && !(vcpu->regs[MKVM_RCX] & mask)) {
		vcpu->rip += insn->len;
		return 1;
	}
	if (insn->op == MKVM_OP_STOS)
		return mkvm_string_store(vcpu, insn,
			mkvm_insn_reg_value(insn, vcpu->regs[MKVM_RAX]));

	/* MOVS and LODS read seg:rSI, DS unless overridden. */
	lin = mkvm_string_linear_addr(vcpu, insn, MKVM_RSI, insn->seg);
	if (mkvm_string_translate(vcpu, lin, false, &gpa))
		return 1;
	if (!mkvm_gpa_is_ram(vcpu, gpa, false))
		return mkvm_mmio_read_exit(vcpu, insn, gpa);
	if (mkvm_string_ram(vcpu, lin, gpa, &val, insn->size, false))
		return mkvm_exit_emulation_failed(vcpu, NULL, 0);
	return mkvm_string_store(vcpu, insn, val);
}

/* ---- the two halves: decode and read; then act on the value ---- */

/* After the read (from userspace or RAM): finish the instruction. */
static int mkvm_mmio_finish(struct mkvm_vcpu *vcpu,
			    const struct mkvm_insn *insn, u64 gpa, u64 data)
{
	unsigned long *reg = &vcpu->regs[insn->reg];

	switch (insn->op) {
	case MKVM_OP_LOAD:
		/* AH..BH are bits 15:8 of regs 0..3: insn->reg says which. */
		*reg = mkvm_insn_load_value(insn, *reg, data);
		vcpu->rip += insn->len;
		return 1;
	case MKVM_OP_ALU_MEM:
	case MKVM_OP_ALU_REG:
		return mkvm_mmio_alu(vcpu, insn, gpa, data);
	case MKVM_OP_XCHG:
		return mkvm_mmio_xchg(vcpu, insn, gpa, data);
	default:		/* MOVS, LODS */
		return mkvm_string_store(vcpu, insn, data);
	}
}

/*
 * The read of a LOAD, ALU or XCHG at @gpa. Usually MMIO: a read exit. But
 * a write to a read-only slot (ROM) also lands here, and its read half is
 * ordinary memory: then no exit for the read, only for the write.
 */
static int mkvm_mmio_read(struct mkvm_vcpu *vcpu, const struct mkvm_insn *insn,
			  u64 gpa)
{
	u64 data = 0;

	if (!mkvm_gpa_is_ram(vcpu, gpa, false))
		return mkvm_mmio_read_exit(vcpu, insn, gpa);
	if (mkvm_read_guest(vcpu, gpa, &data, insn->size))
		return mkvm_exit_emulation_failed(vcpu, NULL, 0);
	return mkvm_mmio_finish(vcpu, insn, gpa, data);
}

static int mkvm_emulate_mmio(struct mkvm_vcpu *vcpu,
			     const struct mkvm_tdp_fault *f)
{
	struct mkvm_insn insn;
	u8 code[MKVM_INSN_MAX_LEN];
	int avail = f->insn_len;
	u64 lin;

	if (avail) {
		memcpy(code, f->insn, avail);
	} else {
		/* Fetch at CS:RIP; the tail may be on an unmapped page. */
		lin = mkvm_seg_base(vcpu, MKVM_CS) + vcpu->rip;
		avail = min_t(int, sizeof(code), PAGE_SIZE - offset_in_page(lin));
		if (mkvm_access_linear(vcpu, lin, code, avail, false))
			return mkvm_exit_emulation_failed(vcpu, code, 0);
		if (avail < sizeof(code) &&
		    !mkvm_access_linear(vcpu, lin + avail, code + avail,
					sizeof(code) - avail, false))
			avail = sizeof(code);
	}
	if (f->fetch ||
	    mkvm_decode_mmio(code, avail, mkvm_code_mode(vcpu), &insn))
		return mkvm_exit_emulation_failed(vcpu, code, avail);

	switch (insn.op) {
	case MKVM_OP_STORE:
	case MKVM_OP_STORE_IMM:
		/* A store is complete once userspace has the data. */
		vcpu->rip += insn.len;
		return mkvm_mmio_write(vcpu, f->gpa,
				       mkvm_insn_store_value(&insn,
						vcpu->regs[insn.reg]),
				       insn.size);
	case MKVM_OP_MOVS:
	case MKVM_OP_STOS:
	case MKVM_OP_LODS:
		/* Addresses from rSI/rDI: f->gpa is one of them. */
		return mkvm_emulate_string(vcpu, &insn);
	default:
		return mkvm_mmio_read(vcpu, &insn, f->gpa);
	}
}

/* The data of a read exit has come: go on with the instruction. */
static int mkvm_complete_mmio_read(struct mkvm_vcpu *vcpu)
{
	struct mkvm_insn insn = vcpu->pio.insn;
	u64 data = 0;

	memcpy(&data, vcpu->run->mmio.data, insn.size);
	trace_kvm_mmio(MKVM_TRACE_MMIO_READ, insn.size, vcpu->pio.gpa, &data);
	return mkvm_mmio_finish(vcpu, &insn, vcpu->pio.gpa, data);
}

/**
 * mkvm_complete_userspace_io() - finish what the last exit left pending.
 *
 * Called at the start of KVM_RUN. If userspace changed RIP meanwhile (it
 * may, with KVM_SET_REGS), the instruction is abandoned, as in KVM.
 */
int mkvm_complete_userspace_io(struct mkvm_vcpu *vcpu)
{
	int kind = vcpu->pio.kind;

	vcpu->pio.kind = MKVM_PENDING_NONE;
	if (kind == MKVM_PENDING_NONE || vcpu->rip != vcpu->pio.rip)
		return 1;
	if (kind == MKVM_PENDING_PIO)
		return mkvm_complete_pio(vcpu);
	if (kind == MKVM_PENDING_MSR)
		return mkvm_complete_user_msr(vcpu);
	return mkvm_complete_mmio_read(vcpu);
}

/**
 * mkvm_handle_tdp_fault() - the guest touched a guest-physical page that
 * our NPT/EPT does not map (or maps readonly).
 *
 * RAM (a memslot): map it, re-enter. Nothing there, or a write
 * to a readonly slot: it is MMIO, so decode the instruction and let
 * userspace emulate the device (KVM_EXIT_MMIO).
 */
int mkvm_handle_tdp_fault(struct mkvm_vcpu *vcpu,
			  const struct mkvm_tdp_fault *f)
{
	struct mkvm_memslot *slot = mkvm_vcpu_gfn_to_slot(vcpu,
							  f->gpa >> PAGE_SHIFT);

	trace_kvm_page_fault(vcpu, f->gpa, (f->present ? 1 : 0) |
			     (f->write ? 2 : 0) | (f->fetch ? 0x10 : 0));

	if (slot && !(f->write && (slot->flags & KVM_MEM_READONLY)))
		return mkvm_tdp_fault_in(vcpu, slot, f->gpa, f->write);
	/*
	 * A VM without any memory cannot even fetch its first instruction.
	 * KVM fails KVM_RUN with ENOSPC here (its page-table quota is sized
	 * from guest memory, and is zero); we say the same, unless the VMM
	 * set a quota (KVM_SET_NR_MMU_PAGES) or the VM had memory once (KVM
	 * sized its quota then, and keeps it, at least 64 pages): then, as
	 * on KVM, the access is MMIO or, for a fetch, fails as emulation.
	 */
	if (!srcu_dereference(vcpu->vm->memslots[0], &vcpu->vm->srcu)->nr &&
	    !READ_ONCE(vcpu->vm->nr_mmu_pages) && !READ_ONCE(vcpu->vm->had_memory))
		return -ENOSPC;
	return mkvm_emulate_mmio(vcpu, f);
}

/* ------------------------------------------------------------------ */
/* CPUID                                                               */
/* ------------------------------------------------------------------ */

const struct kvm_cpuid_entry2 *mkvm_find_cpuid(struct mkvm_vcpu *vcpu,
					       u32 fn, u32 idx)
{
	int i;

	for (i = 0; i < vcpu->nr_cpuid; i++) {
		const struct kvm_cpuid_entry2 *e = &vcpu->cpuid[i];

		if (e->function != fn)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != idx)
			continue;
		return e;
	}
	return NULL;
}

/**
 * mkvm_emulate_cpuid() - CPUID, answered in the kernel from the table
 * userspace gave with KVM_SET_CPUID2 (none: all zeros, as KVM).
 *
 * A leaf above the maximum reports the highest basic leaf, as Intel CPUs
 * do (SDM Vol.2 CPUID, "If a value entered... is higher than the maximum").
 */
int mkvm_emulate_cpuid(struct mkvm_vcpu *vcpu)
{
	u32 fn = vcpu->regs[MKVM_RAX], idx = vcpu->regs[MKVM_RCX];
	const struct kvm_cpuid_entry2 *e, *max;
	bool used_max = false;

	vcpu->stat.cpuid_exits++;
	/* CPUID faulting on, outside ring 0: #GP(0) (features.c). */
	if (mkvm_cpuid_faults(vcpu)) {
		mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
		return 1;
	}
	/* OSXSAVE and the XSAVE sizes follow CR4 and XCR0 (cpuid.c). */
	if (fn == 1 || fn == 0xd)
		mkvm_cpuid_update_runtime(vcpu);
	e = mkvm_find_cpuid(vcpu, fn, idx);
	if (!e) {
		max = mkvm_find_cpuid(vcpu, fn & 0x80000000, 0);
		if (max && fn > max->eax) {
			max = mkvm_find_cpuid(vcpu, 0, 0);
			if (max)
				e = mkvm_find_cpuid(vcpu, max->eax, idx);
			used_max = !!e;
		}
	}
	vcpu->regs[MKVM_RAX] = e ? e->eax : 0;
	vcpu->regs[MKVM_RBX] = e ? e->ebx : 0;
	vcpu->regs[MKVM_RCX] = e ? e->ecx : 0;
	vcpu->regs[MKVM_RDX] = e ? e->edx : 0;
	trace_kvm_cpuid(fn, idx, vcpu->regs[MKVM_RAX], vcpu->regs[MKVM_RBX],
			vcpu->regs[MKVM_RCX], vcpu->regs[MKVM_RDX],
			e && !used_max, used_max);
	mkvm_skip_insn(vcpu);
	return 1;
}
