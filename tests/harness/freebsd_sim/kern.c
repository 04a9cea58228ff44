/*
 * The user-space FreeBSD kernel of the simulation (see kern.h): compiled
 * apart from the driver, with the C library's malloc and memcpy.
 */
#define	_GNU_SOURCE
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* kern.h redirects these for the drivers; here they are the C library's. */
#include "kern.h"
#undef malloc
#undef free
#undef memcpy
#include "sim.h"
#undef malloc
#undef free
#undef memcpy

#define	SIM_LOCK_MAGIC	0x6c6f636bU

int hz = 1000;
int bootverbose = 0;
int mp_ncpus = 1;
bool xen_suspend_cancelled;
struct malloc_type M_XENSTORE[1] = { { "xenstore" } };
struct malloc_type M_TEMP[1] = { { "temp" } };

void (*sim_read_hook)(const void *src, size_t n);
void (*sim_barrier_hook)(void);
void (*sim_unmap_hook)(uint64_t host_addr, grant_ref_t ref);
char sim_last_fatal[256];
int sim_fatal_count;
u_int sim_lost_signals;

static pthread_mutex_t sim_big = PTHREAD_MUTEX_INITIALIZER;	/* the sim's own tables */

void
sim_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
sim_panic(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(NULL);
	abort();
}

void
sim_pause(const char *wmesg, int timo)
{
	(void)wmesg;
	sim_sleep_ms(timo * 1000 / hz);
}

void *
sim_memcpy(void *dst, const void *src, size_t n)
{
	if (sim_read_hook != NULL)
		sim_read_hook(src, n);
	return (memcpy(dst, src, n));
}

void
sim_barrier(void)
{
	if (sim_barrier_hook != NULL)
		sim_barrier_hook();
	__sync_synchronize();
}

/* ---- malloc(9) ---------------------------------------------------------- */

void *
sim_malloc(size_t size, struct malloc_type *type, int flags)
{
	void *p;

	(void)type;
	/* Like the kernel's: whole pages come page-aligned (their frames are granted). */
	if (size >= PAGE_SIZE && size % PAGE_SIZE == 0)
		p = aligned_alloc(PAGE_SIZE, size);
	else
		p = malloc(size == 0 ? 1 : size);
	if (p == NULL)
		sim_panic("out of memory");
	if (flags & M_ZERO)
		memset(p, 0, size);
	return (p);
}

void
sim_free(void *p, struct malloc_type *type)
{
	(void)type;
	free(p);
}

/* ---- locks and sleeping ------------------------------------------------- */

void
mtx_init(struct mtx *m, const char *name, const char *type, int opts)
{
	(void)type;
	(void)opts;
	if (m->magic == SIM_LOCK_MAGIC)
		sim_panic("mtx_init: %s (%p) is already initialised", name, (void *)m);
	pthread_mutex_init(&m->m, NULL);
	m->owned = false;
	m->name = name;
	m->magic = SIM_LOCK_MAGIC;
}

static void
mtx_check(struct mtx *m, const char *what)
{
	if (m->magic != SIM_LOCK_MAGIC)
		sim_panic("%s: lock %p is not initialized", what, (void *)m);
}

void
mtx_lock(struct mtx *m)
{
	mtx_check(m, "mtx_lock");
	pthread_mutex_lock(&m->m);
	m->owner = pthread_self();
	m->owned = true;
}

void
mtx_unlock(struct mtx *m)
{
	mtx_check(m, "mtx_unlock");
	if (!m->owned || !pthread_equal(m->owner, pthread_self()))
		sim_panic("mtx_unlock: %s not owned", m->name);
	m->owned = false;
	pthread_mutex_unlock(&m->m);
}

void
mtx_destroy(struct mtx *m)
{
	/* lock_destroy's assertion under INVARIANTS. */
	mtx_check(m, "mtx_destroy");
	if (m->owned)
		sim_panic("mtx_destroy: %s is held", m->name);
	pthread_mutex_destroy(&m->m);
	m->magic = 0;
}

void
sim_mtx_assert(struct mtx *m, int what, const char *file, int line)
{
	mtx_check(m, "mtx_assert");
	if (what == MA_OWNED && (!m->owned || !pthread_equal(m->owner, pthread_self())))
		sim_panic("mutex %s not owned at %s:%d", m->name, file, line);
}

void
sx_init(struct sx *sx, const char *name)
{
	mtx_init(&sx->m, name, NULL, 0);
}

void
sx_xlock(struct sx *sx)
{
	mtx_lock(&sx->m);
}

void
sx_xunlock(struct sx *sx)
{
	mtx_unlock(&sx->m);
}

void
sx_destroy(struct sx *sx)
{
	mtx_destroy(&sx->m);
}

/* One generation counter for every channel: a wakeup wakes every sleeper, which rechecks. */
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cv = PTHREAD_COND_INITIALIZER;
static unsigned long sleep_gen;

