/*
 * What the FreeBSD simulation offers the scenarios (xbb_main.c, xbd_main.c)
 * beyond the kernel API of kern.h: the other end of the device, seen from
 * the test's side.
 */
#ifndef XDG_FREEBSD_SIM_H
#define XDG_FREEBSD_SIM_H

#include "kern.h"

/* XenStore: whole paths.  sim_xs_get returns a copy to free(3), or NULL. */
void sim_xs_set(const char *path, const char *value);
void sim_xs_setf(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sim_xs_get(const char *path);
long sim_xs_get_long(const char *path, long def);

/* A XenBus device: its node, its peer's node and domain, its softc. */
device_t sim_device_new(const char *nameunit, const char *node, const char *otherend,
    int otherend_id, size_t softc_size);
void sim_device_set_otherend(device_t dev, const char *otherend, int otherend_id);
/* What xenbusb does before the driver's methods run. */
void sim_bus_set_state(device_t dev, XenbusState state);
XenbusState sim_bus_refresh_state(device_t dev);
extern char sim_last_fatal[256];
extern int sim_fatal_count;
/* Messages a driver printed (device_printf). */
extern u_int sim_device_printfs;

/* Pages of another domain (a memfd mapped here): what a test frontend grants. */
void *sim_arena_page(u_int page);
grant_ref_t sim_arena_grant(u_int page, bool readonly);
/* Grants a driver made (identity frames): where the page is, and the peer holding it. */
void *sim_grant_va(grant_ref_t ref);
bool sim_grant_active(grant_ref_t ref);
void sim_grant_hold(grant_ref_t ref, bool hold);
u_int sim_grants_active(void);

/* Event channels: the one a driver bound (by remote port for a backend). */
struct sim_evtchn;
struct sim_evtchn *sim_evtchn_by_remote(evtchn_port_t remote);
struct sim_evtchn *sim_evtchn_by_port(evtchn_port_t port);
bool sim_evtchn_fire(struct sim_evtchn *ch);
u_int sim_evtchn_signals(struct sim_evtchn *ch);
bool sim_evtchn_bound(struct sim_evtchn *ch);
/* Notifications a driver sent on a channel it had unbound (lost to its peer). */
extern u_int sim_lost_signals;

/* Grant mappings a driver holds, and a hook on each unmap. */
u_int sim_maps_active(void);
extern void (*sim_unmap_hook)(uint64_t host_addr, grant_ref_t ref);

/* The simulated weak memory model: hooks on the drivers' reads and barriers. */
extern void (*sim_read_hook)(const void *src, size_t n);
extern void (*sim_barrier_hook)(void);

/* A GEOM provider backed by memory; bios complete on a thread of their own. */
struct sim_store *sim_store_new(const char *name, off_t size, u_int sectorsize);
uint8_t *sim_store_data(struct sim_store *st);
void sim_store_hold(struct sim_store *st, bool hold);
u_int sim_store_queued(struct sim_store *st);
u_int sim_store_bios(struct sim_store *st);
/* Milliseconds the completion thread spends in g_destroy_bio (widens races). */
void sim_store_destroy_delay(struct sim_store *st, int ms);

/* Taskqueues: wait until nothing is queued or running. */
void sim_taskqueue_idle(struct taskqueue *tq);

/* disk(9) as GEOM sees it. */
extern u_int sim_disks_created, sim_disks_destroyed, sim_disks_resized;
extern struct disk *sim_last_disk;
bool sim_disk_alive(struct disk *dp);

void sim_sleep_ms(int ms);

#endif /* XDG_FREEBSD_SIM_H */
