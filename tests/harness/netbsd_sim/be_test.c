/*
 * The generated xbdback(4) backend on the simulated NetBSD kernel (sim.h),
 * serving a fake frontend played here: its ring and data pages are pages of
 * guest memory it grants, which the backend maps with xen_shm_map (an mmap
 * of the same memory, gone again at xen_shm_unmap).  The block device is
 * sim.c's, which takes whole logical blocks only, like a 4Kn disk.  The
 * driver is driven only through XenBus: its creation and detach, the
 * frontend's state changes, the watches on its own nodes, the interrupt.
 *
 * The toolstack is played as libxl plays it: it makes the backend directory
 * without physical-device, waits for the backend to reach InitWait, and only
 * then runs the hotplug script, which writes physical-device.  A backend
 * that waits for the backing store before going InitWait never gets one.
 *
 * Usage: be_test <scenario>.  Prints "ok <what>" or "FAIL <what>" per check;
 * exits 1 if a check failed, 3 on a fault the kernel would panic on.
 */
/* The driver's printf(9) is logged: an error it reports can be looked for. */
#define	printf	sim_kprintf
#include "xbdback_xenbus.c"
#undef	printf

#define	FE		"device/vbd/768"
#define	BE		"backend/vbd/1/768"
#define	DISK_BYTES	(1024 * 1024)
#define	SECTOR		512

static struct xenbus_device be_xbusd;
static int failures;

/* The fake frontend. */
static struct {
	blkif_front_ring_t ring;
	evtchn_port_t	 port;		/* its own */
	evtchn_port_t	 be_port;	/* the backend's, bound to it */
	int16_t		 status[4096];	/* by id: the answer, or 99 while none */
	uint8_t		 op[4096];
} fe;

static void
check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	fflush(stdout);
	if (!ok)
		failures++;
}

static int
be_state(void)
{
	const char *s = sim_xs_get(BE "/state");

	return s == NULL ? -1 : atoi(s);
}

static void *
be_cookie(void)
{
	return be_xbusd.xbusd_u.b.b_cookie;
}

/*
 * The toolstack makes the backend directory (no physical-device: the hotplug
 * script has not run) and XenBus creates the backend instance.
 */
static void
be_add(u_int lbs)
{
	sim_disk_setup(DISK_BYTES, lbs);
	snprintf(be_xbusd.xbusd_path, sizeof(be_xbusd.xbusd_path), BE);
	snprintf(be_xbusd.sim_otherend, sizeof(be_xbusd.sim_otherend), FE);
	be_xbusd.xbusd_otherend = be_xbusd.sim_otherend;
	be_xbusd.xbusd_otherend_id = 1;
	be_xbusd.xbusd_type = XENBUS_BACKEND_DEVICE;
	sim_xs_set(BE "/frontend", FE);
	sim_xs_set(BE "/params", "/dev/sim");
	sim_xs_set(BE "/type", "phy");
	sim_xs_set(BE "/mode", "w");
	sim_xs_set(BE "/online", "1");
	sim_xs_set(BE "/state", "1");
	sim_xs_set(FE "/state", "1");
	sim_xs_set(FE "/virtual-device", "768");
	for (int i = 0; i < (int)__arraycount(fe.status); i++)
		fe.status[i] = 99;
	xbdbackattach(0);
	if (sim_backend_driver()->xbakd_create(&be_xbusd) != 0)
		sim_fail("xbakd_create failed");
	sim_xenwatch();
}

/*
 * libxl waits for the backend's InitWait before it runs the hotplug script;
 * when the backend never gets there, it gives up ("unable to add device").
 * The script writes physical-device, whose watch the backend gets.
 */
static bool
toolstack_hotplug(void)
{
	if (be_state() != XenbusStateInitWait) {
		sim_log("libxl: backend state %d, not InitWait: unable to add device", be_state());
		return false;
	}
	sim_xs_write_fire(BE "/physical-device", "8:0");
	sim_xenwatch();
	return true;
}

