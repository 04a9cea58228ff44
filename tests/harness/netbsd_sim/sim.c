/*
 * The user-space NetBSD kernel of sim.h: just what the generated xbd(4) and
 * xbdback(4) use, with NetBSD's semantics where the tests depend on them
 * (dk(4)'s start routine and busy accounting, XenBus's switch_state and
 * dev_fatal, a grant still mapped is a panic when revoked, a workqueue item
 * runs on the workqueue's thread, mutexes must be initialised before use).
 */
#include "sim.h"

#include <sys/mman.h>
#include <time.h>

struct lwp sim_lwp0;
int hz = 100;
struct vm_map *kernel_map;
struct pic xen_pic;

/* The simulation's own tables. */
static pthread_mutex_t sim_big = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_bigcv = PTHREAD_COND_INITIALIZER;

/* ---- logging, faults, time -------------------------------------------------- */

static char *logbuf;
static size_t loglen, logcap;

static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "%s", prefix);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	pthread_mutex_lock(&sim_big);
	if (loglen + n + 2 > logcap) {
		logcap = (loglen + n + 2) * 2;
		logbuf = realloc(logbuf, logcap);
	}
	memcpy(logbuf + loglen, line, n);
	loglen += n;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
	pthread_mutex_unlock(&sim_big);
	fprintf(stderr, "log: %s\n", line);
}

void
sim_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

bool
sim_logged(const char *s)
{
	bool found;

	pthread_mutex_lock(&sim_big);
	found = logbuf != NULL && strstr(logbuf, s) != NULL;
	pthread_mutex_unlock(&sim_big);
	return found;
}

void
sim_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "SIM FAULT: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	printf("SIM FAULT\n");
	fflush(stdout);
	_exit(3);
}

void
panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_fail("panic: %s", msg);
}

#define	APRINT(name, prefix)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(prefix, fmt, ap);				\
	va_end(ap);					\
}
APRINT(aprint_normal, "")
APRINT(aprint_verbose, "")
APRINT(aprint_error, "error: ")
APRINT(sim_kprintf, "printf: ")

#define	APRINT_DEV(name, prefix)				\
void								\
name(device_t dev, const char *fmt, ...)			\
{								\
	char p[64];						\
	va_list ap;						\
								\
	snprintf(p, sizeof(p), "%s%s: ", prefix, dev->dv_xname);	\
	va_start(ap, fmt);					\
	vlog(p, fmt, ap);					\
	va_end(ap);						\
}
APRINT_DEV(aprint_normal_dev, "")
APRINT_DEV(aprint_verbose_dev, "")
APRINT_DEV(aprint_error_dev, "error: ")

void
sim_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
}

static __thread int slow_ms, slow_waiter_ms;
static __thread bool in_worker;

void
sim_set_slow(int ms)
{
	slow_ms = ms;
}

void
sim_set_slow_waiter(int ms)
{
	slow_waiter_ms = ms;
}

static void
preempt(void)
{
	if (slow_ms != 0)
		sim_msleep(slow_ms);
}

int
kpause(const char *wmesg, bool intr, int timo, struct kmutex *mtx)
{
	(void)wmesg;
	(void)intr;
	if (mtx != NULL)
		mutex_exit(mtx);
	sim_msleep(timo * 1000 / hz);
	if (mtx != NULL)
		mutex_enter(mtx);
	return EWOULDBLOCK;
}

/* ---- the weak-memory model of the ring, and the worker hook -------------------- */

struct pending {
	void		*dst;
	unsigned char	 buf[256];
	size_t		 len;
};
static struct pending pend[16];
static int npend;

void
sim_publish_later(void *dst, const void *src, size_t len)
{
	pthread_mutex_lock(&sim_big);
	if (npend == (int)__arraycount(pend) || len > sizeof(pend[0].buf))
		sim_fail("sim_publish_later: too much");
	pend[npend].dst = dst;
	memcpy(pend[npend].buf, src, len);
	pend[npend].len = len;
	npend++;
	pthread_mutex_unlock(&sim_big);
}

static void
flush_pending(void)
{
	int i;

	pthread_mutex_lock(&sim_big);
	for (i = 0; i < npend; i++)
		memcpy(pend[i].dst, pend[i].buf, pend[i].len);
	npend = 0;
	pthread_mutex_unlock(&sim_big);
}

/* A read barrier (or a full one) makes what was published before it visible. */
void
sim_mb(void)
{
	flush_pending();
	__sync_synchronize();
}

void
sim_rmb(void)
{
	flush_pending();
	__sync_synchronize();
}

void
sim_wmb(void)
{
	__sync_synchronize();
}

static int hook_n, hook_count;
static void (*hook_fn)(void);

void
sim_worker_hook(int n, void (*fn)(void))
{
	pthread_mutex_lock(&sim_big);
	hook_n = n;
	hook_count = 0;
	hook_fn = n > 0 ? fn : NULL;
	pthread_mutex_unlock(&sim_big);
}

static void
worker_hook(void)
{
	void (*fn)(void) = NULL;

	if (!in_worker)
		return;
	pthread_mutex_lock(&sim_big);
	if (hook_fn != NULL && ++hook_count == hook_n) {
		fn = hook_fn;
		hook_fn = NULL;
	}
	pthread_mutex_unlock(&sim_big);
	if (fn != NULL)
		fn();
}

/* ---- mutex(9), condvar(9) ---------------------------------------------------- */

#define	MTX_MAGIC	0x6d757478
#define	CV_MAGIC	0x63760a0a

static void
mutex_check(const kmutex_t *m, const char *what)
{
	if (m->mtx_magic != MTX_MAGIC)
		sim_fail("%s of a mutex that was never initialised (%p)", what, (const void *)m);
}

void
mutex_init(kmutex_t *m, kmutex_type_t type, int ipl)
{
	(void)type;
	(void)ipl;
	pthread_mutex_init(&m->mtx_m, NULL);
	m->mtx_held = false;
	m->mtx_magic = MTX_MAGIC;
}

void
mutex_destroy(kmutex_t *m)
{
	mutex_check(m, "mutex_destroy");
	if (m->mtx_held)
		sim_fail("mutex_destroy of a held mutex (%p)", (void *)m);
	pthread_mutex_destroy(&m->mtx_m);
	m->mtx_magic = 0;
}

void
mutex_enter(kmutex_t *m)
{
	worker_hook();
	mutex_check(m, "mutex_enter");
	if (m->mtx_held && pthread_equal(m->mtx_owner, pthread_self()))
		sim_fail("mutex_enter of a mutex this thread holds (%p)", (void *)m);
	pthread_mutex_lock(&m->mtx_m);
	m->mtx_owner = pthread_self();
	m->mtx_held = true;
}

