// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqfd_test: interrupts raised by signalling an eventfd (KVM_IRQFD,
 * api.rst 4.75).
 *
 * With the in-kernel irqchip, KVM_IRQFD ties an eventfd to a GSI: any
 * thread (or another process, or a kernel driver) that writes the eventfd
 * raises the GSI, with no help from the vCPU thread. An edge GSI gets a
 * pulse. With KVM_IRQFD_FLAG_RESAMPLE the GSI is level-triggered: the
 * write raises the line and leaves it high; the guest's EOI lowers it and
 * signals the resamplefd, so the VMM can raise it again if its device
 * still wants service.
 *
 * - the ioctl's errors and teardown orders (the eventfd closed first, the
 *   VM closed first, and a thread writing the eventfd all along);
 * - with a vCPU: a guest that programs the PIC and halts, and a second
 *   thread that writes the eventfd, one interrupt at a time, edge
 *   (IRQ 5) and level with a resampler (IRQ 5 made level in the ELCR).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define IRQFD_GSI	5
#define NR_IRQS		10

#define EXPECT_ERRNO(err, call) do {						\
	EXPECT_EQ(-1, (call));							\
	EXPECT_EQ(err, errno);							\
} while (0)

static int irqfd(int vm_fd, int efd, uint32_t gsi, uint32_t flags,
		 int resamplefd)
{
	struct kvm_irqfd args = {
		.fd = efd, .gsi = gsi, .flags = flags, .resamplefd = resamplefd,
	};

	return ioctl(vm_fd, KVM_IRQFD, &args);
}

/* A VM with the in-kernel irqchip, or NULL if this host has none yet. */
static struct vm *vm_create_irqchip(void)
{
	struct vm *vm = vm_create();

	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0)) {
		vm_free(vm);
		return NULL;
	}
	return vm;
}

/* Is KVM_IRQFD there at all? (minikvm before it had one: ENOTTY) */
static bool have_irqfd(void)
{
	struct vm *vm = vm_create();
	int efd = eventfd(0, 0);
	bool r = irqfd(vm->fd, efd, 0, KVM_IRQFD_FLAG_DEASSIGN, -1) == 0;

	close(efd);
	vm_free(vm);
	return r;
}

#define TEST_REQUIRE_IRQFD() do {						\
	TEST_REQUIRE_KVM();							\
	if (!have_irqfd())							\
		SKIP(return, "no KVM_IRQFD");					\
} while (0)

TEST(errors)
{
	int efd, efd2, rfd, null_fd;
	struct vm *vm;

	TEST_REQUIRE_IRQFD();
	efd = eventfd(0, 0);
	efd2 = eventfd(0, 0);
	rfd = eventfd(0, 0);
	null_fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null_fd);

	/*
	 * Before KVM_CREATE_IRQCHIP there is nothing to raise: EINVAL (KVM
	 * 6.1; later KVMs answer EAGAIN).
	 */
	vm = vm_create();
	EXPECT_EQ(-1, irqfd(vm->fd, efd, IRQFD_GSI, 0, -1));
	EXPECT_TRUE(errno == EINVAL || errno == EAGAIN);
	vm_free(vm);

	vm = vm_create_irqchip();
	ASSERT_NE(NULL, vm);
	EXPECT_ERRNO(EINVAL, irqfd(vm->fd, efd, IRQFD_GSI, 1u << 2, -1));
	EXPECT_ERRNO(EBADF, irqfd(vm->fd, -1, IRQFD_GSI, 0, -1));
	EXPECT_ERRNO(EINVAL, irqfd(vm->fd, null_fd, IRQFD_GSI, 0, -1));
	EXPECT_ERRNO(EBADF, irqfd(vm->fd, efd, IRQFD_GSI,
				  KVM_IRQFD_FLAG_RESAMPLE, -1));
	EXPECT_ERRNO(EBADF, irqfd(vm->fd, -1, IRQFD_GSI,
				  KVM_IRQFD_FLAG_DEASSIGN, -1));

	/* One GSI per eventfd; one eventfd may not serve two. */
	ASSERT_EQ(0, irqfd(vm->fd, efd, IRQFD_GSI, 0, -1));
	EXPECT_ERRNO(EBUSY, irqfd(vm->fd, efd, IRQFD_GSI + 1, 0, -1));
	EXPECT_EQ(0, irqfd(vm->fd, efd2, IRQFD_GSI, 0, -1));
	/* Deassign: (fd, gsi) that is not there is no error. */
	EXPECT_EQ(0, irqfd(vm->fd, efd, IRQFD_GSI + 1,
			   KVM_IRQFD_FLAG_DEASSIGN, -1));
	EXPECT_EQ(0, irqfd(vm->fd, efd, IRQFD_GSI, KVM_IRQFD_FLAG_DEASSIGN, -1));
	EXPECT_EQ(0, irqfd(vm->fd, efd, IRQFD_GSI + 1, 0, -1));
	/* A resampler, and a second irqfd on its GSI sharing it. */
	EXPECT_EQ(0, irqfd(vm->fd, rfd, 10, KVM_IRQFD_FLAG_RESAMPLE, efd2));
	{
		int efd3 = eventfd(0, 0);

		EXPECT_EQ(0, irqfd(vm->fd, efd3, 10, KVM_IRQFD_FLAG_RESAMPLE,
				   efd2));
		close(efd3);	/* EPOLLHUP ends that irqfd */
	}
	vm_free(vm);	/* with irqfds still assigned */
	close(null_fd);
	close(rfd);
	close(efd2);
	close(efd);
}

