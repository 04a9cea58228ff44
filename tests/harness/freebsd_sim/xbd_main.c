/*
 * Scenarios for the generated FreeBSD frontend (xbd.c, included whole below)
 * against a backend played by this file (it reads the frontend's grants
 * straight from memory and answers when told to) and against GEOM's users
 * of the disk (d_open, d_strategy, d_close, as g_disk calls them).  Each
 * scenario prints "ok" or says what went wrong and exits non-zero; a panic
 * of the simulated kernel or an AddressSanitizer report also ends it
 * non-zero.
 *
 * usage: xbd_sim <scenario>
 */
#include "xbd.c"
#include "sim.h"

#define	FE	"device/vbd/768"
#define	BE1	"backend/vbd/1/768"
#define	BE2	"backend/vbd/2/768"
#define	KB	1024
#define	DISK	(1024 * KB)

#define	CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		fprintf(stdout, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);\
		fprintf(stdout, __VA_ARGS__);					\
		fprintf(stdout, "\n");						\
		fflush(NULL);							\
		exit(1);							\
	}									\
} while (0)

static device_t dev;
static uint8_t *image;			/* the backing store, the same after a migration */

/* ---- the backend ---------------------------------------------------------- */

struct tbe {
	const char		*dir;
	bool			indirect;	/* offered feature-max-indirect-segments */
	blkif_sring_t		*sring;
	blkif_back_ring_t	ring;
	struct sim_evtchn	*ch;		/* the frontend's */
	u_int			served;
};
static struct tbe be1 = { BE1, true }, be2 = { BE2, false };

static void
be_state(struct tbe *b, XenbusState s)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/state", b->dir);
	sim_xs_setf(path, "%d", (int)s);
	xbd_backend_changed(dev, s);
}

static void
be_node(struct tbe *b, const char *node, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", b->dir, node);
	sim_xs_set(path, value);
}

/* InitWait with the features of this backend. */
static void
be_offer(struct tbe *b)
{
	be_node(b, "feature-flush-cache", "1");
	be_node(b, "feature-discard", "0");
	if (b->indirect)
		be_node(b, "feature-max-indirect-segments", "32");
	be_state(b, XenbusStateInitWait);
	CHECK(xenbus_get_state(dev) == XenbusStateInitialised, "state %d: %s", xenbus_get_state(dev),
	    sim_last_fatal);
}

/* Connected: the device's properties, then the ring the frontend published. */
static void
be_connect(struct tbe *b)
{
	be_node(b, "sectors", "2048");
	be_node(b, "sector-size", "512");
	be_node(b, "info", "0");
	b->sring = sim_grant_va((grant_ref_t)sim_xs_get_long(FE "/ring-ref", -1));
	CHECK(b->sring != NULL, "no ring-ref");
	BACK_RING_INIT(&b->ring, b->sring, PAGE_SIZE);
	b->ch = sim_evtchn_by_port((evtchn_port_t)sim_xs_get_long(FE "/event-channel", -1));
	CHECK(b->ch != NULL, "no event channel");
	be_state(b, XenbusStateConnected);
	CHECK(xenbus_get_state(dev) == XenbusStateConnected, "state %d: %s", xenbus_get_state(dev),
	    sim_last_fatal);
}

/* Move the data of one segment between the image and the frontend's page. */
static void
be_seg(const struct blkif_request_segment *s, uint64_t *at, bool write)
{
	uint8_t *page = sim_grant_va(s->gref);
	size_t len = (size_t)(s->last_sect - s->first_sect + 1) * 512;

	CHECK(page != NULL && s->first_sect <= s->last_sect && s->last_sect < 8, "bad segment");
	if (write)
		memcpy(image + *at, page + s->first_sect * 512, len);
	else
		memcpy(page + s->first_sect * 512, image + *at, len);
	*at += len;
}

static int16_t
be_do(struct tbe *b, const struct blkif_request *r)
{
	const struct blkif_request_indirect *ind = (const void *)r;
	struct blkif_request_segment *segs;
	uint64_t at = r->sector_number * 512;
	u_int i;

	switch (r->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		CHECK(r->nr_segments >= 1 && r->nr_segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST, "nr_segments %u",
		    r->nr_segments);
		for (i = 0; i < r->nr_segments; i++)
			be_seg(&r->seg[i], &at, r->operation == BLKIF_OP_WRITE);
		return (BLKIF_RSP_OKAY);
	case BLKIF_OP_INDIRECT:
		if (!b->indirect)
			return (BLKIF_RSP_EOPNOTSUPP);
		CHECK(ind->nr_segments <= 32, "%u segments", ind->nr_segments);
		segs = sim_grant_va(ind->indirect_grefs[0]);
		for (i = 0; i < ind->nr_segments; i++)
			be_seg(&segs[i], &at, ind->indirect_op == BLKIF_OP_WRITE);
		return (BLKIF_RSP_OKAY);
	case BLKIF_OP_FLUSH_DISKCACHE:
		return (BLKIF_RSP_OKAY);
	default:
		return (BLKIF_RSP_EOPNOTSUPP);
	}
}

