/*
 * A user-space stand-in for the parts of the FreeBSD kernel that the
 * generated xbd.c and xbb.c use, for tests/test_freebsd_lifecycle.py.
 *
 * Every kernel header the drivers include is, in the test's build, a file
 * that includes this one.  The primitives behave as the kernel's do where
 * the lifecycle depends on it: mutexes are real (pthread) locks and
 * mtx_destroy of a mutex never initialised panics as under INVARIANTS;
 * taskqueues run their tasks on threads of their own; GEOM completes bios
 * on a thread of its own and checks their alignment as g_io_check does;
 * grant mappings map the frontend's pages at the backend's addresses (a
 * memfd), and unmapping leaves nothing there, so a late access faults.
 * The memory barriers are where a weak memory model is simulated (see
 * sim_barrier in kern.c).  Built with AddressSanitizer.
 */
#ifndef XDG_FREEBSD_SIM_KERN_H
#define XDG_FREEBSD_SIM_KERN_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <contrib/xen/xen.h>
#include <contrib/xen/grant_table.h>
#include <contrib/xen/event_channel.h>
#include <contrib/xen/io/xenbus.h>

/* ---- sys/param.h, sys/systm.h ------------------------------------------ */

#define	PAGE_SHIFT	12
#define	PAGE_SIZE	(1 << PAGE_SHIFT)
#define	PAGE_MASK	(PAGE_SIZE - 1)
#ifndef MIN
#define	MIN(a, b)	(((a) < (b)) ? (a) : (b))
#define	MAX(a, b)	(((a) > (b)) ? (a) : (b))
#endif
#define	howmany(x, y)	(((x) + ((y) - 1)) / (y))
#define	rounddown(x, y)	(((x) / (y)) * (y))
#define	powerof2(x)	((((x) - 1) & (x)) == 0)
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#define	atop(x)		((unsigned long)(x) >> PAGE_SHIFT)
#define	CTASSERT(x)	_Static_assert(x, "CTASSERT")
#define	__offsetof(t, m)	offsetof(t, m)
#define	__packed	__attribute__((__packed__))
#define	__aligned(x)	__attribute__((__aligned__(x)))
#define	__compiler_membar()	__asm__ __volatile__("" ::: "memory")

typedef uintptr_t vm_offset_t;
typedef size_t vm_size_t;
typedef uint64_t vm_paddr_t;
typedef uint64_t bus_addr_t;
typedef uint64_t bus_size_t;
typedef int64_t daddr_t_sim;

extern int hz;
extern int bootverbose;
extern int mp_ncpus;
extern bool xen_suspend_cancelled;

struct device;
typedef struct device *device_t;

void sim_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define	panic		sim_panic
#define	KASSERT(exp, msg)	do { if (!(exp)) sim_panic msg; } while (0)
int device_printf(device_t dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_pause(const char *wmesg, int timo);
#define	pause(w, t)	sim_pause((w), (t))

/* Every memcpy of the drivers goes through here: see sim_on_read in kern.c. */
void *sim_memcpy(void *dst, const void *src, size_t n);
#define	memcpy(d, s, n)	sim_memcpy((d), (s), (n))

/* Barriers: where the simulated weak memory model makes stores visible. */
void sim_barrier(void);
#define	mb()		sim_barrier()
#define	rmb()		sim_barrier()
#define	wmb()		__compiler_membar()
#define	xen_mb()	sim_barrier()
#define	xen_rmb()	sim_barrier()
#define	xen_wmb()	__compiler_membar()

/* ---- malloc(9) ---------------------------------------------------------- */

struct malloc_type {
	const char *ks_shortdesc;
};
#define	MALLOC_DEFINE(type, shortdesc, longdesc) \
	struct malloc_type type[1] = { { shortdesc } }
#define	MALLOC_DECLARE(type)	extern struct malloc_type type[1]
MALLOC_DECLARE(M_XENSTORE);
MALLOC_DECLARE(M_TEMP);
#define	M_NOWAIT	0x0001
#define	M_WAITOK	0x0002
#define	M_ZERO		0x0100
void *sim_malloc(size_t size, struct malloc_type *type, int flags);
void sim_free(void *p, struct malloc_type *type);
#define	malloc(s, t, f)	sim_malloc((s), (t), (f))
#define	free(p, t)	sim_free((p), (t))

/* ---- locks -------------------------------------------------------------- */

struct mtx {
	pthread_mutex_t	m;
	unsigned	magic;		/* SIM_LOCK_MAGIC once initialised */
	pthread_t	owner;
	bool		owned;
	const char	*name;
};
#define	MTX_DEF		0
#define	MA_OWNED	1
void mtx_init(struct mtx *m, const char *name, const char *type, int opts);
void mtx_lock(struct mtx *m);
void mtx_unlock(struct mtx *m);
void mtx_destroy(struct mtx *m);
void sim_mtx_assert(struct mtx *m, int what, const char *file, int line);
#define	mtx_assert(m, what)	sim_mtx_assert((m), (what), __FILE__, __LINE__)

struct sx {
	struct mtx	m;
};
void sx_init(struct sx *sx, const char *name);
void sx_xlock(struct sx *sx);
void sx_xunlock(struct sx *sx);
void sx_destroy(struct sx *sx);

#define	PRIBIO		16
int msleep(void *chan, struct mtx *m, int pri, const char *wmesg, int timo);
void wakeup(void *chan);

/* ---- taskqueue(9) ------------------------------------------------------- */

typedef void task_fn_t(void *context, int pending);
struct task {
	STAILQ_ENTRY(task) ta_link;
	unsigned short	ta_pending;
	unsigned short	ta_priority;
	task_fn_t	*ta_func;
	void		*ta_context;
};
#define	TASK_INIT(task, prio, func, ctx) do {		\
	(task)->ta_pending = 0;				\
	(task)->ta_priority = (prio);			\
	(task)->ta_func = (func);			\
	(task)->ta_context = (ctx);			\
} while (0)
struct taskqueue;
typedef void (*taskqueue_enqueue_fn)(void *context);
extern struct taskqueue *taskqueue_thread;
void taskqueue_thread_enqueue(void *context);
struct taskqueue *taskqueue_create(const char *name, int mflags, taskqueue_enqueue_fn enqueue,
    void *context);
