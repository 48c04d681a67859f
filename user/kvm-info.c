// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-info: ask /dev/kvm what it is, the way every KVM user starts.
 *
 *   $ kvm-info
 *   KVM_GET_API_VERSION: 12
 *   KVM_CAP_USER_MEMORY: 1
 *   ...
 *
 * Only system ioctls (on the /dev/kvm fd itself), nothing that creates a VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

static const struct {
	const char *name;
	int cap;
} caps[] = {
#define CAP(c) { #c, c }
	CAP(KVM_CAP_USER_MEMORY),
	CAP(KVM_CAP_SET_TSS_ADDR),
	CAP(KVM_CAP_EXT_CPUID),
	CAP(KVM_CAP_IRQCHIP),
	CAP(KVM_CAP_HLT),
	CAP(KVM_CAP_NR_VCPUS),
	CAP(KVM_CAP_MAX_VCPUS),
	CAP(KVM_CAP_NR_MEMSLOTS),
	CAP(KVM_CAP_IMMEDIATE_EXIT),
#undef CAP
};

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/kvm";
	unsigned int i;
	int fd, r;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kvm-info: open %s: %s\n", path, strerror(errno));
		return 1;
	}

	r = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (r < 0) {
		fprintf(stderr, "kvm-info: KVM_GET_API_VERSION: %s\n", strerror(errno));
		return 1;
	}
	printf("%-24s %d%s\n", "KVM_GET_API_VERSION:", r, r == KVM_API_VERSION ? "" : " (expected 12!)");

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		char label[40];

		snprintf(label, sizeof(label), "%s:", caps[i].name);
		r = ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap);
		if (r < 0)
			printf("%-24s error: %s\n", label, strerror(errno));
		else
			printf("%-24s %d\n", label, r);
	}
	close(fd);
	return 0;
}
