/*
 * Scenarios for the generated Linux frontend (xen-blkfront.c, compiled whole
 * against kern.h and linked with this file) against a backend played here:
 * it maps the frontend's grants, serves or mistreats its requests, and
 * answers when told to; the disk's users are played through the block
 * layer (blk-mq's queue_rq and the disk's open and release).  Each scenario
 * prints "ok" or says what went wrong and exits non-zero; an
 * AddressSanitizer report or a SIM VIOLATION also makes it fail.
 *
 * usage: front_sim <scenario>
 */
#include <xen/interface/io/blkif.h>

#include "sim.h"

#define FE	"device/vbd/51712"
#define BE	"backend/vbd/0/51712"
#define SECTORS	2048

static struct xenbus_device *dev;
static struct gendisk *disk;

/* The backend: one ring, read straight from the frontend's memory through the grant table. */
static struct {
	grant_ref_t ring_ref;
	blkif_back_ring_t ring;
	evtchn_port_t port;
} be;

static void be_state(enum xenbus_state s)
{
	sim_xs_printf(BE "/state", "%d", (int)s);
	sim_run();
}

static void fe_start(void)
{
	blkif_sring_t *sring;
	evtchn_port_t fe_port;

	CHECK(sim_module_init() == 0, "module init");
	/* The toolstack's nodes. */
	sim_xs_write(FE "/backend", BE);
	sim_xs_write(FE "/backend-id", "0");
	sim_xs_write(FE "/virtual-device", "51712");
	sim_xs_write(FE "/device-type", "disk");
	sim_xs_write(FE "/trusted", "0");		/* untrusted: data goes through bounce pages */
	sim_xs_write(BE "/frontend", FE);
	sim_xs_write(BE "/frontend-id", "1");
	sim_xs_write(BE "/online", "1");
	/* The backend waits with its features: no persistent grants, one ring page, no indirect requests. */
	sim_xs_write(BE "/feature-persistent", "0");
	sim_xs_write(BE "/feature-flush-cache", "1");
	sim_xs_write(BE "/max-ring-page-order", "0");
	sim_xs_write(BE "/multi-queue-max-queues", "1");
	sim_xs_printf(BE "/state", "%d", XenbusStateInitWait);
	dev = sim_xenbus_probe(false, FE, BE, SIM_BE_DOMID);
	sim_run();
	CHECK(dev->state == XenbusStateInitialised, "frontend in %s: %s", xenbus_strstate(dev->state), sim_last_fatal);

	/* The backend maps the ring and binds the event channel, then publishes the disk. */
	be.ring_ref = (grant_ref_t)sim_xs_read_ll(FE "/ring-ref", 0);
	fe_port = (evtchn_port_t)sim_xs_read_ll(FE "/event-channel", 0);
	sring = sim_gnt_map(be.ring_ref, true);
	CHECK(sring != NULL, "ring-ref %u does not map", be.ring_ref);
	BACK_RING_INIT(&be.ring, sring, XEN_PAGE_SIZE);
	be.port = sim_evtchn_bind_interdomain(fe_port);
	CHECK(be.port != 0, "event-channel %u does not bind", fe_port);
	sim_xs_printf(BE "/sectors", "%d", SECTORS);
	sim_xs_write(BE "/sector-size", "512");
	sim_xs_write(BE "/info", "0");
	be_state(XenbusStateConnected);
	CHECK(dev->state == XenbusStateConnected, "frontend in %s: %s", xenbus_strstate(dev->state), sim_last_fatal);
	disk = sim_disk_added();
	CHECK(disk != NULL, "no disk was added");
	CHECK(sim_disk_open(disk) == 0, "the disk does not open");
}

static unsigned int be_waiting(void)
{
	return be.ring.sring->req_prod - be.ring.req_cons;
}

static struct blkif_request be_take(void)
{
	struct blkif_request req;

	CHECK(be_waiting() > 0, "no request on the ring");
	memcpy(&req, RING_GET_REQUEST(&be.ring, be.ring.req_cons), sizeof(req));
	be.ring.req_cons++;
	return req;
}

static void be_respond(uint64_t id, uint8_t op, int16_t status)
{
	struct blkif_response *rsp = RING_GET_RESPONSE(&be.ring, be.ring.rsp_prod_pvt);

	rsp->id = id;
	rsp->operation = op;
	rsp->status = status;
	be.ring.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&be.ring);
	sim_evtchn_send(be.port);
	sim_run();
}

static struct page *user_page(u8 fill)
{
	struct page *p = alloc_page(GFP_KERNEL);

