/*
 * A user-space NetBSD kernel, just enough of it to run the generated
 * xbd(4) and xbdback(4) drivers on the host (tests/test_netbsd_lifecycle.py).
 *
 * Force-included (-include sim.h) before the driver, whose NetBSD-only
 * headers (tests/harness/netbsd_sim/include/) are empty: everything the drivers use
 * is declared here with NetBSD's names and signatures, and implemented in
 * sim.c on pthreads.  Mutexes and condition variables are real, the
 * workqueue runs on its own thread, grants and event channels are tables,
 * XenStore is a list of nodes, and the backend's "hypervisor" maps grants
 * with mmap(2) onto a shared memory file, so that a use after unmap faults.
 * The test programs (fe_test.c, be_test.c) play the other end and drive the
 * driver only through its OS hooks.
 */
#ifndef _NETBSD_SIM_H_
#define _NETBSD_SIM_H_

#define _GNU_SOURCE 1
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
#include <unistd.h>
#include <sys/param.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <inttypes.h>

/* As NetBSD's kernel: the interface whose ring.h leaves xen_mb() and co. to the includer. */
#define	__XEN_INTERFACE_VERSION__	0x00030208
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

/* ---- compiler and libkern ------------------------------------------------ */
#define	__printflike(a, b)	__attribute__((__format__(__printf__, a, b)))
#define	__dead			__attribute__((__noreturn__))
#define	__CTASSERT(x)		_Static_assert((x), #x)
#define	__arraycount(a)		(sizeof(a) / sizeof((a)[0]))
#define	__insn_barrier()	__asm__ __volatile__("" ::: "memory")
#define	__predict_false(x)	__builtin_expect(!!(x), 0)
#define	__predict_true(x)	__builtin_expect(!!(x), 1)
#define	__KERNEL_RCSID(a, b)
#define	__packed		__attribute__((__packed__))
#define	__aligned(x)		__attribute__((__aligned__(x)))

/* The ring macros' barriers: the backend's reads of the ring go through the model of sim.c. */
void sim_mb(void);
void sim_rmb(void);
void sim_wmb(void);
#define	xen_mb()	sim_mb()
#define	xen_rmb()	sim_rmb()
#define	xen_wmb()	sim_wmb()

#ifndef PAGE_SIZE
#define	PAGE_SIZE	4096
#endif
#define	PAGE_MASK	(PAGE_SIZE - 1)
#ifndef DEV_BSHIFT
#define	DEV_BSHIFT	9
#endif

typedef uintptr_t	paddr_t;
typedef uintptr_t	vaddr_t;
typedef size_t		vsize_t;
typedef size_t		psize_t;
typedef int		pri_t;
typedef uintptr_t	bus_addr_t;
typedef size_t		bus_size_t;

void	panic(const char *, ...) __dead __printflike(1, 2);
void	aprint_normal(const char *, ...) __printflike(1, 2);
void	aprint_verbose(const char *, ...) __printflike(1, 2);
void	aprint_error(const char *, ...) __printflike(1, 2);
/* The kernel's printf(9), logged (a test program maps the driver's printf onto it). */
void	sim_kprintf(const char *, ...) __printflike(1, 2);

/* ---- lwp, time ----------------------------------------------------------- */
struct lwp { int l_dummy; };
struct kmutex;
extern struct lwp sim_lwp0;
#define	curlwp		(&sim_lwp0)
extern int hz;
int	kpause(const char *, bool, int, struct kmutex *);

/* ---- mutex(9), condvar(9) ------------------------------------------------- */
typedef struct kmutex {
	pthread_mutex_t	 mtx_m;
	int		 mtx_magic;	/* MTX_MAGIC once initialised */
	pthread_t	 mtx_owner;
	bool		 mtx_held;
} kmutex_t;
typedef struct kcondvar {
	pthread_cond_t	 cv_c;
	int		 cv_magic;
} kcondvar_t;
typedef int kmutex_type_t;
#define	MUTEX_DEFAULT	0
#define	IPL_NONE	0
#define	IPL_BIO		6
#define	IPL_VM		7
#define	PRI_BIO		220
#define	PRI_NONE	(-1)

