/*
 * Scenarios for the generated FreeBSD backend (xbb.c, included whole below)
 * against a frontend played by this file: its pages live in the simulation's
 * arena, it writes its XenStore nodes and requests the way a blkfront does,
 * and it reads the answers from its own view of the ring.  Each scenario
 * prints "ok" or says what went wrong and exits non-zero; a panic of the
 * simulated kernel or an AddressSanitizer report also ends it non-zero.
 *
 * usage: xbb_sim <scenario>
 */
#include "xbb.c"
#include "sim.h"

#define	FE	"device/vbd/768"
#define	BE	"backend/vbd/1/768"
#define	FE_PORT	77
#define	MB	(1024 * 1024)

#define	CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		fprintf(stdout, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);\
		fprintf(stdout, __VA_ARGS__);					\
		fprintf(stdout, "\n");						\
		fflush(NULL);							\
		exit(1);							\
	}									\
} while (0)

static struct sim_store *st;
static device_t dev;
static struct xbb_softc *sc;

/* The frontend. */
static blkif_sring_t *sring;
static blkif_front_ring_t fring;
static u_int next_page = 16;		/* arena pages for data */

struct seg {
	u_int	page;			/* arena page */
	uint8_t	first, last;		/* 512-byte sectors of it */
};

/* What XenBus does when a node of the backend's own directory changes. */
static void
bus_localend(const char *path)
{
	if (strcmp(path, "/state") != 0)
		sim_bus_refresh_state(dev);
	xbb_localend_changed(dev, path);
}

/*
 * The toolstack (libxl) creates the backend's directory, without the
 * backing store, and XenBus attaches the backend.  The provider exists
 * already; only the hotplug script names it.
 */
static void
be_attach(off_t size, u_int sectorsize)
{
	st = sim_store_new("ada0", size, sectorsize);
	sim_xs_set(BE "/mode", "w");
	sim_xs_set(BE "/type", "phy");
	sim_xs_set(BE "/params", "/dev/ada0");
	sim_xs_set(BE "/online", "1");
	sim_xs_set(BE "/state", "1");
	sim_xs_set(FE "/state", "1");
	dev = sim_device_new("xbb0", BE, FE, 1, sizeof(struct xbb_softc));
	sc = device_get_softc(dev);
	CHECK(xbb_attach(dev) == 0, "attach");
}

/*
 * libxl waits for the backend to reach InitWait, and only then runs the
 * hotplug script, which writes physical-device-path (the watch fires).  A
 * backend that is not in InitWait by then never gets there: libxl gives up
 * ("unable to add device").
 */
static void
hotplug(void)
{
	CHECK(xenbus_get_state(dev) == XenbusStateInitWait,
	    "libxl: unable to add device: the backend is in state %d, not InitWait, before the hotplug script",
	    xenbus_get_state(dev));
	sim_xs_set(BE "/physical-device-path", "/dev/ada0");
	bus_localend("/physical-device-path");
}

static void
be_setup(off_t size, u_int sectorsize)
{
	be_attach(size, sectorsize);
	hotplug();
	CHECK(xenbus_get_state(dev) == XenbusStateInitWait, "state %d", xenbus_get_state(dev));
}

/* The frontend's ring on arena page `page`, published under `dir` with event channel `port`. */
static void
fe_ring(u_int page, const char *dir, evtchn_port_t port, blkif_sring_t **srp, blkif_front_ring_t *fr)
{
	char path[128];

	*srp = sim_arena_page(page);
	memset(*srp, 0, PAGE_SIZE);
	SHARED_RING_INIT(*srp);
	FRONT_RING_INIT(fr, *srp, PAGE_SIZE);
	snprintf(path, sizeof(path), "%s/ring-ref", dir);
	sim_xs_setf(path, "%u", sim_arena_grant(page, false));
	snprintf(path, sizeof(path), "%s/event-channel", dir);
	sim_xs_setf(path, "%u", port);
}

static void
fe_state(XenbusState s)
{
	sim_xs_setf(FE "/state", "%d", (int)s);
	xbb_frontend_changed(dev, s);
}

static void
fe_connect(void)
{
	fe_ring(0, FE, FE_PORT, &sring, &fring);
	fe_state(XenbusStateInitialised);
	CHECK(xenbus_get_state(dev) == XenbusStateConnected, "state %d, fatal: %s",
	    xenbus_get_state(dev), sim_last_fatal);
	CHECK(sim_evtchn_by_remote(FE_PORT) != NULL, "no event channel bound");
}

