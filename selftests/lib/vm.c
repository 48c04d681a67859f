// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm.c: /dev/kvm, VMs, memslots and vCPUs for the selftests.
 *
 * The order of calls follows the KVM API (Documentation/virt/kvm/api.rst):
 * system ioctls on the /dev/kvm fd, VM ioctls on the fd KVM_CREATE_VM returns,
 * vCPU ioctls on the fd KVM_CREATE_VCPU returns, and the vCPU's struct kvm_run
 * shared through mmap() of the vCPU fd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"
#include "x86.h"

void __test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	/* "#" keeps the message a comment in the TAP stream the harness prints. */
	fprintf(stderr, "# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* The harness reports a test killed by SIGABRT as "terminated by assertion". */
	abort();
}

/* ---------------------------------------------------------------- /dev/kvm */

int kvm_open(void)
{
	return open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
}

/* True if /dev/kvm can be opened. Any other problem shows up later as a failure. */
bool kvm_present(void)
{
	int fd = kvm_open();

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* True when the module behind /dev/kvm is minikvm rather than kvm.ko. */
bool kvm_is_minikvm(void)
{
	return access("/sys/module/minikvm", F_OK) == 0;
}

/* The errno for an ioctl number the fd does not know (see vm.h). */
/*
 * Before memory counters are compared: give back what the kernel still holds of
 * freed slab objects. Writing to /sys/kernel/slab/NAME/shrink empties the cache's
 * per-CPU and partial slabs (kmem_cache_shrink()); on a KASAN kernel (the debug
 * rig) it first frees the cache's objects from KASAN's quarantine, where freed
 * objects wait, up to 1/32 of RAM, before they are really freed
 * (mm/kasan/quarantine.c): without this a leak check there sees megabytes
 * "kept" that are only waiting. Returns the number of caches shrunk.
 */
int settle_slab(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir("/sys/kernel/slab");
	int n = 0, fd;

	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", d->d_name);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) == 1)
			n++;
		close(fd);
	}
	if (dir)
		closedir(dir);
	return n;
}

int kvm_unknown_ioctl_errno(int fd_level)
{
	if (kvm_is_minikvm() || fd_level == KVM_FD_VM)
		return ENOTTY;
	return EINVAL;
}

/* KVM_CHECK_EXTENSION on /dev/kvm: 0 = unsupported (or no /dev/kvm at all). */
int kvm_check_cap(long cap)
{
	int fd = kvm_open();
	int r;

	if (fd < 0)
		return 0;
	r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
	close(fd);
	return r < 0 ? 0 : r;
}

/*
 * The host's virtualization extension, from CPUID: VMX is CPUID.1:ECX[5]
 * (SDM Vol.3 23.6), SVM is CPUID.80000001h:ECX[2] (APM Vol.2 15.4). Tests use it
 * where real kvm_intel and kvm_amd legitimately differ.
 */
enum host_virt host_virt(void)
{
	uint32_t a, b, c, d;

	host_cpuid(1, 0, &a, &b, &c, &d);
	if (c & (1u << 5))
		return HOST_VIRT_VMX;
	host_cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001) {
		host_cpuid(0x80000001, 0, &a, &b, &c, &d);
		if (c & (1u << 2))
			return HOST_VIRT_SVM;
	}
	return HOST_VIRT_NONE;
}

/*
 * An SVM host that is QEMU's TCG emulator (the SVM rig): its hypervisor leaf says
 * "TCGTCGTCGTCG". It does not arm the hardware breakpoints of a DR7 that VMRUN loads
 * from the VMCB, only those of a guest's own MOV to DR7 (guestdbg_test, events_test).
 */
bool host_svm_under_tcg(void)
{
	uint32_t a, sig[3];

	if (host_virt() != HOST_VIRT_SVM)
		return false;
	host_cpuid(0x40000000, 0, &a, &sig[0], &sig[1], &sig[2]);
	return !memcmp(sig, "TCGTCGTCGTCG", 12);
}

/*
 * KVM_GET_SUPPORTED_CPUID: the caller must size the array; E2BIG means "too small",
 * so grow until it fits. The result is malloc()ed; free() it.
 */
