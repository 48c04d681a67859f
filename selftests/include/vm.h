/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vm.h: the host side of the selftest library.
 *
 * A thin layer over the KVM ioctls a VMM issues to run a guest:
 *
 *   open("/dev/kvm")                         kvm_open()
 *   KVM_CREATE_VM                            vm_create()
 *   mmap + KVM_SET_USER_MEMORY_REGION        vm_add_memory(), __vm_set_memslot()
 *   KVM_CREATE_VCPU + mmap(kvm_run)          vcpu_add()
 *   KVM_SET_SREGS / KVM_SET_REGS             vcpu_init_mode()
 *   KVM_RUN                                  vcpu_run(), vcpu_run_ucall()
 *
 * plus the guest-side scaffolding (GDT, IDT, TSS, page tables: vm_init_tables()) that
 * lets a vCPU start directly in real, protected, paged or long mode. Functions whose
 * name starts with "__" return the raw ioctl result (-1 and errno); the others
 * succeed or end the test with a message (test_fail()), so a test reads as a list of
 * steps and checks only what it is about.
 */
#ifndef SELFTESTS_VM_H
#define SELFTESTS_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest.h"

#define KVM_DEV_PATH	"/dev/kvm"
#define VM_MAX_VCPUS	8
#define VM_MAX_REGIONS	64

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define PAGE_SIZE	4096UL

/* One memslot as the library created it: guest range and the host memory behind it. */
struct vm_region {
	uint32_t slot;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	void *hva;
};

struct vm {
	int kvm_fd;		/* /dev/kvm, for system ioctls */
	int fd;			/* the VM */
	size_t run_size;	/* KVM_GET_VCPU_MMAP_SIZE */
	int nr_regions;
	struct vm_region regions[VM_MAX_REGIONS];
	int nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	struct guest_code code;	/* the blob loaded at GUEST_CODE_GPA, if any */
};

struct vcpu {
	struct vm *vm;
	uint32_t id;
	int fd;
	struct kvm_run *run;	/* shared with the kernel: exit information */
};

/* The decoded ucall (see guest.h): command and the argument registers. */
struct ucall {
	uint64_t cmd;
	uint64_t args[4];	/* RDI, RSI, RDX, RCX */
};

/* Which hardware virtualization the host has: decides vendor-specific expectations. */
enum host_virt {
	HOST_VIRT_NONE,
	HOST_VIRT_VMX,		/* Intel VT-x: kvm_intel */
	HOST_VIRT_SVM,		/* AMD-V: kvm_amd */
};

/* Report a failure with file:line and end the test (the harness reports it). */
void __test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
#define test_fail(...)	__test_fail(__FILE__, __LINE__, __VA_ARGS__)

/* /dev/kvm and system ioctls. */
int kvm_open(void);
bool kvm_present(void);
int kvm_check_cap(long cap);

/*
 * The errno of an ioctl number the fd does not know. minikvm answers
 * ENOTTY everywhere, the kernel's convention for "no such ioctl". kvm.ko
 * answers EINVAL on /dev/kvm and on vCPU fds (their switch statements fall
 * through to architecture code whose default is EINVAL) and ENOTTY on VM
 * fds. Tests compare against the one that is loaded.
 */
bool kvm_is_minikvm(void);
/* Frees what slab caches (and KASAN's quarantine) keep of freed objects. */
int settle_slab(void);
int kvm_unknown_ioctl_errno(int fd_level);
#define KVM_FD_SYSTEM	0
#define KVM_FD_VM	1
#define KVM_FD_VCPU	2
enum host_virt host_virt(void);
bool host_svm_under_tcg(void);
struct kvm_cpuid2 *kvm_get_supported_cpuid(void);

/*
 * Skip the current test (kselftest SKIP) when there is no /dev/kvm or a capability
 * is missing. Macros, so SKIP() sees the test's _metadata.
 */
#define TEST_REQUIRE_KVM() do {							\
	if (!kvm_present())							\
		SKIP(return, KVM_DEV_PATH " not available");			\
} while (0)

#define TEST_REQUIRE_CAP(cap) do {						\
	TEST_REQUIRE_KVM();							\
	if (kvm_check_cap(cap) <= 0)						\
		SKIP(return, #cap " not supported");				\
} while (0)

/* VMs and memory. */
struct vm *vm_create(void);
void vm_free(struct vm *vm);
int __vm_set_memslot(struct vm *vm, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size, void *hva);
void *vm_add_memory(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		    uint32_t flags);
void *gpa_to_hva(struct vm *vm, uint64_t gpa);

/* vCPUs. */
struct vcpu *vcpu_add(struct vm *vm, uint32_t id);
int __vcpu_run(struct vcpu *vcpu);
void vcpu_run(struct vcpu *vcpu);
void vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs);
void vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs);
void vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs);
void vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs);
void vcpu_set_cpuid(struct vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
uint64_t vcpu_get_msr(struct vcpu *vcpu, uint32_t index);
int64_t vcpu_stat(struct vcpu *vcpu, const char *name);
void vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);
/* One MSR through KVM_GET_MSRS/KVM_SET_MSRS: 1 if done, 0 if KVM refused it. */
int __vcpu_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value);
int __vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);

/* Guest setup (lib/modes.c). */
const char *guest_mode_name(enum guest_mode mode);
void vm_init_tables(struct vm *vm);
void vcpu_init_mode(struct vcpu *vcpu, enum guest_mode mode, uint64_t entry);
void vm_load_code(struct vm *vm, struct guest_code code);
uint64_t guest_code_gpa(struct vm *vm, const void *label);
void vm_set_idt_gate(struct vm *vm, enum guest_mode mode, int vector, uint64_t handler);
struct vcpu *vm_create_guest(enum guest_mode mode, struct guest_code code);

/* Exits and the ucall (lib/ucall.c). */
const char *exit_reason_str(uint32_t reason);
const char *vcpu_describe_exit(struct vcpu *vcpu, char *buf, size_t len);
uint64_t vcpu_get_ucall(struct vcpu *vcpu, struct ucall *uc);
uint64_t vcpu_run_ucall(struct vcpu *vcpu, struct ucall *uc);
void vcpu_run_until_done(struct vcpu *vcpu);
void vcpu_expect_exit(struct vcpu *vcpu, uint32_t exit_reason);

/* The I/O data of a KVM_EXIT_IO exit: it lives in the kvm_run mapping. */
static inline void *vcpu_io_data(struct vcpu *vcpu)
{
	return (uint8_t *)vcpu->run + vcpu->run->io.data_offset;
}

#endif /* SELFTESTS_VM_H */
