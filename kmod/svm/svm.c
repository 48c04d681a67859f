// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm SVM backend: AMD Secure Virtual Machine with nested paging.
 *
 * The whole life of a guest on AMD, in the order of this file:
 *
 *   probe          CPUID says SVM and NPT are there, firmware did not lock
 *                  them off (APM Vol.2 15.4).
 *   cpu_enable     EFER.SVME = 1 and a host save area in MSR_VM_HSAVE_PA,
 *                  on every CPU (15.4, 15.30.4).
 *   vm_init        an address space ID: the TLB tags guest entries with it
 *                  so they survive world switches (15.16).
 *   vcpu_create    a VMCB: intercepts, permission maps, reset state (15.5).
 *   run            VMRUN, which returns at the next #VMEXIT (vmenter.S).
 *   handle_exit    the exit table: decode EXITCODE/EXITINFO1/EXITINFO2,
 *                  call the core (15.7, 15.8).
 *
 * Layouts and bit numbers are in vmcb.h; nested page table entries in
 * npt.c.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/pkru.h>
#include <asm/processor.h>
#include <asm/special_insns.h>

#include "minikvm.h"
#include "svm.h"

/* vmenter.S hard-codes these register numbers. */
static_assert(MKVM_RAX == 0 && MKVM_RCX == 1 && MKVM_RDX == 2 &&
	      MKVM_RBX == 3 && MKVM_RSP == 4 && MKVM_RBP == 5 &&
	      MKVM_RSI == 6 && MKVM_RDI == 7 && MKVM_R8 == 8 &&
	      MKVM_R15 == 15);
static_assert(sizeof(((struct mkvm_vcpu *)0)->regs[0]) == 8);

/* CPUID leaves and bits (APM Vol.3 Appendix E, E.4.2 and E.4.9). */
#define CPUID_EXT_FEATURES	0x80000001
#define CPUID_EXT_ECX_SVM	BIT(2)
#define CPUID_SVM_FEATURES	0x8000000a
#define CPUID_SVM_EDX_NP	BIT(0)
#define CPUID_SVM_EDX_NRIPS	BIT(3)
#define CPUID_SVM_EDX_FLUSHASID	BIT(6)
#define CPUID_SVM_EDX_DECODE	BIT(7)

/* VM_CR.SVMDIS: firmware turned SVM off (APM Vol.2 15.30.1). */
#define VM_CR_SVMDIS		BIT_ULL(4)

/* Reset values (APM Vol.2 14.1.3 Table 14-1; SDM Vol.3 9.1.1 Table 9-1). */
#define SVM_RESET_CR0		0x60000010ULL	/* CD, NW, ET */
#define SVM_RESET_DR6		0xffff0ff0ULL
#define SVM_RESET_DR7		0x400ULL
/* Reads and writes of DR0-7 (VMCB offset 004h, APM Vol.2 Table B-1). */
#define SVM_DR_INTERCEPTS	0x00ff00ffU
#define SVM_RESET_PAT		0x0007040600070406ULL

/* An ASID bitmap larger than this would only waste memory. */
#define SVM_MAX_ASIDS		4096

struct svm_caps svm_caps;

/* The CPU has MSR_TSC_AUX (it has RDTSCP or RDPID, which read it). */
static bool svm_has_tsc_aux;

/* The CPU is QEMU's emulated one (TCG): see svm_tcg_repoll(). */
static bool svm_on_tcg __read_mostly;

/*
 * Per-CPU state. Two pages each: the host save area VMRUN writes the
 * host's state to (its address goes to MSR_VM_HSAVE_PA; software must not
 * touch its contents, APM Vol.2 15.30.4), and the page our world switch
 * VMSAVEs the host's FS/GS/TR/LDTR/syscall MSRs into.
 */
struct svm_cpu {
	struct page *hsave;
	struct page *host_save;
	phys_addr_t host_save_pa;
	bool enabled;		/* we set EFER.SVME here */
	u64 last_vcpu_uid;	/* vCPU that last ran here, 0 = none */
	u64 host_tsc_aux;
};
static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);

/* One MSR and one I/O permission map for every vCPU: all ones. */
static struct page *svm_msrpm;
static struct page *svm_iopm;
#define MSRPM_ORDER	1	/* 8 KiB (APM Vol.2 15.11) */
#define IOPM_ORDER	2	/* 12 KiB used of 16 (APM Vol.2 15.10.1) */
#define IOPM_SIZE	(12 * 1024)

/* ASID 0 is the host's; guests get 1 .. nr_asids - 1 (15.16). */
static unsigned long *svm_asid_bitmap;
static DEFINE_SPINLOCK(svm_asid_lock);
static atomic_t svm_asid_next = ATOMIC_INIT(0);

static atomic64_t svm_vcpu_uids = ATOMIC64_INIT(0);

/* ------------------------------------------------------------------ */
/* Hardware helpers                                                    */
/* ------------------------------------------------------------------ */

/*
 * GIF, the global interrupt flag (APM Vol.2 15.17): while it is clear, no
 * interrupt, NMI or SMI is taken at all, whatever RFLAGS.IF says.
 */
static inline void svm_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

/* Is @v a canonical address on this CPU (48 or 57 implemented bits)? */
static bool svm_is_canonical(u64 v)
{
	int bits = pgtable_l5_enabled() ? 57 : 48;

	return (u64)((s64)(v << (64 - bits)) >> (64 - bits)) == v;
}

/* ------------------------------------------------------------------ */
/* Module and CPU lifecycle                                            */
/* ------------------------------------------------------------------ */

/*
 * Does this CPU have what we need? SVM itself (CPUID 8000_0001h ECX bit
 * 2), not disabled by firmware (VM_CR.SVMDIS, 15.30.1), and nested paging
 * (CPUID 8000_000Ah EDX bit 0): minikvm has no shadow paging.
 */
/*
 * QEMU's TCG names itself in the hypervisor CPUID leaf 4000_0000h
 * ("TCGTCGTCGTCG"), as KVM does with "KVMKVMKVM".
 */
static bool svm_cpu_is_tcg(void)
{
	u32 eax, sig[3];

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return false;
	cpuid(0x40000000, &eax, &sig[0], &sig[1], &sig[2]);
	return !memcmp(sig, "TCGTCGTCGTCG", sizeof(sig));
}

static int svm_probe(void)
{
	u32 eax, ebx, ecx, edx;
	u64 vm_cr;

	if (cpuid_eax(0x80000000) < CPUID_SVM_FEATURES ||
	    !(cpuid_ecx(CPUID_EXT_FEATURES) & CPUID_EXT_ECX_SVM)) {
		pr_info("svm: CPU has no AMD SVM (CPUID 8000_0001h ECX.SVM)\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & VM_CR_SVMDIS)) {
		pr_info("svm: SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	cpuid(CPUID_SVM_FEATURES, &eax, &ebx, &ecx, &edx);
	if (!(edx & CPUID_SVM_EDX_NP)) {
		pr_info("svm: no nested paging (CPUID 8000_000Ah EDX.NP)\n");
		return -ENODEV;
	}
	if (ebx < 2) {
		pr_info("svm: no ASID for guests (CPUID 8000_000Ah EBX = %u)\n",
			ebx);
		return -ENODEV;
	}
	svm_caps.nr_asids = min_t(u32, ebx, SVM_MAX_ASIDS);
	svm_caps.nrips = edx & CPUID_SVM_EDX_NRIPS;
	svm_caps.flush_by_asid = edx & CPUID_SVM_EDX_FLUSHASID;
	svm_caps.decode_assists = edx & CPUID_SVM_EDX_DECODE;
	svm_has_tsc_aux = boot_cpu_has(X86_FEATURE_RDTSCP) ||
			  boot_cpu_has(X86_FEATURE_RDPID);
	svm_on_tcg = svm_cpu_is_tcg();
	if (svm_on_tcg)
		pr_info("svm: QEMU TCG CPU: the APIC is re-polled after a VMRUN with V_IRQ\n");
	pr_info("svm: SVM rev %u, %u ASIDs, NPT%s%s%s\n", eax & 0xff, ebx,
		svm_caps.nrips ? ", NRIPS" : "",
		svm_caps.flush_by_asid ? ", FlushByAsid" : "",
		svm_caps.decode_assists ? ", DecodeAssists" : "");
	return 0;
}

static void svm_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

		if (sd->hsave)
			__free_page(sd->hsave);
		if (sd->host_save)
			__free_page(sd->host_save);
		sd->hsave = NULL;
		sd->host_save = NULL;
	}
}

static int svm_alloc_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);
		int node = cpu_to_node(cpu);

		sd->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		sd->host_save = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		if (!sd->hsave || !sd->host_save)
			return -ENOMEM;
		sd->host_save_pa = page_to_phys(sd->host_save);
	}
	return 0;
}