/* Requests the frontend queued and we did not take yet. */
static u_int
be_waiting(struct tbe *b)
{
	return (b->sring->req_prod - b->ring.req_cons);
}

/* Answer every queued request and notify the frontend. */
static void
be_serve(struct tbe *b)
{
	struct blkif_request r;
	struct blkif_response *rsp;
	RING_IDX rp = b->sring->req_prod, rc;

	rmb();
	for (rc = b->ring.req_cons; rc != rp; rc++) {
		r = *RING_GET_REQUEST(&b->ring, rc);
		rsp = RING_GET_RESPONSE(&b->ring, b->ring.rsp_prod_pvt);
		rsp->id = r.id;
		rsp->operation = r.operation == BLKIF_OP_INDIRECT ?
		    ((struct blkif_request_indirect *)&r)->indirect_op : r.operation;
		rsp->status = be_do(b, &r);
		b->ring.rsp_prod_pvt++;
		b->served++;
	}
	b->ring.req_cons = rc;
	RING_PUSH_RESPONSES(&b->ring);
	CHECK(sim_evtchn_fire(b->ch), "the frontend's event channel is unbound");
}

/* ---- GEOM's side of the disk ------------------------------------------------ */

struct gio {
	struct bio	bio;
	bool		done;
};

static void
gio_done(struct bio *bp)
{
	((struct gio *)bp)->done = true;
}

static struct gio *
gio_start(int cmd, off_t offset, long len, void *buf)
{
	struct gio *g = calloc(1, sizeof(*g));

	CHECK(sim_last_disk != NULL, "no disk");
	g->bio.bio_cmd = (uint16_t)cmd;
	g->bio.bio_offset = offset;
	g->bio.bio_bcount = len;
	g->bio.bio_length = len;
	g->bio.bio_data = buf;
	g->bio.bio_disk = sim_last_disk;
	g->bio.bio_done = gio_done;
	sim_last_disk->d_strategy(&g->bio);
	return (g);
}

static int
gio_error(struct gio *g)
{
	return ((g->bio.bio_flags & BIO_ERROR) ? g->bio.bio_error : 0);
}

static uint8_t *
buffer(size_t len, unsigned seed)
{
	uint8_t *p = aligned_alloc(PAGE_SIZE, len);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 37 + i * 3 + (i >> 12));
	return (p);
}

/* A write served at once, answered OK. */
static void
write_now(struct tbe *b, off_t offset, long len, unsigned seed)
{
	uint8_t *data = buffer((size_t)len, seed);
	struct gio *g = gio_start(BIO_WRITE, offset, len, data);

	be_serve(b);
	CHECK(g->done && gio_error(g) == 0, "write at %jd: done %d error %d", (intmax_t)offset, g->done,
	    gio_error(g));
	CHECK(memcmp(image + offset, data, (size_t)len) == 0, "data not on the backend");
}

static void
fe_attach(void)
{
	image = calloc(1, DISK);
	sim_xs_set(FE "/virtual-device", "51712");
	sim_xs_set(FE "/state", "1");
	sim_xs_set(BE1 "/state", "1");
	dev = sim_device_new("xbd0", FE, BE1, 1, sizeof(struct xbd_softc));
	CHECK(xbd_attach(dev) == 0, "attach");
	be_offer(&be1);
	be_connect(&be1);
	CHECK(sim_last_disk != NULL && sim_disks_created == 1, "no disk");
}

static int
disk_open(struct disk *d)
{
	return (d->d_open != NULL ? d->d_open(d) : 0);
}

static void
disk_close(struct disk *d)
{
	if (d->d_close != NULL)
		d->d_close(d);
	sim_taskqueue_idle(taskqueue_thread);
}

/* ---- scenarios -------------------------------------------------------------- */

