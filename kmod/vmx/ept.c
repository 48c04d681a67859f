// SPDX-License-Identifier: GPL-2.0-only
/*
 * Extended page tables: the Intel flavour of two-dimensional paging.
 *
 * The core (tdp.c) builds and walks the guest-physical -> host-physical
 * table; it is a plain 4-level radix tree like the host's own page
 * tables. Only the bits inside an entry differ between Intel and AMD,
 * so this file makes entries, tells whether one is present, builds the
 * EPT pointer and flushes the translations the processor caches.
 * The AMD counterpart is svm/npt.c.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/bits.h>

#include "vmx.h"

/*
 * An EPT paging-structure entry (SDM 29.3.2, the tables "Format of an
 * EPT PML4 Entry" .. "Format of an EPT Page-Table Entry"):
 *   bit 0     read access
 *   bit 1     write access
 *   bit 2     execute access (supervisor-mode with "mode-based execute")
 *   bits 5:3  memory type, leaves only (29.3.7)
 *   bit 6     ignore PAT, leaves only
 *   bit 7     large page (we map 4 KiB pages only)
 *   bits 51:12 physical address of the next table or the page
 * An entry is present if any of bits 2:0 is set; "write but not read" is
 * a misconfiguration (29.3.3.1), so every entry we make is readable.
 * Unlike x86 page tables there is no user/supervisor bit and no "present"
 * bit of its own.
 */
#define EPT_READ		BIT_ULL(0)
#define EPT_WRITE		BIT_ULL(1)
#define EPT_EXEC		BIT_ULL(2)
#define EPT_MT_SHIFT		3
#define EPT_IGNORE_PAT		BIT_ULL(6)
#define EPT_ADDR_MASK		GENMASK_ULL(51, 12)

/*
 * The EPT pointer (SDM 25.6.11): bits 2:0 the memory type used to read
 * the EPT structures, bits 5:3 the walk length minus one, bit 6 enables
 * accessed/dirty flags (not used), bits 51:12 the PML4 table.
 */
#define EPTP_WALK_4		(3ull << 3)

u64 vmx_tdp_pte(phys_addr_t pa, bool leaf, bool write, bool exec)
{
	u64 pte = (pa & EPT_ADDR_MASK) | EPT_READ;

	if (write)
		pte |= EPT_WRITE;
	if (exec)
		pte |= EPT_EXEC;
	/*
	 * Guest memory is ordinary host RAM, always write-back. With "ignore
	 * PAT" the guest's own PAT and MTRR view cannot make it uncached
	 * (29.3.7.2); non-leaf entries must keep these bits zero.
	 */
	if (leaf)
		pte |= ((u64)VMX_MEMTYPE_WB << EPT_MT_SHIFT) | EPT_IGNORE_PAT;
	return pte;
}

bool vmx_tdp_present(u64 pte)
{
	return pte & (EPT_READ | EPT_WRITE | EPT_EXEC);
}

bool vmx_tdp_writable(u64 pte)
{
	return pte & EPT_WRITE;
}

static u64 vmx_make_eptp(phys_addr_t root)
{
	return (root & EPT_ADDR_MASK) | EPTP_WALK_4 | VMX_MEMTYPE_WB;
}

static void vmx_write_eptp(struct vcpu_vmx *vmx, u64 eptp)
{
	if (eptp == vmx->eptp)
		return;
	vmx->eptp = eptp;
	vmcs_write(VMCS_EPT_POINTER, eptp);
	vmx->need_invept = true;
}

/*
 * Before each entry (run(), VMCS current): the EPT pointer for the VM's
 * table. The VM keeps one root for its lifetime (tdp.c), so this writes
 * the VMCS once.
 */
void vmx_sync_eptp(struct mkvm_vcpu *vcpu)
{
	vmx_write_eptp(to_vmx(vcpu), vmx_make_eptp(mkvm_tdp_root_pa(vcpu)));
}

/* The set_tdp_root op: the same, for a root the core names. */
void vmx_set_tdp_root(struct mkvm_vcpu *vcpu, phys_addr_t root)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_vmcs_get(vmx);
	vmx_write_eptp(vmx, vmx_make_eptp(root));
	vmx_vmcs_put(vmx);
}

/*
 * Cached translations (SDM 29.4): with EPT the processor caches
 * guest-physical mappings (tagged by the EPT root) and combined mappings
 * (linear -> host-physical, tagged by EPT root and VPID). A VM entry
 * flushes nothing when VPIDs are on, so minikvm flushes by hand:
 *  - INVEPT when the EPT changed (the core asks through flush_tlb) and
 *    when the vCPU arrives on a CPU (stale entries may linger there from
 *    an earlier run, or from a freed VM whose root page was reused);
 *  - INVVPID when minikvm emulated a guest instruction that flushes the
 *    TLB on real hardware (MOV to CR0/CR3/CR4, see state.c).
 * INVEPT single-context removes combined mappings of every VPID for that
 * root, so it also covers INVVPID.
 */
static bool vmx_invept(int type, u64 eptp)
{
	struct vmx_invept_desc desc = { .eptp = eptp };

	return vmx_insn("invept %[desc], %[type]",
			[desc] "m" (desc), [type] "r" ((unsigned long)type));
}

static bool vmx_invvpid(int type, u16 vpid)
{
	struct vmx_invvpid_desc desc = { .vpid = vpid };

	return vmx_insn("invvpid %[desc], %[type]",
			[desc] "m" (desc), [type] "r" ((unsigned long)type));
}

/* The core's flush_tlb op: the EPT changed; flush before the next entry. */
void vmx_flush_tlb(struct mkvm_vcpu *vcpu)
{
	WRITE_ONCE(to_vmx(vcpu)->need_invept, true);
}

/* Called by run() with interrupts off, on the CPU about to enter. */
void vmx_sync_tlb(struct vcpu_vmx *vmx)
{
	if (READ_ONCE(vmx->need_invept)) {
		WRITE_ONCE(vmx->need_invept, false);
		vmx->need_invvpid = false;	/* covered, see above */
		if (!vmx_invept(vmx_cfg.invept_type, vmx->eptp))
			pr_err_ratelimited("INVEPT failed\n");
	}
	if (vmx->need_invvpid) {
		vmx->need_invvpid = false;
		if (vmx->vpid && !vmx_invvpid(vmx_cfg.invvpid_type, vmx->vpid))
			pr_err_ratelimited("INVVPID failed\n");
	}
}