/* Module load: everything the CPUs and VMs share. */
static int svm_global_init(void)
{
	int r = -ENOMEM;

	if (svm_alloc_cpu_pages())
		goto err_free_cpu_pages;

	/*
	 * A set bit intercepts: every MSR (15.11) and every port (15.10.1)
	 * goes to the core, which decides what the guest may see.
	 */
	svm_msrpm = alloc_pages(GFP_KERNEL, MSRPM_ORDER);
	if (!svm_msrpm)
		goto err_free_cpu_pages;
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << MSRPM_ORDER);

	svm_iopm = alloc_pages(GFP_KERNEL | __GFP_ZERO, IOPM_ORDER);
	if (!svm_iopm)
		goto err_free_msrpm;
	memset(page_address(svm_iopm), 0xff, IOPM_SIZE);

	svm_asid_bitmap = bitmap_zalloc(svm_caps.nr_asids, GFP_KERNEL);
	if (!svm_asid_bitmap)
		goto err_free_iopm;
	__set_bit(0, svm_asid_bitmap);	/* the host's */
	return 0;

err_free_iopm:
	__free_pages(svm_iopm, IOPM_ORDER);
err_free_msrpm:
	__free_pages(svm_msrpm, MSRPM_ORDER);
err_free_cpu_pages:
	svm_free_cpu_pages();
	return r;
}

static void svm_global_exit(void)
{
	bitmap_free(svm_asid_bitmap);
	__free_pages(svm_iopm, IOPM_ORDER);
	__free_pages(svm_msrpm, MSRPM_ORDER);
	svm_free_cpu_pages();
}

/*
 * Turn SVM on for this CPU (APM Vol.2 15.4 "Enabling SVM"): EFER.SVME
 * makes VMRUN & co. legal, and VM_HSAVE_PA says where VMRUN may put the
 * host's state. Called on every CPU with interrupts off.
 */
static int svm_cpu_enable(void)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		pr_err("svm: EFER.SVME already set on CPU %d: another hypervisor is running\n",
		       smp_processor_id());
		return -EBUSY;
	}
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(sd->hsave));
	sd->enabled = true;
	/* Whatever this CPU's TLB holds for our ASIDs is from another era. */
	sd->last_vcpu_uid = 0;
	if (svm_has_tsc_aux)
		rdmsrl(MSR_TSC_AUX, sd->host_tsc_aux);
	return 0;
}

static void svm_cpu_disable(void)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	u64 efer;

	/* Only undo what we did: SVME may belong to someone else. */
	if (!sd->enabled)
		return;
	/*
	 * GIF is 1 here, except in an emergency (main.c) that stopped this
	 * CPU between CLGI and STGI: set it, or INIT and NMIs stay blocked
	 * after SVM is off (APM Vol.2 15.17).
	 */
	svm_stgi();
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	sd->enabled = false;
}

/* ------------------------------------------------------------------ */
/* VM lifecycle: the ASID                                              */
/* ------------------------------------------------------------------ */

static int svm_alloc_asid(void)
{
	unsigned long asid;

	spin_lock(&svm_asid_lock);
	asid = find_next_zero_bit(svm_asid_bitmap, svm_caps.nr_asids, 1);
	if (asid < svm_caps.nr_asids)
		__set_bit(asid, svm_asid_bitmap);
	spin_unlock(&svm_asid_lock);
	return asid < svm_caps.nr_asids ? asid : -ENOSPC;
}

static void svm_free_asid(u32 asid)
{
	spin_lock(&svm_asid_lock);
	__clear_bit(asid, svm_asid_bitmap);
	spin_unlock(&svm_asid_lock);
}

/*
 * One ASID per VM, shared by its vCPUs (their TLB entries come from the
 * same nested table). A freed ASID may be reused by the next VM while
 * CPUs still cache its old entries: svm_prepare_tlb() flushes whenever a
 * vCPU is new to a CPU, which covers that too.
 */
static int svm_vm_init(struct mkvm *vm)
{
	struct svm_vm *svm_vm;
	int as, asid, r = -ENOMEM;

	svm_vm = kzalloc(sizeof(*svm_vm), GFP_KERNEL_ACCOUNT);
	if (!svm_vm)
		return -ENOMEM;
	/* The core's roots exist already (tdp.c) and never move. */
	for (as = 0; pgtable_l5_enabled() && as < MKVM_NR_AS; as++) {
		svm_vm->pml5[as] = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!svm_vm->pml5[as])
			goto err_free_vm;
		svm_vm->pml5_pa[as] = __pa(svm_vm->pml5[as]);
		svm_vm->pml5[as][0] = svm_tdp_pte(vm->tdp.root_pa[as], false,
						  true, true);
	}
	asid = svm_alloc_asid();
	if (asid < 0) {
		/*
		 * More VMs than ASIDs (QEMU offers 16; real parts thousands).
		 * Two VMs may share one: svm_prepare_tlb() flushes the ASID
		 * whenever a CPU switches from one vCPU to another, so a VM
		 * never sees the other's translations. Sharing costs those
		 * flushes, nothing else.
		 */
		asid = 1 + (unsigned int)atomic_inc_return(&svm_asid_next) %
			   (svm_caps.nr_asids - 1);
		svm_vm->asid_shared = true;
	}
	svm_vm->asid = asid;
	vm->vendor = svm_vm;
	return 0;

err_free_vm:
	for (as = 0; as < MKVM_NR_AS; as++)
		free_page((unsigned long)svm_vm->pml5[as]);
	kfree(svm_vm);
	return r;
}

static void svm_vm_destroy(struct mkvm *vm)
{
	struct svm_vm *svm_vm = vm->vendor;
	int as;

	if (!svm_vm)
		return;
	if (!svm_vm->asid_shared)
		svm_free_asid(svm_vm->asid);
	for (as = 0; as < MKVM_NR_AS; as++)
		free_page((unsigned long)svm_vm->pml5[as]);
	kfree(svm_vm);
	vm->vendor = NULL;
}

/* ------------------------------------------------------------------ */
/* vCPU lifecycle: the VMCB                                            */
/* ------------------------------------------------------------------ */

/* A data segment as after RESET: base 0, limit 64 KiB, read/write. */
static void svm_reset_seg(struct vmcb_seg *s, u16 type_attr)
{
	s->selector = 0;
	s->base = 0;
	s->limit = 0xffff;
	s->attrib = type_attr | SVM_SEG_P;
}

/*
 * What we intercept, and why (APM Vol.2 15.9-15.13, Table B-1). The rule:
 * the guest may use anything that only changes its own state; anything
 * that could reach host state or the real hardware exits.
 */
static void svm_init_intercepts(struct vmcb_control *c)
{
	/*
	 * CR0/CR3/CR4 are the guest's own with nested paging. CR8 reads
	 * come from V_TPR (V_INTR_MASKING below); CR8 writes exit, as in
	 * KVM without an in-kernel APIC: a lower TPR goes to the VMM
	 * (mkvm_emulate_set_cr8()).
	 *
	 * Debug registers are not switched by VMRUN except DR6/DR7: a guest
	 * writing DR0-DR3 would change the host's breakpoints. Intercept
	 * every MOV DR; the first one hands them to the guest until the next
	 * exit (svm_handle_dr()).
	 */
	c->intercepts[VMCB_ICPT_DR] = SVM_DR_INTERCEPTS;
	c->intercepts[VMCB_ICPT_CR] = BIT(16 + 8);	/* CR8 writes */

	/*
	 * #DB and #AC: a guest can make their delivery fault again forever
	 * inside the CPU, never exiting (CVE-2015-8104, CVE-2015-5307);
	 * intercepting them and re-injecting keeps the host in control.
	 * #MC: a machine check belongs to the host's handler.
	 * #UD: VMCALL, Intel's hypercall, may need rewriting (pv.c).
	 */
	c->intercepts[VMCB_ICPT_EXC] = BIT(1) | BIT(6) | BIT(17) | BIT(18);

	c->intercepts[VMCB_ICPT_MISC1] =
		INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI |	/* host's */
		INTERCEPT_CPUID | INTERCEPT_HLT |		/* emulated */
		INTERCEPT_IOIO_PROT | INTERCEPT_MSR_PROT |	/* via maps */
		INTERCEPT_RDPMC |	/* would read the host's counters */
		INTERCEPT_INVD |	/* would drop the host's dirty lines */
		INTERCEPT_RSM | INTERCEPT_INVLPGA |
		INTERCEPT_SHUTDOWN;	/* VMCB undefined after it (15.12) */

	c->intercepts[VMCB_ICPT_MISC2] =
		INTERCEPT2_VMRUN |	/* VMRUN fails without it (15.5.1) */
		INTERCEPT2_VMMCALL | INTERCEPT2_VMLOAD | INTERCEPT2_VMSAVE |
		INTERCEPT2_STGI | INTERCEPT2_CLGI | INTERCEPT2_SKINIT |
		INTERCEPT2_WBINVD | INTERCEPT2_MONITOR | INTERCEPT2_MWAIT |
		INTERCEPT2_XSETBV |	/* XCR0: switched by minikvm (xsave.c) */
		INTERCEPT2_RDPRU;

	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);

	/*
	 * V_INTR_MASKING (15.21.1): the guest's RFLAGS.IF and CR8 then only
	 * mask virtual interrupts; physical ones stay under the host's IF,
	 * so a guest sitting in CLI cannot keep the host's interrupts out.
	 */
	c->int_ctl = V_INTR_MASKING;
	c->nested_ctl = NESTED_CTL_NP_ENABLE;
}

