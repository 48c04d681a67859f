/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm core: the objects every part of the module shares.
 *
 * Three kinds of file descriptor make up the KVM API, and each has one
 * object here:
 *
 *   /dev/kvm  (system fd)  ->  no object: module-wide state in main.c
 *   VM fd                  ->  struct mkvm      (guest memory, vCPU list)
 *   vCPU fd                ->  struct mkvm_vcpu (registers, kvm_run page)
 *
 * The core (the .c files in kmod/) knows nothing about AMD or Intel. Everything that
 * touches SVM or VMX goes through one table of vendor operations,
 * struct mkvm_x86_ops, chosen once at module load (see main.c).
 */
#ifndef MINIKVM_H
#define MINIKVM_H

#include <linux/kvm.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/preempt.h>
#include <linux/refcount.h>
#include <linux/signal.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "decode.h"
#include "irqchip/irqchip.h"

#define MKVM_MAX_VCPUS		128	/* KVM_CAP_MAX_VCPUS, KVM_CAP_MAX_VCPU_ID */
#define MKVM_MAX_MEMSLOTS	64	/* KVM_CAP_NR_MEMSLOTS, per address space */
/*
 * Address spaces of guest-physical memory (KVM_CAP_MULTI_ADDRESS_SPACE):
 * 0 is what a vCPU sees normally, 1 what it sees in System Management
 * Mode (SMRAM visible). A memslot's id carries its space in bits 31:16.
 */
#define MKVM_NR_AS		2
#define MKVM_SMM_AS		1
#define MKVM_MAX_CPUID		128	/* entries in KVM_SET_CPUID2 */
#define MKVM_MAX_IRQ_ROUTES	4096	/* KVM_CAP_IRQ_ROUTING, as KVM */
#define MKVM_NR_VAR_MTRR	8	/* MTRRcap.VCNT, as KVM */
#define MKVM_NR_FIXED_MTRR	11	/* fixed-range MTRRs (SDM Vol.3 11.11.2.2) */
#define MKVM_MAX_MCE_BANKS	32	/* KVM_CAP_MCE, as KVM */
#define MKVM_HWCR_MCSTATUSWREN	BIT_ULL(18)	/* AMD HWCR: MCi_STATUS writable */

/*
 * The vCPU mmap: page 0 is struct kvm_run, page 1 holds the data of port
 * I/O exits (kvm_run.io.data_offset points there), as in KVM.
 */
#define MKVM_PIO_PAGE_OFFSET	1
#define MKVM_RUN_MMAP_SIZE	((KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * PAGE_SIZE)

/*
 * KVM_CAP_SYNC_REGS: the register sets KVM_RUN copies through kvm_run->s
 * (vcpu.c). KVM_SYNC_X86_EVENTS joins once KVM_GET/SET_VCPU_EVENTS exist.
 */
#define MKVM_SYNC_REGS_VALID	(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | \
				 KVM_SYNC_X86_EVENTS)

/* Pages of TDP tables a fault may need: one per level below the root. */
#define MKVM_TDP_CACHE_PAGES	3

/* Indexes into vcpu->regs[], in the order of the x86 register encoding. */
enum mkvm_reg {
	MKVM_RAX, MKVM_RCX, MKVM_RDX, MKVM_RBX,
	MKVM_RSP, MKVM_RBP, MKVM_RSI, MKVM_RDI,
	MKVM_R8, MKVM_R9, MKVM_R10, MKVM_R11,
	MKVM_R12, MKVM_R13, MKVM_R14, MKVM_R15,
	MKVM_NR_GPRS
};

/* Segment registers, in the order of the x86 encoding (SDM Vol.2 2.1.3). */
enum mkvm_seg {
	MKVM_ES, MKVM_CS, MKVM_SS, MKVM_DS, MKVM_FS, MKVM_GS,
	MKVM_TR, MKVM_LDTR,
	MKVM_NR_SEGS
};

/* Architectural bits the core needs (SDM Vol.3 2.5, APM Vol.2 3.1). */
#define MKVM_CR0_PE	BIT_ULL(0)
#define MKVM_CR0_PG	BIT_ULL(31)
#define MKVM_CR4_PAE	BIT_ULL(5)
#define MKVM_EFER_LME	BIT_ULL(8)
#define MKVM_EFER_LMA	BIT_ULL(10)
#define MKVM_RFLAGS_TF	BIT_ULL(8)
#define MKVM_RFLAGS_IF	BIT_ULL(9)
#define MKVM_RFLAGS_FIXED BIT_ULL(1)

/* Exception vectors (SDM Vol.3 6.3.1). */
#define MKVM_DB_VECTOR	1
#define MKVM_BP_VECTOR	3
#define MKVM_UD_VECTOR	6
#define MKVM_DF_VECTOR	8
#define MKVM_GP_VECTOR	13
#define MKVM_PF_VECTOR	14

/* ------------------------------------------------------------------ */
/* Guest memory                                                        */
/* ------------------------------------------------------------------ */

/**
 * struct mkvm_memslot - one KVM_SET_USER_MEMORY_REGION slot.
 * @base_gfn:	first guest frame number
 * @npages:	size in 4 KiB pages
 * @hva:	userspace address the VMM mapped for it
 * @flags:	KVM_MEM_* flags
 * @id:		slot number chosen by userspace
 * @dirty_bitmap: with KVM_MEM_LOG_DIRTY_PAGES, one bit per page the guest
 *		wrote since the last KVM_GET_DIRTY_LOG (else NULL)
 *
 * Pages are mapped into the TDP table when first touched, and forgotten
 * when the VMM's mapping changes (tdp.c): a slot itself owns no page.
 */
struct mkvm_memslot {
	u64 base_gfn;
	u64 npages;
	u64 hva;
	u32 flags;
	u16 id;
	unsigned long *dirty_bitmap;
};

/*
 * The set of slots a VM has. Readers (the page-fault path) look at it
 * under SRCU; writers build a new copy and publish it (memslot.c).
 */
