// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_test: KVM's paravirtual clock, from the VMM and from the guest.
 *
 * A guest learns the time without exits (Documentation/virt/kvm/x86/msr.rst,
 * cpuid.rst): it writes the guest-physical address of a pvclock_vcpu_time_info
 * to MSR_KVM_SYSTEM_TIME_NEW (bit 0 = enable), KVM keeps a (TSC, nanoseconds)
 * pair and the TSC's rate there, and the guest computes
 *
 *     now = system_time + (((rdtsc() - tsc_timestamp) << tsc_shift) * mul >> 32)
 *
 * (a right shift when tsc_shift is negative), retrying while the version is odd
 * (an update in progress) or changed under it. MSR_KVM_WALL_CLOCK_NEW asks, once,
 * for the wall-clock time at which that clock read 0. MSR_KVM_SYSTEM_TIME and
 * MSR_KVM_WALL_CLOCK are the same with the older indices. CPUID 0x40000000 says
 * "KVMKVMKVM" and 0x40000001 lists the features (KVM_FEATURE_CLOCKSOURCE for the
 * old pair, CLOCKSOURCE2 for the new one).
 *
 * The VM's clock starts near 0 when the VM is created; the VMM reads it with
 * KVM_GET_CLOCK and sets it with KVM_SET_CLOCK (KVM_CAP_ADJUST_CLOCK), e.g. to
 * continue a migrated guest's clock; with KVM_CLOCK_REALTIME the time that passed
 * since kvm_clock_data.realtime is added (x86.c kvm_vm_ioctl_set_clock()).
 * KVM_GET_CLOCK says KVM_CLOCK_TSC_STABLE when KVM runs the "master clock", and
 * exactly then the guest's structure carries PVCLOCK_TSC_STABLE_BIT
 * (__get_kvmclock(), kvm_guest_time_update()).
 *
 * The guest here enables the clock, reads it twice around a busy loop, then once
 * after the VMM moved the clock far ahead, asks for the wall clock, and turns the
 * clock off. The host compares each reading with KVM_GET_CLOCK taken before and
 * after, and the wall clock with CLOCK_REALTIME minus the VM's clock.
 *
 * tsc_catchup: with KVM_SET_TSC_KHZ at twice the host's rate the guest's TSC is
 * caught up between runs; two kvmclock readings 200 ms of host sleep apart still
 * differ by 200 ms (not more than KVM_GET_CLOCK moved), and the structure's rate
 * is the host's.
 */
#include <asm/kvm_para.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define PVCLOCK_TSC_STABLE_BIT	(1 << 0)	/* pvclock_vcpu_time_info.flags */

/* pvclock_vcpu_time_info (arch/x86/include/asm/pvclock-abi.h), 32 bytes. */
struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

#define PVTI_GPA	GUEST_DATA_GPA
#define WALL_GPA	(GUEST_DATA_GPA + 0x800)
#define BUSY_LOOPS	10000000
#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MSEC	1000000ULL
#define FAR_AHEAD	(1000 * 86400 * NSEC_PER_SEC)	/* 1000 days */

/*
 * The guest's reading of kvmclock, as a routine @name for each guest blob below:
 * RBP = the structure; returns the time in RAX. Clobbers RCX, RDX, R8, R9.
 */
#define PVCLOCK_READ(name)						\
	name ":\n"							\
	"1: mov (%rbp), %r8d\n\t"					\
	"test $1, %r8d\n\t"						\
	"jnz 1b\n\t"							\
	"lfence\n\t"							\
	"rdtsc\n\t"							\
	"shl $32, %rdx\n\t"						\
	"or %rdx, %rax\n\t"						\
	"sub 8(%rbp), %rax\n\t"						\
	"movsbl 28(%rbp), %ecx\n\t"					\
	"test %ecx, %ecx\n\t"						\
	"js 2f\n\t"							\
	"shl %cl, %rax\n\t"						\
	"jmp 3f\n"							\
	"2: neg %ecx\n\t"						\
	"shr %cl, %rax\n"						\
	"3: mov 24(%rbp), %r9d\n\t"					\
	"mul %r9\n\t"							\
	"shrd $32, %rdx, %rax\n\t"					\
	"add 16(%rbp), %rax\n\t"					\
	"lfence\n\t"							\
	"cmp (%rbp), %r8d\n\t"						\
	"jne 1b\n\t"							\
	"ret\n\t"

/*
 * RBX: the system-time MSR, R12: the wall-clock MSR (set by the host).
 * SYNC 1: t1, t2 around the busy loop, version, mul | shift << 32 | flags << 40
 * SYNC 2: a reading after the host's KVM_SET_CLOCK
 * SYNC 3: wall clock version, sec, nsec, and a reading
 * SYNC 4: the clock was turned off; SYNC 5: after the host asked for updates
 */