/*
 * The architectural RESET state, as KVM reports it for a new vCPU on AMD
 * (APM Vol.2 14.1.3 Table 14-1): real mode at F000:FFF0, i.e. linear
 * FFFF_FFF0 through the CS base.
 */
static void svm_init_save(struct vmcb_save *s)
{
	svm_reset_seg(&s->es, SVM_SEG_S | SEG_TYPE_DATA_RW);
	svm_reset_seg(&s->ss, SVM_SEG_S | SEG_TYPE_DATA_RW);
	svm_reset_seg(&s->ds, SVM_SEG_S | SEG_TYPE_DATA_RW);
	svm_reset_seg(&s->fs, SVM_SEG_S | SEG_TYPE_DATA_RW);
	svm_reset_seg(&s->gs, SVM_SEG_S | SEG_TYPE_DATA_RW);
	svm_reset_seg(&s->cs, SVM_SEG_S | SEG_TYPE_CODE_RX);
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	svm_reset_seg(&s->ldtr, SEG_TYPE_LDT);
	svm_reset_seg(&s->tr, SEG_TYPE_BUSY_TSS16);
	s->gdtr.limit = 0xffff;
	s->idtr.limit = 0xffff;

	s->cr0 = SVM_RESET_CR0;
	s->dr6 = SVM_RESET_DR6;
	s->dr7 = SVM_RESET_DR7;
	s->rflags = MKVM_RFLAGS_FIXED;
	s->rip = 0xfff0;
	/* The guest sees EFER = 0; the VMCB's must have SVME (15.5.1). */
	s->efer = EFER_SVME;
	s->g_pat = SVM_RESET_PAT;
}

/* (Re)initialise the VMCB and the state we mirror in struct mkvm_vcpu. */
static void svm_vcpu_reset(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct svm_vm *svm_vm = vcpu->vm->vendor;

	/* Everything not set below, reserved fields included, is 0. */
	clear_page(svm->vmcb);
	svm_init_intercepts(&svm->vmcb->control);
	/* KVM_SET_GUEST_DEBUG outlives a reset, as in KVM. */
	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		svm->vmcb->control.intercepts[VMCB_ICPT_EXC] |=
			BIT(MKVM_BP_VECTOR);
	svm_init_save(&svm->vmcb->save);
	memset(svm->db, 0, sizeof(svm->db));
	svm->dr7 = SVM_RESET_DR7;
	svm->flush_tlb = true;
	svm->virq_posted = false;

	/*
	 * Fixed for the vCPU's life: the VM's ASID (15.16) and the root of
	 * its nested page table (15.25.3), which the core never replaces.
	 */
	svm->vmcb->control.asid = svm_vm->asid;
	svm->vmcb->control.nested_cr3 = svm_npt_root(vcpu->vm,
						     mkvm_tdp_root_pa(vcpu));

	vcpu->rip = svm->vmcb->save.rip;
	vcpu->rflags = svm->vmcb->save.rflags;
	vcpu->cr2 = 0;
	vcpu->efer = 0;
}

static int svm_vcpu_create(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm;
	struct page *page;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->uid = atomic64_inc_return(&svm_vcpu_uids);
	vcpu->vendor = svm;
	svm_vcpu_reset(vcpu);
	return 0;
}

static void svm_vcpu_free(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (!svm)
		return;
	free_page((unsigned long)svm->vmcb);
	kfree(svm);
	vcpu->vendor = NULL;
}

/*
 * The vCPU thread arrives on @cpu. If it ran elsewhere before, this CPU's
 * TLB may hold translations the guest has since invalidated on the other
 * one (INVLPG, MOV CR3 act on the local TLB only): flush our ASID at the
 * next VMRUN. The core updates vcpu->cpu after we return.
 */
static void svm_vcpu_load(struct mkvm_vcpu *vcpu, int cpu)
{
	if (vcpu->cpu != cpu)
		to_svm(vcpu)->flush_tlb = true;
}

static void svm_vcpu_put(struct mkvm_vcpu *vcpu)
{
	/* Nothing: the VMCB is in memory, and VMRUN needs no "current". */
}

/* ------------------------------------------------------------------ */
/* State get/set                                                       */
/* ------------------------------------------------------------------ */

static struct vmcb_seg *svm_seg(struct vcpu_svm *svm, int seg)
{
	struct vmcb_save *s = &svm->vmcb->save;

	switch (seg) {
	case MKVM_ES:	return &s->es;
	case MKVM_CS:	return &s->cs;
	case MKVM_SS:	return &s->ss;
	case MKVM_DS:	return &s->ds;
	case MKVM_FS:	return &s->fs;
	case MKVM_GS:	return &s->gs;
	case MKVM_TR:	return &s->tr;
	case MKVM_LDTR:	return &s->ldtr;
	default:	return NULL;
	}
}

/*
 * VMCB segment -> KVM ABI. The VMCB packs descriptor bits 47:40 and
 * 55:52 into a 12-bit attribute word (APM Vol.2 15.5.1); kvm_segment has
 * one field per bit. The fix-ups make the answer the one KVM gives on AMD.
 */
static void svm_get_segment(struct mkvm_vcpu *vcpu, struct kvm_segment *var,
			    int seg)
{
	struct vmcb_seg *s = svm_seg(to_svm(vcpu), seg);
	u16 a;

	memset(var, 0, sizeof(*var));
	if (!s)
		return;
	a = s->attrib;
	var->base = s->base;
	var->limit = s->limit;
	var->selector = s->selector;
	var->type = a & SVM_SEG_TYPE_MASK;
	var->s = !!(a & SVM_SEG_S);
	var->dpl = (a & SVM_SEG_DPL_MASK) >> SVM_SEG_DPL_SHIFT;
	var->present = !!(a & SVM_SEG_P);
	var->avl = !!(a & SVM_SEG_AVL);
	var->l = !!(a & SVM_SEG_L);
	var->db = !!(a & SVM_SEG_DB);
	/* The CPU does not keep G in the VMCB reliably: derive it. */
	var->g = s->limit > 0xfffff;
	/* The VMCB has no "unusable": a null segment is simply not present. */
	var->unusable = !var->present;

	switch (seg) {
	case MKVM_TR:
		var->type |= 0x2;	/* a loaded TSS is always busy */
		break;
	case MKVM_ES: case MKVM_DS: case MKVM_FS: case MKVM_GS:
		if (var->present)
			var->type |= 0x1;	/* cached: always accessed */
		break;
	case MKVM_SS:
		/* The VMCB's CPL field is authoritative (15.5.1). */
		var->dpl = to_svm(vcpu)->vmcb->save.cpl;
		if (var->unusable)
			var->db = 0;
		break;
	}
}

static void svm_set_segment(struct mkvm_vcpu *vcpu,
			    const struct kvm_segment *var, int seg)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb_seg *s = svm_seg(svm, seg);
	u16 a;

	if (!s)
		return;
	a = var->type & SVM_SEG_TYPE_MASK;
	a |= var->s ? SVM_SEG_S : 0;
	a |= (var->dpl & 3) << SVM_SEG_DPL_SHIFT;
	a |= (var->present && !var->unusable) ? SVM_SEG_P : 0;
	a |= var->avl ? SVM_SEG_AVL : 0;
	a |= var->l ? SVM_SEG_L : 0;
	a |= var->db ? SVM_SEG_DB : 0;
	a |= var->g ? SVM_SEG_G : 0;
	s->attrib = a;
	s->selector = var->selector;
	s->limit = var->limit;
	s->base = var->base;
	/* The CPU takes CPL from the VMCB, and it equals SS.DPL (15.5.1). */
	if (seg == MKVM_SS)
		svm->vmcb->save.cpl = var->dpl & 3;
}