int
msleep(void *chan, struct mtx *m, int pri, const char *wmesg, int timo)
{
	struct timespec until;
	unsigned long gen;
	int rc = 0;

	(void)chan;
	(void)pri;
	(void)wmesg;
	sim_mtx_assert(m, MA_OWNED, "msleep", 0);
	pthread_mutex_lock(&sleep_lock);
	gen = sleep_gen;
	pthread_mutex_unlock(&sleep_lock);
	mtx_unlock(m);
	clock_gettime(CLOCK_REALTIME, &until);
	if (timo > 0) {
		long ms = (long)timo * 1000 / hz;

		until.tv_sec += ms / 1000;
		until.tv_nsec += (ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&sleep_lock);
	while (sleep_gen == gen && rc == 0) {
		if (timo > 0)
			rc = pthread_cond_timedwait(&sleep_cv, &sleep_lock, &until);
		else
			rc = pthread_cond_wait(&sleep_cv, &sleep_lock);
	}
	pthread_mutex_unlock(&sleep_lock);
	mtx_lock(m);
	return (rc == ETIMEDOUT ? EWOULDBLOCK : 0);
}

void
wakeup(void *chan)
{
	(void)chan;
	pthread_mutex_lock(&sleep_lock);
	sleep_gen++;
	pthread_cond_broadcast(&sleep_cv);
	pthread_mutex_unlock(&sleep_lock);
}

/* ---- taskqueue(9) ------------------------------------------------------- */

struct taskqueue {
	pthread_mutex_t	lock;
	pthread_cond_t	cv;
	STAILQ_HEAD(, task) queue;
	struct task	*running;
	bool		started;
	bool		exiting;
	pthread_t	thread;
};

struct taskqueue *taskqueue_thread;

void
taskqueue_thread_enqueue(void *context)
{
	(void)context;
}

static void *
taskqueue_worker(void *arg)
{
	struct taskqueue *tq = arg;
	struct task *task;
	int pending;

	pthread_mutex_lock(&tq->lock);
	for (;;) {
		while (STAILQ_EMPTY(&tq->queue) && !tq->exiting)
			pthread_cond_wait(&tq->cv, &tq->lock);
		if (STAILQ_EMPTY(&tq->queue))
			break;
		task = STAILQ_FIRST(&tq->queue);
		STAILQ_REMOVE_HEAD(&tq->queue, ta_link);
		pending = task->ta_pending;
		task->ta_pending = 0;
		tq->running = task;
		pthread_mutex_unlock(&tq->lock);
		task->ta_func(task->ta_context, pending);
		pthread_mutex_lock(&tq->lock);
		tq->running = NULL;
		pthread_cond_broadcast(&tq->cv);
	}
	pthread_mutex_unlock(&tq->lock);
	return (NULL);
}

struct taskqueue *
taskqueue_create(const char *name, int mflags, taskqueue_enqueue_fn enqueue, void *context)
{
	struct taskqueue *tq = calloc(1, sizeof(*tq));

	(void)name;
	(void)mflags;
	(void)enqueue;
	(void)context;
	pthread_mutex_init(&tq->lock, NULL);
	pthread_cond_init(&tq->cv, NULL);
	STAILQ_INIT(&tq->queue);
	return (tq);
}

int
taskqueue_start_threads(struct taskqueue **tqp, int count, int pri, const char *name, ...)
{
	struct taskqueue *tq = *tqp;

	(void)count;
	(void)pri;
	(void)name;
	tq->started = true;
	return (pthread_create(&tq->thread, NULL, taskqueue_worker, tq));
}

__attribute__((constructor)) static void
sim_taskqueue_thread_init(void)
{
	taskqueue_thread = taskqueue_create("thread", M_WAITOK, taskqueue_thread_enqueue, NULL);
	taskqueue_start_threads(&taskqueue_thread, 1, 0, "thread");
}

int
taskqueue_enqueue(struct taskqueue *tq, struct task *task)
{
	pthread_mutex_lock(&tq->lock);
	if (task->ta_pending != 0) {
		task->ta_pending++;
	} else {
		STAILQ_INSERT_TAIL(&tq->queue, task, ta_link);
		task->ta_pending = 1;
		pthread_cond_broadcast(&tq->cv);
	}
	pthread_mutex_unlock(&tq->lock);
	return (0);
}

void
taskqueue_drain(struct taskqueue *tq, struct task *task)
{
	pthread_mutex_lock(&tq->lock);
	while (task->ta_pending != 0 || tq->running == task)
		pthread_cond_wait(&tq->cv, &tq->lock);
	pthread_mutex_unlock(&tq->lock);
}

void
sim_taskqueue_idle(struct taskqueue *tq)
{
	pthread_mutex_lock(&tq->lock);
	while (!STAILQ_EMPTY(&tq->queue) || tq->running != NULL)
		pthread_cond_wait(&tq->cv, &tq->lock);
	pthread_mutex_unlock(&tq->lock);
}

void
taskqueue_free(struct taskqueue *tq)
{
	pthread_mutex_lock(&tq->lock);
	tq->exiting = true;
	pthread_cond_broadcast(&tq->cv);
	pthread_mutex_unlock(&tq->lock);
	if (tq->started)
		pthread_join(tq->thread, NULL);
	pthread_mutex_destroy(&tq->lock);
	pthread_cond_destroy(&tq->cv);
	free(tq);
}

/* ---- XenStore ----------------------------------------------------------- */

struct xs_node {
	struct xs_node	*next;
	char		*path;
	char		*value;
};
static struct xs_node *xs_nodes;

static struct xs_node *
xs_find(const char *path)
{
	struct xs_node *n;

	for (n = xs_nodes; n != NULL; n = n->next)
		if (strcmp(n->path, path) == 0)
			return (n);
	return (NULL);
}

void
sim_xs_set(const char *path, const char *value)
{
	struct xs_node *n, **pp;

	pthread_mutex_lock(&sim_big);
	if (value == NULL) {
		for (pp = &xs_nodes; *pp != NULL; pp = &(*pp)->next) {
			if (strcmp((*pp)->path, path) == 0) {
				n = *pp;
				*pp = n->next;
				free(n->path);
				free(n->value);
				free(n);
				break;
			}
		}
	} else if ((n = xs_find(path)) != NULL) {
		free(n->value);
		n->value = strdup(value);
	} else {
		n = calloc(1, sizeof(*n));
		n->path = strdup(path);
		n->value = strdup(value);
		n->next = xs_nodes;
		xs_nodes = n;
	}
	pthread_mutex_unlock(&sim_big);
}

void
sim_xs_setf(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_xs_set(path, buf);
}

char *
sim_xs_get(const char *path)
{
	struct xs_node *n;
	char *v = NULL;

	pthread_mutex_lock(&sim_big);
	if ((n = xs_find(path)) != NULL)
		v = strdup(n->value);
	pthread_mutex_unlock(&sim_big);
	return (v);
}

long
sim_xs_get_long(const char *path, long def)
{
	char *v = sim_xs_get(path);
	long r = def;

	if (v != NULL) {
		r = strtol(v, NULL, 10);
		free(v);
	}
	return (r);
}

static void
xs_join(char *buf, size_t len, const char *dir, const char *node)
{
	if (node == NULL || *node == '\0')
		snprintf(buf, len, "%s", dir);
	else
		snprintf(buf, len, "%s/%s", dir, node);
}

int
xs_exists(struct xs_transaction t, const char *dir, const char *node)
{
	char path[512], *v;

	(void)t;
	xs_join(path, sizeof(path), dir, node);
	v = sim_xs_get(path);
	if (v == NULL) {
		/* A directory exists when a node lies under it. */
		struct xs_node *n;
		size_t l = strlen(path);
		int found = 0;

		pthread_mutex_lock(&sim_big);
		for (n = xs_nodes; n != NULL && !found; n = n->next)
			found = strncmp(n->path, path, l) == 0 && n->path[l] == '/';
		pthread_mutex_unlock(&sim_big);
		return (found);
	}
	free(v);
	return (1);
}

int
xs_read(struct xs_transaction t, const char *dir, const char *node, unsigned int *len, void **result)
{
	char path[512], *v;

	(void)t;
	xs_join(path, sizeof(path), dir, node);
	v = sim_xs_get(path);
	if (v == NULL)
		return (ENOENT);
	if (len != NULL)
		*len = (unsigned int)strlen(v);
	*result = v;
	return (0);
}

int
xs_write(struct xs_transaction t, const char *dir, const char *node, const char *string)
{
	char path[512];

	(void)t;
	xs_join(path, sizeof(path), dir, node);
	sim_xs_set(path, string);
	return (0);
}

int
xs_rm(struct xs_transaction t, const char *dir, const char *node)
{
	char path[512];

	(void)t;
	xs_join(path, sizeof(path), dir, node);
	sim_xs_set(path, NULL);
	return (0);
}

int
xs_transaction_start(struct xs_transaction *t)
{
	t->id = 1;
	return (0);
}

int
xs_transaction_end(struct xs_transaction t, int abort)
{
	(void)t;
	(void)abort;
	return (0);
}

/* ---- devices and XenBus ------------------------------------------------- */

struct device {
	void		*softc;
	char		nameunit[32];
	char		node[128];
	char		otherend[128];
	int		otherend_id;
	XenbusState	state;		/* the bus's copy (its ivar), as xenbus_get_state returns it */
};

device_t
sim_device_new(const char *nameunit, const char *node, const char *otherend, int otherend_id,
    size_t softc_size)
{
	device_t dev = calloc(1, sizeof(*dev));

	dev->softc = calloc(1, softc_size);
	snprintf(dev->nameunit, sizeof(dev->nameunit), "%s", nameunit);
	snprintf(dev->node, sizeof(dev->node), "%s", node);
	sim_device_set_otherend(dev, otherend, otherend_id);
	dev->state = XenbusStateInitialising;
	return (dev);
}

void
sim_device_set_otherend(device_t dev, const char *otherend, int otherend_id)
{
	snprintf(dev->otherend, sizeof(dev->otherend), "%s", otherend);
	dev->otherend_id = otherend_id;
}

void *
device_get_softc(device_t dev)
{
	return (dev->softc);
}

const char *
device_get_nameunit(device_t dev)
{
	return (dev->nameunit);
}

int
device_get_unit(device_t dev)
{
	(void)dev;
	return (0);
}

void
device_set_desc(device_t dev, const char *desc)
{
	(void)dev;
	(void)desc;
}

u_int sim_device_printfs;

int
device_printf(device_t dev, const char *fmt, ...)
{
	va_list ap;
	int n;

	sim_device_printfs++;
	fprintf(stderr, "%s: ", dev->nameunit);
	va_start(ap, fmt);
	n = vfprintf(stderr, fmt, ap);
	va_end(ap);
	return (n);
}

const char *
xenbus_get_node(device_t dev)
{
	return (dev->node);
}

const char *
xenbus_get_otherend_path(device_t dev)
{
	return (dev->otherend);
}

int
xenbus_get_otherend_id(device_t dev)
{
	return (dev->otherend_id);
}

const char *
xenbus_get_type(device_t dev)
{
	(void)dev;
	return ("vbd");
}

XenbusState
xenbus_get_state(device_t dev)
{
	return (dev->state);
}

void
sim_bus_set_state(device_t dev, XenbusState state)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/state", dev->node);
	sim_xs_setf(path, "%d", (int)state);
	dev->state = state;
}

