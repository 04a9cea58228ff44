/*
 * What the scenario programs (front_main.c, back_main.c) use of the
 * simulation beside the kernel API of kern.h: the other end's view of the
 * grant table and event channels, the toolstack's XenStore, the xenbus core
 * that probes a device and reports the other end's state, the block layer's
 * users of a disk, the backend's backing device, and the event loop.
 */
#ifndef XDG_LINUX_SIM_SIM_H
#define XDG_LINUX_SIM_SIM_H

#include "kern.h"

#define SIM_FE_DOMID	1	/* the frontend's domain */
#define SIM_BE_DOMID	0	/* the backend's domain */

/* ---- outcome ------------------------------------------------------------------ */

extern unsigned int sim_violations;	/* SIM VIOLATION lines printed */
extern unsigned int sim_fatal_count;	/* xenbus_dev_fatal calls */
extern char sim_last_fatal[256];

#define CHECK(cond, ...) do {								\
	if (!(cond)) {									\
		fprintf(stdout, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);		\
		fprintf(stdout, __VA_ARGS__);						\
		fprintf(stdout, "\n");							\
		fflush(NULL);								\
		exit(1);								\
	}										\
} while (0)

/* ---- the event loop ------------------------------------------------------------ */

/* Run every event (work, watch, device) until none is left. */
void sim_run(void);
/* Run the events due now, without letting time pass. */
void sim_run_due(void);
/* Run events until pred(arg) holds; false when none is left and it does not. */
bool sim_run_until(bool (*pred)(void *arg), void *arg);

/* ---- XenStore, as the toolstack and the other end see it ------------------------ */

void sim_xs_write(const char *path, const char *value);
void sim_xs_printf(const char *path, const char *fmt, ...) __printf(2, 3);
void sim_xs_rm(const char *path);
const char *sim_xs_read(const char *path);		/* NULL when absent */
long long sim_xs_read_ll(const char *path, long long def);

/* ---- the xenbus core --------------------------------------------------------------- */

/* Create the device of the registered front- or backend driver and probe it. */
struct xenbus_device *sim_xenbus_probe(bool backend, const char *nodename, const char *otherend, int otherend_id);
void sim_xenbus_remove(struct xenbus_device *dev);

/* ---- the other end's grant table and event channels ---------------------------------- */

/* Map a grant of the driver's domain (the peer's GNTTABOP_map_grant_ref). */
void *sim_gnt_map(grant_ref_t ref, bool writable);
void sim_gnt_unmap(grant_ref_t ref);
bool sim_gnt_in_use(grant_ref_t ref);		/* granted and not taken back */
int sim_gnt_maps(grant_ref_t ref);
struct page *sim_gnt_kept_page(grant_ref_t ref);	/* a page the grant table keeps until the peer lets go */
unsigned int sim_gnt_count_in_use(void);
extern unsigned int sim_unmap_refs_direct;	/* gnttab_unmap_refs calls not made by gnttab_unmap_refs_sync */

evtchn_port_t sim_evtchn_alloc_unbound(void);
evtchn_port_t sim_evtchn_bind_interdomain(evtchn_port_t remote);
/* Notify the other end of `port`: its handler runs now. */
void sim_evtchn_send(evtchn_port_t port);
/* Notifications that arrived on `port` (for a port of the scenario's). */
unsigned int sim_evtchn_notified(evtchn_port_t port);
void sim_evtchn_close(evtchn_port_t port);

/* ---- pages ----------------------------------------------------------------------------- */

unsigned int sim_pages_live(void);
bool sim_page_live(const struct page *page);

/* ---- memory -------------------------------------------------------------------------------- */

unsigned int sim_allocs_live(void);		/* kmalloc'ed blocks not yet freed */

/* ---- the frontend's disk, as its users see it -------------------------------------------- */

struct gendisk *sim_disk_added(void);			/* the last disk added */
int sim_disk_open(struct gendisk *disk);
void sim_disk_release(struct gendisk *disk);
/* A request of one bio over whole pages, as the block layer would build it. */
struct request *sim_blk_request(struct gendisk *disk, enum req_op op, sector_t sector, struct page **pages,
				unsigned int nr_pages);
void sim_blk_issue(struct request *rq);		/* through queue_rq, as blk-mq dispatches */
void sim_blk_free_request(struct request *rq);

/* ---- the backend's backing device -------------------------------------------------------- */

/*
 * A block device of `sectors` 512-byte sectors.  It completes each bio
 * `complete_ms` after submission; and for `hold_ms` more it keeps a
 * reference to the pages of the bio (as a device that may still have to send
 * them again does), checking when it lets go that a page it wrote from still
 * holds what it wrote.
 */
struct sim_disk *sim_disk_create(dev_t devt, sector_t sectors, unsigned int complete_ms, unsigned int hold_ms);
u8 *sim_disk_image(struct sim_disk *d);
unsigned int sim_disk_holds(struct sim_disk *d);	/* page references it still keeps */
unsigned int sim_disk_bios(struct sim_disk *d);		/* bios submitted */
bool sim_disk_is_open(struct sim_disk *d);

/* A scenario program's main: runs the scenario argv[1] names; 0 when it
 * ends with no violation, 1 when it does not, 2 on a bad name. */
struct sim_scenario {
	const char *name;
	void (*run)(void);
};
int sim_scenario_main(int argc, char **argv, const struct sim_scenario *s, size_t n);

#endif /* XDG_LINUX_SIM_SIM_H */
