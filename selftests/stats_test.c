// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats_test: KVM_GET_STATS_FD, the binary statistics of a VM and of a vCPU.
 *
 * What a client of the interface relies on (Documentation/virt/kvm/api.rst,
 * "KVM_GET_STATS_FD"), checked on the VM's fd and on a vCPU's:
 *
 *   layout       a header at offset 0; id string, descriptors and data at offsets
 *                that are multiples of 8 and do not overlap; descriptor fields in
 *                range; names NUL-terminated and zero-padded; no byte of padding
 *                that is not zero (nothing left over from kernel memory)
 *   pread        any offset and length gives the same bytes as one whole read;
 *                at or past the end it returns 0; bytes past a short read are
 *                untouched
 *   lifetime     the fd is read-only and close-on-exec, and stays readable after
 *                the VM and vCPU fds are closed
 *   counting     a guest that does exactly N_OUT port writes, N_HLT HLTs, N_MMIO
 *                writes to unbacked memory and N_CPUID CPUIDs moves io_exits,
 *                halt_exits and mmio_exits by exactly that (plus the final ucall's
 *                OUT), exits by at least the sum, and, on minikvm, cpuid_exits
 *
 * Every check holds on minikvm and on kvm.ko; where they differ (names only one of
 * them has) the test says why and branches on kvm_is_minikvm().
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"

#define N_OUT		100
#define N_HLT		7
#define N_MMIO		5
#define N_CPUID		20
#define OUT_PORT	0x99
#define MMIO_GPA	0x80000000	/* mapped by the guest page tables, no memslot */

/* R8-R11: loop counters and the MMIO address (CPUID clobbers EAX-EDX). */
GUEST_ASM(stats_guest, 64,
	"mov $" GSTR(N_OUT) ", %r8d\n\t"
	"1: out %al, $" GSTR(OUT_PORT) "\n\t"
	"dec %r8d\n\t"
	"jnz 1b\n\t"
	"mov $" GSTR(N_HLT) ", %r9d\n\t"
	"2: hlt\n\t"
	"dec %r9d\n\t"
	"jnz 2b\n\t"
	"mov $" GSTR(N_MMIO) ", %r10d\n\t"
	"mov $" GSTR(MMIO_GPA) ", %r11d\n\t"
	"3: movb %al, (%r11)\n\t"
	"dec %r10d\n\t"
	"jnz 3b\n\t"
	"mov $" GSTR(N_CPUID) ", %r9d\n\t"
	"4: xor %eax, %eax\n\t"
	"xor %ecx, %ecx\n\t"
	"cpuid\n\t"
	"dec %r9d\n\t"
	"jnz 4b\n\t"
	GUEST_DONE);

/* ------------------------------------------------------------ the file */

/* Everything read from one stats fd; the values with pread. */
struct stats {
	int fd;
	struct kvm_stats_header h;
	char *id;
	size_t desc_size;		/* one descriptor + its name */
	uint8_t *desc;			/* num_desc of them */
	size_t data_size;		/* bytes of the data block */
	size_t file_size;		/* end of the last block */
};

static struct kvm_stats_desc *stats_desc(struct stats *s, uint32_t i)
{
	return (struct kvm_stats_desc *)(s->desc + i * s->desc_size);
}

/*
 * Open and read the fixed blocks as the api.rst suggests: the header and the id
 * with read() (the file position moves on), the descriptors with pread().
 */