void
mutex_exit(kmutex_t *m)
{
	mutex_check(m, "mutex_exit");
	if (!m->mtx_held || !pthread_equal(m->mtx_owner, pthread_self()))
		sim_fail("mutex_exit of a mutex this thread does not hold (%p)", (void *)m);
	m->mtx_held = false;
	pthread_mutex_unlock(&m->mtx_m);
	/* Nothing of m is touched from here on: its owner may free it at once. */
	preempt();
}

bool
mutex_owned(const kmutex_t *m)
{
	return m->mtx_held && pthread_equal(m->mtx_owner, pthread_self());
}

void
cv_init(kcondvar_t *cv, const char *name)
{
	(void)name;
	pthread_cond_init(&cv->cv_c, NULL);
	cv->cv_magic = CV_MAGIC;
}

void
cv_destroy(kcondvar_t *cv)
{
	if (cv->cv_magic != CV_MAGIC)
		sim_fail("cv_destroy of a condvar that was never initialised");
	pthread_cond_destroy(&cv->cv_c);
	cv->cv_magic = 0;
}

static void
cv_woken(kmutex_t *m)
{
	m->mtx_owner = pthread_self();
	m->mtx_held = true;
	if (slow_waiter_ms != 0) {
		/* Preempted between the wakeup and taking the mutex back. */
		m->mtx_held = false;
		pthread_mutex_unlock(&m->mtx_m);
		sim_msleep(slow_waiter_ms);
		pthread_mutex_lock(&m->mtx_m);
		m->mtx_owner = pthread_self();
		m->mtx_held = true;
	}
}

void
cv_wait(kcondvar_t *cv, kmutex_t *m)
{
	if (cv->cv_magic != CV_MAGIC)
		sim_fail("cv_wait on a condvar that was never initialised");
	if (!mutex_owned(m))
		sim_fail("cv_wait without the mutex");
	m->mtx_held = false;
	pthread_cond_wait(&cv->cv_c, &m->mtx_m);
	cv_woken(m);
}

int
cv_timedwait(kcondvar_t *cv, kmutex_t *m, int ticks)
{
	struct timespec ts;
	int rc;

	if (ticks <= 0) {
		cv_wait(cv, m);
		return 0;
	}
	if (!mutex_owned(m))
		sim_fail("cv_timedwait without the mutex");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(ticks % hz) * (1000000000L / hz);
	ts.tv_sec += ticks / hz + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	m->mtx_held = false;
	rc = pthread_cond_timedwait(&cv->cv_c, &m->mtx_m, &ts);
	cv_woken(m);
	return rc == ETIMEDOUT ? EWOULDBLOCK : 0;
}

void
cv_broadcast(kcondvar_t *cv)
{
	pthread_cond_broadcast(&cv->cv_c);
}

void
cv_signal(kcondvar_t *cv)
{
	pthread_cond_signal(&cv->cv_c);
}

/* ---- kmem(9), uvm ------------------------------------------------------------- */

void *
kmem_alloc(size_t size, int flags)
{
	void *p;

	(void)flags;
	if (size == 0)
		sim_fail("kmem_alloc of 0 bytes");
	p = malloc(size);
	if (p == NULL)
		sim_fail("out of memory");
	memset(p, 0xa5, size);
	return p;
}

void *
kmem_zalloc(size_t size, int flags)
{
	void *p = kmem_alloc(size, flags);

	memset(p, 0, size);
	return p;
}

void
kmem_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

vaddr_t
uvm_km_alloc(struct vm_map *map, vsize_t size, vsize_t align, int flags)
{
	void *p;

	(void)map;
	(void)align;
	size = (size + PAGE_MASK) & ~(vsize_t)PAGE_MASK;
	if ((flags & UVM_KMF_VAONLY) != 0) {
		p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		return p == MAP_FAILED ? 0 : (vaddr_t)p;
	}
	p = aligned_alloc(PAGE_SIZE, size);
	if (p != NULL)
		memset(p, 0, size);
	return (vaddr_t)p;
}

void
uvm_km_free(struct vm_map *map, vaddr_t va, vsize_t size, int flags)
{
	(void)map;
	size = (size + PAGE_MASK) & ~(vsize_t)PAGE_MASK;
	if ((flags & UVM_KMF_VAONLY) != 0)
		munmap((void *)va, size);
	else
		free((void *)va);
}

pmap_t
pmap_kernel(void)
{
	return NULL;
}

/* The frontend's "machine address" of a page is its address: a peer in this process reaches it. */
bool
pmap_extract_ma(pmap_t pm, vaddr_t va, paddr_t *ma)
{
	(void)pm;
	*ma = va;
	return true;
}

/* ---- autoconf(9), pmf(9) ---------------------------------------------------------- */

static device_t the_dev;
static void *the_softc;

void
sim_device_set(device_t dev, void *softc)
{
	the_dev = dev;
	the_softc = softc;
}

void *
device_private(device_t dev)
{
	return dev->dv_private;
}

const char *
device_xname(device_t dev)
{
	return dev->dv_xname;
}

void *
device_lookup_private(struct cfdriver *cd, int unit)
{
	(void)cd;
	return the_dev != NULL && unit == the_dev->dv_unit ? the_softc : NULL;
}

bool
pmf_device_register(device_t dev, bool (*s)(device_t, const pmf_qual_t *),
    bool (*r)(device_t, const pmf_qual_t *))
{
	(void)dev;
	(void)s;
	(void)r;
	return true;
}

void
pmf_device_deregister(device_t dev)
{
	(void)dev;
}

/* ---- buf(9), bufq(9) -------------------------------------------------------------- */

struct buf *
getiobuf(struct vnode *vp, bool waitok)
{
	(void)vp;
	(void)waitok;
	return calloc(1, sizeof(struct buf));
}

void
putiobuf(struct buf *bp)
{
	preempt();
	free(bp);
}

void
biodone(struct buf *bp)
{
	preempt();
	if (bp->b_iodone != NULL) {
		bp->b_iodone(bp);	/* which may free bp */
		return;
	}
	pthread_mutex_lock(&sim_big);
	bp->b_simdone = 1;
	pthread_cond_broadcast(&sim_bigcv);
	pthread_mutex_unlock(&sim_big);
}

bool
sim_buf_wait(struct buf *bp, int ms)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&sim_big);
	while (!bp->b_simdone && pthread_cond_timedwait(&sim_bigcv, &sim_big, &ts) == 0)
		continue;
	done = bp->b_simdone != 0;
	pthread_mutex_unlock(&sim_big);
	return done;
}

void
minphys(struct buf *bp)
{
	(void)bp;
}

