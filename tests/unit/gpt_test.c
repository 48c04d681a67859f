// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of kmod/gpt.c: build guest page tables in a fake guest
 * memory buffer, in each paging mode, and check translations and faults.
 */
#include <string.h>

#include "gpt.h"
#include "tap.h"

/* Architectural bits, spelled out here independently of gpt.c. */
#define CR0_PG		(1ULL << 31)
#define CR0_WP		(1ULL << 16)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define CR4_SMEP	(1ULL << 20)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)

#define P		(1ULL << 0)
#define RW		(1ULL << 1)
#define US		(1ULL << 2)
#define PS		(1ULL << 7)
#define XD		(1ULL << 63)
#define ALL		(P | RW | US)

#define RD		0
#define WR		MKVM_WALK_WRITE
#define USR		MKVM_WALK_USER
#define EXE		MKVM_WALK_FETCH

#define PF_P		MKVM_PFERR_PRESENT
#define PF_W		MKVM_PFERR_WRITE
#define PF_U		MKVM_PFERR_USER
#define PF_I		MKVM_PFERR_FETCH

/* ------------------------------------------------------------------ */
/* Fake guest memory and a page-table builder                          */
/* ------------------------------------------------------------------ */

#define MEM_SIZE	(2u << 20)
#define TABLES_START	0x100000u	/* tables are allocated from here up */

static u8 mem[MEM_SIZE];
static u64 next_table;
static int read_error;	/* when set, every read_gpa fails with it */
static int reads;

static int fake_read_gpa(void *opaque, u64 gpa, void *buf, int len)
{
	(void)opaque;
	reads++;
	if (read_error)
		return read_error;
	if (len != 4 && len != 8)
		return -EINVAL;
	if (gpa % len)
		return -EINVAL;		/* entries are naturally aligned */
	if (gpa >= MEM_SIZE || MEM_SIZE - gpa < (u64)len)
		return -ENOENT;
	memcpy(buf, &mem[gpa], len);
	return 0;
}

static void reset_memory(void)
{
	memset(mem, 0, sizeof(mem));
	next_table = TABLES_START;
	read_error = 0;
}

static u64 alloc_table(void)
{
	u64 t = next_table;

	next_table += 4096;
	return t;
}

static u64 get_entry(u64 addr, int size)
{
	u64 v = 0;

	memcpy(&v, &mem[addr], size);
	return v;
}

static void put_entry(u64 addr, int size, u64 v)
{
	memcpy(&mem[addr], &v, size);
}

struct fmt {
	int levels;
	int pte_size;
	int index_bits;
	bool pae;	/* top level is the PAE PDPT: entries are just P */
};

static const struct fmt fmt_32bit = { 2, 4, 10, false };
static const struct fmt fmt_pae = { 3, 8, 9, true };
static const struct fmt fmt_4level = { 4, 8, 9, false };
static const struct fmt fmt_5level = { 5, 8, 9, false };

static u64 entry_addr(const struct fmt *f, u64 table, u64 gva, int level)
{
	int shift = 12 + f->index_bits * (level - 1);
	u64 mask = (1ULL << f->index_bits) - 1;

	return table + ((gva >> shift) & mask) * f->pte_size;
}

/*
 * Map @gva to @frame with a leaf at @leaf_level (1 = 4 KiB, 2 = 2/4 MiB,
 * 3 = 1 GiB), creating missing tables with @table_flags. Existing table
 * entries are reused as they are.
 */
static void map(const struct fmt *f, u64 root, u64 gva, int leaf_level,
		u64 frame, u64 leaf_flags, u64 table_flags)
{
	u64 table = root, addr, e;
	int level;

	for (level = f->levels; level > leaf_level; level--) {
		addr = entry_addr(f, table, gva, level);
		e = get_entry(addr, f->pte_size);
		if (!(e & P)) {
			e = alloc_table() |
			    ((f->pae && level == f->levels) ? P : table_flags);
			put_entry(addr, f->pte_size, e);
		}
		table = e & 0x000ffffffffff000ULL;
	}
	addr = entry_addr(f, table, gva, leaf_level);
	put_entry(addr, f->pte_size,
		  frame | leaf_flags | (leaf_level > 1 ? PS : 0));
}

/* ------------------------------------------------------------------ */
/* Checking one translation                                            */
/* ------------------------------------------------------------------ */

static struct mkvm_walk walker(u64 cr0, u64 cr3, u64 cr4, u64 efer)
{
	return (struct mkvm_walk){
		.cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = efer,
		.read_gpa = fake_read_gpa, .opaque = NULL,
	};
}