int taskqueue_start_threads(struct taskqueue **tqp, int count, int pri, const char *name, ...);
int taskqueue_enqueue(struct taskqueue *tq, struct task *task);
void taskqueue_drain(struct taskqueue *tq, struct task *task);
void taskqueue_free(struct taskqueue *tq);

/* ---- newbus, sysctl, modules -------------------------------------------- */

typedef struct {
	const char	*name;
	void		(*func)(void);
} device_method_t;
#define	DEVMETHOD(name, func)	{ #name, (void (*)(void))(func) }
#define	DEVMETHOD_END		{ NULL, NULL }
typedef struct {
	const char		*name;
	device_method_t		*methods;
	size_t			size;
} driver_t;
#define	DRIVER_MODULE(name, bus, driver, evh, arg)	extern int sim_module_##name
#define	MODULE_VERSION(name, v)				extern int sim_module_version_##name
#define	BUS_PROBE_DEFAULT	(-20)

void *device_get_softc(device_t dev);
const char *device_get_nameunit(device_t dev);
int device_get_unit(device_t dev);
void device_set_desc(device_t dev, const char *desc);

#define	OID_AUTO	(-1)
#define	CTLFLAG_RD	0x1
#define	CTLFLAG_RDTUN	0x2
#define	CTLFLAG_MPSAFE	0x4
#define	SYSCTL_NODE(parent, nbr, name, access, handler, descr) \
	int sim_sysctl_node_##name __attribute__((unused))
#define	SYSCTL_UINT(parent, nbr, name, access, ptr, val, descr) \
	extern int sim_sysctl_uint_##name

/* ---- interrupts, Xen event channels ------------------------------------- */

typedef int driver_filter_t(void *);
typedef void driver_intr_t(void *);
enum intr_type { INTR_TYPE_BIO = 4, INTR_MPSAFE = 512 };
#define	FILTER_HANDLED		0x02
typedef void *xen_intr_handle_t;
int xen_intr_alloc_and_bind_local_port(device_t dev, u_int remote_domain, driver_filter_t filter,
    driver_intr_t handler, void *arg, enum intr_type irqflags, xen_intr_handle_t *handlep);
int xen_intr_bind_remote_port(device_t dev, u_int remote_domain, evtchn_port_t remote_port,
    driver_filter_t filter, driver_intr_t handler, void *arg, enum intr_type irqflags,
    xen_intr_handle_t *handlep);
void xen_intr_unbind(xen_intr_handle_t *handle);
void xen_intr_signal(xen_intr_handle_t handle);
evtchn_port_t xen_intr_port(xen_intr_handle_t handle);

/* ---- grants, hypercalls, xenmem ----------------------------------------- */

