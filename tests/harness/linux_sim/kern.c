/*
 * The user-space Linux kernel of the simulation (see kern.h for what it
 * models and sim.h for what the scenarios use of it).  Compiled apart from
 * the drivers, with AddressSanitizer.
 */
#include <sanitizer/asan_interface.h>

#include "sim.h"

unsigned long jiffies;
unsigned int sim_violations;
unsigned int sim_fatal_count;
char sim_last_fatal[256];

static int sim_atomic_depth;		/* spinlocks held */
static int sim_irq_depth;		/* in an interrupt handler or a bio completion */
static int sim_xenwatch_busy;		/* a watch callback is running (there is one xenwatch thread) */

#define SIM_WAIT_FOREVER_EVENTS	1000000UL

void sim_violation(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "SIM VIOLATION: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(NULL);
	sim_violations++;
}

void sim_stuck(const char *what)
{
	sim_violation("waits forever: %s (nothing left to run could end the wait)", what);
	abort();
}

void sim_unmodelled(const char *what)
{
	fprintf(stderr, "SIM VIOLATION: %s is not modelled by the simulation\n", what);
	fflush(NULL);
	abort();
}

void sim_might_sleep(const char *what)
{
	if (sim_atomic_depth > 0 || sim_irq_depth > 0)
		sim_violation("%s sleeps in atomic context (%d spinlocks held, %s)", what, sim_atomic_depth,
			      sim_irq_depth ? "in an interrupt" : "not in an interrupt");
}

void sim_printk(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6lu] %s: ", jiffies, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void sim_dev_printk(const char *level, const struct device *dev, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6lu] %s: %s: ", jiffies, level, dev->sim_name ? dev->sim_name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

ssize_t strscpy(char *dest, const char *src, size_t count)
{
	size_t n;

	if (count == 0)
		return -E2BIG;
	n = strnlen(src, count);
	if (n == count) {
		memcpy(dest, src, count - 1);
		dest[count - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dest, src, n + 1);
	return (ssize_t)n;
}

/* ---- memory ------------------------------------------------------------------------ */

static unsigned int sim_nr_allocs;	/* kmalloc'ed blocks not freed yet */

unsigned int sim_allocs_live(void)
{
	return sim_nr_allocs;
}

void *kmalloc(size_t size, gfp_t flags)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		sim_unmodelled("running out of memory");
	if (flags & __GFP_ZERO)
		memset(p, 0, size);
	sim_nr_allocs++;
	return p;
}

void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}

void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	return kzalloc(n * size, flags);
}

void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	return kzalloc(n * size, flags);
}

void kfree(const void *p)
{
	if (p)
		sim_nr_allocs--;
	free((void *)p);
}

void kvfree(const void *p)
{
	kfree(p);
}

/* ---- the event loop ------------------------------------------------------------------- */

enum sim_ctx {
	SIM_CTX_WORK,		/* a work item: never runs twice at once */
	SIM_CTX_XENWATCH,	/* the xenwatch thread: one callback at a time */
	SIM_CTX_IRQ,		/* a device's completion: runs whenever due */
	SIM_CTX_ANY,		/* blk-mq's queue runs */
};

struct sim_event {
	struct sim_event *next;
	unsigned long due;
	unsigned long seq;
	enum sim_ctx ctx;
	struct work_struct *work;
	void (*fn)(void *arg);
	void *arg;
	void *owner;		/* what may cancel it (a watch) */
};

static struct sim_event *sim_events;
static unsigned long sim_seq;

static void sim_event_add(struct sim_event *ev)
{
	struct sim_event **at = &sim_events;

	ev->seq = sim_seq++;
	while (*at && ((*at)->due < ev->due || ((*at)->due == ev->due && (*at)->seq < ev->seq)))
		at = &(*at)->next;
	ev->next = *at;
	*at = ev;
}

static void sim_defer(enum sim_ctx ctx, unsigned long delay, void (*fn)(void *), void *arg, void *owner)
{
	struct sim_event *ev = calloc(1, sizeof(*ev));

	ev->ctx = ctx;
	ev->due = jiffies + delay;
	ev->fn = fn;
	ev->arg = arg;
	ev->owner = owner;
	sim_event_add(ev);
}

static bool sim_runnable(const struct sim_event *ev)
{
	if (ev->work)
		return !ev->work->sim_running;
	if (ev->ctx == SIM_CTX_XENWATCH)
		return !sim_xenwatch_busy;
	return true;
}

void sim_advance(unsigned long to)
{
	if (to > jiffies)
		jiffies = to;
}

bool sim_wait_step(unsigned long deadline)
{
	struct sim_event **at, *ev;
	static unsigned long steps;

	for (at = &sim_events; *at; at = &(*at)->next)
		if (sim_runnable(*at))
			break;
	ev = *at;
	if (!ev || ev->due > deadline)
		return false;
	if (++steps > SIM_WAIT_FOREVER_EVENTS)
		sim_stuck("the events never stop (a livelock)");
	*at = ev->next;
	sim_advance(ev->due);
	if (ev->work) {
		struct work_struct *w = ev->work;

		w->sim_pending = false;
		w->sim_running++;
		w->func(w);
		w->sim_running--;
	} else if (ev->ctx == SIM_CTX_XENWATCH) {
		sim_xenwatch_busy++;
		ev->fn(ev->arg);
		sim_xenwatch_busy--;
	} else if (ev->ctx == SIM_CTX_IRQ) {
		sim_irq_depth++;
		ev->fn(ev->arg);
		sim_irq_depth--;
	} else {
		ev->fn(ev->arg);
	}
	free(ev);
	return true;
}

/* Sleep `ms` (of virtual time), running what falls due meanwhile. */
static void sim_sleep(unsigned long ms)
{
	unsigned long end = jiffies + ms;

	sim_might_sleep("a sleep");
	while (sim_wait_step(end))
		;
	sim_advance(end);
}

static bool sim_anything_runnable(void)
{
	struct sim_event *ev;

	for (ev = sim_events; ev; ev = ev->next)
		if (sim_runnable(ev))
			return true;
	return false;
}

void sim_run(void)
{
	while (sim_wait_step(ULONG_MAX))
		;
}

void sim_run_due(void)
{
	while (sim_wait_step(jiffies))
		;
}

bool sim_run_until(bool (*pred)(void *arg), void *arg)
{
	while (!pred(arg))
		if (!sim_wait_step(ULONG_MAX))
			return false;
	return true;
}

/* ---- locks ------------------------------------------------------------------------------- */

void sim_spin_init(spinlock_t *l, const char *name)
{
	l->sim_magic = SIM_LOCK_MAGIC;
	l->sim_held = 0;
	l->sim_name = name;
}

void sim_spin_lock(spinlock_t *l)
{
	if (l->sim_magic != SIM_LOCK_MAGIC)
		sim_violation("spin_lock of a spinlock never initialised (%p)", (void *)l);
	if (l->sim_held)
		sim_stuck("spin_lock of a spinlock this CPU already holds (a deadlock)");
	l->sim_held = 1;
	sim_atomic_depth++;
}

void sim_spin_unlock(spinlock_t *l)
{
	if (!l->sim_held)
		sim_violation("spin_unlock of a spinlock not held (%s)", l->sim_name ? l->sim_name : "?");
	l->sim_held = 0;
	sim_atomic_depth--;
}

void sim_mutex_init(struct mutex *m, const char *name)
{
	m->sim_magic = SIM_LOCK_MAGIC;
	m->sim_held = 0;
	m->sim_name = name;
}

void mutex_lock(struct mutex *m)
{
	sim_might_sleep("mutex_lock");
	if (m->sim_magic != SIM_LOCK_MAGIC)
		sim_violation("mutex_lock of a mutex never initialised (%p)", (void *)m);
	if (m->sim_held)
		sim_stuck("mutex_lock of a mutex held by a frame that waits below this one");
	m->sim_held = 1;
}

void mutex_unlock(struct mutex *m)
{
	if (!m->sim_held)
		sim_violation("mutex_unlock of a mutex not held (%s)", m->sim_name ? m->sim_name : "?");
	m->sim_held = 0;
}

/* ---- work queues -------------------------------------------------------------------------- */

#define SIM_WORK_MAGIC	0x776f726bU

struct workqueue_struct {
	char name[32];
};

static struct workqueue_struct sim_system_wq = { "events" };

void sim_init_work(struct work_struct *work, work_func_t func)
{
	memset(work, 0, sizeof(*work));
	work->func = func;
	work->sim_magic = SIM_WORK_MAGIC;
}

struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, int max_active, ...)
{
	struct workqueue_struct *wq = calloc(1, sizeof(*wq));
	va_list ap;

	(void)flags;
	(void)max_active;
	va_start(ap, max_active);
	vsnprintf(wq->name, sizeof(wq->name), fmt, ap);
	va_end(ap);
	return wq;
}

static bool sim_work_queued_on(const struct workqueue_struct *wq)
{
	struct sim_event *ev;

	for (ev = sim_events; ev; ev = ev->next)
		if (ev->work && ev->work->sim_wq == wq)
			return true;
	return false;
}

void destroy_workqueue(struct workqueue_struct *wq)
{
	/* The kernel drains it first. */
	while (sim_work_queued_on(wq))
		if (!sim_wait_step(ULONG_MAX))
			break;
	free(wq);
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	struct sim_event *ev;

	if (work->sim_magic != SIM_WORK_MAGIC)
		sim_violation("queue_work of a work item never initialised (%p)", (void *)work);
	if (work->sim_pending)
		return false;
	work->sim_pending = true;
	work->sim_wq = wq;
	ev = calloc(1, sizeof(*ev));
	ev->ctx = SIM_CTX_WORK;
	ev->work = work;
	ev->due = jiffies;
	sim_event_add(ev);
	return true;
}