/* The device as the toolstack adds it: the directory, InitWait, the hotplug script. */
static void
be_create(u_int lbs)
{
	be_add(lbs);
	check(toolstack_hotplug(), "the backend goes InitWait and the toolstack's hotplug script runs");
	check(be_state() == XenbusStateInitWait && sim_logged("bdev_open 8:0"),
	    "the backend opens the disk and waits in InitWait");
}

/* The frontend switches state; XenBus's watch thread tells the backend. */
static void
fe_state(XenbusState s)
{
	sim_xs_setf(FE "/state", "%d", s);
	sim_otherend_changed(&be_xbusd, s);
	sim_xenwatch();
}

/* A one-page ring, granted and published, then Initialised. */
static void
fe_initialised(void)
{
	void *page = sim_guest_page();
	grant_ref_t ref = sim_guest_grant(page, false);

	SHARED_RING_INIT((blkif_sring_t *)page);
	FRONT_RING_INIT(&fe.ring, (blkif_sring_t *)page, PAGE_SIZE);
	fe.port = sim_port_alloc();
	sim_xs_setf(FE "/ring-ref", "%u", ref);
	sim_xs_setf(FE "/event-channel", "%u", fe.port);
	sim_xs_set(FE "/protocol", XEN_IO_PROTO_ABI_NATIVE);
	fe_state(XenbusStateInitialised);
}

static void
fe_connect(void)
{
	fe_initialised();
	check(be_state() == XenbusStateConnected, "the backend maps the ring and connects");
	fe.be_port = sim_peer_port(fe.port);
}

/* Put a request on the ring, visible at once, and kick the backend. */
static void
fe_push(const struct blkif_request *r)
{
	int notify;

	memcpy(RING_GET_REQUEST(&fe.ring, fe.ring.req_prod_pvt), r, sizeof(*r));
	fe.ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fe.ring, notify);
	(void)notify;
	sim_deliver(fe.be_port);
}

/* Take the responses; true once the one for `id` came (its status in fe.status). */
static bool
fe_wait(uint64_t id, int ms)
{
	struct blkif_response rsp;
	RING_IDX rp;
	int i;

	for (i = 0; i <= ms; i++) {
		rp = fe.ring.sring->rsp_prod;
		__sync_synchronize();
		for (; fe.ring.rsp_cons != rp; fe.ring.rsp_cons++) {
			memcpy(&rsp, RING_GET_RESPONSE(&fe.ring, fe.ring.rsp_cons), sizeof(rsp));
			if (rsp.id < __arraycount(fe.status)) {
				fe.status[rsp.id] = rsp.status;
				fe.op[rsp.id] = rsp.operation;
			} else
				sim_log("fake frontend: response for unknown id %ju", (uintmax_t)rsp.id);
		}
		if (id < __arraycount(fe.status) && fe.status[id] != 99)
			return true;
		sim_msleep(1);
	}
	return false;
}

static bool
answered_ok(uint64_t id, int ms)
{
	return fe_wait(id, ms) && fe.status[id] == BLKIF_RSP_OKAY;
}

/* A data page of guest memory, granted to the backend, filled with `fill`. */
static grant_ref_t
fe_page(uint8_t fill, uint8_t **va)
{
	*va = sim_guest_page();
	memset(*va, fill, PAGE_SIZE);
	return sim_guest_grant(*va, false);
}

static void
rw_request(struct blkif_request *r, uint8_t op, uint64_t id, uint64_t sector)
{
	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->handle = 768;
	r->id = id;
	r->sector_number = sector;
}

static void
add_seg(struct blkif_request *r, grant_ref_t ref, uint8_t first, uint8_t last)
{
	r->seg[r->nr_segments].gref = ref;
	r->seg[r->nr_segments].first_sect = first;
	r->seg[r->nr_segments].last_sect = last;
	r->nr_segments++;
}

/* One page written at `sector`: its id answered OKAY, and the disk holds it. */
static bool
write_page(uint64_t id, uint64_t sector, uint8_t fill, int ms)
{
	struct blkif_request r;
	uint8_t *va;
	size_t i;

	rw_request(&r, BLKIF_OP_WRITE, id, sector);
	add_seg(&r, fe_page(fill, &va), 0, 7);
	fe_push(&r);
	if (!answered_ok(id, ms))
		return false;
	for (i = 0; i < PAGE_SIZE; i++)
		if (sim_disk_data()[sector * SECTOR + i] != fill)
			return false;
	return true;
}