static int stats_open(struct __test_metadata *_metadata, struct stats *s, int fd,
		      unsigned long ioctl_nr)
{
	uint32_t i;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(fd, ioctl_nr, NULL);
	if (s->fd < 0)
		return -1;
	EXPECT_EQ(sizeof(s->h), read(s->fd, &s->h, sizeof(s->h)));
	ASSERT_LT(0, s->h.name_size);
	ASSERT_GT(4096, s->h.name_size);
	s->id = calloc(1, s->h.name_size);
	ASSERT_NE(NULL, s->id);
	/* The id follows the header in both modules' files: read() goes on. */
	EXPECT_EQ(sizeof(s->h), s->h.id_offset);
	EXPECT_EQ(s->h.name_size, read(s->fd, s->id, s->h.name_size));

	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	s->desc = calloc(s->h.num_desc, s->desc_size);
	ASSERT_NE(NULL, s->desc);
	n = pread(s->fd, s->desc, s->h.num_desc * s->desc_size, s->h.desc_offset);
	EXPECT_EQ((ssize_t)(s->h.num_desc * s->desc_size), n);
	for (i = 0; i < s->h.num_desc; i++) {
		struct kvm_stats_desc *d = stats_desc(s, i);

		if (d->offset + d->size * sizeof(uint64_t) > s->data_size)
			s->data_size = d->offset + d->size * sizeof(uint64_t);
	}
	s->file_size = s->h.data_offset + s->data_size;
	if (s->h.desc_offset + s->h.num_desc * s->desc_size > s->file_size)
		s->file_size = s->h.desc_offset + s->h.num_desc * s->desc_size;
	return 0;
}

static void stats_close(struct stats *s)
{
	close(s->fd);
	free(s->id);
	free(s->desc);
}

/* The descriptor called @name, or NULL. */
static struct kvm_stats_desc *stats_find(struct stats *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->h.num_desc; i++)
		if (!strcmp(stats_desc(s, i)->name, name))
			return stats_desc(s, i);
	return NULL;
}

/* The first value of statistic @name, read now; -1 if there is no such name. */
static int64_t stats_get(struct stats *s, const char *name)
{
	struct kvm_stats_desc *d = stats_find(s, name);
	uint64_t v;

	if (!d || pread(s->fd, &v, sizeof(v), s->h.data_offset + d->offset) != sizeof(v))
		return -1;
	return v;
}

/* ------------------------------------------------------------ layout */

