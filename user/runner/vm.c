// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm.c: the machine: /dev/kvm, the VM file descriptor, guest memory, and the
 * PC devices wired to each other and to the port table.
 *
 * The KVM side is the classic sequence every VMM performs:
 *   open("/dev/kvm")  KVM_GET_API_VERSION (must be 12)  KVM_CREATE_VM
 *   mmap() anonymous memory  KVM_SET_USER_MEMORY_REGION (slot 0 at GPA 0)
 * then, with --irqchip=kernel, KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 (irq.c)
 * before any vCPU exists; with --irqchip=user this VMM emulates the PIC and
 * the PIT itself and injects interrupts with KVM_INTERRUPT (vcpu.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

/* Addresses above RAM that KVM on Intel needs for real-mode emulation. */
#define TSS_ADDR	0xfffbd000ull

static int vm__open_kvm(struct vm *vm)
{
	int version;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		pr_err("/dev/kvm: %s (is a KVM module loaded?)", strerror(errno));
		return -errno;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		pr_err("KVM_GET_API_VERSION is %d, need %d", version, KVM_API_VERSION);
		return -EINVAL;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %d", vm->run_size);
		return -EINVAL;
	}
	return 0;
}

static int vm__create_memory(struct vm *vm, uint64_t mib)
{
	struct kvm_userspace_memory_region region;

	vm->mem_size = mib << 20;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED) {
		pr_err("cannot allocate %llu MiB of guest memory", (unsigned long long)mib);
		return -ENOMEM;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		pr_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A pointer to guest memory [gpa, gpa + len), or NULL if it is not RAM. */
void *vm__gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

/* ---------------------------------------------------------------- stop/kick */

/*
 * Something happened that a vCPU must see: an interrupt became pending, or
 * the machine stops. Wake a vCPU sleeping after HLT, and interrupt one inside
 * KVM_RUN with SIGUSR1 (vcpu.c turns that into immediate_exit).
 */
void vm__kick(struct vm *vm)
{
	pthread_cond_broadcast(&vm->wake);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (atomic_load(&vm->vcpu[i].in_run))
			pthread_kill(vm->vcpu[i].thread, SIGUSR1);
}

/* Stop the machine; the first reason given is the one reported. */
void vm__stop(struct vm *vm, int code, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->stop_lock);
	if (!atomic_load(&vm->stopping)) {
		vm->exit_code = code;
		va_start(ap, fmt);
		vsnprintf(vm->exit_reason, sizeof(vm->exit_reason), fmt, ap);
		va_end(ap);
		atomic_store(&vm->stopping, true);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	/* Wake the event loop; an eventfd counter cannot overflow here. */
	(void)!write(vm->stop_fd, &one, sizeof(one));
	/* Parked vCPUs (and a monitor waiting for them) see stopping too. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	vm__kick(vm);
}

/*
 * Pause every vCPU (the monitor's "stop"): set paused, pull the vCPUs out of
 * KVM_RUN, wait until each has parked in vcpu__park(). KVM keeps the guest's
 * state where it was; the devices' threads go on, with nothing to drive them.
 * The guest's kvmclock is read here and written back at vm__resume(), as
 * QEMU does, so that a paused guest does not find its clock jumped ahead.
 */
void vm__pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->paused, true);
	pthread_mutex_unlock(&vm->pause_lock);
	vm__kick(vm);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < vm->nr_vcpus && !atomic_load(&vm->stopping)) {
		struct timespec ts;

		/* vm__kick() again now and then: a kick can race with the entry. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		if (pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &ts)) {
			pthread_mutex_unlock(&vm->pause_lock);
			vm__kick(vm);
			pthread_mutex_lock(&vm->pause_lock);
		}
	}
	pthread_mutex_unlock(&vm->pause_lock);
	vm->paused_clock_ok = !ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->paused_clock);
}

void vm__resume(struct vm *vm)
{
	if (vm->paused_clock_ok) {
		struct kvm_clock_data clock = { .clock = vm->paused_clock.clock };

		(void)!ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock);
	}
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->paused, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* ---------------------------------------------------------------- devices */

static void vm__pic_notify(void *opaque)
{
	vm__kick(opaque);
}

static void vm__machine_event(void *opaque, enum machine_event ev, const char *why)
{
	vm__stop(opaque, EXIT_GUEST_DONE, "guest %s: %s",
		 ev == MACHINE_RESET ? "reset" : "powered off", why);
}

static int64_t vm__host_seconds(void)
{
	return time(NULL);
}

/*
 * The legacy PC: where each device sits in port space (Ralf Brown's port list).
 * The PICs and the ELCR are ours only with --irqchip=user, the PIT and port
 * 0x61 only without KVM_CREATE_PIT2: otherwise KVM answers those ports in the
 * kernel and they never reach this table.
 */
static int vm__add_devices(struct vm *vm)
{
	struct reset_line reset = { vm__machine_event, vm };
	bool user_pic = !vm->kernel_irqchip, user_pit = !vm->kernel_pit;
	struct {
		uint16_t base, len;
		const struct io_ops *ops;
		void *dev;
		const char *name;
		bool ours;
	} ports[] = {
		{ 0x020, 2, &pic_master_io_ops, &vm->pic,  "pic-master", user_pic },
		{ 0x040, 4, &pit_io_ops,        &vm->pit,  "pit",        user_pit },
		{ 0x060, 1, &kbd_data_io_ops,   &vm->kbd,  "i8042-data", true },
		{ 0x061, 1, &port61_io_ops,     &vm->pit,  "port61",     user_pit },
		{ 0x064, 1, &kbd_ctl_io_ops,    &vm->kbd,  "i8042-ctl",  true },
		{ 0x070, 2, &rtc_io_ops,        &vm->rtc,  "rtc",        true },
		{ 0x080, 1, &port80_io_ops,     &vm->misc, "post",       true },
		{ 0x092, 1, &port92_io_ops,     &vm->misc, "port92",     true },
		{ 0x0a0, 2, &pic_slave_io_ops,  &vm->pic,  "pic-slave",  user_pic },
		{ 0x0e9, 1, &debugcon_io_ops,   &vm->misc, "debugcon",   true },
		{ 0x3f8, 8, &serial_io_ops,     &vm->com1, "com1",       true },
		{ 0x4d0, 2, &elcr_io_ops,       &vm->pic,  "elcr",       user_pic },
		{ 0xcf8, 4, &pci_addr_io_ops,   &vm->pci,  "pci-addr",   true },
		{ 0xcfc, 4, &pci_data_io_ops,   &vm->pci,  "pci-data",   true },
	};
	int ret;

	pic__init(&vm->pic, vm__pic_notify, vm);
	pit__init(&vm->pit, irq__line(vm, 0), event__now_ns, event__arm_timer, vm);
	serial__init(&vm->com1, irq__line(vm, 4), term__tx, vm);
	rtc__init(&vm->rtc, vm__host_seconds, vm->mem_size);
	kbd__init(&vm->kbd, irq__line(vm, 1), irq__line(vm, 12), reset);
	pci__init(&vm->pci, reset);
	misc__init(&vm->misc, reset, term__tx, vm);

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		if (!ports[i].ours)
			continue;
		ret = io_bus__register(&vm->pio, ports[i].base, ports[i].len,
				       ports[i].ops, ports[i].dev, ports[i].name);
		if (ret) {
			pr_err("port 0x%x (%s): %s", ports[i].base, ports[i].name,
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int vm__init(struct vm *vm, const struct config *cfg)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->timer_fd = vm->stop_fd = vm->dump_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	pthread_cond_init(&vm->wake, NULL);
	vm->pio = (struct io_bus){ .name = "port", .trace = cfg->trace };
	vm->mmio = (struct io_bus){ .name = "mmio", .trace = cfg->trace };
	vm->halt_ends_run = cfg->image != NULL;

	vm->stop_fd = eventfd(0, EFD_CLOEXEC);
	vm->dump_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (vm->stop_fd < 0 || vm->dump_fd < 0 || vm->timer_fd < 0) {
		pr_err("eventfd/timerfd: %s", strerror(errno));
		return -errno;
	}
	ret = vm__open_kvm(vm);
	if (ret)
		return ret;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	/*
	 * Intel without "unrestricted guest" runs real mode in vm86 and needs
	 * three pages for a TSS outside guest RAM. Harmless elsewhere; a KVM
	 * that does not know the ioctl does not need it.
	 */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0 && errno != ENOTTY &&
	    errno != EINVAL)
		pr_err("warning: KVM_SET_TSS_ADDR: %s", strerror(errno));
	ret = irq__init(vm, cfg);
	if (!ret)
		ret = vm__create_memory(vm, cfg->mem_mib);
	if (ret)
		return ret;
	return vm__add_devices(vm);
}
