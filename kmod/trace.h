/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm tracepoints, in the "kvm" trace system.
 *
 * The names, field names and field types are those of kvm.ko's events, so
 * the tools people already use on KVM work here unchanged:
 *
 *   perf kvm stat record/report     (reads kvm:kvm_entry / kvm:kvm_exit)
 *   bpftrace -e 'tracepoint:kvm:kvm_exit { @[args->exit_reason] = count(); }'
 *   echo 1 > /sys/kernel/tracing/events/kvm/enable; cat .../trace_pipe
 *
 * A disabled tracepoint costs one patched-out jump (a static key), and the
 * work inside TP_fast_assign (e.g. asking the vendor for the exit info)
 * is only done when someone listens.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm

#if !defined(MKVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define MKVM_TRACE_H

#include <linux/tracepoint.h>

#include "minikvm.h"

#ifdef MKVM_NO_TRACE
/*
 * Built with `make module MKVM_NO_TRACE=1` (Kbuild): every event below
 * becomes an empty inline function, so the calls vanish at compile time
 * and no "kvm" events exist. Only for measuring what a disabled
 * tracepoint costs (Documentation/tracing.rst, "Cost when off").
 */
#undef TRACE_EVENT
#define TRACE_EVENT(name, proto, args, tstruct, assign, print)	\
	static inline void trace_##name(proto) { }
#endif

/* Into guest mode (vcpu.c, just before the vendor's world switch). */
TRACE_EVENT(kvm_entry,
	TP_PROTO(struct mkvm_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(unsigned long, rip)
		__field(bool, immediate_exit)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->rip = vcpu->rip;
		__entry->immediate_exit = false;
	),

	TP_printk("vcpu %u, rip 0x%lx", __entry->vcpu_id, __entry->rip)
);

/*
 * Out of guest mode: the raw hardware reason (VMX basic exit reason or SVM
 * exit code, told apart by isa: 1 = VMX, 2 = SVM) and its details.
 */
TRACE_EVENT(kvm_exit,
	TP_PROTO(struct mkvm_vcpu *vcpu, u32 isa),
	TP_ARGS(vcpu, isa),

	TP_STRUCT__entry(
		__field(unsigned int, exit_reason)
		__field(unsigned long, guest_rip)
		__field(u32, isa)
		__field(u64, info1)
		__field(u64, info2)
		__field(u32, intr_info)
		__field(u32, error_code)
		__field(unsigned int, vcpu_id)
	),

	TP_fast_assign(
		__entry->guest_rip = vcpu->rip;
		__entry->isa = isa;
		__entry->vcpu_id = vcpu->id;
		mkvm_ops->get_exit_info(vcpu, &__entry->exit_reason,
					&__entry->info1, &__entry->info2,
					&__entry->intr_info,
					&__entry->error_code);
	),

	TP_printk("vcpu %u reason %s 0x%x rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x",
		  __entry->vcpu_id, __entry->isa == 1 ? "vmx" : "svm",
		  __entry->exit_reason, __entry->guest_rip, __entry->info1,
		  __entry->info2, __entry->intr_info, __entry->error_code)
);

/* A port access (emulate.c): rw 1 = OUT, 0 = IN; val is the first datum. */
TRACE_EVENT(kvm_pio,
	TP_PROTO(unsigned int rw, unsigned int port, unsigned int size,
		 unsigned int count, const void *data),
	TP_ARGS(rw, port, size, count, data),

	TP_STRUCT__entry(
		__field(unsigned int, rw)
		__field(unsigned int, port)
		__field(unsigned int, size)
		__field(unsigned int, count)
		__field(unsigned int, val)
	),

	TP_fast_assign(
		__entry->rw = rw;
		__entry->port = port;
		__entry->size = size;
		__entry->count = count;
		__entry->val = 0;
		memcpy(&__entry->val, data, min_t(unsigned int, size, 4));
	),

	TP_printk("pio_%s at 0x%x size %d count %d val 0x%x %s",
		  __entry->rw ? "write" : "read", __entry->port,
		  __entry->size, __entry->count, __entry->val,
		  __entry->count > 1 ? "(...)" : "")
);

/* An MMIO access handed to userspace (type 0 read request, 2 write). */
#define MKVM_TRACE_MMIO_READ_UNSATISFIED	0
#define MKVM_TRACE_MMIO_READ			1
#define MKVM_TRACE_MMIO_WRITE			2