bool schedule_work(struct work_struct *work)
{
	return queue_work(&sim_system_wq, work);
}

static bool sim_drop_work(struct work_struct *work)
{
	struct sim_event **at = &sim_events, *ev;

	while (*at) {
		if ((*at)->work == work) {
			ev = *at;
			*at = ev->next;
			free(ev);
			work->sim_pending = false;
			return true;
		}
		at = &(*at)->next;
	}
	return false;
}

bool flush_work(struct work_struct *work)
{
	bool waited = false;

	sim_might_sleep("flush_work");
	if (work->sim_running)
		sim_stuck("flush_work of a work item that is running below the caller");
	while (work->sim_pending) {
		waited = true;
		if (!sim_wait_step(ULONG_MAX))
			sim_stuck("flush_work");
	}
	return waited;
}

bool cancel_work_sync(struct work_struct *work)
{
	sim_might_sleep("cancel_work_sync");
	if (work->sim_magic != SIM_WORK_MAGIC) {
		sim_violation("cancel_work_sync of a work item never initialised (%p)", (void *)work);
		return false;
	}
	if (work->sim_running)
		sim_stuck("cancel_work_sync of a work item that is running below the caller");
	return sim_drop_work(work);
}

/* ---- pages ---------------------------------------------------------------------------------- */

#define SIM_PFN_BASE	0x10000UL
#define SIM_MAX_PAGES	65536UL

static struct page *sim_pages[SIM_MAX_PAGES];
static unsigned long sim_next_pfn;
static unsigned int sim_nr_live;

static struct page *sim_page_new(void *mem, bool own)
{
	struct page *page = calloc(1, sizeof(*page));
	unsigned long i;

	for (i = 0; i < SIM_MAX_PAGES && sim_pages[(sim_next_pfn + i) % SIM_MAX_PAGES]; i++)
		;
	if (i == SIM_MAX_PAGES)
		sim_unmodelled("more than 65536 pages at once");
	i = (sim_next_pfn + i) % SIM_MAX_PAGES;
	sim_next_pfn = i + 1;
	sim_pages[i] = page;
	page->sim_pfn = SIM_PFN_BASE + i;
	page->sim_refs = 1;
	page->sim_mem = mem;
	page->sim_own_mem = own;
	sim_nr_live++;
	return page;
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	void *mem;

	if (order != 0)
		sim_unmodelled("alloc_pages of more than one page");
	mem = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	memset(mem, (gfp & __GFP_ZERO) ? 0 : 0xa5, PAGE_SIZE);
	return sim_page_new(mem, true);
}

static void sim_grants_page_freed(struct page *page);

static void sim_page_free(struct page *page)
{
	if (page->sim_map)
		sim_violation("page %p is freed while a grant is mapped on it", (void *)page);
	sim_grants_page_freed(page);
	sim_pages[page->sim_pfn - SIM_PFN_BASE] = NULL;
	sim_nr_live--;
	if (page->sim_own_mem) {
		ASAN_UNPOISON_MEMORY_REGION(page->sim_mem, PAGE_SIZE);
		free(page->sim_mem);
	}
	free(page);
}

void get_page(struct page *page)
{
	if (page->sim_refs <= 0)
		sim_violation("get_page of a free page %p", (void *)page);
	page->sim_refs++;
}

void put_page(struct page *page)
{
	if (page->sim_refs <= page->sim_kept)
		sim_violation("put_page of page %p drops a reference the grant table keeps (%d references, %d kept "
			      "for grants the peer still maps)", (void *)page, page->sim_refs, page->sim_kept);
	if (page->sim_refs <= 0) {
		sim_violation("put_page of a free page %p", (void *)page);
		return;
	}
	if (--page->sim_refs == 0)
		sim_page_free(page);
}

void __free_pages(struct page *page, unsigned int order)
{
	(void)order;
	put_page(page);
}

int page_count(const struct page *page)
{
	return page->sim_refs;
}

void *page_address(const struct page *page)
{
	return page->sim_mem;
}

static void *sim_kmap(struct page *page, const char *what)
{
	/* A NULL or freed page faults here, as it would in the kernel. */
	if (page->sim_kept)
		sim_violation("%s of page %p, which the driver gave to the grant table: the peer still "
			      "maps its grant, the driver must neither read nor free it", what, (void *)page);
	if (page->sim_refs <= 0)
		sim_violation("%s of a free page %p", what, (void *)page);
	return page->sim_mem;
}

#ifdef SIM_LINUX_5_10
void *kmap_atomic(struct page *page)
{
	return sim_kmap(page, "kmap_atomic");
}

void sim_kunmap_atomic(const void *addr)
{
	(void)addr;
}
#else
void *kmap_local_page(struct page *page)
{
	return sim_kmap(page, "kmap_local_page");
}

void sim_kunmap_local(const void *addr)
{
	(void)addr;
}
#endif

unsigned long page_to_pfn(const struct page *page)
{
	return page->sim_pfn;
}

static struct page *sim_pfn_page(unsigned long pfn)
{
	if (pfn < SIM_PFN_BASE || pfn >= SIM_PFN_BASE + SIM_MAX_PAGES)
		return NULL;
	return sim_pages[pfn - SIM_PFN_BASE];
}

void *sim_pfn_to_kaddr(unsigned long pfn)
{
	struct page *page = sim_pfn_page(pfn);

	if (!page) {
		sim_violation("pfn_to_kaddr of pfn %#lx, which is no page", pfn);
		return NULL;
	}
	return page->sim_mem;
}

/* The page whose memory starts at `addr` (virt_to_page), or NULL. */
static struct page *sim_addr_page(const void *addr)
{
	unsigned long i;

	for (i = 0; addr && i < SIM_MAX_PAGES; i++)
		if (sim_pages[i] && sim_pages[i]->sim_mem == addr)
			return sim_pages[i];
	return NULL;
}

struct sim_exact {
	struct sim_exact *next;
	void *mem;
	size_t size;
	unsigned int nr;
	struct page **pages;
};

static struct sim_exact *sim_exacts;

void *alloc_pages_exact(size_t size, gfp_t gfp)
{
	struct sim_exact *e = calloc(1, sizeof(*e));
	unsigned int i;

	e->size = size;
	e->nr = (unsigned int)DIV_ROUND_UP(size, PAGE_SIZE);
	e->mem = aligned_alloc(PAGE_SIZE, e->nr * PAGE_SIZE);
	memset(e->mem, (gfp & __GFP_ZERO) ? 0 : 0xa5, e->nr * PAGE_SIZE);
	e->pages = calloc(e->nr, sizeof(*e->pages));
	for (i = 0; i < e->nr; i++)
		e->pages[i] = sim_page_new((char *)e->mem + i * PAGE_SIZE, false);
	e->next = sim_exacts;
	sim_exacts = e;
	return e->mem;
}

void free_pages_exact(void *virt, size_t size)
{
	struct sim_exact **at = &sim_exacts, *e;
	unsigned int i;

	while (*at && (*at)->mem != virt)
		at = &(*at)->next;
	if (!*at || (*at)->size != size) {
		sim_violation("free_pages_exact of %p (%zu bytes), which alloc_pages_exact did not return", virt, size);
		return;
	}
	e = *at;
	*at = e->next;
	for (i = 0; i < e->nr; i++)
		put_page(e->pages[i]);		/* a page still granted is a SIM VIOLATION */
	ASAN_UNPOISON_MEMORY_REGION(e->mem, e->nr * PAGE_SIZE);
	free(e->mem);
	free(e->pages);
	free(e);
}

unsigned int sim_pages_live(void)
{
	return sim_nr_live;
}

bool sim_page_live(const struct page *page)
{
	unsigned long i;

	for (i = 0; i < SIM_MAX_PAGES; i++)
		if (sim_pages[i] == page)
			return true;
	return false;
}

/* ---- ida, xarray ------------------------------------------------------------------------------ */

int ida_alloc_range(struct ida *ida, unsigned int min, unsigned int max, gfp_t gfp)
{
	unsigned int i;

	(void)gfp;
	for (i = min; i <= max && i < SIM_IDA_MAX; i++) {
		if (!(ida->sim_used[i / 8] & (1U << (i % 8)))) {
			ida->sim_used[i / 8] |= (unsigned char)(1U << (i % 8));
			return (int)i;
		}
	}
	return -ENOSPC;
}

void ida_free(struct ida *ida, unsigned int id)
{
	if (id >= SIM_IDA_MAX || !(ida->sim_used[id / 8] & (1U << (id % 8)))) {
		sim_violation("ida_free of id %u, which is not allocated", id);
		return;
	}
	ida->sim_used[id / 8] &= (unsigned char)~(1U << (id % 8));
}

void ida_destroy(struct ida *ida)
{
	memset(ida->sim_used, 0, sizeof(ida->sim_used));
}

struct sim_xa_entry {
	struct sim_xa_entry *next;
	unsigned long index;
	void *entry;
};

void xa_init(struct xarray *xa)
{
	xa->sim_head = NULL;
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	struct sim_xa_entry *e;

	for (e = xa->sim_head; e; e = e->next)
		if (e->index == index)
			return e->entry;
	return NULL;
}

int xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	struct sim_xa_entry **at = &xa->sim_head, *e;

	(void)gfp;
	while (*at && (*at)->index < index)
		at = &(*at)->next;
	if (*at && (*at)->index == index)
		return -EBUSY;
	e = calloc(1, sizeof(*e));
	e->index = index;
	e->entry = entry;
	e->next = *at;
	*at = e;
	return 0;
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	struct sim_xa_entry **at = &xa->sim_head, *e;
	void *entry;

	while (*at && (*at)->index != index)
		at = &(*at)->next;
	if (!*at)
		return NULL;
	e = *at;
	*at = e->next;
	entry = e->entry;
	free(e);
	return entry;
}

void xa_destroy(struct xarray *xa)
{
	while (xa->sim_head)
		xa_erase(xa, xa->sim_head->index);
}

void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max, xa_mark_t filter)
{
	struct sim_xa_entry *e;

	(void)filter;
	for (e = xa->sim_head; e; e = e->next) {
		if (e->index >= *index && e->index <= max) {
			*index = e->index;
			return e->entry;
		}
	}
	return NULL;
}

void *xa_find_after(struct xarray *xa, unsigned long *index, unsigned long max, xa_mark_t filter)
{
	unsigned long from = *index + 1;

	if (*index == ULONG_MAX)
		return NULL;
	*index = from;
	return xa_find(xa, index, max, filter);
}

/* ---- XenStore ---------------------------------------------------------------------------------- */

struct sim_node {
	struct sim_node *next;
	char *path;
	char *value;
};

struct sim_watch {
	struct sim_watch *next;
	struct xenbus_watch *watch;
	void (*internal)(void *arg);	/* the xenbus core's own watch on the other end's state */
	void *arg;
	char *path;
};

struct sim_watch_event {
	struct sim_watch *w;
	char *path;
};

static struct sim_node *sim_nodes;
static struct sim_watch *sim_watches;

static void sim_path(char *buf, size_t len, const char *dir, const char *node)
{
	if (node && node[0])
		snprintf(buf, len, "%s/%s", dir, node);
	else
		snprintf(buf, len, "%s", dir);
}

static struct sim_node *sim_node_find(const char *path)
{
	struct sim_node *n;

	for (n = sim_nodes; n; n = n->next)
		if (strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

static void sim_watch_fire(void *arg)
{
	struct sim_watch_event *e = arg;
	struct sim_watch *w;

	for (w = sim_watches; w && w != e->w; w = w->next)
		;
	if (w) {	/* not unregistered meanwhile */
		if (w->watch)
			w->watch->callback(w->watch, e->path, "");
		else
			w->internal(w->arg);
	}
	free(e->path);
	free(e);
}

static void sim_watch_queue(struct sim_watch *w, const char *path)
{
	struct sim_watch_event *e = calloc(1, sizeof(*e));

	e->w = w;
	e->path = strdup(path);
	sim_defer(SIM_CTX_XENWATCH, 0, sim_watch_fire, e, w);
}

static void sim_xs_changed(const char *path)
{
	struct sim_watch *w;
	size_t n;

	for (w = sim_watches; w; w = w->next) {
		n = strlen(w->path);
		if (strncmp(path, w->path, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			sim_watch_queue(w, path);
	}
}

void sim_xs_write(const char *path, const char *value)
{
	struct sim_node *n = sim_node_find(path);

	if (!n) {
		n = calloc(1, sizeof(*n));
		n->path = strdup(path);
		n->next = sim_nodes;
		sim_nodes = n;
	} else {
		free(n->value);
	}
	n->value = strdup(value);
	sim_xs_changed(path);
}

void sim_xs_printf(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_xs_write(path, buf);
}

void sim_xs_rm(const char *path)
{
	struct sim_node **at = &sim_nodes, *n;
	size_t len = strlen(path);

	while (*at) {
		n = *at;
		if (strncmp(n->path, path, len) == 0 && (n->path[len] == '\0' || n->path[len] == '/')) {
			*at = n->next;
			free(n->path);
			free(n->value);
			free(n);
		} else {
			at = &n->next;
		}
	}
	sim_xs_changed(path);
}

const char *sim_xs_read(const char *path)
{
	struct sim_node *n = sim_node_find(path);

	return n ? n->value : NULL;
}

long long sim_xs_read_ll(const char *path, long long def)
{
	const char *v = sim_xs_read(path);

	return v ? strtoll(v, NULL, 10) : def;
}

void *xenbus_read(struct xenbus_transaction t, const char *dir, const char *node, unsigned int *len)
{
	char path[256];
	struct sim_node *n;
	char *copy;

	(void)t;
	sim_might_sleep("xenbus_read");
	sim_path(path, sizeof(path), dir, node);
	n = sim_node_find(path);
	if (!n)
		return ERR_PTR(-ENOENT);
	copy = kmalloc(strlen(n->value) + 1, GFP_KERNEL);	/* the caller kfrees it */
	strcpy(copy, n->value);
	if (len)
		*len = (unsigned int)strlen(copy);
	return copy;
}

int xenbus_write(struct xenbus_transaction t, const char *dir, const char *node, const char *string)
{
	char path[256];

	(void)t;
	sim_might_sleep("xenbus_write");
	sim_path(path, sizeof(path), dir, node);
	sim_xs_write(path, string);
	return 0;
}

int xenbus_exists(struct xenbus_transaction t, const char *dir, const char *node)
{
	char path[256];
	struct sim_node *n;
	size_t len;

	(void)t;
	sim_path(path, sizeof(path), dir, node);
	len = strlen(path);
	for (n = sim_nodes; n; n = n->next)
		if (strncmp(n->path, path, len) == 0 && (n->path[len] == '\0' || n->path[len] == '/'))
			return 1;
	return 0;
}

int xenbus_transaction_start(struct xenbus_transaction *t)
{
	t->id = 1;
	return 0;
}

int xenbus_transaction_end(struct xenbus_transaction t, int abort)
{
	(void)t;
	(void)abort;
	return 0;
}

int xenbus_printf(struct xenbus_transaction t, const char *dir, const char *node, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return xenbus_write(t, dir, node, buf);
}

static struct sim_watch *sim_watch_add(const char *path, struct xenbus_watch *watch, void (*internal)(void *),
				       void *arg)
{
	struct sim_watch *w = calloc(1, sizeof(*w));

	w->path = strdup(path);
	w->watch = watch;
	w->internal = internal;
	w->arg = arg;
	w->next = sim_watches;
	sim_watches = w;
	sim_watch_queue(w, path);	/* a new watch fires once */
	return w;
}

static void sim_watch_del(struct sim_watch *gone)
{
	struct sim_watch **at = &sim_watches;
	struct sim_event **ev = &sim_events, *e;

	while (*at && *at != gone)
		at = &(*at)->next;
	if (!*at)
		return;
	*at = gone->next;
	while (*ev) {		/* its pending events go with it */
		if ((*ev)->owner == gone) {
			e = *ev;
			*ev = e->next;
			free(((struct sim_watch_event *)e->arg)->path);
			free(e->arg);
			free(e);
		} else {
			ev = &(*ev)->next;
		}
	}
	free(gone->path);
	free(gone);
}

int xenbus_watch_pathfmt(struct xenbus_device *dev, struct xenbus_watch *watch,
			 bool (*will_handle)(struct xenbus_watch *, const char *, const char *),
			 void (*callback)(struct xenbus_watch *, const char *, const char *), const char *pathfmt, ...)
{
	char path[256];
	va_list ap;

	(void)dev;
	va_start(ap, pathfmt);
	vsnprintf(path, sizeof(path), pathfmt, ap);
	va_end(ap);
	watch->node = kmalloc(strlen(path) + 1, GFP_KERNEL);	/* as kasprintf: the caller kfrees it */
	strcpy((char *)watch->node, path);
	watch->will_handle = will_handle;
	watch->callback = callback;
	watch->nr_pending = 0;
	sim_watch_add(path, watch, NULL, NULL);
	return 0;
}

void unregister_xenbus_watch(struct xenbus_watch *watch)
{
	struct sim_watch *w;

	for (w = sim_watches; w; w = w->next)
		if (w->watch == watch)
			break;
	if (!w) {
		sim_violation("unregister_xenbus_watch of a watch not registered (%s)", watch->node);
		return;
	}
	sim_watch_del(w);
}

/* ---- xenbus --------------------------------------------------------------------------------------- */

static struct xenbus_driver *sim_front_drv, *sim_back_drv;

struct sim_xbdev {
	struct xenbus_device dev;
	struct sim_watch *otherend_watch;
	char name[128];
};

int __xenbus_register_frontend(struct xenbus_driver *drv, struct module *owner, const char *mod_name)
{
	(void)owner;
	(void)mod_name;
	sim_front_drv = drv;
	return 0;
}

int __xenbus_register_backend(struct xenbus_driver *drv, struct module *owner, const char *mod_name)
{
	(void)owner;
	(void)mod_name;
	sim_back_drv = drv;
	return 0;
}

void xenbus_unregister_driver(struct xenbus_driver *drv)
{
	if (drv == sim_front_drv)
		sim_front_drv = NULL;
	if (drv == sim_back_drv)
		sim_back_drv = NULL;
}

const char *xenbus_strstate(enum xenbus_state state)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing", "Closed",
		"Reconfiguring", "Reconfigured",
	};

	return (unsigned int)state < ARRAY_SIZE(names) ? names[state] : "INVALID";
}

enum xenbus_state xenbus_read_driver_state(const char *path)
{
	char p[256];

	sim_path(p, sizeof(p), path, "state");
	return (enum xenbus_state)sim_xs_read_ll(p, XenbusStateUnknown);
}

int xenbus_switch_state(struct xenbus_device *dev, enum xenbus_state new_state)
{
	char p[256];

	if (new_state == dev->state)
		return 0;
	sim_path(p, sizeof(p), dev->nodename, "state");
	sim_xs_printf(p, "%d", (int)new_state);
	dev->state = new_state;
	return 0;
}

int xenbus_frontend_closed(struct xenbus_device *dev)
{
	return xenbus_switch_state(dev, XenbusStateClosed);
}

void xenbus_dev_fatal(struct xenbus_device *dev, int err, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sim_last_fatal, sizeof(sim_last_fatal), "%d %s", -err, msg);
	sim_fatal_count++;
	fprintf(stderr, "[%6lu] xenbus_dev_fatal: %s: %s\n", jiffies, dev->nodename, sim_last_fatal);
	xenbus_switch_state(dev, XenbusStateClosing);
}

int xenbus_dev_is_online(struct xenbus_device *dev)
{
	char p[256];

	sim_path(p, sizeof(p), dev->nodename, "online");
	return (int)sim_xs_read_ll(p, 0);
}

static void sim_otherend_changed(void *arg)
{
	struct xenbus_device *dev = arg;

	dev->sim_drv->otherend_changed(dev, xenbus_read_driver_state(dev->otherend));
}

struct xenbus_device *sim_xenbus_probe(bool backend, const char *nodename, const char *otherend, int otherend_id)
{
	struct xenbus_driver *drv = backend ? sim_back_drv : sim_front_drv;
	struct sim_xbdev *x = calloc(1, sizeof(*x));
	char path[256];
	int err;