struct mkvm_memslots {
	int nr;
	struct mkvm_memslot slot[MKVM_MAX_MEMSLOTS];
};

/*
 * Two-dimensional paging (NPT on AMD, EPT on Intel): a 4-level table that
 * maps guest-physical to host-physical addresses. The walk is the same
 * for both vendors; only the bits in an entry differ, so the vendor hands
 * the core a function that makes an entry (svm/npt.c, vmx/ept.c).
 */
struct mkvm_tdp {
	spinlock_t lock;	/* the tables and the fields below (tdp.c) */
	/* One level-4 table per address space (0 normal, 1 SMM), one page. */
	u64 *root[MKVM_NR_AS];
	/* zeroed pages for mkvm_tdp_zap_all(), one a root (vm->lock) */
	u64 *spare[MKVM_NR_AS];
	phys_addr_t root_pa[MKVM_NR_AS];
	unsigned long nr_tables;	/* pages in use, for statistics */
	/* MMU notifier (tdp.c): invalidations ended, and running now */
	unsigned long mmu_seq;
	long mmu_in_progress;
	bool flush_pending;	/* a whole-tree zap has not kicked yet */
};

/* ------------------------------------------------------------------ */
/* Neutral exit information: vendor decodes, core acts (STYLE.md 5)    */
/* ------------------------------------------------------------------ */

/** struct mkvm_io - one port I/O instruction, decoded by the vendor. */
struct mkvm_io {
	u16 port;
	u8 size;		/* 1, 2 or 4 bytes */
	bool in;
	bool string;		/* INS/OUTS */
	bool rep;		/* REP prefix: count in RCX */
	u8 addr_size;		/* 2, 4 or 8: address size of a string op */
	u8 seg;			/* segment of the source for OUTS */
	unsigned long next_rip;
};

/**
 * struct mkvm_tdp_fault - a guest-physical access the NPT/EPT refused.
 * @gpa:	faulting guest-physical address
 * @write:	the access was a write
 * @fetch:	the access was an instruction fetch
 * @present:	a translation existed (so this was a permission fault)
 * @insn:	instruction bytes the hardware captured (SVM decode assists)
 * @insn_len:	number of valid bytes in @insn, 0 if none
 */
struct mkvm_tdp_fault {
	u64 gpa;
	bool write;
	bool fetch;
	bool present;
	u8 insn[15];
	u8 insn_len;
};

/* ------------------------------------------------------------------ */
/* VM and vCPU                                                         */
/* ------------------------------------------------------------------ */

/**
 * struct mkvm - one virtual machine (one VM fd).
 * @lock:	serialises ioctls that change the VM (memslots, vCPU creation)
 * @srcu:	protects readers of @memslots
 * @memslots:	the published slot sets, one per address space (rcu)
 * @tdp:	the guest-physical -> host-physical table
 * @vcpus:	created vCPUs, indexed by creation order
 * @mm:		the address space of the process that created the VM
 * @mmu_notifier: tells tdp.c when @mm's page tables change
 * @vendor:	private state of the vendor (e.g. ASID)
 */
struct mkvm {
	struct mutex lock;
	struct srcu_struct srcu;
	struct mkvm_memslots __rcu *memslots[MKVM_NR_AS];
	struct mkvm_tdp tdp;
	struct mkvm_vcpu *vcpus[MKVM_MAX_VCPUS];
	int nr_vcpus;
	u32 bsp_vcpu_id;	/* KVM_SET_BOOT_CPU_ID; 0 by default */

	/*
	 * The in-kernel interrupt controllers (kmod/irqchip/). All NULL and
	 * mode NONE until KVM_CREATE_IRQCHIP (or KVM_CAP_SPLIT_IRQCHIP),
	 * which must come before the first vCPU, as in KVM.
	 */
	int irqchip_mode;		/* enum mkvm_irqchip_mode */
	struct mkvm_pic *pic;
	struct mkvm_ioapic *ioapic;
	struct mkvm_pit *pit;
	struct mkvm_irq_routing __rcu *irq_routing;
	struct hlist_head irq_ack_notifiers;	/* route.c, RCU */
	struct hlist_head irq_mask_notifiers;	/* route.c, RCU */
	struct mkvm_io_bus __rcu *buses[MKVM_NR_BUSES];
	struct mkvm_eventfds eventfds;
	/* Coalesced MMIO/PIO (irqchip/coalesced.c): the ring and its zones. */
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	spinlock_t coalesced_lock;		/* writers of the ring */
	struct list_head coalesced_zones;	/* under vm->lock */
	/* The VM fd, each vCPU fd, each stats fd, each open debugfs file. */
	refcount_t users;
	/* debugfs.c: on the list of every VM, and the VM's own directory. */
	struct list_head debugfs_node;
	struct mkvm_debugfs_vm *debugfs;
	struct mm_struct *mm;
	struct mmu_notifier mmu_notifier;
	u64 tss_addr;
	/*
	 * KVM_SET_NR_MMU_PAGES: KVM's quota of shadow page-table pages. NPT and
	 * EPT tables are allocated as faults need them, so the number limits
	 * nothing here; but a VMM that set it expects a VM without memory to
	 * fail like KVM's: at the first fetch, not with ENOSPC (emulate.c).
	 */
	unsigned long nr_mmu_pages;
	bool had_memory;	/* a memslot existed once */
	/*
	 * MSR accesses the VMM handles (msr_user.c): which refused ones
	 * exit to it (KVM_CAP_X86_USER_SPACE_MSR, KVM_MSR_EXIT_REASON_*),
	 * and the KVM_X86_SET_MSR_FILTER filter, read under @srcu.
	 */
	u32 user_space_msr_mask;
	struct mkvm_msr_filter __rcu *msr_filter;
	/* kvmclock = host CLOCK_BOOTTIME + this (kvmclock.c) */
	s64 kvmclock_offset;
	u64 kvmclock_wall_clock;	/* MSR_KVM_WALL_CLOCK(_NEW) */
	/*
	 * KVM_ENABLE_CAP settings of the VM (vm.c): the vCPU id limit (0 =
	 * not fixed yet, see mkvm_max_vcpu_ids()), whether the guest may
	 * read MSR_PLATFORM_INFO, the KVM_X86_QUIRK_* the VMM turned off.
	 */
	u32 max_vcpu_ids;
	bool platform_info_readable;
	u64 disabled_quirks;
	/* Guest TSC of a new vCPU = host TSC + this: 0 at VM creation (msr.c). */
	u64 initial_tsc_offset;