void	mutex_init(kmutex_t *, kmutex_type_t, int);
void	mutex_destroy(kmutex_t *);
void	mutex_enter(kmutex_t *);
void	mutex_exit(kmutex_t *);
bool	mutex_owned(const kmutex_t *);
void	cv_init(kcondvar_t *, const char *);
void	cv_destroy(kcondvar_t *);
void	cv_wait(kcondvar_t *, kmutex_t *);
int	cv_timedwait(kcondvar_t *, kmutex_t *, int);
void	cv_broadcast(kcondvar_t *);
void	cv_signal(kcondvar_t *);

/* ---- kmem(9), uvm ---------------------------------------------------------- */
#define	KM_SLEEP	0x1
#define	KM_NOSLEEP	0x2
void	*kmem_alloc(size_t, int);
void	*kmem_zalloc(size_t, int);
void	 kmem_free(void *, size_t);

struct vm_map;
extern struct vm_map *kernel_map;
#define	UVM_KMF_WIRED	0x1
#define	UVM_KMF_ZERO	0x2
#define	UVM_KMF_NOWAIT	0x4
#define	UVM_KMF_VAONLY	0x8
vaddr_t	uvm_km_alloc(struct vm_map *, vsize_t, vsize_t, int);
void	uvm_km_free(struct vm_map *, vaddr_t, vsize_t, int);
typedef struct pmap *pmap_t;
pmap_t	pmap_kernel(void);
bool	pmap_extract_ma(pmap_t, vaddr_t, paddr_t *);

/* ---- autoconf(9), pmf(9) ---------------------------------------------------- */
struct device {
	void		*dv_private;
	char		 dv_xname[16];
	int		 dv_unit;
};
typedef struct device *device_t;
typedef struct cfdata *cfdata_t;
struct cfdriver { const char *cd_name; };
struct cfattach {
	const char	*ca_name;
	size_t		 ca_devsize;
	int		(*ca_match)(device_t, cfdata_t, void *);
	void		(*ca_attach)(device_t, device_t, void *);
	int		(*ca_detach)(device_t, int);
};
#define	CFATTACH_DECL3_NEW(name, ddsize, matfn, attfn, detfn, actfn, rescanfn, chdetfn, devflags) \
	const struct cfattach name##_ca = { #name, ddsize, matfn, attfn, detfn }
#define	DVF_DETACH_SHUTDOWN	0x0080
#define	DETACH_FORCE		0x01
#define	DETACH_SHUTDOWN		0x08
void	*device_private(device_t);
const char *device_xname(device_t);
void	*device_lookup_private(struct cfdriver *, int);
typedef struct pmf_qual pmf_qual_t;
bool	pmf_device_register(device_t, bool (*)(device_t, const pmf_qual_t *),
	    bool (*)(device_t, const pmf_qual_t *));
void	pmf_device_deregister(device_t);
void	aprint_normal_dev(device_t, const char *, ...) __printflike(2, 3);
void	aprint_error_dev(device_t, const char *, ...) __printflike(2, 3);
void	aprint_verbose_dev(device_t, const char *, ...) __printflike(2, 3);

/* ---- buf(9), bufq(9), devsw --------------------------------------------- */
struct buf {
	TAILQ_ENTRY(buf)	 b_actq;
	int			 b_error;
	int			 b_flags;
	int			 b_cflags;
	int			 b_oflags;
	size_t			 b_bcount;
	size_t			 b_resid;
	void			*b_data;
	int64_t			 b_blkno;
	int64_t			 b_rawblkno;
	dev_t			 b_dev;
	void			(*b_iodone)(struct buf *);
	void			*b_private;
	int			 b_simdone;	/* sim: biodone() ran */
};
#define	B_READ		0x00100000
#define	B_WRITE		0x00000000
#define	BC_BUSY		0x00000010
struct vnode;
struct buf *getiobuf(struct vnode *, bool);
void	putiobuf(struct buf *);
void	biodone(struct buf *);
void	minphys(struct buf *);
struct uio { int uio_dummy; };
int	physio(void (*)(struct buf *), struct buf *, dev_t, int, void (*)(struct buf *), struct uio *);