GUEST_ASM(kvmclock_guest, 64,
	"mov %rbx, %r14\n\t"
	"mov $" GSTR(PVTI_GPA) ", %ebp\n\t"
	"mov %r14d, %ecx\n\t"
	"mov $" GSTR(PVTI_GPA) " + 1, %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	"call pvclock_read\n\t"
	"mov %rax, %r13\n\t"
	"mov $" GSTR(BUSY_LOOPS) ", %ecx\n"
	"4: dec %ecx\n\t"
	"jnz 4b\n\t"
	"call pvclock_read\n\t"
	"mov %r13, %rdi\n\t"
	"mov %rax, %rsi\n\t"
	"mov (%rbp), %edx\n\t"
	"mov 24(%rbp), %rcx\n\t"
	GUEST_SYNC
	"call pvclock_read\n\t"
	"mov %rax, %rdi\n\t"
	GUEST_SYNC
	"mov %r12d, %ecx\n\t"
	"mov $" GSTR(WALL_GPA) ", %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	"call pvclock_read\n\t"
	"mov %rax, %rcx\n\t"
	"mov " GSTR(WALL_GPA) ", %edi\n\t"
	"mov " GSTR(WALL_GPA) " + 4, %esi\n\t"
	"mov " GSTR(WALL_GPA) " + 8, %edx\n\t"
	GUEST_SYNC
	"mov %r14d, %ecx\n\t"
	"xor %eax, %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	GUEST_SYNC
	GUEST_SYNC
	GUEST_DONE
	PVCLOCK_READ("pvclock_read"));

static struct kvm_clock_data get_clock(struct __test_metadata *_metadata, struct vm *vm)
{
	struct kvm_clock_data d;

	memset(&d, 0, sizeof(d));
	EXPECT_EQ(0, ioctl(vm->fd, KVM_GET_CLOCK, &d)) TH_LOG("%s", strerror(errno));
	return d;
}

