// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/virtio/virtq.c, the device side of a split
 * virtqueue, against the rules of the virtio 1.x spec §2.7: chains come out
 * in the order offered with readable buffers before writable ones, the used
 * ring and its index wrap at 2^16, interrupts are suppressed on request, and
 * every malformed ring (a loop, an index past the table, a buffer outside
 * guest memory, a writable buffer before a readable one, an indirect table
 * we did not offer, a driver that offers more than the ring holds) ends in
 * -EINVAL without touching memory outside the guest.
 */
#include <errno.h>

#include "virtio_driver.h"

static struct virtq vq;
static struct virtq_chain c;
static struct fake_driver d;

static void fresh(uint16_t num)
{
	drv_init(&d, num);
	drv_attach(&d, &vq);
}

static void test_basic(void)
{
	struct drv_buf b[] = {
		{ DATA_GPA, 16, false }, { DATA_GPA + 0x100, 512, true },
		{ DATA_GPA + 0x400, 1, true },
	};
	uint32_t id, len;
	uint16_t head;

	fresh(8);
	tap_ok(virtq__pop(&vq, &c) == 0, "empty ring: nothing to pop");
	head = drv_add(&d, 3, b);
	tap_ok(virtq__pop(&vq, &c) == 1 && c.head == head, "one chain offered, one popped");
	tap_ok(c.nr_out == 1 && c.nr_in == 2, "1 readable and 2 writable buffers");
	tap_ok(c.out[0].iov_base == guest + DATA_GPA && c.out[0].iov_len == 16 &&
	       c.in[0].iov_base == guest + DATA_GPA + 0x100 && c.in[0].iov_len == 512 &&
	       c.in[1].iov_base == guest + DATA_GPA + 0x400 && c.in[1].iov_len == 1,
	       "iovecs point into guest memory at the descriptors' addresses");
	tap_ok(virtq__pop(&vq, &c) == 0, "then the ring is empty again");
	virtq__push(&vq, head, 513);
	tap_ok(drv_get_used(&d, &id, &len) && id == head && len == 513,
	       "pushed: used ring has { id = head, len = bytes written }");
	tap_ok(*drv_used_idx() == 1, "used->idx is 1");

	vq.ready = false;
	drv_add(&d, 1, b);
	tap_ok(virtq__pop(&vq, &c) == 0, "a queue that is not ready yields nothing");
}

static void test_wrap(void)
{
	struct drv_buf b = { DATA_GPA, 8, true };
	uint32_t id, len;
	bool ok = true;

	/* 70,000 requests through a 4-entry ring: the indexes wrap at 2^16. */
	fresh(4);
	for (int i = 0; i < 70000 && ok; i++) {
		uint16_t head = drv_add(&d, 1, &b);

		ok = virtq__pop(&vq, &c) == 1 && c.head == head;
		virtq__push(&vq, c.head, i & 0xff);
		ok = ok && drv_get_used(&d, &id, &len) && id == head && len == (uint32_t)(i & 0xff);
	}
	tap_ok(ok, "70000 requests through a 4-entry ring, in order");
	tap_ok(vq.last_avail == (uint16_t)70000 && *drv_used_idx() == (uint16_t)70000,
	       "avail and used indexes wrapped at 2^16 (%u, %u)", vq.last_avail,
	       *drv_used_idx());

	/* Several outstanding: the device may take all num of them. */
	fresh(4);
	for (int i = 0; i < 4; i++)
		drv_add(&d, 1, &b);
	ok = true;
	for (int i = 0; i < 4; i++)
		ok = ok && virtq__pop(&vq, &c) == 1 && c.head == i;
	tap_ok(ok && virtq__pop(&vq, &c) == 0, "a full ring of 4 chains pops 4 times");
}

static void test_longest_chain(void)
{
	struct drv_buf b[VIRTQ_MAX_SIZE];

	fresh(VIRTQ_MAX_SIZE);
	for (int i = 0; i < VIRTQ_MAX_SIZE; i++)
		b[i] = (struct drv_buf){ DATA_GPA + 16 * i, 16, i >= 10 };
	drv_add(&d, VIRTQ_MAX_SIZE, b);
	tap_ok(virtq__pop(&vq, &c) == 1 && c.nr_out == 10 && c.nr_in == VIRTQ_MAX_SIZE - 10,
	       "a chain of all %d descriptors is fine", VIRTQ_MAX_SIZE);
}