/* Expect a translation to @want_gpa. */
static void expect_gpa(const char *name, const struct mkvm_walk *w, u64 gva,
		       unsigned int access, u64 want_gpa)
{
	u64 gpa = 0xdead;
	u32 err = 0xdead;
	int ret = mkvm_walk_gva(w, gva, access, &gpa, &err);

	if (!tap_ok(ret == 0 && gpa == want_gpa, "%s", name))
		tap_diag("gva %#llx: ret %d gpa %#llx err %#x, want gpa %#llx",
			 (unsigned long long)gva, ret, (unsigned long long)gpa,
			 err, (unsigned long long)want_gpa);
}

/* Expect a #PF with error code @want_err. */
static void expect_pf(const char *name, const struct mkvm_walk *w, u64 gva,
		      unsigned int access, u32 want_err)
{
	u64 gpa = 0xdead;
	u32 err = 0xdead;
	int ret = mkvm_walk_gva(w, gva, access, &gpa, &err);

	if (!tap_ok(ret == -EFAULT && err == want_err, "%s", name))
		tap_diag("gva %#llx: ret %d gpa %#llx err %#x, want #PF err %#x",
			 (unsigned long long)gva, ret, (unsigned long long)gpa,
			 err, want_err);
}

/* Expect another error (not a #PF). */
static void expect_err(const char *name, const struct mkvm_walk *w, u64 gva,
		       unsigned int access, int want_ret)
{
	u64 gpa = 0xdead;
	u32 err = 0xdead;
	int ret = mkvm_walk_gva(w, gva, access, &gpa, &err);

	if (!tap_ok(ret == want_ret && err == 0xdead, "%s", name))
		tap_diag("gva %#llx: ret %d err %#x, want ret %d, err untouched",
			 (unsigned long long)gva, ret, err, want_ret);
}

/* ------------------------------------------------------------------ */
/* The modes                                                           */
/* ------------------------------------------------------------------ */

static void test_paging_off(void)
{
	struct mkvm_walk w = walker(0, 0x1000, CR4_PAE, 0);

	reset_memory();
	reads = 0;
	expect_gpa("off: identity", &w, 0x12345678, RD, 0x12345678);
	expect_gpa("off: 32-bit wrap", &w, 0x100001000ULL, WR | USR, 0x1000);
	tap_ok(reads == 0, "off: no memory reads");
}

static void test_32bit(void)
{
	const struct fmt *f = &fmt_32bit;
	u64 root;
	struct mkvm_walk w;

	reset_memory();
	root = alloc_table();
	map(f, root, 0x00402000, 1, 0x00200000, ALL, ALL);
	map(f, root, 0x00403000, 1, 0x00201000, P, ALL);	/* RO, sup */
	map(f, root, 0x00c00000, 2, 0x00c00000, P | RW, ALL);
	map(f, root, 0x01800000, 2, 0x01800000 | (0x5 << 13), ALL, ALL);
	map(f, root, 0x02003000, 1, 0x00300000, ALL, P | US);	/* PDE RO */
	w = walker(CR0_PG | CR0_WP, root, CR4_PSE, 0);

	expect_gpa("32-bit: 4K read", &w, 0x00402abc, RD, 0x00200abc);
	expect_gpa("32-bit: 4K user write", &w, 0x00402abc, WR | USR,
		   0x00200abc);
	expect_gpa("32-bit: address truncated to 32 bits", &w,
		   0x100402abcULL, RD, 0x00200abc);
	expect_gpa("32-bit: read-only page, supervisor read", &w, 0x00403010,
		   RD, 0x00201010);
	expect_pf("32-bit: read-only page, supervisor write, WP=1", &w,
		  0x00403010, WR, PF_P | PF_W);
	expect_pf("32-bit: supervisor page, user read", &w, 0x00403010, USR,
		  PF_P | PF_U);
	expect_pf("32-bit: PTE not present", &w, 0x00404000, RD, 0);
	expect_pf("32-bit: PTE not present, user write", &w, 0x00404000,
		  WR | USR, PF_W | PF_U);
	expect_pf("32-bit: PDE not present", &w, 0x00800000, RD, 0);
	expect_pf("32-bit: fetch has no I/D bit without NX or SMEP", &w,
		  0x00404000, EXE, 0);
	expect_gpa("32-bit: 4M page (PSE)", &w, 0x00d23456, WR, 0x00d23456);
	expect_gpa("32-bit: 4M page, PSE-36 bits 39:32", &w, 0x01812345, RD,
		   0x501812345ULL);
	expect_pf("32-bit: read-only PDE restricts user write", &w,
		  0x02003000, WR | USR, PF_P | PF_W | PF_U);
	expect_gpa("32-bit: read-only PDE, user read", &w, 0x02003004,
		   USR, 0x00300004);

	w = walker(CR0_PG, root, CR4_PSE, 0);
	expect_gpa("32-bit: read-only page, supervisor write, WP=0", &w,
		   0x00403010, WR, 0x00201010);
	expect_gpa("32-bit: read-only PDE, supervisor write, WP=0", &w,
		   0x02003000, WR, 0x00300000);

	/* Without CR4.PSE, PS is ignored: the PDE points at a table. */
	reset_memory();
	root = alloc_table();
	map(f, root, 0x01c03000, 1, 0x00300000, ALL, ALL | PS);
	w = walker(CR0_PG | CR0_WP, root, 0, 0);
	expect_gpa("32-bit: PS ignored without CR4.PSE", &w, 0x01c03008, RD,
		   0x00300008);
}