	CHECK(drv != NULL, "no %s driver is registered", backend ? "backend" : "frontend");
	snprintf(x->name, sizeof(x->name), "%s", nodename);
	x->dev.devicetype = "vbd";
	x->dev.nodename = strdup(nodename);
	x->dev.otherend = strdup(otherend);
	x->dev.otherend_id = otherend_id;
	x->dev.dev.sim_name = x->name;
	x->dev.state = XenbusStateInitialising;
	x->dev.sim_drv = drv;
	err = drv->probe(&x->dev, &drv->ids[0]);
	CHECK(err == 0, "probe of %s: %d", nodename, err);
	snprintf(path, sizeof(path), "%s/state", otherend);
	x->otherend_watch = sim_watch_add(path, NULL, sim_otherend_changed, &x->dev);
	return &x->dev;
}

void sim_xenbus_remove(struct xenbus_device *dev)
{
	struct sim_xbdev *x = container_of(dev, struct sim_xbdev, dev);

	sim_watch_del(x->otherend_watch);
	dev->sim_drv->remove(dev);
	free((char *)dev->nodename);
	free((char *)dev->otherend);
	free(x);
}

/* ---- the grant table ---------------------------------------------------------------------------------- */

#define SIM_NR_GRANTS	8192U
#define SIM_FIRST_GREF	8U

struct sim_grant {
	bool used;
	bool readonly;
	bool ending;		/* ended while mapped: taken back when the peer unmaps */
	domid_t to;
	struct page *page;	/* the granted frame */
	struct page *kept;	/* to be released when the peer unmaps */
	int maps;
};

static struct sim_grant sim_grants[SIM_NR_GRANTS];

static struct sim_grant *sim_grant_get(grant_ref_t ref, const char *what)
{
	if (ref < SIM_FIRST_GREF || ref >= SIM_NR_GRANTS || !sim_grants[ref].used) {
		sim_violation("%s of grant %u, which is not granted", what, ref);
		return NULL;
	}
	return &sim_grants[ref];
}

static void sim_grants_page_freed(struct page *page)
{
	grant_ref_t ref;

	for (ref = SIM_FIRST_GREF; ref < SIM_NR_GRANTS; ref++)
		if (sim_grants[ref].used && sim_grants[ref].page == page)
			sim_violation("page %p is freed while still granted (grant %u%s)", (void *)page, ref,
				      sim_grants[ref].maps ? ", mapped by the peer" : "");
}

int gnttab_grant_foreign_access(domid_t domid, unsigned long frame, int readonly)
{
	struct page *page = sim_pfn_page(frame);
	grant_ref_t ref;

	if (!page) {
		sim_violation("gnttab_grant_foreign_access of frame %#lx, which is no page", frame);
		return -EINVAL;
	}
	for (ref = SIM_FIRST_GREF; ref < SIM_NR_GRANTS; ref++) {
		if (!sim_grants[ref].used) {
			memset(&sim_grants[ref], 0, sizeof(sim_grants[ref]));
			sim_grants[ref].used = true;
			sim_grants[ref].readonly = readonly != 0;
			sim_grants[ref].to = domid;
			sim_grants[ref].page = page;
			return (int)ref;
		}
	}
	return -ENOSPC;
}

int gnttab_try_end_foreign_access(grant_ref_t ref)
{
	struct sim_grant *g = sim_grant_get(ref, "gnttab_try_end_foreign_access");

	if (!g)
		return 1;
	if (g->ending)
		sim_violation("gnttab_try_end_foreign_access of grant %u, already handed to the grant table", ref);
	if (g->maps > 0)
		return 0;
	g->used = false;
	return 1;
}

static void sim_end_foreign_access(grant_ref_t ref, struct page *page)
{
	struct sim_grant *g = sim_grant_get(ref, "gnttab_end_foreign_access");

	if (!g)
		return;
	if (g->ending) {
		sim_violation("gnttab_end_foreign_access of grant %u twice", ref);
		return;
	}
	if (g->maps == 0) {
		g->used = false;
		if (page)
			put_page(page);
		return;
	}
	g->ending = true;
	g->kept = page;
	if (page)
		page->sim_kept++;
}

#ifdef SIM_LINUX_5_10
void gnttab_end_foreign_access(grant_ref_t ref, int readonly, unsigned long page)
{
	struct page *p = sim_addr_page((void *)page);

	(void)readonly;
	if (page && !p) {
		sim_violation("gnttab_end_foreign_access of grant %u with address %#lx, which is no page", ref, page);
		return;
	}
	sim_end_foreign_access(ref, p);
}
#else
void gnttab_end_foreign_access(grant_ref_t ref, struct page *page)
{
	sim_end_foreign_access(ref, page);
}
#endif

/* The peer unmapped a grant: a grant ended meanwhile is taken back now. */
static void sim_grant_unmapped(struct sim_grant *g)
{
	struct page *kept;

	if (--g->maps > 0 || !g->ending)
		return;
	kept = g->kept;
	g->used = false;
	g->ending = false;
	g->kept = NULL;
	if (kept) {
		kept->sim_kept--;
		put_page(kept);
	}
}

void gnttab_request_free_callback(struct gnttab_free_callback *callback, void (*fn)(void *), void *arg, u16 count)
{
	callback->fn = fn;
	callback->arg = arg;
	callback->count = count;
}

void gnttab_cancel_free_callback(struct gnttab_free_callback *callback)
{
	callback->fn = NULL;
}

void *sim_gnt_map(grant_ref_t ref, bool writable)
{
	struct sim_grant *g = sim_grant_get(ref, "the peer's map");

	if (!g)
		return NULL;
	if (writable && g->readonly) {
		sim_violation("the peer maps read-only grant %u for writing", ref);
		return NULL;
	}
	g->maps++;
	return g->page->sim_mem;
}

void sim_gnt_unmap(grant_ref_t ref)
{
	struct sim_grant *g = sim_grant_get(ref, "the peer's unmap");

	if (g && g->maps > 0)
		sim_grant_unmapped(g);
}

bool sim_gnt_in_use(grant_ref_t ref)
{
	return ref >= SIM_FIRST_GREF && ref < SIM_NR_GRANTS && sim_grants[ref].used;
}

int sim_gnt_maps(grant_ref_t ref)
{
	return sim_gnt_in_use(ref) ? sim_grants[ref].maps : 0;
}

struct page *sim_gnt_kept_page(grant_ref_t ref)
{
	return sim_gnt_in_use(ref) ? sim_grants[ref].kept : NULL;
}

unsigned int sim_gnt_count_in_use(void)
{
	unsigned int n = 0;
	grant_ref_t ref;

	for (ref = SIM_FIRST_GREF; ref < SIM_NR_GRANTS; ref++)
		n += sim_grants[ref].used;
	return n;
}

/* ---- the backend's grant mappings ---------------------------------------------------------------------------- */

#define SIM_NR_MAPS	65536U

struct sim_map {
	bool live;
	bool writable;
	grant_ref_t ref;
	struct page *page;
};

static struct sim_map sim_maps[SIM_NR_MAPS];
static grant_handle_t sim_next_handle = 1;
static bool sim_in_unmap_sync;
unsigned int sim_unmap_refs_direct;

int gnttab_map_refs(struct gnttab_map_grant_ref *map_ops, struct gnttab_map_grant_ref *kmap_ops,
		    struct page **pages, unsigned int count)
{
	unsigned int i;

