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
#include "gpt.h"
#include "trace.h"

/* ------------------------------------------------------------------ */
/* Guest memory by virtual address                                     */
/* ------------------------------------------------------------------ */

static int mkvm_walk_read(void *opaque, u64 gpa, void *buf, int len)
{
	return mkvm_read_guest(opaque, gpa, buf, len);
}

/**
 * mkvm_gva_to_gpa() - translate a guest linear address with the guest's
 * own page tables, as the CPU would (gpt.c does the walk).
 * Return: 0, -EFAULT if the guest would take #PF, other -errno.
 */
int mkvm_gva_to_gpa(struct mkvm_vcpu *vcpu, u64 gva, bool write, u64 *gpa)
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
	return mkvm_walk_gva(&w, gva, access, gpa, NULL);
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
	/*
	 * With no interrupt controller in the kernel, there is nothing to
	 * wait for here: the VMM decides what HLT means (KVM_EXIT_HLT).
	 * RIP is already past the HLT when userspace looks, as in KVM.
	 */
	mkvm_skip_insn(vcpu);
	vcpu->stat.hlt_exits++;
	vcpu->run->exit_reason = KVM_EXIT_HLT;
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

int mkvm_emulate_io(struct mkvm_vcpu *vcpu, const struct mkvm_io *io)
{
	struct kvm_run *run = vcpu->run;
	struct mkvm_io_pending *p = &vcpu->pio;
	u32 count = 1;

	vcpu->stat.io_exits++;
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

static int mkvm_complete_pio(struct mkvm_vcpu *vcpu)
{
	struct mkvm_io_pending *p = &vcpu->pio;
	const struct mkvm_io *io = &p->io;
	u64 rax = vcpu->regs[MKVM_RAX];

	if (io->in)
		trace_kvm_pio(0, io->port, io->size, p->count, vcpu->pio_data);
	if (io->string) {
		if (io->in &&
		    mkvm_access_linear(vcpu, mkvm_string_linear(vcpu, io),
				       vcpu->pio_data, p->count * io->size,
				       true)) {
			mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
			return 1;
		}
		mkvm_string_io_done(vcpu, io, p->count);
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

static int mkvm_emulate_mmio(struct mkvm_vcpu *vcpu,
			     const struct mkvm_tdp_fault *f)
{
	struct kvm_run *run = vcpu->run;
	struct mkvm_insn insn;
	u8 code[MKVM_INSN_MAX_LEN];
	int avail = f->insn_len;
	u64 lin, val;

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
	    mkvm_decode_mmio(code, avail, mkvm_code_mode(vcpu), &insn) ||
	    insn.op > MKVM_OP_STORE_IMM)	/* MOV only, for now */
		return mkvm_exit_emulation_failed(vcpu, code, avail);

	vcpu->stat.mmio_exits++;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = f->gpa;
	run->mmio.len = insn.size;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (insn.op == MKVM_OP_LOAD) {
		/* Finished by mkvm_complete_userspace_io() with the data. */
		run->mmio.is_write = 0;
		trace_kvm_mmio(MKVM_TRACE_MMIO_READ_UNSATISFIED, insn.size,
			       f->gpa, NULL);
		vcpu->pio.kind = MKVM_PENDING_MMIO_READ;
		vcpu->pio.insn = insn;
		vcpu->pio.rip = vcpu->rip;
		return 0;
	}
	/* A store is complete once userspace has the data. */
	val = mkvm_insn_store_value(&insn, vcpu->regs[insn.reg]);
	run->mmio.is_write = 1;
	memcpy(run->mmio.data, &val, insn.size);
	trace_kvm_mmio(MKVM_TRACE_MMIO_WRITE, insn.size, f->gpa, &val);
	vcpu->rip += insn.len;
	return 0;
}

static int mkvm_complete_mmio_read(struct mkvm_vcpu *vcpu)
{
	const struct mkvm_insn *insn = &vcpu->pio.insn;
	u64 data = 0;
	int reg = insn->reg;	/* AH..BH are bits 15:8 of regs 0..3 */

	memcpy(&data, vcpu->run->mmio.data, insn->size);
	trace_kvm_mmio(MKVM_TRACE_MMIO_READ, insn->size,
		       vcpu->run->mmio.phys_addr, &data);
	vcpu->regs[reg] = mkvm_insn_load_value(insn, vcpu->regs[reg], data);
	vcpu->rip += insn->len;
	return 1;
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
	return mkvm_complete_mmio_read(vcpu);
}

/**
 * mkvm_handle_tdp_fault() - the guest touched a guest-physical page that
 * our NPT/EPT does not map (or maps readonly).
 *
 * RAM (a memslot): pin and map it, re-enter. Nothing there, or a write
 * to a readonly slot: it is MMIO, so decode the instruction and let
 * userspace emulate the device (KVM_EXIT_MMIO).
 */
int mkvm_handle_tdp_fault(struct mkvm_vcpu *vcpu,
			  const struct mkvm_tdp_fault *f)
{
	struct mkvm_memslot *slot = mkvm_gfn_to_slot(vcpu->vm,
						     f->gpa >> PAGE_SHIFT);

	trace_kvm_page_fault(vcpu, f->gpa, (f->present ? 1 : 0) |
			     (f->write ? 2 : 0) | (f->fetch ? 0x10 : 0));

	if (slot && !(f->write && (slot->flags & KVM_MEM_READONLY)))
		return mkvm_tdp_fault_in(vcpu, slot, f->gpa, f->write);
	/*
	 * A VM without any memory cannot even fetch its first instruction.
	 * KVM fails KVM_RUN with ENOSPC here (its page-table quota is sized
	 * from guest memory, and is zero); we say the same.
	 */
	if (!srcu_dereference(vcpu->vm->memslots, &vcpu->vm->srcu)->nr)
		return -ENOSPC;
	return mkvm_emulate_mmio(vcpu, f);
}

/* ------------------------------------------------------------------ */
/* CPUID                                                               */
/* ------------------------------------------------------------------ */

static const struct kvm_cpuid_entry2 *mkvm_find_cpuid(struct mkvm_vcpu *vcpu,
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