XenbusState
sim_bus_refresh_state(device_t dev)
{
	dev->state = xenbus_read_driver_state(dev->node);
	return (dev->state);
}

int
xenbus_set_state(device_t dev, XenbusState state)
{
	if (dev->state == state)
		return (0);
	sim_bus_set_state(dev, state);
	return (0);
}

XenbusState
xenbus_read_driver_state(const char *path)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/state", path);
	return ((XenbusState)sim_xs_get_long(p, XenbusStateClosed));
}

void
xenbus_dev_fatal(device_t dev, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sim_last_fatal, sizeof(sim_last_fatal), fmt, ap);
	va_end(ap);
	sim_fatal_count++;
	fprintf(stderr, "%s: fatal %d: %s\n", dev->nameunit, err, sim_last_fatal);
	/* As FreeBSD's xenbus_dev_fatal: the device goes Closing. */
	xenbus_set_state(dev, XenbusStateClosing);
}

const char *
xenbus_strstate(XenbusState state)
{
	static const char *names[] = { "Unknown", "Initialising", "InitWait", "Initialised",
	    "Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured" };

	return ((unsigned)state < nitems(names) ? names[state] : "?");
}

int
xenbus_dev_is_online(device_t dev)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/online", dev->node);
	return ((int)sim_xs_get_long(p, 0));
}

