// SPDX-License-Identifier: GPL-2.0-only
/*
 * stat.bpf.c: the kernel half of minikvm-stat.
 *
 * Plain tracepoint programs (SEC("tracepoint/kvm/...")): the kernel hands each one
 * a pointer to the raw event record, the same bytes ftrace stores in its ring
 * buffer. We describe that record with structs written by hand from the layout in
 * /sys/kernel/tracing/events/kvm/<event>/format. No BTF of the running kernel and
 * no CO-RE relocation is involved, so the object loads on any kernel whose kvm
 * events have these fields at these offsets: minikvm's and kvm.ko's alike (the
 * layouts have been stable since kvm.ko added "isa" to kvm_exit, Linux 5.x).
 *
 * Every record starts with 8 bytes of common fields (common_type u16,
 * common_flags u8, common_preempt_count u8, common_pid s32); the event's own
 * fields follow in declaration order, each at its natural alignment, which is
 * exactly what a C struct gives on x86-64. The offsets in the comments are those
 * printed by the format files.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "stat.h"

struct trace_common {
	__u16 type;
	__u8 flags;
	__u8 preempt_count;
	__s32 pid;
};

/* events/kvm/kvm_entry/format (minikvm and kvm.ko 6.12 add "bool immediate_exit" at 24: unused) */
struct kvm_entry_ctx {
	struct trace_common common;
	unsigned int vcpu_id;		/* offset 8 */
	unsigned long rip;		/* offset 16 */
};

/* events/kvm/kvm_exit/format */
struct kvm_exit_ctx {
	struct trace_common common;
	unsigned int exit_reason;	/* 8 */
	unsigned long guest_rip;	/* 16 */
	__u32 isa;			/* 24 */
	__u64 info1;			/* 32 */
	__u64 info2;			/* 40 */
	__u32 intr_info;		/* 48 */
	__u32 error_code;		/* 52 */
	unsigned int vcpu_id;		/* 56 */
};

/* events/kvm/kvm_userspace_exit/format */
struct kvm_userspace_exit_ctx {
	struct trace_common common;
	__u32 reason;			/* 8 */
	int errno;			/* 12 */
};

/* Set by the tool before loading (it lands in .rodata): 0 = every process. */
const volatile __u32 target_pid = 0;

/*
 * What a vCPU thread was doing last, keyed by thread id: KVM_RUN always
 * executes on the thread that called it, and kvm_entry/kvm_exit fire there.
 */
struct vcpu_state {
	__u64 entry_ns;		/* last kvm_entry, 0 if none since the last exit */
	__u64 exit_ns;		/* last kvm_exit, 0 once the next entry consumed it */
	struct exit_key last;	/* which row that exit belongs to */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vcpu_state);
} vcpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct exit_key);
	__type(value, struct exit_val);
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct event_key);
	__type(value, __u64);
} events SEC(".maps");

/* The low 32 bits are the thread id, the high 32 the process id (tgid). */
static __always_inline int wanted(__u64 pid_tgid)
{
	return !target_pid || (pid_tgid >> 32) == target_pid;
}

/* Index of the highest set bit: the log2 bucket. Loop-free for the verifier. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8)  { v >>= 8;  r += 8; }
	if (v >> 4)  { v >>= 4;  r += 4; }
	if (v >> 2)  { v >>= 2;  r += 2; }
	if (v >> 1)  { r += 1; }
	return r;
}

/* The row for @key, created zeroed on first use. */
static __always_inline struct exit_val *exit_row(struct exit_key *key)
{
	static const struct exit_val zero;
	struct exit_val *val;

	val = bpf_map_lookup_elem(&exits, key);
	if (val)
		return val;
	bpf_map_update_elem(&exits, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&exits, key);
}

static __always_inline void count_event(__u32 pid, __u32 event, __s32 detail)
{
	struct event_key key = { .pid = pid, .event = event, .detail = detail };
	static const __u64 one = 1;
	__u64 *n;

	n = bpf_map_lookup_elem(&events, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&events, &key, &one, BPF_NOEXIST);
}