static bool all_zero(const char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* [a, a + alen) and [b, b + blen) do not overlap. */
static bool apart(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a;
}

static void check_layout(struct __test_metadata *_metadata, struct stats *s,
			 const char *want_id)
{
	const struct kvm_stats_header *h = &s->h;
	uint64_t desc_len = (uint64_t)h->num_desc * s->desc_size;
	uint32_t i, j;

	EXPECT_EQ(0, h->flags);
	ASSERT_LT(0, h->num_desc);
	EXPECT_EQ(0, h->id_offset % 8);
	EXPECT_EQ(0, h->desc_offset % 8);
	EXPECT_EQ(0, h->data_offset % 8);
	EXPECT_LE(sizeof(*h), h->id_offset);
	EXPECT_LE(sizeof(*h), h->desc_offset);
	EXPECT_LE(sizeof(*h), h->data_offset);
	EXPECT_TRUE(apart(h->id_offset, h->name_size, h->desc_offset, desc_len));
	EXPECT_TRUE(apart(h->id_offset, h->name_size, h->data_offset, s->data_size));
	EXPECT_TRUE(apart(h->desc_offset, desc_len, h->data_offset, s->data_size));

	/* The id names the process and the vCPU; the rest of its block is zeros. */
	EXPECT_STREQ(want_id, s->id);
	EXPECT_TRUE(all_zero(s->id + strlen(want_id), h->name_size - strlen(want_id)));

	for (i = 0; i < h->num_desc; i++) {
		struct kvm_stats_desc *d = stats_desc(s, i);
		uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
		uint32_t unit = d->flags & KVM_STATS_UNIT_MASK;
		size_t len = strnlen(d->name, h->name_size);

		TH_LOG("%-28s flags 0x%03x exponent %d size %u offset %u", d->name,
		       d->flags, d->exponent, d->size, d->offset);
		ASSERT_GT(h->name_size, len);
		EXPECT_LT(0, len);
		EXPECT_TRUE(all_zero(d->name + len, h->name_size - len));
		EXPECT_EQ(0, d->flags & ~(KVM_STATS_TYPE_MASK | KVM_STATS_UNIT_MASK |
					  KVM_STATS_BASE_MASK));
		EXPECT_LE(type, KVM_STATS_TYPE_MAX);
		EXPECT_LE(unit, KVM_STATS_UNIT_MAX);
		EXPECT_LE(d->flags & KVM_STATS_BASE_MASK, KVM_STATS_BASE_MAX);
		/* Time in 10^-N s; counts, bytes, cycles in 10^N or 2^N. */
		if (unit == KVM_STATS_UNIT_SECONDS) {
			EXPECT_GE(0, d->exponent);
		} else if (unit == KVM_STATS_UNIT_BOOLEAN) {
			EXPECT_EQ(0, d->exponent);
		} else {
			EXPECT_LE(0, d->exponent);
		}
		EXPECT_LE(1, d->size);
		EXPECT_EQ(0, d->offset % 8);
		if (type == KVM_STATS_TYPE_LINEAR_HIST) {
			EXPECT_NE(0, d->bucket_size);
		} else {
			EXPECT_EQ(0, d->bucket_size);
		}
		/* Counters and instant values are one u64 each. */
		if (type <= KVM_STATS_TYPE_PEAK)
			EXPECT_EQ(1, d->size);
		for (j = 0; j < i; j++) {
			struct kvm_stats_desc *e = stats_desc(s, j);

			EXPECT_STRNE(e->name, d->name);
			EXPECT_TRUE(apart(e->offset, e->size * 8, d->offset, d->size * 8));
		}
	}
}

/*
 * Every byte of the file through pread() at every offset, 13 bytes at a time (so
 * reads straddle every block boundary), against one read of the whole file; past
 * the end, 0; bytes of the buffer after a short read stay as they were.
 */
static void check_pread(struct __test_metadata *_metadata, struct stats *s)
{
	size_t size = s->file_size, off;
	uint8_t *all = malloc(size + 64), buf[13 + 16];
	ssize_t n;

	ASSERT_NE(NULL, all);
	memset(all, 0xa5, size + 64);
	ASSERT_EQ((ssize_t)size, pread(s->fd, all, size + 64, 0));
	EXPECT_EQ(0xa5, all[size]);
	EXPECT_EQ(0, memcmp(all, &s->h, sizeof(s->h)));

	for (off = 0; off < size; off++) {
		size_t want = size - off < 13 ? size - off : 13;

		memset(buf, 0x5a, sizeof(buf));
		n = pread(s->fd, buf, 13, off);
		ASSERT_EQ((ssize_t)want, n) TH_LOG("pread at %zu", off);
		ASSERT_EQ(0, memcmp(buf, all + off, want)) TH_LOG("pread at %zu", off);
		ASSERT_EQ(0x5a, buf[want]);
	}
	EXPECT_EQ(0, pread(s->fd, buf, sizeof(buf), size));
	EXPECT_EQ(0, pread(s->fd, buf, sizeof(buf), size + 1));
	EXPECT_EQ(0, pread(s->fd, buf, sizeof(buf), 1ULL << 40));
	EXPECT_EQ(0, pread(s->fd, buf, sizeof(buf), 1ULL << 62));
	EXPECT_EQ(0, pread(s->fd, buf, 0, 0));
	EXPECT_EQ(-1, pread(s->fd, buf, sizeof(buf), -8));
	EXPECT_EQ(EINVAL, errno);

	/* The fixed blocks do not change. */
	EXPECT_EQ(0, memcmp(all + s->h.desc_offset, s->desc, s->h.num_desc * s->desc_size));
	free(all);
}

/* Names both modules have, with the same meaning (and the type of each). */
static const char *const vcpu_names[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "signal_exits",
	"irq_window_exits", "request_irq_exits", "irq_injections",
};
/* kvm.ko counts none of these: minikvm's own names (kmod/stats.c). */
static const char *const vcpu_minikvm_names[] = {
	"cpuid_exits", "msr_exits", "tdp_faults",
};
static const char *const vm_names[] = { "remote_tlb_flush", "pages_4k" };

static void check_names(struct __test_metadata *_metadata, struct stats *s,
			const char *const *names, size_t nr, uint32_t type)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		struct kvm_stats_desc *d = stats_find(s, names[i]);

		EXPECT_NE(NULL, d) TH_LOG("no statistic named %s", names[i]);
		if (d)
			EXPECT_EQ(type, d->flags & KVM_STATS_TYPE_MASK) TH_LOG("%s", names[i]);
	}
}