struct kvm_cpuid2 *kvm_get_supported_cpuid(void)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int nent = 64, fd, r;

	fd = kvm_open();
	if (fd < 0)
		test_fail("open %s: %s", KVM_DEV_PATH, strerror(errno));
	for (;;) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			test_fail("out of memory");
		cpuid->nent = nent;
		r = ioctl(fd, KVM_GET_SUPPORTED_CPUID, cpuid);
		if (r == 0)
			break;
		if (errno != E2BIG || nent >= 4096)
			test_fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		nent *= 2;
	}
	close(fd);
	return cpuid;
}

/* ---------------------------------------------------------------- VMs */

struct vm *vm_create(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		test_fail("out of memory");
	vm->kvm_fd = kvm_open();
	if (vm->kvm_fd < 0)
		test_fail("open %s: %s", KVM_DEV_PATH, strerror(errno));

	/* The kvm_run mapping size is per host, not a constant: ask for it. */
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r < (int)sizeof(struct kvm_run))
		test_fail("KVM_GET_VCPU_MMAP_SIZE: %d (%s)", r, strerror(errno));
	vm->run_size = r;

	/* Type 0: the default (and on x86 in 6.1, the only) VM type. */
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		test_fail("KVM_CREATE_VM: %s", strerror(errno));
	return vm;
}

/*
 * Tear down in the reverse order of creation. Closing the fds is what frees the VM
 * in the kernel: the VM lives until its last vCPU fd and its own fd are closed.
 */
void vm_free(struct vm *vm)
{
	int i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_vcpus; i++) {
		munmap(vm->vcpus[i]->run, vm->run_size);
		close(vm->vcpus[i]->fd);
		free(vm->vcpus[i]);
	}
	close(vm->fd);
	for (i = 0; i < vm->nr_regions; i++)
		munmap(vm->regions[i].hva, vm->regions[i].size);
	close(vm->kvm_fd);
	free(vm);
}

/* KVM_SET_USER_MEMORY_REGION with exactly these fields; returns ioctl()'s result. */
int __vm_set_memslot(struct vm *vm, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region);
}

/*
 * Back [gpa, gpa + size) with fresh anonymous memory in memslot @slot and return the
 * host address. The memory starts zeroed, like RAM after a reset is in practice.
 */
void *vm_add_memory(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		    uint32_t flags)
{
	struct vm_region *region;
	void *hva;

	if (vm->nr_regions >= VM_MAX_REGIONS)
		test_fail("more than %d memory regions", VM_MAX_REGIONS);
	hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hva == MAP_FAILED)
		test_fail("mmap %#llx bytes: %s", (unsigned long long)size, strerror(errno));
	if (__vm_set_memslot(vm, slot, flags, gpa, size, hva))
		test_fail("KVM_SET_USER_MEMORY_REGION slot %u gpa %#llx size %#llx: %s",
			  slot, (unsigned long long)gpa, (unsigned long long)size,
			  strerror(errno));

	region = &vm->regions[vm->nr_regions++];
	region->slot = slot;
	region->flags = flags;
	region->gpa = gpa;
	region->size = size;
	region->hva = hva;
	return hva;
}

/* The host address behind a guest physical address, for the host to read/write. */
void *gpa_to_hva(struct vm *vm, uint64_t gpa)
{
	int i;

	for (i = 0; i < vm->nr_regions; i++) {
		struct vm_region *r = &vm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return (uint8_t *)r->hva + (gpa - r->gpa);
	}
	test_fail("no memory region holds gpa %#llx", (unsigned long long)gpa);
}

/* ---------------------------------------------------------------- vCPUs */

struct vcpu *vcpu_add(struct vm *vm, uint32_t id)
{
	struct vcpu *vcpu;

	if (vm->nr_vcpus >= VM_MAX_VCPUS)
		test_fail("more than %d vCPUs", VM_MAX_VCPUS);
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		test_fail("out of memory");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		test_fail("KVM_CREATE_VCPU %u: %s", id, strerror(errno));

