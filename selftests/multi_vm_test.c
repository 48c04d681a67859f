// SPDX-License-Identifier: GPL-2.0-only
/*
 * multi_vm_test: several VMs and vCPUs running at the same time.
 *
 * Two VMs with two vCPUs each, every vCPU in its own thread, all running a guest that
 * does a long series of I/O exits (an OUT the host checks, an IN the host answers).
 * The VMs are independent and the vCPUs of one VM share its memory; nothing of one
 * may leak into another: every exit carries the data its own guest produced, and
 * every guest ends with the sum of the answers its own host thread gave it.
 *
 * Each vCPU gets a tag (VM * 16 + vCPU) in RDI and a private data address in RBX, so
 * the two vCPUs of a VM run the same code on the same memory without sharing state.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define NR_VMS		2
#define VCPUS_PER_VM	2
#define ITERATIONS	300
#define PORT_OUT	0x80
#define PORT_IN		0x81

/*
 * for (i = 0; i < R9; i++) {
 *	out(PORT_OUT, tag << 16 | i);
 *	sum += in(PORT_IN);
 *	*RBX = sum;
 * }
 * DONE with arg0 = tag, arg1 = sum
 */
GUEST_ASM(worker_guest, 64,
	"xor %r10d, %r10d\n\t"			/* i */
	"xor %r8d, %r8d\n\t"			/* sum */
	"1: mov %edi, %eax\n\t"
	"shl $16, %eax\n\t"
	"or %r10d, %eax\n\t"
	"out %eax, $" GSTR(PORT_OUT) "\n\t"
	"in $" GSTR(PORT_IN) ", %eax\n\t"
	"add %rax, %r8\n\t"
	"mov %r8, (%rbx)\n\t"
	"inc %r10d\n\t"
	"cmp %r9d, %r10d\n\t"
	"jb 1b\n\t"
	"mov %r8, %rsi\n\t"
	GUEST_DONE);

struct worker {
	struct vcpu *vcpu;
	uint32_t tag;
	uint64_t data_gpa;
	uint64_t expected_sum;
	int exits;
	char error[160];	/* empty if all went well */
};

static uint32_t answer(uint32_t tag, uint32_t i)
{
	return tag * 100000 + i * 3;
}

/* The vCPU thread: run the guest, check each OUT, answer each IN. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct kvm_run *run = w->vcpu->run;
	uint32_t i = 0, data;
	struct ucall uc;

	for (;;) {
		if (__vcpu_run(w->vcpu)) {
			snprintf(w->error, sizeof(w->error), "KVM_RUN: %s", strerror(errno));
			return NULL;
		}
		w->exits++;
		if (vcpu_get_ucall(w->vcpu, &uc) == UCALL_DONE)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.size != 4 ||
		    run->io.count != 1) {
			snprintf(w->error, sizeof(w->error), "unexpected exit %s",
				 exit_reason_str(run->exit_reason));
			return NULL;
		}
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_OUT) {
			memcpy(&data, vcpu_io_data(w->vcpu), 4);
			if (data != (w->tag << 16 | i)) {
				snprintf(w->error, sizeof(w->error),
					 "iteration %u: OUT %#x, expected %#x", i, data,
					 w->tag << 16 | i);
				return NULL;
			}
		} else if (run->io.direction == KVM_EXIT_IO_IN && run->io.port == PORT_IN) {
			data = answer(w->tag, i);
			memcpy(vcpu_io_data(w->vcpu), &data, 4);
			w->expected_sum += data;
			i++;
		} else {
			snprintf(w->error, sizeof(w->error), "I/O to port %#x", run->io.port);
			return NULL;
		}
	}
	if (i != ITERATIONS)
		snprintf(w->error, sizeof(w->error), "DONE after %u iterations", i);
	else if (uc.args[0] != w->tag || uc.args[1] != w->expected_sum)
		snprintf(w->error, sizeof(w->error), "DONE tag %#llx sum %llu, expected %llu",
			 (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
			 (unsigned long long)w->expected_sum);
	return NULL;
}

TEST(two_vms_two_vcpus)
{
	struct worker workers[NR_VMS * VCPUS_PER_VM];
	pthread_t threads[NR_VMS * VCPUS_PER_VM];
	struct vm *vms[NR_VMS];
	int v, c, n;

	TEST_REQUIRE_KVM();
	memset(workers, 0, sizeof(workers));
	for (v = 0; v < NR_VMS; v++) {
		struct vcpu *first = vm_create_guest(MODE_LONG64, GUEST_CODE(worker_guest));

		vms[v] = first->vm;
		for (c = 0; c < VCPUS_PER_VM; c++) {
			struct worker *w = &workers[v * VCPUS_PER_VM + c];
			struct kvm_regs regs;

			w->vcpu = c ? vcpu_add(vms[v], c) : first;
			w->tag = v * 16 + c;
			w->data_gpa = GUEST_DATA_GPA + c * 64;
			/* Each vCPU: its own tag, data address and stack. */
			vcpu_init_mode(w->vcpu, MODE_LONG64, GUEST_CODE_GPA);
			vcpu_get_regs(w->vcpu, &regs);
			regs.rdi = w->tag;
			regs.rbx = w->data_gpa;
			regs.r9 = ITERATIONS;
			regs.rsp = GUEST_STACK_TOP - c * 0x1000;
			vcpu_set_regs(w->vcpu, &regs);
		}
	}

	for (n = 0; n < NR_VMS * VCPUS_PER_VM; n++)
		ASSERT_EQ(0, pthread_create(&threads[n], NULL, worker_run, &workers[n]));
	for (n = 0; n < NR_VMS * VCPUS_PER_VM; n++)
		ASSERT_EQ(0, pthread_join(threads[n], NULL));

	for (n = 0; n < NR_VMS * VCPUS_PER_VM; n++) {
		struct worker *w = &workers[n];
		uint64_t *sum = gpa_to_hva(w->vcpu->vm, w->data_gpa);

		EXPECT_STREQ("", w->error) TH_LOG("VM %d vCPU %d", n / VCPUS_PER_VM,
						  n % VCPUS_PER_VM);
		EXPECT_EQ(w->expected_sum, *sum);
		TH_LOG("tag %#x: %d exits", w->tag, w->exits);
	}
	for (v = 0; v < NR_VMS; v++)
		vm_free(vms[v]);
}

TEST_HARNESS_MAIN
