// SPDX-License-Identifier: GPL-2.0-only
/*
 * rofile_test: a KVM_MEM_READONLY slot backed by a file of a read-only filesystem.
 *
 * A VMM may give the guest a ROM, or a firmware image, straight from a file it maps
 * with PROT_READ. The module maps the pages behind the slot (kmod/tdp.c) readonly
 * and must never mark them dirty, neither when it maps them nor when the mapping
 * goes: they were never writable, and a page-cache page of a read-only filesystem is
 * one the filesystem never expects to see dirtied (isofs has no dirty_folio at all:
 * marking its page dirty calls through a NULL pointer, an oops in the host).
 *
 * The rig (scripts/rig.sh) packs an ISO 9660 image, /data/ro.iso, holding
 * pattern.bin: 16 pages, every byte of page i equal to i + 1; and the modules
 * loop, cdrom and isofs of the guest kernel in /lib/modules/extra (not loaded by
 * /init). The test loads them, mounts the image, maps the file readonly into a
 * slot at RO_GPA, and a guest sums the first qword of each page, then writes to
 * the slot (a readonly slot's write is an MMIO exit, api.rst). Deleting the slot,
 * freeing the VM and unmounting must then leave the host's log clean (the rig
 * fails a run on any oops or WARN).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define RO_IMAGE	"/data/ro.iso"
#define RO_MNT		"/mnt/ro"
#define RO_FILE		RO_MNT "/pattern.bin"
#define RO_GPA		0x1000000ULL	/* 16 MiB: no other slot there */
#define RO_PAGES	16
#define RO_SIZE		(RO_PAGES * 0x1000ULL)
/* Page i's bytes are all i + 1: the first qwords sum to 0x0101...01 * (1 + ... + 16). */
#define RO_SUM		(0x0101010101010101ULL * 136)

/* Sum the first qword of each of the 16 pages, report it, then store to the slot. */
GUEST_ASM(ro_sum, 64,
	"mov $" GSTR(RO_GPA) ", %rsi\n\t"
	"mov $16, %ecx\n\t"
	"xor %edi, %edi\n"
	"1:\n\t"
	"add (%rsi), %rdi\n\t"
	"add $0x1000, %rsi\n\t"
	"dec %ecx\n\t"
	"jnz 1b\n\t"
	GUEST_SYNC
	"movq $0x5a, " GSTR(RO_GPA) "\n\t"
	GUEST_DONE);

/* Load the filesystem modules (already there is fine) and mount the image. */
static int mount_image(void)
{
	static const char *const mods[] = { "cdrom", "isofs", "loop" };
	char cmd[256];

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "test -e /lib/modules/extra/%s.ko && insmod /lib/modules/extra/%s.ko 2>/dev/null",
			 mods[i], mods[i]);
		if (system(cmd))
			printf("# insmod %s: not loaded now (built in, or loaded already)\n", mods[i]);
	}
	mkdir("/mnt", 0755);
	mkdir(RO_MNT, 0755);
	return system("mount -t iso9660 -o loop,ro " RO_IMAGE " " RO_MNT);
}

TEST(readonly_file_slot)
{
	struct kvm_run *run;
	struct vcpu *vcpu;
	struct ucall uc;
	void *hva;
	int fd;

	TEST_REQUIRE_CAP(KVM_CAP_READONLY_MEM);
	if (access(RO_IMAGE, R_OK))
		SKIP(return, RO_IMAGE " not here (scripts/rig.sh packs it)");
	ASSERT_EQ(0, mount_image()) TH_LOG("mount %s on %s", RO_IMAGE, RO_MNT);

	fd = open(RO_FILE, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", RO_FILE, strerror(errno));
	hva = mmap(NULL, RO_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, hva);

	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(ro_sum));
	ASSERT_EQ(0, __vm_set_memslot(vcpu->vm, 1, KVM_MEM_READONLY, RO_GPA, RO_SIZE, hva));

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(RO_SUM, uc.args[0]);

	/* A store to a readonly slot is an MMIO exit with the data (api.rst). */
	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	run = vcpu->run;
	EXPECT_EQ(RO_GPA, run->mmio.phys_addr);
	EXPECT_EQ(1, run->mmio.is_write);
	EXPECT_EQ(0x5a, run->mmio.data[0]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));

	/* The slot goes (its mappings with it), then the VM. */
	EXPECT_EQ(0, __vm_set_memslot(vcpu->vm, 1, KVM_MEM_READONLY, RO_GPA, 0, hva));
	vm_free(vcpu->vm);
	munmap(hva, RO_SIZE);
	close(fd);
	EXPECT_EQ(0, umount(RO_MNT)) TH_LOG("umount %s: %s", RO_MNT, strerror(errno));
}

/*
 * The same file, and the VM freed while the slot still maps the pages: the
 * teardown path (the MMU notifier's release, mkvm_tdp_destroy) leaves them clean too.
 */
TEST(readonly_file_slot_vm_teardown)
{
	struct vcpu *vcpu;
	struct ucall uc;
	void *hva;
	int fd;

	TEST_REQUIRE_CAP(KVM_CAP_READONLY_MEM);
	if (access(RO_IMAGE, R_OK))
		SKIP(return, RO_IMAGE " not here (scripts/rig.sh packs it)");
	ASSERT_EQ(0, mount_image());
	fd = open(RO_FILE, O_RDONLY);
	ASSERT_LE(0, fd);
	hva = mmap(NULL, RO_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, hva);

	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(ro_sum));
	ASSERT_EQ(0, __vm_set_memslot(vcpu->vm, 1, KVM_MEM_READONLY, RO_GPA, RO_SIZE, hva));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(RO_SUM, uc.args[0]);
	vm_free(vcpu->vm);
	munmap(hva, RO_SIZE);
	close(fd);
	EXPECT_EQ(0, umount(RO_MNT)) TH_LOG("umount %s: %s", RO_MNT, strerror(errno));
}

TEST_HARNESS_MAIN