/* ---- grants ------------------------------------------------------------- */

#define	SIM_GRANTS	8192
#define	SIM_ARENA_PAGES	2048

struct sim_grant {
	bool		used;
	bool		arena;		/* frame is a page of the arena, else an identity frame */
	bool		readonly;
	unsigned long	frame;
	int		maps;		/* held by the peer */
};
static struct sim_grant grants[SIM_GRANTS];
static int arena_fd = -1;
static uint8_t *arena;

static void
arena_init(void)
{
	if (arena != NULL)
		return;
	arena_fd = memfd_create("xdg-sim-arena", 0);
	if (arena_fd < 0 || ftruncate(arena_fd, (off_t)SIM_ARENA_PAGES * PAGE_SIZE) != 0)
		sim_panic("memfd: %s", strerror(errno));
	arena = mmap(NULL, (size_t)SIM_ARENA_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    arena_fd, 0);
	if (arena == MAP_FAILED)
		sim_panic("mmap arena: %s", strerror(errno));
}

void *
sim_arena_page(u_int page)
{
	arena_init();
	if (page >= SIM_ARENA_PAGES)
		sim_panic("arena page %u", page);
	return (arena + (size_t)page * PAGE_SIZE);
}

static grant_ref_t
grant_new(bool in_arena, unsigned long frame, bool readonly)
{
	grant_ref_t ref;

	pthread_mutex_lock(&sim_big);
	for (ref = 8; ref < SIM_GRANTS; ref++)	/* the first few are Xen's own */
		if (!grants[ref].used)
			break;
	if (ref == SIM_GRANTS)
		sim_panic("out of grants");
	grants[ref] = (struct sim_grant){ true, in_arena, readonly, frame, 0 };
	pthread_mutex_unlock(&sim_big);
	return (ref);
}

grant_ref_t
sim_arena_grant(u_int page, bool readonly)
{
	arena_init();
	return (grant_new(true, page, readonly));
}

int
gnttab_grant_foreign_access(domid_t domid, unsigned long frame, int flags, grant_ref_t *result)
{
	(void)domid;
	*result = grant_new(false, frame, flags != 0);
	return (0);
}

int
xenbus_grant_ring(device_t dev, unsigned long ring_mfn, grant_ref_t *refp)
{
	(void)dev;
	*refp = grant_new(false, ring_mfn, false);
	return (0);
}

int
gnttab_end_foreign_access_ref(grant_ref_t ref)
{
	int ended;

	pthread_mutex_lock(&sim_big);
	if (ref >= SIM_GRANTS || !grants[ref].used)
		sim_panic("ending grant %u, which is not granted", ref);
	ended = grants[ref].maps == 0;
	pthread_mutex_unlock(&sim_big);
	return (ended);
}

void
gnttab_free_grant_reference(grant_ref_t ref)
{
	pthread_mutex_lock(&sim_big);
	if (ref >= SIM_GRANTS || !grants[ref].used)
		sim_panic("freeing grant %u, which is not granted", ref);
	if (grants[ref].maps != 0)
		sim_panic("freeing grant %u while the peer maps it", ref);
	grants[ref].used = false;
	pthread_mutex_unlock(&sim_big);
}

void
gnttab_request_free_callback(struct gnttab_free_callback *callback, void (*fn)(void *), void *arg,
    uint16_t count)
{
	callback->fn = fn;
	callback->arg = arg;
	callback->count = count;
}

void
gnttab_cancel_free_callback(struct gnttab_free_callback *callback)
{
	callback->fn = NULL;
}

void *
sim_grant_va(grant_ref_t ref)
{
	struct sim_grant *g;

	if (ref >= SIM_GRANTS || !grants[ref].used)
		return (NULL);
	g = &grants[ref];
	return (g->arena ? sim_arena_page((u_int)g->frame) : (void *)(uintptr_t)(g->frame << PAGE_SHIFT));
}