	(void)kmap_ops;
	for (i = 0; i < count; i++) {
		struct gnttab_map_grant_ref *op = &map_ops[i];
		struct page *page = pages[i];
		struct sim_grant *g;
		struct sim_map *m;
		grant_handle_t h;

		if (op->host_addr != (uint64_t)(uintptr_t)page->sim_mem)
			sim_violation("gnttab_map_refs: host_addr %#llx is not the address of page %p",
				      (unsigned long long)op->host_addr, (void *)page);
		if (page->sim_map)
			sim_violation("gnttab_map_refs: page %p already has grant %u mapped on it", (void *)page,
				      page->sim_map->ref);
		if (page_count(page) != 1)
			sim_violation("gnttab_map_refs: grant %u is mapped onto page %p while %d other references "
				      "to it are held (the page is reused while still in use)", op->ref, (void *)page,
				      page_count(page) - 1);
		if (op->ref < SIM_FIRST_GREF || op->ref >= SIM_NR_GRANTS || !sim_grants[op->ref].used ||
		    sim_grants[op->ref].to != SIM_BE_DOMID) {
			op->status = GNTST_bad_gntref;
			continue;
		}
		g = &sim_grants[op->ref];
		if (!(op->flags & GNTMAP_readonly) && g->readonly) {
			op->status = GNTST_permission_denied;
			continue;
		}
		for (h = 0; h < SIM_NR_MAPS && sim_maps[(sim_next_handle + h) % SIM_NR_MAPS].live; h++)
			;
		h = (sim_next_handle + h) % SIM_NR_MAPS;
		if (h == 0)
			h = 1;
		sim_next_handle = h + 1;
		m = &sim_maps[h];
		m->live = true;
		m->writable = !(op->flags & GNTMAP_readonly);
		m->ref = op->ref;
		m->page = page;
		g->maps++;
		page->sim_map = m;
		ASAN_UNPOISON_MEMORY_REGION(page->sim_mem, PAGE_SIZE);
		memcpy(page->sim_mem, g->page->sim_mem, PAGE_SIZE);
		op->handle = h;
		op->status = GNTST_okay;
	}
	return 0;
}

int gnttab_unmap_refs(struct gnttab_unmap_grant_ref *unmap_ops, struct gnttab_unmap_grant_ref *kunmap_ops,
		      struct page **pages, unsigned int count)
{
	unsigned int i;

	(void)kunmap_ops;
	if (!sim_in_unmap_sync)
		sim_unmap_refs_direct++;
	for (i = 0; i < count; i++) {
		struct gnttab_unmap_grant_ref *op = &unmap_ops[i];
		struct page *page = pages[i];
		struct sim_map *m = op->handle < SIM_NR_MAPS ? &sim_maps[op->handle] : NULL;

		if (!m || !m->live) {
			sim_violation("gnttab_unmap_refs of handle %u, which is not mapped", op->handle);
			op->status = GNTST_bad_handle;
			continue;
		}
		if (m->page != page || op->host_addr != (uint64_t)(uintptr_t)page->sim_mem)
			sim_violation("gnttab_unmap_refs: handle %u is not mapped at page %p", op->handle, (void *)page);
		if (page_count(page) > 1)
			sim_violation("gnttab_unmap_refs: grant %u is unmapped from page %p while %d other references "
				      "to the page are held: their holders now see a frame that is not the frontend's",
				      m->ref, (void *)page, page_count(page) - 1);
		if (m->writable)	/* what the backend wrote is in the frontend's frame */
			memcpy(sim_grants[m->ref].page->sim_mem, page->sim_mem, PAGE_SIZE);
		/* No frame behind the page any more: touching it is an AddressSanitizer report. */
		ASAN_POISON_MEMORY_REGION(page->sim_mem, PAGE_SIZE);
		page->sim_map = NULL;
		m->live = false;
		sim_grant_unmapped(&sim_grants[m->ref]);
		op->status = GNTST_okay;
	}
	return 0;
}

int gnttab_unmap_refs_sync(struct gntab_unmap_queue_data *item)
{
	unsigned int i;
	int ret;

	sim_might_sleep("gnttab_unmap_refs_sync");
	item->age = 0;
	for (;;) {
		for (i = 0; i < item->count; i++)
			if (page_count(item->pages[i]) > 1)
				break;
		if (i == item->count)
			break;
		if (!sim_anything_runnable())
			sim_stuck("gnttab_unmap_refs_sync: a page is still referenced");
		/* As the kernel's: try again later, a little later each time. */
		sim_sleep(5 * (++item->age < 20 ? item->age : 20));
	}
	sim_in_unmap_sync = true;
	ret = gnttab_unmap_refs(item->unmap_ops, item->kunmap_ops, item->pages, item->count);
	sim_in_unmap_sync = false;
	return ret;
}

void gnttab_page_cache_init(struct gnttab_page_cache *cache)
{
	spin_lock_init(&cache->lock);
	cache->pages = NULL;
	cache->num_pages = 0;
}

int gnttab_page_cache_get(struct gnttab_page_cache *cache, struct page **page)
{
	struct page *p = cache->pages;

	if (p) {
		cache->pages = p->sim_next;
		cache->num_pages--;
		p->sim_next = NULL;
	} else {
		/* A page of the physical address space with no memory behind it until a grant is mapped. */
		p = alloc_page(GFP_KERNEL);
		p->sim_unpopulated = true;
		ASAN_POISON_MEMORY_REGION(p->sim_mem, PAGE_SIZE);
	}
	if (page_count(p) != 1)
		sim_violation("gnttab_page_cache_get hands out page %p while %d other references to it are still "
			      "held: it is reused before its last user let go", (void *)p, page_count(p) - 1);
	*page = p;
	return 0;
}

void gnttab_page_cache_put(struct gnttab_page_cache *cache, struct page **page, unsigned int num)
{
	unsigned int i;

	for (i = 0; i < num; i++) {
		if (page[i]->sim_map)
			sim_violation("gnttab_page_cache_put of page %p with grant %u still mapped on it",
				      (void *)page[i], page[i]->sim_map->ref);
		page[i]->sim_next = cache->pages;
		cache->pages = page[i];
		cache->num_pages++;
	}
}

void gnttab_page_cache_shrink(struct gnttab_page_cache *cache, unsigned int num)
{
	while (cache->num_pages > num) {
		struct page *p = cache->pages;

		cache->pages = p->sim_next;
		cache->num_pages--;
		p->sim_next = NULL;
		__free_page(p);
	}
}

/* ---- rings ----------------------------------------------------------------------------------------------------- */

struct sim_ring {
	struct sim_ring *next;
	void *vaddr;
	unsigned int nr;
	struct page *pages[XENBUS_MAX_RING_GRANTS];
	grant_ref_t refs[XENBUS_MAX_RING_GRANTS];
};

static struct sim_ring *sim_rings_back;

unsigned long virt_to_gfn(const void *addr)
{
	struct page *page = sim_addr_page(addr);

	if (!page) {
		sim_violation("virt_to_gfn of %p, which is no page", addr);
		return 0;
	}
	return page_to_pfn(page);
}

int xenbus_map_ring_valloc(struct xenbus_device *dev, grant_ref_t *gnt_refs, unsigned int nr_grefs, void **vaddr)
{
	struct sim_ring *r;
	char *base = NULL, *mem;
	unsigned int i;

	(void)dev;
	if (nr_grefs > XENBUS_MAX_RING_GRANTS)
		return -EINVAL;
	for (i = 0; i < nr_grefs; i++) {
		if (!sim_gnt_in_use(gnt_refs[i]) || sim_grants[gnt_refs[i]].to != SIM_BE_DOMID)
			return -ENOENT;
		mem = sim_grants[gnt_refs[i]].page->sim_mem;
		if (i == 0)
			base = mem;
		else if (mem != base + i * PAGE_SIZE)
			sim_unmodelled("a ring whose pages are not contiguous in the frontend's memory");
	}
	r = calloc(1, sizeof(*r));
	r->nr = nr_grefs;
	r->vaddr = base;
	for (i = 0; i < nr_grefs; i++) {
		r->refs[i] = gnt_refs[i];
		sim_grants[gnt_refs[i]].maps++;
	}
	r->next = sim_rings_back;
	sim_rings_back = r;
	*vaddr = base;
	return 0;
}

int xenbus_unmap_ring_vfree(struct xenbus_device *dev, void *vaddr)
{
	struct sim_ring **at = &sim_rings_back, *r;
	unsigned int i;

	(void)dev;
	while (*at && (*at)->vaddr != vaddr)
		at = &(*at)->next;
	if (!*at) {
		sim_violation("xenbus_unmap_ring_vfree of %p, which is not a mapped ring", vaddr);
		return -ENOENT;
	}
	r = *at;
	*at = r->next;
	for (i = 0; i < r->nr; i++)
		sim_grant_unmapped(&sim_grants[r->refs[i]]);
	free(r);
	return 0;
}

/* ---- event channels ------------------------------------------------------------------------------------------------ */

#define SIM_NR_PORTS	256U
#define SIM_FIRST_IRQ	32U

struct sim_port {
	bool used;
	evtchn_port_t remote;
	unsigned int irq;
	unsigned int notified;
};

struct sim_irq {
	bool used;
	evtchn_port_t port;
	irq_handler_t handler;
	void *dev_id;
};

static struct sim_port sim_ports[SIM_NR_PORTS];
static struct sim_irq sim_irqs[SIM_FIRST_IRQ + SIM_NR_PORTS];

evtchn_port_t sim_evtchn_alloc_unbound(void)
{
	evtchn_port_t p;

	for (p = 1; p < SIM_NR_PORTS; p++) {
		if (!sim_ports[p].used) {
			memset(&sim_ports[p], 0, sizeof(sim_ports[p]));
			sim_ports[p].used = true;
			return p;
		}
	}
	sim_unmodelled("running out of event channels");
}

evtchn_port_t sim_evtchn_bind_interdomain(evtchn_port_t remote)
{
	evtchn_port_t p;

	if (remote == 0 || remote >= SIM_NR_PORTS || !sim_ports[remote].used || sim_ports[remote].remote)
		return 0;
	p = sim_evtchn_alloc_unbound();
	sim_ports[p].remote = remote;
	sim_ports[remote].remote = p;
	return p;
}

void sim_evtchn_close(evtchn_port_t port)
{
	evtchn_port_t r;

	if (port == 0 || port >= SIM_NR_PORTS || !sim_ports[port].used)
		return;
	r = sim_ports[port].remote;
	if (r)
		sim_ports[r].remote = 0;
	if (sim_ports[port].irq)
		sim_irqs[sim_ports[port].irq].used = false;
	memset(&sim_ports[port], 0, sizeof(sim_ports[port]));
}

static void sim_evtchn_deliver(evtchn_port_t port)
{
	struct sim_irq *irq;

	sim_ports[port].notified++;
	if (!sim_ports[port].irq)
		return;
	irq = &sim_irqs[sim_ports[port].irq];
	sim_irq_depth++;
	irq->handler((int)sim_ports[port].irq, irq->dev_id);
	sim_irq_depth--;
}

void sim_evtchn_send(evtchn_port_t port)
{
	if (port == 0 || port >= SIM_NR_PORTS || !sim_ports[port].used || !sim_ports[port].remote)
		return;		/* lost, as a notification on an unbound port is */
	sim_evtchn_deliver(sim_ports[port].remote);
}

unsigned int sim_evtchn_notified(evtchn_port_t port)
{
	return port < SIM_NR_PORTS ? sim_ports[port].notified : 0;
}

int xenbus_alloc_evtchn(struct xenbus_device *dev, evtchn_port_t *port)
{
	(void)dev;
	*port = sim_evtchn_alloc_unbound();
	return 0;
}

int xenbus_free_evtchn(struct xenbus_device *dev, evtchn_port_t port)
{
	(void)dev;
	sim_evtchn_close(port);
	return 0;
}

static int sim_bind_irq(evtchn_port_t port, irq_handler_t handler, void *dev_id)
{
	unsigned int irq;

	for (irq = SIM_FIRST_IRQ; irq < ARRAY_SIZE(sim_irqs); irq++) {
		if (!sim_irqs[irq].used) {
			sim_irqs[irq].used = true;
			sim_irqs[irq].port = port;
			sim_irqs[irq].handler = handler;
			sim_irqs[irq].dev_id = dev_id;
			sim_ports[port].irq = irq;
			return (int)irq;
		}
	}
	return -ENOSPC;
}

int bind_evtchn_to_irqhandler_lateeoi(evtchn_port_t evtchn, irq_handler_t handler, unsigned long irqflags,
				      const char *devname, void *dev_id)
{
	(void)irqflags;
	(void)devname;
	if (evtchn == 0 || evtchn >= SIM_NR_PORTS || !sim_ports[evtchn].used || sim_ports[evtchn].irq)
		return -EINVAL;
	return sim_bind_irq(evtchn, handler, dev_id);
}

int bind_interdomain_evtchn_to_irqhandler_lateeoi(struct xenbus_device *dev, evtchn_port_t remote_port,
						  irq_handler_t handler, unsigned long irqflags,
						  const char *devname, void *dev_id)
{
	evtchn_port_t p;

	(void)dev;
	(void)irqflags;
	(void)devname;
	p = sim_evtchn_bind_interdomain(remote_port);
	if (!p)
		return -EINVAL;
	return sim_bind_irq(p, handler, dev_id);
}

void unbind_from_irqhandler(unsigned int irq, void *dev_id)
{
	if (irq >= ARRAY_SIZE(sim_irqs) || !sim_irqs[irq].used || sim_irqs[irq].dev_id != dev_id) {
		sim_violation("unbind_from_irqhandler of irq %u, which is not bound to %p", irq, dev_id);
		return;
	}
	sim_evtchn_close(sim_irqs[irq].port);
	sim_irqs[irq].used = false;
}

void notify_remote_via_irq(int irq)
{
	evtchn_port_t port;

	if (irq < (int)SIM_FIRST_IRQ || irq >= (int)ARRAY_SIZE(sim_irqs) || !sim_irqs[irq].used) {
		sim_violation("notify_remote_via_irq of irq %d, which is not bound", irq);
		return;
	}
	port = sim_irqs[irq].port;
	if (sim_ports[port].remote)
		sim_evtchn_deliver(sim_ports[port].remote);
}

void xen_irq_lateeoi(unsigned int irq, unsigned int eoi_flags)
{
	(void)eoi_flags;
	if (irq >= ARRAY_SIZE(sim_irqs) || !sim_irqs[irq].used)
		sim_violation("xen_irq_lateeoi of irq %u, which is not bound", irq);
}

/* ---- blk-mq and disks (the frontend's) ------------------------------------------------------------------------- */

#define SIM_TAGSET_MAGIC	0x74616773U

static struct gendisk *sim_last_disk;

int __register_blkdev(unsigned int major, const char *name, void (*probe)(dev_t devt))
{
	(void)name;
	(void)probe;
	return major ? 0 : 254;
}

void unregister_blkdev(unsigned int major, const char *name)
{
	(void)major;
	(void)name;
}

int blk_mq_alloc_tag_set(struct blk_mq_tag_set *set)
{
	if (!set->ops || !set->ops->queue_rq || set->nr_hw_queues == 0 || set->queue_depth == 0)
		return -EINVAL;
	set->sim_magic = SIM_TAGSET_MAGIC;
	return 0;
}

void blk_mq_free_tag_set(struct blk_mq_tag_set *set)
{
	if (set->sim_magic != SIM_TAGSET_MAGIC)
		sim_violation("blk_mq_free_tag_set of a tag set not allocated");
	if (set->sim_queues)
		sim_violation("blk_mq_free_tag_set while %u queue(s) still use it (no blk_cleanup_queue)",
			      set->sim_queues);
	set->sim_magic = 0;
}

static struct request_queue *sim_queue_new(struct blk_mq_tag_set *set, void *queuedata)
{
	struct request_queue *q = calloc(1, sizeof(*q));
	unsigned int i;

