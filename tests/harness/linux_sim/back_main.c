/*
 * Scenarios for the generated Linux backend (xen-blkback/blkback.c and
 * xenbus.c, each compiled whole against kern.h and linked with this file),
 * against a frontend played here (it grants its pages, queues requests on
 * the ring and reads the answers) and a backing device that keeps a
 * reference to the pages of a bio for a while after completing it.  Each
 * scenario prints "ok" or says what went wrong and exits non-zero; an
 * AddressSanitizer report or a SIM VIOLATION also makes it fail.
 *
 * usage: back_sim <scenario>
 */
#include <xen/interface/io/blkif.h>

#include "sim.h"

#define FE		"device/vbd/51712"
#define BE		"backend/vbd/1/51712"
#define SECTORS		2048
#define MAX_PAGES	32
#define SEGS_PER_PAGE	(PAGE_SIZE / sizeof(struct blkif_request_segment))

static struct xenbus_device *xb;
static struct sim_disk *disk;

/* The frontend: one ring page, granted, and an unbound event channel. */
static struct {
	struct page *ring_page;
	grant_ref_t ring_ref;
	blkif_front_ring_t ring;
	evtchn_port_t port;
	bool persistent;
	struct fio *inflight[64];
} fe;

/* One request of the frontend, with its pages and grants. */
struct fio {
	uint64_t id;
	bool write;
	unsigned int n;
	sector_t sector;
	struct page *pages[MAX_PAGES];
	grant_ref_t grefs[MAX_PAGES];
	struct page *ind;
	grant_ref_t ind_ref;
	bool done;
	int16_t status;
	unsigned int holds_at_answer;	/* page references the device still kept when the answer came */
};

static void fe_state(enum xenbus_state s)
{
	sim_xs_printf(FE "/state", "%d", (int)s);
	sim_run_due();
}

static void start(bool persistent, unsigned int hold_ms)
{
	struct page *p;
	int ref;

	CHECK(sim_module_init() == 0, "module init");
	disk = sim_disk_create(MKDEV(0xfe, 0), SECTORS, 1, hold_ms);
	/* The toolstack's nodes: the backing device comes later, from the hotplug script. */
	sim_xs_write(BE "/frontend", FE);
	sim_xs_write(BE "/frontend-id", "1");
	sim_xs_write(BE "/mode", "w");
	sim_xs_write(BE "/params", "/dev/simdisk");
	sim_xs_write(BE "/type", "phy");
	sim_xs_write(BE "/dev", "xvda");
	sim_xs_write(BE "/online", "1");
	sim_xs_write(FE "/backend", BE);
	sim_xs_write(FE "/backend-id", "0");
	sim_xs_write(FE "/virtual-device", "51712");
	sim_xs_write(FE "/device-type", "disk");
	sim_xs_printf(FE "/state", "%d", XenbusStateInitialising);
	xb = sim_xenbus_probe(true, BE, FE, SIM_FE_DOMID);
	sim_run();
	CHECK(xb->state == XenbusStateInitWait, "backend in %s: %s", xenbus_strstate(xb->state), sim_last_fatal);
	sim_xs_write(BE "/physical-device", "fe:0");
	sim_run();
	CHECK(sim_disk_is_open(disk), "the backing device was not opened: %s", sim_last_fatal);
	CHECK(sim_xs_read_ll(BE "/feature-max-indirect-segments", 0) >= 32, "no indirect requests offered");

	/* The frontend: its ring and event channel, then Initialised. */
	p = alloc_page(GFP_KERNEL | __GFP_ZERO);
	fe.ring_page = p;
	SHARED_RING_INIT((blkif_sring_t *)page_address(p));
	FRONT_RING_INIT(&fe.ring, (blkif_sring_t *)page_address(p), PAGE_SIZE);
	ref = gnttab_grant_foreign_access(SIM_BE_DOMID, xen_page_to_gfn(p), 0);
	CHECK(ref > 0, "granting the ring: %d", ref);
	fe.ring_ref = (grant_ref_t)ref;
	fe.port = sim_evtchn_alloc_unbound();
	fe.persistent = persistent;
	sim_xs_printf(FE "/ring-ref", "%u", fe.ring_ref);
	sim_xs_printf(FE "/event-channel", "%u", fe.port);
	sim_xs_write(FE "/protocol", XEN_IO_PROTO_ABI_NATIVE);
	sim_xs_write(FE "/feature-persistent", persistent ? "1" : "0");
	fe_state(XenbusStateInitialised);
	CHECK(xb->state == XenbusStateConnected, "backend in %s: %s", xenbus_strstate(xb->state), sim_last_fatal);
	CHECK(sim_xs_read_ll(BE "/sectors", 0) == SECTORS, "sectors %lld", sim_xs_read_ll(BE "/sectors", 0));
	fe_state(XenbusStateConnected);
}

static u8 pattern(u8 seed, unsigned int page, size_t i)
{
	return (u8)(seed + page * 7 + i % 251);
}

