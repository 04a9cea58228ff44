/*
 * xendrvgen sim: what the simulated machine offers the drivers.
 *
 * One process holds both domains.  The "hypervisor" part (sim_hv.c) keeps an
 * in-memory XenStore with watches and transactions, a grant table of page
 * pointers, event channels, the disk image the backend serves and the trace;
 * the scheduler (sim_main.c) delivers queued watch events and event channel
 * notifications in a seeded order.  Each driver (ours, rendered per OS from
 * the shared macros, or a peer personality) is a translation unit of its own
 * that talks to the others only through this interface and the shared ring
 * pages, so a frontend built with one OS's headers meets a backend built
 * with another's exactly as on the wire.
 */
#ifndef XDG_SIM_H
#define XDG_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PAGE	4096
#define SIM_FE_DIR	"device/vbd/768"
#define SIM_BE_DIR	"backend/vbd/1/768"
#define SIM_TX_NONE	0

enum sim_who { SIM_FE = 0, SIM_BE = 1, SIM_TOOLSTACK = 2, SIM_NWHO = 3 };

/* ---- trace and findings ---- */
void sim_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_fatal(enum sim_who who, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *sim_state_name(int state);

/* ---- XenStore (paths are absolute within the store: "device/vbd/768/state") ---- */
int sim_xs_read(const char *path, char *buf, size_t len, bool *present);	/* 0, or E2BIG */
int sim_xs_write(enum sim_who who, int tx, const char *path, const char *value);
int sim_xs_rm(enum sim_who who, int tx, const char *path);
bool sim_xs_exists(const char *path);
int sim_xs_tx_start(enum sim_who who, int *tx);
int sim_xs_tx_end(int tx, bool abort);		/* EAGAIN when another writer got there first */
void sim_xs_watch(enum sim_who who, const char *path, const char *token);
void sim_xs_unwatch(enum sim_who who, const char *path);
int sim_read_state(const char *dir);		/* the state node of a directory, Unknown when absent */
void sim_write_state(enum sim_who who, const char *dir, int state);

/* ---- grant table ---- */
uint32_t sim_gnt_grant(void *page, bool readonly);
/* End foreign access: 0, or EBUSY while the peer still maps it (the revoke is
 * then deferred to the last unmap, and a violation reported unless `forced`). */
int sim_gnt_revoke(uint32_t ref, bool forced);
void *sim_gnt_map(uint32_t ref, bool write);	/* NULL: no such grant, or read-only */
void sim_gnt_unmap(uint32_t ref);
unsigned int sim_gnt_live(void);			/* grants not yet revoked */
unsigned int sim_gnt_mapped(void);		/* mappings held */

/* ---- event channels ---- */
uint32_t sim_evt_alloc(enum sim_who owner);		/* an unbound port the peer may bind */
int sim_evt_bind(enum sim_who who, uint32_t port);	/* 0, or ENOENT */
void sim_evt_notify(enum sim_who from, uint32_t port);
void sim_evt_close(enum sim_who who, uint32_t port);

/* ---- the backing store the backend serves ---- */
struct sim_disk {
	int fd;
	uint64_t bytes;
	uint32_t lbs;		/* logical block size of the backing store */
	bool readonly;
	unsigned int flushes, discards;
};
extern struct sim_disk sim_disk;

/* ---- block I/O the frontend is asked to do ---- */
enum sim_bio_op { SIM_READ, SIM_WRITE, SIM_FLUSH, SIM_BARRIER, SIM_DISCARD };
struct sim_bio {
	enum sim_bio_op op;
	uint64_t sector;		/* in 512-byte units */
	uint32_t nsect;
	uint8_t *buf;			/* nsect * 512 bytes (reads and writes) */
	int status;			/* 1 in flight, 0 done, <0 a BLKIF_RSP_* */
	bool indirect_ok;		/* may go as one indirect request */
	struct sim_bio *next;
};
void sim_bio_done(struct sim_bio *b, int status);

/* ---- a driver, as the scheduler sees it ---- */
struct sim_driver {
	const char *name;
	enum sim_who who;
	void (*probe)(void);
	void (*watch)(const char *path, const char *token);
	void (*irq)(uint32_t port);
	int (*event)(const char *name);		/* 1: no such event */
	int (*param)(const char *name, unsigned int value);	/* 1: unknown tunable */
	void (*show)(char *buf, size_t len);
	int (*submit)(struct sim_bio *b);		/* frontends: queue a bio */
	void (*gone)(void);			/* the domain went away (resume) */
};

/* Events raised by a driver itself, delivered later (disk_released). */
void sim_defer(enum sim_who who, const char *event);
/* How many users hold the frontend's disk open. */
extern int sim_users;

#define SIM_MIN(a, b)	(((a) < (b)) ? (a) : (b))
#define SIM_MAX(a, b)	(((a) > (b)) ? (a) : (b))

#endif