/* Offer a one-descriptor chain at desc 0, then break it with f. */
static int pop_broken(void (*f)(void))
{
	struct drv_buf b[] = { { DATA_GPA, 16, false }, { DATA_GPA + 16, 16, true } };

	fresh(8);
	drv_add(&d, 2, b);
	f();
	return virtq__pop(&vq, &c);
}

static void loop(void) { drv_desc()[1].flags |= VIRTQ_DESC_F_NEXT; drv_desc()[1].next = 0; }
static void next_past_table(void) { drv_desc()[0].next = 8; }
static void head_past_table(void) { drv_avail()[2] = 9; }
static void outside_memory(void) { drv_desc()[1].addr = GUEST_MEM - 8; }
static void huge_len(void) { drv_desc()[0].len = 0xffffffff; }
static void write_then_read(void) { drv_desc()[0].flags |= VIRTQ_DESC_F_WRITE;
				     drv_desc()[1].flags &= ~VIRTQ_DESC_F_WRITE; }
static void indirect(void) { drv_desc()[0].flags |= VIRTQ_DESC_F_INDIRECT; }
static void too_many(void) { drv_avail()[1] = 9; }
static void rings_outside(void) { vq.desc_gpa = GUEST_MEM - 16; }

static void test_broken(void)
{
	tap_ok(pop_broken(loop) == -EINVAL, "a chain that loops: -EINVAL");
	tap_ok(pop_broken(next_past_table) == -EINVAL, "next past the table: -EINVAL");
	tap_ok(pop_broken(head_past_table) == -EINVAL, "a head past the table: -EINVAL");
	tap_ok(pop_broken(outside_memory) == -EINVAL, "a buffer past guest memory: -EINVAL");
	tap_ok(pop_broken(huge_len) == -EINVAL, "a 4 GiB buffer: -EINVAL");
	tap_ok(pop_broken(write_then_read) == -EINVAL,
	       "a readable buffer after a writable one: -EINVAL");
	tap_ok(pop_broken(indirect) == -EINVAL, "an indirect table we did not offer: -EINVAL");
	tap_ok(pop_broken(too_many) == -EINVAL, "9 offered on an 8-entry ring: -EINVAL");
	tap_ok(pop_broken(rings_outside) == -EINVAL, "a descriptor table past guest memory: -EINVAL");
}

static void test_interrupt_suppression(void)
{
	fresh(8);
	tap_ok(virtq__want_interrupt(&vq), "by default the driver wants interrupts");
	drv_avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	tap_ok(!virtq__want_interrupt(&vq), "VIRTQ_AVAIL_F_NO_INTERRUPT: none");
}

static void test_iov(void)
{
	uint8_t a[4], b[3], c2[5], out[12];
	struct iovec iov[] = { { a, 4 }, { b, 3 }, { c2, 5 } }, s[3];
	const char *msg = "abcdefghijkl";
	int n;

	tap_ok(iov__length(iov, 3) == 12, "iov__length sums the segments");
	tap_ok(iov__from_buf(iov, 3, 0, msg, 12) == 12 && !memcmp(a, "abcd", 4) &&
	       !memcmp(b, "efg", 3) && !memcmp(c2, "hijkl", 5), "iov__from_buf fills in order");
	memset(out, 0, sizeof(out));
	tap_ok(iov__to_buf(iov, 3, 3, out, 6) == 6 && !memcmp(out, "defghi", 6),
	       "iov__to_buf across two boundaries, with a skip");
	tap_ok(iov__to_buf(iov, 3, 10, out, 6) == 2, "iov__to_buf stops at the end");
	n = iov__slice(iov, 3, 2, 9, s);
	tap_ok(n == 3 && s[0].iov_base == a + 2 && s[0].iov_len == 2 && s[1].iov_len == 3 &&
	       s[2].iov_base == c2 && s[2].iov_len == 4, "iov__slice [2, 11)");
	n = iov__slice(iov, 3, 4, 3, s);
	tap_ok(n == 1 && s[0].iov_base == b && s[0].iov_len == 3, "iov__slice of exactly one segment");
}

int main(void)
{
	test_basic();
	test_wrap();
	test_longest_chain();
	test_broken();
	test_interrupt_suppression();
	test_iov();
	return tap_done();
}
