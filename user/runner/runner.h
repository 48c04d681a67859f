/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * runner.h: the VMM's machine, shared by the run loop, the event loop and the
 * x86 boot code.
 *
 * Threads: one per vCPU (vcpu.c), running KVM_RUN in a loop; one event loop
 * (event.c) that waits on the host's stdin and the PIT's timerfd. Both kinds
 * reach the devices, so every device access happens under vm->lock. And one
 * I/O thread per virtio device (virtio/virtio.c), woken by ioeventfds; it
 * takes only its device's own lock, never vm->lock.
 *
 * Interrupts (irq.c), two ways:
 *  --irqchip=user    device -> irq_line -> PIC -> "notify" -> vm__kick(),
 *                    which wakes a vCPU that waits after HLT or pulls one out
 *                    of KVM_RUN with a signal; the vCPU then injects the PIC's
 *                    vector with KVM_INTERRUPT. One vCPU.
 *  --irqchip=kernel  device -> irq_line -> KVM_IRQ_LINE; KVM's PIC, IOAPIC
 *                    and local APICs do the rest, for 1 to MAX_VCPUS vCPUs.
 */
#ifndef RUNNER_RUNNER_H
#define RUNNER_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kvm.h>

#include "hw/hw.h"
#include "io.h"
#include "virtio/mmio.h"

/* --cpus: 1 to 64. The APIC IDs are the vCPU numbers, all below the
 * IOAPIC's (x86/mptable.c), and xAPIC physical destinations reach 0-254. */
#define MAX_VCPUS	64

/* virtio-mmio devices (virtio/virtio.c): windows from here, 0x200 apart,
 * above RAM (at most 3 GiB) and below the IOAPIC. */
#define MAX_VIRTIO		6
#define MAX_DISKS		4
#define VIRTIO_MMIO_BASE	0xd0000000ull

/* Exit statuses of minikvm-run. */
#define EXIT_GUEST_DONE		0	/* reboot, power off, HLT of a raw image */
#define EXIT_ERROR		1	/* error: KVM error, guest crash, missing file */
#define EXIT_USAGE		2	/* a bad command line */
#define EXIT_UNSUPPORTED	3	/* this KVM lacks an ioctl the VMM needs */

enum cpu_mode { MODE_REAL, MODE_PROT, MODE_LONG };

/* --irqchip: DEFAULT is kernel if KVM has one (and the guest is Linux). */
enum irqchip_mode { IRQCHIP_DEFAULT, IRQCHIP_USER, IRQCHIP_KERNEL };

struct config {
	const char *kernel, *initrd, *append;	/* Linux guest */
	const char *image;			/* raw teaching guest */
	uint64_t entry;				/* raw guest: load and entry address */
	bool entry_set;
	enum cpu_mode mode;
	uint64_t mem_mib;
	int cpus;				/* 1..MAX_VCPUS */
	enum irqchip_mode irqchip;
	bool trace;				/* print unclaimed port/MMIO accesses */
	struct {
		const char *path;
		bool ro;
	} disk[MAX_DISKS];			/* --disk FILE[,ro], --disk-ro FILE */
	int nr_disks;
	bool rng;				/* --rng */
	bool virtio_console;			/* --virtio-console: stdin/stdout on hvc0 */
	const char *monitor;			/* --monitor PATH: a QMP-like socket */
	const char *restore;			/* --restore FILE: a snapshot */
	const char *incoming;			/* --incoming tcp:ADDR:PORT */
};

/* One virtio device in the machine (virtio/virtio.c). */
struct virtio_slot {
	struct vm *vm;
	struct virtio_mmio *mmio;		/* transport + device model */
	uint64_t base;				/* its MMIO window */
	int irq;				/* its GSI (an ISA line) */
	int irq_fd;				/* irqfd */
	int queue_fd[VIRTIO_MMIO_QUEUES];	/* ioeventfds on QueueNotify */
	pthread_t thread;			/* its I/O thread */
};

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	atomic_bool in_run;	/* between the interrupt check and KVM_RUN's return */
	/* For the state dump (SIGUSR2): what this vCPU has been doing. */
	atomic_ulong exits[KVM_EXIT_SYSTEM_EVENT + 1];
	atomic_ulong injected, eintr;
	atomic_int last_vector;
	atomic_bool want_regs;	/* the dump asks: print registers at the next return */
};