bool
sim_grant_active(grant_ref_t ref)
{
	return (ref < SIM_GRANTS && grants[ref].used);
}

void
sim_grant_hold(grant_ref_t ref, bool hold)
{
	pthread_mutex_lock(&sim_big);
	grants[ref].maps += hold ? 1 : -1;
	pthread_mutex_unlock(&sim_big);
}

u_int
sim_grants_active(void)
{
	u_int i, n = 0;

	for (i = 0; i < SIM_GRANTS; i++)
		n += grants[i].used && !grants[i].arena;
	return (n);
}

/* Mappings a backend made of arena grants. */
struct sim_map {
	bool		used;
	uint64_t	host_addr;
	grant_ref_t	ref;
};
#define	SIM_MAPS	8192
static struct sim_map maps[SIM_MAPS];

u_int
sim_maps_active(void)
{
	u_int i, n = 0;

	for (i = 0; i < SIM_MAPS; i++)
		n += maps[i].used;
	return (n);
}

static void
map_one(struct gnttab_map_grant_ref *op)
{
	struct sim_grant *g;
	grant_handle_t h;
	int prot;

	pthread_mutex_lock(&sim_big);
	g = op->ref < SIM_GRANTS ? &grants[op->ref] : NULL;
	if (g == NULL || !g->used || !g->arena || (g->readonly && !(op->flags & GNTMAP_readonly))) {
		op->status = -1;	/* GNTST_general_error */
		pthread_mutex_unlock(&sim_big);
		return;
	}
	for (h = 1; h < SIM_MAPS && maps[h].used; h++)
		;
	if (h == SIM_MAPS)
		sim_panic("out of grant handles");
	prot = PROT_READ | ((op->flags & GNTMAP_readonly) ? 0 : PROT_WRITE);
	if (mmap((void *)(uintptr_t)op->host_addr, PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED, arena_fd,
	    (off_t)g->frame * PAGE_SIZE) == MAP_FAILED)
		sim_panic("mmap grant: %s", strerror(errno));
	maps[h] = (struct sim_map){ true, op->host_addr, op->ref };
	g->maps++;
	op->handle = h;
	op->status = GNTST_okay;
	pthread_mutex_unlock(&sim_big);
}

static void
unmap_one(struct gnttab_unmap_grant_ref *op)
{
	struct sim_map *m;
	grant_ref_t ref;

	pthread_mutex_lock(&sim_big);
	m = op->handle < SIM_MAPS ? &maps[op->handle] : NULL;
	if (m == NULL || !m->used || m->host_addr != op->host_addr)
		sim_panic("unmapping handle %u at %#jx, which is not mapped there", op->handle,
		    (uintmax_t)op->host_addr);
	/* Nothing is left at that address: a late access faults. */
	if (mmap((void *)(uintptr_t)op->host_addr, PAGE_SIZE, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		sim_panic("mmap over a grant: %s", strerror(errno));
	ref = m->ref;
	grants[ref].maps--;
	m->used = false;
	op->status = GNTST_okay;
	pthread_mutex_unlock(&sim_big);
	if (sim_unmap_hook != NULL)
		sim_unmap_hook(op->host_addr, ref);
}

int
HYPERVISOR_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (cmd == GNTTABOP_map_grant_ref)
			map_one(&((struct gnttab_map_grant_ref *)uop)[i]);
		else if (cmd == GNTTABOP_unmap_grant_ref)
			unmap_one(&((struct gnttab_unmap_grant_ref *)uop)[i]);
		else
			return (-ENOSYS);
	}
	return (0);
}

struct resource {
	void	*va;
	size_t	size;
};

struct resource *
xenmem_alloc(device_t dev, int *res_id, size_t size)
{
	struct resource *r = calloc(1, sizeof(*r));

	(void)dev;
	(void)res_id;
	arena_init();
	r->size = size;
	r->va = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->va == MAP_FAILED)
		sim_panic("xenmem_alloc: %s", strerror(errno));
	return (r);
}