struct bufq_state;
#define	BUFQ_SORT_RAWBLOCK	0x0001
int	bufq_alloc(struct bufq_state **, const char *, int);
void	bufq_free(struct bufq_state *);

#define	dev_type_open(n)	int n(dev_t, int, int, struct lwp *)
#define	dev_type_close(n)	int n(dev_t, int, int, struct lwp *)
#define	dev_type_read(n)	int n(dev_t, struct uio *, int)
#define	dev_type_write(n)	int n(dev_t, struct uio *, int)
#define	dev_type_ioctl(n)	int n(dev_t, u_long, void *, int, struct lwp *)
#define	dev_type_strategy(n)	void n(struct buf *)
#define	dev_type_size(n)	int n(dev_t)
struct bdevsw {
	int	(*d_open)(dev_t, int, int, struct lwp *);
	int	(*d_close)(dev_t, int, int, struct lwp *);
	void	(*d_strategy)(struct buf *);
	int	(*d_ioctl)(dev_t, u_long, void *, int, struct lwp *);
	const void *d_dump;
	int	(*d_psize)(dev_t);
	const void *d_discard;
	int	 d_flag;
};
struct cdevsw {
	int	(*d_open)(dev_t, int, int, struct lwp *);
	int	(*d_close)(dev_t, int, int, struct lwp *);
	int	(*d_read)(dev_t, struct uio *, int);
	int	(*d_write)(dev_t, struct uio *, int);
	int	(*d_ioctl)(dev_t, u_long, void *, int, struct lwp *);
	const void *d_stop, *d_tty, *d_poll, *d_mmap, *d_kqfilter, *d_discard;
	int	 d_flag;
};
#define	nodump		NULL
#define	nodiscard	NULL
#define	nostop		NULL
#define	notty		NULL
#define	nopoll		NULL
#define	nommap		NULL
#define	nokqfilter	NULL
#define	D_DISK		0x0002
#define	D_MPSAFE	0x0100
#ifndef FREAD
#define	FREAD		0x0001
#define	FWRITE		0x0002
#endif

/* ---- disk(9), dk(4) -------------------------------------------------------- */
struct disk_geom {
	int64_t		dg_secperunit;
	uint32_t	dg_secsize;
	uint32_t	dg_nsectors;
	uint32_t	dg_ntracks;
	uint32_t	dg_ncylinders;
};
struct dkdriver {
	void	(*d_strategy)(struct buf *);
	void	(*d_minphys)(struct buf *);
	int	(*d_open)(dev_t, int, int, struct lwp *);
	int	(*d_close)(dev_t, int, int, struct lwp *);
	int	(*d_diskstart)(device_t, struct buf *);
	void	(*d_iosize)(device_t, int *);
	int	(*d_discard)(device_t, off_t, off_t);
};
struct disk {
	const char		*dk_name;
	const struct dkdriver	*dk_driver;
	struct disk_geom	 dk_geom;
	uint32_t		 dk_openmask, dk_bopenmask, dk_copenmask;
	int			 dk_attached;
	int			 dk_busy;	/* sim: disk_busy - disk_unbusy */
};
void	disk_init(struct disk *, const char *, const struct dkdriver *);
void	disk_attach(struct disk *);
void	disk_detach(struct disk *);
void	disk_destroy(struct disk *);
void	disk_busy(struct disk *);
void	disk_unbusy(struct disk *, long, int);
void	disk_wait(struct disk *);
void	disk_set_info(device_t, struct disk *, const char *);
int	dkwedge_discover(struct disk *);
void	dkwedge_delall(struct disk *);
#define	DKTYPE_ESDI	1
#define	DISKUNIT(dev)	((int)(minor(dev) / 8))
#define	DISKPART(dev)	((int)(minor(dev) % 8))
#define	DIOCCACHESYNC	0x80046476UL
#define	DIOCGMEDIASIZE	0x40086484UL
#define	DIOCGSECTORSIZE	0x40046485UL