static void svm_get_dtable(struct mkvm_vcpu *vcpu, struct kvm_dtable *dt,
			   bool idt)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	struct vmcb_seg *t = idt ? &s->idtr : &s->gdtr;

	memset(dt, 0, sizeof(*dt));
	dt->base = t->base;
	dt->limit = t->limit;
}

static void svm_set_dtable(struct mkvm_vcpu *vcpu, const struct kvm_dtable *dt,
			   bool idt)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	struct vmcb_seg *t = idt ? &s->idtr : &s->gdtr;

	t->base = dt->base;
	t->limit = dt->limit;
}

static u64 svm_get_cr(struct mkvm_vcpu *vcpu, int cr)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	switch (cr) {
	case 0:	return vmcb->save.cr0;
	case 2:	return vcpu->cr2;
	case 3:	return vmcb->save.cr3;
	case 4:	return vmcb->save.cr4;
	case 8:	return vmcb->control.int_ctl & V_TPR_MASK;
	default: return 0;
	}
}

/*
 * Userspace (KVM_SET_SREGS) changes a control register. With nested
 * paging they go straight into the VMCB; a new CR0/CR3/CR4 may change
 * what guest-virtual addresses mean, so drop the TLB's idea of them.
 */
static void svm_set_cr(struct mkvm_vcpu *vcpu, int cr, u64 val)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	switch (cr) {
	case 0:
		vmcb->save.cr0 = val;
		break;
	case 2:
		vcpu->cr2 = val;
		return;
	case 3:
		vmcb->save.cr3 = val;
		break;
	case 4:
		vmcb->save.cr4 = val;
		break;
	case 8:
		vmcb->control.int_ctl &= ~V_TPR_MASK;
		vmcb->control.int_ctl |= val & V_TPR_MASK;
		return;
	default:
		return;
	}
	svm->flush_tlb = true;
}

/* The guest sees @efer; the hardware additionally needs SVME (15.5.1). */
static void svm_set_efer(struct mkvm_vcpu *vcpu, u64 efer)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	vcpu->efer = efer;
	svm->vmcb->save.efer = efer | EFER_SVME;
	svm->flush_tlb = true;
}

static int svm_get_cpl(struct mkvm_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.cpl;
}

/*
 * Guest MSRs that live in the VMCB: the ones VMLOAD/VMSAVE move (15.5.2)
 * and the FS/GS bases, which are part of the segment registers. The core
 * owns every other MSR; PAT it keeps too, we copy it into G_PAT at entry.
 */
static u64 *svm_msr_slot(struct vcpu_svm *svm, u32 index)
{
	struct vmcb_save *s = &svm->vmcb->save;

	switch (index) {
	case MSR_STAR:			return &s->star;
	case MSR_LSTAR:			return &s->lstar;
	case MSR_CSTAR:			return &s->cstar;
	case MSR_SYSCALL_MASK:		return &s->sfmask;
	case MSR_KERNEL_GS_BASE:	return &s->kernel_gs_base;
	case MSR_IA32_SYSENTER_CS:	return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:	return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:	return &s->sysenter_eip;
	case MSR_FS_BASE:		return &s->fs.base;
	case MSR_GS_BASE:		return &s->gs.base;
	case MSR_TSC_AUX:
		/* A CPU without it: the WRMSR would fault in the host. */
		return svm_has_tsc_aux ? &svm->tsc_aux : NULL;
	default:			return NULL;
	}
}

static int svm_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data)
{
	u64 *slot = svm_msr_slot(to_svm(vcpu), index);

	if (!slot)
		return -ENOENT;
	*data = *slot;
	return 0;
}

static int svm_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data)
{
	u64 *slot = svm_msr_slot(to_svm(vcpu), index);

	if (!slot)
		return -ENOENT;
	switch (index) {
	case MSR_LSTAR: case MSR_CSTAR: case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE: case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		/* Addresses: WRMSR of a non-canonical one is #GP. */
		if (!svm_is_canonical(data))
			return -EINVAL;
		break;
	case MSR_TSC_AUX:
		if (data >> 32)		/* bits 63:32 reserved */
			return -EINVAL;
		break;
	}
	*slot = data;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entering the guest                                                  */
/* ------------------------------------------------------------------ */

/*
 * An external interrupt goes in as a virtual interrupt (APM Vol.2 15.21.4),
 * not through EVENTINJ: V_IRQ with the vector in V_INTR_VECTOR, ignoring
 * the guest's TPR as KVM_INTERRUPT does. The CPU takes it at the first
 * instruction boundary where the guest's RFLAGS.IF is 1 and no interrupt
 * shadow holds it back - exactly where a real INTR would be taken - and
 * clears V_IRQ when it does. We only post it when the guest can take it
 * (svm_interrupt_allowed()), so it is taken right at VMRUN.
 *
 * Why not EVENTINJ, which KVM uses? Both are architectural. But QEMU's TCG
 * SVM (the SVM rig) delivers an EVENTINJ interrupt and leaves its vector
 * behind as a pending exception; the next time its vCPU loop is kicked
 * before the guest exits or faults, it delivers the vector a second time,
 * whatever RFLAGS.IF says (irq_test's each_interrupt_once shows it; kvm.ko
 * is spared because, with a userspace irqchip, it forces an exit right
 * after every injection). A virtual interrupt goes through QEMU's ordinary
 * interrupt path instead, and costs no extra exit on any CPU.
 *
 * The interrupt window (svm_enable_irq_window()) uses the same V_IRQ, with
 * VINTR intercepted. Posting an interrupt replaces a window request: the
 * run loop asks again after the next exit.
 */
static void svm_post_virq(struct vcpu_svm *svm, u8 vector)
{
	struct vmcb_control *c = &svm->vmcb->control;

	c->int_vector = vector;
	c->int_ctl |= V_IRQ | V_IGN_TPR | V_INTR_PRIO_MASK;
	c->intercepts[VMCB_ICPT_MISC1] &= ~(INTERCEPT_VINTR | INTERCEPT_PAUSE);
	svm->virq_posted = true;
}

/* After #VMEXIT: was it taken? If not, it stays pending in vcpu->event. */
static void svm_collect_virq(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (!svm->virq_posted)
		return;
	svm->virq_posted = false;
	if (!(vmcb->control.int_ctl & V_IRQ))
		vcpu->event.pending = false;
	vmcb->control.int_ctl &= ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO_MASK);
}

/*
 * Deliver vcpu->event at this VMRUN. An exception goes through EVENTINJ
 * (APM Vol.2 15.20): the CPU delivers it as if it happened right at the
 * guest's first instruction, through the guest IDT, pushing an error code
 * if EV is set. Combinations the CPU would refuse (an exception vector of
 * 32 or more, or NMI as an exception: VMRUN fails) are dropped here
 * instead. An interrupt becomes a virtual interrupt (svm_post_virq()).
 */
static void svm_inject_event(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	struct mkvm_pending_event *e = &vcpu->event;
	u64 inj;

	vmcb->control.event_inj = 0;
	svm_nmi_before_entry(vcpu, vmcb);
	if (!e->pending)
		return;
	if (e->is_irq) {
		svm_post_virq(to_svm(vcpu), e->vector);
		return;
	}
	if (e->is_nmi) {
		svm_inject_nmi(vcpu, vmcb);	/* events.c */
		return;
	}
	e->pending = false;
	if (e->vector >= 32 || e->vector == 2)
		return;
	inj = SVM_EVTINJ_TYPE_EXCEPT;
	/* Real mode pushes no error code. */
	if (e->has_error && (vmcb->save.cr0 & MKVM_CR0_PE))
		inj |= SVM_EVTINJ_EV | ((u64)e->error << SVM_EVTINJ_ERR_SHIFT);
	vmcb->control.event_inj = inj | e->vector | SVM_EVTINJ_VALID;
}

/*
 * An event whose delivery the exit interrupted (EXITINTINFO, APM Vol.2
 * 15.7.2): e.g. the guest IDT or stack page was not yet in the nested
 * table. Queue it again so the next VMRUN finishes the job; an interrupt
 * (from EVENTINJ or V_IRQ alike) goes back in as a virtual interrupt.
 * Software interrupts (INTn) and INT3/INTO are not re-queued: RIP still
 * points at the instruction, which simply executes again.
 */