/* Queue a read or write of n whole pages at `sector`: direct up to 11 pages, indirect beyond. */
static struct fio *fe_submit(bool write, sector_t sector, unsigned int n, u8 seed)
{
	static uint64_t next_id = 1;
	struct fio *io = calloc(1, sizeof(*io));
	struct blkif_request *r = RING_GET_REQUEST(&fe.ring, fe.ring.req_prod_pvt);
	struct blkif_request_segment *segs;
	unsigned int i;
	size_t b;
	int ref;
	int notify;

	CHECK(n >= 1 && n <= MAX_PAGES, "%u pages", n);
	io->id = next_id++;
	io->write = write;
	io->n = n;
	io->sector = sector;
	for (i = 0; i < n; i++) {
		u8 *mem;

		io->pages[i] = alloc_page(GFP_KERNEL);
		mem = page_address(io->pages[i]);
		for (b = 0; b < PAGE_SIZE; b++)
			mem[b] = write ? pattern(seed, i, b) : 0xee;
		/* With persistent grants everything is granted writable (a later request may read into it). */
		ref = gnttab_grant_foreign_access(SIM_BE_DOMID, xen_page_to_gfn(io->pages[i]), write && !fe.persistent);
		CHECK(ref > 0, "granting: %d", ref);
		io->grefs[i] = (grant_ref_t)ref;
	}
	memset(r, 0, sizeof(*r));
	if (n <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		r->operation = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
		r->u.rw.nr_segments = (uint8_t)n;
		r->u.rw.handle = 51712;
		r->u.rw.id = io->id;
		r->u.rw.sector_number = sector;
		for (i = 0; i < n; i++) {
			r->u.rw.seg[i].gref = io->grefs[i];
			r->u.rw.seg[i].first_sect = 0;
			r->u.rw.seg[i].last_sect = 7;
		}
	} else {
		io->ind = alloc_page(GFP_KERNEL | __GFP_ZERO);
		segs = page_address(io->ind);
		for (i = 0; i < n; i++) {
			segs[i].gref = io->grefs[i];
			segs[i].first_sect = 0;
			segs[i].last_sect = 7;
		}
		ref = gnttab_grant_foreign_access(SIM_BE_DOMID, xen_page_to_gfn(io->ind), 1);
		CHECK(ref > 0, "granting: %d", ref);
		io->ind_ref = (grant_ref_t)ref;
		r->operation = BLKIF_OP_INDIRECT;
		r->u.indirect.indirect_op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
		r->u.indirect.nr_segments = (uint16_t)n;
		r->u.indirect.handle = 51712;
		r->u.indirect.id = io->id;
		r->u.indirect.sector_number = sector;
		r->u.indirect.indirect_grefs[0] = io->ind_ref;
	}
	fe.inflight[io->id % ARRAY_SIZE(fe.inflight)] = io;
	fe.ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fe.ring, notify);
	if (notify)
		sim_evtchn_send(fe.port);
	return io;
}

/* Read the answers on the ring. */
static bool fe_poll(void *arg)
{
	struct fio *io = arg;

	while (fe.ring.rsp_cons != fe.ring.sring->rsp_prod) {
		struct blkif_response rsp = *RING_GET_RESPONSE(&fe.ring, fe.ring.rsp_cons);
		struct fio *done = fe.inflight[rsp.id % ARRAY_SIZE(fe.inflight)];

		fe.ring.rsp_cons++;
		CHECK(done && done->id == rsp.id && !done->done, "an answer for unknown request %llu",
		      (unsigned long long)rsp.id);
		done->done = true;
		done->status = rsp.status;
		done->holds_at_answer = sim_disk_holds(disk);
		fe.inflight[rsp.id % ARRAY_SIZE(fe.inflight)] = NULL;
	}
	return io->done;
}

static void fe_wait(struct fio *io)
{
	CHECK(sim_run_until(fe_poll, io), "request %llu was never answered", (unsigned long long)io->id);
	CHECK(io->status == BLKIF_RSP_OKAY, "request %llu answered %d", (unsigned long long)io->id, io->status);
}

/* What a read brought, checked against what the writes of seed `seed` at page `first` of theirs put there. */
static void fe_check_read(struct fio *io, unsigned int at, u8 seed, unsigned int first, unsigned int count)
{
	unsigned int i;
	size_t b;

	for (i = 0; i < count; i++) {
		const u8 *mem = page_address(io->pages[at + i]);

		for (b = 0; b < PAGE_SIZE; b++)
			CHECK(mem[b] == pattern(seed, first + i, b), "page %u of the read, byte %zu: %#x, not %#x",
			      at + i, b, mem[b], pattern(seed, first + i, b));
	}
}