/* Pages the VM maps in NPT/EPT, of every size the module counts (-1: none). */
static int64_t mapped_pages(struct stats *s)
{
	int64_t n = 0, v;

	v = stats_get(s, "pages_4k");
	n += v > 0 ? v : 0;
	v = stats_get(s, "pages_2m");
	n += v > 0 ? v : 0;
	v = stats_get(s, "pages_1g");
	n += v > 0 ? v : 0;
	return n;
}

/* ------------------------------------------------------------ tests */

TEST(capability)
{
	struct vm *vm;

	TEST_REQUIRE_KVM();
	EXPECT_EQ(1, kvm_check_cap(KVM_CAP_BINARY_STATS_FD));
	vm = vm_create();
	EXPECT_EQ(1, ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD));
	vm_free(vm);
}

TEST(vm_layout)
{
	char id[64];
	struct stats s;
	struct vm *vm;

	TEST_REQUIRE_CAP(KVM_CAP_BINARY_STATS_FD);
	vm = vm_create();
	ASSERT_EQ(0, stats_open(_metadata, &s, vm->fd, KVM_GET_STATS_FD));
	snprintf(id, sizeof(id), "kvm-%d", getpid());
	check_layout(_metadata, &s, id);
	check_pread(_metadata, &s);
	check_names(_metadata, &s, vm_names, 1, KVM_STATS_TYPE_CUMULATIVE);
	check_names(_metadata, &s, vm_names + 1, 1, KVM_STATS_TYPE_INSTANT);
	stats_close(&s);
	vm_free(vm);
}

TEST(vcpu_layout)
{
	struct vcpu *vcpu;
	char id[64];
	struct stats s;

	TEST_REQUIRE_CAP(KVM_CAP_BINARY_STATS_FD);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(stats_guest));
	ASSERT_EQ(0, stats_open(_metadata, &s, vcpu->fd, KVM_GET_STATS_FD));
	snprintf(id, sizeof(id), "kvm-%d/vcpu-%u", getpid(), vcpu->id);
	check_layout(_metadata, &s, id);
	check_pread(_metadata, &s);
	check_names(_metadata, &s, vcpu_names, ARRAY_SIZE(vcpu_names),
		    KVM_STATS_TYPE_CUMULATIVE);
	if (kvm_is_minikvm())
		check_names(_metadata, &s, vcpu_minikvm_names,
			    ARRAY_SIZE(vcpu_minikvm_names), KVM_STATS_TYPE_CUMULATIVE);
	stats_close(&s);
	vm_free(vcpu->vm);
}

/* Run stats_guest to its DONE, answering each exit; checks the exits' order. */
static void run_guest(struct __test_metadata *_metadata, struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int outs = 0, hlts = 0, mmios = 0;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		if (vcpu_get_ucall(vcpu, &uc) == UCALL_DONE)
			break;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			ASSERT_EQ(OUT_PORT, run->io.port);
			ASSERT_EQ(0, hlts);
			outs++;
			break;
		case KVM_EXIT_HLT:
			ASSERT_EQ(0, mmios);
			hlts++;
			break;
		case KVM_EXIT_MMIO:
			ASSERT_EQ(MMIO_GPA, run->mmio.phys_addr);
			ASSERT_TRUE(run->mmio.is_write);
			mmios++;
			break;
		default:
			ASSERT_TRUE(false) TH_LOG("unexpected exit %s",
						  exit_reason_str(run->exit_reason));
		}
	}
	ASSERT_EQ(N_OUT, outs);
	ASSERT_EQ(N_HLT, hlts);
	ASSERT_EQ(N_MMIO, mmios);
}

