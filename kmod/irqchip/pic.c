// SPDX-License-Identifier: GPL-2.0-only
/* minikvm: two 8259A PICs. PLACEHOLDER until the model lands: no PIC. */
#include "minikvm.h"

int mkvm_pic_create(struct mkvm *vm) { return 0; }
void mkvm_pic_destroy(struct mkvm *vm) { }
int mkvm_pic_set_irq(struct mkvm *vm, int pin, int src, int level) { return -1; }
bool mkvm_pic_has_interrupt(struct mkvm *vm) { return false; }
int mkvm_pic_read_irq(struct mkvm *vm) { return -1; }
void mkvm_pic_get_state(struct mkvm *vm, int chip, struct kvm_pic_state *s) { memset(s, 0, sizeof(*s)); }
void mkvm_pic_set_state(struct mkvm *vm, int chip, const struct kvm_pic_state *s) { }