	if (set->sim_magic != SIM_TAGSET_MAGIC)
		sim_violation("a queue made with a tag set not allocated");
	q->queuedata = queuedata;
	q->tag_set = set;
	q->sim_refs = 1;
	INIT_LIST_HEAD(&q->sim_requeue);
	q->sim_nr_hctx = set->nr_hw_queues;
	q->sim_hctx = calloc(set->nr_hw_queues, sizeof(*q->sim_hctx));
	for (i = 0; i < set->nr_hw_queues; i++) {
		q->sim_hctx[i].queue = q;
		q->sim_hctx[i].queue_num = i;
		if (set->ops->init_hctx && set->ops->init_hctx(&q->sim_hctx[i], set->driver_data, i))
			sim_unmodelled("an init_hctx that fails");
	}
	return q;
}

static void sim_queue_free(struct request_queue *q)
{
	free(q->sim_hctx);
	free(q);
}

static struct gendisk *sim_disk_new(struct request_queue *q)
{
	struct gendisk *disk = calloc(1, sizeof(*disk));

	disk->queue = q;
	disk->part0 = calloc(1, sizeof(*disk->part0));
	disk->part0->bd_disk = disk;
	disk->sim_refs = 1;
	return disk;
}

void del_gendisk(struct gendisk *gp)
{
	sim_might_sleep("del_gendisk");
	if (!gp->sim_added)
		sim_violation("del_gendisk of a disk never added");
	gp->sim_dead = true;
}

void set_capacity(struct gendisk *disk, sector_t size)
{
	disk->sim_capacity = size;
}

#ifdef SIM_LINUX_5_10
struct request_queue *blk_mq_init_queue_data(struct blk_mq_tag_set *set, void *queuedata)
{
	struct request_queue *q = sim_queue_new(set, queuedata);

	set->sim_queues++;
	return q;
}

struct gendisk *alloc_disk(int minors)
{
	struct gendisk *disk = sim_disk_new(NULL);

