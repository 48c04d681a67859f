// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm's Intel VMX backend: lifecycle and the entry path.
 *
 * The life of VMX, in the order this file follows:
 *
 *  1. probe: does the CPU have VMX, did the firmware allow it, and does it
 *     have what minikvm needs (EPT, unrestricted guest, ...)? The
 *     capability MSRs (SDM appendix A) answer, and also say which control
 *     bits may or must be set.
 *  2. cpu_enable, on every CPU: set CR4.VMXE and execute VMXON with a
 *     per-CPU "VMXON region". The CPU is now in VMX root operation.
 *  3. vcpu_create: one VMCS (virtual-machine control structure) per
 *     vCPU. VMCLEAR initialises it, VMPTRLD makes it the CPU's "current"
 *     VMCS, and VMWRITEs fill in controls, host state and guest state.
 *  4. vcpu_load: a VMCS is active on one CPU at a time; moving it means
 *     VMCLEAR on the old CPU (which writes it back to memory) and VMPTRLD
 *     on the new one.
 *  5. run: VMLAUNCH (first time after VMCLEAR) or VMRESUME enters the
 *     guest; a VM exit comes back to vmx_vmexit in vmenter.S. The exit
 *     reason then picks a handler in exit.c.
 *  6. cpu_disable: VMCLEAR every VMCS active on the CPU, VMXOFF, clear
 *     CR4.VMXE.
 *
 * Guest register state lives in state.c, exit handlers in exit.c, EPT in
 * ept.c, the world switch in vmenter.S.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/static_key.h>
#include <asm/apic.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/hw_breakpoint.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "vmx.h"

/* The world switch indexes vcpu->regs[] by x86 encoding (vmenter.S). */
static_assert(MKVM_RAX == 0 && MKVM_RCX == 1 && MKVM_RDX == 2);
static_assert(MKVM_RBX == 3 && MKVM_RSP == 4 && MKVM_RBP == 5);
static_assert(MKVM_RSI == 6 && MKVM_RDI == 7 && MKVM_R8 == 8);
static_assert(MKVM_R15 == 15 && MKVM_NR_GPRS == 16);

struct vmx_config vmx_cfg;

/* Per-CPU VMX state. */
struct vmx_cpu {
	struct vmcs_hdr *vmxon_region;	/* allocated at module init */
	struct list_head loaded;	/* VMCSs active on this CPU */
	struct vcpu_vmx *current_vmcs;	/* the one VMPTRLD made current */
	bool on;			/* in VMX root operation */
};
static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);

/* The MSR bitmap (SDM 25.6.9): all ones, every RDMSR/WRMSR exits. */
static unsigned long *vmx_msr_bitmap;

/*
 * VPIDs (SDM 29.1) tag the guest's cached linear translations so VM
 * entries and exits need not flush them. 0 is the host's; a vCPU that
 * gets 0 runs without VPID and the processor flushes on every transition.
 */
#define VMX_VPID_COUNT	(1 << 16)
static DECLARE_BITMAP(vmx_vpid_bitmap, VMX_VPID_COUNT);
static DEFINE_SPINLOCK(vmx_vpid_lock);

/* The guest MSRs switched on entry/exit, in enum vmx_switched_msr order. */
static const u32 vmx_switched_msrs[VMX_NR_SWITCHED_MSRS] = {
	[VMX_MSR_KERNEL_GS_BASE]	= MSR_KERNEL_GS_BASE,
	[VMX_MSR_STAR]			= MSR_STAR,
	[VMX_MSR_LSTAR]			= MSR_LSTAR,
	[VMX_MSR_CSTAR]			= MSR_CSTAR,
	[VMX_MSR_SFMASK]		= MSR_SYSCALL_MASK,
};

/* ------------------------------------------------------------------ */
/* Hardware helpers: the VMX instructions                              */
/* ------------------------------------------------------------------ */

/*
 * Each returns true on success. Like VMREAD/VMWRITE (vmx.h) they turn
 * VMfailInvalid/VMfailValid and faults (#UD with VMX off, #GP) into false.
 */
static bool vmx_vmxon(phys_addr_t pa)
{
	u64 addr = pa;

	return vmx_insn("vmxon %[addr]", [addr] "m" (addr));
}

static bool vmx_vmxoff(void)
{
	return vmx_insn("vmxoff");
}

static bool vmx_vmclear(phys_addr_t pa)
{
	u64 addr = pa;

	return vmx_insn("vmclear %[addr]", [addr] "m" (addr));
}

static bool vmx_vmptrld(phys_addr_t pa)
{
	u64 addr = pa;

	return vmx_insn("vmptrld %[addr]", [addr] "m" (addr));
}