/* Take the grants back (the backend must have unmapped them all) and free the pages. */
static void fe_end(struct fio *io)
{
	unsigned int i;

	for (i = 0; i < io->n; i++) {
		CHECK(gnttab_try_end_foreign_access(io->grefs[i]), "grant %u is still mapped by the backend",
		      io->grefs[i]);
		__free_page(io->pages[i]);
	}
	if (io->ind) {
		CHECK(gnttab_try_end_foreign_access(io->ind_ref), "indirect grant %u is still mapped", io->ind_ref);
		__free_page(io->ind);
	}
	free(io);
}

static unsigned int holds_at_closed;	/* page references the device kept when the backend was Closed */

static void stop(void)
{
	fe_state(XenbusStateClosing);
	CHECK(xb->state == XenbusStateClosing, "backend in %s", xenbus_strstate(xb->state));
	fe_state(XenbusStateClosed);
	CHECK(xb->state == XenbusStateClosed, "backend in %s", xenbus_strstate(xb->state));
	holds_at_closed = sim_disk_holds(disk);
	CHECK(gnttab_try_end_foreign_access(fe.ring_ref), "the ring is still mapped after Closed");
	sim_evtchn_close(fe.port);
	__free_page(fe.ring_page);
	sim_xenbus_remove(xb);
	sim_run();
	sim_module_exit();
	CHECK(!sim_disk_is_open(disk), "the backing device was left open");
	CHECK(sim_disk_holds(disk) == 0, "the device still holds %u pages", sim_disk_holds(disk));
}

/*
 * Writes and reads, direct and indirect, on a device that keeps each bio's
 * pages 20 ms after completing it: the backend may unmap a data grant (and
 * give its page back to the cache, for the next request to map another
 * grant on) only once the device let go of the page.  The indirect pages
 * are only read by the backend itself, so they are unmapped at once.
 */
static void write_held(void)
{
	struct fio *w1, *w2, *w3, *r;

	start(false, 20);
	w1 = fe_submit(true, 0, 1, 0x10);
	fe_wait(w1);
	/* The next request takes a page from the backend's cache: the one w1 used, if it went back too soon. */
	w2 = fe_submit(true, 8, 1, 0x20);
	fe_wait(w2);
	w3 = fe_submit(true, 16, 16, 0x30);		/* indirect */
	fe_wait(w3);
	r = fe_submit(false, 0, 18, 0);			/* indirect, all of the above */
	fe_wait(r);
	sim_run();
	fe_check_read(r, 0, 0x10, 0, 1);
	fe_check_read(r, 1, 0x20, 0, 1);
	fe_check_read(r, 2, 0x30, 0, 16);
	CHECK(w1->holds_at_answer == 0 && w2->holds_at_answer == 0 && w3->holds_at_answer == 0,
	      "a write was answered while the device still held %u of its pages (so they were already unmapped)",
	      w1->holds_at_answer + w2->holds_at_answer + w3->holds_at_answer);
	CHECK(sim_disk_bios(disk) >= 4, "%u bios", sim_disk_bios(disk));
	/* The indirect pages of w3 and r: unmapped at once, and rightly so (the device never had them). */
	CHECK(sim_unmap_refs_direct >= 2, "the indirect pages were not unmapped directly (%u calls)",
	      sim_unmap_refs_direct);
	fe_end(w1);
	fe_end(w2);
	fe_end(w3);
	fe_end(r);
	stop();
	CHECK(sim_gnt_count_in_use() == 0, "%u grants left", sim_gnt_count_in_use());
	CHECK(sim_pages_live() == 0, "%u pages left (the backend's page cache is not emptied)", sim_pages_live());
}

/*
 * Persistent grants stay mapped for the life of the connection; when the
 * frontend closes, the backend unmaps them, and must wait for a device that
 * still holds a page of a write it completed.
 */
static void persistent_held_at_close(void)
{
	struct fio *w1, *w2;

	start(true, 50);
	w1 = fe_submit(true, 0, 2, 0x40);
	fe_wait(w1);
	w2 = fe_submit(true, 16, 12, 0x50);		/* indirect */
	fe_wait(w2);
	CHECK(sim_disk_holds(disk) > 0, "the device let go before the close: the scenario tests nothing");
	stop();
	CHECK(holds_at_closed == 0, "the backend unmapped its persistent grants and closed while the device still "
	      "held %u of their pages", holds_at_closed);
	CHECK(memcmp(sim_disk_image(disk), page_address(w1->pages[0]), PAGE_SIZE) == 0, "sector 0 differs");
	fe_end(w1);
	fe_end(w2);
	CHECK(sim_gnt_count_in_use() == 0, "%u grants left", sim_gnt_count_in_use());
	CHECK(sim_pages_live() == 0, "%u pages left", sim_pages_live());
}

static const struct sim_scenario scenarios[] = {
	{ "write_held", write_held },
	{ "persistent_held_at_close", persistent_held_at_close },
};

int main(int argc, char **argv)
{
	return sim_scenario_main(argc, argv, scenarios, ARRAY_SIZE(scenarios));
}