#define	GRANT_REF_INVALID	0xffffffff
struct gnttab_free_callback {
	struct gnttab_free_callback *next;
	void (*fn)(void *);
	void *arg;
	uint16_t count;
};
int gnttab_grant_foreign_access(domid_t domid, unsigned long frame, int flags, grant_ref_t *result);
int gnttab_end_foreign_access_ref(grant_ref_t ref);
void gnttab_free_grant_reference(grant_ref_t ref);
void gnttab_request_free_callback(struct gnttab_free_callback *callback, void (*fn)(void *),
    void *arg, uint16_t count);
void gnttab_cancel_free_callback(struct gnttab_free_callback *callback);
int HYPERVISOR_grant_table_op(unsigned int cmd, void *uop, unsigned int count);

struct resource;
struct resource *xenmem_alloc(device_t dev, int *res_id, size_t size);
int xenmem_free(device_t dev, int res_id, struct resource *res);
vm_paddr_t rman_get_start(struct resource *r);
void *rman_get_virtual(struct resource *r);
#define	vtophys(va)	((vm_paddr_t)(uintptr_t)(va))

/* ---- XenBus, XenStore --------------------------------------------------- */

struct xs_transaction {
	uint32_t id;
};
#define	XST_NIL	((struct xs_transaction) { 0 })
int xs_exists(struct xs_transaction t, const char *dir, const char *node);
int xs_read(struct xs_transaction t, const char *dir, const char *node, unsigned int *len,
    void **result);
int xs_write(struct xs_transaction t, const char *dir, const char *node, const char *string);
int xs_rm(struct xs_transaction t, const char *dir, const char *node);
int xs_transaction_start(struct xs_transaction *t);
int xs_transaction_end(struct xs_transaction t, int abort);

