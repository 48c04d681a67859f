// SPDX-License-Identifier: GPL-2.0-only
/*
 * event.c: the event loop thread. It waits (poll) on four things:
 *
 *   the PIT timerfd    channel 0 expired: a rising edge on IRQ 0 (only
 *                      while the PIT is ours: without KVM_CREATE_PIT2)
 *   stdin              keyboard input for COM1 (Ctrl-A x quits), unless
 *                      --virtio-console gave it to hvc0 (virtio/console.c)
 *   stop_fd            the machine is stopping
 *   dump_fd            SIGUSR2 arrived: print the machine's state (event__dump)
 *
 * Everything it does to a device happens under vm->lock; an interrupt then
 * reaches our PIC, whose notify callback kicks the vCPU (vm__kick()), or
 * KVM's, through KVM_IRQ_LINE (irq.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#define CTRL_A		0x01
/* A timer storm would starve the guest; no PIT period below this. */
#define MIN_PERIOD_NS	50000

uint64_t event__now_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The PIT asks for a host timer (absolute CLOCK_MONOTONIC ns, 0 = off). */
void event__arm_timer(void *opaque, uint64_t first_ns, uint64_t period_ns)
{
	struct vm *vm = opaque;
	struct itimerspec its = { 0 };

	if (period_ns && period_ns < MIN_PERIOD_NS)
		period_ns = MIN_PERIOD_NS;
	if (first_ns) {
		its.it_value.tv_sec = first_ns / 1000000000;
		its.it_value.tv_nsec = first_ns % 1000000000;
		its.it_interval.tv_sec = period_ns / 1000000000;
		its.it_interval.tv_nsec = period_ns % 1000000000;
	}
	timerfd_settime(vm->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void event__timer(struct vm *vm)
{
	uint64_t expirations;

	/* Several periods may have passed; the guest gets one tick, like a
	 * real PIC that cannot queue edges. Linux keeps time with the TSC. */
	if (read(vm->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	pthread_mutex_lock(&vm->lock);
	pit__timer_expired(&vm->pit);
	pthread_mutex_unlock(&vm->lock);
}

/*
 * Host keyboard -> COM1. On a terminal, Ctrl-A is the escape key as in
 * QEMU: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A.
 */
bool event__escape(struct vm *vm, uint8_t c, bool *seen_ctrl_a)
{
	if (*seen_ctrl_a) {
		*seen_ctrl_a = false;
		if (c == 'x' || c == 'X') {
			vm__stop(vm, EXIT_GUEST_DONE, "terminated by Ctrl-A x");
			return true;
		}
		return c != CTRL_A;	/* Ctrl-A Ctrl-A: pass one through */
	}
	if (c == CTRL_A && term__is_tty()) {
		*seen_ctrl_a = true;
		return true;
	}
	return false;
}

/* Returns false at end of input. */
static bool event__stdin(struct vm *vm, bool *seen_ctrl_a)
{
	uint8_t buf[64], out[64];
	unsigned int room, n = 0;
	ssize_t len;

	pthread_mutex_lock(&vm->lock);
	room = serial__rx_room(&vm->com1);
	pthread_mutex_unlock(&vm->lock);
	if (room > sizeof(buf))
		room = sizeof(buf);
	len = read(STDIN_FILENO, buf, room);
	if (len <= 0)
		return len < 0 && (errno == EINTR || errno == EAGAIN);
	for (ssize_t i = 0; i < len; i++)
		if (!event__escape(vm, buf[i], seen_ctrl_a))
			out[n++] = buf[i];
	pthread_mutex_lock(&vm->lock);
	serial__receive(&vm->com1, out, n);
	pthread_mutex_unlock(&vm->lock);
	return true;
}

static const char *const exit_names[] = {
	[KVM_EXIT_IO] = "io", [KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window", [KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
};

/*
 * What `kill -USR2 <pid>` prints on stderr: each vCPU's view of the
 * interrupt handshake and its exits so far, then the interrupt path's
 * devices (the PICs, ours or KVM's, and the UART), under vm->lock so the
 * picture is consistent. The teaching use: watch IRR -> ISR -> EOI move;
 * the debugging use: find where an interrupt stopped.
 */
void event__dump(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		struct kvm_run *run = v->run;

		fprintf(stderr, "\r\nminikvm-run: vCPU %d: %s KVM_RUN, last exit %u, if_flag %u, "
			"ready_for_interrupt_injection %u, request_interrupt_window %u\r\n",
			i, atomic_load(&v->in_run) ? "in" : "out of", run->exit_reason,
			run->if_flag, run->ready_for_interrupt_injection,
			run->request_interrupt_window);
		fprintf(stderr, "  exits:");
		for (size_t r = 0; r < sizeof(v->exits) / sizeof(v->exits[0]); r++)
			if (atomic_load(&v->exits[r]))
				fprintf(stderr, " %s=%lu",
					r < sizeof(exit_names) / sizeof(exit_names[0]) &&
					exit_names[r] ? exit_names[r] : "other",
					atomic_load(&v->exits[r]));
		fprintf(stderr, " eintr=%lu; injected %lu, last vector 0x%x\r\n",
			atomic_load(&v->eintr), atomic_load(&v->injected),
			atomic_load(&v->last_vector));
	}
	irq__dump(vm, stderr);
	serial__dump(&vm->com1, stderr);
	pthread_mutex_unlock(&vm->lock);
	/* Registers belong to the vCPU thread: it prints them when kicked out. */
	for (int i = 0; i < vm->nr_vcpus; i++)
		atomic_store(&vm->vcpu[i].want_regs, true);
	vm__kick(vm);
}

void *event__thread(void *arg)
{
	struct vm *vm = arg;
	bool stdin_open = !vm->stdin_virtio, seen_ctrl_a = false;
	struct pollfd fds[4];
	uint64_t n;
	unsigned int room;

	while (!atomic_load(&vm->stopping)) {
		pthread_mutex_lock(&vm->lock);
		room = serial__rx_room(&vm->com1);
		pthread_mutex_unlock(&vm->lock);

		fds[0] = (struct pollfd){ .fd = vm->stop_fd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = vm->timer_fd, .events = POLLIN };
		/* A full receive buffer leaves stdin unread until the guest drains it. */
		fds[2] = (struct pollfd){ .fd = stdin_open && room ? STDIN_FILENO : -1,
					  .events = POLLIN };
		fds[3] = (struct pollfd){ .fd = vm->dump_fd, .events = POLLIN };
		if (poll(fds, 4, room ? -1 : 10) < 0 && errno != EINTR)
			break;
		if ((fds[3].revents & POLLIN) && read(vm->dump_fd, &n, sizeof(n)) == sizeof(n))
			event__dump(vm);
		if (fds[1].revents & POLLIN)
			event__timer(vm);
		if (fds[2].revents & (POLLIN | POLLHUP))
			stdin_open = event__stdin(vm, &seen_ctrl_a);
		else if (fds[2].revents & (POLLERR | POLLNVAL))
			stdin_open = false;
	}
	return NULL;
}
