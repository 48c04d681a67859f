// SPDX-License-Identifier: GPL-2.0-only
/*
 * smoke_test: the system ioctls on /dev/kvm that every KVM user calls first.
 *
 * This is the ABI the module must share with Linux's kvm.ko, and every check below
 * also passes against the real kvm_amd / kvm_intel modules (the rigs' REF=kvm runs):
 * when in doubt about an expected value, real KVM is the oracle.
 *
 *   KVM_GET_API_VERSION   must return 12 (KVM_API_VERSION) and reject a nonzero arg
 *   KVM_CHECK_EXTENSION   returns 0 ("no") or a positive value, never an error
 *   unknown ioctls        fail with EINVAL (x86's kvm_arch_dev_ioctl() default case)
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"

#define KVM_DEV		"/dev/kvm"
#define KVM_API_VERSION	12
#define MISC_MAJOR	10	/* /dev/kvm is a misc device ... */
#define KVM_MINOR	232	/* ... with a fixed minor (include/linux/miscdevice.h) */

/* Open /dev/kvm into fd; skip the test when the device does not exist at all. */
#define OPEN_KVM(fd, flags) do {						\
	fd = open(KVM_DEV, flags);						\
	if (fd < 0 && errno == ENOENT)						\
		SKIP(return, KVM_DEV " does not exist (module not loaded?)");	\
	ASSERT_GE(fd, 0) TH_LOG("open(%s): %s", KVM_DEV, strerror(errno));	\
} while (0)

/* udev rules and QEMU find KVM by its device number, not only by its name. */
TEST(dev_node)
{
	struct stat st;

	if (stat(KVM_DEV, &st) && errno == ENOENT)
		SKIP(return, KVM_DEV " does not exist (module not loaded?)");
	ASSERT_EQ(0, stat(KVM_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(KVM_MINOR, minor(st.st_rdev));
}

TEST(open_rdwr)
{
	int fd;

	OPEN_KVM(fd, O_RDWR | O_CLOEXEC);

	EXPECT_EQ(0, close(fd));
}

/* KVM does not check the open mode: a read-only fd answers system ioctls too. */
TEST(open_rdonly)
{
	int fd;

	OPEN_KVM(fd, O_RDONLY | O_CLOEXEC);

	EXPECT_EQ(KVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
	EXPECT_EQ(0, close(fd));
}

/* Several opens are independent: closing one leaves the other usable. */
TEST(open_twice)
{
	int a, b;

	OPEN_KVM(a, O_RDWR | O_CLOEXEC);
	OPEN_KVM(b, O_RDWR | O_CLOEXEC);

	ASSERT_NE(a, b);
	EXPECT_EQ(0, close(a));
	EXPECT_EQ(KVM_API_VERSION, ioctl(b, KVM_GET_API_VERSION, 0));
	EXPECT_EQ(0, close(b));
}

TEST(api_version)
{
	int fd;

	OPEN_KVM(fd, O_RDWR | O_CLOEXEC);

	EXPECT_EQ(KVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
	close(fd);
}

/* The argument of KVM_GET_API_VERSION is reserved: anything but 0 is EINVAL. */
TEST(api_version_nonzero_arg)
{
	int fd;

	OPEN_KVM(fd, O_RDWR | O_CLOEXEC);

	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Capabilities every x86 KVM has reported since long before 6.1. A module grows into
 * them one by one, and until then 0 ("not supported") is an honest answer: so this only
 * demands an answer without an error, and logs the values (compare them with a REF run).
 */
static const struct {
	const char *name;
	long cap;
} caps[] = {
#define CAP(c) { #c, c }
	CAP(KVM_CAP_IRQCHIP),
	CAP(KVM_CAP_HLT),
	CAP(KVM_CAP_USER_MEMORY),
	CAP(KVM_CAP_SET_TSS_ADDR),
	CAP(KVM_CAP_EXT_CPUID),
	CAP(KVM_CAP_NR_VCPUS),
	CAP(KVM_CAP_MAX_VCPUS),
	CAP(KVM_CAP_NR_MEMSLOTS),
	CAP(KVM_CAP_SYNC_MMU),
	CAP(KVM_CAP_IMMEDIATE_EXIT),
	CAP(KVM_CAP_CHECK_EXTENSION_VM),
#undef CAP
};

TEST(check_extension_known)
{
	unsigned int i;
	int fd;

	OPEN_KVM(fd, O_RDWR | O_CLOEXEC);

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int r;

		errno = 0;
		r = ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap);
		EXPECT_GE(r, 0) TH_LOG("%s: ret %d errno %d", caps[i].name, r, errno);
		TH_LOG("%s = %d", caps[i].name, r);
	}
	close(fd);
}

/* A capability number nobody defines is "not supported" (0), not an error. */
TEST(check_extension_unknown)
{
	static const long bogus[] = { 0x7fffffff, 0x10000, -1 };
	unsigned int i;
	int fd;

	OPEN_KVM(fd, O_RDWR | O_CLOEXEC);

	for (i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
		EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, bogus[i]))
			TH_LOG("cap %#lx errno %d", bogus[i], errno);
	close(fd);
}

/*
 * Ioctls /dev/kvm does not know: a KVM-type number nobody uses and a number of another
 * type altogether. x86 KVM hands unknown system ioctls to kvm_arch_dev_ioctl(), whose
 * default case returns -EINVAL; minikvm answers -ENOTTY, the kernel's convention for
 * "no such ioctl" (a documented difference: the test expects each module's own answer).
 */
TEST(unknown_ioctl)
{
	static const unsigned long bogus[] = {
		_IO(KVMIO, 0xfe), _IOW(KVMIO, 0xfd, __u64), _IO('z', 1),
	};
	int expected = access("/sys/module/minikvm", F_OK) == 0 ? ENOTTY : EINVAL;
	unsigned int i;
	int fd;

	OPEN_KVM(fd, O_RDWR | O_CLOEXEC);

	for (i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, bogus[i], 0)) TH_LOG("ioctl %#lx", bogus[i]);
		EXPECT_EQ(expected, errno) TH_LOG("ioctl %#lx", bogus[i]);
	}
	close(fd);
}

TEST_HARNESS_MAIN