int
physio(void (*strategy)(struct buf *), struct buf *bp, dev_t dev, int flags,
    void (*mp)(struct buf *), struct uio *uio)
{
	(void)strategy;
	(void)bp;
	(void)dev;
	(void)flags;
	(void)mp;
	(void)uio;
	return ENOSYS;
}

struct bufq_state {
	TAILQ_HEAD(, buf) q;
};

int
bufq_alloc(struct bufq_state **q, const char *name, int flags)
{
	(void)name;
	(void)flags;
	*q = calloc(1, sizeof(**q));
	TAILQ_INIT(&(*q)->q);
	return 0;
}

void
bufq_free(struct bufq_state *q)
{
	if (!TAILQ_EMPTY(&q->q))
		sim_fail("bufq_free of a queue holding bufs");
	free(q);
}

/* ---- disk(9), dk(4) ------------------------------------------------------------------ */

static int disk_attaches;

int
sim_disk_attaches(void)
{
	return disk_attaches;
}

void
disk_init(struct disk *dk, const char *name, const struct dkdriver *drv)
{
	memset(dk, 0, sizeof(*dk));
	dk->dk_name = name;
	dk->dk_driver = drv;
}

void
disk_attach(struct disk *dk)
{
	if (dk->dk_attached)
		sim_fail("disk_attach of an attached disk");
	dk->dk_attached = 1;
	disk_attaches++;
	sim_log("disk_attach %s", dk->dk_name);
}

void
disk_detach(struct disk *dk)
{
	if (!dk->dk_attached)
		sim_fail("disk_detach of a disk not attached");
	dk->dk_attached = 0;
	sim_log("disk_detach %s", dk->dk_name);
}

void
disk_destroy(struct disk *dk)
{
	if (dk->dk_attached)
		sim_fail("disk_destroy of an attached disk");
}

void
disk_busy(struct disk *dk)
{
	dk->dk_busy++;
}

void
disk_unbusy(struct disk *dk, long bcount, int read)
{
	(void)bcount;
	(void)read;
	if (--dk->dk_busy < 0)
		sim_fail("disk_unbusy without disk_busy");
}

void
disk_wait(struct disk *dk)
{
	(void)dk;
}

void
disk_set_info(device_t dev, struct disk *dk, const char *type)
{
	(void)dev;
	(void)dk;
	(void)type;
}

int
dkwedge_discover(struct disk *dk)
{
	sim_log("dkwedge_discover %s", dk->dk_name);
	return 0;
}

void
dkwedge_delall(struct disk *dk)
{
	(void)dk;
}

void
dk_init(struct dk_softc *dksc, device_t dev, int dtype)
{
	memset(dksc, 0, sizeof(*dksc));
	dksc->sc_dev = dev;
	dksc->sc_dtype = dtype;
	mutex_init(&dksc->sc_iolock, MUTEX_DEFAULT, IPL_VM);
}

void
dk_attach(struct dk_softc *dksc)
{
	dksc->sc_flags |= DKF_INITED;
}

void
dk_detach(struct dk_softc *dksc)
{
	dksc->sc_flags &= ~DKF_INITED;
}

int
dk_open(struct dk_softc *dksc, dev_t dev, int flags, int fmt, struct lwp *l)
{
	uint32_t bit = 1U << DISKPART(dev);

	(void)flags;
	(void)l;
	if ((dksc->sc_flags & DKF_INITED) == 0)
		return ENXIO;
	mutex_enter(&dksc->sc_iolock);
	if (fmt == S_IFCHR)
		dksc->sc_dkdev.dk_copenmask |= bit;
	else
		dksc->sc_dkdev.dk_bopenmask |= bit;
	dksc->sc_dkdev.dk_openmask = dksc->sc_dkdev.dk_copenmask | dksc->sc_dkdev.dk_bopenmask;
	mutex_exit(&dksc->sc_iolock);
	return 0;
}

int
dk_close(struct dk_softc *dksc, dev_t dev, int flags, int fmt, struct lwp *l)
{
	uint32_t bit = 1U << DISKPART(dev);

	(void)flags;
	(void)l;
	mutex_enter(&dksc->sc_iolock);
	if (fmt == S_IFCHR)
		dksc->sc_dkdev.dk_copenmask &= ~bit;
	else
		dksc->sc_dkdev.dk_bopenmask &= ~bit;
	dksc->sc_dkdev.dk_openmask = dksc->sc_dkdev.dk_copenmask | dksc->sc_dkdev.dk_bopenmask;
	mutex_exit(&dksc->sc_iolock);
	return 0;
}

int
dk_ioctl(struct dk_softc *dksc, dev_t dev, u_long cmd, void *data, int flag, struct lwp *l)
{
	(void)dksc;
	(void)dev;
	(void)cmd;
	(void)data;
	(void)flag;
	(void)l;
	return ENOTTY;
}

int
dk_size(struct dk_softc *dksc, dev_t dev)
{
	(void)dksc;
	(void)dev;
	return -1;
}

static void
bufq_put(struct bufq_state *q, struct buf *bp)
{
	TAILQ_INSERT_TAIL(&q->q, bp, b_actq);
}

static struct buf *
bufq_get(struct bufq_state *q)
{
	struct buf *bp = TAILQ_FIRST(&q->q);

	if (bp != NULL)
		TAILQ_REMOVE(&q->q, bp, b_actq);
	return bp;
}

/* As dk(4): b_blkno counts DEV_BSIZE units, b_rawblkno the disk's sectors. */
void
dk_strategy(struct dk_softc *dksc, struct buf *bp)
{
	uint32_t secsize = dksc->sc_dkdev.dk_geom.dg_secsize;
	uint32_t per = secsize / DEV_BSIZE;

	if ((dksc->sc_flags & DKF_INITED) == 0 || secsize == 0 || bp->b_blkno % per != 0 ||
	    bp->b_bcount % secsize != 0) {
		bp->b_error = (dksc->sc_flags & DKF_INITED) == 0 ? ENXIO : EINVAL;
		bp->b_resid = bp->b_bcount;
		biodone(bp);
		return;
	}
	bp->b_rawblkno = bp->b_blkno / per;
	bp->b_resid = bp->b_bcount;
	dk_start(dksc, bp);
}