	/*
	 * Counters of the whole VM, read through KVM_GET_STATS_FD (stats.c).
	 * Only u64s: the stats file's data block is this struct as it is.
	 */
	struct mkvm_vm_stats {
		u64 remote_tlb_flush;	/* every vCPU told to flush (vm.c) */
		u64 pages_4k;		/* leaf entries in the TDP table now */
	} stat;

	void *vendor;
};

/* Requests one thread makes of a vCPU, acted on before the next entry. */
#define MKVM_REQ_TLB_FLUSH	0
#define MKVM_REQ_SHUTDOWN	1	/* next KVM_RUN: KVM_EXIT_SHUTDOWN */
#define MKVM_REQ_CLOCK_UPDATE	2	/* rewrite the kvmclock structure */
#define MKVM_REQ_EVENT		3	/* look at the LAPIC/PIC before entry */
#define MKVM_REQ_SMI		4	/* an SMI arrived (KVM_SMI, LAPIC): smm.c */

/* Where a vCPU is, for kicks (see mkvm_kick_all()). */
enum mkvm_vcpu_mode {
	MKVM_OUTSIDE_GUEST,
	MKVM_IN_GUEST,
};

/**
 * struct mkvm_pending_event - an exception or interrupt to deliver at the
 * next VM entry (SDM Vol.3 26.6, APM Vol.2 15.20).
 */
struct mkvm_pending_event {
	bool pending;
	bool is_irq;		/* external interrupt rather than exception */
	bool is_nmi;		/* NMI (vector 2) rather than exception */
	bool has_error;
	u8 vector;
	u32 error;
};

/**
 * struct mkvm_vcpu - one virtual CPU (one vCPU fd).
 *
 * The general-purpose registers live here in @regs for every vendor:
 * the world switch (svm/vmenter.S, vmx/vmenter.S) loads them before entry
 * and stores them after exit. RIP, RFLAGS (and on SVM, RAX and RSP) live
 * in the VMCB/VMCS; the vendor copies them to @rip/@rflags/@regs on
 * exit and back before entry, so the core can always read @regs/@rip.
 */
struct mkvm_vcpu {
	struct mkvm *vm;
	int id;
	int cpu;		/* host CPU it last ran on, -1 = never */
	struct kvm_run *run;	/* the page userspace mmaps */
	void *pio_data;		/* page MKVM_PIO_PAGE_OFFSET of the mmap */
	void *tdp_cache[MKVM_TDP_CACHE_PAGES];	/* zeroed pages for faults */
	int nr_tdp_cache;
	struct mutex mutex;	/* one ioctl at a time on this vCPU */
	struct preempt_notifier pn;
	struct fpu_guest *fpu;	/* guest FPU/XSAVE state (xsave.c) */
	u64 xcr0;		/* the guest's XCR0 (xsave.c) */
	/* XCR0 bits its CPUID table offers and the host backs (cpuid.c). */
	u64 guest_supported_xcr0;
	bool xcr0_loaded;	/* the CPU holds the guest's XCR0 now */
	unsigned long requests;
	int mode;		/* enum mkvm_vcpu_mode, read by kicks */

	unsigned long regs[MKVM_NR_GPRS];
	unsigned long rip;
	u8 exit_insn_len;	/* length of the exiting instruction, by vendor */
	unsigned long rflags;
	u64 cr2;
	u64 efer;
	bool sregs_set;	/* userspace did KVM_SET_SREGS */
	bool ran;	/* entered the guest once: the CPUID model is fixed */
	bool pv_enforce;	/* KVM_CAP_ENFORCE_PV_FEATURE_CPUID (pv.c) */
	bool sigset_active;	/* KVM_SET_SIGNAL_MASK was given a mask */
	sigset_t sigset;	/* signals blocked while in KVM_RUN */

	struct mkvm_pending_event event;
	/* KVM_INTERRUPT: vector waiting for the guest to accept it, or -1. */
	int queued_irq;
	/*
	 * NMIs (events.c): nmi_queued counts those raised since the vCPU
	 * last looked (KVM_NMI, an NMI IPI from another vCPU: any thread);
	 * nmi_pending those it has accepted but not yet delivered (its own
	 * thread only). A real CPU latches at most one NMI while another is
	 * being handled, so nmi_pending is at most 2, as in KVM.
	 */
	atomic_t nmi_queued;
	u8 nmi_pending;

	/*
	 * System Management Mode (smm.c). smbase: MSR_IA32_SMBASE, where the
	 * next SMI saves the state (SMBASE + 0xFE00) and starts the handler
	 * (SMBASE + 0x8000). in_smm: between an SMI and its RSM; the vCPU
	 * then sees address space 1. smm_inside_nmi: NMIs were already
	 * blocked when the SMI came, so RSM leaves them blocked.
	 * smi_pending: accepted, to enter before the next entry (own thread).
	 */
	u64 smbase;
	bool in_smm;
	bool smm_inside_nmi;
	bool smi_pending;

