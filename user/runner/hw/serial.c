// SPDX-License-Identifier: GPL-2.0-only
/*
 * serial.c: a 16550A UART, the PC's COM1 at 0x3f8, IRQ 4.
 *
 * Register map (National Semiconductor PC16550D datasheet, Table II), by
 * offset from the base port; DLAB is bit 7 of LCR:
 *
 *   0  read: RBR receive buffer     write: THR transmit holding   (DLAB=0)
 *      DLL divisor latch, low byte                                 (DLAB=1)
 *   1  IER interrupt enable (DLAB=0) / DLM divisor latch high (DLAB=1)
 *   2  read: IIR interrupt identification   write: FCR FIFO control
 *   3  LCR line control     4  MCR modem control    5  LSR line status
 *   6  MSR modem status     7  SCR scratch
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the
 * host, so THR and the transmitter are always empty (LSR THRE and TEMT set).
 * Baud rate, word length and parity are stored for the guest to read back and
 * otherwise ignored.
 */
#include <stdio.h>
#include <string.h>

#include "hw.h"

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR };

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* THR empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */

#define IIR_NONE	0x01	/* bit 0 set: no interrupt pending */
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0	/* bits 7..6: FIFOs enabled (16550A) */

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* on PC boards: gates the IRQ line */
#define MCR_LOOP	0x10

#define LSR_DR		0x01	/* data ready */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void serial__init(struct serial *s, struct irq_line irq,
		  void (*tx)(void *opaque, uint8_t byte), void *tx_opaque)
{
	memset(s, 0, sizeof(*s));
	s->irq = irq;
	s->tx = tx;
	s->tx_opaque = tx_opaque;
}

/*
 * Modem status: with nothing attached a terminal is "there" (CTS, DSR and DCD
 * up). In loopback mode the MCR outputs are wired back to the MSR inputs
 * (datasheet, MCR bit 4): RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. Linux's
 * probe relies on exactly this mapping.
 */
static uint8_t serial__msr_lines(const struct serial *s)
{
	uint8_t m = s->mcr, v = 0;

	if (!(m & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	if (m & MCR_RTS)
		v |= MSR_CTS;
	if (m & MCR_DTR)
		v |= MSR_DSR;
	if (m & MCR_OUT1)
		v |= MSR_RI;
	if (m & MCR_OUT2)
		v |= MSR_DCD;
	return v;
}

/*
 * Interrupt identification, highest priority first (datasheet Table IV):
 * receiver line status (never: no errors here), received data, THR empty,
 * modem status.
 */
static uint8_t serial__iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thre_pending)
		return IIR_THRI | fifo;
	if ((s->ier & IER_MSI) && s->msr_delta)
		return IIR_MSI | fifo;
	return IIR_NONE | fifo;
}

/*
 * Drive the IRQ line. On a PC the UART's INTR pin reaches the PIC through a
 * buffer enabled by OUT2, which is why drivers set MCR OUT2 to get
 * interrupts; in loopback mode the pin is disconnected.
 */
static void serial__update_irq(struct serial *s)
{
	bool level = !(serial__iir(s) & IIR_NONE) &&
		     (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	irq_line__set(&s->irq, level);
}

unsigned int serial__rx_room(const struct serial *s)
{
	return SERIAL_FIFO - s->rx_count;
}

static void serial__rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_FIFO)
		return;		/* overrun: the byte is lost */
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO] = byte;
	s->rx_count++;
}

unsigned int serial__receive(struct serial *s, const uint8_t *buf, unsigned int len)
{
	unsigned int n = len < serial__rx_room(s) ? len : serial__rx_room(s);

	for (unsigned int i = 0; i < n; i++)
		serial__rx_push(s, buf[i]);
	serial__update_irq(s);
	return n;
}

static uint8_t serial__rx_pop(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
	s->rx_count--;
	return byte;
}

static uint32_t serial__read(void *dev, uint64_t off, int size)
{
	struct serial *s = dev;
	uint8_t v = 0;

	(void)size;
	switch (off) {
	case RBR_THR:
		v = (s->lcr & LCR_DLAB) ? s->dll : serial__rx_pop(s);
		break;
	case IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case IIR_FCR:
		v = serial__iir(s);
		/* Reading IIR while it reports THR empty clears that source. */
		if ((v & 0x0f) == IIR_THRI)
			s->thre_pending = false;
		break;
	case LCR:
		v = s->lcr;
		break;
	case MCR:
		v = s->mcr;
		break;
	case LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case MSR:
		v = serial__msr_lines(s) | s->msr_delta;
		s->msr_delta = 0;	/* reading MSR clears the delta bits */
		break;
	case SCR:
		v = s->scr;
		break;
	}
	serial__update_irq(s);
	return v;
}

static void serial__write_mcr(struct serial *s, uint8_t v)
{
	uint8_t before = serial__msr_lines(s), after;

	s->mcr = v & 0x1f;	/* bits 7..5 are always zero on a 16550 */
	after = serial__msr_lines(s);
	/* MSR bits 3..0: delta CTS, delta DSR, trailing edge RI, delta DCD. */
	if ((before ^ after) & MSR_CTS)
		s->msr_delta |= 0x01;
	if ((before ^ after) & MSR_DSR)
		s->msr_delta |= 0x02;
	if ((before & MSR_RI) && !(after & MSR_RI))
		s->msr_delta |= 0x04;
	if ((before ^ after) & MSR_DCD)
		s->msr_delta |= 0x08;
}

static void serial__write(void *dev, uint64_t off, int size, uint32_t value)
{
	struct serial *s = dev;
	uint8_t v = value;

	(void)size;
	switch (off) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (s->mcr & MCR_LOOP)
			serial__rx_push(s, v);	/* transmitter wired to receiver */
		else if (s->tx)
			s->tx(s->tx_opaque, v);
		/* Sent at once, so THR is empty again: a new THRE event. */
		s->thre_pending = true;
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises the interrupt at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = true;
		s->ier = v & 0x0f;
		break;
	case IIR_FCR:
		if (v & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		s->fcr = v & 0xc9;	/* enable, DMA mode, trigger level */
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		serial__write_mcr(s, v);
		break;
	case SCR:
		s->scr = v;
		break;
	}
	serial__update_irq(s);
}

/* For the VMM's state dump: registers as the guest would read them, no side effects. */
void serial__dump(const struct serial *s, FILE *f)
{
	fprintf(f, "  com1: ier %02x iir %02x lcr %02x mcr %02x thre_pending %d rx %u, irq %s\r\n",
		s->ier, serial__iir(s), s->lcr, s->mcr, s->thre_pending, s->rx_count,
		!(serial__iir(s) & IIR_NONE) &&
		(s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 ? "high" : "low");
}

const struct io_ops serial_io_ops = {
	.read = serial__read,
	.write = serial__write,
};