static int set_clock(struct vm *vm, uint64_t clock, uint32_t flags, uint64_t realtime)
{
	struct kvm_clock_data d = { .clock = clock, .flags = flags, .realtime = realtime };

	return ioctl(vm->fd, KVM_SET_CLOCK, &d);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* How far a guest reading may run ahead of KVM_GET_CLOCK: TSC rate error. */
static uint64_t slack(uint64_t interval)
{
	return 20 * NSEC_PER_MSEC + interval / 50;
}

static int64_t ns_abs(int64_t v)
{
	return v < 0 ? -v : v;
}

TEST(cpuid_leaves)
{
	struct kvm_cpuid_entry2 *sig = NULL, *feat = NULL;
	const uint32_t clock_features = (1u << KVM_FEATURE_CLOCKSOURCE) |
					(1u << KVM_FEATURE_NOP_IO_DELAY) |
					(1u << KVM_FEATURE_CLOCKSOURCE2) |
					(1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
	struct kvm_cpuid2 *cpuid;
	char name[13] = "";
	uint32_t i;

	TEST_REQUIRE_KVM();
	cpuid = kvm_get_supported_cpuid();
	for (i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == KVM_CPUID_SIGNATURE)
			sig = &cpuid->entries[i];
		if (cpuid->entries[i].function == KVM_CPUID_FEATURES)
			feat = &cpuid->entries[i];
	}
	ASSERT_NE(NULL, sig);
	ASSERT_NE(NULL, feat);
	memcpy(name, &sig->ebx, 4);
	memcpy(name + 4, &sig->ecx, 4);
	memcpy(name + 8, &sig->edx, 4);
	EXPECT_EQ(0, memcmp(name, "KVMKVMKVM\0\0\0", 12)) TH_LOG("signature \"%s\"", name);
	EXPECT_GE(sig->eax, KVM_CPUID_FEATURES);
	EXPECT_EQ(clock_features, feat->eax & clock_features)
		TH_LOG("features %#x", feat->eax);
	free(cpuid);
}

/* The same leaves, as the guest's CPUID instruction returns them. */
#define CPUID_LEAF(leaf)							\
	"mov $" #leaf ", %eax\n\t"						\
	"xor %ecx, %ecx\n\t"							\
	"cpuid\n\t"								\
	"mov %eax, %edi\n\t"							\
	"mov %ebx, %esi\n\t"							\
	GUEST_SYNC

GUEST_ASM(kvm_cpuid_guest, 64,
	CPUID_LEAF(0x40000000)
	CPUID_LEAF(0x40000001)
	GUEST_DONE);

TEST(guest_cpuid)
{
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;
	struct ucall uc;
	uint32_t i, leaf;

	TEST_REQUIRE_KVM();
	cpuid = kvm_get_supported_cpuid();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(kvm_cpuid_guest));
	vcpu_set_cpuid(vcpu, cpuid);
	for (leaf = KVM_CPUID_SIGNATURE; leaf <= KVM_CPUID_FEATURES; leaf++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		for (i = 0; i < cpuid->nent; i++) {
			struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

			if (e->function != leaf)
				continue;
			EXPECT_EQ(e->eax, uc.args[0]) TH_LOG("leaf %#x", leaf);
			EXPECT_EQ(e->ebx, uc.args[1]) TH_LOG("leaf %#x", leaf);
			EXPECT_EQ(e->edx, uc.args[2]) TH_LOG("leaf %#x", leaf);
			EXPECT_EQ(e->ecx, uc.args[3]) TH_LOG("leaf %#x", leaf);
		}
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	free(cpuid);
	vm_free(vcpu->vm);
}

TEST(cap_adjust_clock)
{
	TEST_REQUIRE_CAP(KVM_CAP_ADJUST_CLOCK);
	EXPECT_EQ(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC,
		  kvm_check_cap(KVM_CAP_ADJUST_CLOCK));
}

TEST(get_set_clock)
{
	struct kvm_clock_data d, d2;
	uint64_t before;
	struct vm *vm;

	TEST_REQUIRE_CAP(KVM_CAP_ADJUST_CLOCK);
	vm = vm_create();
	d = get_clock(_metadata, vm);
	TH_LOG("new VM: clock %llu ns, flags %#x", (unsigned long long)d.clock, d.flags);
	EXPECT_LT(d.clock, 10 * NSEC_PER_SEC);		/* started at creation */
	EXPECT_EQ(0, d.flags & ~kvm_check_cap(KVM_CAP_ADJUST_CLOCK));
	if (d.flags & KVM_CLOCK_REALTIME)
		EXPECT_LT(ns_abs(realtime_ns() - d.realtime), 100 * NSEC_PER_MSEC);
	d2 = get_clock(_metadata, vm);
	EXPECT_GE(d2.clock, d.clock);

	errno = 0;
	EXPECT_EQ(-1, set_clock(vm, 0, 1u << 7, 0));	/* no such flag */
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, set_clock(vm, 5000 * NSEC_PER_SEC, 0, 0));
	d = get_clock(_metadata, vm);
	EXPECT_GE(d.clock, 5000 * NSEC_PER_SEC);
	EXPECT_LT(d.clock, 5001 * NSEC_PER_SEC);

	/* "It was 5000 s two seconds ago": KVM adds the two seconds. */
	ASSERT_EQ(0, set_clock(vm, 5000 * NSEC_PER_SEC, KVM_CLOCK_REALTIME,
			       realtime_ns() - 2 * NSEC_PER_SEC));
	d = get_clock(_metadata, vm);
	EXPECT_GE(d.clock, 5002 * NSEC_PER_SEC);
	EXPECT_LT(d.clock, 5003 * NSEC_PER_SEC);

	/* A realtime in the future never steps the clock back. */
	ASSERT_EQ(0, set_clock(vm, 7000 * NSEC_PER_SEC, KVM_CLOCK_REALTIME,
			       realtime_ns() + 60 * NSEC_PER_SEC));
	d = get_clock(_metadata, vm);
	EXPECT_GE(d.clock, 7000 * NSEC_PER_SEC);
	EXPECT_LT(d.clock, 7001 * NSEC_PER_SEC);

	/* What KVM_GET_CLOCK returns, KVM_SET_CLOCK takes back. */
	before = d.clock;
	EXPECT_EQ(0, ioctl(vm->fd, KVM_SET_CLOCK, &d));
	d = get_clock(_metadata, vm);
	EXPECT_GE(d.clock, before);

	errno = 0;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_GET_CLOCK, (void *)0x10));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SET_CLOCK, (void *)0x10));
	EXPECT_EQ(EFAULT, errno);
	vm_free(vm);
}