/* VM-instruction error numbers, for log lines (SDM 31.4). */
static const char *const vmx_insn_errors[] = {
	[VMXERR_VMCALL_IN_ROOT]		= "VMCALL in VMX root operation",
	[VMXERR_VMCLEAR_BAD_ADDR]	= "VMCLEAR with invalid address",
	[VMXERR_VMCLEAR_VMXON_PTR]	= "VMCLEAR with VMXON pointer",
	[VMXERR_VMLAUNCH_NOT_CLEAR]	= "VMLAUNCH with non-clear VMCS",
	[VMXERR_VMRESUME_NOT_LAUNCHED]	= "VMRESUME with non-launched VMCS",
	[VMXERR_VMRESUME_AFTER_VMXOFF]	= "VMRESUME after VMXOFF",
	[VMXERR_ENTRY_BAD_CONTROLS]	= "VM entry with invalid control field(s)",
	[VMXERR_ENTRY_BAD_HOST_STATE]	= "VM entry with invalid host-state field(s)",
	[VMXERR_VMPTRLD_BAD_ADDR]	= "VMPTRLD with invalid address",
	[VMXERR_VMPTRLD_VMXON_PTR]	= "VMPTRLD with VMXON pointer",
	[VMXERR_VMPTRLD_BAD_REVISION]	= "VMPTRLD with incorrect revision id",
	[VMXERR_UNSUPPORTED_FIELD]	= "VMREAD/VMWRITE of unsupported field",
	[VMXERR_VMWRITE_READ_ONLY]	= "VMWRITE to read-only field",
	[VMXERR_VMXON_IN_ROOT]		= "VMXON in VMX root operation",
	[VMXERR_ENTRY_EVENTS_BLOCKED_MOVSS] = "VM entry with events blocked by MOV SS",
	[VMXERR_BAD_INVEPT_INVVPID]	= "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_name(u32 err)
{
	if (err < ARRAY_SIZE(vmx_insn_errors) && vmx_insn_errors[err])
		return vmx_insn_errors[err];
	return "unknown";
}

void vmx_vmread_error(unsigned long field)
{
	pr_err_ratelimited("VMREAD of VMCS field %#lx failed\n", field);
}

void vmx_vmwrite_error(unsigned long field, unsigned long value)
{
	unsigned long err = 0;

	__vmx_vmread(VMCS_INSTRUCTION_ERROR, &err);
	pr_err_ratelimited("VMWRITE of %#lx to VMCS field %#lx failed: error %lu (%s)\n",
			   value, field, err, vmx_insn_error_name(err));
}

/* ------------------------------------------------------------------ */
/* Probe: capabilities and control values (SDM 24.6, appendix A)       */
/* ------------------------------------------------------------------ */

/*
 * Each control field has a capability MSR (A.3-A.5): its low 32 bits are
 * the "allowed-0 settings" (a 1 there means the control must be 1), its
 * high 32 bits the "allowed-1 settings" (a 0 there means it must be 0).
 * Start from what is required and what is merely wanted, keep what the
 * CPU allows, add what it insists on.
 */
static int vmx_adjust_controls(u32 msr, u32 required, u32 optional,
			       u32 *out, u32 *may_out, const char *what)
{
	u64 cap;
	u32 must, may;

	if (rdmsrl_safe(msr, &cap))
		return -ENODEV;
	must = lower_32_bits(cap);
	may = upper_32_bits(cap);
	if (required & ~may) {
		pr_err("VMX %s controls %#x not supported (CPU allows %#x)\n",
		       what, required & ~may, may);
		return -ENODEV;
	}
	*out = must | required | (optional & may);
	if (may_out)
		*may_out = may;
	return 0;
}

/*
 * The VMX-preemption timer (SDM Vol.3 26.5.1) counts down while the guest
 * runs, at the TSC rate divided by 2^IA32_VMX_MISC[4:0] (A.6), and makes
 * it exit (reason 52) when it reaches 0. minikvm arms it for 1 ms only
 * when it enters a guest whose RFLAGS.IF is 0 (vmx_arm_preemption_timer()),
 * a limit real CPUs do not need: with "external-interrupt exiting" a host
 * interrupt makes the guest exit whatever its IF (26.2). Bochs 2.7, the
 * VMX rig's CPU, decides which interrupts it accepts when it loads the
 * guest's RFLAGS, before it counts itself in guest mode, and does not
 * decide again until the guest changes IF: a guest entered with IF=0
 * blocks the host's interrupts until it exits for another reason. The
 * nested Linux with 4 vCPUs hung the rig that way, an AP spinning with
 * IF=0 until jiffies moved (calibrate_delay_direct()), on the rig's one
 * CPU, where only the tick it blocked could schedule the BSP's thread.
 * The timer's expiry is not an interrupt and Bochs honours it.
 *
 * The control stays off in the VMCS (vmx_cfg.pin) and is turned on and
 * off per entry; an entry with IF=1 costs one test.
 */
static void vmx_setup_preemption_timer(void)
{
	u64 misc;

	vmx_cfg.preempt_quantum = 0;
	if (!(vmx_cfg.pin & PIN_PREEMPTION_TIMER))
		return;
	vmx_cfg.pin &= ~PIN_PREEMPTION_TIMER;
	if (rdmsrl_safe(MSR_IA32_VMX_MISC, &misc) || !tsc_khz)
		return;
	vmx_cfg.preempt_quantum = max(tsc_khz >> (misc & 0x1f), 1u);
}

static int vmx_setup_controls(u64 basic)
{
	/* With bit 55, the TRUE MSRs let "default1" controls be cleared (A.2). */
	bool tru = basic & VMX_BASIC_TRUE_MSRS;
	u32 proc2_may, entry_may;
	int ret;

	ret = vmx_adjust_controls(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
				  MSR_IA32_VMX_PINBASED_CTLS,
				  PIN_EXTINT_EXITING | PIN_NMI_EXITING |
				  PIN_VIRTUAL_NMIS, PIN_PREEMPTION_TIMER,
				  &vmx_cfg.pin, NULL, "pin-based");
	if (ret)
		return ret;
	vmx_setup_preemption_timer();

	/*
	 * Exit on HLT, port I/O, MSRs (bitmap of all ones), CR8 (the TPR is
	 * virtual), MOV DR (debug registers are virtual), MWAIT/MONITOR and
	 * RDPMC (not offered to guests). CR3 accesses need no exit with EPT:
	 * the guest owns its page tables.
	 */
	ret = vmx_adjust_controls(tru ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
				  MSR_IA32_VMX_PROCBASED_CTLS,
				  PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING |
				  PROC_USE_MSR_BITMAPS | PROC_CR8_LOAD_EXITING |
				  PROC_CR8_STORE_EXITING | PROC_MOV_DR_EXITING |
				  PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |
				  PROC_RDPMC_EXITING | PROC_SECONDARY_CONTROLS,
				  PROC_USE_TSC_OFFSETTING,
				  &vmx_cfg.proc, &vmx_cfg.proc_may, "processor-based");
	if (ret)
		return ret;
	if (!(vmx_cfg.proc_may & PROC_INTR_WINDOW_EXITING)) {
		pr_err("VMX lacks interrupt-window exiting\n");
		return -ENODEV;
	}
	/* Guest NMIs (events.c): virtual NMIs above, and their window. */
	if (!(vmx_cfg.proc_may & PROC_NMI_WINDOW_EXITING)) {
		pr_err("VMX lacks NMI-window exiting\n");
		return -ENODEV;
	}

	ret = vmx_adjust_controls(MSR_IA32_VMX_PROCBASED_CTLS2,
				  0, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST |
				  PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING |
				  PROC2_PAUSE_LOOP_EXITING,
				  &vmx_cfg.proc2, &proc2_may, "secondary");
	if (ret)
		return ret;
	if (!(proc2_may & PROC2_ENABLE_EPT)) {
		pr_err("VMX lacks EPT (extended page tables)\n");
		return -ENODEV;
	}
	if (!(proc2_may & PROC2_UNRESTRICTED_GUEST)) {
		pr_err("VMX lacks unrestricted guest (real-mode guests)\n");
		return -ENODEV;
	}
	/*
	 * A vCPU spinning on a lock (PAUSE in a loop) whose holder is a vCPU
	 * thread that is not running wastes its time slice: exit so that the
	 * holder can run (exit.c). PAUSE-loop exiting exits only when PAUSEs
	 * come close together for a while (25.6.13); without it, every PAUSE
	 * exits. (Bochs also needs one of them: a guest spinning on PAUSE
	 * there never took the host's timer interrupt.)
	 */
	if (!(vmx_cfg.proc2 & PROC2_PAUSE_LOOP_EXITING))
		vmx_cfg.proc |= vmx_cfg.proc_may & PROC_PAUSE_EXITING;

	/* The host is 64-bit; EFER and PAT are switched by the processor. */
	ret = vmx_adjust_controls(tru ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
				  MSR_IA32_VMX_EXIT_CTLS,
				  EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER |
				  EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_PAT,
				  EXIT_SAVE_DEBUG_CONTROLS,
				  &vmx_cfg.exit, NULL, "VM-exit");
	if (ret)
		return ret;
	vmx_cfg.exit &= ~EXIT_ACK_INTR_ON_EXIT;	/* leave IRQs to the host IDT */

	ret = vmx_adjust_controls(tru ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
				  MSR_IA32_VMX_ENTRY_CTLS,
				  ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT,
				  ENTRY_LOAD_DEBUG_CONTROLS,
				  &vmx_cfg.entry, &entry_may, "VM-entry");
	if (ret)
		return ret;
	if (!(entry_may & ENTRY_IA32E_MODE_GUEST)) {
		pr_err("VMX lacks 64-bit guests\n");
		return -ENODEV;
	}
	vmx_cfg.entry &= ~ENTRY_IA32E_MODE_GUEST;	/* vCPUs reset in real mode */
	return 0;
}

/* EPT and VPID capabilities (A.10) and the INVEPT/INVVPID flavours. */
static int vmx_setup_ept_vpid(void)
{
	u64 cap;

	if (rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &cap))
		return -ENODEV;
	vmx_cfg.ept_vpid_cap = cap;
	if (!(cap & VMX_EPT_WALK_4) || !(cap & VMX_EPT_MT_WB)) {
		pr_err("EPT lacks 4-level walks or write-back tables\n");
		return -ENODEV;
	}
	if (!(cap & VMX_EPT_INVEPT)) {
		pr_err("EPT lacks INVEPT\n");
		return -ENODEV;
	}
	vmx_cfg.invept_type = (cap & VMX_EPT_INVEPT_SINGLE) ?
			      INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT;

	vmx_cfg.invvpid_type = 0;
	if ((vmx_cfg.proc2 & PROC2_ENABLE_VPID) && (cap & VMX_VPID_INVVPID)) {
		if (cap & VMX_VPID_INVVPID_SINGLE)
			vmx_cfg.invvpid_type = INVVPID_SINGLE_CONTEXT;
		else if (cap & VMX_VPID_INVVPID_ALL)
			vmx_cfg.invvpid_type = INVVPID_ALL_CONTEXT;
	}
	/* VPID is set per vCPU, only when one could be allocated. */
	vmx_cfg.proc2 &= ~PROC2_ENABLE_VPID;
	return 0;
}