TEST(counts)
{
	int64_t exits0, io0, hlt0, mmio0, cpuid0, exits, io, hlt, mmio;
	struct vm_stats_pages { int64_t k4, m2, g1; } pages;
	struct stats s, vms;
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_BINARY_STATS_FD);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(stats_guest));
	ASSERT_EQ(0, stats_open(_metadata, &s, vcpu->fd, KVM_GET_STATS_FD));
	ASSERT_EQ(0, stats_open(_metadata, &vms, vcpu->vm->fd, KVM_GET_STATS_FD));
	exits0 = stats_get(&s, "exits");
	io0 = stats_get(&s, "io_exits");
	hlt0 = stats_get(&s, "halt_exits");
	mmio0 = stats_get(&s, "mmio_exits");
	cpuid0 = stats_get(&s, "cpuid_exits");
	ASSERT_LE(0, exits0);
	ASSERT_LE(0, io0);
	ASSERT_LE(0, hlt0);
	ASSERT_LE(0, mmio0);

	run_guest(_metadata, vcpu);

	exits = stats_get(&s, "exits") - exits0;
	io = stats_get(&s, "io_exits") - io0;
	hlt = stats_get(&s, "halt_exits") - hlt0;
	mmio = stats_get(&s, "mmio_exits") - mmio0;
	TH_LOG("exits %ld io_exits %ld halt_exits %ld mmio_exits %ld", (long)exits,
	       (long)io, (long)hlt, (long)mmio);
	EXPECT_EQ(N_OUT + 1, io);	/* + the OUT of the ucall DONE */
	EXPECT_EQ(N_HLT, hlt);
	EXPECT_EQ(N_MMIO, mmio);
	/*
	 * Each of those is one exit; NPT/EPT faults and host interrupts add more.
	 * CPUID exits on both vendors, in both modules (SDM Vol.3 25.1.2; both
	 * intercept it on SVM).
	 */
	EXPECT_LE(N_OUT + 1 + N_HLT + N_MMIO + N_CPUID, exits);
	/* kvm.ko has no CPUID counter (its CPUID exits are only in "exits"). */
	if (kvm_is_minikvm()) {
		EXPECT_EQ(N_CPUID, stats_get(&s, "cpuid_exits") - cpuid0);
	} else {
		EXPECT_EQ(-1, cpuid0);
	}

	/*
	 * The guest touched its code, stack and page tables, so the VM maps some
	 * guest RAM now. kvm.ko may map it with 2 MiB pages (the 2 MiB slot can be a
	 * transparent huge page), minikvm maps 4 KiB pages only (no pages_2m, -1).
	 */
	pages.k4 = stats_get(&vms, "pages_4k");
	pages.m2 = stats_get(&vms, "pages_2m");
	pages.g1 = stats_get(&vms, "pages_1g");
	TH_LOG("pages_4k %ld pages_2m %ld pages_1g %ld", (long)pages.k4,
	       (long)pages.m2, (long)pages.g1);
	EXPECT_LE(0, pages.k4);
	EXPECT_LT(0, pages.k4 + (pages.m2 > 0 ? pages.m2 : 0) + (pages.g1 > 0 ? pages.g1 : 0));
	if (kvm_is_minikvm()) {
		EXPECT_EQ(-1, pages.m2);
		EXPECT_LT(0, stats_get(&s, "tdp_faults"));
	}

	stats_close(&vms);
	stats_close(&s);
	vm_free(vcpu->vm);
}

static void sigusr1(int sig)
{
	(void)sig;
}

/*
 * signal_exits: SIGUSR1 pending and blocked in the thread, but let through by the
 * KVM_SET_SIGNAL_MASK mask: KVM_RUN returns EINTR (KVM_EXIT_INTR) before entering,
 * once.
 */
TEST(signal_exits)
{
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];		/* the kernel's sigset_t is 8 bytes on x86-64 */
	} mask = { .hdr.len = 8 };	/* empty: SIGUSR1 goes through in KVM_RUN */
	sigset_t block, pending;
	struct sigaction sa = { .sa_handler = sigusr1 };
	struct vcpu *vcpu;
	struct stats s;
	int64_t before;
	int sig;

	TEST_REQUIRE_CAP(KVM_CAP_BINARY_STATS_FD);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(stats_guest));
	ASSERT_EQ(0, stats_open(_metadata, &s, vcpu->fd, KVM_GET_STATS_FD));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &mask));
	before = stats_get(&s, "signal_exits");
	ASSERT_LE(0, before);

	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	EXPECT_EQ(-1, __vcpu_run(vcpu));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(KVM_EXIT_INTR, vcpu->run->exit_reason);
	EXPECT_EQ(1, stats_get(&s, "signal_exits") - before);

	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGUSR1));
	ASSERT_EQ(0, sigwait(&block, &sig));
	ASSERT_EQ(0, sigprocmask(SIG_UNBLOCK, &block, NULL));
	stats_close(&s);
	vm_free(vcpu->vm);
}