/*
 * A thread signals the eventfd without pause while the main thread
 * assigns, deassigns, closes the eventfd and finally the VM: nothing may
 * run on freed memory (the rig's kernel log would show it).
 */
struct hammer {
	int efd;
	volatile bool stop;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	uint64_t one = 1;

	while (!h->stop)
		if (write(h->efd, &one, sizeof(one)) < 0)
			usleep(10);
	return NULL;
}

TEST(teardown_while_signalled)
{
	struct hammer h = { 0 };
	pthread_t t;
	struct vm *vm;
	int i, rfd;

	TEST_REQUIRE_IRQFD();
	for (i = 0; i < 4; i++) {
		vm = vm_create_irqchip();
		ASSERT_NE(NULL, vm);
		h.efd = eventfd(0, EFD_NONBLOCK);
		rfd = eventfd(0, EFD_NONBLOCK);
		h.stop = false;
		ASSERT_EQ(0, pthread_create(&t, NULL, hammer_fn, &h));
		ASSERT_EQ(0, irqfd(vm->fd, h.efd, IRQFD_GSI,
				   i & 1 ? KVM_IRQFD_FLAG_RESAMPLE : 0, rfd));
		usleep(1000);
		EXPECT_EQ(0, irqfd(vm->fd, h.efd, IRQFD_GSI,
				   KVM_IRQFD_FLAG_DEASSIGN, -1));
		ASSERT_EQ(0, irqfd(vm->fd, h.efd, IRQFD_GSI,
				   i & 1 ? KVM_IRQFD_FLAG_RESAMPLE : 0, rfd));
		usleep(1000);
		if (i & 2) {
			vm_free(vm);	/* the VM first, then the eventfd */
			h.stop = true;
			pthread_join(t, NULL);
			close(h.efd);
		} else {
			h.stop = true;
			pthread_join(t, NULL);
			close(h.efd);	/* the eventfd first: EPOLLHUP */
			usleep(1000);
			vm_free(vm);
		}
		close(rfd);
	}
}

/* ------------------------------------------------------------------ */
/* Interrupts to a guest                                               */
/* ------------------------------------------------------------------ */

/*
 * The PICs at vectors 0x20-0x2f, only IRQ 5 unmasked; with RBX = 1, IRQ 5
 * level-triggered (ELCR, port 0x4d0). After a SYNC, the guest halts until
 * its handler counted NR_IRQS interrupts; the handler EOIs each.
 */
GUEST_ASM(irqfd_guest, 64,
	"mov $0x11, %al\n\t out %al, $0x20\n\t"
	"mov $0x20, %al\n\t out %al, $0x21\n\t"
	"mov $0x04, %al\n\t out %al, $0x21\n\t"
	"mov $0x01, %al\n\t out %al, $0x21\n\t"
	"mov $0x11, %al\n\t out %al, $0xa0\n\t"
	"mov $0x28, %al\n\t out %al, $0xa1\n\t"
	"mov $0x02, %al\n\t out %al, $0xa1\n\t"
	"mov $0x01, %al\n\t out %al, $0xa1\n\t"
	"mov $0xff, %al\n\t out %al, $0xa1\n\t"
	"mov $0xdf, %al\n\t out %al, $0x21\n\t"	/* IRQ 5 only */
	"test %ebx, %ebx\n\t"
	"jz 1f\n\t"
	"mov $0x20, %al\n\t"			/* ELCR1: IRQ 5 level */
	"mov $0x4d0, %dx\n\t"
	"out %al, %dx\n"
	"1:\n\t"
	GUEST_SYNC
	"sti\n"
	"2: hlt\n\t"
	"cmpq $" GSTR(NR_IRQS) ", " GSTR(GUEST_DATA_GPA) "\n\t"
	"jb 2b\n\t"
	"cli\n\t"
	GUEST_DONE
	"irqfd_handler:\n\t"
	"push %rax\n\t"
	"incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"mov $0x20, %al\n\t"
	"out %al, $0x20\n\t"
	"pop %rax\n\t"
	"iretq\n\t");