/*
 * CR4 bits a guest may set (others: #GP): those that VMX allows
 * (CR4_FIXED1) and that belong to features the guest's CPUID can offer
 * (cpuid.c), OSXSAVE included (XCR0 is switched, xsave.c). Left out:
 * VMXE/SMXE (no nested virtualization), PCIDE, SMEP, SMAP, UMIP, PKE,
 * CET and newer ones (hidden from CPUID).
 */
#define VMX_CR4_GUEST_BITS						\
	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |	\
	 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |	\
	 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |		\
	 X86_CR4_FSGSBASE | X86_CR4_OSXSAVE)

/*
 * L1 Terminal Fault: on affected Intel CPUs a guest can read host data
 * that sits in the L1 data cache through a not-present entry of its own
 * page tables. The kernel knows whether this CPU has the bug and whether
 * its mitigation is on (the l1tf= parameter); a hypervisor below us may
 * say that the flush is its job (ARCH_CAPABILITIES bit 3). Otherwise L1D
 * is emptied with the FLUSH_CMD MSR right before every entry. KVM flushes
 * only after exits that ran other host code (its "cond" mode); minikvm
 * flushes always: simpler, and never less safe. Without the MSR (older
 * microcode) KVM fills L1D by software; minikvm does not, and says so.
 */
static DEFINE_STATIC_KEY_FALSE(vmx_l1d_flush);

static void vmx_setup_l1d_flush(void)
{
	u64 caps = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF) ||
	    l1tf_mitigation == L1TF_MITIGATION_OFF)
		return;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, caps);
	if (caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return;
	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		pr_info("L1TF: this CPU has no FLUSH_CMD MSR; L1D is not flushed before VM entries\n");
		return;
	}
	static_branch_enable(&vmx_l1d_flush);
	pr_info("L1TF: L1D flushed before every VM entry\n");
}

static int vmx_probe(void)
{
	u64 basic, fc;
	int ret;

	/* CPUID.1:ECX.VMX[bit 5] (SDM 24.6) */
	if (!(cpuid_ecx(1) & BIT(5)))
		return -ENODEV;

	/*
	 * IA32_FEATURE_CONTROL (SDM 24.7): once the lock bit is set, nothing
	 * changes it until reset. Locked without "VMX outside SMX" means the
	 * firmware turned VMX off. Unlocked, cpu_enable will allow and lock.
	 */
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc))
		return -ENODEV;
	if ((fc & FEAT_CTL_LOCKED) && !(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("VMX is disabled by the firmware (IA32_FEATURE_CONTROL locked with VMX off)\n");
		return -ENODEV;
	}

	/* IA32_VMX_BASIC (A.1): revision, region size, memory type. */
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic))
		return -ENODEV;
	if (VMX_BASIC_REGION_SIZE(basic) > PAGE_SIZE ||
	    (basic & VMX_BASIC_32BIT_ADDR) ||
	    VMX_BASIC_MEMTYPE(basic) != VMX_MEMTYPE_WB) {
		pr_err("unsupported VMX region layout (IA32_VMX_BASIC %#llx)\n",
		       basic);
		return -ENODEV;
	}
	vmx_cfg.revision_id = VMX_BASIC_REVISION(basic);
	vmx_cfg.inout_info = basic & VMX_BASIC_INOUT_INFO;

	ret = vmx_setup_controls(basic);
	if (ret)
		return ret;
	ret = vmx_setup_ept_vpid();
	if (ret)
		return ret;

	/* Bits of CR0/CR4 fixed in VMX operation (A.7, A.8). */
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_cfg.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_cfg.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_cfg.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_cfg.cr4_fixed1);
	vmx_cfg.cr4_guest_ok = vmx_cfg.cr4_fixed1 & VMX_CR4_GUEST_BITS;
	vmx_setup_l1d_flush();

	pr_info("VMX revision %#x: EPT, unrestricted guest%s\n",
		vmx_cfg.revision_id,
		vmx_cfg.invvpid_type ? ", VPID" : "");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Module-wide resources                                               */
/* ------------------------------------------------------------------ */

static void vmx_global_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		if (vc->vmxon_region)
			free_page((unsigned long)vc->vmxon_region);
		vc->vmxon_region = NULL;
	}
	if (vmx_msr_bitmap)
		free_page((unsigned long)vmx_msr_bitmap);
	vmx_msr_bitmap = NULL;
}

static int vmx_global_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);
		struct page *page;

		INIT_LIST_HEAD(&vc->loaded);
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto err_free;
		/* A VMXON region starts with the VMCS revision id (25.11.5). */
		vc->vmxon_region = page_address(page);
		vc->vmxon_region->revision_id = vmx_cfg.revision_id;
	}

	vmx_msr_bitmap = (unsigned long *)__get_free_page(GFP_KERNEL);
	if (!vmx_msr_bitmap)
		goto err_free;
	memset(vmx_msr_bitmap, 0xff, PAGE_SIZE);

	set_bit(0, vmx_vpid_bitmap);	/* VPID 0 is the host's */
	return 0;

err_free:
	vmx_global_exit();
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Turning VMX on and off on a CPU (SDM 24.7, 24.8)                    */
/* ------------------------------------------------------------------ */

/* IA32_FEATURE_CONTROL must allow VMXON outside SMX and be locked. */
static int vmx_feature_control(int cpu)
{
	u64 fc;

	rdmsrl(MSR_IA32_FEAT_CTL, fc);
	if (fc & FEAT_CTL_LOCKED) {
		if (fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)
			return 0;
		pr_err("CPU %d: VMX is disabled by the firmware\n", cpu);
		return -ENODEV;
	}
	/* Unlocked: allow VMX and lock, as the firmware should have done. */
	fc |= FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX;
	if (wrmsrl_safe(MSR_IA32_FEAT_CTL, fc)) {
		pr_err("CPU %d: cannot enable VMX in IA32_FEATURE_CONTROL\n", cpu);
		return -EIO;
	}
	return 0;
}

/* In VMX operation, CR0 and CR4 must honour the fixed bits (A.7, A.8). */
static bool vmx_cr_fixed_ok(u64 val, u64 fixed0, u64 fixed1)
{
	return (val & fixed0) == fixed0 && !(val & ~fixed1);
}

static int vmx_cpu_enable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();
	int ret;

	if (vc->on)
		return 0;
	/* Someone else (kvm_intel, VirtualBox, ...) is in VMX operation. */
	if (cr4_read_shadow() & X86_CR4_VMXE) {
		pr_err("CPU %d: VMX already in use by another hypervisor (CR4.VMXE is set)\n",
		       cpu);
		return -EBUSY;
	}
	ret = vmx_feature_control(cpu);
	if (ret)
		return ret;
	if (!vc->vmxon_region)
		return -ENOMEM;
	if (!vmx_cr_fixed_ok(read_cr0(), vmx_cfg.cr0_fixed0, vmx_cfg.cr0_fixed1)) {
		pr_err("CPU %d: CR0 %#lx violates the VMX fixed bits\n",
		       cpu, read_cr0());
		return -EIO;
	}

	/* Step 1: CR4.VMXE allows VMXON (SDM 24.7). */
	cr4_set_bits(X86_CR4_VMXE);
	if (!vmx_cr_fixed_ok(__read_cr4(), vmx_cfg.cr4_fixed0,
			     vmx_cfg.cr4_fixed1)) {
		pr_err("CPU %d: CR4 %#lx violates the VMX fixed bits\n",
		       cpu, __read_cr4());
		ret = -EIO;
		goto err_clear_vmxe;
	}
	/* Step 2: VMXON enters VMX root operation, with our region. */
	if (!vmx_vmxon(__pa(vc->vmxon_region))) {
		pr_err("CPU %d: VMXON failed\n", cpu);
		ret = -EIO;
		goto err_clear_vmxe;
	}
	vc->on = true;
	return 0;

