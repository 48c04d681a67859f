// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/virtio/: the virtio-mmio transport
 * (mmio.c, virtio 1.x spec §4.2), virtio-blk on a temporary image file
 * (blk.c, §5.2), virtio-rng (rng.c, §5.4) and virtio-console (console.c,
 * §5.3, its transmitq and receiveq on pipes). The test plays Linux's
 * virtio_mmio driver through the register window: device discovery,
 * feature negotiation, queue set-up, QueueNotify. The notify callback
 * serves the queue at once (the I/O thread's job in minikvm-run), the
 * interrupt callback counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "virtio_driver.h"
#include <sys/ioctl.h>

#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/rng.h"

static struct fake_driver d;
static int interrupts, notifies;

static void on_interrupt(void *opaque) { (void)opaque; interrupts++; }

static void on_notify(void *opaque, int q)
{
	struct virtio_mmio *m = opaque;

	notifies++;
	pthread_mutex_lock(&m->lock);
	m->ops->queue_work(m, q);
	pthread_mutex_unlock(&m->lock);
}

static uint32_t rd(struct virtio_mmio *m, uint32_t off) { return virtio_mmio__read(m, off, 4); }
static void wr(struct virtio_mmio *m, uint32_t off, uint32_t v) { virtio_mmio__write(m, off, 4, v); }

static uint64_t dev_features(struct virtio_mmio *m)
{
	wr(m, VMMIO_DEV_FEATURES_SEL, 0);
	uint64_t lo = rd(m, VMMIO_DEV_FEATURES);
	wr(m, VMMIO_DEV_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(m, VMMIO_DEV_FEATURES) << 32;
}

/* Status bits up to FEATURES_OK with these driver features; returns Status. */
static uint32_t negotiate(struct virtio_mmio *m, uint64_t features)
{
	wr(m, VMMIO_STATUS, 0);
	wr(m, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(m, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(m, VMMIO_DRV_FEATURES_SEL, 0);
	wr(m, VMMIO_DRV_FEATURES, (uint32_t)features);
	wr(m, VMMIO_DRV_FEATURES_SEL, 1);
	wr(m, VMMIO_DRV_FEATURES, features >> 32);
	wr(m, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			   VIRTIO_STATUS_FEATURES_OK);
	return rd(m, VMMIO_STATUS);
}

/* What Linux does after FEATURES_OK: queue q of num entries, then DRIVER_OK. */
static void bring_up_q(struct virtio_mmio *m, uint64_t features, uint16_t num, int q)
{
	negotiate(m, features);
	drv_init(&d, num);
	wr(m, VMMIO_QUEUE_SEL, q);
	wr(m, VMMIO_QUEUE_NUM, num);
	wr(m, VMMIO_QUEUE_DESC_LO, DESC_GPA);
	wr(m, VMMIO_QUEUE_DESC_HI, 0);
	wr(m, VMMIO_QUEUE_DRIVER_LO, AVAIL_GPA);
	wr(m, VMMIO_QUEUE_DRIVER_HI, 0);
	wr(m, VMMIO_QUEUE_DEVICE_LO, USED_GPA);
	wr(m, VMMIO_QUEUE_DEVICE_HI, 0);
	wr(m, VMMIO_QUEUE_READY, 1);
	wr(m, VMMIO_STATUS, rd(m, VMMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	m->notify = on_notify;
	m->interrupt = on_interrupt;
	m->opaque = m;
}

static void bring_up(struct virtio_mmio *m, uint64_t features, uint16_t num)
{
	bring_up_q(m, features, num, 0);
}

static const uint64_t V1 = 1ull << VIRTIO_F_VERSION_1;

static void test_transport(struct virtio_blk *b)
{
	struct virtio_mmio *m = &b->mmio;
	uint64_t f = dev_features(m);

	tap_ok(rd(m, VMMIO_MAGIC) == 0x74726976 && rd(m, VMMIO_VERSION) == 2 &&
	       rd(m, VMMIO_DEVICE_ID) == 2, "magic \"virt\", version 2, device ID 2 (block)");
	tap_ok(f == (V1 | 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_SEG_MAX),
	       "features: VERSION_1, FLUSH, SEG_MAX (0x%llx)", (unsigned long long)f);
	tap_ok(!(negotiate(m, 1ull << VIRTIO_BLK_F_FLUSH) & VIRTIO_STATUS_FEATURES_OK),
	       "FEATURES_OK refused without VIRTIO_F_VERSION_1 (a legacy driver)");
	tap_ok(!(negotiate(m, V1 | 1ull << VIRTIO_BLK_F_RO) & VIRTIO_STATUS_FEATURES_OK),
	       "FEATURES_OK refused for a feature not offered (RO)");
	tap_ok(negotiate(m, V1 | 1ull << VIRTIO_BLK_F_FLUSH) & VIRTIO_STATUS_FEATURES_OK,
	       "FEATURES_OK kept for VERSION_1 | FLUSH");
	wr(m, VMMIO_DRV_FEATURES_SEL, 0);
	wr(m, VMMIO_DRV_FEATURES, 0);
	tap_ok(m->driver_features == (V1 | 1ull << VIRTIO_BLK_F_FLUSH),
	       "DriverFeatures cannot change after FEATURES_OK");
	tap_ok(rd(m, VMMIO_CONFIG) == 64 && rd(m, VMMIO_CONFIG + 4) == 0,
	       "config capacity, two 32-bit halves: 64 sectors");
	tap_ok(virtio_mmio__read(m, VMMIO_CONFIG + 12, 4) == VIRTQ_MAX_SIZE - 2 &&
	       virtio_mmio__read(m, VMMIO_CONFIG + 12, 1) == VIRTQ_MAX_SIZE - 2,
	       "config seg_max %u, word and byte reads", VIRTQ_MAX_SIZE - 2);
	tap_ok(rd(m, VMMIO_CONFIG + 0x80) == 0, "config past its end reads 0");
	wr(m, VMMIO_QUEUE_SEL, 0);
	tap_ok(rd(m, VMMIO_QUEUE_NUM_MAX) == VIRTQ_MAX_SIZE, "queue 0: QueueNumMax %d",
	       VIRTQ_MAX_SIZE);
	wr(m, VMMIO_QUEUE_NUM, 100);
	tap_ok(m->vq[0].num == 0, "QueueNum 100 (not a power of 2) ignored");
	wr(m, VMMIO_QUEUE_READY, 1);
	tap_ok(rd(m, VMMIO_QUEUE_READY) == 0, "QueueReady stays 0 without a size");
	wr(m, VMMIO_QUEUE_SEL, 1);
	tap_ok(rd(m, VMMIO_QUEUE_NUM_MAX) == 0, "queue 1 does not exist: QueueNumMax 0");
}

/* A request: header, data, status; returns the status byte, *used_len. */
static uint8_t blk_req(struct virtio_mmio *m, uint32_t type, uint64_t sector,
		       uint32_t data_len, int data_segs, uint32_t *used_len)
{
	struct virtio_blk_req_hdr hdr = { .type = type, .sector = sector };
	struct drv_buf b[8];
	bool write_data = type != VIRTIO_BLK_T_OUT;
	uint32_t id;
	int n = 0;

	memcpy(guest + DATA_GPA, &hdr, sizeof(hdr));
	b[n++] = (struct drv_buf){ DATA_GPA, sizeof(hdr), false };
	for (int i = 0; i < data_segs; i++)
		b[n++] = (struct drv_buf){ DATA_GPA + 0x1000 + i * (data_len / data_segs),
					   data_len / data_segs, write_data };
	guest[DATA_GPA + 0x800] = 0xee;
	b[n++] = (struct drv_buf){ DATA_GPA + 0x800, 1, true };
	drv_add(&d, n, b);
	wr(m, VMMIO_QUEUE_NOTIFY, 0);
	*used_len = 0xdead;
	drv_get_used(&d, &id, used_len);
	return guest[DATA_GPA + 0x800];
}

static void test_blk(struct virtio_blk *b, int fd)
{
	struct virtio_mmio *m = &b->mmio;
	uint8_t file[1024];
	uint32_t len;
	int before;

	bring_up(m, V1 | 1ull << VIRTIO_BLK_F_FLUSH, 16);
	tap_ok(rd(m, VMMIO_STATUS) == 0xf, "driver up: Status 0xf");
	for (int i = 0; i < 1024; i++)
		guest[DATA_GPA + 0x1000 + i] = i * 7;
	before = interrupts;
	tap_ok(blk_req(m, VIRTIO_BLK_T_OUT, 3, 1024, 2, &len) == VIRTIO_BLK_S_OK && len == 1,
	       "write of 2 sectors at sector 3 in 2 descriptors: OK, used len 1");
	tap_ok(interrupts == before + 1 && (rd(m, VMMIO_INTERRUPT_STATUS) & VIRTIO_INT_USED),
	       "an interrupt, InterruptStatus bit 0");
	wr(m, VMMIO_INTERRUPT_ACK, VIRTIO_INT_USED);
	tap_ok(rd(m, VMMIO_INTERRUPT_STATUS) == 0, "InterruptACK clears it");
	tap_ok(pread(fd, file, 1024, 3 * 512) == 1024 &&
	       !memcmp(file, guest + DATA_GPA + 0x1000, 1024), "the image file has the data");
	memset(guest + DATA_GPA + 0x1000, 0, 1024);
	tap_ok(blk_req(m, VIRTIO_BLK_T_IN, 3, 1024, 4, &len) == VIRTIO_BLK_S_OK && len == 1025,
	       "read back in 4 descriptors: OK, used len 1025 (data + status)");
	tap_ok(!memcmp(file, guest + DATA_GPA + 0x1000, 1024), "the same bytes came back");
	tap_ok(blk_req(m, VIRTIO_BLK_T_IN, 63, 1024, 1, &len) == VIRTIO_BLK_S_IOERR && len == 1,
	       "a read across the end of the disk (sector 63 of 64): IOERR");
	tap_ok(blk_req(m, VIRTIO_BLK_T_OUT, 1ull << 60, 512, 1, &len) == VIRTIO_BLK_S_IOERR,
	       "a write at sector 2^60: IOERR (no overflow)");
	tap_ok(blk_req(m, VIRTIO_BLK_T_IN, 0, 100, 1, &len) == VIRTIO_BLK_S_IOERR,
	       "a read of 100 bytes (not whole sectors): IOERR");
	tap_ok(blk_req(m, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &len) == VIRTIO_BLK_S_OK && len == 1,
	       "flush: OK");
	tap_ok(blk_req(m, 99, 0, 0, 0, &len) == VIRTIO_BLK_S_UNSUPP, "type 99: UNSUPP");
	tap_ok(blk_req(m, VIRTIO_BLK_T_GET_ID, 0, 20, 1, &len) == VIRTIO_BLK_S_OK &&
	       len == 21 && !memcmp(guest + DATA_GPA + 0x1000, "minikvm-disk", 12),
	       "GET_ID: \"minikvm-disk\", used len 21");

	guest[AVAIL_GPA] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	before = interrupts;
	blk_req(m, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &len);
	tap_ok(interrupts == before && len == 1, "VIRTQ_AVAIL_F_NO_INTERRUPT: served, no interrupt");
	guest[AVAIL_GPA] = 0;

	before = notifies;
	wr(m, VMMIO_QUEUE_NOTIFY, 1);
	tap_ok(notifies == before, "QueueNotify of a queue that does not exist: ignored");

	/* A chain that loops: the device stops and asks for a reset (§2.1.2). */
	drv_desc()[d.next_desc] = (struct virtq_desc){ DATA_GPA, 16, VIRTQ_DESC_F_NEXT, d.next_desc };
	drv_offer(&d, d.next_desc);
	wr(m, VMMIO_QUEUE_NOTIFY, 0);
	tap_ok((rd(m, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) &&
	       (rd(m, VMMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG),
	       "a looping chain: DEVICE_NEEDS_RESET and a config interrupt");
	wr(m, VMMIO_STATUS, 0);
	wr(m, VMMIO_QUEUE_SEL, 0);
	tap_ok(rd(m, VMMIO_STATUS) == 0 && rd(m, VMMIO_QUEUE_READY) == 0 &&
	       rd(m, VMMIO_INTERRUPT_STATUS) == 0, "reset: Status 0, queue not ready, no interrupt");
}

static void test_blk_ro(const char *path)
{
	static struct virtio_blk b;
	/* Writable: the refusal must come from the device model, not the fd. */
	int fd = open(path, O_RDWR);
	uint8_t file[512], zero[512] = { 0 };
	uint32_t len;

	blk__init(&b, fd, 64 * 512, true, guest_gpa, NULL);
	tap_ok(dev_features(&b.mmio) & 1ull << VIRTIO_BLK_F_RO, "read-only disk offers VIRTIO_BLK_F_RO");
	bring_up(&b.mmio, V1 | 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_FLUSH, 16);
	memset(guest + DATA_GPA + 0x1000, 0x55, 512);
	tap_ok(blk_req(&b.mmio, VIRTIO_BLK_T_OUT, 10, 512, 1, &len) == VIRTIO_BLK_S_IOERR &&
	       len == 1, "a write to the read-only disk: IOERR");
	tap_ok(pread(fd, file, 512, 10 * 512) == 512 && !memcmp(file, zero, 512),
	       "the image file is unchanged");
	tap_ok(blk_req(&b.mmio, VIRTIO_BLK_T_IN, 3, 512, 1, &len) == VIRTIO_BLK_S_OK &&
	       guest[DATA_GPA + 0x1000 + 1] == 7, "reads work");
	close(fd);
}

static void test_rng(void)
{
	static struct virtio_rng r;
	char path[] = "/tmp/virtio_test_rng.XXXXXX";
	int fd = mkstemp(path);
	struct drv_buf b[] = { { DATA_GPA + 0x1000, 40, true }, { DATA_GPA + 0x2000, 24, true } };
	uint8_t src[64];
	uint32_t id, len = 0;

	for (int i = 0; i < 64; i++)
		src[i] = 200 - i;
	tap_ok(fd >= 0 && write(fd, src, 64) == 64 && lseek(fd, 0, SEEK_SET) == 0,
	       "an entropy source of 64 known bytes");
	unlink(path);
	rng__init(&r, fd, guest_gpa, NULL);
	tap_ok(rd(&r.mmio, VMMIO_DEVICE_ID) == 4 && dev_features(&r.mmio) == V1,
	       "rng: device ID 4, features VERSION_1 only");
	bring_up(&r.mmio, V1, 8);
	drv_add(&d, 2, b);
	wr(&r.mmio, VMMIO_QUEUE_NOTIFY, 0);
	tap_ok(drv_get_used(&d, &id, &len) && len == 64 &&
	       !memcmp(guest + DATA_GPA + 0x1000, src, 40) &&
	       !memcmp(guest + DATA_GPA + 0x2000, src + 40, 24),
	       "rng fills both writable buffers from the source, used len 64");
	drv_add(&d, 1, b);
	wr(&r.mmio, VMMIO_QUEUE_NOTIFY, 0);
	tap_ok(drv_get_used(&d, &id, &len) && len == 0, "an exhausted source: used len 0");
	close(fd);
}

static bool drop_x(void *opaque, uint8_t byte)
{
	(void)opaque;
	return byte == 'x';
}

static int pending(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

static void test_console(void)
{
	static struct virtio_console c;
	struct virtio_mmio *m = &c.mmio;
	struct drv_buf out[] = { { DATA_GPA, 6, false }, { DATA_GPA + 0x100, 5, false } };
	struct drv_buf in[] = { { DATA_GPA + 0x1000, 16, true } };
	int to_guest[2], from_guest[2];
	uint32_t id, len = 0;
	char got[32] = "";

	tap_ok(!pipe(to_guest) && !pipe(from_guest), "console: two pipes for stdin, stdout");
	console__init(&c, to_guest[0], from_guest[1], guest_gpa, NULL);
	wr(m, VMMIO_QUEUE_SEL, 1);
	tap_ok(rd(m, VMMIO_DEVICE_ID) == 3 && dev_features(m) == V1 &&
	       rd(m, VMMIO_QUEUE_NUM_MAX) > 0,
	       "console: device ID 3, features VERSION_1 only, a transmitq (1)");

	/* transmitq: the guest's output, in order, on the host side. */
	bring_up_q(m, V1, 8, VIRTIO_CONSOLE_TX);
	memcpy(guest + DATA_GPA, "hello ", 6);
	memcpy(guest + DATA_GPA + 0x100, "hvc0\n", 5);
	drv_add(&d, 2, out);
	interrupts = 0;
	wr(m, VMMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_TX);
	tap_ok(drv_get_used(&d, &id, &len) && len == 0 && interrupts == 1 &&
	       read(from_guest[0], got, sizeof(got)) == 11 && !memcmp(got, "hello hvc0\n", 11),
	       "console: a two-buffer chain on the transmitq reaches stdout, used len 0");

	/* receiveq: host input waits for a posted buffer, then fills it. */
	bring_up_q(m, V1, 8, VIRTIO_CONSOLE_RX);
	c.filter = drop_x;
	tap_ok(write(to_guest[1], "pixng\n", 6) == 6 && m->ops->poll_fd(m) == to_guest[0],
	       "console: stdin is watched while no buffer is known to be missing");
	m->ops->input(m);
	tap_ok(m->ops->poll_fd(m) == -1 && pending(to_guest[0]) == 6,
	       "console: no receive buffer: input stays in stdin, stdin unwatched");
	drv_add(&d, 1, in);
	wr(m, VMMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_RX);
	tap_ok(m->ops->poll_fd(m) == to_guest[0], "console: a notify on the receiveq: watched again");
	interrupts = 0;
	m->ops->input(m);
	tap_ok(drv_get_used(&d, &id, &len) && len == 5 && interrupts == 1 &&
	       !memcmp(guest + DATA_GPA + 0x1000, "ping\n", 5),
	       "console: input into the buffer, the filter's byte dropped, used len 5");
	close(to_guest[1]);
	drv_add(&d, 1, in);
	wr(m, VMMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_RX);
	m->ops->input(m);
	tap_ok(drv_get_used(&d, &id, &len) && len == 0 && m->ops->poll_fd(m) == -1,
	       "console: end of stdin: an empty buffer back, stdin no longer watched");
	close(to_guest[0]);
	close(from_guest[0]);
	close(from_guest[1]);
}

int main(void)
{
	static struct virtio_blk b;
	char path[] = "/tmp/virtio_test_disk.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, 64 * 512)) {
		perror("mkstemp");
		return 1;
	}
	blk__init(&b, fd, 64 * 512 + 100, false, guest_gpa, NULL);	/* a partial sector is cut */
	test_transport(&b);
	test_blk(&b, fd);
	test_blk_ro(path);
	test_rng();
	test_console();
	unlink(path);
	close(fd);
	return tap_done();
}
