// SPDX-License-Identifier: GPL-2.0-only
/* minikvm: the IOAPIC. PLACEHOLDER until the model lands: no IOAPIC. */
#include "minikvm.h"

int mkvm_ioapic_create(struct mkvm *vm) { return 0; }
void mkvm_ioapic_destroy(struct mkvm *vm) { }
int mkvm_ioapic_set_irq(struct mkvm *vm, int pin, int src, int level) { return -1; }
void mkvm_ioapic_eoi(struct mkvm *vm, int vector) { }
void mkvm_ioapic_get_state(struct mkvm *vm, struct kvm_ioapic_state *s) { memset(s, 0, sizeof(*s)); }
int mkvm_ioapic_set_state(struct mkvm *vm, const struct kvm_ioapic_state *s) { return 0; }
