/*
 * The generated xbd(4) frontend on the simulated NetBSD kernel (sim.h),
 * against a fake backend played here: it reads the frontend's ring straight
 * from the granted pages and answers (or holds) what it finds there.  The
 * driver is driven only through its OS hooks: autoconf attach and detach,
 * XenBus's backend-changed callback, pmf suspend and resume, the disk's
 * open, close, strategy and ioctl, the event channel interrupt.
 *
 * Usage: fe_test <scenario>.  Prints "ok <what>" or "FAIL <what>" per check;
 * exits 1 if a check failed, 3 on a fault the kernel would panic on.
 */
#include "xbd_xenbus.c"

struct cfdriver xbd_cd = { "xbd" };

#define	FE		"device/vbd/768"
#define	BE		"backend/vbd/0/768"
#define	DISK_BYTES	(1024 * 1024)
#define	SECTOR		512

static struct device fe_dev;
static struct xbd_softc *fe_sc;
static struct xenbus_device fe_xbusd;
static struct xenbusdev_attach_args fe_xa;
static dev_t fe_devno;		/* unit 0, partition 0 */
static int failures;

/* The fake backend: one ring. */
static struct {
	bool		 connected;
	blkif_back_ring_t ring;
	grant_ref_t	 refs[16];
	u_int		 npages;
	evtchn_port_t	 port;
	uint64_t	 last_sector;		/* of the last read or write served */
	u_int		 last_sectors;
	int		 flushes;
} be;
static uint8_t be_disk[DISK_BYTES];

static void
check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	fflush(stdout);
	if (!ok)
		failures++;
}

static int
fe_state(void)
{
	const char *s = sim_xs_get(FE "/state");

	return s == NULL ? -1 : atoi(s);
}

/* ---- the fake backend ---------------------------------------------------------------------- */

/* What a backend publishes in InitWait: its transport maxima. */
static void
be_offer(u_int ring_order)
{
	sim_xs_setf(BE "/max-ring-page-order", "%u", ring_order);
}

/* What a backend publishes on connecting, its device open: the device's properties and cache features. */
static void
be_publish_device(bool flush, u_int sector_size)
{
	sim_xs_set(BE "/feature-flush-cache", flush ? "1" : "0");
	sim_xs_set(BE "/feature-barrier", "0");
	sim_xs_setf(BE "/sector-size", "%u", sector_size);
	sim_xs_setf(BE "/physical-sector-size", "%u", sector_size);
	sim_xs_setf(BE "/sectors", "%u", DISK_BYTES / SECTOR);	/* 512-byte units, always */
	sim_xs_set(BE "/info", "0");
}

/* The backend switches state; XenBus's watch thread tells the frontend. */
static void
be_state(XenbusState s)
{
	sim_xs_setf(BE "/state", "%d", s);
	sim_otherend_changed(&fe_xbusd, s);
}

static unsigned long
fe_node(const char *node, unsigned long def)
{
	char path[128];
	const char *v;

	snprintf(path, sizeof(path), FE "/%s", node);
	v = sim_xs_get(path);
	return v == NULL ? def : strtoul(v, NULL, 10);
}

/* Map what the frontend published: its ring pages (marked mapped) and its event channel. */
static void
be_connect(void)
{
	char name[32];
	u_int i, order = (u_int)fe_node("ring-page-order", 0);
	paddr_t base;

	be.npages = 1U << order;
	for (i = 0; i < be.npages; i++) {
		if (order == 0)
			snprintf(name, sizeof(name), "ring-ref");
		else
			snprintf(name, sizeof(name), "ring-ref%u", i);
		be.refs[i] = (grant_ref_t)fe_node(name, ~0UL);
		sim_grant_set_mapped(be.refs[i], true);
	}
	base = sim_grant_ma(be.refs[0]);
	for (i = 1; i < be.npages; i++)
		if (sim_grant_ma(be.refs[i]) != base + i * PAGE_SIZE)
			sim_fail("fake backend: ring pages not contiguous");
	be.port = (evtchn_port_t)fe_node("event-channel", 0);
	BACK_RING_INIT(&be.ring, (blkif_sring_t *)base, be.npages * PAGE_SIZE);
	be.connected = true;
}