	disk->minors = minors;
	return disk;
}

static void sim_queue_put(struct request_queue *q)
{
	if (q->sim_refs <= 0) {
		sim_violation("a reference to a freed queue %p is dropped", (void *)q);
		return;
	}
	if (--q->sim_refs == 0)
		sim_queue_free(q);
}

void blk_cleanup_queue(struct request_queue *q)
{
	sim_might_sleep("blk_cleanup_queue");
	if (q->sim_cleaned) {
		sim_violation("blk_cleanup_queue of queue %p twice", (void *)q);
		return;
	}
	q->sim_cleaned = true;
	q->sim_dying = true;
	q->tag_set->sim_queues--;
	sim_queue_put(q);
}

void blk_set_queue_dying(struct request_queue *q)
{
	q->sim_dying = true;
}

void device_add_disk(struct device *parent, struct gendisk *disk, const struct attribute_group **groups)
{
	(void)parent;
	(void)groups;
	if (!disk->queue)
		sim_unmodelled("device_add_disk of a disk without a queue");
	disk->queue->sim_refs++;		/* the disk's, dropped when it is freed */
	disk->sim_added = true;
	sim_last_disk = disk;
}

/* The last reference to a disk is gone; 5.10 tells the driver nothing. */
static void sim_disk_free(struct gendisk *disk)
{
	if (disk->queue) {
		if (!disk->queue->sim_cleaned)
			sim_violation("disk %s is freed with a queue never cleaned up (blk_cleanup_queue)",
				      disk->disk_name);
		sim_queue_put(disk->queue);
	}
}

bool set_capacity_revalidate_and_notify(struct gendisk *disk, sector_t size, bool update_bdev)
{
	(void)update_bdev;
	disk->sim_capacity = size;
	return true;
}

void blk_queue_flag_set(unsigned int flag, struct request_queue *q)
{
	set_bit(flag, &q->queue_flags);
}

void blk_queue_flag_clear(unsigned int flag, struct request_queue *q)
{
	test_and_clear_bit(flag, &q->queue_flags);
}
#else
struct gendisk *blk_mq_alloc_disk(struct blk_mq_tag_set *set, void *queuedata)
{
	return sim_disk_new(sim_queue_new(set, queuedata));
}

int device_add_disk(struct device *parent, struct gendisk *disk, const struct attribute_group **groups)
{
	(void)parent;
	(void)groups;
	disk->sim_added = true;
	sim_last_disk = disk;
	return 0;
}

/* The last reference to a disk is gone: free_disk tells the driver, and the queue goes with the disk. */
static void sim_disk_free(struct gendisk *disk)
{
	if (disk->sim_added && disk->fops && disk->fops->free_disk)
		disk->fops->free_disk(disk);
	sim_queue_free(disk->queue);
}

void blk_mark_disk_dead(struct gendisk *disk)
{
	disk->sim_dead = true;
}

bool set_capacity_and_notify(struct gendisk *disk, sector_t size)
{
	disk->sim_capacity = size;
	return true;
}

void blk_queue_max_secure_erase_sectors(struct request_queue *q, unsigned int n) { q->limits.max_secure_erase_sectors = n; }
#endif

static void sim_disk_put(struct gendisk *disk)
{
	if (disk->sim_refs <= 0) {
		sim_violation("put_disk of a freed disk %p", (void *)disk);
		return;
	}
	if (--disk->sim_refs > 0)
		return;
	sim_disk_free(disk);
	if (disk == sim_last_disk)
		sim_last_disk = NULL;
	free(disk->part0);
	free(disk);
}

void put_disk(struct gendisk *disk)
{
	sim_disk_put(disk);
}

void set_disk_ro(struct gendisk *disk, bool read_only)
{
	disk->sim_ro = read_only;
}

void blk_queue_logical_block_size(struct request_queue *q, unsigned int size) { q->limits.logical_block_size = size; }
void blk_queue_physical_block_size(struct request_queue *q, unsigned int size) { q->limits.physical_block_size = size; }
void blk_queue_max_segments(struct request_queue *q, unsigned short max_segments) { q->limits.max_segments = max_segments; }
void blk_queue_max_segment_size(struct request_queue *q, unsigned int max_size) { q->limits.max_segment_size = max_size; }
void blk_queue_segment_boundary(struct request_queue *q, unsigned long mask) { q->limits.seg_boundary_mask = mask; }
void blk_queue_max_hw_sectors(struct request_queue *q, unsigned int max_hw_sectors) { q->limits.max_hw_sectors = max_hw_sectors; }
void blk_queue_dma_alignment(struct request_queue *q, int mask) { q->limits.dma_alignment = (unsigned int)mask; }
void blk_queue_write_cache(struct request_queue *q, bool enabled, bool fua) { (void)fua; q->sim_write_cache = enabled; }
void blk_queue_max_discard_sectors(struct request_queue *q, unsigned int n) { q->limits.max_discard_sectors = n; }

int blk_rq_map_sg(struct request_queue *q, struct request *rq, struct scatterlist *sglist)
{
	struct scatterlist *sg = NULL;
	struct bio *bio;
	int n = 0;
	unsigned int i;

	for (bio = rq->bio; bio; bio = bio->bi_next) {
		for (i = 0; i < bio->bi_vcnt; i++) {
			if (n >= q->limits.max_segments)
				sim_unmodelled("a request with more segments than the queue allows");
			if (sg)		/* an end mark left by an earlier request is not the end of this one */
				sg->page_link &= ~SIM_SG_END;
			sg = sg ? sg + 1 : sglist;
			sg_set_page(sg, bio->bi_io_vec[i].bv_page, bio->bi_io_vec[i].bv_len, bio->bi_io_vec[i].bv_offset);
			n++;
		}
	}
	if (sg)
		sg_mark_end(sg);
	return n;
}

void blk_mq_start_request(struct request *rq)
{
	rq->sim_started = true;
}

void blk_mq_end_request(struct request *rq, blk_status_t error)
{
	if (rq->sim_done)
		sim_violation("request %p completed twice", (void *)rq);
	rq->sim_done = true;
	rq->sim_status = error;
	rq->sim_completions++;
}

void blk_mq_complete_request(struct request *rq)
{
	rq->q->tag_set->ops->complete(rq);
}

static void sim_blk_dispatch(void *arg)
{
	struct request_queue *q = arg;
	struct request *rq;

	while (!q->sim_quiesced && !list_empty(&q->sim_requeue)) {
		rq = list_first_entry(&q->sim_requeue, struct request, queuelist);
		list_del_init(&rq->queuelist);
		sim_blk_issue(rq);
	}
}

void blk_mq_requeue_request(struct request *rq, bool kick_requeue_list)
{
	rq->sim_started = false;
	list_add_tail(&rq->queuelist, &rq->q->sim_requeue);
	if (kick_requeue_list)
		blk_mq_kick_requeue_list(rq->q);
}

void blk_mq_kick_requeue_list(struct request_queue *q)
{
	sim_defer(SIM_CTX_ANY, 0, sim_blk_dispatch, q, NULL);
}

void blk_mq_run_hw_queues(struct request_queue *q, bool async)
{
	if (async)
		sim_defer(SIM_CTX_ANY, 0, sim_blk_dispatch, q, NULL);
	else
		sim_blk_dispatch(q);
}

void blk_mq_quiesce_queue(struct request_queue *q)
{
	q->sim_quiesced = true;
}

void blk_mq_unquiesce_queue(struct request_queue *q)
{
	q->sim_quiesced = false;
	blk_mq_run_hw_queues(q, true);
}

void submit_bio_noacct(struct bio *bio)
{
	(void)bio;
	sim_unmodelled("submit_bio_noacct (a request split again after a resume)");
}

struct gendisk *sim_disk_added(void)
{
	return sim_last_disk;
}

int sim_disk_open(struct gendisk *disk)
{
	int err;

	if (disk->sim_dead)
		return -ENXIO;
	err = disk->fops->open(disk->part0, FMODE_READ);
	if (!err)
		disk->sim_refs++;
	return err;
}

void sim_disk_release(struct gendisk *disk)
{
	disk->fops->release(disk, FMODE_READ);
	sim_disk_put(disk);
}

struct request *sim_blk_request(struct gendisk *disk, enum req_op op, sector_t sector, struct page **pages,
				unsigned int nr_pages)
{
	struct request_queue *q = disk->queue;
	struct request *rq = calloc(1, sizeof(*rq) + q->tag_set->cmd_size);
	struct bio *bio = calloc(1, sizeof(*bio));
	unsigned int i;

	bio->bi_io_vec = calloc(nr_pages ? nr_pages : 1, sizeof(*bio->bi_io_vec));
	bio->bi_max_vecs = (unsigned short)nr_pages;
	bio->bi_opf = op;
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < nr_pages; i++) {
		bio->bi_io_vec[i].bv_page = pages[i];
		bio->bi_io_vec[i].bv_len = PAGE_SIZE;
		bio->bi_io_vec[i].bv_offset = 0;
	}
	bio->bi_vcnt = (unsigned short)nr_pages;
	bio->bi_iter.bi_size = nr_pages * PAGE_SIZE;
	rq->q = q;
	rq->cmd_flags = op;
	rq->__sector = sector;
	rq->__data_len = nr_pages * PAGE_SIZE;
	rq->nr_phys_segments = (unsigned short)nr_pages;
	rq->bio = rq->biotail = nr_pages ? bio : NULL;
	if (!nr_pages) {
		free(bio->bi_io_vec);
		free(bio);
	}
	INIT_LIST_HEAD(&rq->queuelist);
	return rq;
}

void sim_blk_issue(struct request *rq)
{
	struct request_queue *q = rq->q;
	struct blk_mq_queue_data bd = { .rq = rq, .last = true };
	struct gendisk *disk = NULL;
	blk_status_t st;

	if (sim_last_disk && sim_last_disk->queue == q)
		disk = sim_last_disk;
	if ((disk && disk->sim_dead) || q->sim_dying) {
		blk_mq_end_request(rq, BLK_STS_IOERR);
		return;
	}
	if (q->sim_quiesced) {
		list_add_tail(&rq->queuelist, &q->sim_requeue);
		return;
	}
	rq->mq_hctx = &q->sim_hctx[0];
	st = q->tag_set->ops->queue_rq(rq->mq_hctx, &bd);
	switch (st) {
	case BLK_STS_OK:
		break;
	case BLK_STS_RESOURCE:
	case BLK_STS_DEV_RESOURCE:
		rq->sim_started = false;
		list_add_tail(&rq->queuelist, &q->sim_requeue);
		if (st == BLK_STS_RESOURCE)
			sim_defer(SIM_CTX_ANY, 3, sim_blk_dispatch, q, NULL);
		break;
	default:
		blk_mq_end_request(rq, st);
		break;
	}
}