/*
 * The backend asks to close while a file system holds the disk open: the
 * disk stays and keeps working until its last user closes it; then the
 * frontend stops, removes the disk and goes Closed, and revokes its grants
 * only once the backend is Closed too.
 */
static void
close_open_disk(void)
{
	struct disk *d;
	grant_ref_t ring_ref;

	fe_attach();
	d = sim_last_disk;
	CHECK(disk_open(d) == 0, "open");
	write_now(&be1, 0, 4 * KB, 1);
	be_state(&be1, XenbusStateClosing);
	sim_taskqueue_idle(taskqueue_thread);
	CHECK(xenbus_get_state(dev) == XenbusStateClosing, "state %d", xenbus_get_state(dev));
	CHECK(sim_disks_destroyed == 0 && sim_disk_alive(d), "the disk was removed while open");
	write_now(&be1, 8 * KB, 4 * KB, 2);
	ring_ref = (grant_ref_t)sim_xs_get_long(FE "/ring-ref", -1);
	disk_close(d);
	CHECK(xenbus_get_state(dev) == XenbusStateClosed, "state %d after the last close",
	    xenbus_get_state(dev));
	CHECK(sim_disks_destroyed == 1, "the disk stays after its last close");
	CHECK(sim_grant_active(ring_ref), "the ring's grant was revoked before the backend let go");
	be_state(&be1, XenbusStateClosed);
	CHECK(!sim_grant_active(ring_ref) && sim_grants_active() == 0, "%u grants left",
	    sim_grants_active());
	CHECK(xbd_detach(dev) == 0, "detach");
}

/*
 * The backend asks to close a disk nobody has open: the frontend closes at
 * once, and still revokes its grants only once the backend is Closed.
 */
static void
close_idle_disk(void)
{
	grant_ref_t ring_ref;

	fe_attach();
	ring_ref = (grant_ref_t)sim_xs_get_long(FE "/ring-ref", -1);
	be_state(&be1, XenbusStateClosing);
	sim_taskqueue_idle(taskqueue_thread);
	CHECK(xenbus_get_state(dev) == XenbusStateClosed, "state %d", xenbus_get_state(dev));
	CHECK(sim_disks_destroyed == 1, "the disk stays");
	CHECK(sim_grant_active(ring_ref), "the ring's grant was revoked before the backend let go");
	be_state(&be1, XenbusStateClosed);
	CHECK(sim_grants_active() == 0, "%u grants left", sim_grants_active());
}

/*
 * Save and restore on another host: requests in flight at suspend, and one
 * queued while suspended, are sent again to the new backend under the same
 * disk once it connects.  The new backend offers no indirect segments, so
 * the large write kept from the old connection goes out in pieces.
 */
static void
resume(bool trusted)
{
	struct gio *w1, *w2, *r1, *w3;
	uint8_t *a = buffer(124 * KB, 1), *b = buffer(4 * KB, 2), *c, *dd = buffer(4 * KB, 4);
	struct disk *d;
	int ms;

	sim_xs_set(FE "/trusted", trusted ? "1" : "0");
	fe_attach();
	d = sim_last_disk;
	CHECK(disk_open(d) == 0, "open");
	c = buffer(4 * KB, 3);
	memcpy(image + 512 * KB, c, 4 * KB);
	memset(c, 0, 4 * KB);
	w1 = gio_start(BIO_WRITE, 0, 124 * KB, a);
	w2 = gio_start(BIO_WRITE, 200 * KB, 4 * KB, b);
	r1 = gio_start(BIO_READ, 512 * KB, 4 * KB, c);
	CHECK(be_waiting(&be1) == 3, "%u requests on the ring", be_waiting(&be1));

	CHECK(xbd_suspend(dev) == 0, "suspend");
	w3 = gio_start(BIO_WRITE, 300 * KB, 4 * KB, dd);
	CHECK(be_waiting(&be1) == 3, "a request went out while suspended");
	CHECK(!w3->done, "a bio failed while suspended: error %d", gio_error(w3));

	/* What xenbusb_resume does on the new host, then the new backend's handshake. */
	sim_device_set_otherend(dev, BE2, 2);
	sim_bus_set_state(dev, XenbusStateInitialising);
	sim_xs_set(BE2 "/state", "1");
	CHECK(xbd_resume(dev) == 0, "resume");
	CHECK(sim_disks_destroyed == 0 && sim_disk_alive(d), "the disk went away over the resume");
	CHECK(!w1->done && !w2->done && !r1->done && !w3->done, "a bio finished before the new connection");
	be_offer(&be2);
	be_connect(&be2);
	for (ms = 0; ms < 2000 && !(w1->done && w2->done && r1->done && w3->done); ms++) {
		be_serve(&be2);
		sim_sleep_ms(1);
	}
	CHECK(w1->done && w2->done && r1->done && w3->done, "not every bio finished: %d %d %d %d",
	    w1->done, w2->done, r1->done, w3->done);
	CHECK(gio_error(w1) == 0 && gio_error(w2) == 0 && gio_error(r1) == 0 && gio_error(w3) == 0,
	    "errors %d %d %d %d", gio_error(w1), gio_error(w2), gio_error(r1), gio_error(w3));
	CHECK(memcmp(image, a, 124 * KB) == 0 && memcmp(image + 200 * KB, b, 4 * KB) == 0 &&
	    memcmp(image + 300 * KB, dd, 4 * KB) == 0, "the data written is not on the new backend");
	CHECK(memcmp(c, image + 512 * KB, 4 * KB) == 0, "the read brought wrong data");
	CHECK(sim_disks_created == 1 && sim_last_disk == d, "a second disk");
	CHECK(d->d_maxsize <= (BLKIF_MAX_SEGMENTS_PER_REQUEST - 1) * PAGE_SIZE,
	    "d_maxsize %u, more than the new backend takes", d->d_maxsize);
	/* 124 KiB in requests of at most 40 KiB (10 pages, any alignment), and the three others. */
	CHECK(be2.served == 4 + 3, "%u requests on the new backend", be2.served);
	write_now(&be2, 64 * KB, 8 * KB, 5);
}