	/*
	 * With an in-kernel irqchip: this vCPU's local APIC, its
	 * multiprocessing state (KVM_MP_STATE_*: RUNNABLE, HALTED after
	 * HLT, INIT_RECEIVED waiting for a SIPI, UNINITIALIZED before the
	 * first INIT) and the queue a halted vCPU sleeps on until a kick.
	 */
	struct mkvm_lapic *apic;
	u32 mp_state;
	wait_queue_head_t wq;
	/*
	 * An instruction that went to userspace and finishes on the next
	 * KVM_RUN (emulate.c): the IN data or the MMIO read value is in the
	 * kvm_run page then, and RIP moves past the instruction only then,
	 * as in KVM (so KVM_GET_REGS in between shows RIP at it). After an
	 * MMIO read the instruction may go on to write (OR [mmio], imm;
	 * XCHG; MOVS to MMIO): that is a second exit, from that KVM_RUN.
	 */
	struct mkvm_io_pending {
		u8 kind;		/* MKVM_PENDING_* */
		struct mkvm_io io;	/* port I/O */
		u32 count;		/* string I/O: elements in this exit */
		struct mkvm_insn insn;	/* MMIO read: the instruction */
		u64 gpa;		/* MMIO read: at (ALU, XCHG: write) */
		unsigned long rip;	/* RIP of the instruction */
		/* RDMSR/WRMSR the VMM answers: which, and what follows it */
		bool msr_read;
		unsigned long msr_next_rip;
	} pio;

	/*
	 * Guest MSRs that neither the VMCB nor the VMCS hold. The vendor
	 * programs msr_tsc_offset (guest TSC = host TSC + offset) into the
	 * VMCB/VMCS TSC offset on every entry.
	 */
	u64 msr_tsc_offset;
	u32 tsc_khz;		/* KVM_GET/SET_TSC_KHZ (features.c) */
	/*
	 * TSC catch-up (features.c), on while tsc_khz is above the host's:
	 * before each entry the offset is moved forward to where tsc_khz
	 * would have taken the TSC from tsc_catchup_tsc at host
	 * CLOCK_BOOTTIME tsc_catchup_ns (the last write of the TSC or of
	 * the rate); ticks = ns * tsc_catchup_mult >> tsc_catchup_shift.
	 */
	bool tsc_catchup;
	u8 tsc_catchup_shift;
	u32 tsc_catchup_mult;
	u64 tsc_catchup_ns;
	u64 tsc_catchup_tsc;
	u64 msr_pat;
	u64 msr_power_ctl;	/* MSR_IA32_POWER_CTL: kept, no effect */
	u64 msr_apic_base;
	u64 msr_misc_enable;
	u64 msr_hwcr;		/* AMD HWCR: only McStatusWrEn (mce.c) */
	/* Per-vCPU registers of small features (features.c, tsc in msr.c). */
	u64 msr_tsc_adjust;	/* IA32_TSC_ADJUST (SDM Vol.3 17.17.3) */
	u64 msr_platform_info;	/* MSR_PLATFORM_INFO, set by the VMM */
	u64 msr_misc_features;	/* MSR_MISC_FEATURES_ENABLES */
	u64 microcode_version;	/* MSR_IA32_UCODE_REV, set by the VMM */
	/* MTRRs (msr.c): the guest's own, kept and validated, not enforced. */
	struct mkvm_mtrr {
		u64 deftype;
		u64 fixed[MKVM_NR_FIXED_MTRR];
		u64 var[2 * MKVM_NR_VAR_MTRR];	/* base, mask, base, ... */
	} mtrr;
	/* Machine-check registers (mce.c). */
	struct mkvm_mce {
		u64 mcg_cap;
		u64 mcg_status;
		u64 mcg_ctl;
		u64 banks[4 * MKVM_MAX_MCE_BANKS];	/* CTL STATUS ADDR MISC */
	} mce;
	/* kvmclock (kvmclock.c): the MSRs and the structure's version. */
	u64 msr_kvm_system_time;
	u32 kvmclock_version;

	struct kvm_cpuid_entry2 *cpuid;	/* KVM_SET_CPUID2's table (cpuid.c) */
	int nr_cpuid;

	/*
	 * KVM_SET_GUEST_DEBUG (guestdbg.c): the VMM debugs the guest.
	 * guest_debug holds KVM_GUESTDBG_* (0 when off); with USE_HW_BP,
	 * debug_db/debug_dr7 are the breakpoints the guest runs with in
	 * place of its own; singlestep_rip is the linear RIP where
	 * single-stepping was switched on (TF is added there, as in KVM).
	 */
	u32 guest_debug;
	unsigned long debug_db[4];
	unsigned long debug_dr7;
	u64 singlestep_rip;

	/*
	 * Counters of this vCPU, written only by its own thread and read
	 * through KVM_GET_STATS_FD (stats.c names them). Only u64s: the
	 * stats file's data block is this struct as it is.
	 */
	struct mkvm_exit_stats {
		u64 exits;
		u64 io_exits;
		u64 mmio_exits;
		u64 hlt_exits;
		u64 cpuid_exits;
		u64 msr_exits;
		u64 tdp_faults;
		u64 signal_exits;
		u64 irq_window_exits;	/* the guest opened the window */
		u64 request_irq_exits;	/* KVM_EXIT_IRQ_WINDOW_OPEN */
		u64 irq_injections;	/* interrupts injected into the guest */
		u64 halt_wakeups;	/* a halted vCPU woke up (in-kernel HLT) */
		u64 pause_exits;	/* PAUSE (loop) exits: a spinning guest */
	} stat;

	void *vendor;
};

/* What struct mkvm_io_pending holds. */
enum {
	MKVM_PENDING_NONE,
	MKVM_PENDING_PIO,
	MKVM_PENDING_MMIO_READ,
	MKVM_PENDING_MSR,	/* KVM_EXIT_X86_RDMSR/WRMSR (msr_user.c) */
};

/* ------------------------------------------------------------------ */
/* The vendor operations table (STYLE.md 1)                            */
/* ------------------------------------------------------------------ */

/* Values of mkvm_x86_ops.isa: KVM's numbering (its arch/x86/kvm/trace.h). */
#ifndef KVM_ISA_VMX
#define KVM_ISA_VMX	1
#define KVM_ISA_SVM	2
#endif

/**
 * struct mkvm_x86_ops - what a hardware backend provides.
 *
 * Handler contract, written once (STYLE.md 4): functions that handle an
 * exit return 1 to re-enter the guest, 0 after filling vcpu->run for
 * userspace, and a negative errno on failure.
 */
