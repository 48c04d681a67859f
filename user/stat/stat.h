/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stat.h: what the BPF programs (stat.bpf.c) and minikvm-stat (stat.c) agree on:
 * the keys and values of the maps the kernel side fills and the tool reads.
 */
#ifndef MKVM_STAT_H
#define MKVM_STAT_H

/* Latency buckets: bucket b counts latencies in [2^b, 2^(b+1)) ns; 2^31 ns = 2 s. */
#define STAT_HIST_BUCKETS	32

/* One (VMM process, vCPU, hardware exit reason): the row of the table. */
struct exit_key {
	__u32 pid;		/* tgid of the VMM that ran KVM_RUN */
	__u32 vcpu_id;
	__u32 isa;		/* 1 = VMX, 2 = SVM: the kvm_exit "isa" field */
	__u32 reason;		/* raw hardware code (SVM exit code, VMX exit reason) */
};

struct exit_val {
	__u64 count;		/* kvm_exit events */
	__u64 guest_ns;		/* sum of kvm_entry -> kvm_exit: time in the guest */
	__u64 lat_count;	/* exits followed by an entry (the last one may not be) */
	__u64 lat_ns;		/* sum of kvm_exit -> next kvm_entry: handling time */
	__u64 hist[STAT_HIST_BUCKETS];	/* log2 histogram of that latency */
};

/* Other kvm events, counted per VMM process. */
enum stat_event {
	EV_PIO,			/* kvm_pio: a port access (in-kernel or to userspace) */
	EV_CPUID,		/* kvm_cpuid: CPUID answered in the kernel */
	EV_MMIO,		/* kvm_mmio */
	EV_MSR,			/* kvm_msr */
	EV_USERSPACE_EXIT,	/* kvm_userspace_exit: KVM_RUN returned */
	NR_STAT_EVENTS,
};

/*
 * Key of the event counters: the event, and for kvm_userspace_exit the KVM_EXIT_*
 * reason (KVM_EXIT_IO = 2, ...), or -1 for a KVM_RUN that failed with an error.
 */
struct event_key {
	__u32 pid;
	__u32 event;
	__s32 detail;
	__u32 pad;
};

#endif /* MKVM_STAT_H */