/* A read or write of the pages of segs[] at 512-byte sector `sector`. */
static void
fe_fill(struct blkif_request *r, uint8_t op, uint64_t id, uint64_t sector, const struct seg *segs,
    u_int n)
{
	u_int i;

	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->nr_segments = (uint8_t)n;
	r->handle = 768;
	r->id = id;
	r->sector_number = sector;
	for (i = 0; i < n; i++) {
		r->seg[i].gref = sim_arena_grant(segs[i].page, op == BLKIF_OP_WRITE);
		r->seg[i].first_sect = segs[i].first;
		r->seg[i].last_sect = segs[i].last;
	}
}

static void
fe_push(uint8_t op, uint64_t id, uint64_t sector, const struct seg *segs, u_int n)
{
	fe_fill(RING_GET_REQUEST(&fring, fring.req_prod_pvt), op, id, sector, segs, n);
	fring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&fring);
}

static void
fe_kick(void)
{
	CHECK(sim_evtchn_fire(sim_evtchn_by_remote(FE_PORT)), "the backend's event channel is unbound");
}

/* Wait (up to 3 s) until the backend produced `n` responses in all. */
static bool
fe_wait(RING_IDX n)
{
	int ms;

	for (ms = 0; ms < 3000; ms++) {
		if (sring->rsp_prod >= n)
			return (true);
		sim_sleep_ms(1);
	}
	return (false);
}

static struct blkif_response *
fe_rsp(RING_IDX i)
{
	return (&sring->ring[i & (RING_SIZE(&fring) - 1)].rsp);
}

static struct seg
page_seg(uint8_t first, uint8_t last)
{
	return ((struct seg){ next_page++, first, last });
}

/* Bytes of the pages of segs[], in order, into or out of buf. */
static void
seg_copy(const struct seg *segs, u_int n, uint8_t *buf, bool into_pages)
{
	u_int i;
	size_t len;

	for (i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)sim_arena_page(segs[i].page) + segs[i].first * 512;

		len = (size_t)(segs[i].last - segs[i].first + 1) * 512;
		if (into_pages)
			memcpy(p, buf, len);
		else
			memcpy(buf, p, len);
		buf += len;
	}
}