static void test_pae(void)
{
	const struct fmt *f = &fmt_pae;
	u64 root;
	struct mkvm_walk w;

	reset_memory();
	/* The PDPT is 32-byte aligned, not page aligned (CR3 bits 31:5). */
	root = alloc_table() + 0x20;
	map(f, root, 0x00205000, 1, 0x123456000ULL, ALL, ALL);
	map(f, root, 0x00206000, 1, 0x00300000, ALL | XD, ALL);
	map(f, root, 0x00400000, 2, 0x40000000, P | RW, ALL);
	map(f, root, 0x80001000, 1, 0x00301000, ALL, ALL);
	w = walker(CR0_PG | CR0_WP, root, CR4_PAE, EFER_NXE);

	expect_gpa("pae: 4K page above 4 GiB", &w, 0x00205abc, RD,
		   0x123456abcULL);
	expect_gpa("pae: 2M page", &w, 0x00412345, WR, 0x40012345);
	expect_pf("pae: 2M supervisor page, user read", &w, 0x00412345, USR,
		  PF_P | PF_U);
	expect_pf("pae: PDPTE not present", &w, 0x40000000, RD, 0);
	expect_pf("pae: PDE not present", &w, 0x00600000, WR, PF_W);
	expect_gpa("pae: PDPTE has no R/W or U/S: user write allowed", &w,
		   0x80001008, WR | USR, 0x00301008);
	expect_gpa("pae: XD page, read", &w, 0x00206000, RD, 0x00300000);
	expect_pf("pae: XD page, fetch (NXE)", &w, 0x00206000, EXE,
		  PF_P | PF_I);
	expect_pf("pae: not present, fetch (NXE): I/D set", &w, 0x00207000,
		  EXE, PF_I);
	expect_gpa("pae: address truncated to 32 bits", &w, 0x100205abcULL,
		   RD, 0x123456abcULL);
}