int
xenmem_free(device_t dev, int res_id, struct resource *res)
{
	(void)dev;
	(void)res_id;
	/* Left reserved and inaccessible, so that a late access faults rather than hits something else. */
	if (mmap(res->va, res->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		sim_panic("xenmem_free: %s", strerror(errno));
	free(res);
	return (0);
}

vm_paddr_t
rman_get_start(struct resource *r)
{
	return ((vm_paddr_t)(uintptr_t)r->va);
}

void *
rman_get_virtual(struct resource *r)
{
	return (r->va);
}

/* ---- event channels ----------------------------------------------------- */

struct sim_evtchn {
	struct sim_evtchn *next;
	pthread_mutex_t	run;		/* held while the handler runs: unbind waits for it */
	bool		bound;
	evtchn_port_t	port, remote;
	driver_filter_t	*filter;
	driver_intr_t	*handler;
	void		*arg;
	u_int		signals;
};
static struct sim_evtchn *channels;
static evtchn_port_t next_port = 10;

static int
evtchn_bind(driver_filter_t filter, driver_intr_t handler, void *arg, evtchn_port_t remote,
    xen_intr_handle_t *handlep)
{
	struct sim_evtchn *ch = calloc(1, sizeof(*ch));

	pthread_mutex_init(&ch->run, NULL);
	ch->bound = true;
	ch->filter = filter;
	ch->handler = handler;
	ch->arg = arg;
	ch->remote = remote;
	pthread_mutex_lock(&sim_big);
	ch->port = next_port++;
	ch->next = channels;
	channels = ch;
	pthread_mutex_unlock(&sim_big);
	*handlep = ch;
	return (0);
}

int
xen_intr_alloc_and_bind_local_port(device_t dev, u_int remote_domain, driver_filter_t filter,
    driver_intr_t handler, void *arg, enum intr_type irqflags, xen_intr_handle_t *handlep)
{
	(void)dev;
	(void)remote_domain;
	(void)irqflags;
	return (evtchn_bind(filter, handler, arg, 0, handlep));
}

int
xen_intr_bind_remote_port(device_t dev, u_int remote_domain, evtchn_port_t remote_port,
    driver_filter_t filter, driver_intr_t handler, void *arg, enum intr_type irqflags,
    xen_intr_handle_t *handlep)
{
	(void)dev;
	(void)remote_domain;
	(void)irqflags;
	return (evtchn_bind(filter, handler, arg, remote_port, handlep));
}

void
xen_intr_unbind(xen_intr_handle_t *handle)
{
	struct sim_evtchn *ch = *handle;

	if (ch == NULL)
		return;
	pthread_mutex_lock(&ch->run);
	ch->bound = false;
	pthread_mutex_unlock(&ch->run);
	*handle = NULL;		/* the record stays, so a test may still ask about it */
}

void
xen_intr_signal(xen_intr_handle_t handle)
{
	struct sim_evtchn *ch = handle;

	/* As FreeBSD's: no channel, no notification; the peer is never told. */
	if (ch == NULL || !ch->bound) {
		__atomic_add_fetch(&sim_lost_signals, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_add_fetch(&ch->signals, 1, __ATOMIC_SEQ_CST);
}

evtchn_port_t
xen_intr_port(xen_intr_handle_t handle)
{
	return (((struct sim_evtchn *)handle)->port);
}

struct sim_evtchn *
sim_evtchn_by_remote(evtchn_port_t remote)
{
	struct sim_evtchn *ch;

	for (ch = channels; ch != NULL; ch = ch->next)
		if (ch->bound && ch->remote == remote)
			return (ch);
	return (NULL);
}

struct sim_evtchn *
sim_evtchn_by_port(evtchn_port_t port)
{
	struct sim_evtchn *ch;

	for (ch = channels; ch != NULL; ch = ch->next)
		if (ch->port == port)
			return (ch);
	return (NULL);
}

bool
sim_evtchn_fire(struct sim_evtchn *ch)
{
	bool bound;

	pthread_mutex_lock(&ch->run);
	bound = ch->bound;
	if (bound) {
		if (ch->filter != NULL)
			ch->filter(ch->arg);
		else
			ch->handler(ch->arg);
	}
	pthread_mutex_unlock(&ch->run);
	return (bound);
}

u_int
sim_evtchn_signals(struct sim_evtchn *ch)
{
	return (__atomic_load_n(&ch->signals, __ATOMIC_SEQ_CST));
}

bool
sim_evtchn_bound(struct sim_evtchn *ch)
{
	return (ch->bound);
}

/* ---- bios and the bio queue --------------------------------------------- */

void
bioq_init(struct bio_queue_head *head)
{
	TAILQ_INIT(&head->queue);
}

struct bio *
bioq_first(struct bio_queue_head *head)
{
	return (TAILQ_FIRST(&head->queue));
}

void
bioq_remove(struct bio_queue_head *head, struct bio *bp)
{
	TAILQ_REMOVE(&head->queue, bp, bio_queue);
}

void
bioq_insert_head(struct bio_queue_head *head, struct bio *bp)
{
	TAILQ_INSERT_HEAD(&head->queue, bp, bio_queue);
}

void
bioq_insert_tail(struct bio_queue_head *head, struct bio *bp)
{
	TAILQ_INSERT_TAIL(&head->queue, bp, bio_queue);
}

struct bio *
bioq_takefirst(struct bio_queue_head *head)
{
	struct bio *bp = TAILQ_FIRST(&head->queue);

	if (bp != NULL)
		TAILQ_REMOVE(&head->queue, bp, bio_queue);
	return (bp);
}

void
biodone(struct bio *bp)
{
	if (bp->bio_done == NULL)
		sim_panic("biodone without bio_done");
	bp->bio_done(bp);
}

struct bio *
g_alloc_bio(void)
{
	return (calloc(1, sizeof(struct bio)));
}

struct bio *
g_clone_bio(struct bio *bp)
{
	struct bio *c = calloc(1, sizeof(*c));

	c->bio_cmd = bp->bio_cmd;
	c->bio_offset = bp->bio_offset;
	c->bio_length = bp->bio_length;
	c->bio_data = bp->bio_data;
	c->bio_parent = bp;
	bp->bio_children++;
	return (c);
}

/* ---- GEOM providers backed by memory ------------------------------------ */

struct sim_store {
	struct sim_store *next;
	struct g_provider pp;
	uint8_t		*data;
	pthread_mutex_t	lock;
	pthread_cond_t	cv;
	TAILQ_HEAD(, bio) queue;
	bool		hold;
	u_int		queued, bios;
	int		destroy_delay_ms;
	pthread_t	thread;
};
static struct sim_store *stores;
static pthread_mutex_t topology = PTHREAD_MUTEX_INITIALIZER;
static __thread struct sim_store *gup_of;	/* the store whose completion thread this is */

void
g_destroy_bio(struct bio *bp)
{
	if (gup_of != NULL && gup_of->destroy_delay_ms > 0)
		sim_sleep_ms(gup_of->destroy_delay_ms);
	free(bp);
}

static void
store_io(struct sim_store *st, struct bio *bp)
{
	if (bp->bio_error != 0)
		return;
	switch (bp->bio_cmd) {
	case BIO_READ:
		memcpy(bp->bio_data, st->data + bp->bio_offset, (size_t)bp->bio_length);
		break;
	case BIO_WRITE:
		memcpy(st->data + bp->bio_offset, bp->bio_data, (size_t)bp->bio_length);
		break;
	case BIO_DELETE:
		memset(st->data + bp->bio_offset, 0, (size_t)bp->bio_length);
		break;
	default:
		break;
	}
	bp->bio_completed = bp->bio_length;
}

static void *
store_gup(void *arg)
{
	struct sim_store *st = arg;
	struct bio *bp;

	gup_of = st;
	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (TAILQ_EMPTY(&st->queue) || st->hold)
			pthread_cond_wait(&st->cv, &st->lock);
		bp = TAILQ_FIRST(&st->queue);
		TAILQ_REMOVE(&st->queue, bp, bio_queue);
		st->queued--;
		pthread_mutex_unlock(&st->lock);
		store_io(st, bp);
		biodone(bp);
		pthread_mutex_lock(&st->lock);
		pthread_cond_broadcast(&st->cv);
	}
	return (NULL);
}

struct sim_store *
sim_store_new(const char *name, off_t size, u_int sectorsize)
{
	struct sim_store *st = calloc(1, sizeof(*st));

	snprintf(st->pp.name, sizeof(st->pp.name), "%s", name);
	st->pp.mediasize = size;
	st->pp.sectorsize = sectorsize;
	st->pp.store = st;
	st->data = calloc(1, (size_t)size);
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cv, NULL);
	TAILQ_INIT(&st->queue);
	pthread_create(&st->thread, NULL, store_gup, st);
	pthread_mutex_lock(&topology);
	st->next = stores;
	stores = st;
	pthread_mutex_unlock(&topology);
	return (st);
}

uint8_t *
sim_store_data(struct sim_store *st)
{
	return (st->data);
}

void
sim_store_hold(struct sim_store *st, bool hold)
{
	pthread_mutex_lock(&st->lock);
	st->hold = hold;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->lock);
}

u_int
sim_store_queued(struct sim_store *st)
{
	u_int n;

	pthread_mutex_lock(&st->lock);
	n = st->queued;
	pthread_mutex_unlock(&st->lock);
	return (n);
}

u_int
sim_store_bios(struct sim_store *st)
{
	u_int n;

	pthread_mutex_lock(&st->lock);
	n = st->bios;
	pthread_mutex_unlock(&st->lock);
	return (n);
}

void
sim_store_destroy_delay(struct sim_store *st, int ms)
{
	st->destroy_delay_ms = ms;
}

void
g_io_request(struct bio *bp, struct g_consumer *cp)
{
	struct sim_store *st = cp->provider->store;
	off_t ss = st->pp.sectorsize;

	bp->bio_from = cp;
	bp->bio_error = 0;
	/* g_io_check: whole sectors of the provider, on the provider. */
	if (bp->bio_cmd == BIO_READ || bp->bio_cmd == BIO_WRITE || bp->bio_cmd == BIO_DELETE) {
		if (bp->bio_offset % ss != 0 || bp->bio_length % ss != 0)
			bp->bio_error = EINVAL;
		else if (bp->bio_offset < 0 || bp->bio_offset + bp->bio_length > st->pp.mediasize)
			bp->bio_error = EIO;
	}
	pthread_mutex_lock(&st->lock);
	TAILQ_INSERT_TAIL(&st->queue, bp, bio_queue);
	st->queued++;
	st->bios++;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->lock);
}