struct dk_softc {
	device_t		 sc_dev;
	uint32_t		 sc_flags;
	char			 sc_xname[8];
	struct disk		 sc_dkdev;
	kmutex_t		 sc_iolock;
	struct bufq_state	*sc_bufq;
	int			 sc_dtype;
	struct buf		*sc_deferred;	/* as dk(4): the buf diskstart refused */
	int			 sc_busy;
};
#define	DKF_INITED	0x00400000
#define	DK_BUSY(_dksc, _pmask)				\
	(((_dksc)->sc_dkdev.dk_openmask & ~(_pmask)) ||	\
	((_dksc)->sc_dkdev.dk_bopenmask & (_pmask)  &&	\
	((_dksc)->sc_dkdev.dk_copenmask & (_pmask))))
void	dk_init(struct dk_softc *, device_t, int);
void	dk_attach(struct dk_softc *);
void	dk_detach(struct dk_softc *);
int	dk_open(struct dk_softc *, dev_t, int, int, struct lwp *);
int	dk_close(struct dk_softc *, dev_t, int, int, struct lwp *);
int	dk_ioctl(struct dk_softc *, dev_t, u_long, void *, int, struct lwp *);
void	dk_strategy(struct dk_softc *, struct buf *);
void	dk_start(struct dk_softc *, struct buf *);
void	dk_done(struct dk_softc *, struct buf *);
int	dk_size(struct dk_softc *, dev_t);

/* ---- bus_dma(9) ---------------------------------------------------------- */
typedef struct sim_dma_tag *bus_dma_tag_t;
typedef struct {
	bus_addr_t	ds_addr;
	bus_size_t	ds_len;
} bus_dma_segment_t;
struct sim_dmamap {
	int			 dm_nsegs;
	int			 sim_nsegments;
	bus_size_t		 sim_maxsize;
	bool			 sim_loaded;
	bus_dma_segment_t	 dm_segs[1];	/* [sim_nsegments] */
};
typedef struct sim_dmamap *bus_dmamap_t;
#define	BUS_DMA_WAITOK		0x000
#define	BUS_DMA_NOWAIT		0x001
#define	BUS_DMA_READ		0x100
#define	BUS_DMA_WRITE		0x200
#define	BUS_DMASYNC_PREREAD	0x01
#define	BUS_DMASYNC_POSTREAD	0x02
#define	BUS_DMASYNC_PREWRITE	0x04
#define	BUS_DMASYNC_POSTWRITE	0x08
struct proc;
int	bus_dmamap_create(bus_dma_tag_t, bus_size_t, int, bus_size_t, bus_size_t, int, bus_dmamap_t *);
void	bus_dmamap_destroy(bus_dma_tag_t, bus_dmamap_t);
int	bus_dmamap_load(bus_dma_tag_t, bus_dmamap_t, void *, bus_size_t, struct proc *, int);
void	bus_dmamap_unload(bus_dma_tag_t, bus_dmamap_t);
void	bus_dmamap_sync(bus_dma_tag_t, bus_dmamap_t, bus_addr_t, bus_size_t, int);

/* ---- workqueue(9) ---------------------------------------------------------- */
struct work {
	struct work	*wk_next;
	bool		 wk_queued;
};
struct workqueue;
struct cpu_info;
#define	WQ_MPSAFE	0x01
#define	WQ_PERCPU	0x02
int	workqueue_create(struct workqueue **, const char *, void (*)(struct work *, void *), void *,
	    pri_t, int, int);
void	workqueue_destroy(struct workqueue *);
void	workqueue_enqueue(struct workqueue *, struct work *, struct cpu_info *);
void	workqueue_wait(struct workqueue *, struct work *);