TRACE_EVENT(kvm_mmio,
	TP_PROTO(int type, int len, u64 gpa, const void *val),
	TP_ARGS(type, len, gpa, val),

	TP_STRUCT__entry(
		__field(u32, type)
		__field(u32, len)
		__field(u64, gpa)
		__field(u64, val)
	),

	TP_fast_assign(
		__entry->type = type;
		__entry->len = len;
		__entry->gpa = gpa;
		__entry->val = 0;
		if (val)
			memcpy(&__entry->val, val, min_t(u32, len, 8));
	),

	TP_printk("mmio %s len %u gpa 0x%llx val 0x%llx",
		  __print_symbolic(__entry->type,
				   { MKVM_TRACE_MMIO_READ_UNSATISFIED, "unsatisfied-read" },
				   { MKVM_TRACE_MMIO_READ, "read" },
				   { MKVM_TRACE_MMIO_WRITE, "write" }),
		  __entry->len, __entry->gpa, __entry->val)
);

/* CPUID answered in the kernel (emulate.c). */
TRACE_EVENT(kvm_cpuid,
	TP_PROTO(unsigned int function, unsigned int index, unsigned long rax,
		 unsigned long rbx, unsigned long rcx, unsigned long rdx,
		 bool found, bool used_max_basic),
	TP_ARGS(function, index, rax, rbx, rcx, rdx, found, used_max_basic),

	TP_STRUCT__entry(
		__field(unsigned int, function)
		__field(unsigned int, index)
		__field(unsigned long, rax)
		__field(unsigned long, rbx)
		__field(unsigned long, rcx)
		__field(unsigned long, rdx)
		__field(bool, found)
		__field(bool, used_max_basic)
	),

	TP_fast_assign(
		__entry->function = function;
		__entry->index = index;
		__entry->rax = rax;
		__entry->rbx = rbx;
		__entry->rcx = rcx;
		__entry->rdx = rdx;
		__entry->found = found;
		__entry->used_max_basic = used_max_basic;
	),

	TP_printk("func %x idx %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s%s",
		  __entry->function, __entry->index, __entry->rax,
		  __entry->rbx, __entry->rcx, __entry->rdx,
		  __entry->found ? "found" : "not found",
		  __entry->used_max_basic ? ", used max basic" : "")
);

/* A guest RDMSR/WRMSR (msr.c); exception: the guest got #GP. */
TRACE_EVENT(kvm_msr,
	TP_PROTO(unsigned int write, u32 ecx, u64 data, bool exception),
	TP_ARGS(write, ecx, data, exception),

	TP_STRUCT__entry(
		__field(unsigned int, write)
		__field(u32, ecx)
		__field(u64, data)
		__field(u8, exception)
	),

	TP_fast_assign(
		__entry->write = write;
		__entry->ecx = ecx;
		__entry->data = data;
		__entry->exception = exception;
	),

	TP_printk("msr_%s %x = 0x%llx%s", __entry->write ? "write" : "read",
		  __entry->ecx, __entry->data,
		  __entry->exception ? " (#GP)" : "")
);

/* An interrupt from KVM_INTERRUPT goes into the guest (vcpu.c). */
TRACE_EVENT(kvm_inj_virq,
	TP_PROTO(unsigned int vector, bool soft, bool reinjected),
	TP_ARGS(vector, soft, reinjected),

	TP_STRUCT__entry(
		__field(unsigned int, vector)
		__field(bool, soft)
		__field(bool, reinjected)
	),

	TP_fast_assign(
		__entry->vector = vector;
		__entry->soft = soft;
		__entry->reinjected = reinjected;
	),

	TP_printk("%s 0x%x%s", __entry->soft ? "Soft/INTn" : "IRQ",
		  __entry->vector, __entry->reinjected ? " [reinjected]" : "")
);

/*
 * A guest-physical access the NPT/EPT refused (emulate.c): error_code is
 * PFERR-style (bit 0 present, 1 write, 4 fetch).
 */
TRACE_EVENT(kvm_page_fault,
	TP_PROTO(struct mkvm_vcpu *vcpu, u64 fault_address, u64 error_code),
	TP_ARGS(vcpu, fault_address, error_code),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(unsigned long, guest_rip)
		__field(u64, fault_address)
		__field(u64, error_code)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->guest_rip = vcpu->rip;
		__entry->fault_address = fault_address;
		__entry->error_code = error_code;
	),

	TP_printk("vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx",
		  __entry->vcpu_id, __entry->guest_rip,
		  __entry->fault_address, __entry->error_code)
);

/* KVM_RUN returns to userspace: the exit reason, or an error. */
TRACE_EVENT(kvm_userspace_exit,
	TP_PROTO(__u32 reason, int errno),
	TP_ARGS(reason, errno),

	TP_STRUCT__entry(
		__field(__u32, reason)
		__field(int, errno)
	),

	TP_fast_assign(
		__entry->reason = reason;
		__entry->errno = errno;
	),

	TP_printk("reason %u (%d)", __entry->reason, __entry->errno)
);

#endif /* MKVM_TRACE_H */

/* This part must be outside the header guard. */
#ifndef MKVM_NO_TRACE
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
#endif