/* A cache flush, no segment: answered OKAY when the backend offered it. */
static bool
flush_ok(uint64_t id, int ms)
{
	struct blkif_request r;

	rw_request(&r, BLKIF_OP_FLUSH_DISKCACHE, id, 0);
	fe_push(&r);
	return answered_ok(id, ms);
}

/* ---- scenarios ------------------------------------------------------------------------------- */

/*
 * The backend goes InitWait with no backing store (libxl runs the hotplug
 * script only then); physical-device opens the disk; the device's
 * properties and its cache features are published once it is Connected.
 */
static void
scenario_initwait_before_backing(void)
{
	be_add(SECTOR);
	check(be_state() == XenbusStateInitWait, "the backend goes InitWait before the backing store exists");
	check(!sim_logged("bdev_open"), "without trying to open a disk");
	check(sim_xs_get(BE "/feature-max-indirect-segments") != NULL &&
	    sim_xs_get(BE "/max-ring-page-order") != NULL, "its transport features are published in InitWait");
	check(sim_xs_get(BE "/sectors") == NULL && sim_xs_get(BE "/sector-size") == NULL &&
	    sim_xs_get(BE "/feature-flush-cache") == NULL,
	    "the device's properties and cache features wait for the device");
	if (!toolstack_hotplug()) {
		check(false, "the toolstack's hotplug script runs (libxl: unable to add device)");
		be_xbusd.xbusd_u.b.b_detach(be_cookie());
		return;
	}
	check(sim_logged("bdev_open 8:0"), "physical-device opens the disk");
	check(be_state() == XenbusStateInitWait, "and the backend stays InitWait for the frontend");
	check(!sim_logged("xenbus fatal") && !sim_logged("printf: "), "with no error reported on the way");
	fe_connect();
	check(sim_xs_get(BE "/sectors") != NULL &&
	    strtoull(sim_xs_get(BE "/sectors"), NULL, 10) == DISK_BYTES / SECTOR &&
	    sim_xs_get(BE "/feature-flush-cache") != NULL && atoi(sim_xs_get(BE "/feature-flush-cache")) == 1,
	    "Connected publishes the device's size and its cache flush");
	check(write_page(1, 0, 0x61, 2000), "a write is served");
	check(flush_ok(2, 2000), "a cache flush is served");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

/*
 * The frontend is Initialised, its ring published, before the hotplug
 * script ran: the backend leaves it waiting, silently, and connects it once
 * physical-device is there.
 */
static void
scenario_frontend_before_backing(void)
{
	be_add(SECTOR);
	check(be_state() == XenbusStateInitWait, "the backend is in InitWait");
	fe_initialised();
	check(be_state() == XenbusStateInitWait, "an Initialised frontend waits while there is no backing store");
	check(sim_shm_mapped() == 0 && sim_xs_get(BE "/sectors") == NULL,
	    "its ring is not mapped, nothing of the device is published");
	check(!sim_logged("xenbus fatal") && !sim_logged("printf: "), "and the wait is not an error");
	if (!toolstack_hotplug()) {
		check(false, "the toolstack's hotplug script runs (libxl: unable to add device)");
		be_xbusd.xbusd_u.b.b_detach(be_cookie());
		return;
	}
	check(be_state() == XenbusStateConnected,
	    "physical-device: the backend opens the disk, reacts again to the frontend and connects");
	check(sim_xs_get(BE "/sectors") != NULL &&
	    strtoull(sim_xs_get(BE "/sectors"), NULL, 10) == DISK_BYTES / SECTOR,
	    "with the size of the disk");
	fe.be_port = sim_peer_port(fe.port);
	check(write_page(1, 8, 0x71, 2000), "the frontend that waited is served");
	check(flush_ok(2, 2000), "its cache flush too");
	check(!sim_logged("xenbus fatal") && !sim_logged("printf: "), "no error was reported");
	fe_state(XenbusStateClosed);
	check(be_state() == XenbusStateClosed && sim_shm_mapped() == 0, "and let go of once it is Closed");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

/* The frontend closes: the backend says Closing, keeps serving, and lets go once it is Closed. */
static void
scenario_close_keeps_serving(void)
{
	be_create(SECTOR);
	fe_connect();
	check(write_page(1, 0, 0x11, 2000), "a write is served");
	fe_state(XenbusStateClosing);
	check(be_state() == XenbusStateClosing, "the backend mirrors the frontend's Closing");
	check(write_page(2, 8, 0x22, 2000), "and keeps serving the ring while the frontend is Closing");
	fe_state(XenbusStateClosed);
	check(be_state() == XenbusStateClosed, "the backend is Closed once the frontend is");
	check(sim_shm_mapped() == 0, "nothing of the frontend stays mapped");
	check(!sim_port_open(fe.be_port), "the event channel is closed");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
	check(sim_logged("bdev_close"), "removing the device closes the disk");
}

/* The toolstack asks the device to go: online 0 and the backend's state Closing. */
static void
scenario_toolstack_close(void)
{
	be_create(SECTOR);
	fe_connect();
	sim_xs_set(BE "/state", "5");
	sim_xs_write_fire(BE "/online", "0");
	sim_xenwatch();
	check(sim_switches(BE, XenbusStateClosing) >= 1,
	    "the backend takes the toolstack's close: it goes Closing itself");
	check(write_page(1, 0, 0x33, 2000), "and keeps serving while the frontend has not closed");
	fe_state(XenbusStateClosing);
	check(write_page(2, 8, 0x44, 2000), "still serving while the frontend is Closing");
	fe_state(XenbusStateClosed);
	check(be_state() == XenbusStateClosed && sim_shm_mapped() == 0,
	    "the ring goes once the frontend is Closed");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

/*
 * The frontend goes Closed with a write in flight, whose completion runs on
 * a slow CPU: the teardown must wait for it, answer it, and leave nothing
 * of the completion running on freed memory.
 */
static void
scenario_drain_race(void)
{
	struct blkif_request r;
	uint8_t *va;
	int i;

	be_create(SECTOR);
	fe_connect();
	sim_disk_async(true, 50, 40);
	rw_request(&r, BLKIF_OP_WRITE, 1, 0);
	add_seg(&r, fe_page(0x55, &va), 0, 7);
	fe_push(&r);
	for (i = 0; i < 2000 && sim_disk_ios() == 0; i++)
		sim_msleep(1);
	check(sim_disk_ios() == 1, "the write is at the disk");
	fe_state(XenbusStateClosed);
	check(be_state() == XenbusStateClosed, "the backend is Closed");
	sim_disk_quiesce();
	sim_msleep(300);	/* whatever the completion had left to do */
	check(fe_wait(1, 0) && fe.status[1] == BLKIF_RSP_OKAY,
	    "the write in flight was answered before the ring went");
	check(sim_shm_mapped() == 0, "nothing of the frontend stays mapped");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

/* ---- the producer index and the barrier after it ---- */

static uint64_t b_id, b_sector;
static uint8_t b_fill;
static bool b_published;

/*
 * The frontend puts request B on the ring at some moment of the backend's
 * loop: its producer index is seen at once, its slot only after the
 * backend's next read barrier (sim_publish_later).
 */
static void
publish_b(void)
{
	struct blkif_request r;
	uint8_t *va;

	rw_request(&r, BLKIF_OP_WRITE, b_id, b_sector);
	add_seg(&r, fe_page(b_fill, &va), 0, 7);
	sim_publish_later(RING_GET_REQUEST(&fe.ring, fe.ring.req_prod_pvt), &r, sizeof(r));
	fe.ring.req_prod_pvt++;
	fe.ring.sring->req_prod = fe.ring.req_prod_pvt;
	b_published = true;
}

static void
scenario_req_prod_barrier(void)
{
	struct blkif_request r;
	uint8_t *va;
	int k;
	bool all = true;

	be_create(SECTOR);
	fe_connect();
	for (k = 1; k <= 40 && all; k++) {
		b_id = 1000 + (uint64_t)k;
		b_sector = 8 * (uint64_t)(20 + k);
		b_fill = (uint8_t)(0x40 + k);
		b_published = false;
		sim_worker_hook(k, publish_b);
		rw_request(&r, BLKIF_OP_WRITE, (uint64_t)k, 8);
		add_seg(&r, fe_page((uint8_t)k, &va), 0, 7);
		fe_push(&r);
		if (!answered_ok((uint64_t)k, 2000)) {
			check(false, "request A is answered");
			break;
		}
		sim_worker_hook(0, NULL);
		if (!b_published)
			publish_b();
		sim_deliver(fe.be_port);
		if (!answered_ok(b_id, 500) ||
		    sim_disk_data()[b_sector * SECTOR] != b_fill ||
		    sim_disk_data()[b_sector * SECTOR + PAGE_SIZE - 1] != b_fill) {
			printf("FAIL request B, published at the backend's mutex_enter %d, is read whole\n", k);
			all = false;
			failures++;
		}
	}
	check(all, "a request published at any point of the backend's loop is read whole");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

/* ---- 4Kn disks ---- */

static void
scenario_split_block_4k(void)
{
	struct blkif_request r;
	uint8_t *p1, *p2, *p3, *p4, *p5, *p6, *p7, *p8;
	grant_ref_t g1, g2, g3, g4, g5, g6, g7, g8;
	const uint8_t *disk;
	size_t i;
	bool same;

	be_create(4096);
	fe_connect();
	check(sim_xs_get(BE "/sector-size") != NULL && strcmp(sim_xs_get(BE "/sector-size"), "4096") == 0,
	    "sector-size is the disk's logical block size");
	check(sim_xs_get(BE "/sectors") != NULL &&
	    strtoull(sim_xs_get(BE "/sectors"), NULL, 10) == DISK_BYTES / SECTOR,
	    "sectors counts 512-byte units");
	disk = sim_disk_data();

	/* Block 1 (sectors 8-15): its first half ends page 1, its second half starts page 2. */
	g1 = fe_page(0x11, &p1);
	g2 = fe_page(0x22, &p2);
	rw_request(&r, BLKIF_OP_WRITE, 1, 8);
	add_seg(&r, g1, 4, 7);
	add_seg(&r, g2, 0, 3);
	fe_push(&r);
	check(answered_ok(1, 2000), "a 4K-aligned write split across two pages is served");
	for (i = 0, same = true; i < 4096; i++)
		same = same && disk[4096 + i] == (i < 2048 ? 0x11 : 0x22);
	check(same, "and lands whole on the disk");

	/* Block 2 (sectors 16-23): both halves at the start of their pages, not adjacent. */
	g3 = fe_page(0x33, &p3);
	g4 = fe_page(0x44, &p4);
	rw_request(&r, BLKIF_OP_WRITE, 2, 16);
	add_seg(&r, g3, 0, 3);
	add_seg(&r, g4, 0, 3);
	fe_push(&r);
	check(answered_ok(2, 2000), "a block scattered over two pages is written");
	for (i = 0, same = true; i < 4096; i++)
		same = same && disk[8192 + i] == (i < 2048 ? 0x33 : 0x44);
	check(same, "and lands whole on the disk");

	/* And both read back the same ways. */
	g5 = fe_page(0, &p5);
	g6 = fe_page(0, &p6);
	rw_request(&r, BLKIF_OP_READ, 3, 16);
	add_seg(&r, g5, 4, 7);
	add_seg(&r, g6, 0, 3);
	fe_push(&r);
	check(answered_ok(3, 2000) && p5[2048] == 0x33 && p5[4095] == 0x33 && p6[0] == 0x44 &&
	    p6[2047] == 0x44, "a block read into two pages, split at a page end, is right");
	g7 = fe_page(0, &p7);
	g8 = fe_page(0, &p8);
	rw_request(&r, BLKIF_OP_READ, 4, 8);
	add_seg(&r, g7, 0, 3);
	add_seg(&r, g8, 0, 3);
	fe_push(&r);
	check(answered_ok(4, 2000) && p7[0] == 0x11 && p7[2047] == 0x11 && p8[0] == 0x22 &&
	    p8[2047] == 0x22 && p7[2048] == 0, "a block read scattered over two pages is right");

	/* Not a whole block: refused by the request checks, not by the disk. */
	rw_request(&r, BLKIF_OP_WRITE, 5, 8);
	add_seg(&r, g1, 0, 3);
	fe_push(&r);
	check(fe_wait(5, 2000) && fe.status[5] == BLKIF_RSP_ERROR, "half a block is refused");
	check(sim_disk_errors() == 0, "the disk never saw an I/O it could not take");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

/* ---- a frontend that names two queues but publishes one ---- */

static void
scenario_malformed_queues(void)
{
	void *page = NULL;
	grant_ref_t ref;
	const char *max;

	be_create(SECTOR);
	max = sim_xs_get(BE "/multi-queue-max-queues");
	check(max != NULL && atoi(max) >= 2, "the backend offers several queues");
	page = sim_guest_page();
	ref = sim_guest_grant(page, false);
	SHARED_RING_INIT((blkif_sring_t *)page);
	fe.port = sim_port_alloc();
	sim_xs_set(FE "/multi-queue-num-queues", "2");
	sim_xs_setf(FE "/queue-0/ring-ref", "%u", ref);
	sim_xs_setf(FE "/queue-0/event-channel", "%u", fe.port);
	sim_xs_set(FE "/protocol", XEN_IO_PROTO_ABI_NATIVE);
	fe_state(XenbusStateInitialised);
	check(be_state() != XenbusStateConnected, "the connection is refused");
	check(sim_shm_mapped() == 0, "nothing of the first queue stays mapped");
	fe_state(XenbusStateClosed);
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
	check(true, "the teardown of the half-made connection is clean");
}

/* ---- an indirect request is answered with its inner operation ---- */

static void
scenario_indirect_inner_op(void)
{
	struct blkif_request r;
	struct blkif_request_indirect *ind = (struct blkif_request_indirect *)&r;
	struct blkif_request_segment *list;
	uint8_t *data;
	size_t i;
	bool same = true;

	be_create(SECTOR);
	fe_connect();
	list = sim_guest_page();
	memset(list, 0, PAGE_SIZE);
	memset(&r, 0, sizeof(r));
	ind->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = BLKIF_OP_WRITE;
	ind->nr_segments = 1;
	ind->id = 9;
	ind->sector_number = 24;
	ind->handle = 768;
	list[0].gref = fe_page(0x5a, &data);
	list[0].first_sect = 0;
	list[0].last_sect = 7;
	ind->indirect_grefs[0] = sim_guest_grant(list, true);
	fe_push(&r);
	check(answered_ok(9, 2000), "an indirect write of one page is served");
	check(fe.op[9] == BLKIF_OP_WRITE, "its response names the inner operation, BLKIF_OP_WRITE (Linux's "
	    "frontend stops the disk on BLKIF_OP_INDIRECT)");
	for (i = 0; i < PAGE_SIZE; i++)
		same = same && sim_disk_data()[24 * SECTOR + i] == 0x5a;
	check(same, "and the page lands on the disk");
	be_xbusd.xbusd_u.b.b_detach(be_cookie());
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} scenarios[] = {
		{ "initwait_before_backing", scenario_initwait_before_backing },
		{ "frontend_before_backing", scenario_frontend_before_backing },
		{ "close_keeps_serving", scenario_close_keeps_serving },
		{ "toolstack_close", scenario_toolstack_close },
		{ "drain_race", scenario_drain_race },
		{ "req_prod_barrier", scenario_req_prod_barrier },
		{ "split_block_4k", scenario_split_block_4k },
		{ "malformed_queues", scenario_malformed_queues },
		{ "indirect_inner_op", scenario_indirect_inner_op },
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc == 2 && i < __arraycount(scenarios); i++) {
		if (strcmp(argv[1], scenarios[i].name) == 0) {
			scenarios[i].fn();
			return failures != 0;
		}
	}
	fprintf(stderr, "usage: be_test <scenario>\n");
	return 2;
}