/* dk(4)'s start routine: a buf diskstart refuses (EAGAIN) is kept and tried first next time. */
void
dk_start(struct dk_softc *dksc, struct buf *bp)
{
	const struct dkdriver *dkd = dksc->sc_dkdev.dk_driver;
	int error;

	if ((dksc->sc_flags & DKF_INITED) == 0)
		return;
	mutex_enter(&dksc->sc_iolock);
	if (bp != NULL) {
		disk_wait(&dksc->sc_dkdev);
		bufq_put(dksc->sc_bufq, bp);
	}
	if (dksc->sc_busy < 2)
		dksc->sc_busy++;
	if (dksc->sc_busy > 1)
		goto done;
	while (dksc->sc_busy > 0) {
		bp = dksc->sc_deferred;
		dksc->sc_deferred = NULL;
		if (bp == NULL)
			bp = bufq_get(dksc->sc_bufq);
		while (bp != NULL) {
			disk_busy(&dksc->sc_dkdev);
			mutex_exit(&dksc->sc_iolock);
			error = dkd->d_diskstart(dksc->sc_dev, bp);
			mutex_enter(&dksc->sc_iolock);
			if (error == EAGAIN || error == ENOMEM) {
				dksc->sc_deferred = bp;
				disk_unbusy(&dksc->sc_dkdev, 0, (bp->b_flags & B_READ));
				disk_wait(&dksc->sc_dkdev);
				break;
			}
			if (error != 0) {
				bp->b_error = error;
				bp->b_resid = bp->b_bcount;
				mutex_exit(&dksc->sc_iolock);
				dk_done(dksc, bp);
				mutex_enter(&dksc->sc_iolock);
			}
			bp = bufq_get(dksc->sc_bufq);
		}
		dksc->sc_busy--;
	}
done:
	mutex_exit(&dksc->sc_iolock);
}

void
dk_done(struct dk_softc *dksc, struct buf *bp)
{
	disk_unbusy(&dksc->sc_dkdev, (long)(bp->b_bcount - bp->b_resid), (bp->b_flags & B_READ));
	biodone(bp);
}

/* ---- bus_dma(9): one segment per page, at the page's own address ------------------------- */

int
bus_dmamap_create(bus_dma_tag_t tag, bus_size_t size, int nsegments, bus_size_t maxsegsz,
    bus_size_t boundary, int flags, bus_dmamap_t *mapp)
{
	struct sim_dmamap *map;

	(void)tag;
	(void)maxsegsz;
	(void)boundary;
	(void)flags;
	map = calloc(1, sizeof(*map) + (size_t)nsegments * sizeof(bus_dma_segment_t));
	map->sim_nsegments = nsegments;
	map->sim_maxsize = size;
	*mapp = map;
	return 0;
}

void
bus_dmamap_destroy(bus_dma_tag_t tag, bus_dmamap_t map)
{
	(void)tag;
	if (map->sim_loaded)
		sim_fail("bus_dmamap_destroy of a loaded map");
	free(map);
}

int
bus_dmamap_load(bus_dma_tag_t tag, bus_dmamap_t map, void *buf, bus_size_t len, struct proc *p,
    int flags)
{
	vaddr_t va = (vaddr_t)buf;
	bus_size_t n;

	(void)tag;
	(void)p;
	(void)flags;
	if (map->sim_loaded)
		sim_fail("bus_dmamap_load of a loaded map");
	if (len > map->sim_maxsize)
		return EFBIG;
	map->dm_nsegs = 0;
	while (len > 0) {
		if (map->dm_nsegs == map->sim_nsegments)
			return EFBIG;
		n = MIN(len, PAGE_SIZE - (va & PAGE_MASK));
		map->dm_segs[map->dm_nsegs].ds_addr = va;
		map->dm_segs[map->dm_nsegs].ds_len = n;
		map->dm_nsegs++;
		va += n;
		len -= n;
	}
	map->sim_loaded = true;
	return 0;
}

void
bus_dmamap_unload(bus_dma_tag_t tag, bus_dmamap_t map)
{
	(void)tag;
	map->sim_loaded = false;
	map->dm_nsegs = 0;
}

void
bus_dmamap_sync(bus_dma_tag_t tag, bus_dmamap_t map, bus_addr_t off, bus_size_t len, int ops)
{
	(void)tag;
	(void)map;
	(void)off;
	(void)len;
	(void)ops;
}

/* ---- workqueue(9): one thread, items run one at a time ---------------------------------- */

struct workqueue {
	pthread_t	 thr;
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	struct work	*head, *tail;
	struct work	*running;
	bool		 dying;
	void		(*fn)(struct work *, void *);
	void		*arg;
};

static void *
worker_main(void *arg)
{
	struct workqueue *wq = arg;
	struct work *wk;

	in_worker = true;
	pthread_mutex_lock(&wq->m);
	for (;;) {
		while (wq->head == NULL && !wq->dying)
			pthread_cond_wait(&wq->c, &wq->m);
		if (wq->head == NULL)
			break;
		wk = wq->head;
		wq->head = wk->wk_next;
		if (wq->head == NULL)
			wq->tail = NULL;
		wk->wk_queued = false;
		wq->running = wk;
		pthread_mutex_unlock(&wq->m);
		wq->fn(wk, wq->arg);
		pthread_mutex_lock(&wq->m);
		wq->running = NULL;
		pthread_cond_broadcast(&wq->c);
	}
	pthread_mutex_unlock(&wq->m);
	return NULL;
}

int
workqueue_create(struct workqueue **wqp, const char *name, void (*fn)(struct work *, void *), void *arg,
    pri_t pri, int ipl, int flags)
{
	struct workqueue *wq = calloc(1, sizeof(*wq));

	(void)name;
	(void)pri;
	(void)ipl;
	(void)flags;
	pthread_mutex_init(&wq->m, NULL);
	pthread_cond_init(&wq->c, NULL);
	wq->fn = fn;
	wq->arg = arg;
	pthread_create(&wq->thr, NULL, worker_main, wq);
	*wqp = wq;
	return 0;
}

void
workqueue_destroy(struct workqueue *wq)
{
	pthread_mutex_lock(&wq->m);
	if (wq->head != NULL)
		sim_fail("workqueue_destroy with work still queued");
	wq->dying = true;
	pthread_cond_broadcast(&wq->c);
	pthread_mutex_unlock(&wq->m);
	pthread_join(wq->thr, NULL);
	free(wq);
}

void
workqueue_enqueue(struct workqueue *wq, struct work *wk, struct cpu_info *ci)
{
	(void)ci;
	pthread_mutex_lock(&wq->m);
	if (wk->wk_queued)
		sim_fail("workqueue_enqueue of a work already queued");
	wk->wk_queued = true;
	wk->wk_next = NULL;
	if (wq->tail != NULL)
		wq->tail->wk_next = wk;
	else
		wq->head = wk;
	wq->tail = wk;
	pthread_cond_broadcast(&wq->c);
	pthread_mutex_unlock(&wq->m);
}