SEC("tracepoint/kvm/kvm_exit")
int on_kvm_exit(struct kvm_exit_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u64 now = bpf_ktime_get_ns();
	struct vcpu_state fresh = {}, *st;
	struct exit_val *val;
	struct exit_key key;

	if (!wanted(pid_tgid))
		return 0;

	key.pid = pid_tgid >> 32;
	key.vcpu_id = ctx->vcpu_id;
	key.isa = ctx->isa;
	/* kvm.ko on VMX reports the full exit reason: bits 15:0 are the basic one. */
	key.reason = ctx->isa == 1 ? (ctx->exit_reason & 0xffff) : ctx->exit_reason;

	val = exit_row(&key);
	if (!val)
		return 0;	/* map full: the tool reports nothing for this row */
	__sync_fetch_and_add(&val->count, 1);

	st = bpf_map_lookup_elem(&vcpus, &tid);
	if (!st) {
		bpf_map_update_elem(&vcpus, &tid, &fresh, BPF_ANY);
		st = bpf_map_lookup_elem(&vcpus, &tid);
		if (!st)
			return 0;
	}
	if (st->entry_ns)
		__sync_fetch_and_add(&val->guest_ns, now - st->entry_ns);
	st->entry_ns = 0;
	st->exit_ns = now;
	st->last = key;
	return 0;
}

SEC("tracepoint/kvm/kvm_entry")
int on_kvm_entry(struct kvm_entry_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u64 now = bpf_ktime_get_ns();
	struct vcpu_state fresh = {}, *st;
	struct exit_val *val;
	__u64 lat;
	__u32 b;

	if (!wanted(pid_tgid))
		return 0;

	st = bpf_map_lookup_elem(&vcpus, &tid);
	if (!st) {
		/* First entry we see on this thread: only remember when it was. */
		fresh.entry_ns = now;
		bpf_map_update_elem(&vcpus, &tid, &fresh, BPF_ANY);
		return 0;
	}
	/*
	 * exit -> entry: the time KVM (and, for exits to userspace, the VMM) took
	 * to handle the previous exit, charged to that exit's reason.
	 */
	if (st->exit_ns) {
		lat = now - st->exit_ns;
		val = bpf_map_lookup_elem(&exits, &st->last);
		if (val) {
			b = log2_u64(lat);
			if (b >= STAT_HIST_BUCKETS)
				b = STAT_HIST_BUCKETS - 1;
			__sync_fetch_and_add(&val->lat_count, 1);
			__sync_fetch_and_add(&val->lat_ns, lat);
			__sync_fetch_and_add(&val->hist[b], 1);
		}
	}
	st->exit_ns = 0;
	st->entry_ns = now;
	return 0;
}

SEC("tracepoint/kvm/kvm_pio")
int on_kvm_pio(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (wanted(pid_tgid))
		count_event(pid_tgid >> 32, EV_PIO, 0);
	return 0;
}

SEC("tracepoint/kvm/kvm_cpuid")
int on_kvm_cpuid(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (wanted(pid_tgid))
		count_event(pid_tgid >> 32, EV_CPUID, 0);
	return 0;
}

SEC("tracepoint/kvm/kvm_mmio")
int on_kvm_mmio(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (wanted(pid_tgid))
		count_event(pid_tgid >> 32, EV_MMIO, 0);
	return 0;
}

SEC("tracepoint/kvm/kvm_msr")
int on_kvm_msr(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (wanted(pid_tgid))
		count_event(pid_tgid >> 32, EV_MSR, 0);
	return 0;
}

SEC("tracepoint/kvm/kvm_userspace_exit")
int on_kvm_userspace_exit(struct kvm_userspace_exit_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (wanted(pid_tgid))
		count_event(pid_tgid >> 32, EV_USERSPACE_EXIT,
			    ctx->errno ? -1 : (__s32)ctx->reason);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