struct mkvm_x86_ops {
	const char *name;		/* "svm" or "vmx" */
	__u32 isa;			/* KVM_ISA_SVM/VMX for tracepoints */
	/*
	 * The hypercall instruction of this vendor's CPUs and of the other
	 * vendor's (VMMCALL 0F 01 D9, VMCALL 0F 01 C1), which raises #UD
	 * here and is rewritten (pv.c: mkvm_handle_ud()).
	 */
	u8 hypercall_insn[3];
	u8 other_hypercall_insn[3];
	/*
	 * The backend runs a guest's System Management Mode (smm.c): the
	 * SMM entry state (real mode at CS.base = SMBASE) and RSM. Without
	 * it KVM_CAP_X86_SMM is 0 and every way into SMM is refused.
	 */
	bool has_smm;
	/* MSR_IA32_UCODE_REV of a new vCPU, as KVM's for this vendor. */
	u64 reset_microcode_version;
	/* Module load: does this CPU have the extension? 0 or -errno. */
	int (*probe)(void);
	/* Module load/unload: allocate/free global state (not module_init:
	 * that name is a macro). */
	int (*global_init)(void);
	void (*global_exit)(void);
	/* Turn the extension on/off on the calling CPU. */
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);

	int (*vm_init)(struct mkvm *vm);
	void (*vm_destroy)(struct mkvm *vm);
	int (*vcpu_create)(struct mkvm_vcpu *vcpu);
	void (*vcpu_free)(struct mkvm_vcpu *vcpu);
	/* The vCPU thread now runs on @cpu / is leaving it (preemption). */
	void (*vcpu_load)(struct mkvm_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct mkvm_vcpu *vcpu);

	/* Special registers. */
	void (*get_segment)(struct mkvm_vcpu *vcpu, struct kvm_segment *s,
			    int seg);
	void (*set_segment)(struct mkvm_vcpu *vcpu,
			    const struct kvm_segment *s, int seg);
	void (*get_dtable)(struct mkvm_vcpu *vcpu, struct kvm_dtable *dt,
			   bool idt);
	void (*set_dtable)(struct mkvm_vcpu *vcpu,
			   const struct kvm_dtable *dt, bool idt);
	u64 (*get_cr)(struct mkvm_vcpu *vcpu, int cr);
	void (*set_cr)(struct mkvm_vcpu *vcpu, int cr, u64 val);
	void (*set_efer)(struct mkvm_vcpu *vcpu, u64 efer);
	int (*get_cpl)(struct mkvm_vcpu *vcpu);
	/*
	 * The MCG_CAP bits the vendor's processors define: AMD's reserve
	 * 63:9 (KVM svm_setup_mce()), so KVM_X86_SETUP_MCE keeps 8:0 there.
	 */
	u64 mcg_cap_mask;

	/* Guest MSRs held in the VMCB/VMCS; -ENOENT if not the vendor's. */
	int (*get_msr)(struct mkvm_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct mkvm_vcpu *vcpu, u32 index, u64 data);

	/*
	 * Enter the guest once and come back: load vcpu->regs/rip/rflags,
	 * deliver vcpu->event if pending, world switch, save state back,
	 * record the exit. Called with interrupts disabled and preemption
	 * off; must not sleep.
	 */
	void (*run)(struct mkvm_vcpu *vcpu);
	/*
	 * Act on the exit recorded by run(), through the vendor's exit
	 * table. Called with interrupts and preemption enabled, under the
	 * VM's SRCU read lock. Returns 1/0/-errno per the contract.
	 */
	int (*handle_exit)(struct mkvm_vcpu *vcpu);
	/*
	 * The last exit in raw hardware terms, for the kvm_exit tracepoint:
	 * reason (VMX basic exit reason / SVM exit code), two info words
	 * (exit qualification and guest-physical address / EXITINFO1 and
	 * EXITINFO2), the event being delivered and its error code.
	 */
	void (*get_exit_info)(struct mkvm_vcpu *vcpu, u32 *reason, u64 *info1,
			      u64 *info2, u32 *intr_info, u32 *error_code);

	/*
	 * Interrupts from a userspace interrupt controller (KVM_INTERRUPT).
	 * interrupt_allowed: the guest would take an external interrupt
	 * now (RFLAGS.IF = 1, no STI/MOV SS shadow, no event being
	 * delivered). enable_irq_window: make the guest exit as soon as
	 * that becomes true (SVM: virtual interrupt + VINTR intercept,
	 * APM 15.21.4; VMX: interrupt-window exiting, SDM 26.7.5); the
	 * exit's handler calls mkvm_handle_irq_window(). Both may be NULL
	 * while a backend lacks them: KVM_INTERRUPT then fails.
	 */
	bool (*interrupt_allowed)(struct mkvm_vcpu *vcpu);
	void (*enable_irq_window)(struct mkvm_vcpu *vcpu);

	/*
	 * NMIs and the rest of KVM_GET/SET_VCPU_EVENTS (events.c).
	 * nmi_allowed: the guest would take an NMI now (not blocked by an
	 * NMI handler still running, nor an STI/MOV SS shadow, no event
	 * being delivered). enable_nmi_window: exit as soon as it would
	 * (SVM: IRET intercept, single step; VMX: NMI-window exiting, SDM
	 * 26.7.6). get/set_nmi_mask: "blocked until the next IRET".
	 * get/set_interrupt_shadow: KVM_X86_SHADOW_INT_MOV_SS/STI.
	 */
	bool (*nmi_allowed)(struct mkvm_vcpu *vcpu);
	void (*enable_nmi_window)(struct mkvm_vcpu *vcpu);
	bool (*get_nmi_mask)(struct mkvm_vcpu *vcpu);
	void (*set_nmi_mask)(struct mkvm_vcpu *vcpu, bool masked);
	u32 (*get_interrupt_shadow)(struct mkvm_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct mkvm_vcpu *vcpu, u32 shadow);
	/* KVM_GET/SET_DEBUGREGS: the guest's DR0-3, DR6, DR7 (checked). */
	void (*get_debugregs)(struct mkvm_vcpu *vcpu, struct kvm_debugregs *d);
	void (*set_debugregs)(struct mkvm_vcpu *vcpu,
			      const struct kvm_debugregs *d);

	/*
	 * KVM_SET_GUEST_DEBUG changed vcpu->guest_debug/debug_db/debug_dr7:
	 * intercept #BP (USE_SW_BP) and #DB (SINGLESTEP, USE_HW_BP), make
	 * debug_dr7 the DR7 the guest runs with (USE_HW_BP) and load
	 * debug_db into DR0-3 around each entry. Called with the vCPU loaded.
	 */
	void (*update_guest_debug)(struct mkvm_vcpu *vcpu);

	/* Flush this vCPU's guest-physical TLB entries at the next entry. */
	void (*flush_tlb)(struct mkvm_vcpu *vcpu);
	/* Make a TDP leaf or table entry pointing at @pa. */
	u64 (*tdp_pte)(phys_addr_t pa, bool leaf, bool write, bool exec);
	bool (*tdp_present)(u64 pte);
	bool (*tdp_writable)(u64 pte);
	/* The value to program as the TDP root (nCR3 or EPTP). */
	void (*set_tdp_root)(struct mkvm_vcpu *vcpu, phys_addr_t root);
};