static void
be_disconnect(void)
{
	u_int i;

	for (i = 0; be.connected && i < be.npages; i++)
		sim_grant_set_mapped(be.refs[i], false);
	be.connected = false;
}

static int
be_pending(void)
{
	return be.connected ? (int)(be.ring.sring->req_prod - be.ring.req_cons) : 0;
}

static int16_t
be_do(const struct blkif_request *r)
{
	uint64_t off = r->sector_number * SECTOR;
	uint8_t *data;
	size_t len;
	u_int i;

	switch (r->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		be.last_sector = r->sector_number;
		be.last_sectors = 0;
		for (i = 0; i < r->nr_segments; i++) {
			const struct blkif_request_segment *s = &r->seg[i];

			if (s->first_sect > s->last_sect || s->last_sect >= PAGE_SIZE / SECTOR)
				return BLKIF_RSP_ERROR;
			len = (size_t)(s->last_sect - s->first_sect + 1) * SECTOR;
			if (off + len > DISK_BYTES)
				return BLKIF_RSP_ERROR;
			data = (uint8_t *)sim_grant_ma(s->gref) + s->first_sect * SECTOR;
			if (r->operation == BLKIF_OP_READ)
				memcpy(data, be_disk + off, len);
			else
				memcpy(be_disk + off, data, len);
			off += len;
			be.last_sectors += (u_int)(len / SECTOR);
		}
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		be.flushes++;
		return BLKIF_RSP_OKAY;
	default:
		return BLKIF_RSP_EOPNOTSUPP;
	}
}

/* Answer every request on the ring, then interrupt the frontend. */
static int
be_serve(void)
{
	struct blkif_request req;
	struct blkif_response rsp;
	RING_IDX rc, rp;
	int n = 0, notify;

	if (!be.connected)
		return 0;
	rp = be.ring.sring->req_prod;
	__sync_synchronize();
	for (rc = be.ring.req_cons; rc != rp; rc++) {
		memcpy(&req, RING_GET_REQUEST(&be.ring, rc), sizeof(req));
		memset(&rsp, 0, sizeof(rsp));
		rsp.id = req.id;
		rsp.operation = req.operation;
		rsp.status = be_do(&req);
		memcpy(RING_GET_RESPONSE(&be.ring, be.ring.rsp_prod_pvt), &rsp, sizeof(rsp));
		be.ring.rsp_prod_pvt++;
		n++;
	}
	be.ring.req_cons = rc;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&be.ring, notify);
	(void)notify;
	if (n != 0)
		sim_deliver(be.port);
	return n;
}

/* ---- the guest's side: the disk as its users see it ------------------------------------------- */

static void
fe_attach(void)
{
	fe_sc = calloc(1, xbd_ca.ca_devsize);
	fe_dev.dv_private = fe_sc;
	snprintf(fe_dev.dv_xname, sizeof(fe_dev.dv_xname), "xbd0");
	fe_dev.dv_unit = 0;
	sim_device_set(&fe_dev, fe_sc);
	snprintf(fe_xbusd.xbusd_path, sizeof(fe_xbusd.xbusd_path), FE);
	snprintf(fe_xbusd.sim_otherend, sizeof(fe_xbusd.sim_otherend), BE);
	fe_xbusd.xbusd_otherend = fe_xbusd.sim_otherend;
	fe_xbusd.xbusd_otherend_id = 0;
	fe_xbusd.xbusd_type = XENBUS_FRONTEND_DEVICE;
	fe_xbusd.xbusd_u.f.f_dev = &fe_dev;
	sim_xs_set(FE "/virtual-device", "768");
	sim_xs_set(FE "/backend-id", "0");
	sim_xs_set(FE "/state", "1");
	sim_xs_set(BE "/state", "1");
	fe_xa.xa_type = "vbd";
	fe_xa.xa_xbusd = &fe_xbusd;
	fe_xa.xa_dmat = NULL;
	fe_devno = makedev(142, 0);
	xbd_ca.ca_attach(NULL, &fe_dev, &fe_xa);
}

/* The handshake with a backend offering `ring_order`, `flush` and `sector_size`. */
static void
fe_connect(u_int ring_order, bool flush, u_int sector_size)
{
	be_offer(ring_order);
	be_state(XenbusStateInitWait);
	check(fe_state() == XenbusStateInitialised, "the frontend negotiates on the backend's InitWait");
	be_connect();
	be_publish_device(flush, sector_size);
	be_state(XenbusStateConnected);
	check(fe_state() == XenbusStateConnected, "the frontend connects on the backend's Connected");
}