/* ---- Xen: grants, event channels, interrupts, shared memory ------------------ */
int	xengnt_grant_access(domid_t, paddr_t, int, grant_ref_t *);
void	xengnt_revoke_access(grant_ref_t);
int	xengnt_status(grant_ref_t);

struct pic { int pic_dummy; };
extern struct pic xen_pic;
#define	IST_LEVEL	3
struct intrhand;
void	*xen_intr_establish_xname(int, struct pic *, int, int, int, int (*)(void *), void *, bool,
	    const char *);
void	xen_intr_disestablish(struct intrhand *);
void	hypervisor_notify_via_evtchn(unsigned int);
void	hypervisor_mask_event(unsigned int);
void	hypervisor_unmask_event(unsigned int);
int	HYPERVISOR_event_channel_op(evtchn_op_t *);

#define	XSHM_RO		0x01
int	xen_shm_map(int, int, grant_ref_t *, vaddr_t, grant_handle_t *, int);
void	xen_shm_unmap(vaddr_t, int, grant_handle_t *);

/* ---- XenBus --------------------------------------------------------------- */
struct xenbus_device;
struct xenbus_watch {
	SLIST_ENTRY(xenbus_watch) watch_next;
	char		*node;
	void		(*xbw_callback)(struct xenbus_watch *, const char **, unsigned int);
	struct xenbus_device *xbw_dev;
};
struct xenbus_device {
	char		*xbusd_otherend;
	int		 xbusd_otherend_id;
	void		(*xbusd_otherend_changed)(void *, XenbusState);
	int		 xbusd_type;
#define	XENBUS_FRONTEND_DEVICE	0
#define	XENBUS_BACKEND_DEVICE	1
	union {
		struct { device_t f_dev; } f;
		struct {
			void	*b_cookie;
			int	(*b_detach)(void *);
		} b;
	} xbusd_u;
	char		 sim_otherend[128];
	char		 xbusd_path[128];
};
struct xenbusdev_attach_args {
	const char		*xa_type;
	int			 xa_id;
	struct xenbus_device	*xa_xbusd;
	bus_dma_tag_t		 xa_dmat;
};
struct xenbus_backend_driver {
	SLIST_ENTRY(xenbus_backend_driver) xbakd_entries;
	int		(*xbakd_create)(struct xenbus_device *);
	const char	*xbakd_type;
};
struct xenbus_transaction;
void	xenbus_backend_register(struct xenbus_backend_driver *);
int	xenbus_read(struct xenbus_transaction *, const char *, const char *, char *, size_t);
int	xenbus_read_ul(struct xenbus_transaction *, const char *, const char *, unsigned long *, int);
int	xenbus_read_ull(struct xenbus_transaction *, const char *, const char *, unsigned long long *, int);
int	xenbus_write(struct xenbus_transaction *, const char *, const char *, const char *);
int	xenbus_rm(struct xenbus_transaction *, const char *, const char *);
int	xenbus_exists(struct xenbus_transaction *, const char *, const char *);
struct xenbus_transaction *xenbus_transaction_start(void);
int	xenbus_transaction_end(struct xenbus_transaction *, int);
int	xenbus_printf(struct xenbus_transaction *, const char *, const char *, const char *, ...)
	    __printflike(4, 5);
int	register_xenbus_watch(struct xenbus_watch *);
void	unregister_xenbus_watch(struct xenbus_watch *);
int	xenbus_switch_state(struct xenbus_device *, struct xenbus_transaction *, XenbusState);
int	xenbus_grant_ring(struct xenbus_device *, paddr_t, grant_ref_t *);
int	xenbus_alloc_evtchn(struct xenbus_device *, evtchn_port_t *);
XenbusState xenbus_read_driver_state(const char *);
void	xenbus_dev_error(struct xenbus_device *, int, const char *, ...) __printflike(3, 4);
void	xenbus_dev_fatal(struct xenbus_device *, int, const char *, ...) __printflike(3, 4);
bool	xenbus_device_suspend(struct xenbus_device *);
bool	xenbus_device_resume(struct xenbus_device *);