	/*
	 * struct kvm_run is the vCPU's mailbox: KVM fills the exit reason and details
	 * (I/O port and data, MMIO address...) there before KVM_RUN returns.
	 */
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED)
		test_fail("mmap kvm_run of vCPU %u: %s", id, strerror(errno));
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	return vcpu;
}

int __vcpu_run(struct vcpu *vcpu)
{
	return ioctl(vcpu->fd, KVM_RUN, 0);
}

/*
 * Run until the next exit to userspace. A signal interrupting KVM_RUN (EINTR) is not
 * expected here; tests that deal with signals call __vcpu_run().
 */
void vcpu_run(struct vcpu *vcpu)
{
	if (__vcpu_run(vcpu))
		test_fail("KVM_RUN vCPU %u: %s", vcpu->id, strerror(errno));
}

void vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs)
{
	if (ioctl(vcpu->fd, KVM_GET_REGS, regs))
		test_fail("KVM_GET_REGS: %s", strerror(errno));
}

void vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs)
{
	if (ioctl(vcpu->fd, KVM_SET_REGS, regs))
		test_fail("KVM_SET_REGS: %s", strerror(errno));
}

void vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	if (ioctl(vcpu->fd, KVM_GET_SREGS, sregs))
		test_fail("KVM_GET_SREGS: %s", strerror(errno));
}

void vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs)
{
	if (ioctl(vcpu->fd, KVM_SET_SREGS, sregs))
		test_fail("KVM_SET_SREGS: %s", strerror(errno));
}

void vcpu_set_cpuid(struct vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid))
		test_fail("KVM_SET_CPUID2 (%u entries): %s", cpuid->nent, strerror(errno));
}

/*
 * The first value of the vCPU statistic @name, read now from a fresh binary stats
 * fd (KVM_GET_STATS_FD, api.rst "binary statistics"); -1 if there is no stats fd or
 * no such statistic. stats_test checks the file's layout; this only finds a name.
 */
int64_t vcpu_stat(struct vcpu *vcpu, const char *name)
{
	struct kvm_stats_header h;
	int64_t value = -1;
	size_t desc_size;
	uint64_t v;
	uint8_t *desc = NULL;
	uint32_t i;
	int fd;

	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -1;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.name_size > 4096)
		goto out;
	desc_size = sizeof(struct kvm_stats_desc) + h.name_size;
	desc = calloc(h.num_desc, desc_size);
	if (!desc || pread(fd, desc, h.num_desc * desc_size, h.desc_offset) !=
		     (ssize_t)(h.num_desc * desc_size))
		goto out;
	for (i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(desc + i * desc_size);

		if (strncmp(d->name, name, h.name_size))
			continue;
		if (pread(fd, &v, sizeof(v), h.data_offset + d->offset) == sizeof(v))
			value = v;
		break;
	}
out:
	free(desc);
	close(fd);
	return value;
}

/*
 * KVM_GET_MSRS / KVM_SET_MSRS return the number of MSRs processed, not 0: for
 * one MSR, 1 if KVM took it and 0 if it refused it (unknown index, bad value).
 */
int __vcpu_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} msrs = { .hdr.nmsrs = 1, .entry.index = index };
	int r;

	r = ioctl(vcpu->fd, KVM_GET_MSRS, &msrs);
	if (r == 1)
		*value = msrs.entry.data;
	return r;
}

int __vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} msrs = { .hdr.nmsrs = 1, .entry.index = index, .entry.data = value };

	return ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
}

uint64_t vcpu_get_msr(struct vcpu *vcpu, uint32_t index)
{
	uint64_t value = 0;
	int r;

	r = __vcpu_get_msr(vcpu, index, &value);
	if (r != 1)
		test_fail("KVM_GET_MSRS %#x: returned %d (%s)", index, r, strerror(errno));
	return value;
}

void vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
	int r;

	r = __vcpu_set_msr(vcpu, index, value);
	if (r != 1)
		test_fail("KVM_SET_MSRS %#x=%#llx: returned %d (%s)", index,
			  (unsigned long long)value, r, strerror(errno));
}