static void
fill_disk(void)
{
	size_t i;

	for (i = 0; i < DISK_BYTES; i++)
		be_disk[i] = (uint8_t)(i * 7 + i / SECTOR);
}

/* A read of `len` bytes at DEV_BSIZE block `blkno`, through the disk's strategy routine. */
static struct buf *
fe_read(int64_t blkno, size_t len)
{
	struct buf *bp = calloc(1, sizeof(*bp));

	bp->b_data = aligned_alloc(PAGE_SIZE, len);
	memset(bp->b_data, 0xee, len);
	bp->b_bcount = len;
	bp->b_flags = B_READ;
	bp->b_blkno = blkno;
	bp->b_dev = fe_devno;
	xbdstrategy(bp);
	return bp;
}

static bool
read_ok(struct buf *bp)
{
	return sim_buf_wait(bp, 2000) && bp->b_error == 0 && bp->b_resid == 0 &&
	    memcmp(bp->b_data, be_disk + bp->b_blkno * DEV_BSIZE, bp->b_bcount) == 0;
}

static void
buf_free(struct buf *bp)
{
	free(bp->b_data);
	free(bp);
}

static int flush_error = -1;
static int flush_slow_ms;

/* A thread that asks for a cache flush and waits for it. */
static void *
flush_thread(void *arg)
{
	int force = 1;

	(void)arg;
	/* Preempted after each wakeup, before it takes its mutex back. */
	sim_set_slow_waiter(flush_slow_ms);
	flush_error = xbdioctl(fe_devno, DIOCCACHESYNC, &force, FWRITE, curlwp);
	return NULL;
}

static void
wait_pending(int n)
{
	int i;

	for (i = 0; i < 2000 && be_pending() < n; i++)
		sim_msleep(1);
}

/* ---- scenarios ------------------------------------------------------------------------------- */

/*
 * The backend asks to close while the disk is open: the disk stays and works
 * until its last close; the grants go only once the backend is Closed.
 */
static void
scenario_close_open_disk(void)
{
	struct buf *bp;
	int error;

	fill_disk();
	fe_attach();
	fe_connect(0, true, SECTOR);
	check(xbdopen(fe_devno, FREAD, S_IFBLK, curlwp) == 0, "the disk opens");
	be_state(XenbusStateClosing);
	check(fe_state() == XenbusStateClosing, "with the disk open, the frontend stays Closing");
	bp = fe_read(16, 8192);
	be_serve();
	check(read_ok(bp), "I/O goes on while the frontend is Closing");
	buf_free(bp);
	error = xbdopen(fe_devno, FREAD, S_IFCHR, curlwp);
	check(error != 0, "no new user may open the disk while it closes");
	if (error == 0)
		(void)xbdclose(fe_devno, FREAD, S_IFCHR, curlwp);
	check(fe_state() == XenbusStateClosing, "still Closing while the disk is open");
	(void)xbdclose(fe_devno, FREAD, S_IFBLK, curlwp);
	check(fe_state() == XenbusStateClosed, "the last close lets the frontend go Closed");
	check(sim_grant_live(be.refs[0]), "the ring stays granted while the backend may still use it");
	check(!sim_logged("still in use"), "no grant is taken back from under the backend");
	be_disconnect();
	be_state(XenbusStateClosed);
	check(sim_grants_live() == 0, "every grant is revoked once the backend is Closed");
	check(fe_sc->sc_dksc.sc_dkdev.dk_busy == 0, "dk(4)'s busy count is balanced");
	check(xbd_ca.ca_detach(&fe_dev, 0) == 0, "the device detaches");
}

/*
 * Requests in flight at a suspend: the disk stays, they are sent again to the
 * backend found after the resume, whose features differ from the old one's.
 */