void sim_blk_free_request(struct request *rq)
{
	if (rq->bio) {
		free(rq->bio->bi_io_vec);
		free(rq->bio);
	}
	free(rq);
}

/* ---- the backend's backing device ------------------------------------------------------------------------------ */

struct sim_disk {
	struct sim_disk *next;
	struct block_device bdev;
	struct gendisk disk;
	u8 *image;
	sector_t sectors;
	unsigned int complete_ms;
	unsigned int hold_ms;
	unsigned int holds;		/* page references kept */
	unsigned int bios;
	int opened;
};

/* The pages of one bio the device keeps after completing it, with what it wrote from them. */
struct sim_hold {
	struct sim_disk *d;
	unsigned int nr;
	bool write;
	sector_t sector;
	unsigned long completed;
	struct page **pages;
	unsigned int *off;
	unsigned int *len;
	u8 **data;
};

static struct sim_disk *sim_disks;

struct sim_disk *sim_disk_create(dev_t devt, sector_t sectors, unsigned int complete_ms, unsigned int hold_ms)
{
	struct sim_disk *d = calloc(1, sizeof(*d));

	d->image = calloc(sectors, 512);
	d->sectors = sectors;
	d->complete_ms = complete_ms;
	d->hold_ms = hold_ms;
	d->bdev.bd_dev = devt;
	d->bdev.bd_disk = &d->disk;
	d->bdev.bd_nr_sectors = sectors;
	d->bdev.sim_disk = d;
	d->disk.part0 = &d->bdev;
	d->next = sim_disks;
	sim_disks = d;
	return d;
}

u8 *sim_disk_image(struct sim_disk *d) { return d->image; }
unsigned int sim_disk_holds(struct sim_disk *d) { return d->holds; }
unsigned int sim_disk_bios(struct sim_disk *d) { return d->bios; }
bool sim_disk_is_open(struct sim_disk *d) { return d->opened > 0; }

struct block_device *blkdev_get_by_dev(dev_t dev, fmode_t mode, void *holder)
{
	struct sim_disk *d;

	(void)mode;
	(void)holder;
	sim_might_sleep("blkdev_get_by_dev");
	for (d = sim_disks; d; d = d->next) {
		if (d->bdev.bd_dev == dev) {
			d->opened++;
			return &d->bdev;
		}
	}
	return ERR_PTR(-ENXIO);
}

void blkdev_put(struct block_device *bdev, fmode_t mode)
{
	(void)mode;
	if (bdev->sim_disk->opened <= 0)
		sim_violation("blkdev_put of a block device not open");
	bdev->sim_disk->opened--;
}

int lookup_bdev(const char *pathname, dev_t *dev)
{
	(void)pathname;
	(void)dev;
	return -ENOENT;
}

sector_t bdev_nr_sectors(struct block_device *bdev) { return bdev->bd_nr_sectors; }
unsigned int bdev_logical_block_size(struct block_device *bdev) { (void)bdev; return 512; }
unsigned int bdev_physical_block_size(struct block_device *bdev) { (void)bdev; return 4096; }
unsigned int bdev_max_discard_sectors(struct block_device *bdev) { (void)bdev; return 0; }
unsigned int bdev_discard_granularity(struct block_device *bdev) { (void)bdev; return 0; }
unsigned int bdev_discard_alignment(struct block_device *bdev) { (void)bdev; return 0; }
unsigned int bdev_max_secure_erase_sectors(struct block_device *bdev) { (void)bdev; return 0; }

int blkdev_issue_discard(struct block_device *bdev, sector_t sector, sector_t nr_sects, gfp_t gfp_mask)
{
	(void)bdev;
	(void)sector;
	(void)nr_sects;
	(void)gfp_mask;
	return -EOPNOTSUPP;
}

int blkdev_issue_secure_erase(struct block_device *bdev, sector_t sector, sector_t nr_sects, gfp_t gfp)
{
	return blkdev_issue_discard(bdev, sector, nr_sects, gfp);
}

struct bio *bio_alloc(struct block_device *bdev, unsigned short nr_vecs, blk_opf_t opf, gfp_t gfp_mask)
{
	struct bio *bio = calloc(1, sizeof(*bio));

	(void)gfp_mask;
	bio->bi_bdev = bdev;
	bio->bi_opf = opf;
	bio->bi_max_vecs = nr_vecs;
	bio->bi_io_vec = calloc(nr_vecs ? nr_vecs : 1, sizeof(*bio->bi_io_vec));
	bio->sim_refs = 1;
	return bio;
}

int bio_add_page(struct bio *bio, struct page *page, unsigned int len, unsigned int off)
{
	if (bio->bi_vcnt >= bio->bi_max_vecs || off + len > PAGE_SIZE || len == 0)
		return 0;
	bio->bi_io_vec[bio->bi_vcnt].bv_page = page;
	bio->bi_io_vec[bio->bi_vcnt].bv_len = len;
	bio->bi_io_vec[bio->bi_vcnt].bv_offset = off;
	bio->bi_vcnt++;
	bio->bi_iter.bi_size += len;
	return (int)len;
}

void bio_put(struct bio *bio)
{
	if (bio->sim_refs <= 0) {
		sim_violation("bio_put of a freed bio");
		return;
	}
	if (--bio->sim_refs == 0) {
		free(bio->bi_io_vec);
		free(bio);
	}
}

static void sim_bio_complete(void *arg)
{
	struct bio *bio = arg;

	bio->bi_end_io(bio);
}

static void sim_hold_release(void *arg)
{
	struct sim_hold *h = arg;
	unsigned int i;

	for (i = 0; i < h->nr; i++) {
		if (h->write && memcmp((u8 *)page_address(h->pages[i]) + h->off[i], h->data[i], h->len[i]) != 0)
			sim_violation("the backing device still held page %p (a write of sector %llu, completed %lu ms "
				      "earlier) and found other data in it: the page was unmapped or reused while "
				      "referenced", (void *)h->pages[i], (unsigned long long)h->sector,
				      jiffies - h->completed);
		put_page(h->pages[i]);
		h->d->holds--;
		free(h->data[i]);
	}
	free(h->pages);
	free(h->off);
	free(h->len);
	free(h->data);
	free(h);
}

void submit_bio(struct bio *bio)
{
	struct sim_disk *d = bio->bi_bdev->sim_disk;
	enum req_op op = (enum req_op)(bio->bi_opf & REQ_OP_MASK);
	u64 at = bio->bi_iter.bi_sector * 512;
	struct sim_hold *h = NULL;
	unsigned int i;

	d->bios++;
	if (op != REQ_OP_READ && op != REQ_OP_WRITE)
		sim_unmodelled("a bio other than a read or a write");
	if (at + bio->bi_iter.bi_size > d->sectors * 512) {
		bio->bi_status = BLK_STS_IOERR;
		sim_defer(SIM_CTX_IRQ, d->complete_ms, sim_bio_complete, bio, NULL);
		return;
	}
	if (bio->bi_vcnt && d->hold_ms) {
		h = calloc(1, sizeof(*h));
		h->d = d;
		h->nr = bio->bi_vcnt;
		h->write = op == REQ_OP_WRITE;
		h->sector = bio->bi_iter.bi_sector;
		h->completed = jiffies + d->complete_ms;
		h->pages = calloc(h->nr, sizeof(*h->pages));
		h->off = calloc(h->nr, sizeof(*h->off));
		h->len = calloc(h->nr, sizeof(*h->len));
		h->data = calloc(h->nr, sizeof(*h->data));
	}
	for (i = 0; i < bio->bi_vcnt; i++) {
		struct bio_vec *bv = &bio->bi_io_vec[i];
		u8 *mem = (u8 *)page_address(bv->bv_page) + bv->bv_offset;

		if (op == REQ_OP_WRITE)
			memcpy(d->image + at, mem, bv->bv_len);
		else
			memcpy(mem, d->image + at, bv->bv_len);
		at += bv->bv_len;
		if (h) {
			get_page(bv->bv_page);
			d->holds++;
			h->pages[i] = bv->bv_page;
			h->off[i] = bv->bv_offset;
			h->len[i] = bv->bv_len;
			h->data[i] = malloc(bv->bv_len);
			memcpy(h->data[i], mem, bv->bv_len);
		}
	}
	bio->bi_status = BLK_STS_OK;
	sim_defer(SIM_CTX_IRQ, d->complete_ms, sim_bio_complete, bio, NULL);
	if (h)
		sim_defer(SIM_CTX_IRQ, d->complete_ms + d->hold_ms, sim_hold_release, h, NULL);
}

int sim_scenario_main(int argc, char **argv, const struct sim_scenario *s, size_t n)
{
	size_t i;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (i = 0; argc == 2 && i < n; i++) {
		if (strcmp(argv[1], s[i].name) != 0)
			continue;
		s[i].run();
		if (sim_violations) {
			printf("FAIL: %u SIM VIOLATION(s), see stderr\n", sim_violations);
			return 1;
		}
		printf("ok\n");
		return 0;
	}
	fprintf(stderr, "usage: %s <scenario>\n", argc > 0 ? argv[0] : "sim");
	return 2;
}