static void svm_requeue_event(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	u64 info = vmcb->control.exit_int_info;
	u8 vector = info & SVM_EVTINJ_VEC_MASK;
	u64 type = info & SVM_EVTINJ_TYPE_MASK;

	if (!(info & SVM_EVTINJ_VALID))
		return;
	/*
	 * No exception has a vector above 31. QEMU's TCG reports a virtual
	 * interrupt whose delivery was cut short that way: it is an INTR.
	 */
	if (type == SVM_EVTINJ_TYPE_EXCEPT && vector >= 32)
		type = SVM_EVTINJ_TYPE_INTR;

	switch (type) {
	case SVM_EVTINJ_TYPE_INTR:
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .is_irq = true, .vector = vector };
		break;
	case SVM_EVTINJ_TYPE_EXCEPT:
		if (vector == 3 || vector == 4)		/* #BP, #OF */
			break;
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .vector = vector,
			.has_error = !!(info & SVM_EVTINJ_EV),
			.error = info >> SVM_EVTINJ_ERR_SHIFT };
		break;
	case SVM_EVTINJ_TYPE_NMI:	/* goes in again, still masking */
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .is_nmi = true, .vector = vector };
		break;
	default:	/* INTn */
		break;
	}
}

/*
 * Decide TLB_CONTROL for this VMRUN (APM Vol.2 15.16.1). Flush this VM's
 * ASID when asked (flush_tlb: migration, new CRs, NPT changes) and
 * whenever another vCPU - of this VM, sharing the ASID, or of a dead VM
 * whose ASID we inherited - ran here last. Without FlushByAsid the only
 * choice is to flush everything.
 */
static void svm_prepare_tlb(struct vcpu_svm *svm, struct svm_cpu *sd)
{
	u8 ctl = TLB_CONTROL_DO_NOTHING;

	if (sd->last_vcpu_uid != svm->uid) {
		sd->last_vcpu_uid = svm->uid;
		svm->flush_tlb = true;
	}
	if (svm->flush_tlb) {
		ctl = svm_caps.flush_by_asid ? TLB_CONTROL_FLUSH_ASID :
					       TLB_CONTROL_FLUSH_ALL;
		svm->flush_tlb = false;
	}
	svm->vmcb->control.tlb_control = ctl;
}

/*
 * The debug registers the guest runs with. VMRUN loads DR6 and DR7 from
 * the VMCB (APM Vol.2 15.5.1), not DR0-3: the VMCB gets the guest's own
 * DR7, or the VMM's with USE_HW_BP (mkvm_hw_dr7()), and when that enables
 * a breakpoint, or the guest's MOV DR does not exit (svm_handle_dr()),
 * mkvm_load_debug_addrs() puts the matching DR0-3 into the CPU right
 * before VMRUN (svm_run()). Otherwise the host's DR0-3 stay, never
 * matched under a DR7 with every breakpoint off. DR6 is the VMCB's: the
 * CPU sets its bits there as the guest runs, #DB intercept included.
 * While the VMM owns #DB, DR6 starts clean at each entry (KVM does the
 * same) and the guest's own waits in guest_dr6.
 */
static bool svm_debug_addrs_live(struct vcpu_svm *svm)
{
	return svm->vmcb->save.dr7 & MKVM_DR7_BP_EN;
}

static void svm_load_debug(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	vmcb->save.dr7 = mkvm_hw_dr7(vcpu, svm->dr7);
	if (unlikely(mkvm_debug_owns_db(vcpu))) {
		svm->guest_dr6 = vmcb->save.dr6;
		vmcb->save.dr6 = SVM_RESET_DR6;
	}
}

/* After #VMEXIT: what the guest's DR6 became, and the guest's own back. */
static void svm_save_debug(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (unlikely(mkvm_debug_owns_db(vcpu))) {
		svm->debug_dr6 = vmcb->save.dr6;
		vmcb->save.dr6 = svm->guest_dr6;
	}
}

/* Copy what the core keeps in struct mkvm_vcpu into the VMCB. */
static void svm_load_vmcb(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	vmcb->save.rax = vcpu->regs[MKVM_RAX];
	vmcb->save.rsp = vcpu->regs[MKVM_RSP];
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rflags = vcpu->rflags;
	vmcb->save.cr2 = vcpu->cr2;
	vmcb->save.g_pat = vcpu->msr_pat;
	vmcb->control.tsc_offset = vcpu->msr_tsc_offset;
	svm_load_debug(vcpu, vmcb);
	/* ASID and nCR3 are set once, by svm_vcpu_reset(). */
	/* Clean bits all 0: the CPU reloads every field (15.15). */
	vmcb->control.clean = 0;
	svm_inject_event(vcpu, vmcb);
}

/* And back, after #VMEXIT. */
static void svm_save_vmcb(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	vcpu->regs[MKVM_RAX] = vmcb->save.rax;
	vcpu->regs[MKVM_RSP] = vmcb->save.rsp;
	vcpu->rip = vmcb->save.rip;
	vcpu->rflags = vmcb->save.rflags;
	vcpu->cr2 = vmcb->save.cr2;
	/* The CPU sets/clears EFER.LMA itself when the guest toggles CR0.PG. */
	vcpu->efer = vmcb->save.efer & ~EFER_SVME;
	vmcb->control.event_inj = 0;
	vmcb->control.tlb_control = TLB_CONTROL_DO_NOTHING;
	svm_collect_virq(vcpu, vmcb);
	svm_requeue_event(vcpu, vmcb);
	svm_nmi_after_exit(vcpu, vmcb);
}

/*
 * Registers VMRUN does not switch but a guest can change or read:
 * TSC_AUX (what RDTSCP/RDPID return: the host keeps its CPU number there)
 * and PKRU (WRPKRU, once the guest sets its CR4.PKE). Swap them around
 * the world switch, and only when they differ.
 */
static void svm_load_guest_regs(struct vcpu_svm *svm, struct svm_cpu *sd,
				u32 *host_pkru)
{
	if (svm_has_tsc_aux && svm->tsc_aux != sd->host_tsc_aux)
		wrmsrl(MSR_TSC_AUX, svm->tsc_aux);
	*host_pkru = read_pkru();
	if (svm->pkru != *host_pkru)
		write_pkru(svm->pkru);
}

static void svm_load_host_regs(struct vcpu_svm *svm, struct svm_cpu *sd,
			       u32 host_pkru)
{
	if (svm_has_tsc_aux && svm->tsc_aux != sd->host_tsc_aux)
		wrmsrl(MSR_TSC_AUX, sd->host_tsc_aux);
	/*
	 * Read back even when the guest's CR4.PKE is clear: XRSTOR loads
	 * PKRU too, and CR4 writes do not exit.
	 */
	svm->pkru = read_pkru();
	if (svm->pkru != host_pkru)
		write_pkru(host_pkru);

	/*
	 * The guest ran with its own DR6 and DR7 (the VMCB's), maybe its own
	 * DR0-3, and #VMEXIT brings back none of the host's (APM Vol.2 15.6
	 * lists what it reloads; DR7 is left with every breakpoint off): put
	 * back the host's breakpoints if it has any, else at least a clean
	 * DR6 for the host's next #DB.
	 */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	else if (svm->vmcb->save.dr6 != SVM_RESET_DR6)
		set_debugreg(SVM_RESET_DR6, 6);
}

/*
 * One VMRUN. Interrupts are off (the core), so nothing can move us to
 * another CPU between reading per-CPU data and the world switch.
 */
/*
 * A workaround for the emulated CPU of the SVM rig, never needed on real
 * hardware. QEMU 7.2's VMRUN, when V_IRQ is set, marks a virtual interrupt
 * pending in its vCPU's request word with a plain read-modify-write,
 * without the lock its device threads hold when they post to that word.
 * The host's own LAPIC timer posts there from another thread ("poll the
 * APIC"): a post that lands inside that read-modify-write is lost. The
 * timer's vector then sits in the host's IRR and is never taken; a host
 * CPU that goes idle waiting for it never wakes (seen as a hung SVM rig in
 * qemu_test smp4: the rig's QEMU showed the CPU halted with IF=1, GIF=1,
 * IRR 236 and no request pending). minikvm posts every interrupt through
 * V_IRQ (svm_post_virq()), so it met this far more often than kvm_amd.
 *
 * Writing the TPR back with its own value makes QEMU look at the APIC
 * again, on the vCPU's thread, and raise what is pending. That needs the
 * VMRUN to end: one that opened an interrupt window for a guest spinning
 * with IF=0 ends at its next PAUSE (svm_enable_irq_window()).
 */
static void svm_tcg_repoll(void)
{
	unsigned long cr8;

	asm volatile("mov %%cr8, %0" : "=r" (cr8));
	asm volatile("mov %0, %%cr8" : : "r" (cr8) : "memory");
}