	memset(page_address(p), fill, PAGE_SIZE);
	return p;
}

static bool all_bytes(struct page *p, u8 v)
{
	const u8 *b = page_address(p);
	size_t i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (b[i] != v)
			return false;
	return true;
}

/*
 * Untrusted mode, a read whose grant the backend keeps mapped after
 * answering: the frontend cannot take the grant back, so the bounce page
 * goes to the grant table, which frees it once the backend lets go.  The
 * request fails with an I/O error; the driver neither reads the bounce page
 * (nothing of it reaches the reader's page) nor frees it; the disk stops.
 */
static void untrusted_read_kept_grant(void)
{
	struct page *good = user_page(0x55), *victim = user_page(0x55), *late = user_page(0x55);
	struct request *r1, *r2, *r3;
	struct blkif_request req;
	struct page *kept;
	grant_ref_t gref;
	unsigned int live;
	u8 *data;

	fe_start();

	/* A well-behaved answer first: the data comes through the bounce page. */
	r1 = sim_blk_request(disk, REQ_OP_READ, 0, &good, 1);
	sim_blk_issue(r1);
	CHECK(be_waiting() == 1, "%u requests on the ring", be_waiting());
	req = be_take();
	CHECK(req.operation == BLKIF_OP_READ && req.u.rw.nr_segments == 1, "op %u, %u segments", req.operation,
	      req.u.rw.nr_segments);
	gref = req.u.rw.seg[0].gref;
	data = sim_gnt_map(gref, true);
	CHECK(data != NULL && data != page_address(good), "the backend sees the reader's own page");
	memset(data, 0x11, PAGE_SIZE);
	sim_gnt_unmap(gref);
	be_respond(req.u.rw.id, BLKIF_OP_READ, BLKIF_RSP_OKAY);
	CHECK(r1->sim_done && r1->sim_status == BLK_STS_OK, "done %d status %u", r1->sim_done, r1->sim_status);
	CHECK(all_bytes(good, 0x11), "the data read did not reach the reader's page");
	CHECK(!sim_gnt_in_use(gref), "grant %u was not taken back", gref);

	/* Now a backend that answers and keeps the grant mapped. */
	r2 = sim_blk_request(disk, REQ_OP_READ, 8, &victim, 1);
	sim_blk_issue(r2);
	req = be_take();
	gref = req.u.rw.seg[0].gref;
	data = sim_gnt_map(gref, true);
	CHECK(data != NULL, "grant %u does not map", gref);
	memset(data, 0xaa, PAGE_SIZE);
	live = sim_pages_live();
	be_respond(req.u.rw.id, BLKIF_OP_READ, BLKIF_RSP_OKAY);
	CHECK(r2->sim_done, "the read was not completed");
	CHECK(r2->sim_status == BLK_STS_IOERR, "the read completed with status %u, not an I/O error", r2->sim_status);
	CHECK(all_bytes(victim, 0x55), "the reader's page was written from the page the grant table kept");
	CHECK(sim_gnt_in_use(gref) && sim_gnt_maps(gref) == 1, "grant %u was revoked under the backend", gref);
	kept = sim_gnt_kept_page(gref);
	CHECK(kept != NULL, "the grant table was not handed the bounce page of grant %u", gref);
	CHECK(sim_page_live(kept) && sim_pages_live() == live, "the bounce page was freed while the backend maps it");
	CHECK(data[0] == 0xaa && data[PAGE_SIZE - 1] == 0xaa, "the page under the backend's mapping changed");

	/* The disk is stopped: a new request fails at once, without reaching the ring. */
	r3 = sim_blk_request(disk, REQ_OP_READ, 16, &late, 1);
	sim_blk_issue(r3);
	CHECK(r3->sim_done && r3->sim_status == BLK_STS_IOERR, "done %d status %u", r3->sim_done, r3->sim_status);
	CHECK(be_waiting() == 0, "a request reached the ring of a broken backend");

	/* The backend lets go: the grant table takes the grant back and frees the page. */
	sim_gnt_unmap(gref);
	CHECK(!sim_gnt_in_use(gref), "grant %u stays after the backend let go", gref);
	CHECK(!sim_page_live(kept) && sim_pages_live() == live - 1, "the kept page was not freed");

	/* The backend closes (it unmapped the ring), the reader closes, the device goes. */
	sim_gnt_unmap(be.ring_ref);
	sim_evtchn_close(be.port);
	be_state(XenbusStateClosed);
	CHECK(dev->state == XenbusStateClosed, "frontend in %s", xenbus_strstate(dev->state));
	sim_disk_release(disk);
	sim_xenbus_remove(dev);
	sim_run();
	sim_module_exit();
	CHECK(sim_gnt_count_in_use() == 0, "%u grants left", sim_gnt_count_in_use());
	CHECK(sim_pages_live() == 3, "%u pages left besides the readers' 3", sim_pages_live() - 3);
	sim_blk_free_request(r1);
	sim_blk_free_request(r2);
	sim_blk_free_request(r3);
	__free_page(good);
	__free_page(victim);
	__free_page(late);
}