static void
pattern(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* One write of 4 KiB at `sector`, answered OK. */
static void
write_one(uint64_t id, uint64_t sector)
{
	struct seg s = page_seg(0, 7);
	uint8_t data[4096];
	RING_IDX want = sring->rsp_prod + 1;

	pattern(data, sizeof(data), (unsigned)id);
	seg_copy(&s, 1, data, true);
	fe_push(BLKIF_OP_WRITE, id, sector, &s, 1);
	fe_kick();
	CHECK(fe_wait(want), "request %ju not answered", (uintmax_t)id);
	CHECK(fe_rsp(want - 1)->id == id && fe_rsp(want - 1)->status == BLKIF_RSP_OKAY,
	    "answer id %ju status %d", (uintmax_t)fe_rsp(want - 1)->id, fe_rsp(want - 1)->status);
	CHECK(memcmp(sim_store_data(st) + sector * 512, data, sizeof(data)) == 0, "data not written");
}

/* A flush of the disk's cache (no data), answered `status`. */
static void
flush_one(uint64_t id, int16_t status)
{
	RING_IDX want = sring->rsp_prod + 1;

	fe_push(BLKIF_OP_FLUSH_DISKCACHE, id, 0, NULL, 0);
	fe_kick();
	CHECK(fe_wait(want), "flush %ju not answered", (uintmax_t)id);
	CHECK(fe_rsp(want - 1)->id == id && fe_rsp(want - 1)->status == status,
	    "flush %ju: status %d", (uintmax_t)id, fe_rsp(want - 1)->status);
}

/* ---- scenarios ---------------------------------------------------------- */

/*
 * The backend goes InitWait at attach, with no backing store yet: its
 * transport features are there for the frontend, the device properties
 * (and flush, barrier, discard) are not.  The hotplug script then runs;
 * the store opens, and the frontend connects and is served.
 */
static void
initwait_before_hotplug(void)
{
	be_attach(MB, 512);
	CHECK(xenbus_get_state(dev) == XenbusStateInitWait,
	    "state %d after attach: the backend waits for the backing store before InitWait",
	    xenbus_get_state(dev));
	CHECK(sim_fatal_count == 0, "fatal: %s", sim_last_fatal);
	CHECK(sc->cp == NULL, "a backing store open before the hotplug script ran");
	CHECK(sim_xs_get_long(BE "/max-ring-page-order", -1) >= 0, "transport features not published in InitWait");
	CHECK(sim_xs_get_long(BE "/sectors", -1) == -1, "device properties published without a backing store");
	CHECK(sim_xs_get_long(BE "/feature-flush-cache", -1) == -1, "feature-flush-cache published in InitWait");
	hotplug();
	CHECK(xenbus_get_state(dev) == XenbusStateInitWait, "state %d after the hotplug script",
	    xenbus_get_state(dev));
	CHECK(sc->cp != NULL, "the backing store was not opened on backing_ready");
	fe_connect();
	CHECK(sim_xs_get_long(BE "/sectors", 0) == MB / 512, "sectors %ld", sim_xs_get_long(BE "/sectors", 0));
	CHECK(sim_xs_get_long(BE "/feature-flush-cache", 0) == 1, "no feature-flush-cache once Connected");
	write_one(1, 0);
	flush_one(2, BLKIF_RSP_OKAY);
}

/*
 * The frontend publishes its rings and goes Initialised before the hotplug
 * script has run: the backend does not connect, quietly (no fatal error,
 * no message, nothing mapped), and connects by itself once the script
 * wrote physical-device-path, without the frontend changing state again.
 * Another write of the node changes nothing.
 */
static void
frontend_before_backing(void)
{
	be_attach(MB, 512);
	fe_ring(0, FE, FE_PORT, &sring, &fring);
	fe_state(XenbusStateInitialised);
	CHECK(xenbus_get_state(dev) == XenbusStateInitWait, "state %d without a backing store",
	    xenbus_get_state(dev));
	CHECK(sim_maps_active() == 0, "%u grants mapped without a backing store", sim_maps_active());
	CHECK(sim_evtchn_by_remote(FE_PORT) == NULL, "event channel bound without a backing store");
	CHECK(sim_fatal_count == 0, "fatal: %s", sim_last_fatal);
	CHECK(sim_device_printfs == 0, "the backend complained while it waits for the backing store");
	hotplug();
	CHECK(xenbus_get_state(dev) == XenbusStateConnected,
	    "state %d once the backing store is ready (the frontend is Initialised), fatal: %s",
	    xenbus_get_state(dev), sim_last_fatal);
	CHECK(sim_xs_get_long(BE "/sectors", 0) == MB / 512, "sectors %ld", sim_xs_get_long(BE "/sectors", 0));
	write_one(1, 0);
	flush_one(2, BLKIF_RSP_OKAY);
	bus_localend("/physical-device-path");
	CHECK(xenbus_get_state(dev) == XenbusStateConnected, "state %d after the node was written again",
	    xenbus_get_state(dev));
	write_one(3, 8);
}

/*
 * The frontend goes away before the hotplug script runs, and the script
 * writes physical-device-path while the backend is Closed (backing_ready
 * has nothing to do then).  When the frontend comes back, the store opens
 * and the pair connects.
 */
static void
hotplug_while_closed(void)
{
	be_attach(MB, 512);
	fe_state(XenbusStateClosing);
	fe_state(XenbusStateClosed);
	CHECK(xenbus_get_state(dev) == XenbusStateClosed, "state %d", xenbus_get_state(dev));
	sim_xs_set(BE "/physical-device-path", "/dev/ada0");
	bus_localend("/physical-device-path");
	fe_state(XenbusStateInitialising);
	CHECK(xenbus_get_state(dev) == XenbusStateInitWait, "state %d", xenbus_get_state(dev));
	fe_connect();
	write_one(1, 0);
}

/*
 * The frontend closes while it still has a disk in use: the backend mirrors
 * Closing, keeps serving the ring, and lets go of it only once the frontend
 * is Closed.
 */
static void
close_keeps_serving(void)
{
	be_setup(MB, 512);
	fe_connect();
	write_one(1, 0);
	fe_state(XenbusStateClosing);
	CHECK(xenbus_get_state(dev) == XenbusStateClosing, "state %d", xenbus_get_state(dev));
	CHECK(sim_maps_active() > 0, "the ring was unmapped while the frontend is Closing");
	write_one(2, 8);
	fe_state(XenbusStateClosed);
	CHECK(xenbus_get_state(dev) == XenbusStateClosed, "state %d", xenbus_get_state(dev));
	CHECK(sim_maps_active() == 0, "%u grants still mapped after the frontend closed", sim_maps_active());
	CHECK(xbb_detach(dev) == 0 && sc->cp == NULL, "detach left the backing store open");
}

/*
 * The toolstack asks for the device to go (xl block-detach): online 0, then
 * Closing in the backend's state node, each write with its watch event.
 * The backend goes Closing and keeps serving until the frontend is Closed.
 */
static void
toolstack_close(void)
{
	be_setup(MB, 512);
	fe_connect();
	write_one(1, 0);
	sim_xs_set(BE "/online", "0");
	bus_localend("/online");
	CHECK(xenbus_get_state(dev) == XenbusStateConnected, "went %d on online 0 alone",
	    xenbus_get_state(dev));
	sim_xs_set(BE "/state", "5");
	bus_localend("/state");
	CHECK(xenbus_get_state(dev) == XenbusStateClosing, "state %d after the toolstack's close",
	    xenbus_get_state(dev));
	write_one(2, 8);
	fe_state(XenbusStateClosing);
	CHECK(sim_maps_active() > 0, "the ring was unmapped while the frontend is Closing");
	write_one(3, 16);
	fe_state(XenbusStateClosed);
	CHECK(xenbus_get_state(dev) == XenbusStateClosed, "state %d", xenbus_get_state(dev));
	CHECK(sim_maps_active() == 0, "%u grants still mapped", sim_maps_active());
}

static RING_IDX rsp_at_unmap = (RING_IDX)-1;
static grant_ref_t ring_gref;

static void
note_ring_unmap(uint64_t host_addr, grant_ref_t ref)
{
	(void)host_addr;
	if (ref == ring_gref)
		rsp_at_unmap = sring->rsp_prod;
}

static void *
close_thread(void *arg)
{
	(void)arg;
	fe_state(XenbusStateClosed);
	return (NULL);
}

/*
 * The frontend closes while a request is still in the provider, whose
 * completion arrives during the teardown (and lingers in g_destroy_bio).
 * The request is answered before the ring is unmapped, and nothing touches
 * the ring after it is gone.
 */
static void
teardown_race(void)
{
	struct seg s;
	uint8_t data[4096];
	pthread_t t;

	be_setup(MB, 512);
	fe_connect();
	ring_gref = (grant_ref_t)sim_xs_get_long(FE "/ring-ref", -1);
	sim_unmap_hook = note_ring_unmap;
	sim_store_hold(st, true);
	sim_store_destroy_delay(st, 300);
	s = page_seg(0, 7);
	pattern(data, sizeof(data), 9);
	seg_copy(&s, 1, data, true);
	fe_push(BLKIF_OP_WRITE, 1, 0, &s, 1);
	fe_kick();
	while (sim_store_queued(st) == 0)
		sim_sleep_ms(1);
	pthread_create(&t, NULL, close_thread, NULL);
	sim_sleep_ms(50);
	sim_store_hold(st, false);
	pthread_join(t, NULL);
	CHECK(xenbus_get_state(dev) == XenbusStateClosed, "state %d", xenbus_get_state(dev));
	CHECK(rsp_at_unmap == 1, "the ring was unmapped with %d of 1 answers given", (int)rsp_at_unmap);
	CHECK(fe_rsp(0)->id == 1 && fe_rsp(0)->status == BLKIF_RSP_OKAY, "status %d", fe_rsp(0)->status);
	CHECK(sim_maps_active() == 0, "%u grants still mapped", sim_maps_active());
	sim_sleep_ms(500);		/* the completion thread leaves g_destroy_bio */
	CHECK(sim_lost_signals == 0, "%u answers were never notified", sim_lost_signals);
}

/*
 * A frontend asks for two queues and describes only the first: connecting
 * fails cleanly (a fatal error, nothing left mapped), without destroying a
 * lock that was never initialised.
 */
static void
malformed_queues(void)
{
	blkif_sring_t *sr;
	blkif_front_ring_t fr;

	be_setup(MB, 512);
	sim_xs_set(FE "/multi-queue-num-queues", "2");
	fe_ring(0, FE "/queue-0", FE_PORT, &sr, &fr);
	fe_state(XenbusStateInitialised);
	CHECK(sim_fatal_count > 0, "no fatal error for a missing queue-1");
	CHECK(sim_maps_active() == 0, "%u grants still mapped", sim_maps_active());
	CHECK(xenbus_get_state(dev) != XenbusStateConnected, "connected anyway");
}

/*
 * A weak memory model: a request the frontend publishes becomes visible to
 * the backend only after the backend's next read barrier.  The frontend
 * publishes a second request while the backend copies the first; the
 * backend must read it only after a barrier that follows its read of the
 * new producer index.
 */
static struct blkif_request late_req;
static RING_IDX late_idx;
static bool late_pending, late_published;

static void
weak_flush(void)
{
	if (late_pending) {
		*RING_GET_REQUEST(&fring, late_idx) = late_req;
		late_pending = false;
	}
}

static void
weak_on_read(const void *src, size_t n)
{
	struct seg s;
	const char *r = (const char *)sc->rings[0].rings.native.sring;

	(void)n;
	if (late_published || sc->rings == NULL || (const char *)src < r || (const char *)src >= r + PAGE_SIZE)
		return;
	/* The backend reads request 1: the frontend publishes request 2, not yet visible. */
	late_published = true;
	s = page_seg(0, 7);
	fe_fill(&late_req, BLKIF_OP_WRITE, 2, 8, &s, 1);
	late_idx = fring.req_prod_pvt++;
	memset(RING_GET_REQUEST(&fring, late_idx), 0xa5, sizeof(struct blkif_request));
	late_pending = true;
	__atomic_store_n(&sring->req_prod, fring.req_prod_pvt, __ATOMIC_RELAXED);
}

static void
req_prod_barrier(void)
{
	struct seg s;

	be_setup(MB, 512);
	fe_connect();
	sim_barrier_hook = weak_flush;
	sim_read_hook = weak_on_read;
	s = page_seg(0, 7);
	fe_push(BLKIF_OP_WRITE, 1, 0, &s, 1);
	fe_kick();
	CHECK(fe_wait(2), "%u of 2 requests answered", sring->rsp_prod);
	sim_read_hook = NULL;
	CHECK(late_published, "the scenario did not run");
	CHECK(fe_rsp(0)->id == 1 && fe_rsp(0)->status == BLKIF_RSP_OKAY, "first answer: id %#jx status %d",
	    (uintmax_t)fe_rsp(0)->id, fe_rsp(0)->status);
	CHECK(fe_rsp(1)->id == 2 && fe_rsp(1)->status == BLKIF_RSP_OKAY,
	    "second answer: id %#jx status %d (read before the barrier)", (uintmax_t)fe_rsp(1)->id,
	    fe_rsp(1)->status);
}

/*
 * A 4Kn provider: the backend publishes sector-size 4096 and sectors in
 * 512-byte units (publish_4k), and serves requests aligned to 4 KiB whose
 * blocks span two segments, with the data either contiguous across pages or
 * not (io_4k).
 */
static void
rw_4k(uint8_t op, uint64_t id, uint64_t sector, const struct seg *segs, u_int n)
{
	RING_IDX want = sring->rsp_prod + 1;

	fe_push(op, id, sector, segs, n);
	fe_kick();
	CHECK(fe_wait(want), "request %ju not answered", (uintmax_t)id);
	CHECK(fe_rsp(want - 1)->id == id && fe_rsp(want - 1)->status == BLKIF_RSP_OKAY,
	    "request %ju: status %d", (uintmax_t)id, fe_rsp(want - 1)->status);
}

static void
publish_4k(void)
{
	char *v;

	be_setup(MB, 4096);
	fe_connect();
	v = sim_xs_get(BE "/sector-size");
	CHECK(v != NULL && strcmp(v, "4096") == 0, "sector-size %s", v ? v : "absent");
	free(v, M_TEMP);
	CHECK(sim_xs_get_long(BE "/sectors", 0) == MB / 512, "sectors %ld", sim_xs_get_long(BE "/sectors", 0));
}

static void
io_4k(void)
{
	struct seg across[3], gaps[3], back[3];
	uint8_t data[8192], got[8192];

	be_setup(MB, 4096);
	fe_connect();
	/* 8 KiB at 4 KiB: a block across the end of one page and the start of the next. */
	across[0] = page_seg(4, 7);
	across[1] = page_seg(0, 7);
	across[2] = page_seg(0, 3);
	pattern(data, sizeof(data), 3);
	seg_copy(across, 3, data, true);
	rw_4k(BLKIF_OP_WRITE, 1, 8, across, 3);
	CHECK(memcmp(sim_store_data(st) + 4096, data, sizeof(data)) == 0, "data not where it belongs");

	/* The same blocks with a gap in the middle of a page: no run of segments is whole blocks. */
	gaps[0] = page_seg(0, 3);
	gaps[1] = page_seg(0, 7);
	gaps[2] = page_seg(0, 3);
	rw_4k(BLKIF_OP_READ, 2, 8, gaps, 3);
	seg_copy(gaps, 3, got, false);
	CHECK(memcmp(got, data, sizeof(data)) == 0, "read back wrong data");
	pattern(data, sizeof(data), 4);
	seg_copy(gaps, 3, data, true);
	rw_4k(BLKIF_OP_WRITE, 3, 24, gaps, 3);
	back[0] = page_seg(4, 7);
	back[1] = page_seg(0, 7);
	back[2] = page_seg(0, 3);
	rw_4k(BLKIF_OP_READ, 4, 24, back, 3);
	seg_copy(back, 3, got, false);
	CHECK(memcmp(got, data, sizeof(data)) == 0, "wrong data after a write with gaps");
	CHECK(memcmp(sim_store_data(st) + 24 * 512, data, sizeof(data)) == 0, "data not where it belongs");
}

/*
 * An indirect write of one page: served from the segment list on the
 * indirect page, and answered with the inner operation (Linux's frontend
 * stops the disk on a response that names BLKIF_OP_INDIRECT).
 */
static void
indirect_names_inner_op(void)
{
	struct blkif_request_indirect *r;
	struct blkif_request_segment *list;
	struct seg s, ind;
	uint8_t data[4096];
	RING_IDX want;

	be_setup(MB, 512);
	fe_connect();
	want = sring->rsp_prod + 1;
	s = page_seg(0, 7);
	ind = page_seg(0, 7);
	pattern(data, sizeof(data), 9);
	seg_copy(&s, 1, data, true);
	list = sim_arena_page(ind.page);
	memset(list, 0, PAGE_SIZE);
	list[0].gref = sim_arena_grant(s.page, true);
	list[0].first_sect = 0;
	list[0].last_sect = 7;
	r = (struct blkif_request_indirect *)RING_GET_REQUEST(&fring, fring.req_prod_pvt);
	memset(r, 0, sizeof(*r));
	r->operation = BLKIF_OP_INDIRECT;
	r->indirect_op = BLKIF_OP_WRITE;
	r->nr_segments = 1;
	r->id = 7;
	r->sector_number = 16;
	r->handle = 768;
	r->indirect_grefs[0] = sim_arena_grant(ind.page, true);
	fring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&fring);
	fe_kick();
	CHECK(fe_wait(want), "the indirect request was not answered");
	CHECK(fe_rsp(want - 1)->id == 7 && fe_rsp(want - 1)->status == BLKIF_RSP_OKAY,
	    "indirect write: id %ju status %d", (uintmax_t)fe_rsp(want - 1)->id, fe_rsp(want - 1)->status);
	CHECK(fe_rsp(want - 1)->operation == BLKIF_OP_WRITE,
	    "the response names operation %u, not the inner BLKIF_OP_WRITE", fe_rsp(want - 1)->operation);
	CHECK(memcmp(sim_store_data(st) + 16 * 512, data, sizeof(data)) == 0, "data not written");
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "initwait_before_hotplug", initwait_before_hotplug },
	{ "frontend_before_backing", frontend_before_backing },
	{ "hotplug_while_closed", hotplug_while_closed },
	{ "close_keeps_serving", close_keeps_serving },
	{ "toolstack_close", toolstack_close },
	{ "teardown_race", teardown_race },
	{ "malformed_queues", malformed_queues },
	{ "req_prod_barrier", req_prod_barrier },
	{ "publish_4k", publish_4k },
	{ "io_4k", io_4k },
	{ "indirect_names_inner_op", indirect_names_inner_op },
};

int
main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc == 2 && i < nitems(scenarios); i++) {
		if (strcmp(argv[1], scenarios[i].name) == 0) {
			scenarios[i].run();
			printf("ok\n");
			fflush(NULL);
			_Exit(0);	/* the drivers' threads stay */
		}
	}
	fprintf(stderr, "usage: xbb_sim <scenario>\n");
	return (2);
}