static void svm_run(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	struct vmcb *vmcb = svm->vmcb;
	u32 host_pkru, int_ctl;

	svm_load_vmcb(vcpu, vmcb);
	svm_prepare_tlb(svm, sd);

	/*
	 * GIF = 0 from here to svm_stgi(): no interrupt or NMI can arrive
	 * while the CPU holds half host, half guest state.
	 */
	svm_clgi();
	svm_load_guest_regs(svm, sd, &host_pkru);
	if (unlikely(svm_debug_addrs_live(svm)))	/* GIF = 0 until VMRUN */
		mkvm_load_debug_addrs(vcpu, svm->db);

	/*
	 * With V_INTR_MASKING, the host's RFLAGS.IF at VMRUN decides
	 * whether physical interrupts reach the CPU during the guest
	 * (15.21.1): it must be 1, or an interrupt would not exit the
	 * guest. GIF = 0 still holds it off in host code on both sides.
	 */
	int_ctl = vmcb->control.int_ctl;
	raw_local_irq_enable();
	__svm_vcpu_run(vcpu->regs, svm->vmcb_pa, sd->host_save_pa);
	raw_local_irq_disable();
	/*
	 * What a failed VMRUN leaves in the VMCB is not defined, and one CPU
	 * (QEMU 7.2's emulated SVM) writes int_ctl back as 0 when VMRUN fails
	 * one of its first checks. That loses V_INTR_MASKING, without which
	 * the guest's RFLAGS.IF decides whether the host's interrupts are
	 * taken (15.21.1): the next guest to sit with IF=0 kept the CPU until
	 * an NMI (fail_entry_test: failed_entry_keeps_host_interrupts, 21 s).
	 * Nothing ran, so put back all of it: V_TPR and V_IRQ too.
	 */
	if (unlikely(lower_32_bits(vmcb->control.exit_code) ==
		     lower_32_bits(SVM_EXIT_ERR)))
		vmcb->control.int_ctl = int_ctl;
	if (unlikely(svm_on_tcg) && (int_ctl & V_IRQ))
		svm_tcg_repoll();

	svm_load_host_regs(svm, sd, host_pkru);
	/*
	 * GIF = 1: an NMI that made the guest exit is taken right here; an
	 * interrupt waits for the core's local_irq_enable().
	 */
	svm_stgi();

	svm_save_debug(vcpu, vmcb);
	svm_save_vmcb(vcpu, vmcb);
}

/*
 * KVM_SET_GUEST_DEBUG: #BP exits only for USE_SW_BP; #DB always does.
 * Every MOV DR exits (svm_handle_dr()), so the copies are always current.
 */
static void svm_update_guest_debug(struct mkvm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		c->intercepts[VMCB_ICPT_EXC] |= BIT(MKVM_BP_VECTOR);
	else
		c->intercepts[VMCB_ICPT_EXC] &= ~BIT(MKVM_BP_VECTOR);
}

/* ------------------------------------------------------------------ */
/* Userspace interrupt controller: the interrupt window                */
/* ------------------------------------------------------------------ */

/* Would the guest take an external interrupt right now? */
static bool svm_interrupt_allowed(struct mkvm_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	return (vcpu->rflags & MKVM_RFLAGS_IF) &&
	       !(vmcb->control.int_state & VMCB_INTERRUPT_SHADOW) &&
	       !vcpu->event.pending;
}

/*
 * Ask for an exit as soon as the guest can take an interrupt (APM Vol.2
 * 15.21.4): post a virtual interrupt (V_IRQ) that ignores the TPR, and
 * intercept VINTR, which fires when the CPU is about to take it - that
 * is, when RFLAGS.IF = 1 and no interrupt shadow.
 */
static void svm_enable_irq_window(struct mkvm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	/* V_IRQ is about to carry a real interrupt (svm_post_virq()). */
	if (vcpu->event.pending && vcpu->event.is_irq)
		return;

	c->int_ctl |= V_IRQ | V_IGN_TPR | (0xf << V_INTR_PRIO_SHIFT);
	c->intercepts[VMCB_ICPT_MISC1] |= INTERCEPT_VINTR;
	/*
	 * QEMU's emulated CPU only: a guest that waits with IF=0 makes no
	 * exit of its own, and the host interrupt that would end its run may
	 * be the one QEMU lost at this VMRUN (svm_tcg_repoll()). Spin loops
	 * PAUSE: let each PAUSE exit, so the re-poll comes soon.
	 */
	if (unlikely(svm_on_tcg))
		c->intercepts[VMCB_ICPT_MISC1] |= INTERCEPT_PAUSE;
}

static void svm_disable_irq_window(struct mkvm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	c->int_ctl &= ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO_MASK);
	c->intercepts[VMCB_ICPT_MISC1] &= ~(INTERCEPT_VINTR | INTERCEPT_PAUSE);
}

/* ------------------------------------------------------------------ */
/* Exit handlers                                                       */
/* ------------------------------------------------------------------ */

/*
 * Length of the instruction that exited: exact from nRIP when the CPU
 * provides it (NRIPS, 15.7.1), else the usual encoding's length.
 */
static void svm_set_insn_len(struct mkvm_vcpu *vcpu, u8 usual)
{
	u64 nrip = to_svm(vcpu)->vmcb->control.next_rip;
	u64 len = nrip - vcpu->rip;

	if (svm_caps.nrips && nrip && len >= 1 && len <= 15)
		vcpu->exit_insn_len = len;
	else
		vcpu->exit_insn_len = usual;
}

/* The guest used something it may not have: #UD, as a CPU without it. */
static int svm_handle_ud(struct mkvm_vcpu *vcpu)
{
	mkvm_queue_exception(vcpu, MKVM_UD_VECTOR, false, 0);
	return 1;
}

/* An instruction with no effect the guest could see: step over it. */
static int svm_handle_skip(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 2);	/* INVD 0F 08, WBINVD 0F 09 */
	mkvm_skip_insn(vcpu);
	return 1;
}

/* INTR, NMI, SMI: for the host, which takes it as soon as GIF = 1. */
static int svm_handle_host_event(struct mkvm_vcpu *vcpu)
{
	return 1;
}

/* RDPMC: no PMU for guests; an invalid counter number is #GP(0). */
static int svm_handle_rdpmc(struct mkvm_vcpu *vcpu)
{
	mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
	return 1;
}

/*
 * #DB and #AC were intercepted to break loops: deliver them. A #DB is the
 * VMM's while it debugs the guest (guestdbg.c).
 */
static int svm_handle_db(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (mkvm_debug_owns_db(vcpu))
		return mkvm_handle_db(vcpu, svm->debug_dr6, svm->vmcb->save.dr7);
	/* Unless it was minikvm's own step to an NMI window (events.c). */
	if (svm_nmi_step_done(vcpu))
		return 1;
	/*
	 * The guest's own: a breakpoint of its DR7, its TF, DR7.GD. The CPU
	 * already set DR6 (the VMCB's) before the intercept; delivering the
	 * #DB clears DR7.GD (SDM Vol.3 17.2.4), which EVENTINJ does not do.
	 */
	svm->dr7 &= ~MKVM_DR7_GD;
	mkvm_queue_exception(vcpu, 1, false, 0);
	return 1;
}

/*
 * #BP, intercepted only for KVM_GUESTDBG_USE_SW_BP: RIP is still at the
 * INT3 (the intercept comes before delivery, APM Vol.2 15.12).
 */
static int svm_handle_bp(struct mkvm_vcpu *vcpu)
{
	return mkvm_debug_exit(vcpu, MKVM_BP_VECTOR, 0, 0);
}

static int svm_handle_ac(struct mkvm_vcpu *vcpu)
{
	mkvm_queue_exception(vcpu, 17, true, 0);
	return 1;
}

/* A machine check during the guest: run the host's #MC handler. */
static int svm_handle_mc(struct mkvm_vcpu *vcpu)
{
	asm volatile("int $0x12");
	return 1;
}

/* #UD in the guest: the core rewrites VMCALL or reflects it (pv.c). */
static int svm_handle_ud_excp(struct mkvm_vcpu *vcpu)
{
	return mkvm_handle_ud(vcpu);
}

/* VMMCALL (0F 01 D9): a hypercall (pv.c). */
static int svm_handle_vmmcall(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 3);
	return mkvm_emulate_hypercall(vcpu);
}

/* MONITOR (0F 01 C8), MWAIT (0F 01 C9): NOPs or #UD (features.c). */
static int svm_handle_monitor_mwait(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 3);
	return mkvm_emulate_monitor_mwait(vcpu);
}

static int svm_handle_cpuid(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 2);	/* 0F A2 */
	return mkvm_emulate_cpuid(vcpu);
}

static int svm_handle_xsetbv(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 3);	/* 0F 01 D1 */
	return mkvm_emulate_xsetbv(vcpu);
}

static int svm_handle_hlt(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 1);	/* F4 */
	return mkvm_emulate_hlt(vcpu);
}