extern const struct mkvm_x86_ops *mkvm_ops;
extern bool mkvm_rebooting;

/* Vendor backends, each found by its probe (main.c). */
extern const struct mkvm_x86_ops svm_ops;
extern const struct mkvm_x86_ops vmx_ops;

/* ------------------------------------------------------------------ */
/* Core functions the vendors call                                     */
/* ------------------------------------------------------------------ */

/* main.c */
long mkvm_check_extension(long ext);

/* vm.c */
int mkvm_create_vm(unsigned long type);
void mkvm_put_vm(struct mkvm *vm);
int mkvm_hardware_get(void);
void mkvm_hardware_put(void);
void mkvm_kick_all(struct mkvm *vm, int req);

/* vcpu.c */
int mkvm_create_vcpu(struct mkvm *vm, unsigned long id);
void mkvm_vcpu_destroy(struct mkvm_vcpu *vcpu);
static inline bool mkvm_test_clear_request(struct mkvm_vcpu *vcpu, int req)
{
	/* A plain read first: the locked clear only when the bit is set. */
	return test_bit(req, &vcpu->requests) &&
	       test_and_clear_bit(req, &vcpu->requests);
}

/* The address space @vcpu sees now: 1 in SMM, else 0. */
static inline int mkvm_vcpu_as(const struct mkvm_vcpu *vcpu)
{
	return vcpu->in_smm ? MKVM_SMM_AS : 0;
}

/* vcpu.c: KVM_GET/SET_SREGS (also for RSM, smm.c) */
void mkvm_get_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s);
int mkvm_set_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s);
int mkvm_rsm_set_sregs(struct mkvm_vcpu *vcpu, struct kvm_sregs *s);

/* memslot.c */
int mkvm_set_memory_region(struct mkvm *vm,
			   const struct kvm_userspace_memory_region *mr);
void mkvm_free_memslots(struct mkvm *vm);
struct mkvm_memslot *mkvm_gfn_to_slot(struct mkvm *vm, int as, u64 gfn);
struct mkvm_memslot *mkvm_vcpu_gfn_to_slot(struct mkvm_vcpu *vcpu, u64 gfn);
int mkvm_read_guest(struct mkvm_vcpu *vcpu, u64 gpa, void *buf, int len);
int mkvm_write_guest(struct mkvm_vcpu *vcpu, u64 gpa, const void *buf,
		     int len);
int mkvm_read_guest_as0(struct mkvm_vcpu *vcpu, u64 gpa, void *buf, int len);
int mkvm_write_guest_as0(struct mkvm_vcpu *vcpu, u64 gpa, const void *buf,
			 int len);
int mkvm_get_dirty_log(struct mkvm *vm, struct kvm_dirty_log *log);

/* tdp.c */
int mkvm_tdp_init(struct mkvm *vm);
void mkvm_tdp_destroy(struct mkvm *vm);
void mkvm_tdp_zap_all(struct mkvm *vm);
void mkvm_tdp_free_cache(struct mkvm_vcpu *vcpu);
int mkvm_tdp_fault_in(struct mkvm_vcpu *vcpu, struct mkvm_memslot *slot,
		      u64 gpa, bool write);
void mkvm_tdp_write_protect(struct mkvm *vm, int as, u64 gfn,
			    unsigned long mask);
/* The TDP root @vcpu runs on: that of the address space it sees. */
static inline phys_addr_t mkvm_tdp_root_pa(const struct mkvm_vcpu *vcpu)
{
	return vcpu->vm->tdp.root_pa[mkvm_vcpu_as(vcpu)];
}
int mkvm_mmu_notifier_register(struct mkvm *vm);
void mkvm_mmu_notifier_unregister(struct mkvm *vm);

/* emulate.c: common handlers called by the vendor exit tables. */
int mkvm_emulate_io(struct mkvm_vcpu *vcpu, const struct mkvm_io *io);
int mkvm_emulate_cpuid(struct mkvm_vcpu *vcpu);
int mkvm_emulate_hlt(struct mkvm_vcpu *vcpu);
int mkvm_emulate_set_cr8(struct mkvm_vcpu *vcpu, u64 val);
const struct kvm_cpuid_entry2 *mkvm_find_cpuid(struct mkvm_vcpu *vcpu,
					       u32 fn, u32 idx);
int mkvm_handle_tdp_fault(struct mkvm_vcpu *vcpu,
			  const struct mkvm_tdp_fault *f);
