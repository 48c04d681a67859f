/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hw.h: the emulated PC devices of minikvm-run.
 *
 * Every device is plain C with no KVM in it: it owns its registers, answers
 * port reads and writes through io_ops (see io.h), and talks to the rest of
 * the machine only through three kinds of wires passed in at init time:
 *
 *   struct irq_line    an interrupt request line into the 8259 PIC
 *   struct reset_line  "the machine must reset / power off now"
 *   clock and timer    the PIT reads a nanosecond clock and asks for a host timer
 *
 * That is what lets tests/unit/ drive each device on the host with stub wires.
 * Locking is the caller's business: the VMM holds one device lock around every
 * call into this file.
 */
#ifndef RUNNER_HW_H
#define RUNNER_HW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../io.h"

/* An ISA interrupt line: the device drives its level, the PIC sees edges. */
struct irq_line {
	void (*set)(void *opaque, int irq, int level);
	void *opaque;
	int irq;
};

static inline void irq_line__set(const struct irq_line *l, int level)
{
	if (l->set)
		l->set(l->opaque, l->irq, level);
}

/* What the guest can do to the whole machine. */
enum machine_event { MACHINE_RESET, MACHINE_POWEROFF };

struct reset_line {
	void (*fire)(void *opaque, enum machine_event ev, const char *why);
	void *opaque;
};

static inline void reset_line__fire(const struct reset_line *l,
				    enum machine_event ev, const char *why)
{
	if (l->fire)
		l->fire(l->opaque, ev, why);
}

/* ------------------------------------------------------------ 16550A UART */

#define SERIAL_FIFO	256	/* receive buffer; the real chip has 16 bytes */

struct serial {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	uint8_t msr_delta;	/* MSR bits 3..0: modem lines changed */
	bool thre_pending;	/* THR-empty interrupt waiting to be seen */
	uint8_t rx[SERIAL_FIFO];
	unsigned int rx_head, rx_count;
	struct irq_line irq;
	/* Where transmitted bytes go (the host's stdout in the VMM). */
	void (*tx)(void *opaque, uint8_t byte);
	void *tx_opaque;
};

void serial__init(struct serial *s, struct irq_line irq,
		  void (*tx)(void *opaque, uint8_t byte), void *tx_opaque);
/* Bytes from the outside world (the host's stdin); returns how many fit. */
unsigned int serial__receive(struct serial *s, const uint8_t *buf, unsigned int len);
unsigned int serial__rx_room(const struct serial *s);
void serial__dump(const struct serial *s, FILE *f);	/* registers, for debugging */
extern const struct io_ops serial_io_ops;

/* ------------------------------------------------------- 8259A PIC pair */

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t last_level;	/* input levels, to see rising edges */
	uint8_t vector_base;	/* ICW2 */
	uint8_t init_step;	/* 0: operational, 2..4: expecting ICWn */
	bool need_icw4, single, auto_eoi;
	bool read_isr;		/* OCW3: a command-port read returns ISR */
	bool poll;		/* OCW3: the next read is a poll */
};

struct pic {
	struct pic_chip chip[2];	/* [0] master 0x20, [1] slave 0xa0 */
	/* Called when the INT output to the CPU goes from low to high. */
	void (*notify)(void *opaque);
	void *notify_opaque;
};

void pic__init(struct pic *p, void (*notify)(void *opaque), void *opaque);
void pic__set_irq(void *pic, int irq, int level);	/* irq 0..15 */
bool pic__has_interrupt(const struct pic *p);		/* INT output */
int pic__ack(struct pic *p);	/* INTA cycle: the vector to deliver */
extern const struct io_ops pic_master_io_ops;	/* ports 0x20-0x21 */
extern const struct io_ops pic_slave_io_ops;	/* ports 0xa0-0xa1 */
extern const struct io_ops elcr_io_ops;	/* ports 0x4d0-0x4d1 */

/* --------------------------------------------------- 8254 PIT + port 0x61 */

#define PIT_HZ	1193182ull	/* the PIT's input clock: 14.31818 MHz / 12 */