extern const uint8_t irqfd_handler[];

/* The second thread: one eventfd write per interrupt, each awaited. */
struct writer {
	int efd, rfd;		/* rfd: the resamplefd, or -1 */
	volatile uint64_t *count;
	int delivered;		/* interrupts the guest counted in time */
	int resampled;		/* resamplefd signals seen, one per EOI */
	uint64_t after;		/* the guest's count 50 ms after the last */
};

static bool wait_count(volatile uint64_t *count, uint64_t n)
{
	int i;

	for (i = 0; i < 5000 && *count < n; i++)
		usleep(1000);
	return *count >= n;
}

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	struct pollfd p = { .fd = w->rfd, .events = POLLIN };
	uint64_t one = 1, n;
	int i;

	for (i = 1; i <= NR_IRQS; i++) {
		if (write(w->efd, &one, sizeof(one)) != sizeof(one))
			break;
		if (!wait_count(w->count, i))
			break;
		w->delivered = i;
		if (w->rfd < 0)
			continue;
		if (poll(&p, 1, 5000) != 1 ||
		    read(w->rfd, &n, sizeof(n)) != sizeof(n) || n != 1)
			break;
		w->resampled = i;
	}
	usleep(50000);
	w->after = *w->count;
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

FIXTURE(deliver) {
	struct vcpu *vcpu;
};

FIXTURE_VARIANT(deliver) {
	bool resample;
};

FIXTURE_VARIANT_ADD(deliver, edge) { .resample = false };
FIXTURE_VARIANT_ADD(deliver, level_resample) { .resample = true };

FIXTURE_SETUP(deliver)
{
	struct kvm_regs regs;
	struct vm *vm;

	self->vcpu = NULL;
	TEST_REQUIRE_IRQFD();
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	/* minikvm reports the irqfd capabilities once its irqchip is whole. */
	if (variant->resample && !kvm_is_minikvm())
		TEST_REQUIRE_CAP(KVM_CAP_IRQFD_RESAMPLE);
	vm = vm_create();
	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	vm_load_code(vm, GUEST_CODE(irqfd_guest));
	vm_set_idt_gate(vm, MODE_LONG64, 0x20 + IRQFD_GSI,
			guest_code_gpa(vm, irqfd_handler));
	ASSERT_EQ(0, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	self->vcpu = vcpu_add(vm, 0);
	vcpu_init_mode(self->vcpu, MODE_LONG64, GUEST_CODE_GPA);
	vcpu_get_regs(self->vcpu, &regs);
	regs.rbx = variant->resample;
	vcpu_set_regs(self->vcpu, &regs);
}

FIXTURE_TEARDOWN(deliver)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

TEST_F(deliver, from_another_thread)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_sec = 20 } }, off = { 0 };
	struct vcpu *vcpu = self->vcpu;
	struct writer w = { .rfd = -1 };
	struct ucall uc;
	pthread_t t;
	int r;

	if (!vcpu)
		return;
	w.count = gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
	w.efd = eventfd(0, 0);
	ASSERT_LE(0, w.efd);
	if (variant->resample) {
		w.rfd = eventfd(0, EFD_NONBLOCK);
		ASSERT_EQ(0, irqfd(vcpu->vm->fd, w.efd, IRQFD_GSI,
				   KVM_IRQFD_FLAG_RESAMPLE, w.rfd));
	} else {
		ASSERT_EQ(0, irqfd(vcpu->vm->fd, w.efd, IRQFD_GSI, 0, -1));
	}
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));

	ASSERT_EQ(0, pthread_create(&t, NULL, writer_fn, &w));
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	r = __vcpu_run(vcpu);
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(t, NULL);

	EXPECT_EQ(0, r) {
		TH_LOG("KVM_RUN: %s after %d interrupts", strerror(errno),
		       w.delivered);
	}
	if (!r)
		EXPECT_EQ(UCALL_DONE, vcpu_get_ucall(vcpu, &uc));
	EXPECT_EQ(NR_IRQS, w.delivered);
	if (variant->resample)
		EXPECT_EQ(NR_IRQS, w.resampled);
	/* Once each: the line did not stay up after the EOI. */
	EXPECT_EQ(NR_IRQS, w.after);

	EXPECT_EQ(0, irqfd(vcpu->vm->fd, w.efd, IRQFD_GSI,
			   KVM_IRQFD_FLAG_DEASSIGN, -1));
	close(w.efd);
	if (w.rfd >= 0)
		close(w.rfd);
}

TEST_HARNESS_MAIN