static void test_4level(void)
{
	const struct fmt *f = &fmt_4level;
	u64 root, cr3;
	struct mkvm_walk w;

	reset_memory();
	root = alloc_table();
	map(f, root, 0x00007f0000001000ULL, 1, 0xabcde000ULL, ALL, ALL);
	map(f, root, 0x00007f0000002000ULL, 1, 0xabcdf000ULL, P | US, ALL);
	map(f, root, 0xffff888000200000ULL, 2, 0x40000000ULL, P | RW, P | RW);
	map(f, root, 0xffffffff80000000ULL, 3, 0x140000000ULL, P | RW,
	    P | RW);
	map(f, root, 0x0000100000000000ULL, 1, 0x00500000, ALL, ALL | XD);
	/* User-ish leaf under a supervisor-only PML4 entry. */
	map(f, root, 0xffffc90000000000ULL, 1, 0x00600000, ALL, P | RW);

	/* CR3 bits 11:0 (PCID or PWT/PCD) must not move the root. */
	cr3 = root | 0x18;
	w = walker(CR0_PG | CR0_WP, cr3, CR4_PAE, EFER_LME | EFER_LMA |
		   EFER_NXE);

	expect_gpa("4-level: 4K user page", &w, 0x00007f0000001234ULL,
		   WR | USR, 0xabcde234ULL);
	expect_pf("4-level: read-only user page, user write", &w,
		  0x00007f0000002000ULL, WR | USR, PF_P | PF_W | PF_U);
	expect_gpa("4-level: 2M page", &w, 0xffff888000312345ULL, RD,
		   0x40112345ULL);
	expect_gpa("4-level: 1G page", &w, 0xffffffff80123456ULL, WR,
		   0x140123456ULL);
	expect_gpa("4-level: 1G page, top byte", &w, 0xffffffffbfffffffULL,
		   RD, 0x17fffffffULL);
	expect_pf("4-level: supervisor-only PML4E, user read", &w,
		  0xffffc90000000010ULL, USR, PF_P | PF_U);
	expect_gpa("4-level: supervisor-only PML4E, supervisor read", &w,
		   0xffffc90000000010ULL, RD, 0x00600010);
	expect_pf("4-level: XD at the PML4E, fetch", &w,
		  0x0000100000000000ULL, EXE, PF_P | PF_I);
	expect_pf("4-level: XD at the PML4E, user fetch", &w,
		  0x0000100000000000ULL, EXE | USR, PF_P | PF_U | PF_I);
	expect_gpa("4-level: XD at the PML4E, read", &w,
		   0x0000100000000000ULL, USR, 0x00500000);
	expect_pf("4-level: PT entry not present", &w,
		  0x00007f0000003000ULL, RD, 0);
	expect_pf("4-level: PML4E not present", &w, 0x0000200000000000ULL,
		  WR, PF_W);
	expect_err("4-level: non-canonical low", &w, 0x0000800000000000ULL,
		   RD, -EINVAL);
	expect_err("4-level: non-canonical high", &w, 0xffff7fffffffffffULL,
		   RD, -EINVAL);

	/* Without NXE the XD bit does not exist. */
	w.efer = EFER_LME | EFER_LMA;
	expect_gpa("4-level: XD ignored without NXE", &w,
		   0x0000100000000000ULL, EXE, 0x00500000);
	expect_pf("4-level: not present fetch, no NXE: no I/D", &w,
		  0x00007f0000003000ULL, EXE, 0);

	/* SMEP: supervisor fetches from user pages fault. */
	w.cr4 |= CR4_SMEP;
	expect_pf("4-level: SMEP, supervisor fetch from user page", &w,
		  0x00007f0000001000ULL, EXE, PF_P | PF_I);
	expect_gpa("4-level: SMEP, supervisor read of user page", &w,
		   0x00007f0000001000ULL, RD, 0xabcde000ULL);
	expect_gpa("4-level: SMEP, user fetch from user page", &w,
		   0x00007f0000001000ULL, EXE | USR, 0xabcde000ULL);
	expect_gpa("4-level: SMEP, supervisor fetch from kernel page", &w,
		   0xffffffff80000000ULL, EXE, 0x140000000ULL);

	/* CR0.WP = 0: supervisor writes ignore R/W. */
	w.cr0 = CR0_PG;
	expect_gpa("4-level: WP=0, supervisor write to read-only page", &w,
		   0x00007f0000002000ULL, WR, 0xabcdf000ULL);
	expect_pf("4-level: WP=0, user write to read-only page", &w,
		  0x00007f0000002000ULL, WR | USR, PF_P | PF_W | PF_U);

	/* A NULL pf_error is allowed. */
	{
		u64 gpa;
		int ret = mkvm_walk_gva(&w, 0x00007f0000003000ULL, RD, &gpa,
					NULL);

		tap_ok(ret == -EFAULT, "4-level: NULL pf_error");
	}
}

static void test_5level(void)
{
	const struct fmt *f = &fmt_5level;
	u64 root;
	struct mkvm_walk w;

	reset_memory();
	root = alloc_table();
	map(f, root, 0xff00000000001000ULL, 1, 0x00700000, ALL, ALL);
	map(f, root, 0x0000800000000000ULL, 2, 0x00800000, ALL, ALL);
	w = walker(CR0_PG | CR0_WP, root, CR4_PAE | CR4_LA57,
		   EFER_LME | EFER_LMA);

	expect_gpa("5-level: 4K page high in 57-bit space", &w,
		   0xff00000000001abcULL, RD, 0x00700abc);
	expect_gpa("5-level: bit 47 set is canonical with LA57", &w,
		   0x0000800000012345ULL, WR | USR, 0x00812345);
	expect_err("5-level: non-canonical", &w, 0x0100000000000000ULL, RD,
		   -EINVAL);
	expect_pf("5-level: PML5E not present", &w, 0x00ff000000000000ULL,
		  RD, 0);
}

static void test_read_errors(void)
{
	u64 root;
	struct mkvm_walk w;

	reset_memory();
	root = alloc_table();
	map(&fmt_4level, root, 0x1000, 1, 0x2000, ALL, ALL);
	w = walker(CR0_PG, root, CR4_PAE, EFER_LMA);
	expect_gpa("errors: baseline", &w, 0x1000, RD, 0x2000);

	w.cr3 = 0x40000000;	/* outside the fake memory */
	expect_err("errors: read_gpa error is passed through", &w, 0x1000, RD,
		   -ENOENT);

	w.cr3 = root;
	read_error = -EFAULT;
	expect_err("errors: read_gpa -EFAULT becomes -EIO, not a #PF", &w,
		   0x1000, RD, -EIO);
	read_error = 0;
}

int main(void)
{
	test_paging_off();
	test_32bit();
	test_pae();
	test_4level();
	test_5level();
	test_read_errors();
	return tap_done();
}