err_clear_vmxe:
	cr4_clear_bits(X86_CR4_VMXE);
	return ret;
}

static void vmx_vmcs_clear_local(struct vcpu_vmx *vmx);

static void vmx_cpu_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct vcpu_vmx *vmx, *tmp;
	unsigned long flags;

	if (!vc->on)
		return;
	/* A VMCS left active would have its cached data lost by VMXOFF. */
	local_irq_save(flags);
	list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded_link)
		vmx_vmcs_clear_local(vmx);
	local_irq_restore(flags);

	if (!vmx_vmxoff())
		pr_err("CPU %d: VMXOFF failed\n", smp_processor_id());
	cr4_clear_bits(X86_CR4_VMXE);
	vc->on = false;
}

/* ------------------------------------------------------------------ */
/* Which CPU holds a VMCS (SDM 25.1, 25.11.3)                          */
/* ------------------------------------------------------------------ */

/*
 * A VMCS is "active" on at most one CPU, which may cache parts of it.
 * VMCLEAR flushes the cache to memory and marks the VMCS clear (so the
 * next entry must be VMLAUNCH); only then may another CPU VMPTRLD it.
 * Each CPU keeps a list of the VMCSs active on it so cpu_disable can
 * clear them. The list is only touched on its own CPU with interrupts
 * off (the remote-clear IPI runs there too).
 */
static void vmx_vmcs_clear_local(struct vcpu_vmx *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (!vmx_vmclear(__pa(vmx->vmcs)))
		pr_err_ratelimited("VMCLEAR failed on CPU %d\n",
				   smp_processor_id());
	if (vc->current_vmcs == vmx)
		vc->current_vmcs = NULL;
	list_del_init(&vmx->loaded_link);
	vmx->launched = false;
	/* Ordered by the IPI's completion before any reader on another CPU. */
	WRITE_ONCE(vmx->loaded_cpu, -1);
}

static void vmx_vmcs_clear_ipi(void *data)
{
	struct vcpu_vmx *vmx = data;

	/* cpu_disable may have cleared it meanwhile. */
	if (READ_ONCE(vmx->loaded_cpu) == smp_processor_id())
		vmx_vmcs_clear_local(vmx);
}

/* VMCLEAR the VMCS wherever it is active. Needs interrupts on. */
static void vmx_vmcs_clear(struct vcpu_vmx *vmx)
{
	int cpu = READ_ONCE(vmx->loaded_cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_vmcs_clear_ipi, vmx, 1);
}

/*
 * Host state that differs from CPU to CPU: the GDT, IDT and TSS live in
 * the per-CPU entry area, GS base points at per-CPU data, and the
 * SYSENTER stack is per CPU (SDM 25.5).
 */
static unsigned long vmx_host_tr_base(const struct desc_ptr *gdt)
{
	/* TR's 16-byte GDT entry (SDM Vol.3A "TSS Descriptor in 64-bit mode") */
	const struct ldttss_desc *d =
		(const void *)(gdt->address + (native_store_tr() & ~7ul));

	return d->base0 | ((unsigned long)d->base1 << 16) |
	       ((unsigned long)d->base2 << 24) |
	       ((unsigned long)d->base3 << 32);
}

static void vmx_setup_host_percpu(struct vcpu_vmx *vmx)
{
	struct desc_ptr idt;
	u64 v;

	native_store_gdt(&vmx->host_gdt);
	store_idt(&idt);
	vmcs_write(VMCS_HOST_GDTR_BASE, vmx->host_gdt.address);
	vmcs_write(VMCS_HOST_IDTR_BASE, idt.address);
	vmcs_write(VMCS_HOST_TR_BASE, vmx_host_tr_base(&vmx->host_gdt));
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(VMCS_HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, v);
}

/*
 * Make the VMCS current on this CPU without sending an IPI: possible if
 * it is already active here or clear everywhere. Preemption must be off.
 */
static bool vmx_vmcs_load_local(struct vcpu_vmx *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();
	unsigned long flags;
	bool arrived;

	arrived = READ_ONCE(vmx->loaded_cpu) != cpu;
	if (arrived && READ_ONCE(vmx->loaded_cpu) >= 0)
		return false;		/* active elsewhere: needs an IPI */
	if (!arrived && vc->current_vmcs == vmx)
		return true;
	if (!vc->on) {
		pr_err_ratelimited("CPU %d: VMX is off, cannot load a VMCS\n", cpu);
		return false;
	}

	local_irq_save(flags);
	if (arrived) {
		/* Clear everywhere: VMCLEAR here sets launch state "clear". */
		vmx_vmclear(__pa(vmx->vmcs));
		vmx->launched = false;
		list_add(&vmx->loaded_link, &vc->loaded);
		WRITE_ONCE(vmx->loaded_cpu, cpu);
	}
	if (!vmx_vmptrld(__pa(vmx->vmcs))) {
		local_irq_restore(flags);
		pr_err_ratelimited("CPU %d: VMPTRLD failed\n", cpu);
		return false;
	}
	vc->current_vmcs = vmx;
	local_irq_restore(flags);

	if (arrived) {
		vmx_setup_host_percpu(vmx);
		/* Translations cached here may be stale (see ept.c). */
		vmx->need_invept = true;
	}
	return true;
}

/* The common case of vmx_vmcs_load_local(): already current right here. */
static __always_inline bool vmx_vmcs_is_current(struct vcpu_vmx *vmx)
{
	return READ_ONCE(vmx->loaded_cpu) == smp_processor_id() &&
	       this_cpu_read(vmx_cpu.current_vmcs) == vmx;
}

/*
 * vcpu_load: the vCPU thread runs on @cpu now (preemption is off). Also
 * note the thread's IA32_DEBUGCTL (perf may use it per task): VM exits
 * clear it (28.5.1) and run() puts it back.
 */
static void vmx_vcpu_load(struct mkvm_vcpu *vcpu, int cpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	if (READ_ONCE(vmx->loaded_cpu) != cpu)
		vmx_vmcs_clear(vmx);	/* no-op if clear everywhere */
	vmx_vmcs_load_local(vmx);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, vmx->host_debugctl);
}

static void vmx_restore_host(struct vcpu_vmx *vmx);

/*
 * The thread leaves the CPU (sched_out) or KVM_RUN returns towards
 * userspace: give it back the selectors and bases the exits clobbered.
 * The VMCS itself stays active; it is cleared lazily.
 */
static void vmx_vcpu_put(struct mkvm_vcpu *vcpu)
{
	vmx_restore_host(to_vmx(vcpu));
}

/*
 * For paths outside run() that read or write the VMCS (ioctls, exit
 * handlers): make sure it is current here, whatever the core's
 * vcpu_load discipline, and stay on this CPU until vmx_vmcs_put().
 */
void vmx_vmcs_get(struct vcpu_vmx *vmx)
{
	preempt_disable();
	if (READ_ONCE(vmx->loaded_cpu) != smp_processor_id() &&
	    READ_ONCE(vmx->loaded_cpu) >= 0 && !irqs_disabled())
		vmx_vmcs_clear(vmx);
	vmx_vmcs_load_local(vmx);
}

void vmx_vmcs_put(struct vcpu_vmx *vmx)
{
	preempt_enable();
}

/* ------------------------------------------------------------------ */
/* vCPU lifecycle: building the VMCS (SDM 25.4-25.8)                   */
/* ------------------------------------------------------------------ */

