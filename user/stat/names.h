/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef MKVM_STAT_NAMES_H
#define MKVM_STAT_NAMES_H

#include <stddef.h>

/* The "isa" field of kvm_exit (kvm.ko's KVM_ISA_VMX and KVM_ISA_SVM). */
#define ISA_VMX	1
#define ISA_SVM	2

/* Name of hardware exit @code for @isa; built in @buf when it has to be. */
const char *exit_name(unsigned int isa, unsigned int code, char *buf, size_t len);

/* Name of a KVM_EXIT_* reason; "ERROR" for a negative (failed KVM_RUN). */
const char *kvm_exit_name(int reason, char *buf, size_t len);

#endif