void
g_topology_lock(void)
{
	pthread_mutex_lock(&topology);
}

void
g_topology_unlock(void)
{
	pthread_mutex_unlock(&topology);
}

struct g_provider *
g_provider_by_name(const char *name)
{
	struct sim_store *st;

	for (st = stores; st != NULL; st = st->next)
		if (strcmp(st->pp.name, name) == 0)
			return (&st->pp);
	return (NULL);
}

struct g_geom *
g_new_geomf(struct g_class *mp, const char *fmt, ...)
{
	struct g_geom *gp = calloc(1, sizeof(*gp));
	va_list ap;

	gp->class = mp;
	va_start(ap, fmt);
	vsnprintf(gp->name, sizeof(gp->name), fmt, ap);
	va_end(ap);
	return (gp);
}

struct g_consumer *
g_new_consumer(struct g_geom *gp)
{
	struct g_consumer *cp = calloc(1, sizeof(*cp));

	cp->geom = gp;
	return (cp);
}

int
g_attach(struct g_consumer *cp, struct g_provider *pp)
{
	cp->provider = pp;
	return (0);
}

int
g_access(struct g_consumer *cp, int nread, int nwrite, int nexcl)
{
	cp->acr += nread;
	cp->acw += nwrite;
	cp->ace += nexcl;
	return (0);
}