static u16 vmx_alloc_vpid(void)
{
	unsigned long vpid;

	if (!vmx_cfg.invvpid_type)
		return 0;
	spin_lock(&vmx_vpid_lock);
	vpid = find_first_zero_bit(vmx_vpid_bitmap, VMX_VPID_COUNT);
	if (vpid < VMX_VPID_COUNT)
		__set_bit(vpid, vmx_vpid_bitmap);
	else
		vpid = 0;	/* none left: run untagged */
	spin_unlock(&vmx_vpid_lock);
	return vpid;
}

static void vmx_free_vpid(u16 vpid)
{
	if (!vpid)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpid_bitmap);
	spin_unlock(&vmx_vpid_lock);
}

void vmx_set_proc_bits(struct vcpu_vmx *vmx, u32 bits, bool on)
{
	u32 proc = on ? vmx->proc | bits : vmx->proc & ~bits;

	if (proc != vmx->proc) {
		vmx->proc = proc;
		vmcs_write(VMCS_PROC_CONTROLS, proc);
	}
}

/*
 * The exception bitmap (25.6.3). Exceptions stay in the guest, except
 * #AC: a guest could make #AC delivery raise #AC forever without the CPU
 * ever taking an interrupt (CVE-2015-5307). Exiting on it lets the host
 * breathe; exit.c reflects it back. #UD: VMMCALL, AMD's hypercall, may
 * need rewriting (pv.c). #MC: a machine check belongs to the host,
 * whatever ran when it struck; with its bit clear it would go through the
 * guest's IDT (SDM Vol.3 26.2). #DB and #BP while the VMM debugs the
 * guest (KVM_SET_GUEST_DEBUG, guestdbg.c).
 */
static u32 vmx_exception_bitmap(struct mkvm_vcpu *vcpu)
{
	u32 bitmap = BIT(X86_TRAP_AC) | BIT(X86_TRAP_UD) | BIT(X86_TRAP_MC);

	if (mkvm_debug_owns_db(vcpu))
		bitmap |= BIT(X86_TRAP_DB);
	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		bitmap |= BIT(X86_TRAP_BP);
	return bitmap;
}

/*
 * The DR7 the guest runs with into the VMCS (current): the guest's own,
 * or the VMM's for USE_HW_BP (mkvm_hw_dr7()). "Load debug controls" makes
 * VM entry load it (SDM Vol.3 27.3.2.1); hw_dr7 remembers it for
 * vmx_run(), which loads DR0-3 (and DR6) when it enables a breakpoint.
 */
void vmx_write_dr7(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx->hw_dr7 = mkvm_hw_dr7(vcpu, vmx->dr7);
	vmcs_write(VMCS_GUEST_DR7, vmx->hw_dr7);
}

/* KVM_SET_GUEST_DEBUG changed what to intercept, and DR7. */
static void vmx_update_guest_debug(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_vmcs_get(vmx);
	vmcs_write(VMCS_EXCEPTION_BITMAP, vmx_exception_bitmap(vcpu));
	vmx_write_dr7(vcpu);
	vmx_vmcs_put(vmx);
}

/*
 * VMCS setup step 1: execution controls (25.6). What exits, and the
 * pointers to the MSR bitmap and EPT.
 */
static void vmx_setup_exec_controls(struct vcpu_vmx *vmx)
{
	vmx->pin = vmx_cfg.pin;
	vmcs_write(VMCS_PIN_CONTROLS, vmx->pin);
	vmx->proc = vmx_cfg.proc;
	vmcs_write(VMCS_PROC_CONTROLS, vmx->proc);
	vmx->proc2 = vmx_cfg.proc2;
	if (vmx->vpid) {
		vmx->proc2 |= PROC2_ENABLE_VPID;
		vmcs_write(VMCS_VPID, vmx->vpid);
	}
	vmcs_write(VMCS_PROC_CONTROLS2, vmx->proc2);
	if (vmx->proc2 & PROC2_PAUSE_LOOP_EXITING) {
		/* KVM's defaults, in TSC ticks: PAUSEs <= 128 apart, 4096 long. */
		vmcs_write(VMCS_PLE_GAP, 128);
		vmcs_write(VMCS_PLE_WINDOW, 4096);
	}

	/* Which exceptions exit: see vmx_exception_bitmap(). */
	vmcs_write(VMCS_EXCEPTION_BITMAP, vmx_exception_bitmap(vmx->vcpu));
	vmcs_write(VMCS_PF_ERROR_CODE_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_MSR_BITMAP, __pa(vmx_msr_bitmap));
	vmcs_write(VMCS_TSC_OFFSET, 0);
	vmx->tsc_offset = 0;

	/*
	 * CR0/CR4 guest/host masks (25.6.6): a 1 bit is owned by minikvm.
	 * The guest reads such bits from the read shadow and writing a
	 * different value exits. The guest owns CR0.TS only (lazy FPU
	 * switching in the guest does not exit); everything else exits, so
	 * minikvm sees paging turning on and keeps VMXE and NE set behind
	 * the guest's back.
	 */
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, ~(unsigned long)X86_CR0_TS);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, ~0ul);

	/* The EPT pointer is written before the first entry (ept.c). */
}

/*
 * VMCS setup step 2: exit and entry controls (25.7, 25.8), with the
 * MSR areas: entry loads the guest's values, exit stores the guest's
 * KERNEL_GS_BASE into the same area (entry 0) and loads the host's.
 */
static void vmx_setup_exit_entry_controls(struct vcpu_vmx *vmx)
{
	vmcs_write(VMCS_EXIT_CONTROLS, vmx_cfg.exit);
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, __pa(vmx->msr_guest));
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 1);
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, __pa(vmx->msr_host));
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, VMX_NR_SWITCHED_MSRS);

	vmx->entry = vmx_cfg.entry;
	vmcs_write(VMCS_ENTRY_CONTROLS, vmx->entry);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, __pa(vmx->msr_guest));
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, VMX_NR_SWITCHED_MSRS);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
}

/*
 * VMCS setup step 3: the host-state area (25.5), what a VM exit loads
 * (28.5). The per-CPU part is in vmx_setup_host_percpu(), the parts that
 * change per thread (CR3, FS base) are refreshed before entries.
 */