/* EXITINFO1 = 0 for RDMSR, 1 for WRMSR (APM Vol.2 15.11). */
static int svm_handle_msr(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 2);	/* 0F 32, 0F 30 */
	if (to_svm(vcpu)->vmcb->control.exit_info_1)
		return mkvm_emulate_wrmsr(vcpu);
	return mkvm_emulate_rdmsr(vcpu);
}

/* The default address size of the code segment: 2, 4 or 8 bytes. */
static u8 svm_code_addr_size(struct mkvm_vcpu *vcpu)
{
	u16 cs = to_svm(vcpu)->vmcb->save.cs.attrib;

	if ((vcpu->efer & MKVM_EFER_LMA) && (cs & SVM_SEG_L))
		return 8;
	return (cs & SVM_SEG_DB) ? 4 : 2;
}

/* Decode EXITINFO1 of an IOIO intercept (APM Vol.2 15.10.2, Figure 15-2). */
static int svm_handle_io(struct mkvm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	u64 info = c->exit_info_1;
	struct mkvm_io io = {
		.port = info >> SVM_IOIO_PORT_SHIFT,
		.in = info & SVM_IOIO_TYPE_IN,
		.string = info & SVM_IOIO_STR,
		.rep = info & SVM_IOIO_REP,
		.next_rip = c->exit_info_2,	/* always provided */
	};

	if (info & SVM_IOIO_SZ32)
		io.size = 4;
	else if (info & SVM_IOIO_SZ16)
		io.size = 2;
	else
		io.size = 1;
	if (info & SVM_IOIO_A64)
		io.addr_size = 8;
	else if (info & SVM_IOIO_A32)
		io.addr_size = 4;
	else if (info & SVM_IOIO_A16)
		io.addr_size = 2;
	else	/* not reported (seen with QEMU's emulated SVM): CS default */
		io.addr_size = svm_code_addr_size(vcpu);
	/* The segment of OUTS is only reported with decode assists. */
	io.seg = svm_caps.decode_assists ?
		 (info & SVM_IOIO_SEG_MASK) >> SVM_IOIO_SEG_SHIFT : MKVM_DS;
	vcpu->exit_insn_len = io.next_rip - vcpu->rip;
	return mkvm_emulate_io(vcpu, &io);
}

/*
 * Nested page fault (APM Vol.2 15.25.6): EXITINFO2 is the guest-physical
 * address, EXITINFO1 a #PF-style error code. With decode assists the CPU
 * also hands over the bytes it had fetched of the faulting instruction
 * (15.33.4), which spares the core a guest page-table walk for MMIO.
 */
static int svm_handle_npf(struct mkvm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	u64 err = c->exit_info_1;
	struct mkvm_tdp_fault f = {
		.gpa = c->exit_info_2,
		.write = err & SVM_NPF_RW,
		.fetch = err & SVM_NPF_ID,
		.present = err & SVM_NPF_P,
	};

	/* We never set reserved bits in an entry: something else is wrong. */
	if (err & SVM_NPF_RSV)
		return mkvm_exit_unexpected(vcpu, SVM_EXIT_NPF, err, f.gpa);
	if (svm_caps.decode_assists) {
		f.insn_len = min_t(u8, c->insn_len, sizeof(f.insn));
		memcpy(f.insn, c->insn_bytes, f.insn_len);
	}
	return mkvm_handle_tdp_fault(vcpu, &f);
}

/*
 * Triple fault. The VMCB is undefined after a SHUTDOWN intercept (APM
 * Vol.2 15.12): put it back in RESET state, as KVM does, before the VMM
 * hears about it.
 */
static int svm_handle_shutdown(struct mkvm_vcpu *vcpu)
{
	svm_vcpu_reset(vcpu);
	return mkvm_exit_shutdown(vcpu);
}

/* The guest can take an interrupt now (svm_enable_irq_window()). */
/* PAUSE, intercepted only on QEMU's CPU with a window open: step over it. */
static int svm_handle_pause(struct mkvm_vcpu *vcpu)
{
	svm_set_insn_len(vcpu, 2);	/* F3 90 */
	mkvm_skip_insn(vcpu);
	return 1;
}

static int svm_handle_vintr(struct mkvm_vcpu *vcpu)
{
	svm_disable_irq_window(vcpu);
	return mkvm_handle_irq_window(vcpu);
}

static bool svm_is_legacy_prefix(u8 b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

/*
 * Find the GPR of a MOV to/from CRn or DRn (0F 20-23 /r) without decode
 * assists: read the instruction at CS:RIP and skip its prefixes. Returns
 * the register number and sets the length, or -1.
 */
static int svm_decode_mov_crdr(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	bool long64 = (vcpu->efer & MKVM_EFER_LMA) &&
		      (svm->vmcb->save.cs.attrib & SVM_SEG_L);
	u64 lin = svm->vmcb->save.cs.base + vcpu->rip, gpa;
	u8 b[MKVM_INSN_MAX_LEN];
	int n = min_t(int, sizeof(b), PAGE_SIZE - offset_in_page(lin));
	int i = 0, rex = 0;

	if (!long64)
		lin = (u32)lin;
	if (mkvm_gva_to_gpa(vcpu, lin, false, &gpa) ||
	    mkvm_read_guest(vcpu, gpa, b, n))
		return -1;
	/* Legacy prefixes (SDM Vol.2 2.1.1), then REX in 64-bit mode. */
	while (i < n && svm_is_legacy_prefix(b[i]))
		i++;
	if (long64 && i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i + 3 > n || b[i] != 0x0f || b[i + 1] < 0x20 || b[i + 1] > 0x23)
		return -1;
	vcpu->exit_insn_len = i + 3;
	return (b[i + 2] & 7) | ((rex & 1) << 3);	/* ModRM.rm, REX.B */
}

/*
 * MOV to/from DR0-DR7. The guest's DR0-DR3 and DR7 live in struct
 * vcpu_svm (its DR6 in the VMCB) and are loaded around each VMRUN whose
 * DR7 enables a breakpoint (svm_load_debug()). Its DR7.GD is checked
 * here first, as the CPU would before the intercept (guestdbg.c).
 *
 * Every MOV DR is emulated from the copies. KVM instead turns the
 * intercepts off at the first one while the VMM does not debug the guest,
 * and lets the guest run its MOVs in the hardware until the next #VMEXIT
 * reads DR0-3 and DR7 back: a guest that writes DR7 and DR0-3 in a row
 * exits once, not five times. minikvm keeps that off: in the SVM rig the
 * emulator (QEMU 7.2 TCG) arms a breakpoint when a nested guest's own MOV
 * to DR7 runs, and then died in the fuzzer's short run, with a
 * segmentation fault or "assertion failed: (!qemu_mutex_iothread_locked())"
 * (seed 0x94a59ea17b1993ea, 2026-12-03), where emulating every MOV kept it
 * alive. On hardware both designs give the guest its breakpoints: VMRUN
 * loads DR7 from the VMCB and svm_run() loads DR0-3.
 */
static int svm_handle_dr(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	u64 code = vmcb->control.exit_code, info = vmcb->control.exit_info_1;
	bool write = code >= SVM_EXIT_WRITE_DR0;
	int dr = code & 7, gpr, r;
	unsigned long val;

	if (mkvm_dr_general_detect(vcpu, &r))
		return r;

	if (svm_caps.decode_assists && (info & SVM_EXITINFO_MOV_VALID)) {
		gpr = info & SVM_EXITINFO_MOV_GPR;
		svm_set_insn_len(vcpu, 3);
	} else {
		gpr = svm_decode_mov_crdr(vcpu);
		if (gpr < 0)
			return mkvm_exit_unexpected(vcpu, code, info, 0);
	}
	/* DR4/DR5 alias DR6/DR7 unless CR4.DE (APM Vol.2 13.1.1.3). */
	if (dr == 4 || dr == 5) {
		if (vmcb->save.cr4 & X86_CR4_DE)
			return svm_handle_ud(vcpu);
		dr += 2;
	}
	if (!write) {
		val = dr < 4 ? svm->db[dr] : dr == 6 ? vmcb->save.dr6 : svm->dr7;
		if (!(vcpu->efer & MKVM_EFER_LMA))
			val = (u32)val;
		vcpu->regs[gpr] = val;
	} else {
		val = vcpu->regs[gpr];
		if (dr >= 6 && (val >> 32)) {
			mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
			return 1;
		}
		if (dr < 4)
			svm->db[dr] = val;
		else if (dr == 6)
			vmcb->save.dr6 = (val & 0xe00f) | SVM_RESET_DR6;
		else
			svm->dr7 = (val & ~0xd800ULL) | SVM_RESET_DR7;
	}
	mkvm_skip_insn(vcpu);
	return 1;
}

/* MOV to CR8 (REX.R 0F 22 /r): the TPR, see mkvm_emulate_set_cr8(). */
static int svm_handle_cr8_write(struct mkvm_vcpu *vcpu)
{
	u64 info = to_svm(vcpu)->vmcb->control.exit_info_1;
	int gpr;

	if (svm_caps.decode_assists && (info & SVM_EXITINFO_MOV_VALID)) {
		gpr = info & SVM_EXITINFO_MOV_GPR;
		svm_set_insn_len(vcpu, 4);
	} else {
		gpr = svm_decode_mov_crdr(vcpu);
		if (gpr < 0)
			return mkvm_exit_unexpected(vcpu, SVM_EXIT_WRITE_CR0 + 8,
						    info, 0);
	}
	return mkvm_emulate_set_cr8(vcpu, vcpu->regs[gpr]);
}

/*
 * VMRUN found the VMCB's guest state invalid (APM Vol.2 15.5.1). KVM
 * reports the exit code as the 32-bit value 0xffffffff: so do we.
 * (svm_run() has put int_ctl back as it was before the VMRUN.)
 */
static int svm_handle_invalid(struct mkvm_vcpu *vcpu)
{
	return mkvm_exit_fail_entry(vcpu, lower_32_bits(SVM_EXIT_ERR));
}

/* ------------------------------------------------------------------ */
/* The exit table                                                      */
/* ------------------------------------------------------------------ */

/*
 * Indexed by EXITCODE (APM Vol.2 Appendix C). Every handler follows the
 * contract of struct mkvm_x86_ops: 1 = re-enter, 0 = kvm_run filled for
 * userspace, <0 = error. An empty slot is an exit we did not ask for and
 * becomes KVM_EXIT_INTERNAL_ERROR with the raw code (svm_handle_exit()).
 */
static int (*const svm_exit_handlers[])(struct mkvm_vcpu *vcpu) = {
	[SVM_EXIT_WRITE_CR0 + 8]			= svm_handle_cr8_write,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7]	= svm_handle_dr,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7]	= svm_handle_dr,
	[SVM_EXIT_DB]					= svm_handle_db,
	[SVM_EXIT_BP]					= svm_handle_bp,
	[SVM_EXIT_UD]					= svm_handle_ud_excp,
	[SVM_EXIT_AC]					= svm_handle_ac,
	[SVM_EXIT_MC]					= svm_handle_mc,
	[SVM_EXIT_INTR]					= svm_handle_host_event,
	[SVM_EXIT_NMI]					= svm_handle_host_event,
	[SVM_EXIT_SMI]					= svm_handle_host_event,
	[SVM_EXIT_VINTR]				= svm_handle_vintr,
	[SVM_EXIT_PAUSE]				= svm_handle_pause,
	[SVM_EXIT_RDPMC]				= svm_handle_rdpmc,
	[SVM_EXIT_CPUID]				= svm_handle_cpuid,
	[SVM_EXIT_RSM]					= mkvm_emulate_rsm,
	[SVM_EXIT_IRET]					= svm_handle_iret,
	[SVM_EXIT_INVD]					= svm_handle_skip,
	[SVM_EXIT_HLT]					= svm_handle_hlt,
	[SVM_EXIT_INVLPGA]				= svm_handle_ud,
	[SVM_EXIT_IOIO]					= svm_handle_io,
	[SVM_EXIT_MSR]					= svm_handle_msr,
	[SVM_EXIT_SHUTDOWN]				= svm_handle_shutdown,
	[SVM_EXIT_VMRUN]				= svm_handle_ud,
	[SVM_EXIT_VMMCALL]				= svm_handle_vmmcall,
	[SVM_EXIT_VMLOAD]				= svm_handle_ud,
	[SVM_EXIT_VMSAVE]				= svm_handle_ud,
	[SVM_EXIT_STGI]					= svm_handle_ud,
	[SVM_EXIT_CLGI]					= svm_handle_ud,
	[SVM_EXIT_SKINIT]				= svm_handle_ud,
	[SVM_EXIT_WBINVD]				= svm_handle_skip,
	[SVM_EXIT_MONITOR]				= svm_handle_monitor_mwait,
	[SVM_EXIT_MWAIT]				= svm_handle_monitor_mwait,
	[SVM_EXIT_XSETBV]				= svm_handle_xsetbv,
	[SVM_EXIT_RDPRU]				= svm_handle_ud,
	[SVM_EXIT_NPF]					= svm_handle_npf,
};