struct vm {
	int kvm_fd, vm_fd;
	int run_size;			/* KVM_GET_VCPU_MMAP_SIZE */
	uint8_t *mem;			/* guest physical 0 .. mem_size */
	uint64_t mem_size;
	bool halt_ends_run;		/* raw images: HLT means "done" */
	bool kernel_irqchip;		/* KVM_CREATE_IRQCHIP done (irq.c) */
	bool kernel_pit;		/* KVM_CREATE_PIT2 done */
	bool stdin_virtio;		/* stdin feeds hvc0, not COM1 (virtio.c) */
	uint32_t irq_levels;		/* kernel irqchip: lines we hold high */
	bool irq_error;			/* a KVM_IRQ_LINE failed (said once) */
	uint32_t cpu_signature;		/* CPUID 1 EAX and EDX of the vCPUs, */
	uint32_t cpu_features;		/* for the MP table */

	struct vcpu vcpu[MAX_VCPUS];
	int nr_vcpus;

	pthread_mutex_t lock;		/* all device state */
	pthread_cond_t wake;		/* a halted vCPU waits here */
	struct io_bus pio, mmio;

	struct serial com1;
	struct pic pic;
	struct pit pit;
	struct rtc rtc;
	struct kbd kbd;
	struct pci pci;
	struct misc misc;
	struct virtio_slot virtio[MAX_VIRTIO];
	int nr_virtio;

	int timer_fd;			/* PIT channel 0 */
	int stop_fd;			/* eventfd: wakes the event loop to stop */
	int dump_fd;			/* eventfd: SIGUSR2 asks for a state dump */
	atomic_bool stopping;
	/*
	 * The monitor's "stop" (monitor.c): vCPU threads park in vcpu.c, outside
	 * KVM_RUN, while paused is set; parked counts them (pause_lock).
	 */
	atomic_bool paused;
	int parked;
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	struct kvm_clock_data paused_clock;	/* KVM_GET_CLOCK at the pause */
	bool paused_clock_ok;
	bool migrated;			/* the guest runs elsewhere now (migrate.c) */
	int exit_code;
	char exit_reason[160];
	pthread_mutex_t stop_lock;
};

#define pr_err(fmt, ...) fprintf(stderr, "minikvm-run: " fmt "\n", ##__VA_ARGS__)

/* vm.c */
int vm__init(struct vm *vm, const struct config *cfg);
void *vm__gpa(struct vm *vm, uint64_t gpa, uint64_t len);
void vm__kick(struct vm *vm);
void vm__stop(struct vm *vm, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vm__pause(struct vm *vm);
void vm__resume(struct vm *vm);

/* monitor.c */
int monitor__start(struct vm *vm, const char *path);
void monitor__stop(struct vm *vm);

/* snapshot.c */
int snapshot__save(struct vm *vm, const char *path, char *why, size_t why_len);
int snapshot__load(struct vm *vm, const char *path, char *why, size_t why_len,
		   bool *touched);
const char *snapshot__unsupported(struct vm *vm);
int snapshot__write_state(struct vm *vm, FILE *f);
int snapshot__read_state(struct vm *vm, FILE *f, const char *name, char *why,
			 size_t why_len, bool *touched);

/* migrate.c */
int migrate__parse_uri(const char *uri, char *host, size_t host_len,
		       char *port, size_t port_len);
int migrate__send(struct vm *vm, const char *uri, char *report, size_t report_len,
		  char *why, size_t why_len);
int migrate__load_stream(struct vm *vm, FILE *f, char *why, size_t why_len,
			 bool *touched, int *rounds, uint64_t *pages_in);
int migrate__receive(struct vm *vm, const char *uri, char *why, size_t why_len);

/* irq.c */
int irq__init(struct vm *vm, const struct config *cfg);
struct irq_line irq__line(struct vm *vm, int irq);
void irq__dump(struct vm *vm, FILE *f);

/* vcpu.c */
int vcpu__init(struct vm *vm, int id);
void *vcpu__thread(void *arg);
int vcpu__install_kick(void);

/* event.c */
void *event__thread(void *arg);
bool event__escape(struct vm *vm, uint8_t c, bool *seen_ctrl_a);
void event__dump(struct vm *vm);
uint64_t event__now_ns(void *opaque);
void event__arm_timer(void *opaque, uint64_t first_ns, uint64_t period_ns);

/* virtio/virtio.c */
int virtio__init(struct vm *vm, struct config *cfg);
int virtio__start(struct vm *vm);
void virtio__stop(struct vm *vm);

/* term.c */
void term__raw(void);
void term__restore(void);
bool term__is_tty(void);
void term__tx(void *opaque, uint8_t byte);

/* x86/ */
int cpu__init_vcpu(struct vcpu *v);
int cpu__set_mode(struct vcpu *v, enum cpu_mode mode, uint64_t rip,
		  uint64_t rsp, uint64_t rsi);
int boot__load_kernel(struct vm *vm, const struct config *cfg);
int boot__load_image(struct vm *vm, const struct config *cfg);

#endif /* RUNNER_RUNNER_H */