static void vmx_setup_host_state(struct vcpu_vmx *vmx)
{
	u64 v;
	int i;

	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmx->host_cr3 = __read_cr3();
	vmcs_write(VMCS_HOST_CR3, vmx->host_cr3);
	vmx->host_cr4 = cr4_read_shadow();
	vmcs_write(VMCS_HOST_CR4, vmx->host_cr4);

	/*
	 * Selectors must have RPL 0 and TI 0 (27.2.3): DS/ES/FS/GS come back
	 * as 0 (their bases from the fields below) and run() restores the
	 * values the thread had.
	 */
	vmcs_write(VMCS_HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(VMCS_HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(VMCS_HOST_DS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_ES_SELECTOR, 0);
	vmcs_write(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmx->host_fs_base = 0;
	vmcs_write(VMCS_HOST_FS_BASE, 0);

	/* Where exits land: vmenter.S; HOST_RSP is written there. */
	vmcs_write(VMCS_HOST_RIP, (unsigned long)vmx_vmexit);

	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(VMCS_HOST_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmcs_write(VMCS_HOST_IA32_PAT, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(VMCS_HOST_IA32_EFER, v);

	/* Host values of the switched MSRs; KERNEL_GS_BASE is per thread. */
	for (i = 0; i < VMX_NR_SWITCHED_MSRS; i++) {
		vmx->msr_host[i].index = vmx_switched_msrs[i];
		rdmsrl(vmx_switched_msrs[i], vmx->msr_host[i].value);
		vmx->msr_guest[i].index = vmx_switched_msrs[i];
		vmx->msr_guest[i].value = 0;
	}
}

static int vmx_vcpu_create(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx;
	struct page *page;
	int ret = -ENOMEM;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vcpu = vcpu;
	vmx->loaded_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);

	/* The VMCS region: one page, the revision id first (25.2). */
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		goto err_free_vmx;
	vmx->vmcs = page_address(page);
	vmx->vmcs->revision_id = vmx_cfg.revision_id;

	/* Both MSR areas share a page: guest at 0, host at 256 bytes. */
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		goto err_free_vmcs;
	vmx->msr_guest = page_address(page);
	vmx->msr_host = vmx->msr_guest + 16;

	vmx->vpid = vmx_alloc_vpid();
	vcpu->vendor = vmx;

	vmx_vmcs_get(vmx);
	if (vmx->loaded_cpu != smp_processor_id()) {
		vmx_vmcs_put(vmx);
		ret = -EIO;	/* VMX off on this CPU */
		goto err_free_vpid;
	}
	vmx_setup_exec_controls(vmx);
	vmx_setup_exit_entry_controls(vmx);
	vmx_setup_host_state(vmx);
	vmx_reset_guest(vcpu);
	vmx_vmcs_put(vmx);
	return 0;

err_free_vpid:
	vcpu->vendor = NULL;
	vmx_free_vpid(vmx->vpid);
	free_page((unsigned long)vmx->msr_guest);
err_free_vmcs:
	free_page((unsigned long)vmx->vmcs);
err_free_vmx:
	kfree(vmx);
	return ret;
}

static void vmx_vcpu_free(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	if (!vmx)
		return;
	vmx_vmcs_clear(vmx);	/* on the CPU where it is active */
	vmx_free_vpid(vmx->vpid);
	free_page((unsigned long)vmx->msr_guest);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->vendor = NULL;
}

/* Nothing per VM: the EPT root is the core's, VPIDs are per vCPU. */
static int vmx_vm_init(struct mkvm *vm)
{
	return 0;
}

static void vmx_vm_destroy(struct mkvm *vm)
{
}

/* ------------------------------------------------------------------ */
/* The entry path                                                      */
/* ------------------------------------------------------------------ */

/*
 * Before every entry: host state that can change between two entries of
 * the same vCPU without the thread leaving the CPU (its CR3 when the
 * kernel reassigns the PCID, CR4 bits), written to the host-state area
 * only when it differs (SDM Vol.3 25.5).
 */
static void vmx_sync_host_cr(struct vcpu_vmx *vmx)
{
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();

	if (unlikely(cr3 != vmx->host_cr3)) {
		vmx->host_cr3 = cr3;
		vmcs_write(VMCS_HOST_CR3, cr3);
	}
	if (unlikely(cr4 != vmx->host_cr4)) {
		vmx->host_cr4 = cr4;
		vmcs_write(VMCS_HOST_CR4, cr4);
	}
}

/*
 * What a VM exit clobbers without restoring (SDM Vol.3 28.5.2): DS, ES,
 * FS and GS selectors become 0 (the host-state selector fields), LDTR
 * becomes unusable (a thread with an LDT of its own, from modify_ldt(2),
 * needs it back), the GDTR limit becomes 0xffff and TR's limit 0x67. FS base comes from the
 * host-state area, KERNEL_GS_BASE from the VM-exit MSR-load area
 * (28.6), so those two must hold the thread's values.
 *
 * None of this matters to the kernel: in 64-bit mode it addresses
 * through GS base alone (restored by the exit from HOST_GS_BASE). It
 * matters to the thread's userspace, and to the scheduler, which saves
 * the selectors of the thread it switches away from. So, as KVM does,
 * save once, at the first entry after vcpu_load, and restore once, in
 * vmx_vcpu_put(): when KVM_RUN returns and when the thread is scheduled
 * out (the core's preempt notifier). An exit the kernel handles itself
 * and re-enters after pays for neither. Between the two, nothing can
 * change these values: the thread is in our ioctl.
 */
static void vmx_save_host(struct vcpu_vmx *vmx)
{
	struct vmx_host_regs *h = &vmx->host;

	if (vmx->host_saved)
		return;
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	asm volatile("sldt %0" : "=r" (h->ldt));
	rdmsrl(MSR_FS_BASE, h->fs_base);
	if (h->fs_base != vmx->host_fs_base) {
		vmx->host_fs_base = h->fs_base;
		vmcs_write(VMCS_HOST_FS_BASE, h->fs_base);
	}
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	vmx->msr_host[VMX_MSR_KERNEL_GS_BASE].value = h->kernel_gs_base;
	vmx->host_saved = true;
}

/* Undo what the exits clobbered (see above); preemption is off. */
static void vmx_restore_host(struct vcpu_vmx *vmx)
{
	struct vmx_host_regs *h = &vmx->host;

	if (!vmx->host_saved)
		return;
	/* The thread is still on the CPU of its last exit: its GDT. */
	native_load_gdt(&vmx->host_gdt);
	invalidate_tss_limit();
	/* Before the selectors: one of them may point into the LDT. */
	if (h->ldt)
		asm volatile("lldt %0" : : "r" (h->ldt));

	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs) {
		load_gs_index(h->gs);
		wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	}
	vmx->host_saved = false;
}

/*
 * The guest's breakpoints are live: DR0-3 (the guest's or the VMM's) and
 * the guest's DR6 go into the CPU right before VM entry, which does not
 * switch them (SDM Vol.3 27.3.2.1). DR6 is the real register in VMX
 * non-root operation: a #DB the CPU delivers straight to the guest
 * (#DB does not exit unless the VMM debugs) sets its bits B0-3, BS there.
 */
static void vmx_load_guest_debug(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	mkvm_load_debug_addrs(vcpu, vmx->dr);
	set_debugreg(vmx->dr6, 6);
}

/*
 * Right after such an entry's exit: read DR6 back into the copy that
 * vmx_handle_dr() and KVM_GET_DEBUGREGS serve. It changed only if a #DB
 * went to the guest (a #DB that exits leaves DR6 alone, SDM Vol.3 28.1),
 * and that delivery cleared DR7.GD in the CPU (17.2.4): so in the copy.
 * Then a clean DR6 for the host's next #DB, unless
 * vmx_restore_host_debug() reloads the host's registers anyway.
 */
static void vmx_save_guest_dr6(struct vcpu_vmx *vmx)
{
	unsigned long dr6;

	get_debugreg(dr6, 6);
	if (dr6 != vmx->dr6) {
		vmx->dr6 = dr6;
		vmx->dr7 &= ~MKVM_DR7_GD;
	}
	if (dr6 != VMX_DR6_RESET && !hw_breakpoint_active())
		set_debugreg(VMX_DR6_RESET, 6);
}

/*
 * After every exit: what the kernel itself may use before vcpu_put. The
 * exit clears IA32_DEBUGCTL (28.5.1; the thread's value is noted at
 * vcpu_load) and sets DR7 to 0x400; DR0-3 and DR6 hold the guest's if
 * its breakpoints were live (vmx_load_guest_debug()), else the host's.
 */
static void vmx_restore_host_debug(struct vcpu_vmx *vmx)
{
	if (vmx->host_debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, vmx->host_debugctl);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
}

/*
 * RFLAGS.TF with blocking by STI or MOV SS: VM entry then wants the BS
 * bit among the pending debug exceptions (SDM Vol.3 26.3.1.5). After MOV
 * SS the single-step trap is indeed still to come: mark it pending. After
 * STI it was already taken (that is how a stepping VMM got here): drop
 * the one-instruction STI shadow instead, the trap must not repeat.
 */
static void vmx_step_shadow(struct mkvm_vcpu *vcpu)
{
	u64 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	if (intr & INTERRUPTIBILITY_MOV_SS)
		vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			   vmcs_read(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) | DR_STEP);
	else if (intr & INTERRUPTIBILITY_STI)
		vmcs_clear_bits(VMCS_GUEST_INTERRUPTIBILITY,
				INTERRUPTIBILITY_STI);
}

/* Guest state the core keeps in vcpu: copy it into the VMCS. */
static void vmx_load_guest(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	/*
	 * If the core moved RIP (it emulated the exiting instruction), the
	 * guest executed an instruction: blocking by STI or MOV SS, which
	 * lasts one instruction, is over (25.4.2).
	 */
	if (vcpu->rip != vmx->exit_rip) {
		vmcs_clear_bits(VMCS_GUEST_INTERRUPTIBILITY,
				INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
		/*
		 * A single-step trap the exit left pending (BS) belonged to
		 * the instruction the core emulated, and the core raised it
		 * itself (vcpu.c: mkvm_step_check): entering with it would
		 * trap a second time at the new RIP.
		 */
		if (unlikely(vcpu->rflags & MKVM_RFLAGS_TF))
			vmcs_clear_bits(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
					DR_STEP);
		vmx->exit_rip = vcpu->rip;
	}
	vmcs_write(VMCS_GUEST_RIP, vcpu->rip);
	/* RSP and RFLAGS rarely change in the kernel: write them if they did. */
	if (vcpu->regs[MKVM_RSP] != vmx->vmcs_rsp) {
		vmx->vmcs_rsp = vcpu->regs[MKVM_RSP];
		vmcs_write(VMCS_GUEST_RSP, vmx->vmcs_rsp);
	}
	if ((vcpu->rflags | MKVM_RFLAGS_FIXED) != vmx->vmcs_rflags) {
		vmx->vmcs_rflags = vcpu->rflags | MKVM_RFLAGS_FIXED;
		vmcs_write(VMCS_GUEST_RFLAGS, vmx->vmcs_rflags);
	}
	if (unlikely(vcpu->rflags & MKVM_RFLAGS_TF))
		vmx_step_shadow(vcpu);

	vmx_sync_eptp(vcpu);
	if (vcpu->msr_tsc_offset != vmx->tsc_offset) {
		vmx->tsc_offset = vcpu->msr_tsc_offset;
		vmcs_write(VMCS_TSC_OFFSET, vmx->tsc_offset);
	}
	if (vcpu->msr_pat != vmx->pat) {
		vmx->pat = vcpu->msr_pat;
		vmcs_write(VMCS_GUEST_IA32_PAT, vmx->pat);
	}
}

/* An external interrupt can be taken: IF=1, no STI/MOV SS shadow. */
static bool vmx_irq_window_open(struct mkvm_vcpu *vcpu)
{
	return (vcpu->rflags & MKVM_RFLAGS_IF) &&
	       !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/*
 * For the core's KVM_INTERRUPT path: would the guest take an external
 * interrupt now? Not if an event is already on its way in.
 */
static bool vmx_interrupt_allowed(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	bool open;

	vmx_vmcs_get(vmx);
	open = vmx_irq_window_open(vcpu);
	vmx_vmcs_put(vmx);
	return open && !vcpu->event.pending;
}

/*
 * "Interrupt-window exiting" (26.7.5): exit at the first instruction
 * boundary where RFLAGS.IF = 1 and there is no STI/MOV SS shadow, that
 * is, as soon as the guest could take an interrupt (exit.c clears it).
 */
static void vmx_enable_irq_window(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_vmcs_get(vmx);
	vmx_set_proc_bits(vmx, PROC_INTR_WINDOW_EXITING, true);
	vmx_vmcs_put(vmx);
}

/*
 * Exceptions that push an error code (SDM Vol.3A "Exception and
 * Interrupt Reference"): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP.
 */
#define VMX_ERROR_CODE_VECTORS						\
	(BIT(X86_TRAP_DF) | BIT(X86_TRAP_TS) | BIT(X86_TRAP_NP) |	\
	 BIT(X86_TRAP_SS) | BIT(X86_TRAP_GP) | BIT(X86_TRAP_PF) |	\
	 BIT(X86_TRAP_AC) | BIT(21))

/*
 * Event injection (SDM 27.5): the VM-entry interruption-information
 * field makes the processor deliver an event through the guest's IDT as
 * part of VM entry, exactly as if it had happened right then.
 */
static void vmx_inject_event(struct mkvm_vcpu *vcpu)
{
	struct mkvm_pending_event *ev = &vcpu->event;
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 info = ev->vector | VMX_INTR_INFO_VALID;

	if (!ev->pending)
		return;
	if (ev->is_nmi) {
		vmx_inject_nmi(vcpu);	/* events.c */
		return;
	}
	if (ev->is_irq) {
		/*
		 * Injecting an interrupt the guest blocks is a VM-entry failure
		 * (27.3.1.4, 27.3.1.5). The core asks interrupt_allowed()
		 * first, but KVM_SET_SREGS can queue one at any time: then
		 * wait for the interrupt window.
		 */
		if (!vmx_irq_window_open(vcpu)) {
			vmx_set_proc_bits(vmx, PROC_INTR_WINDOW_EXITING, true);
			return;
		}
		info |= VMX_INTR_TYPE_EXT_INTR << VMX_INTR_INFO_TYPE_SHIFT;
	} else {
		info |= VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_INFO_TYPE_SHIFT;
		/*
		 * Deliver-error-code must be set exactly when the exception
		 * pushes one, and never in real mode (27.2.1.3).
		 */
		if ((vmx->cr0 & X86_CR0_PE) && ev->vector < 32 &&
		    (VMX_ERROR_CODE_VECTORS & BIT(ev->vector))) {
			info |= VMX_INTR_INFO_DELIVER_CODE;
			vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, ev->error);
		}
	}
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	ev->pending = false;
}

/*
 * An exit that interrupted the delivery of an event (say, the guest's
 * IDT page was not mapped in the EPT yet) reports it in the IDT-vectoring
 * information (SDM 28.2.4); it must be delivered again (SDM 28.2.4 and
 * "Handling of IDT-vectoring information"). Software interrupts and
 * exceptions (INT n, INT3, INTO, INT1) are not queued again: RIP still
 * points at the instruction, which raises them again when re-executed.
 */
static void vmx_requeue_event(struct mkvm_vcpu *vcpu)
{
	struct mkvm_pending_event *ev = &vcpu->event;
	u32 info = vmcs_read(VMCS_IDT_VECTORING_INFO);
	u32 type = (info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT;

	if (!(info & VMX_INTR_INFO_VALID))
		return;
	if (type == VMX_INTR_TYPE_EXT_INTR) {
		ev->is_irq = true;
		ev->is_nmi = false;
		ev->has_error = false;
	} else if (type == VMX_INTR_TYPE_NMI) {
		/* Not delivered: its handler never ran (vmx_inject_nmi()). */
		ev->is_irq = false;
		ev->is_nmi = true;
		ev->has_error = false;
	} else if (type == VMX_INTR_TYPE_HW_EXCEPTION && !ev->pending) {
		/* (an interrupt still waiting for its window keeps its slot) */
		ev->is_irq = false;
		ev->is_nmi = false;
		ev->has_error = info & VMX_INTR_INFO_DELIVER_CODE;
		ev->error = ev->has_error ?
			    vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE) : 0;
	} else {
		return;
	}
	ev->vector = info & VMX_INTR_INFO_VECTOR_MASK;
	ev->pending = true;
}

/*
 * With "NMI exiting", an NMI that arrives in the guest exits and is not
 * delivered to the host (SDM 26.2). Raise it again as a self-IPI so
 * the host's NMI handler (perf, watchdog) still sees it.
 */
static void vmx_raise_host_nmi(void)
{
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
}

/* After a VM exit: what happened, and the guest state the core keeps. */
static void vmx_record_exit(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx->exit_reason = vmcs_read(VMCS_EXIT_REASON);
	vmx->exit_qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	if (vmx->exit_reason & VMX_EXIT_REASON_FAILED_ENTRY) {
		/* No guest state was saved (27.8); drop any injection. */
		vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
		return;
	}
	vmx->launched = true;
	vcpu->rip = vmcs_read(VMCS_GUEST_RIP);
	vmx->exit_rip = vcpu->rip;
	vmx->vmcs_rsp = vmcs_read(VMCS_GUEST_RSP);
	vcpu->regs[MKVM_RSP] = vmx->vmcs_rsp;
	vmx->vmcs_rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	vcpu->rflags = vmx->vmcs_rflags;
	vmx_requeue_event(vcpu);

	if ((vmx->exit_reason & VMX_EXIT_REASON_BASIC) ==
	    VMX_EXIT_EXCEPTION_NMI) {
		vmx->exit_intr_info = vmcs_read(VMCS_EXIT_INTR_INFO);
		if (((vmx->exit_intr_info & VMX_INTR_INFO_TYPE_MASK) >>
		     VMX_INTR_INFO_TYPE_SHIFT) == VMX_INTR_TYPE_NMI)
			vmx_raise_host_nmi();
	}
	vmx_recover_nmi_blocking(vcpu);
}

/* VMLAUNCH/VMRESUME did not even start: VMfailInvalid or VMfailValid. */
static void vmx_record_fail(struct vcpu_vmx *vmx, int ret)
{
	unsigned long err = 0;

	if (ret == VMX_ENTER_FAIL_VALID &&
	    __vmx_vmread(VMCS_INSTRUCTION_ERROR, &err)) {
		vmx->fail = VMX_FAIL_VALID;
		vmx->fail_code = err;
		__vmx_vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	} else {
		vmx->fail = VMX_FAIL_INVALID;
		vmx->fail_code = 0;
	}
}

/*
 * An entry with RFLAGS.IF=0 gets the VMX-preemption timer, 1 ms, so that
 * the host's interrupts wait at most that long under Bochs (see
 * vmx_setup_preemption_timer()); other entries run without it. Without
 * the "save VMX-preemption timer value" exit control the field keeps the
 * value written (SDM Vol.3 28.3.4), so it is written only when armed.
 */
static void vmx_arm_preemption_timer(struct vcpu_vmx *vmx)
{
	bool arm = !(vmx->vmcs_rflags & MKVM_RFLAGS_IF) &&
		   vmx_cfg.preempt_quantum;

	if (arm == !!(vmx->pin & PIN_PREEMPTION_TIMER))
		return;
	vmx->pin ^= PIN_PREEMPTION_TIMER;
	vmcs_write(VMCS_PIN_CONTROLS, vmx->pin);
	if (arm)
		vmcs_write(VMCS_GUEST_PREEMPTION_TIMER, vmx_cfg.preempt_quantum);
}

/*
 * Enter the guest once (interrupts off, preemption off). The steps:
 * make sure our VMCS is current, copy the guest state the core keeps
 * into it, queue an event, flush stale translations, note host state the
 * exit will clobber (once per vcpu_load), swap CR2 (not in the VMCS),
 * switch worlds, and record what the exit says.
 */
static void vmx_run(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	bool debug_live;
	int ret;

	vmx->exit_reason = 0;
	vmx->exit_qual = 0;
	vmx->fail = VMX_ENTERED;
	if (!vmx_vmcs_is_current(vmx) && !vmx_vmcs_load_local(vmx)) {
		vmx->fail = VMX_FAIL_INVALID;
		vmx->fail_code = 0;
		return;
	}

	vmx_load_guest(vcpu);
	vmx_inject_event(vcpu);
	vmx_arm_preemption_timer(vmx);
	vmx_sync_tlb(vmx);
	vmx_sync_host_cr(vmx);
	vmx_save_host(vmx);

	if (native_read_cr2() != vcpu->cr2)
		native_write_cr2(vcpu->cr2);
	debug_live = vmx->hw_dr7 & MKVM_DR7_BP_EN;
	if (unlikely(debug_live))
		vmx_load_guest_debug(vcpu);
	if (static_branch_unlikely(&vmx_l1d_flush))
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	ret = vmx_vmenter(vcpu->regs, vmx->launched);
	vcpu->cr2 = native_read_cr2();

	if (unlikely(debug_live))
		vmx_save_guest_dr6(vmx);
	vmx_restore_host_debug(vmx);
	if (ret != VMX_ENTER_EXIT)
		vmx_record_fail(vmx, ret);
	else
		vmx_record_exit(vcpu);
}

/* ------------------------------------------------------------------ */
/* The ops instance                                                    */
/* ------------------------------------------------------------------ */

/*
 * The raw exit for the kvm_exit tracepoint: basic exit reason, exit
 * qualification, guest-physical address (EPT exits) and the IDT-vectoring
 * information of an event whose delivery the exit interrupted (SDM Vol.3
 * 28.2.1, 28.2.4). Called right after vmx_run(), VMCS still current.
 */
static void vmx_get_exit_info(struct mkvm_vcpu *vcpu, u32 *reason, u64 *info1,
			      u64 *info2, u32 *intr_info, u32 *error_code)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	*reason = vmx->exit_reason;
	*info1 = vmx->exit_qual;
	*info2 = 0;
	*intr_info = 0;
	*error_code = 0;
	if (vmx->fail != VMX_ENTERED)
		return;
	*info2 = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	*intr_info = vmcs_read(VMCS_IDT_VECTORING_INFO);
	*error_code = vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE);
}

const struct mkvm_x86_ops vmx_ops = {
	.name		= "vmx",
	.isa		= KVM_ISA_VMX,
	.hypercall_insn	= { 0x0f, 0x01, 0xc1 },	/* VMCALL */
	.other_hypercall_insn = { 0x0f, 0x01, 0xd9 },	/* VMMCALL */
	.reset_microcode_version = 0x100000000ULL,	/* KVM's for Intel guests */
	.has_smm		= true,	/* RSM arrives as #UD (pv.c, smm.c) */
	.probe		= vmx_probe,
	.global_init	= vmx_global_init,
	.global_exit	= vmx_global_exit,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,

	.vm_init	= vmx_vm_init,
	.vm_destroy	= vmx_vm_destroy,
	.vcpu_create	= vmx_vcpu_create,
	.vcpu_free	= vmx_vcpu_free,
	.vcpu_load	= vmx_vcpu_load,
	.vcpu_put	= vmx_vcpu_put,

	.get_segment	= vmx_get_segment,
	.set_segment	= vmx_set_segment,
	.get_dtable	= vmx_get_dtable,
	.set_dtable	= vmx_set_dtable,
	.get_cr		= vmx_get_cr,
	.set_cr		= vmx_set_cr,
	.set_efer	= vmx_set_efer,
	.get_cpl	= vmx_get_cpl,
	.mcg_cap_mask	= ~0ULL,
	.get_msr	= vmx_get_msr,
	.set_msr	= vmx_set_msr,

	.run		= vmx_run,
	.handle_exit	= vmx_handle_exit,
	.get_exit_info	= vmx_get_exit_info,
	.interrupt_allowed = vmx_interrupt_allowed,
	.enable_irq_window = vmx_enable_irq_window,
	.nmi_allowed = vmx_nmi_allowed,
	.enable_nmi_window = vmx_enable_nmi_window,
	.get_nmi_mask = vmx_get_nmi_mask,
	.set_nmi_mask = vmx_set_nmi_mask,
	.get_interrupt_shadow = vmx_get_interrupt_shadow,
	.set_interrupt_shadow = vmx_set_interrupt_shadow,
	.update_guest_debug = vmx_update_guest_debug,
	.get_debugregs = vmx_get_debugregs,
	.set_debugregs = vmx_set_debugregs,

	.flush_tlb	= vmx_flush_tlb,
	.tdp_pte	= vmx_tdp_pte,
	.tdp_present	= vmx_tdp_present,
	.tdp_writable	= vmx_tdp_writable,
	.set_tdp_root	= vmx_set_tdp_root,
};
