// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu.c: one thread per virtual CPU, running the guest with KVM_RUN and
 * handling what comes back.
 *
 * The loop, on one screen (vcpu__thread):
 *
 *   for (;;) {
 *       --irqchip=user: inject a PIC interrupt if the guest can take one,
 *       else ask KVM to exit as soon as it can (request_interrupt_window)
 *       ioctl(KVM_RUN)
 *       look run->exit_reason up in exit_handlers[] and call it
 *   }
 *
 * With --irqchip=kernel the first step is KVM's: its LAPICs, IOAPIC and PIC
 * inject, a HLT sleeps in the kernel until an interrupt, and an AP's first
 * KVM_RUN sleeps until the BSP's SIPI. What comes back to this loop is port
 * I/O and MMIO of our devices, shutdown, and the kicks below.
 *
 * Interrupts with a userspace irqchip (Documentation/virt/kvm/api.rst,
 * KVM_INTERRUPT and struct kvm_run): KVM reports in run->if_flag and
 * run->ready_for_interrupt_injection whether the guest could take an
 * external interrupt at the last exit. If so, the VMM runs the PIC's INTA
 * cycle and passes the vector with KVM_INTERRUPT; KVM delivers it on the
 * next entry. If not (IF=0, or in an interrupt shadow), the VMM sets
 * run->request_interrupt_window and KVM exits with KVM_EXIT_IRQ_WINDOW_OPEN
 * the moment the guest can.
 *
 * Getting a vCPU's attention: an interrupt raised by the event thread while
 * the vCPU is inside KVM_RUN must pull it out. vm__kick() sends SIGUSR1 to
 * the thread; the handler sets run->immediate_exit, so even a signal that
 * lands just before the ioctl makes KVM_RUN return -EINTR at once instead
 * of entering the guest with the interrupt left behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "runner.h"

static __thread struct kvm_run *kick_run;

static void vcpu__kick_handler(int sig)
{
	(void)sig;
	if (kick_run)
		kick_run->immediate_exit = 1;
}

/* SIGUSR1 without SA_RESTART, so it interrupts KVM_RUN. */
int vcpu__install_kick(void)
{
	struct sigaction sa = { .sa_handler = vcpu__kick_handler };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

int vcpu__init(struct vm *vm, int id)
{
	struct vcpu *v = &vm->vcpu[id];

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		pr_err("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		pr_err("mmap of vCPU %d's kvm_run: %s", id, strerror(errno));
		return -errno;
	}
	vm->nr_vcpus = id + 1;
	/*
	 * With the in-kernel LAPICs an AP is a CPU after power-on: it waits for
	 * INIT and SIPI from the BSP (SDM Vol.3 8.4.3, the "INIT-SIPI-SIPI"
	 * sequence Linux's smpboot sends). KVM creates APs in that state
	 * already; saying so keeps the machine's definition in one place. Its
	 * KVM_RUN sleeps in the kernel until the SIPI (kvm.ko then returns
	 * EAGAIN once: the loop retries).
	 */
	if (vm->kernel_irqchip && id != 0) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_UNINITIALIZED };

		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
			pr_err("KVM_SET_MP_STATE of vCPU %d: %s", id, strerror(errno));
			return -errno;
		}
	}
	return cpu__init_vcpu(v);
}

/* ---------------------------------------------------------------- helpers */

/*
 * Guest virtual -> guest physical for a 4-level long-mode table (SDM Vol.3
 * 4.5), 2 MiB and 1 GiB pages included; ~0 if not mapped. Only for the dump.
 */
static uint64_t vcpu__gva_to_gpa(struct vm *vm, uint64_t cr3, uint64_t gva)
{
	uint64_t table = cr3 & 0x000ffffffffff000ull;

	for (int level = 4; level >= 1; level--) {
		uint64_t *e = vm__gpa(vm, table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, 8);
		uint64_t mask = (1ull << (12 + 9 * (level - 1))) - 1;

		if (!e || !(*e & 1))
			return ~0ull;
		if (level == 1 || ((*e & 0x80) && level <= 3))
			return (*e & 0x000ffffffffff000ull & ~mask) | (gva & mask);
		table = *e & 0x000ffffffffff000ull;
	}
	return ~0ull;
}

/* The guest's stack, 64 words from RSP (kernel text addresses mark frames). */
static void vcpu__dump_stack(struct vcpu *v, uint64_t cr3, uint64_t rsp)
{
	for (int i = 0; i < 64; i++) {
		uint64_t gpa = vcpu__gva_to_gpa(v->vm, cr3, rsp + i * 8);
		uint64_t *w = gpa == ~0ull ? NULL : vm__gpa(v->vm, gpa, 8);

		if (i % 4 == 0)
			fprintf(stderr, "%s  stack+%03x:", i ? "\n" : "", i * 8);
		if (w)
			fprintf(stderr, " %016llx", (unsigned long long)*w);
		else
			fprintf(stderr, " ????????????????");
	}
	fprintf(stderr, "\n");
}