const char *xenbus_get_node(device_t dev);
const char *xenbus_get_otherend_path(device_t dev);
int xenbus_get_otherend_id(device_t dev);
const char *xenbus_get_type(device_t dev);
XenbusState xenbus_get_state(device_t dev);
int xenbus_set_state(device_t dev, XenbusState state);
XenbusState xenbus_read_driver_state(const char *path);
#define	xenbus_get_otherend_state(dev)	xenbus_read_driver_state(xenbus_get_otherend_path(dev))
int xenbus_grant_ring(device_t dev, unsigned long ring_mfn, grant_ref_t *refp);
void xenbus_dev_fatal(device_t dev, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *xenbus_strstate(XenbusState state);
int xenbus_dev_is_online(device_t dev);

/* ---- bio, GEOM, disk(9) ------------------------------------------------- */

#define	BIO_READ	0x01
#define	BIO_WRITE	0x02
#define	BIO_DELETE	0x03
#define	BIO_FLUSH	0x05
#define	BIO_ERROR	0x01

struct disk;
struct g_consumer;
struct g_provider;
struct bio {
	uint16_t	bio_cmd;
	uint16_t	bio_flags;
	uint16_t	bio_pflags;
	struct disk	*bio_disk;
	off_t		bio_offset;
	long		bio_bcount;
	caddr_t		bio_data;
	int		bio_error;
	long		bio_resid;
	void		(*bio_done)(struct bio *);
	void		*bio_driver1;
	void		*bio_driver2;
	void		*bio_caller1;
	void		*bio_caller2;
	TAILQ_ENTRY(bio) bio_queue;
	off_t		bio_length;
	off_t		bio_completed;
	u_int		bio_children;
	u_int		bio_inbed;
	struct bio	*bio_parent;
	struct g_consumer *bio_from;	/* the sim's: where g_io_request sent it */
};
struct bio_queue_head {
	TAILQ_HEAD(bio_queue, bio) queue;
};
void bioq_init(struct bio_queue_head *head);
struct bio *bioq_first(struct bio_queue_head *head);
void bioq_remove(struct bio_queue_head *head, struct bio *bp);
void bioq_insert_head(struct bio_queue_head *head, struct bio *bp);
void bioq_insert_tail(struct bio_queue_head *head, struct bio *bp);
struct bio *bioq_takefirst(struct bio_queue_head *head);
void biodone(struct bio *bp);

struct g_geom;
struct g_class {
	const char	*name;
	int		version;
	void		(*orphan)(struct g_consumer *);
};
#define	G_VERSION	0x00100100
#define	DECLARE_GEOM_CLASS(class, name)	extern int sim_geom_class_##name
struct g_geom {
	struct g_class	*class;
	void		*softc;
	char		name[64];
};
struct sim_store;
struct g_provider {
	char		name[64];
	off_t		mediasize;
	u_int		sectorsize;
	off_t		stripesize;
	off_t		stripeoffset;
	struct sim_store *store;
};
struct g_consumer {
	struct g_geom	*geom;
	struct g_provider *provider;
	int		acr, acw, ace;
};
void g_topology_lock(void);
void g_topology_unlock(void);
struct g_provider *g_provider_by_name(const char *name);
struct g_geom *g_new_geomf(struct g_class *mp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct g_consumer *g_new_consumer(struct g_geom *gp);
int g_attach(struct g_consumer *cp, struct g_provider *pp);
int g_access(struct g_consumer *cp, int nread, int nwrite, int nexcl);
void g_detach(struct g_consumer *cp);
void g_destroy_consumer(struct g_consumer *cp);
void g_destroy_geom(struct g_geom *gp);
int sim_g_getattr(const char *attr, struct g_consumer *cp, void *var, int len);
#define	g_getattr(a, c, v)	sim_g_getattr((a), (c), (v), (int)sizeof(*(v)))
struct bio *g_alloc_bio(void);
struct bio *g_clone_bio(struct bio *bp);
void g_destroy_bio(struct bio *bp);
void g_io_request(struct bio *bp, struct g_consumer *cp);

typedef int disk_open_t(struct disk *);
typedef int disk_close_t(struct disk *);
typedef void disk_strategy_t(struct bio *);
struct disk {
	const char	*d_name;
	u_int		d_unit;
	void		*d_drv1;
	disk_open_t	*d_open;
	disk_close_t	*d_close;
	disk_strategy_t	*d_strategy;
	u_int		d_sectorsize;
	off_t		d_mediasize;
	u_int		d_maxsize;
	off_t		d_delmaxsize;
	off_t		d_stripesize;
	u_int		d_flags;
};
#define	DISKFLAG_WRITE_PROTECT	0x0100
#define	DISKFLAG_CANDELETE	0x0004
#define	DISKFLAG_CANFLUSHCACHE	0x0020
#define	DISK_VERSION		0x80000005
struct disk *disk_alloc(void);
void disk_create(struct disk *disk, int version);
void disk_destroy(struct disk *disk);
int disk_resize(struct disk *dp, int flag);

/* ---- bus_dma(9) --------------------------------------------------------- */

typedef struct sim_dma_tag *bus_dma_tag_t;
typedef struct sim_dma_map *bus_dmamap_t;
typedef struct {
	bus_addr_t	ds_addr;
	bus_size_t	ds_len;
} bus_dma_segment_t;
typedef void bus_dmamap_callback_t(void *, bus_dma_segment_t *, int, int);
typedef int bus_dma_filter_t(void *, bus_addr_t);
typedef enum { BUS_DMA_LOCK, BUS_DMA_UNLOCK } bus_dma_lock_op_t;
typedef void bus_dma_lock_t(void *, bus_dma_lock_op_t);
void busdma_lock_mutex(void *arg, bus_dma_lock_op_t op);
#define	BUS_SPACE_MAXADDR	(~(bus_addr_t)0)
#define	BUS_DMA_NOWAIT		0x01
#define	BUS_DMASYNC_PREREAD	1
#define	BUS_DMASYNC_POSTREAD	2
#define	BUS_DMASYNC_PREWRITE	4
#define	BUS_DMASYNC_POSTWRITE	8
bus_dma_tag_t bus_get_dma_tag(device_t dev);
int bus_dma_tag_create(bus_dma_tag_t parent, bus_size_t alignment, bus_addr_t boundary,
    bus_addr_t lowaddr, bus_addr_t highaddr, bus_dma_filter_t *filter, void *filterarg,
    bus_size_t maxsize, int nsegments, bus_size_t maxsegsz, int flags, bus_dma_lock_t *lockfunc,
    void *lockfuncarg, bus_dma_tag_t *dmat);
int bus_dma_tag_destroy(bus_dma_tag_t dmat);
int bus_dmamap_create(bus_dma_tag_t dmat, int flags, bus_dmamap_t *mapp);
int bus_dmamap_destroy(bus_dma_tag_t dmat, bus_dmamap_t map);
int bus_dmamap_load_bio(bus_dma_tag_t dmat, bus_dmamap_t map, struct bio *bio,
    bus_dmamap_callback_t *callback, void *callback_arg, int flags);
void bus_dmamap_unload(bus_dma_tag_t dmat, bus_dmamap_t map);
void bus_dmamap_sync(bus_dma_tag_t dmat, bus_dmamap_t map, int op);

#endif /* XDG_FREEBSD_SIM_KERN_H */