static void guest_kvmclock(struct __test_metadata *_metadata, uint32_t system_msr,
			   uint32_t wall_msr)
{
	volatile struct pvclock_vcpu_time_info *pvti;
	volatile struct pvclock_wall_clock *wall;
	struct kvm_clock_data c0, c1;
	struct kvm_cpuid2 *cpuid;
	uint64_t t1, t2, r, wall_ns, expected;
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;

	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(kvmclock_guest));
	cpuid = kvm_get_supported_cpuid();
	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = system_msr;
	regs.r12 = wall_msr;
	vcpu_set_regs(vcpu, &regs);
	pvti = gpa_to_hva(vcpu->vm, PVTI_GPA);
	wall = gpa_to_hva(vcpu->vm, WALL_GPA);

	/* Two readings around the busy loop, inside the host's two. */
	c0 = get_clock(_metadata, vcpu->vm);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	c1 = get_clock(_metadata, vcpu->vm);
	t1 = uc.args[0];
	t2 = uc.args[1];
	TH_LOG("host %llu .. %llu, guest %llu .. %llu (%llu ns), version %llu, "
	       "mul %#x shift %d flags %#x",
	       (unsigned long long)c0.clock, (unsigned long long)c1.clock,
	       (unsigned long long)t1, (unsigned long long)t2,
	       (unsigned long long)(t2 - t1), (unsigned long long)uc.args[2],
	       (uint32_t)uc.args[3], (int8_t)(uc.args[3] >> 32),
	       (uint8_t)(uc.args[3] >> 40));
	EXPECT_EQ(0, uc.args[2] & 1);			/* version: complete */
	EXPECT_NE(0, uc.args[2]);			/* ... and written */
	EXPECT_NE(0, (uint32_t)uc.args[3]);		/* mul */
	EXPECT_EQ(pvti->tsc_to_system_mul, (uint32_t)uc.args[3]);
	EXPECT_GE(t1, c0.clock);
	EXPECT_GT(t2, t1 + NSEC_PER_MSEC);		/* 10^7 iterations: > 1 ms */
	EXPECT_LE(t2, c1.clock + slack(c1.clock - c0.clock));
	EXPECT_EQ(!!(c1.flags & KVM_CLOCK_TSC_STABLE),
		  !!(pvti->flags & PVCLOCK_TSC_STABLE_BIT));
	EXPECT_EQ(PVTI_GPA | 1, vcpu_get_msr(vcpu, system_msr));

	/* The VMM moves the clock far ahead: the guest follows at once. */
	ASSERT_EQ(0, set_clock(vcpu->vm, FAR_AHEAD, 0, 0));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	c1 = get_clock(_metadata, vcpu->vm);
	r = uc.args[0];
	TH_LOG("after KVM_SET_CLOCK %llu: guest %llu, host %llu",
	       (unsigned long long)FAR_AHEAD, (unsigned long long)r,
	       (unsigned long long)c1.clock);
	EXPECT_GE(r, FAR_AHEAD);
	EXPECT_LE(r, c1.clock + slack(c1.clock - FAR_AHEAD));

	/* The wall clock: when the VM's clock read 0. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	c1 = get_clock(_metadata, vcpu->vm);
	expected = realtime_ns() - c1.clock;
	wall_ns = uc.args[1] * NSEC_PER_SEC + uc.args[2];
	TH_LOG("wall clock version %llu: %llu.%09llu, expected %llu.%09llu",
	       (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
	       (unsigned long long)uc.args[2],
	       (unsigned long long)(expected / NSEC_PER_SEC),
	       (unsigned long long)(expected % NSEC_PER_SEC));
	EXPECT_EQ(0, uc.args[0] & 1);
	EXPECT_NE(0, uc.args[0]);
	EXPECT_LT(uc.args[2], NSEC_PER_SEC);
	EXPECT_LT(ns_abs(wall_ns - expected), 100 * NSEC_PER_MSEC);
	EXPECT_EQ(wall->sec, uc.args[1]);
	EXPECT_GE(uc.args[3], FAR_AHEAD);
	EXPECT_EQ(WALL_GPA, vcpu_get_msr(vcpu, wall_msr));

	/* Turned off: KVM stops writing the structure. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0, vcpu_get_msr(vcpu, system_msr));
	memset((void *)pvti, 0, sizeof(*pvti));
	ASSERT_EQ(0, set_clock(vcpu->vm, FAR_AHEAD, 0, 0));	/* asks for updates */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0, pvti->version);
	EXPECT_EQ(0, pvti->system_time);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

TEST(guest_clock)
{
	TEST_REQUIRE_CAP(KVM_CAP_ADJUST_CLOCK);
	guest_kvmclock(_metadata, MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW);
}

TEST(guest_clock_old_msrs)
{
	TEST_REQUIRE_CAP(KVM_CAP_ADJUST_CLOCK);
	guest_kvmclock(_metadata, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK);
}

/*
 * The wall-clock MSR belongs to the VM (kvm->arch.wall_clock): every vCPU reads
 * the address the last write gave. A write by the VMM fills the structure as the
 * guest's does (kvm_set_msr_common() makes no difference between them).
 */