int mkvm_exit_shutdown(struct mkvm_vcpu *vcpu);
/* Step over the exiting instruction: rip += exit_insn_len. */
static inline void mkvm_skip_insn(struct mkvm_vcpu *vcpu)
{
	vcpu->rip += vcpu->exit_insn_len;
}
/* Guest virtual -> guest physical, using the guest's own page tables. */
int mkvm_gva_to_gpa(struct mkvm_vcpu *vcpu, u64 gva, bool write, u64 *gpa);
int mkvm_exit_fail_entry(struct mkvm_vcpu *vcpu, u64 reason);
int mkvm_exit_unexpected(struct mkvm_vcpu *vcpu, u64 code, u64 info1,
			 u64 info2);
int mkvm_complete_userspace_io(struct mkvm_vcpu *vcpu);
int mkvm_handle_irq_window(struct mkvm_vcpu *vcpu);
void mkvm_vcpu_on_spin(struct mkvm_vcpu *vcpu);
void mkvm_queue_exception(struct mkvm_vcpu *vcpu, u8 vector,
			  bool has_error, u32 error);

/* events.c: NMIs, KVM_GET/SET_VCPU_EVENTS, KVM_GET/SET_DEBUGREGS */
void mkvm_vcpu_queue_nmi(struct mkvm_vcpu *vcpu);
bool mkvm_nmi_waiting(struct mkvm_vcpu *vcpu);
void mkvm_prepare_nmi(struct mkvm_vcpu *vcpu);
void mkvm_events_reset(struct mkvm_vcpu *vcpu);
void mkvm_get_vcpu_events(struct mkvm_vcpu *vcpu, struct kvm_vcpu_events *ev);
int mkvm_set_vcpu_events(struct mkvm_vcpu *vcpu, struct kvm_vcpu_events *ev);
long mkvm_events_ioctl(struct mkvm_vcpu *vcpu, unsigned int ioctl,
		       void __user *argp);

/* smm.c: System Management Mode */
void mkvm_smm_reset(struct mkvm_vcpu *vcpu, bool init_event);
void mkvm_smi(struct mkvm_vcpu *vcpu);
void mkvm_smm_prepare(struct mkvm_vcpu *vcpu);
int mkvm_emulate_rsm(struct mkvm_vcpu *vcpu);
void mkvm_smm_get_events(struct mkvm_vcpu *vcpu, struct kvm_vcpu_events *ev);
int mkvm_smm_check_events(struct mkvm_vcpu *vcpu,
			  const struct kvm_vcpu_events *ev);
void mkvm_smm_set_events(struct mkvm_vcpu *vcpu,
			 const struct kvm_vcpu_events *ev);

/* guestdbg.c: KVM_SET_GUEST_DEBUG, and the KVM_GUESTDBG_* flags it knows */
#define MKVM_GUESTDBG_VALID						\
	(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |		\
	 KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_USE_HW_BP |		\
	 KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP |		\
	 KVM_GUESTDBG_BLOCKIRQ)
long mkvm_set_guest_debug(struct mkvm_vcpu *vcpu,
			  struct kvm_guest_debug __user *argp);
unsigned long mkvm_get_rflags(struct mkvm_vcpu *vcpu);
void mkvm_set_rflags(struct mkvm_vcpu *vcpu, unsigned long rflags);
int mkvm_debug_exit(struct mkvm_vcpu *vcpu, u8 vector, u64 dr6, u64 dr7);
int mkvm_handle_db(struct mkvm_vcpu *vcpu, u64 dr6, u64 dr7);
int mkvm_step_emulated(struct mkvm_vcpu *vcpu);
bool mkvm_dr_general_detect(struct mkvm_vcpu *vcpu, int *ret);
void mkvm_load_debug_addrs(struct mkvm_vcpu *vcpu,
			   const unsigned long *guest_db);
/* The VMM, not the guest, takes the guest's #DB (single step, HW BPs). */
static inline bool mkvm_debug_owns_db(struct mkvm_vcpu *vcpu)
{
	return vcpu->guest_debug &
	       (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP);
}

/* DR7 L0-3/G0-3: a breakpoint is enabled; GD (SDM Vol.3 17.2.4). */
#define MKVM_DR7_BP_EN		0xffULL
#define MKVM_DR7_GD		BIT_ULL(13)
/*
 * The bits of a guest's DR7 that go into the hardware: L0-3/G0-3, LE/GE,
 * GD, R/W0-3 and LEN0-3; not bit 11 (RTM, not offered to guests) nor the
 * reserved 12, 14, 15, 63:32, which would fail VMRUN/VM entry (APM Vol.2
 * 15.5.1, SDM Vol.3 27.3.1.1). Bit 10 reads as 1.
 */
#define MKVM_DR7_HW_BITS	0xffff23ffULL
#define MKVM_DR7_RESET		0x400ULL

/**
 * mkvm_hw_dr7() - the DR7 the guest runs with, for the VMCB / VMCS.
 * @guest_dr7: the guest's own DR7 (its software copy)
 *
 * The VMM's while it uses hardware breakpoints (they take precedence over
 * the guest's, as in KVM), else the guest's own.
 */
static inline u64 mkvm_hw_dr7(struct mkvm_vcpu *vcpu, u64 guest_dr7)
{
	if (unlikely(vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP))
		return vcpu->debug_dr7;
	return (guest_dr7 & MKVM_DR7_HW_BITS) | MKVM_DR7_RESET;
}
/* The guest's linear RIP (pv.c). */
u64 mkvm_rip_linear(struct mkvm_vcpu *vcpu);

/* msr.c */
int mkvm_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data, bool host);
int mkvm_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data, bool host);
int mkvm_emulate_rdmsr(struct mkvm_vcpu *vcpu);
int mkvm_emulate_wrmsr(struct mkvm_vcpu *vcpu);
int mkvm_get_msr_index_list(struct kvm_msr_list __user *ul);
int mkvm_copy_msr_list(struct kvm_msr_list __user *ul, const u32 *list,
		       u32 n);
bool mkvm_apic_base_valid(struct mkvm_vcpu *vcpu, u64 value);
int mkvm_msrs_ioctl(struct mkvm_vcpu *vcpu, struct kvm_msrs __user *um,
		    bool set);