void
g_detach(struct g_consumer *cp)
{
	cp->provider = NULL;
}

void
g_destroy_consumer(struct g_consumer *cp)
{
	free(cp);
}

void
g_destroy_geom(struct g_geom *gp)
{
	free(gp);
}

int
sim_g_getattr(const char *attr, struct g_consumer *cp, void *var, int len)
{
	(void)cp;
	if (strcmp(attr, "GEOM::candelete") == 0 && len == (int)sizeof(int)) {
		*(int *)var = 1;
		return (0);
	}
	return (-3);	/* ENOIOCTL */
}

/* ---- disk(9) ------------------------------------------------------------ */

u_int sim_disks_created, sim_disks_destroyed, sim_disks_resized;
struct disk *sim_last_disk;
static struct disk *live_disks[64];

struct disk *
disk_alloc(void)
{
	return (calloc(1, sizeof(struct disk)));
}

void
disk_create(struct disk *disk, int version)
{
	u_int i;

	(void)version;
	for (i = 0; i < nitems(live_disks) && live_disks[i] != NULL; i++)
		;
	live_disks[i] = disk;
	sim_disks_created++;
	sim_last_disk = disk;
}

bool
sim_disk_alive(struct disk *dp)
{
	u_int i;

	for (i = 0; i < nitems(live_disks); i++)
		if (live_disks[i] == dp)
			return (true);
	return (false);
}

void
disk_destroy(struct disk *disk)
{
	u_int i;

	for (i = 0; i < nitems(live_disks); i++)
		if (live_disks[i] == disk)
			live_disks[i] = NULL;
	sim_disks_destroyed++;
	if (sim_last_disk == disk)
		sim_last_disk = NULL;
	free(disk);
}

int
disk_resize(struct disk *dp, int flag)
{
	(void)dp;
	(void)flag;
	sim_disks_resized++;
	return (0);
}

/* ---- bus_dma(9): identity addresses, segments cut at page boundaries ---- */

struct sim_dma_tag {
	bus_size_t	maxsize;
	int		nsegments;
	bus_size_t	maxsegsz;
	bus_addr_t	boundary;
};
struct sim_dma_map {
	int		loaded;
};

void
busdma_lock_mutex(void *arg, bus_dma_lock_op_t op)
{
	(void)arg;
	(void)op;
}

bus_dma_tag_t
bus_get_dma_tag(device_t dev)
{
	(void)dev;
	return (NULL);
}

int
bus_dma_tag_create(bus_dma_tag_t parent, bus_size_t alignment, bus_addr_t boundary,
    bus_addr_t lowaddr, bus_addr_t highaddr, bus_dma_filter_t *filter, void *filterarg,
    bus_size_t maxsize, int nsegments, bus_size_t maxsegsz, int flags, bus_dma_lock_t *lockfunc,
    void *lockfuncarg, bus_dma_tag_t *dmat)
{
	struct sim_dma_tag *t = calloc(1, sizeof(*t));

	(void)parent;
	(void)alignment;
	(void)lowaddr;
	(void)highaddr;
	(void)filter;
	(void)filterarg;
	(void)flags;
	(void)lockfunc;
	(void)lockfuncarg;
	t->maxsize = maxsize;
	t->nsegments = nsegments;
	t->maxsegsz = maxsegsz;
	t->boundary = boundary;
	*dmat = t;
	return (0);
}

int
bus_dma_tag_destroy(bus_dma_tag_t dmat)
{
	free(dmat);
	return (0);
}

int
bus_dmamap_create(bus_dma_tag_t dmat, int flags, bus_dmamap_t *mapp)
{
	(void)dmat;
	(void)flags;
	*mapp = calloc(1, sizeof(**mapp));
	return (0);
}

int
bus_dmamap_destroy(bus_dma_tag_t dmat, bus_dmamap_t map)
{
	(void)dmat;
	free(map);
	return (0);
}

int
bus_dmamap_load_bio(bus_dma_tag_t dmat, bus_dmamap_t map, struct bio *bio,
    bus_dmamap_callback_t *callback, void *callback_arg, int flags)
{
	bus_dma_segment_t segs[512];
	uintptr_t va = (uintptr_t)bio->bio_data, end = va + (uintptr_t)bio->bio_bcount, next;
	int n = 0;

	(void)flags;
	if ((bus_size_t)bio->bio_bcount > dmat->maxsize) {
		callback(callback_arg, segs, 0, EFBIG);
		return (EFBIG);
	}
	for (; va < end; va = next) {
		next = MIN(end, (va & ~(uintptr_t)(dmat->boundary - 1)) + dmat->boundary);
		if (n == dmat->nsegments || n == (int)nitems(segs)) {
			callback(callback_arg, segs, 0, EFBIG);
			return (EFBIG);
		}
		segs[n].ds_addr = va;
		segs[n].ds_len = next - va;
		n++;
	}
	map->loaded = 1;
	callback(callback_arg, segs, n, 0);
	return (0);
}

void
bus_dmamap_unload(bus_dma_tag_t dmat, bus_dmamap_t map)
{
	(void)dmat;
	map->loaded = 0;
}

void
bus_dmamap_sync(bus_dma_tag_t dmat, bus_dmamap_t map, int op)
{
	(void)dmat;
	(void)map;
	(void)op;
}