TEST(wall_clock_is_per_vm)
{
	volatile struct pvclock_wall_clock *wall;
	struct kvm_clock_data c;
	struct vcpu *vcpu0, *vcpu1;
	uint64_t expected, wall_ns;
	struct vm *vm;

	TEST_REQUIRE_CAP(KVM_CAP_ADJUST_CLOCK);
	vm = vm_create();
	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vcpu0 = vcpu_add(vm, 0);
	vcpu1 = vcpu_add(vm, 1);
	wall = gpa_to_hva(vm, WALL_GPA);

	vcpu_set_msr(vcpu0, MSR_KVM_WALL_CLOCK_NEW, WALL_GPA);
	EXPECT_EQ(WALL_GPA, vcpu_get_msr(vcpu1, MSR_KVM_WALL_CLOCK_NEW));
	EXPECT_EQ(WALL_GPA, vcpu_get_msr(vcpu1, MSR_KVM_WALL_CLOCK));

	c = get_clock(_metadata, vm);
	expected = realtime_ns() - c.clock;
	wall_ns = wall->sec * NSEC_PER_SEC + wall->nsec;
	TH_LOG("version %u: %u.%09u", wall->version, wall->sec, wall->nsec);
	EXPECT_EQ(0, wall->version & 1);
	EXPECT_NE(0, wall->version);
	EXPECT_LT(ns_abs(wall_ns - expected), 100 * NSEC_PER_MSEC);
	vm_free(vm);
}

/*
 * A TSC rate above the host's (KVM_SET_TSC_KHZ at twice the host's, where nothing
 * scales the TSC in hardware): the TSC is moved forward between two runs of the
 * guest (model_test tsc_catchup), and kvmclock must not jump with it. The
 * structure keeps the host's rate, at which the TSC ticks while the guest runs,
 * and gets a new (TSC, ns) pair after each move: two readings 200 ms of host
 * sleep apart differ by about 200 ms, not by the time the TSC gained.
 * The guest reports its kvmclock and its TSC in one ucall after another.
 */
GUEST_ASM(kvmclock_read_guest, 64,
	"mov $" GSTR(PVTI_GPA) ", %ebp\n\t"
	"1: call clock_read\n\t"
	"mov %rax, %rdi\n\t"
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, %rsi\n\t"
	GUEST_SYNC
	"jmp 1b\n\t"
	PVCLOCK_READ("clock_read"));

TEST(tsc_catchup)
{
	volatile struct pvclock_vcpu_time_info *pvti;
	uint64_t k1, k2, tsc1, tsc2, c0, c3;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;
	struct ucall uc;
	double khz;
	long rate;

	TEST_REQUIRE_CAP(KVM_CAP_GET_TSC_KHZ);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(kvmclock_read_guest));
	cpuid = kvm_get_supported_cpuid();
	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	rate = ioctl(vcpu->fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, rate);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_TSC_KHZ, 2 * rate));
	vcpu_set_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1);
	c0 = get_clock(_metadata, vcpu->vm).clock;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	k1 = uc.args[0];
	tsc1 = uc.args[1];
	usleep(200 * 1000);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	k2 = uc.args[0];
	tsc2 = uc.args[1];
	c3 = get_clock(_metadata, vcpu->vm).clock;
	TH_LOG("kvmclock +%llu ns, TSC +%llu (%.2f ticks/ns; host %ld kHz), VM clock +%llu ns",
	       (unsigned long long)(k2 - k1), (unsigned long long)(tsc2 - tsc1),
	       (double)(tsc2 - tsc1) / (k2 - k1 ? k2 - k1 : 1), rate,
	       (unsigned long long)(c3 - c0));
	EXPECT_GE(k2 - k1, 200 * NSEC_PER_MSEC - NSEC_PER_MSEC);
	EXPECT_LE(k2 - k1, c3 - c0 + slack(c3 - c0));
	/* The rate in the structure: the host's, to 1%. */
	pvti = gpa_to_hva(vcpu->vm, PVTI_GPA);
	ASSERT_NE(0, pvti->tsc_to_system_mul);
	khz = 4294967296.0 * 1e6 / pvti->tsc_to_system_mul /
	      (pvti->tsc_shift >= 0 ? (double)(1 << pvti->tsc_shift) :
				      1.0 / (1 << -pvti->tsc_shift));
	EXPECT_LT(khz, rate * 1.01) TH_LOG("kvmclock: %.0f kHz, host %ld", khz, rate);
	EXPECT_GT(khz, rate * 0.99) TH_LOG("kvmclock: %.0f kHz, host %ld", khz, rate);
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