static void vcpu__dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return;
	fprintf(stderr,
		"  rip %016llx rsp %016llx rflags %08llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx\n"
		"  cs %04x (base %llx) cr0 %llx cr3 %llx cr4 %llx efer %llx\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		r.rbp, s.cs.selector, s.cs.base, s.cr0, s.cr3, s.cr4, s.efer);
	if (s.efer & 0x400)	/* LMA */
		vcpu__dump_stack(v, s.cr3, r.rsp);
}

static uint64_t vcpu__rip(struct vcpu *v)
{
	struct kvm_regs r;

	return ioctl(v->fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

/* --------------------------------------------------------- exit handlers */

/*
 * Handler contract: return 0 to run the guest again, 1 when the machine
 * stops (after vm__stop() said why).
 */

/* IN/OUT, possibly REP INS/OUTS: count items of size bytes, packed in the page. */
static int vcpu__exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	pthread_mutex_lock(&v->vm->lock);
	for (uint32_t i = 0; i < run->io.count; i++)
		io_bus__access(&v->vm->pio, run->io.port, run->io.size, out,
			       data + i * run->io.size);
	pthread_mutex_unlock(&v->vm->lock);
	return 0;
}

static int vcpu__exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	pthread_mutex_lock(&v->vm->lock);
	io_bus__access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.len,
		       run->mmio.is_write, run->mmio.data);
	pthread_mutex_unlock(&v->vm->lock);
	return 0;
}

/*
 * HLT: without an in-kernel irqchip KVM cannot know when an interrupt will
 * come, so the halt is ours to implement: sleep until the PIC has one. HLT
 * with IF=0 can never be woken (no NMI source here): that is how Linux
 * without ACPI powers off ("System halted"), and how a raw guest says done.
 */