static void
scenario_resume_in_flight(void)
{
	struct buf *bp[3];
	pthread_t t;
	int i, done, force = 1;

	fill_disk();
	fe_attach();
	fe_connect(0, true, SECTOR);
	check(xbdopen(fe_devno, FREAD | FWRITE, S_IFBLK, curlwp) == 0, "the disk opens");
	for (i = 0; i < 3; i++)
		bp[i] = fe_read(8 * (i + 1), 4096 * (size_t)(i + 1));
	pthread_create(&t, NULL, flush_thread, NULL);
	wait_pending(4);
	check(be_pending() == 4, "three reads and a cache flush are on the ring, unanswered");

	check(xbd_suspend(&fe_dev, NULL), "pmf suspend");
	sim_new_host();		/* the old backend and its mappings are gone */
	memset(&be, 0, sizeof(be));
	sim_xs_set(BE "/state", "1");
	check(xbd_resume(&fe_dev, NULL), "pmf resume");
	check(fe_state() == XenbusStateInitialising, "after the resume the frontend starts over");
	for (i = 0, done = 0; i < 3; i++)
		done += bp[i]->b_simdone;
	check(done == 0, "what was in flight is kept, not failed");
	check(sim_bad_closes() == 0, "no event channel of the old host is closed on the new one");

	/* The new host's backend: a two-page ring, and no cache flush. */
	fe_connect(1, false, SECTOR);
	check(be.npages == 2, "the ring is renegotiated with the new backend");
	check(be_pending() == 3, "the reads are sent again on the new ring");
	be_serve();
	for (i = 0; i < 3; i++)
		check(read_ok(bp[i]), "a read kept across the resume completes with the right data");
	pthread_join(t, NULL);
	check(flush_error == EOPNOTSUPP, "the flush kept across the resume meets the new backend's features");
	check(sim_disk_attaches() == 1, "the disk is the same one: never attached again");
	check(xbdioctl(fe_devno, DIOCCACHESYNC, &force, FWRITE, curlwp) == EOPNOTSUPP,
	    "the features are the new backend's: no cache flush any more");
	check(fe_sc->sc_dksc.sc_dkdev.dk_busy == 0, "dk(4)'s busy count is balanced");
	for (i = 0; i < 3; i++)
		buf_free(bp[i]);
}

/*
 * A thread waits for a cache flush when the backend goes away: the request
 * slots are freed under it; it must still get its answer safely.
 */
static void
scenario_flush_waiter(void)
{
	pthread_t t;

	fe_attach();
	fe_connect(0, true, SECTOR);
	check(xbdopen(fe_devno, FREAD | FWRITE, S_IFBLK, curlwp) == 0, "the disk opens");
	flush_slow_ms = 200;
	pthread_create(&t, NULL, flush_thread, NULL);
	wait_pending(1);
	check(be_pending() == 1, "the flush is on the ring, unanswered");
	be_disconnect();
	be_state(XenbusStateClosed);
	pthread_join(t, NULL);
	check(flush_error == EIO, "the waiter is told the flush failed");
	check(sim_grants_live() == 0, "the ring is released");
	check(xbd_ca.ca_detach(&fe_dev, DETACH_FORCE) == 0, "the device detaches");
}

/* A 4Kn backend: the disk counts 4096-byte blocks, the ring 512-byte sectors. */
static void
scenario_sector_4k(void)
{
	struct buf *bp;

	fill_disk();
	fe_attach();
	fe_connect(0, false, 4096);
	check(fe_sc->sc_dksc.sc_dkdev.dk_geom.dg_secsize == 4096, "the disk's block is sector-size");
	check(fe_sc->sc_dksc.sc_dkdev.dk_geom.dg_secperunit == DISK_BYTES / 4096,
	    "the disk's size is sectors * 512 bytes");
	check(xbdopen(fe_devno, FREAD, S_IFBLK, curlwp) == 0, "the disk opens");
	bp = fe_read(24, 8192);
	be_serve();
	check(read_ok(bp), "a read of two blocks completes with the right data");
	check(be.last_sector == 24 && be.last_sectors == 16, "the request counts 512-byte sectors");
	buf_free(bp);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} scenarios[] = {
		{ "close_open_disk", scenario_close_open_disk },
		{ "resume_in_flight", scenario_resume_in_flight },
		{ "flush_waiter", scenario_flush_waiter },
		{ "sector_4k", scenario_sector_4k },
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc == 2 && i < __arraycount(scenarios); i++) {
		if (strcmp(argv[1], scenarios[i].name) == 0) {
			scenarios[i].fn();
			return failures != 0;
		}
	}
	fprintf(stderr, "usage: fe_test <scenario>\n");
	return 2;
}