struct pit_channel {
	uint16_t reload;	/* the count last written (0 means 65536) */
	uint64_t start_ns;	/* when counting began from reload */
	uint8_t mode, rw, bcd;	/* from the control word */
	bool gate;
	bool counting;		/* a count was written since the last mode set */
	bool write_msb_next;	/* rw=3: next write is the MSB */
	bool read_msb_next;	/* rw=3: next read is the MSB */
	bool latched;		/* a latch command froze latch_value */
	uint16_t latch_value;
	bool latched_msb_next;
	bool status_latched;
	uint8_t status;
};

struct pit {
	struct pit_channel ch[3];
	uint8_t port61;		/* bit 0: channel 2 gate, bit 1: speaker data */
	struct irq_line irq0;
	uint64_t (*now_ns)(void *opaque);
	/* Host timer for channel 0: fire at first_ns, then every period_ns
	 * (0: once); first_ns == 0 disarms it. */
	void (*arm)(void *opaque, uint64_t first_ns, uint64_t period_ns);
	void *opaque;
};

void pit__init(struct pit *p, struct irq_line irq0,
	       uint64_t (*now_ns)(void *opaque),
	       void (*arm)(void *opaque, uint64_t first_ns, uint64_t period_ns),
	       void *opaque);
void pit__timer_expired(struct pit *p);	/* the host timer fired */
uint16_t pit__count(struct pit *p, int channel);
bool pit__out(struct pit *p, int channel);
extern const struct io_ops pit_io_ops;		/* ports 0x40-0x43 */
extern const struct io_ops port61_io_ops;	/* port 0x61 */

/* ------------------------------------------------ MC146818 RTC + CMOS RAM */

struct rtc {
	uint8_t index;
	uint8_t ram[128];
	int64_t offset;		/* guest time minus host time, seconds */
	int64_t (*now)(void);	/* host time, seconds since the epoch */
};

void rtc__init(struct rtc *r, int64_t (*now)(void), uint64_t mem_bytes);
extern const struct io_ops rtc_io_ops;		/* ports 0x70-0x71 */

/* ----------------------------------------------------- 8042 keyboard ctrl */

#define KBD_QUEUE	16

struct kbd {
	uint8_t ctr;		/* controller command byte ("CTR") */
	uint8_t pending_cmd;	/* command waiting for its data byte */
	uint8_t queue[KBD_QUEUE];
	bool queue_aux[KBD_QUEUE];
	unsigned int q_head, q_count;
	struct irq_line irq1, irq12;
	struct reset_line reset;
};

void kbd__init(struct kbd *k, struct irq_line irq1, struct irq_line irq12,
	       struct reset_line reset);
extern const struct io_ops kbd_data_io_ops;	/* port 0x60 */
extern const struct io_ops kbd_ctl_io_ops;	/* port 0x64 */

/* --------------------------------------- PCI config mechanism #1, no PCI */

struct pci {
	uint32_t address;	/* 0xcf8 */
	uint8_t reset_control;	/* 0xcf9 */
	struct reset_line reset;
};

void pci__init(struct pci *p, struct reset_line reset);
extern const struct io_ops pci_addr_io_ops;	/* ports 0xcf8-0xcfb */
extern const struct io_ops pci_data_io_ops;	/* ports 0xcfc-0xcff */

/* ------------------------------------------ ports 0x80, 0x92 and 0xe9 */

struct misc {
	uint8_t post_code;	/* last byte written to port 0x80 */
	uint8_t port92;
	struct reset_line reset;
	void (*debug_out)(void *opaque, uint8_t byte);	/* port 0xe9 */
	void *debug_opaque;
};

void misc__init(struct misc *m, struct reset_line reset,
		void (*debug_out)(void *opaque, uint8_t byte), void *opaque);
extern const struct io_ops port80_io_ops;
extern const struct io_ops port92_io_ops;
extern const struct io_ops debugcon_io_ops;

#endif /* RUNNER_HW_H */