/* msr_user.c: MSR accesses the VMM handles, the MSR filter */
bool mkvm_msr_allowed(struct mkvm_vcpu *vcpu, u32 index, u32 type);
u32 mkvm_msr_exit_reason(int err);
int mkvm_msr_refused(struct mkvm_vcpu *vcpu, u32 index, u64 data, bool read,
		     u32 reason);
int mkvm_complete_user_msr(struct mkvm_vcpu *vcpu);
int mkvm_enable_user_space_msr(struct mkvm *vm, u64 mask);
int mkvm_set_msr_filter(struct mkvm *vm, const void __user *argp);
void mkvm_free_msr_filter(struct mkvm *vm);

/* mce.c */
void mkvm_mce_reset(struct mkvm_vcpu *vcpu);
int mkvm_mce_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data, bool host);
int mkvm_mce_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data, bool host);
long mkvm_mce_ioctl(struct mkvm_vcpu *vcpu, unsigned int ioctl,
		    void __user *argp);
int mkvm_mce_get_supported(u64 __user *argp);

/* kvmclock.c */
bool mkvm_kvmclock_usable(void);
void mkvm_kvmclock_init_vm(struct mkvm *vm);
void mkvm_kvmclock_update(struct mkvm_vcpu *vcpu);
int mkvm_kvmclock_set_system_time(struct mkvm_vcpu *vcpu, u64 data, bool host);
int mkvm_kvmclock_set_wall_clock(struct mkvm_vcpu *vcpu, u64 data, bool host);
int mkvm_get_clock(struct mkvm *vm, struct kvm_clock_data __user *argp);
int mkvm_set_clock(struct mkvm *vm, struct kvm_clock_data __user *argp);

/* features.c */
void mkvm_features_vm_init(struct mkvm *vm);
void mkvm_features_vcpu_init(struct mkvm_vcpu *vcpu);
bool mkvm_vcpu_id_allowed(struct mkvm *vm, unsigned long id);
u64 mkvm_valid_quirks(void);
bool mkvm_has_quirk(struct mkvm *vm, u64 quirk);
int mkvm_features_vm_enable_cap(struct mkvm *vm,
				const struct kvm_enable_cap *cap);
int mkvm_vcpu_enable_cap(struct mkvm_vcpu *vcpu,
			 struct kvm_enable_cap __user *argp);
bool mkvm_cpuid_faults(struct mkvm_vcpu *vcpu);
long mkvm_get_tsc_khz(struct mkvm_vcpu *vcpu);
int mkvm_set_tsc_khz(struct mkvm_vcpu *vcpu, unsigned long arg);
void mkvm_tsc_written(struct mkvm_vcpu *vcpu);
void mkvm_tsc_catchup(struct mkvm_vcpu *vcpu);
long mkvm_vcpu_device_attr(struct mkvm_vcpu *vcpu, unsigned int ioctl,
			   struct kvm_device_attr __user *argp);
int mkvm_feature_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data,
			 bool host);
int mkvm_feature_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data,
			 bool host);
int mkvm_get_msr_feature_index_list(struct kvm_msr_list __user *ul);
int mkvm_get_feature_msrs(struct kvm_msrs __user *um);
void mkvm_cpuid_mwait_update(struct mkvm_vcpu *vcpu,
			       struct kvm_cpuid_entry2 *e, int n);
int mkvm_set_misc_enable(struct mkvm_vcpu *vcpu, u64 data, bool host);
int mkvm_emulate_monitor_mwait(struct mkvm_vcpu *vcpu);

/* pv.c */
bool mkvm_pv_msr_allowed(struct mkvm_vcpu *vcpu, u32 index);
int mkvm_emulate_hypercall(struct mkvm_vcpu *vcpu);
int mkvm_handle_ud(struct mkvm_vcpu *vcpu);

/* stats.c: KVM_GET_STATS_FD on a VM fd (@vcpu NULL) or a vCPU fd. */
int mkvm_get_stats_fd(struct mkvm *vm, struct mkvm_vcpu *vcpu);
/* ...and the same statistics by number, for debugfs.c. */
unsigned int mkvm_stat_count(void);
const char *mkvm_stat_name(unsigned int i);
u64 mkvm_stat_value(struct mkvm *vm, unsigned int i);

/* debugfs.c: /sys/kernel/debug/kvm, for Linux's kvm_stat. */
void mkvm_debugfs_init(void);
void mkvm_debugfs_exit(void);
int mkvm_debugfs_vm_create(struct mkvm *vm, int fd);
void mkvm_debugfs_vm_destroy(struct mkvm *vm);

/* xsave.c */
extern u64 mkvm_host_xcr0;
extern u64 mkvm_supported_xcr0;
void mkvm_xsave_init(void);
u32 mkvm_xstate_size(u64 xfeatures, bool compacted);
int mkvm_set_xcr(struct mkvm_vcpu *vcpu, u32 index, u64 xcr0);
int mkvm_emulate_xsetbv(struct mkvm_vcpu *vcpu);
void mkvm_xcr0_load_guest(struct mkvm_vcpu *vcpu);
void mkvm_xcr0_load_host(struct mkvm_vcpu *vcpu);
long mkvm_xsave_ioctl(struct mkvm_vcpu *vcpu, unsigned int ioctl,
		      void __user *argp);
int mkvm_xsave2_size(void);

/* cpuid.c */
int mkvm_get_supported_cpuid(struct kvm_cpuid2 __user *ucpuid);
void mkvm_cpuid_update_runtime(struct mkvm_vcpu *vcpu);
int mkvm_set_cpuid2(struct mkvm_vcpu *vcpu, struct kvm_cpuid2 __user *uc);
int mkvm_get_cpuid2(struct mkvm_vcpu *vcpu, struct kvm_cpuid2 __user *uc);
int mkvm_guest_maxphyaddr(struct mkvm_vcpu *vcpu);
int mkvm_set_cpuid(struct mkvm_vcpu *vcpu, struct kvm_cpuid __user *uc);
bool mkvm_cr4_valid(struct mkvm_vcpu *vcpu, u64 cr4);

#endif /* MINIKVM_H */
