// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtc.c: the Motorola MC146818 real-time clock and its CMOS RAM.
 *
 * Port 0x70 selects a register (bit 7 is the NMI mask on a PC, ignored
 * here), port 0x71 reads or writes it. Registers (MC146818A datasheet):
 *
 *   0x00 seconds   0x02 minutes   0x04 hours   0x06 day of week
 *   0x07 day of month   0x08 month   0x09 year   0x32 century (PC/AT)
 *   0x0a status A: bit 7 UIP (update in progress)
 *   0x0b status B: bit 2 DM (1 = binary, 0 = BCD), bit 1 24/12
 *   0x0c status C: interrupt flags     0x0d status D: bit 7 VRT (battery ok)
 *
 * The time is the host's (UTC) plus an offset the guest sets by writing the
 * time registers. The registers are computed on every read, so UIP is never
 * set: an update never appears to be in progress. No periodic, alarm or
 * update interrupts (IRQ 8).
 */
#include <string.h>
#include <time.h>

#include "hw.h"

#define REG_SEC		0x00
#define REG_MIN		0x02
#define REG_HOUR	0x04
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32

#define B_24H		0x02
#define B_BINARY	0x04

void rtc__init(struct rtc *r, int64_t (*now)(void), uint64_t mem_bytes)
{
	uint64_t ext_kb;

	memset(r, 0, sizeof(*r));
	r->now = now;
	r->ram[REG_A] = 0x26;	/* 32.768 kHz time base, 1024 Hz rate */
	r->ram[REG_B] = B_24H;	/* BCD, 24-hour: what a PC BIOS leaves */
	r->ram[REG_D] = 0x80;	/* valid RAM and time */
	/*
	 * The PC/AT BIOS memory-size bytes, for guests that look: 640 KiB of
	 * base memory, extended memory above 1 MiB in KiB (0x17/0x18, capped),
	 * and in 64 KiB units above 16 MiB (0x34/0x35).
	 */
	r->ram[0x15] = 640 & 0xff;
	r->ram[0x16] = 640 >> 8;
	ext_kb = mem_bytes > (1 << 20) ? (mem_bytes >> 10) - 1024 : 0;
	if (ext_kb > 0xfc00)
		ext_kb = 0xfc00;
	r->ram[0x17] = r->ram[0x30] = ext_kb & 0xff;
	r->ram[0x18] = r->ram[0x31] = ext_kb >> 8;
	if (mem_bytes > (16 << 20)) {
		uint64_t units = (mem_bytes - (16 << 20)) >> 16;

		if (units > 0xffff)
			units = 0xffff;
		r->ram[0x34] = units & 0xff;
		r->ram[0x35] = units >> 8;
	}
}

static uint8_t rtc__to_guest(const struct rtc *r, int v)
{
	if (r->ram[REG_B] & B_BINARY)
		return v;
	return (v / 10) << 4 | (v % 10);
}

static int rtc__from_guest(const struct rtc *r, uint8_t v)
{
	if (r->ram[REG_B] & B_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static void rtc__guest_tm(const struct rtc *r, struct tm *tm)
{
	time_t t = r->now() + r->offset;

	gmtime_r(&t, tm);
}

static uint8_t rtc__read_time(const struct rtc *r, uint8_t reg)
{
	struct tm tm;
	int hour;

	rtc__guest_tm(r, &tm);
	switch (reg) {
	case REG_SEC:	return rtc__to_guest(r, tm.tm_sec);
	case REG_MIN:	return rtc__to_guest(r, tm.tm_min);
	case REG_HOUR:
		if (r->ram[REG_B] & B_24H)
			return rtc__to_guest(r, tm.tm_hour);
		/* 12-hour mode: 1..12, bit 7 = PM */
		hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
		return rtc__to_guest(r, hour) | (tm.tm_hour >= 12 ? 0x80 : 0);
	case REG_WDAY:	return rtc__to_guest(r, tm.tm_wday + 1);
	case REG_MDAY:	return rtc__to_guest(r, tm.tm_mday);
	case REG_MON:	return rtc__to_guest(r, tm.tm_mon + 1);
	case REG_YEAR:	return rtc__to_guest(r, tm.tm_year % 100);
	default:	return rtc__to_guest(r, 19 + tm.tm_year / 100);
	}
}

static bool rtc__is_time(uint8_t reg)
{
	return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR ||
	       (reg >= REG_WDAY && reg <= REG_YEAR) || reg == REG_CENTURY;
}

/* The guest sets the clock: keep the difference to the host's time. */
static void rtc__write_time(struct rtc *r, uint8_t reg, uint8_t v)
{
	struct tm tm;
	int val;

	rtc__guest_tm(r, &tm);
	val = rtc__from_guest(r, reg == REG_HOUR ? v & 0x7f : v);
	switch (reg) {
	case REG_SEC:	tm.tm_sec = val; break;
	case REG_MIN:	tm.tm_min = val; break;
	case REG_HOUR:
		if (!(r->ram[REG_B] & B_24H))
			val = val % 12 + ((v & 0x80) ? 12 : 0);
		tm.tm_hour = val;
		break;
	case REG_MDAY:	tm.tm_mday = val; break;
	case REG_MON:	tm.tm_mon = val - 1; break;
	case REG_YEAR:	tm.tm_year = tm.tm_year / 100 * 100 + val; break;
	case REG_CENTURY: tm.tm_year = (val - 19) * 100 + tm.tm_year % 100; break;
	default:	return;	/* day of week follows from the date */
	}
	r->offset = (int64_t)timegm(&tm) - r->now();
}

static uint32_t rtc__read(void *dev, uint64_t off, int size)
{
	struct rtc *r = dev;
	uint8_t reg = r->index, v;

	(void)size;
	if (off == 0)
		return 0xff;	/* the index register is write-only */
	if (rtc__is_time(reg))
		return rtc__read_time(r, reg);
	v = r->ram[reg];
	if (reg == REG_C)
		r->ram[REG_C] = 0;	/* reading C clears the interrupt flags */
	return v;
}

static void rtc__write(void *dev, uint64_t off, int size, uint32_t value)
{
	struct rtc *r = dev;

	(void)size;
	if (off == 0) {
		r->index = value & 0x7f;
		return;
	}
	if (rtc__is_time(r->index))
		rtc__write_time(r, r->index, value);
	else if (r->index == REG_A)
		r->ram[REG_A] = value & 0x7f;	/* UIP is read-only */
	else if (r->index != REG_C && r->index != REG_D)
		r->ram[r->index] = value;
}

const struct io_ops rtc_io_ops = {
	.read = rtc__read,
	.write = rtc__write,
};