/*
 * The fd is read-only and close-on-exec, two fds of one vCPU keep their own file
 * position, and the fds outlive the VM and vCPU fds: the VM they count must stay
 * (each holds a reference), and the last values stay readable.
 */
TEST(fd_lifetime)
{
	struct stats vs, vs2, ms;
	int64_t io, pages;
	uint64_t v;
	off_t pos;
	struct vcpu *vcpu;
	char c = 0;

	TEST_REQUIRE_CAP(KVM_CAP_BINARY_STATS_FD);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(stats_guest));
	ASSERT_EQ(0, stats_open(_metadata, &vs, vcpu->fd, KVM_GET_STATS_FD));
	ASSERT_EQ(0, stats_open(_metadata, &ms, vcpu->vm->fd, KVM_GET_STATS_FD));
	run_guest(_metadata, vcpu);

	EXPECT_EQ(O_RDONLY, fcntl(vs.fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(O_RDONLY, fcntl(ms.fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(vs.fd, F_GETFD));
	EXPECT_EQ(FD_CLOEXEC, fcntl(ms.fd, F_GETFD));
	EXPECT_EQ(-1, write(vs.fd, &c, 1));
	EXPECT_EQ(EBADF, errno);
	/* pwrite(): the VFS refuses it (ESPIPE) before it looks at the mode. */
	EXPECT_EQ(-1, pwrite(ms.fd, &c, 1, 0));
	EXPECT_TRUE(errno == ESPIPE || errno == EBADF);

	/* A second fd of the same vCPU: its own position (read() starts at 0). */
	ASSERT_EQ(0, stats_open(_metadata, &vs2, vcpu->fd, KVM_GET_STATS_FD));
	EXPECT_EQ(0, memcmp(&vs.h, &vs2.h, sizeof(vs.h)));
	stats_close(&vs2);

	/*
	 * lseek: minikvm moves the file position, so read() then reads the values.
	 * kvm.ko's stats fds have noop_llseek (virt/kvm/kvm_main.c): lseek returns
	 * the position and leaves it where read() put it, after the id string.
	 */
	pos = lseek(vs.fd, 0, SEEK_CUR);
	EXPECT_EQ((off_t)(sizeof(vs.h) + vs.h.name_size), pos);
	if (kvm_is_minikvm()) {
		EXPECT_EQ((off_t)vs.h.data_offset, lseek(vs.fd, vs.h.data_offset, SEEK_SET));
		EXPECT_EQ(sizeof(v), read(vs.fd, &v, sizeof(v)));
		/* minikvm's first value is "exits" (kmod/stats.c). */
		EXPECT_EQ(stats_get(&vs, "exits"), (int64_t)v);
		EXPECT_EQ((off_t)vs.file_size, lseek(vs.fd, 0, SEEK_END));
	} else {
		EXPECT_EQ(pos, lseek(vs.fd, vs.h.data_offset, SEEK_SET));
	}

	io = stats_get(&vs, "io_exits");
	pages = mapped_pages(&ms);
	EXPECT_LE(N_OUT + 1, io);
	vm_free(vcpu->vm);	/* closes the vCPU, VM and /dev/kvm fds */

	EXPECT_EQ(io, stats_get(&vs, "io_exits"));
	/*
	 * vm_free() also unmapped the guest's memory. minikvm, like kvm.ko, follows
	 * the process's mappings (an MMU notifier, kmod/tdp.c) and drops its
	 * NPT/EPT entries then: the page counters read 0 although the VM lives on.
	 * kvm.ko may have mapped the slot with one 2 MiB page (a transparent huge
	 * page), so every page size is counted.
	 */
	EXPECT_LT(0, pages);
	if (kvm_is_minikvm()) {
		EXPECT_EQ(0, mapped_pages(&ms));
	} else {
		EXPECT_LE(0, mapped_pages(&ms));
	}
	check_pread(_metadata, &vs);
	check_pread(_metadata, &ms);
	stats_close(&vs);
	stats_close(&ms);
	EXPECT_EQ(-1, fcntl(vs.fd, F_GETFD));
}

TEST_HARNESS_MAIN