void
workqueue_wait(struct workqueue *wq, struct work *wk)
{
	pthread_mutex_lock(&wq->m);
	while (wk->wk_queued || wq->running == wk)
		pthread_cond_wait(&wq->c, &wq->m);
	pthread_mutex_unlock(&wq->m);
}

/* ---- grants ------------------------------------------------------------------------------ */

#define	NGRANTS		8192
#define	GREF_FIRST	8		/* Xen reserves the first entries */

static struct sgrant {
	bool	 used;
	bool	 ro;
	paddr_t	 ma;
	int	 mapped;
	off_t	 guest_off;		/* be_test: the granted page of guest memory, or -1 */
} grants[NGRANTS];
static grant_ref_t next_gref = GREF_FIRST;

static grant_ref_t
grant_new(paddr_t ma, bool ro, off_t guest_off)
{
	grant_ref_t i, ref;

	for (i = 0; i < NGRANTS - GREF_FIRST; i++) {
		ref = GREF_FIRST + (next_gref - GREF_FIRST + i) % (NGRANTS - GREF_FIRST);
		if (!grants[ref].used) {
			grants[ref].used = true;
			grants[ref].ro = ro;
			grants[ref].ma = ma;
			grants[ref].mapped = 0;
			grants[ref].guest_off = guest_off;
			next_gref = ref + 1;
			return ref;
		}
	}
	sim_fail("out of grants");
}

int
xengnt_grant_access(domid_t dom, paddr_t ma, int ro, grant_ref_t *ref)
{
	(void)dom;
	pthread_mutex_lock(&sim_big);
	*ref = grant_new(ma & ~(paddr_t)PAGE_MASK, ro != 0, -1);
	pthread_mutex_unlock(&sim_big);
	return 0;
}

void
xengnt_revoke_access(grant_ref_t ref)
{
	pthread_mutex_lock(&sim_big);
	if (ref >= NGRANTS || !grants[ref].used)
		sim_fail("xengnt_revoke_access of grant %u, which is not granted", ref);
	if (grants[ref].mapped != 0)
		sim_fail("xengnt_revoke_access of grant %u while the peer maps it (NetBSD panics)", ref);
	grants[ref].used = false;
	pthread_mutex_unlock(&sim_big);
}

int
xengnt_status(grant_ref_t ref)
{
	int st;

	pthread_mutex_lock(&sim_big);
	st = ref < NGRANTS && grants[ref].used && grants[ref].mapped != 0;
	pthread_mutex_unlock(&sim_big);
	return st;
}

paddr_t
sim_grant_ma(grant_ref_t ref)
{
	if (ref >= NGRANTS || !grants[ref].used)
		sim_fail("the peer looked up grant %u, which is not granted", ref);
	return grants[ref].ma;
}

bool
sim_grant_live(grant_ref_t ref)
{
	return ref < NGRANTS && grants[ref].used;
}

int
sim_grants_live(void)
{
	int i, n = 0;

	for (i = 0; i < NGRANTS; i++)
		n += grants[i].used;
	return n;
}

void
sim_grant_set_mapped(grant_ref_t ref, bool mapped)
{
	pthread_mutex_lock(&sim_big);
	grants[ref].mapped += mapped ? 1 : -1;
	pthread_mutex_unlock(&sim_big);
}

/* ---- event channels and interrupts ----------------------------------------------------------- */

#define	NPORTS	512
static struct sport {
	bool	open;
	int	notified;
} ports[NPORTS];
static evtchn_port_t next_port = 1;
static evtchn_port_t bound_to[NPORTS];	/* a backend's local port: the frontend's port */
static int bad_closes;

evtchn_port_t
sim_peer_port(evtchn_port_t remote)
{
	evtchn_port_t p;

	for (p = 1; p < NPORTS; p++)
		if (ports[p].open && bound_to[p] == remote)
			return p;
	return 0;
}

struct intrhand {
	struct intrhand	*next;
	evtchn_port_t	 port;
	int		(*fn)(void *);
	void		*arg;
	bool		 active;
};
static struct intrhand *handlers;

evtchn_port_t
sim_port_alloc(void)
{
	evtchn_port_t p;

	pthread_mutex_lock(&sim_big);
	if (next_port == NPORTS)
		sim_fail("out of event channels");
	p = next_port++;		/* never reused: a stale port stays recognisable */
	ports[p].open = true;
	pthread_mutex_unlock(&sim_big);
	return p;
}

bool
sim_port_open(evtchn_port_t p)
{
	return p < NPORTS && ports[p].open;
}

int
sim_notified(evtchn_port_t p)
{
	return p < NPORTS ? ports[p].notified : 0;
}

int
sim_bad_closes(void)
{
	return bad_closes;
}

int
xenbus_alloc_evtchn(struct xenbus_device *xbusd, evtchn_port_t *port)
{
	(void)xbusd;
	*port = sim_port_alloc();
	return 0;
}

int
HYPERVISOR_event_channel_op(evtchn_op_t *op)
{
	evtchn_port_t p;

	switch (op->cmd) {
	case EVTCHNOP_close:
		p = op->u.close.port;
		pthread_mutex_lock(&sim_big);
		if (p >= NPORTS || !ports[p].open) {
			bad_closes++;
			pthread_mutex_unlock(&sim_big);
			sim_log("EVTCHNOP_close of port %u, which is not open", p);
			return -EINVAL;
		}
		ports[p].open = false;
		pthread_mutex_unlock(&sim_big);
		return 0;
	case EVTCHNOP_bind_interdomain:
		p = sim_port_alloc();
		op->u.bind_interdomain.local_port = p;
		bound_to[p] = op->u.bind_interdomain.remote_port;
		return 0;
	default:
		return -ENOSYS;
	}
}

void
hypervisor_notify_via_evtchn(unsigned int p)
{
	pthread_mutex_lock(&sim_big);
	if (p < NPORTS)
		ports[p].notified++;
	pthread_mutex_unlock(&sim_big);
}

void
hypervisor_mask_event(unsigned int p)
{
	(void)p;
}

void
hypervisor_unmask_event(unsigned int p)
{
	(void)p;
}

void *
xen_intr_establish_xname(int irq, struct pic *pic, int port, int type, int ipl, int (*fn)(void *),
    void *arg, bool mpsafe, const char *name)
{
	struct intrhand *ih = calloc(1, sizeof(*ih));

	(void)irq;
	(void)pic;
	(void)type;
	(void)ipl;
	(void)mpsafe;
	(void)name;
	ih->port = (evtchn_port_t)port;
	ih->fn = fn;
	ih->arg = arg;
	ih->active = true;
	pthread_mutex_lock(&sim_big);
	ih->next = handlers;
	handlers = ih;
	pthread_mutex_unlock(&sim_big);
	return ih;
}