static int vcpu__exit_hlt(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct timespec ts;

	if (vm->halt_ends_run) {
		vm__stop(vm, EXIT_GUEST_DONE, "guest halted (HLT at rip 0x%llx)",
			 (unsigned long long)vcpu__rip(v) - 1);
		return 1;
	}
	if (!v->run->if_flag) {
		vm__stop(vm, EXIT_GUEST_DONE,
			 "guest halted with interrupts disabled (power off)");
		return 1;
	}
	pthread_mutex_lock(&vm->lock);
	while (!pic__has_interrupt(&vm->pic) && !atomic_load(&vm->stopping) &&
	       !atomic_load(&vm->paused)) {
		/* The timeout only guards against a missed wakeup. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&vm->wake, &vm->lock, &ts);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* Triple fault: the CPU shuts down, and a PC's chipset turns that into RESET. */
static int vcpu__exit_shutdown(struct vcpu *v)
{
	vm__stop(v->vm, EXIT_GUEST_DONE, "guest reset (triple fault)");
	return 1;
}

static int vcpu__exit_again(struct vcpu *v)
{
	(void)v;	/* KVM_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_INTR: loop and inject */
	return 0;
}

static int vcpu__exit_system_event(struct vcpu *v)
{
	bool reset = v->run->system_event.type == KVM_SYSTEM_EVENT_RESET;

	vm__stop(v->vm, EXIT_GUEST_DONE, "guest %s (KVM_EXIT_SYSTEM_EVENT)",
		 reset ? "reset" : "powered off");
	return 1;
}

static int vcpu__exit_fail_entry(struct vcpu *v)
{
	vm__stop(v->vm, EXIT_ERROR, "KVM_EXIT_FAIL_ENTRY: hardware entry failure 0x%llx",
		 (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
	vcpu__dump(v);
	return 1;
}

static int vcpu__exit_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	vm__stop(v->vm, EXIT_ERROR, "KVM_EXIT_INTERNAL_ERROR: suberror %u, data %llx %llx",
		 run->internal.suberror,
		 run->internal.ndata > 0 ? (unsigned long long)run->internal.data[0] : 0,
		 run->internal.ndata > 1 ? (unsigned long long)run->internal.data[1] : 0);
	vcpu__dump(v);
	return 1;
}

static int (*const exit_handlers[])(struct vcpu *v) = {
	[KVM_EXIT_IO]			= vcpu__exit_io,
	[KVM_EXIT_MMIO]			= vcpu__exit_mmio,
	[KVM_EXIT_HLT]			= vcpu__exit_hlt,
	[KVM_EXIT_SHUTDOWN]		= vcpu__exit_shutdown,
	[KVM_EXIT_IRQ_WINDOW_OPEN]	= vcpu__exit_again,
	[KVM_EXIT_INTR]			= vcpu__exit_again,
	[KVM_EXIT_SYSTEM_EVENT]		= vcpu__exit_system_event,
	[KVM_EXIT_FAIL_ENTRY]		= vcpu__exit_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR]	= vcpu__exit_internal_error,
};

static int vcpu__handle_exit(struct vcpu *v)
{
	uint32_t reason = v->run->exit_reason;

	if (reason < sizeof(v->exits) / sizeof(v->exits[0]))
		atomic_fetch_add(&v->exits[reason], 1);

	if (reason < sizeof(exit_handlers) / sizeof(exit_handlers[0]) &&
	    exit_handlers[reason])
		return exit_handlers[reason](v);
	vm__stop(v->vm, EXIT_ERROR, "unexpected exit reason %u", reason);
	vcpu__dump(v);
	return 1;
}

/* ------------------------------------------------------------ the loop */

/*
 * Before KVM_RUN with --irqchip=user: deliver the PIC's interrupt, or ask for
 * a window. (With the in-kernel irqchip KVM does this itself.)
 */
static int vcpu__inject_user(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	struct kvm_interrupt irq;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (v->id == 0 && pic__has_interrupt(&vm->pic) &&
	    run->ready_for_interrupt_injection && run->if_flag) {
		irq.irq = pic__ack(&vm->pic);
		if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
			ret = -errno;
		atomic_fetch_add(&v->injected, 1);
		atomic_store(&v->last_vector, irq.irq);
	}
	/* The PIC's INT pin goes to the boot CPU only (no APIC here). */
	run->request_interrupt_window = v->id == 0 && pic__has_interrupt(&vm->pic);
	/* Under the lock: an interrupt raised from here on will kick us. */
	atomic_store(&v->in_run, true);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * Enter the "in KVM_RUN" window (in_run set), unless the machine is
 * stopping or paused: 1 to run, 0 not to, a negative errno from KVM_INTERRUPT.
 *
 * The stopper (vm__stop(), the signal handler) sets vm->stopping and then
 * signals every vCPU whose in_run it sees; we set in_run and then look at
 * stopping. With sequentially consistent atomics one of the two sees the
 * other's store, so no vCPU can go to sleep in the kernel (HLT, or an AP
 * waiting for SIPI) after the last kick.
 */
static int vcpu__enter(struct vcpu *v)
{
	int ret = 0;

	if (v->vm->kernel_irqchip)
		atomic_store(&v->in_run, true);
	else
		ret = vcpu__inject_user(v);
	if (!ret && !atomic_load(&v->vm->stopping) && !atomic_load(&v->vm->paused))
		return 1;
	atomic_store(&v->in_run, false);
	return ret;
}

/*
 * The monitor paused the machine (vm__pause()): wait here, outside KVM_RUN,
 * until it resumes or the machine stops. A timed wait, because on_signal()
 * (main.c) may not take locks to wake us.
 */
static void vcpu__park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	/*
	 * Finish the instruction whose port or MMIO read this thread has just
	 * answered: KVM completes it at the next KVM_RUN, which immediate_exit
	 * ends before any guest code runs (api.rst). A snapshot taken while we
	 * are parked then holds the state after that instruction, as it must.
	 */
	for (int i = 0; i < 16; i++) {
		int ret;

		v->run->immediate_exit = 1;
		ret = ioctl(v->fd, KVM_RUN, 0);
		v->run->immediate_exit = 0;
		/*
		 * 0: finishing it made another exit (the second half of a split
		 * MMIO access, say): handle that too, then try again.
		 */
		if (ret || vcpu__handle_exit(v))
			break;
	}

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->paused) && !atomic_load(&vm->stopping)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &ts);
	}
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

void *vcpu__thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	int ret, err;

	kick_run = v->run;
	while (!atomic_load(&vm->stopping)) {
		if (atomic_load(&vm->paused)) {
			vcpu__park(v);
			continue;
		}
		ret = vcpu__enter(v);
		if (ret < 0)
			vm__stop(vm, ret == -ENOTTY ? EXIT_UNSUPPORTED : EXIT_ERROR,
				 "KVM_INTERRUPT: %s", strerror(-ret));
		if (ret < 0 || (ret == 0 && atomic_load(&vm->stopping)))
			break;
		if (ret == 0)
			continue;	/* paused: park */
		ret = ioctl(v->fd, KVM_RUN, 0);
		err = errno;
		atomic_store(&v->in_run, false);
		v->run->immediate_exit = 0;
		if (atomic_exchange(&v->want_regs, false))
			vcpu__dump(v);
		if (ret < 0) {
			/* EINTR: kicked, look at the PIC again. EAGAIN: kvm.ko's
			 * answer to an AP that was waiting for SIPI and got it. */
			if (err == EINTR || err == EAGAIN) {
				atomic_fetch_add(&v->eintr, 1);
				continue;
			}
			vm__stop(vm, err == ENOTTY ? EXIT_UNSUPPORTED : EXIT_ERROR,
				 "KVM_RUN: %s", strerror(err));
			vcpu__dump(v);
			break;
		}
		if (vcpu__handle_exit(v))
			break;
	}
	return NULL;
}