static int svm_handle_exit(struct mkvm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	u64 code = c->exit_code;

	/*
	 * VMEXIT_INVALID is -1 in the 64-bit EXITCODE; some implementations
	 * (QEMU's emulated SVM) store only 32 bits of it.
	 */
	if (code == SVM_EXIT_ERR || code == lower_32_bits(SVM_EXIT_ERR))
		return svm_handle_invalid(vcpu);
	if (code >= ARRAY_SIZE(svm_exit_handlers) || !svm_exit_handlers[code])
		return mkvm_exit_unexpected(vcpu, code, c->exit_info_1,
					    c->exit_info_2);
	code = array_index_nospec(code, ARRAY_SIZE(svm_exit_handlers));
	return svm_exit_handlers[code](vcpu);
}

/* ------------------------------------------------------------------ */
/* TLB, NPT                                                            */
/* ------------------------------------------------------------------ */

/* The raw exit for the kvm_exit tracepoint (APM Vol.2 15.6, 15.7.2). */
static void svm_get_exit_info(struct mkvm_vcpu *vcpu, u32 *reason, u64 *info1,
			      u64 *info2, u32 *intr_info, u32 *error_code)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	*reason = c->exit_code;
	*info1 = c->exit_info_1;
	*info2 = c->exit_info_2;
	/* EXITINTINFO: the event being delivered, its error code above. */
	*intr_info = lower_32_bits(c->exit_int_info);
	*error_code = upper_32_bits(c->exit_int_info);
}

static void svm_flush_tlb(struct mkvm_vcpu *vcpu)
{
	to_svm(vcpu)->flush_tlb = true;
}

static bool svm_tdp_writable(u64 pte)
{
	return pte & BIT_ULL(1);	/* R/W, npt.c */
}

/* ------------------------------------------------------------------ */
/* The ops instance                                                    */
/* ------------------------------------------------------------------ */

const struct mkvm_x86_ops svm_ops = {
	.name			= "svm",
	.isa			= KVM_ISA_SVM,
	.hypercall_insn		= { 0x0f, 0x01, 0xd9 },	/* VMMCALL */
	.other_hypercall_insn	= { 0x0f, 0x01, 0xc1 },	/* VMCALL */
	.reset_microcode_version = 0x01000065,	/* KVM's for AMD guests */
	.has_smm		= true,		/* RSM intercepted (smm.c) */
	.probe			= svm_probe,
	.global_init		= svm_global_init,
	.global_exit		= svm_global_exit,
	.cpu_enable		= svm_cpu_enable,
	.cpu_disable		= svm_cpu_disable,
	.vm_init		= svm_vm_init,
	.vm_destroy		= svm_vm_destroy,
	.vcpu_create		= svm_vcpu_create,
	.vcpu_free		= svm_vcpu_free,
	.vcpu_load		= svm_vcpu_load,
	.vcpu_put		= svm_vcpu_put,
	.get_segment		= svm_get_segment,
	.set_segment		= svm_set_segment,
	.get_dtable		= svm_get_dtable,
	.set_dtable		= svm_set_dtable,
	.get_cr			= svm_get_cr,
	.set_cr			= svm_set_cr,
	.set_efer		= svm_set_efer,
	.get_cpl		= svm_get_cpl,
	.mcg_cap_mask		= 0x1ff,
	.get_msr		= svm_get_msr,
	.set_msr		= svm_set_msr,
	.run			= svm_run,
	.handle_exit		= svm_handle_exit,
	.get_exit_info		= svm_get_exit_info,
	.interrupt_allowed	= svm_interrupt_allowed,
	.enable_irq_window	= svm_enable_irq_window,
	.nmi_allowed		= svm_nmi_allowed,
	.enable_nmi_window	= svm_enable_nmi_window,
	.get_nmi_mask		= svm_get_nmi_mask,
	.set_nmi_mask		= svm_set_nmi_mask,
	.get_interrupt_shadow	= svm_get_interrupt_shadow,
	.set_interrupt_shadow	= svm_set_interrupt_shadow,
	.update_guest_debug	= svm_update_guest_debug,
	.get_debugregs		= svm_get_debugregs,
	.set_debugregs		= svm_set_debugregs,
	.flush_tlb		= svm_flush_tlb,
	.tdp_pte		= svm_tdp_pte,
	.tdp_present		= svm_tdp_present,
	.tdp_writable		= svm_tdp_writable,
	.set_tdp_root		= svm_set_tdp_root,
};