/*
 * The disk against the xenbus device, for the two orders in which they go:
 * the frontend's info must live while either needs it and be freed once,
 * when the second goes.  On 6.1 the disk holds info until free_disk; on 5.10
 * (SIM_LINUX_5_10) each open holds it until its release.  A use after free
 * or a double free is an AddressSanitizer report; the count of kmalloc'ed
 * blocks shows that info (and everything else of the driver's) was freed.
 */

/* The backend goes: it unmaps the ring, closes its channel and asks to close. */
static void be_leaves(void)
{
	sim_gnt_unmap(be.ring_ref);
	sim_evtchn_close(be.port);
	be_state(XenbusStateClosing);
}

static void fe_end(unsigned int allocs)
{
	sim_run();
	sim_module_exit();
	CHECK(sim_allocs_live() == allocs, "%d kmalloc'ed blocks left (info not freed?)",
	      (int)(sim_allocs_live() - allocs));
	CHECK(sim_gnt_count_in_use() == 0, "%u grants left", sim_gnt_count_in_use());
	CHECK(sim_pages_live() == 0, "%u pages left", sim_pages_live());
}

/* (a) The device is removed while the disk is open; the user closes it after. */
static void removed_while_open(void)
{
	unsigned int allocs = sim_allocs_live();

	fe_start();
	be_leaves();
	CHECK(dev->state == XenbusStateClosing, "frontend in %s", xenbus_strstate(dev->state));
	sim_xenbus_remove(dev);
	sim_run();
	/* The disk is gone for new users; its one user still holds it, and info with it. */
	CHECK(sim_disk_open(disk) == -ENXIO, "a removed disk opens again");
	sim_disk_release(disk);
	fe_end(allocs);
}

/* (b) The user closes the disk first (the frontend then closes), then the device is removed. */
static void closed_then_removed(void)
{
	unsigned int allocs = sim_allocs_live();

	fe_start();
	be_leaves();
	sim_disk_release(disk);
	sim_run();
	CHECK(dev->state == XenbusStateClosed, "frontend in %s after its last user closed", xenbus_strstate(dev->state));
	CHECK(sim_disk_added() == NULL, "the disk was not freed after its last user closed");
	sim_xenbus_remove(dev);
	fe_end(allocs);
}

/*
 * A forced removal while the backend still maps the ring (it hung, or will
 * not let go).  The frontend cannot take the ring's grant back, so it must
 * not free the ring: the grant goes to the grant table and the memory is
 * kept for good.  The backend writing through its mapping afterwards then
 * touches no freed memory (AddressSanitizer would say so), and once it
 * unmaps, no grant is left; only the ring's page is.
 */
static void ring_kept_by_backend(void)
{
	unsigned int allocs = sim_allocs_live();

	fe_start();
	sim_disk_release(disk);
	sim_xenbus_remove(dev);
	sim_run();
	CHECK(sim_gnt_maps(be.ring_ref) > 0, "the backend's mapping of the ring went away");
	be.ring.rsp_prod_pvt += 1;		/* the backend still writes its responses */
	RING_PUSH_RESPONSES(&be.ring);
	sim_gnt_unmap(be.ring_ref);
	sim_evtchn_close(be.port);
	sim_run();
	sim_module_exit();
	CHECK(sim_allocs_live() == allocs, "%d kmalloc'ed blocks left", (int)(sim_allocs_live() - allocs));
	CHECK(sim_gnt_count_in_use() == 0, "%u grants left", sim_gnt_count_in_use());
	CHECK(sim_pages_live() == 1, "%u pages left, where the kept ring's one page should be", sim_pages_live());
}

static const struct sim_scenario scenarios[] = {
	{ "untrusted_read_kept_grant", untrusted_read_kept_grant },
	{ "removed_while_open", removed_while_open },
	{ "closed_then_removed", closed_then_removed },
	{ "ring_kept_by_backend", ring_kept_by_backend },
};

int main(int argc, char **argv)
{
	return sim_scenario_main(argc, argv, scenarios, ARRAY_SIZE(scenarios));
}