static void
resume_keeps_the_disk(void)
{
	resume(true);
}

/* The same through pages of our own (trusted 0): what was copied for the old backend is copied again. */
static void
resume_untrusted(void)
{
	resume(false);
}

/*
 * The device is removed while its disk is open and a request is on the
 * ring, its backend gone (its directory removed) with one data page still
 * mapped: the bio fails, the disk goes, and the page the backend still maps
 * stays granted (never handed back to the allocator).
 */
static void
removed_while_open(void)
{
	uint8_t *data = buffer(4 * KB, 7);
	struct gio *w;
	grant_ref_t held;

	fe_attach();
	CHECK(disk_open(sim_last_disk) == 0, "open");
	w = gio_start(BIO_WRITE, 0, 4 * KB, data);
	CHECK(be_waiting(&be1) == 1, "%u requests on the ring", be_waiting(&be1));
	held = RING_GET_REQUEST(&be1.ring, be1.ring.req_cons)->seg[0].gref;
	sim_grant_hold(held, true);
	sim_xs_set(BE1 "/state", NULL);
	CHECK(xbd_detach(dev) == 0, "detach");
	CHECK(w->done && gio_error(w) != 0, "the bio in flight did not fail: done %d", w->done);
	CHECK(sim_disks_destroyed == 1, "the disk stays");
	CHECK(sim_grant_active(held) && sim_grants_active() == 1, "%u grants left, the held one %s",
	    sim_grants_active(), sim_grant_active(held) ? "kept" : "revoked");
}

/* A suspend that was cancelled: the old connection goes on. */
static void
suspend_cancelled(void)
{
	struct gio *w;
	uint8_t *data = buffer(4 * KB, 6);

	fe_attach();
	CHECK(disk_open(sim_last_disk) == 0, "open");
	CHECK(xbd_suspend(dev) == 0, "suspend");
	w = gio_start(BIO_WRITE, 0, 4 * KB, data);
	CHECK(be_waiting(&be1) == 0, "a request went out while suspended");
	xen_suspend_cancelled = true;
	CHECK(xbd_resume(dev) == 0, "resume");
	CHECK(sim_disks_destroyed == 0, "the disk went away");
	be_serve(&be1);
	CHECK(w->done && gio_error(w) == 0, "done %d error %d", w->done, gio_error(w));
	CHECK(memcmp(image, data, 4 * KB) == 0, "data not on the backend");
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "close_open_disk", close_open_disk },
	{ "close_idle_disk", close_idle_disk },
	{ "resume_keeps_the_disk", resume_keeps_the_disk },
	{ "resume_untrusted", resume_untrusted },
	{ "suspend_cancelled", suspend_cancelled },
	{ "removed_while_open", removed_while_open },
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
			_Exit(0);
		}
	}
	fprintf(stderr, "usage: xbd_sim <scenario>\n");
	return (2);
}