/* ---- the backend's block device ------------------------------------------- */
int	bdev_open(dev_t, int, int, struct lwp *);
int	bdev_close(dev_t, int, int, struct lwp *);
int	bdev_ioctl(dev_t, u_long, void *, int, struct lwp *);
void	bdev_strategy(struct buf *);
int	bdev_discard(dev_t, off_t, off_t);

/* ======================================================================
 * The simulation's own controls, for the test programs.
 * ====================================================================== */

/* A fault the real kernel would panic or corrupt memory on: reported, then exit 3. */
void	sim_fail(const char *, ...) __dead __printflike(1, 2);
/* Every message the drivers printed (aprint, XenBus errors, the sim's own notes), searchable. */
void	sim_log(const char *, ...) __printflike(1, 2);
bool	sim_logged(const char *);
void	sim_msleep(int);

/* Threads marked slow sleep after each lock release, biodone and putiobuf: a preempted CPU. */
void	sim_set_slow(int ms);
/* A thread marked a slow waiter sleeps, without the mutex, after each wakeup in cv_wait. */
void	sim_set_slow_waiter(int ms);

/* XenStore as the toolstack sees it. */
const char *sim_xs_get(const char *path);
void	sim_xs_set(const char *path, const char *value);
void	sim_xs_setf(const char *path, const char *fmt, ...) __printflike(2, 3);
void	sim_xs_rm_tree(const char *path);
void	sim_xs_write_fire(const char *path, const char *value);	/* and fire the watches */
int	sim_xenwatch(void);					/* deliver the fired watches */
int	sim_switches(const char *path, XenbusState);		/* xenbus_switch_state(path, state) calls */
/* XenBus's watch thread tells the driver its other end changed (as xbusd_otherend_changed). */
void	sim_otherend_changed(struct xenbus_device *, XenbusState);

/* Grants: what a peer sees of them. */
paddr_t	sim_grant_ma(grant_ref_t);
bool	sim_grant_live(grant_ref_t);
int	sim_grants_live(void);
void	sim_grant_set_mapped(grant_ref_t, bool);
/* Event channels and interrupts. */
evtchn_port_t sim_port_alloc(void);
bool	sim_port_open(evtchn_port_t);
int	sim_deliver(evtchn_port_t);		/* run the handler bound to a port; 0 when none */
int	sim_notified(evtchn_port_t);		/* hypervisor_notify_via_evtchn calls */
int	sim_bad_closes(void);			/* EVTCHNOP_close of ports not open */
evtchn_port_t sim_peer_port(evtchn_port_t remote);	/* the port a backend bound to `remote` */
struct xenbus_backend_driver *sim_backend_driver(void);	/* the one xenbus_backend_register'ed */
/* The domain moved to another host: no old event channel, no old mapping. */
void	sim_new_host(void);

/* Guest memory of the fake frontend (be_test): pages of a shared file, granted. */
void	*sim_guest_page(void);
grant_ref_t sim_guest_grant(void *page, bool readonly);
int	sim_shm_mapped(void);			/* pages xen_shm_map'ped and not unmapped */

/* The weak-memory model of the backend's reads of the ring: stores published
 * with sim_publish_later() become visible at the consumer's next barrier. */
void	sim_publish_later(void *dst, const void *src, size_t len);
/* Call fn in the worker thread at its n-th mutex_enter from now (0: never). */
void	sim_worker_hook(int n, void (*fn)(void));

/* The backend's block device. */
void	sim_disk_setup(size_t bytes, u_int lbs);
uint8_t	*sim_disk_data(void);
void	sim_disk_async(bool async, int delay_ms, int slow_ms);	/* a completion thread */
int	sim_disk_ios(void);					/* bdev_strategy calls */
int	sim_disk_errors(void);					/* bufs it refused */
void	sim_disk_quiesce(void);					/* every buf completed */

/* dk(4): the driver's disk. */
int	sim_disk_attaches(void);
void	sim_device_set(device_t, void *softc);
bool	sim_buf_wait(struct buf *, int ms);

#endif /* _NETBSD_SIM_H_ */