void
xen_intr_disestablish(struct intrhand *ih)
{
	pthread_mutex_lock(&sim_big);
	ih->active = false;
	pthread_mutex_unlock(&sim_big);
}

int
sim_deliver(evtchn_port_t p)
{
	struct intrhand *ih;
	int (*fn)(void *) = NULL;
	void *arg = NULL;

	pthread_mutex_lock(&sim_big);
	for (ih = handlers; ih != NULL; ih = ih->next) {
		if (ih->active && ih->port == p) {
			fn = ih->fn;
			arg = ih->arg;
			break;
		}
	}
	pthread_mutex_unlock(&sim_big);
	if (fn == NULL)
		return 0;
	fn(arg);
	return 1;
}

void
sim_new_host(void)
{
	int i;

	pthread_mutex_lock(&sim_big);
	for (i = 0; i < NPORTS; i++)
		ports[i].open = false;
	for (i = 0; i < NGRANTS; i++)
		grants[i].mapped = 0;
	pthread_mutex_unlock(&sim_big);
	sim_log("sim: the domain runs on a new host");
}

/* ---- guest memory of the fake frontend, mapped by the backend ------------------------------ */

#define	GUEST_PAGES	4096
static int guest_fd = -1;
static off_t guest_next;
static struct { void *va; off_t off; } guest_map[GUEST_PAGES];
static int shm_mapped;

void *
sim_guest_page(void)
{
	void *va;

	pthread_mutex_lock(&sim_big);
	if (guest_fd < 0) {
		guest_fd = memfd_create("guest", 0);
		if (guest_fd < 0 || ftruncate(guest_fd, (off_t)GUEST_PAGES * PAGE_SIZE) != 0)
			sim_fail("cannot make guest memory");
	}
	if (guest_next == GUEST_PAGES)
		sim_fail("out of guest memory");
	va = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, guest_fd, guest_next * PAGE_SIZE);
	if (va == MAP_FAILED)
		sim_fail("cannot map guest memory");
	guest_map[guest_next].va = va;
	guest_map[guest_next].off = guest_next * PAGE_SIZE;
	guest_next++;
	pthread_mutex_unlock(&sim_big);
	return va;
}

grant_ref_t
sim_guest_grant(void *page, bool ro)
{
	grant_ref_t ref;
	off_t i;

	pthread_mutex_lock(&sim_big);
	for (i = 0; i < guest_next && guest_map[i].va != page; i++)
		continue;
	if (i == guest_next)
		sim_fail("sim_guest_grant of a page that is not guest memory (%p)", page);
	ref = grant_new((paddr_t)page, ro, guest_map[i].off);
	pthread_mutex_unlock(&sim_big);
	return ref;
}

int
sim_shm_mapped(void)
{
	return shm_mapped;
}

int
xen_shm_map(int n, int dom, grant_ref_t *grefs, vaddr_t va, grant_handle_t *handles, int flags)
{
	struct sgrant *g;
	int i, prot;

	(void)dom;
	pthread_mutex_lock(&sim_big);
	for (i = 0; i < n; i++) {
		g = grefs[i] < NGRANTS ? &grants[grefs[i]] : NULL;
		if (g == NULL || !g->used || g->guest_off < 0 || (g->ro && (flags & XSHM_RO) == 0)) {
			pthread_mutex_unlock(&sim_big);
			xen_shm_unmap(va, i, handles);
			return EINVAL;
		}
		prot = PROT_READ | ((flags & XSHM_RO) ? 0 : PROT_WRITE);
		if (mmap((void *)(va + (vaddr_t)i * PAGE_SIZE), PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
		    guest_fd, g->guest_off) == MAP_FAILED)
			sim_fail("xen_shm_map: mmap failed");
		g->mapped++;
		handles[i] = grefs[i];
		shm_mapped++;
	}
	pthread_mutex_unlock(&sim_big);
	return 0;
}

