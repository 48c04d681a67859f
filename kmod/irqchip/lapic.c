// SPDX-License-Identifier: GPL-2.0-only
/* minikvm: the local APIC. PLACEHOLDER until the model lands. */
#include "minikvm.h"

int mkvm_lapic_create(struct mkvm_vcpu *vcpu) { return -ENOMEM; }
void mkvm_lapic_free(struct mkvm_vcpu *vcpu) { }
void mkvm_lapic_reset(struct mkvm_vcpu *vcpu, bool init) { }
int mkvm_lapic_accept_irq(struct mkvm_vcpu *target, const struct mkvm_lapic_irq *irq) { return 0; }
bool mkvm_lapic_match_dest(struct mkvm_vcpu *target, struct mkvm_vcpu *src, u32 shorthand, u32 dest, bool logical) { return false; }
int mkvm_lapic_pending_vector(struct mkvm_vcpu *vcpu) { return -1; }
void mkvm_lapic_ack(struct mkvm_vcpu *vcpu, int vector) { }
void mkvm_lapic_sync(struct mkvm_vcpu *vcpu) { }
bool mkvm_lapic_accepts_pic(struct mkvm_vcpu *vcpu) { return false; }
int mkvm_lapic_mmio(struct mkvm_vcpu *vcpu, u64 gpa, int len, void *val, bool write) { return -EOPNOTSUPP; }
int mkvm_lapic_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data) { return -ENOENT; }
int mkvm_lapic_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data) { return -ENOENT; }
int mkvm_lapic_set_base(struct mkvm_vcpu *vcpu, u64 value, bool host) { return 0; }
void mkvm_lapic_set_cr8(struct mkvm_vcpu *vcpu, u64 cr8) { }
u64 mkvm_lapic_get_cr8(struct mkvm_vcpu *vcpu) { return 0; }
int mkvm_lapic_get_state(struct mkvm_vcpu *vcpu, struct kvm_lapic_state *s) { return -ENXIO; }
int mkvm_lapic_set_state(struct mkvm_vcpu *vcpu, const struct kvm_lapic_state *s) { return -ENXIO; }
int mkvm_irq_delivery_to_apic(struct mkvm *vm, struct mkvm_vcpu *src, const struct mkvm_lapic_irq *irq) { return -1; }
void mkvm_lapic_pic_kick(struct mkvm *vm) { }