void
xen_shm_unmap(vaddr_t va, int n, grant_handle_t *handles)
{
	int i;

	pthread_mutex_lock(&sim_big);
	for (i = 0; i < n; i++) {
		if (mmap((void *)(va + (vaddr_t)i * PAGE_SIZE), PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
			sim_fail("xen_shm_unmap: mmap failed");
		if (handles[i] >= NGRANTS || grants[handles[i]].mapped <= 0)
			sim_fail("xen_shm_unmap of a handle not mapped");
		grants[handles[i]].mapped--;
		shm_mapped--;
	}
	pthread_mutex_unlock(&sim_big);
}

/* ---- XenStore and XenBus ---------------------------------------------------------------- */

#define	NXS	2048
static struct { char *path, *value; } xs[NXS];
static int nxs;

struct xswatch_ev {
	struct xenbus_watch	*w;
	char			 path[256];
};
static SLIST_HEAD(, xenbus_watch) watches = SLIST_HEAD_INITIALIZER(watches);
static struct xswatch_ev evq[1024];
static int nevq;

static struct { char path[128]; XenbusState state; } switch_log[4096];
static int nswitch;

static struct xenbus_backend_driver *backend_driver;

struct xenbus_backend_driver *
sim_backend_driver(void)
{
	return backend_driver;
}

static void
xs_join(char *out, size_t len, const char *dir, const char *node)
{
	if (node == NULL || node[0] == '\0')
		snprintf(out, len, "%s", dir);
	else
		snprintf(out, len, "%s/%s", dir, node);
}

static int
xs_find(const char *path)
{
	int i;

	for (i = 0; i < nxs; i++)
		if (strcmp(xs[i].path, path) == 0)
			return i;
	return -1;
}

/* sim_big held. */
static void
fire_watches(const char *path)
{
	struct xenbus_watch *w;
	size_t n;

	SLIST_FOREACH(w, &watches, watch_next) {
		n = strlen(w->node);
		if (strncmp(path, w->node, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
			if (nevq == (int)__arraycount(evq))
				sim_fail("too many watch events");
			evq[nevq].w = w;
			snprintf(evq[nevq].path, sizeof(evq[nevq].path), "%s", path);
			nevq++;
		}
	}
}

static void
xs_set_locked(const char *path, const char *value)
{
	int i = xs_find(path);

	if (i < 0) {
		if (nxs == NXS)
			sim_fail("XenStore full");
		i = nxs++;
		xs[i].path = strdup(path);
	} else
		free(xs[i].value);
	xs[i].value = strdup(value);
	fire_watches(path);
}

const char *
sim_xs_get(const char *path)
{
	int i;

	pthread_mutex_lock(&sim_big);
	i = xs_find(path);
	pthread_mutex_unlock(&sim_big);
	return i < 0 ? NULL : xs[i].value;
}

void
sim_xs_set(const char *path, const char *value)
{
	pthread_mutex_lock(&sim_big);
	xs_set_locked(path, value);
	pthread_mutex_unlock(&sim_big);
}

void
sim_xs_setf(const char *path, const char *fmt, ...)
{
	char v[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	sim_xs_set(path, v);
}

void
sim_xs_write_fire(const char *path, const char *value)
{
	sim_xs_set(path, value);
}

void
sim_xs_rm_tree(const char *path)
{
	size_t n = strlen(path);
	int i;

	pthread_mutex_lock(&sim_big);
	for (i = 0; i < nxs; ) {
		if (strncmp(xs[i].path, path, n) == 0 && (xs[i].path[n] == '\0' || xs[i].path[n] == '/')) {
			free(xs[i].path);
			free(xs[i].value);
			xs[i] = xs[--nxs];
		} else
			i++;
	}
	fire_watches(path);
	pthread_mutex_unlock(&sim_big);
}

int
sim_xenwatch(void)
{
	struct xenbus_watch *w;
	char path[256];
	const char *vec[2];
	int n = 0;

	for (;;) {
		pthread_mutex_lock(&sim_big);
		if (nevq == 0) {
			pthread_mutex_unlock(&sim_big);
			return n;
		}
		w = evq[0].w;
		memcpy(path, evq[0].path, sizeof(path));
		memmove(&evq[0], &evq[1], (size_t)(nevq - 1) * sizeof(evq[0]));
		nevq--;
		pthread_mutex_unlock(&sim_big);
		vec[0] = path;
		vec[1] = "token";
		w->xbw_callback(w, vec, 2);
		n++;
	}
}

int
register_xenbus_watch(struct xenbus_watch *w)
{
	pthread_mutex_lock(&sim_big);
	SLIST_INSERT_HEAD(&watches, w, watch_next);
	/* A new watch fires once at once. */
	evq[nevq].w = w;
	snprintf(evq[nevq].path, sizeof(evq[nevq].path), "%s", w->node);
	nevq++;
	pthread_mutex_unlock(&sim_big);
	return 0;
}

void
unregister_xenbus_watch(struct xenbus_watch *w)
{
	int i;

	pthread_mutex_lock(&sim_big);
	SLIST_REMOVE(&watches, w, xenbus_watch, watch_next);
	for (i = 0; i < nevq; ) {
		if (evq[i].w == w) {
			memmove(&evq[i], &evq[i + 1], (size_t)(nevq - i - 1) * sizeof(evq[0]));
			nevq--;
		} else
			i++;
	}
	pthread_mutex_unlock(&sim_big);
}

void
xenbus_backend_register(struct xenbus_backend_driver *drv)
{
	backend_driver = drv;
}

int
xenbus_read(struct xenbus_transaction *xbt, const char *dir, const char *node, char *buf, size_t len)
{
	char path[256];
	size_t n;
	int i;

	(void)xbt;
	xs_join(path, sizeof(path), dir, node);
	pthread_mutex_lock(&sim_big);
	i = xs_find(path);
	if (i < 0) {
		pthread_mutex_unlock(&sim_big);
		return ENOENT;
	}
	n = strlen(xs[i].value);
	if (n + 1 > len) {
		memcpy(buf, xs[i].value, len - 1);
		buf[len - 1] = '\0';
		pthread_mutex_unlock(&sim_big);
		return ENOSPC;
	}
	memcpy(buf, xs[i].value, n + 1);
	pthread_mutex_unlock(&sim_big);
	return 0;
}

int
xenbus_read_ul(struct xenbus_transaction *xbt, const char *dir, const char *node, unsigned long *v, int base)
{
	char buf[64];
	int error = xenbus_read(xbt, dir, node, buf, sizeof(buf));

	if (error == 0)
		*v = strtoul(buf, NULL, base);
	return error;
}

int
xenbus_read_ull(struct xenbus_transaction *xbt, const char *dir, const char *node, unsigned long long *v,
    int base)
{
	char buf[64];
	int error = xenbus_read(xbt, dir, node, buf, sizeof(buf));

	if (error == 0)
		*v = strtoull(buf, NULL, base);
	return error;
}

int
xenbus_write(struct xenbus_transaction *xbt, const char *dir, const char *node, const char *s)
{
	char path[256];

	(void)xbt;
	xs_join(path, sizeof(path), dir, node);
	sim_xs_set(path, s);
	return 0;
}

int
xenbus_printf(struct xenbus_transaction *xbt, const char *dir, const char *node, const char *fmt, ...)
{
	char v[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	return xenbus_write(xbt, dir, node, v);
}

int
xenbus_rm(struct xenbus_transaction *xbt, const char *dir, const char *node)
{
	char path[256];

	(void)xbt;
	xs_join(path, sizeof(path), dir, node);
	sim_xs_rm_tree(path);
	return 0;
}

int
xenbus_exists(struct xenbus_transaction *xbt, const char *dir, const char *node)
{
	char path[256];
	size_t n;
	int i, found = 0;

	(void)xbt;
	xs_join(path, sizeof(path), dir, node);
	n = strlen(path);
	pthread_mutex_lock(&sim_big);
	for (i = 0; i < nxs && !found; i++)
		found = strncmp(xs[i].path, path, n) == 0 && (xs[i].path[n] == '\0' || xs[i].path[n] == '/');
	pthread_mutex_unlock(&sim_big);
	return found;
}

static int xbt_dummy;

struct xenbus_transaction *
xenbus_transaction_start(void)
{
	return (struct xenbus_transaction *)&xbt_dummy;
}

int
xenbus_transaction_end(struct xenbus_transaction *xbt, int abort)
{
	(void)xbt;
	(void)abort;
	return 0;
}

/* As NetBSD's: the node is written only when it changes; every call is recorded. */
int
xenbus_switch_state(struct xenbus_device *dev, struct xenbus_transaction *xbt, XenbusState state)
{
	char cur[16];

	pthread_mutex_lock(&sim_big);
	if (nswitch < (int)__arraycount(switch_log)) {
		snprintf(switch_log[nswitch].path, sizeof(switch_log[nswitch].path), "%s", dev->xbusd_path);
		switch_log[nswitch].state = state;
		nswitch++;
	}
	pthread_mutex_unlock(&sim_big);
	sim_log("switch %s -> %d", dev->xbusd_path, state);
	if (xenbus_read(xbt, dev->xbusd_path, "state", cur, sizeof(cur)) == 0 && atoi(cur) == (int)state)
		return 0;
	return xenbus_printf(xbt, dev->xbusd_path, "state", "%d", state);
}

int
sim_switches(const char *path, XenbusState state)
{
	int i, n = 0;

	pthread_mutex_lock(&sim_big);
	for (i = 0; i < nswitch; i++)
		n += strcmp(switch_log[i].path, path) == 0 && switch_log[i].state == state;
	pthread_mutex_unlock(&sim_big);
	return n;
}

XenbusState
xenbus_read_driver_state(const char *path)
{
	char buf[16];

	if (xenbus_read(NULL, path, "state", buf, sizeof(buf)) != 0)
		return XenbusStateClosed;
	return (XenbusState)atoi(buf);
}

void
xenbus_dev_error(struct xenbus_device *dev, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_log("xenbus error %s: %s (error %d)", dev->xbusd_path, msg, err);
}

/* As NetBSD's: the error goes to XenStore and the device switches to Closing. */
void
xenbus_dev_fatal(struct xenbus_device *dev, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_log("xenbus fatal %s: %s (error %d)", dev->xbusd_path, msg, err);
	xenbus_switch_state(dev, NULL, XenbusStateClosing);
}

bool
xenbus_device_suspend(struct xenbus_device *dev)
{
	sim_log("xenbus_device_suspend %s", dev->xbusd_path);
	return true;
}

bool
xenbus_device_resume(struct xenbus_device *dev)
{
	sim_log("xenbus_device_resume %s", dev->xbusd_path);
	return true;
}

int
xenbus_grant_ring(struct xenbus_device *dev, paddr_t ma, grant_ref_t *ref)
{
	return xengnt_grant_access((domid_t)dev->xbusd_otherend_id, ma, 0, ref);
}

void
sim_otherend_changed(struct xenbus_device *dev, XenbusState state)
{
	void *arg;

	if (dev->xbusd_otherend_changed == NULL)
		return;
	arg = dev->xbusd_type == XENBUS_FRONTEND_DEVICE ? (void *)dev->xbusd_u.f.f_dev :
	    dev->xbusd_u.b.b_cookie;
	dev->xbusd_otherend_changed(arg, state);
}

/* ---- the backend's block device ---------------------------------------------------------- */

static uint8_t *disk;
static size_t disk_size;
static u_int disk_lbs = 512;
static bool disk_async;
static int disk_delay_ms, disk_slow_ms, disk_ios, disk_errors, disk_busy_bufs;
static TAILQ_HEAD(, buf) disk_q = TAILQ_HEAD_INITIALIZER(disk_q);
static pthread_t disk_thr;
static bool disk_thr_started;

void
sim_disk_setup(size_t bytes, u_int lbs)
{
	free(disk);
	disk = calloc(1, bytes);
	disk_size = bytes;
	disk_lbs = lbs;
}

uint8_t *
sim_disk_data(void)
{
	return disk;
}

int
sim_disk_ios(void)
{
	return disk_ios;
}

int
sim_disk_errors(void)
{
	return disk_errors;
}

/* A device that only takes whole logical blocks, as a 4Kn disk. */
static void
disk_io(struct buf *bp)
{
	uint64_t off = (uint64_t)bp->b_blkno << DEV_BSHIFT;

	if (off % disk_lbs != 0 || bp->b_bcount % disk_lbs != 0 || off + bp->b_bcount > disk_size) {
		bp->b_error = EINVAL;
		bp->b_resid = bp->b_bcount;
		__sync_fetch_and_add(&disk_errors, 1);
		sim_log("disk: refused %s of %zu bytes at %ju", (bp->b_flags & B_READ) ? "read" : "write",
		    bp->b_bcount, (uintmax_t)off);
		return;
	}
	if (bp->b_flags & B_READ)
		memcpy(bp->b_data, disk + off, bp->b_bcount);
	else
		memcpy(disk + off, bp->b_data, bp->b_bcount);
	bp->b_error = 0;
	bp->b_resid = 0;
}

static void *
disk_main(void *arg)
{
	struct buf *bp;

	(void)arg;
	sim_set_slow(disk_slow_ms);
	pthread_mutex_lock(&sim_big);
	for (;;) {
		while (TAILQ_EMPTY(&disk_q))
			pthread_cond_wait(&sim_bigcv, &sim_big);
		bp = TAILQ_FIRST(&disk_q);
		TAILQ_REMOVE(&disk_q, bp, b_actq);
		pthread_mutex_unlock(&sim_big);
		sim_msleep(disk_delay_ms);
		disk_io(bp);
		biodone(bp);
		pthread_mutex_lock(&sim_big);
		disk_busy_bufs--;
		pthread_cond_broadcast(&sim_bigcv);
	}
	return NULL;
}

void
sim_disk_async(bool async, int delay_ms, int slow_ms)
{
	disk_async = async;
	disk_delay_ms = delay_ms;
	disk_slow_ms = slow_ms;
	if (async && !disk_thr_started) {
		disk_thr_started = true;
		pthread_create(&disk_thr, NULL, disk_main, NULL);
	}
}

void
sim_disk_quiesce(void)
{
	pthread_mutex_lock(&sim_big);
	while (disk_busy_bufs != 0)
		pthread_cond_wait(&sim_bigcv, &sim_big);
	pthread_mutex_unlock(&sim_big);
}

int
bdev_open(dev_t dev, int flags, int fmt, struct lwp *l)
{
	(void)flags;
	(void)fmt;
	(void)l;
	sim_log("bdev_open %u:%u", major(dev), minor(dev));
	return disk == NULL ? ENXIO : 0;
}

int
bdev_close(dev_t dev, int flags, int fmt, struct lwp *l)
{
	(void)dev;
	(void)flags;
	(void)fmt;
	(void)l;
	sim_log("bdev_close");
	return 0;
}

int
bdev_ioctl(dev_t dev, u_long cmd, void *data, int flag, struct lwp *l)
{
	(void)dev;
	(void)flag;
	(void)l;
	switch (cmd) {
	case DIOCGMEDIASIZE:
		*(off_t *)data = (off_t)disk_size;
		return 0;
	case DIOCGSECTORSIZE:
		*(u_int *)data = disk_lbs;
		return 0;
	case DIOCCACHESYNC:
		return 0;
	default:
		return ENOTTY;
	}
}

void
bdev_strategy(struct buf *bp)
{
	__sync_fetch_and_add(&disk_ios, 1);
	if (!disk_async) {
		disk_io(bp);
		biodone(bp);
		return;
	}
	pthread_mutex_lock(&sim_big);
	disk_busy_bufs++;
	TAILQ_INSERT_TAIL(&disk_q, bp, b_actq);
	pthread_cond_broadcast(&sim_bigcv);
	pthread_mutex_unlock(&sim_big);
}

int
bdev_discard(dev_t dev, off_t pos, off_t len)
{
	(void)dev;
	(void)pos;
	(void)len;
	return 0;
}
