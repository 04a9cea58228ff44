/*
 * A user-space stand-in for the parts of the Linux kernel (6.1) that the
 * generated xen-blkfront.c and xen-blkback/ use, for
 * tests/test_linux_lifecycle.py.  Built with SIM_LINUX_5_10 defined, it is
 * the 5.10 kernel the frontend is written for as well: the calls and types
 * that differ there (no free_disk: see "the block layer" below) take 5.10's
 * form, the rest stays as it is (the backend is built for 6.1 only).
 *
 * Every kernel header the drivers include (<linux/...>, <xen/...>) is, in the
 * test's build, a one-line file that includes this one.  Declarations keep the
 * kernel's signatures; the behaviour follows the kernel's where the scenarios
 * depend on it:
 *
 * - pages carry a reference count (get_page, put_page, page_count) and
 *   memory of their own; a page's memory is freed with its last reference,
 *   and kmap_local_page() of NULL faults (an AddressSanitizer SEGV);
 * - the grant table refuses to take back a grant while the peer maps it;
 *   gnttab_end_foreign_access() then keeps the page until the peer lets go;
 * - a grant mapped into a backend page is copied in at map time and back at
 *   unmap time, and an unmapped page is poisoned for AddressSanitizer, as
 *   the frame the backend saw is gone; gnttab_unmap_refs_sync() waits while
 *   anything else holds a reference to a page, as the kernel's does;
 * - a simulated block device (the backend's backing store) may keep a
 *   reference to the pages of a write after completing it, and checks, when
 *   it lets go, that they still hold what it was given;
 * - blk-mq, xenbus with an in-memory XenStore, event channels.
 *
 * There is one thread.  Interrupts call their handler at once; work items,
 * watch callbacks and the block device's completions are events on a
 * virtual clock (jiffies, HZ 1000), run by the scenario (sim_run) or by
 * whatever waits: a wait runs the other events until its condition holds.
 * What a kernel would report (a sleep in atomic context, a lock used before
 * it was initialised) and what the harness checks are printed as
 * "SIM VIOLATION: ..." on stderr and make the program fail.
 */
#ifndef XDG_LINUX_SIM_KERN_H
#define XDG_LINUX_SIM_KERN_H

/* The C library's dev_t is not the kernel's (u32). */
#define dev_t sim_libc_dev_t
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#undef dev_t

/* ---- linux/version.h: the stand-in models the 6.1 API, or 5.10's ------------ */

#define KERNEL_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#ifdef SIM_LINUX_5_10
#define LINUX_VERSION_CODE	KERNEL_VERSION(5, 10, 0)
#else
#define LINUX_VERSION_CODE	KERNEL_VERSION(6, 1, 0)
#endif

/* ---- types ---------------------------------------------------------------- */

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;	/* as the kernel's, on every architecture */
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef long long s64;
typedef u32 dev_t;
typedef u64 sector_t;
typedef unsigned int gfp_t;
typedef unsigned int fmode_t;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef u8 blk_status_t;
typedef u32 blk_opf_t;

#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)

/* ---- compiler and helpers ------------------------------------------------ */

#define __init
#define __exit
#define __maybe_unused		__attribute__((__unused__))
#define __must_check		__attribute__((__warn_unused_result__))
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)	do { *(volatile __typeof__(x) *)&(x) = (val); } while (0)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define BUILD_BUG_ON(cond)	((void)sizeof(char[1 - 2 * !!(cond)]))
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define min_t(type, a, b) ({ type __ma = (a); type __mb = (b); __ma < __mb ? __ma : __mb; })
#define max_t(type, a, b) ({ type __xa = (a); type __xb = (b); __xa > __xb ? __xa : __xb; })
#define clamp_t(type, v, lo, hi) min_t(type, max_t(type, v, lo), hi)

#define barrier()		__asm__ __volatile__("" ::: "memory")
#define smp_mb__before_atomic()	__sync_synchronize()
#define virt_rmb()		__sync_synchronize()

/* ---- what the simulation itself offers the macros below ------------------ */

#define HZ			1000
extern unsigned long jiffies;		/* the virtual clock, in milliseconds */

void sim_violation(const char *fmt, ...) __printf(1, 2);
void sim_stuck(const char *what) __attribute__((__noreturn__));
void sim_unmodelled(const char *what) __attribute__((__noreturn__));
void sim_might_sleep(const char *what);
/* Run one other event due no later than `deadline`; false when there is none. */
bool sim_wait_step(unsigned long deadline);
void sim_advance(unsigned long to);

/* ---- printk --------------------------------------------------------------- */

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "sim"
#endif
void sim_printk(const char *level, const char *fmt, ...) __printf(2, 3);
#define pr_alert(fmt, ...)	sim_printk("alert", pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	sim_printk("warn", pr_fmt(fmt), ##__VA_ARGS__)

ssize_t strscpy(char *dest, const char *src, size_t count);

/* ---- errors ------------------------------------------------------------------ */

#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }

/* ---- lists ------------------------------------------------------------------- */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void sim_list_link(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	sim_list_link(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	sim_list_link(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = (struct list_head *)0x100;	/* as the kernel's poison: a use after list_del faults */
	e->prev = (struct list_head *)0x122;
}

static inline void list_del_init(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	INIT_LIST_HEAD(e);
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void list_splice_init(struct list_head *list, struct list_head *head)
{
	if (!list_empty(list)) {
		struct list_head *first = list->next, *last = list->prev, *at = head->next;

		first->prev = head;
		head->next = first;
		last->next = at;
		at->prev = last;
		INIT_LIST_HEAD(list);
	}
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_first_entry_or_null(ptr, type, member) \
	(list_empty(ptr) ? NULL : list_first_entry(ptr, type, member))
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry_safe(pos, n, head, member)				\
	for (pos = list_first_entry(head, __typeof__(*pos), member),		\
	     n = list_next_entry(pos, member);					\
	     &pos->member != (head); pos = n, n = list_next_entry(n, member))

/* ---- atomics and bits ---------------------------------------------------------- */

typedef struct {
	int counter;
} atomic_t;

static inline int atomic_read(const atomic_t *v) { return __atomic_load_n(&v->counter, __ATOMIC_SEQ_CST); }
static inline void atomic_set(atomic_t *v, int i) { __atomic_store_n(&v->counter, i, __ATOMIC_SEQ_CST); }
static inline void atomic_inc(atomic_t *v) { __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline void atomic_dec(atomic_t *v) { __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline bool atomic_dec_and_test(atomic_t *v) { return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST) == 0; }

#define BITS_PER_LONG	64
static inline void set_bit(long nr, volatile unsigned long *addr)
{
	__atomic_or_fetch(&addr[nr / BITS_PER_LONG], 1UL << (nr % BITS_PER_LONG), __ATOMIC_SEQ_CST);
}

static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	unsigned long mask = 1UL << (nr % BITS_PER_LONG);

	return (__atomic_fetch_and(&addr[nr / BITS_PER_LONG], ~mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

/* ---- locks --------------------------------------------------------------------- */

#define SIM_LOCK_MAGIC	0x6c6f636bU

typedef struct {
	unsigned int sim_magic;
	int sim_held;
	const char *sim_name;
} spinlock_t;

struct mutex {
	unsigned int sim_magic;
	int sim_held;
	const char *sim_name;
};

void sim_spin_init(spinlock_t *l, const char *name);
void sim_spin_lock(spinlock_t *l);
void sim_spin_unlock(spinlock_t *l);
#define spin_lock_init(l)		sim_spin_init((l), #l)
#define spin_lock(l)			sim_spin_lock(l)
#define spin_unlock(l)			sim_spin_unlock(l)
#define spin_lock_irqsave(l, flags)	do { (flags) = 0; sim_spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); sim_spin_unlock(l); } while (0)

void sim_mutex_init(struct mutex *m, const char *name);
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
#define mutex_init(m)			sim_mutex_init((m), #m)

/* ---- waiting ---------------------------------------------------------------------- */

typedef struct {
	int sim_unused;
} wait_queue_head_t;

static inline void init_waitqueue_head(wait_queue_head_t *wq) { (void)wq; }
static inline void wake_up(wait_queue_head_t *wq) { (void)wq; }	/* conditions are looked at again after every event */

#define wait_event(wq, cond) do {							\
	sim_might_sleep("wait_event");							\
	while (!(cond))									\
		if (!sim_wait_step(ULONG_MAX))						\
			sim_stuck("wait_event(" #wq ", " #cond ")");			\
} while (0)

#define wait_event_timeout(wq, cond, timeout) ({					\
	unsigned long __end = jiffies + (timeout);					\
	long __ret;									\
	sim_might_sleep("wait_event_timeout");						\
	for (;;) {									\
		if (cond) {								\
			__ret = __end > jiffies ? (long)(__end - jiffies) : 1;		\
			break;								\
		}									\
		if (!sim_wait_step(__end)) {						\
			sim_advance(__end);						\
			__ret = (cond) ? 1 : 0;						\
			break;								\
		}									\
	}										\
	__ret;										\
})

static inline void cond_resched(void) { }
static inline unsigned int num_possible_cpus(void) { return 4; }

/* ---- work queues ------------------------------------------------------------------ */

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct workqueue_struct;

struct work_struct {
	work_func_t func;
	/* the simulation's */
	unsigned int sim_magic;
	bool sim_pending;
	int sim_running;
	struct workqueue_struct *sim_wq;
};

struct delayed_work {
	struct work_struct work;
};

#define WQ_MEM_RECLAIM		(1 << 3)
#define INIT_WORK(w, f)		sim_init_work((w), (f))
void sim_init_work(struct work_struct *work, work_func_t func);
__printf(1, 4) struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, int max_active, ...);
void destroy_workqueue(struct workqueue_struct *wq);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool schedule_work(struct work_struct *work);
bool flush_work(struct work_struct *work);
bool cancel_work_sync(struct work_struct *work);

/* ---- memory ----------------------------------------------------------------------- */

#define GFP_KERNEL	0x0cc0U
#define GFP_NOIO	0x0c00U
#define __GFP_HIGH	0x0020U
#define __GFP_ZERO	0x0100U

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *kvcalloc(size_t n, size_t size, gfp_t flags);
void kfree(const void *p);
void kvfree(const void *p);

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)

/*
 * A page: a reference count and PAGE_SIZE bytes of memory of its own (or, for
 * the pages of a ring, part of a larger allocation).
 */
struct page {
	int sim_refs;
	unsigned long sim_pfn;
	void *sim_mem;
	bool sim_own_mem;
	bool sim_unpopulated;		/* from the grant page cache: no memory behind it unless mapped */
	int sim_kept;			/* references the grant table keeps for grants the peer still maps */
	struct sim_map *sim_map;	/* the foreign grant mapped here, if any */
	struct page *sim_next;		/* in a grant page cache */
};

struct page *alloc_pages(gfp_t gfp, unsigned int order);
#define alloc_page(gfp)		alloc_pages((gfp), 0)
void __free_pages(struct page *page, unsigned int order);
#define __free_page(page)	__free_pages((page), 0)
void get_page(struct page *page);
void put_page(struct page *page);
int page_count(const struct page *page);
void *page_address(const struct page *page);
unsigned long page_to_pfn(const struct page *page);
void *sim_pfn_to_kaddr(unsigned long pfn);
#define pfn_to_kaddr(pfn)	sim_pfn_to_kaddr(pfn)
/* Whole pages of memory in one allocation, each a page of its own (the frontend's rings). */
void *alloc_pages_exact(size_t size, gfp_t gfp);
void free_pages_exact(void *virt, size_t size);

#ifdef SIM_LINUX_5_10
void *kmap_atomic(struct page *page);
void sim_kunmap_atomic(const void *addr);
#define kunmap_atomic(addr)	sim_kunmap_atomic(addr)
#define sim_kmap_copy(page)	kmap_atomic(page)
#define sim_kunmap_copy(addr)	kunmap_atomic(addr)
#else
void *kmap_local_page(struct page *page);
void sim_kunmap_local(const void *addr);
#define kunmap_local(addr)	sim_kunmap_local(addr)
#define sim_kmap_copy(page)	kmap_local_page(page)
#define sim_kunmap_copy(addr)	kunmap_local(addr)
#endif

static inline void memcpy_from_page(char *to, struct page *page, size_t offset, size_t len)
{
	char *from = sim_kmap_copy(page);

	memcpy(to, from + offset, len);
	sim_kunmap_copy(from);
}

static inline void memcpy_to_page(struct page *page, size_t offset, const char *from, size_t len)
{
	char *to = sim_kmap_copy(page);

	memcpy(to + offset, from, len);
	sim_kunmap_copy(to);
}

/* ---- kref, ida, xarray ---------------------------------------------------------------- */

struct kref {
	int refcount;
};

static inline void kref_init(struct kref *k) { k->refcount = 1; }
static inline void kref_get(struct kref *k)
{
	if (k->refcount <= 0)
		sim_violation("kref_get on a released kref");
	k->refcount++;
}
static inline int kref_put(struct kref *k, void (*release)(struct kref *k))
{
	if (k->refcount <= 0) {
		sim_violation("kref_put on a released kref");
		return 0;
	}
	if (--k->refcount == 0) {
		release(k);
		return 1;
	}
	return 0;
}

#define SIM_IDA_MAX	65536
struct ida {
	unsigned char sim_used[SIM_IDA_MAX / 8];
};
#define DEFINE_IDA(name)	struct ida name = { { 0 } }
int ida_alloc_range(struct ida *ida, unsigned int min, unsigned int max, gfp_t gfp);
void ida_free(struct ida *ida, unsigned int id);
void ida_destroy(struct ida *ida);

typedef unsigned int xa_mark_t;
#define XA_PRESENT	((xa_mark_t)8U)
struct xarray {
	struct sim_xa_entry *sim_head;
};
void xa_init(struct xarray *xa);
void *xa_load(struct xarray *xa, unsigned long index);
int __must_check xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *xa_erase(struct xarray *xa, unsigned long index);
void xa_destroy(struct xarray *xa);
void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max, xa_mark_t filter);
void *xa_find_after(struct xarray *xa, unsigned long *index, unsigned long max, xa_mark_t filter);
#define xa_for_each(xa, index, entry)						\
	for (index = 0, entry = xa_find(xa, &index, ULONG_MAX, XA_PRESENT);	\
	     entry; entry = xa_find_after(xa, &index, ULONG_MAX, XA_PRESENT))

/* ---- devices and modules ---------------------------------------------------------------- */

struct module;
#define THIS_MODULE		((struct module *)0)
#define module_param(name, type, perm)
#define MODULE_PARM_DESC(name, desc)
#define MODULE_DESCRIPTION(d)
#define MODULE_LICENSE(l)
#define MODULE_ALIAS(a)
#define module_init(fn)		int sim_module_init(void) { return fn(); }
#define module_exit(fn)		void sim_module_exit(void) { fn(); }
int sim_module_init(void);
void sim_module_exit(void);

struct device {
	void *driver_data;
	const char *sim_name;
};

static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
void sim_dev_printk(const char *level, const struct device *dev, const char *fmt, ...) __printf(3, 4);
#define dev_warn(dev, fmt, ...)	sim_dev_printk("warn", dev, fmt, ##__VA_ARGS__)
#define dev_info(dev, fmt, ...)	sim_dev_printk("info", dev, fmt, ##__VA_ARGS__)
#define dev_dbg(dev, fmt, ...)	do { if (0) sim_dev_printk("debug", dev, fmt, ##__VA_ARGS__); } while (0)

/* ---- interrupts ------------------------------------------------------------------------ */

enum irqreturn {
	IRQ_NONE = 0,
	IRQ_HANDLED = 1 << 0,
};
typedef enum irqreturn irqreturn_t;
typedef irqreturn_t (*irq_handler_t)(int irq, void *dev_id);

/* ---- the block layer ---------------------------------------------------------------------- */

#define SECTOR_SHIFT		9
#define MINORBITS		20
#define MINORMASK		((1U << MINORBITS) - 1)
#define MAJOR(dev)		((unsigned int)((dev) >> MINORBITS))
#define MINOR(dev)		((unsigned int)((dev) & MINORMASK))
#define MKDEV(ma, mi)		(((ma) << MINORBITS) | (mi))
#define NUMA_NO_NODE		(-1)
#define FMODE_READ		((fmode_t)0x1)
#define FMODE_WRITE		((fmode_t)0x2)
#define READ			0
#define WRITE			1

#define BLK_STS_OK		((blk_status_t)0)
#define BLK_STS_NOTSUPP		((blk_status_t)1)
#define BLK_STS_RESOURCE	((blk_status_t)9)
#define BLK_STS_IOERR		((blk_status_t)10)
#define BLK_STS_DEV_RESOURCE	((blk_status_t)13)

#define REQ_OP_BITS		8
#define REQ_OP_MASK		((1U << REQ_OP_BITS) - 1)
enum req_op {
	REQ_OP_READ = 0,
	REQ_OP_WRITE = 1,
	REQ_OP_FLUSH = 2,
	REQ_OP_DISCARD = 3,
	REQ_OP_SECURE_ERASE = 5,
};
#define REQ_FUA			((blk_opf_t)1U << 17)
#define REQ_PREFLUSH		((blk_opf_t)1U << 18)
static inline bool op_is_write(blk_opf_t op) { return (op & 1) != 0; }

#define GENHD_FL_REMOVABLE	(1 << 0)
#define BLK_MQ_F_SHOULD_MERGE	(1 << 0)
#define BIO_MAX_VECS		256U

struct bio_vec {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
};

struct bvec_iter {
	sector_t bi_sector;
	unsigned int bi_size;
	unsigned int bi_idx;
	unsigned int bi_bvec_done;
};

struct bio;
typedef void (bio_end_io_t)(struct bio *);

struct block_device;

struct bio {
	struct bio *bi_next;
	struct block_device *bi_bdev;
	blk_opf_t bi_opf;
	blk_status_t bi_status;
	struct bvec_iter bi_iter;
	bio_end_io_t *bi_end_io;
	void *bi_private;
	unsigned short bi_vcnt;
	unsigned short bi_max_vecs;
	struct bio_vec *bi_io_vec;
	/* the simulation's */
	int sim_refs;
};

struct bio_list {
	struct bio *head;
	struct bio *tail;
};

static inline void bio_list_init(struct bio_list *bl) { bl->head = bl->tail = NULL; }
static inline void bio_list_merge(struct bio_list *bl, struct bio_list *bl2)
{
	if (!bl2->head)
		return;
	if (bl->tail)
		bl->tail->bi_next = bl2->head;
	else
		bl->head = bl2->head;
	bl->tail = bl2->tail;
}
static inline struct bio *bio_list_pop(struct bio_list *bl)
{
	struct bio *bio = bl->head;

	if (bio) {
		bl->head = bl->head->bi_next;
		if (!bl->head)
			bl->tail = NULL;
		bio->bi_next = NULL;
	}
	return bio;
}

struct bio *bio_alloc(struct block_device *bdev, unsigned short nr_vecs, blk_opf_t opf, gfp_t gfp_mask);
int bio_add_page(struct bio *bio, struct page *page, unsigned int len, unsigned int off);
void bio_put(struct bio *bio);
void submit_bio(struct bio *bio);
void submit_bio_noacct(struct bio *bio);

struct queue_limits {
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned int max_segment_size;
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned long seg_boundary_mask;
	unsigned int discard_granularity;
	unsigned int discard_alignment;
	unsigned int max_discard_sectors;
	unsigned int max_secure_erase_sectors;
	unsigned int dma_alignment;
};

struct blk_mq_tag_set;
struct blk_mq_hw_ctx;

struct request_queue {
	void *queuedata;
	struct queue_limits limits;
	struct blk_mq_tag_set *tag_set;
	unsigned long queue_flags;
	/* the simulation's */
	struct blk_mq_hw_ctx *sim_hctx;
	unsigned int sim_nr_hctx;
	bool sim_quiesced;
	bool sim_write_cache;
	struct list_head sim_requeue;
	int sim_refs;			/* 5.10: its own, and the added disk's */
	bool sim_cleaned;		/* 5.10: blk_cleanup_queue was called */
	bool sim_dying;			/* new requests fail */
};

struct request {
	struct request_queue *q;
	struct blk_mq_hw_ctx *mq_hctx;
	blk_opf_t cmd_flags;
	sector_t __sector;
	unsigned int __data_len;
	unsigned short nr_phys_segments;
	struct bio *bio;
	struct bio *biotail;
	struct list_head queuelist;
	/* the simulation's */
	bool sim_started;
	bool sim_done;
	blk_status_t sim_status;
	unsigned int sim_completions;
};

static inline enum req_op req_op(const struct request *req) { return (enum req_op)(req->cmd_flags & REQ_OP_MASK); }
#define rq_data_dir(rq)		(op_is_write(req_op(rq)) ? WRITE : READ)
static inline sector_t blk_rq_pos(const struct request *rq) { return rq->__sector; }
static inline unsigned int blk_rq_sectors(const struct request *rq) { return rq->__data_len >> SECTOR_SHIFT; }
static inline unsigned short blk_rq_nr_phys_segments(struct request *rq) { return rq->nr_phys_segments; }
static inline void *blk_mq_rq_to_pdu(struct request *rq) { return rq + 1; }
static inline unsigned int queue_max_hw_sectors(const struct request_queue *q) { return q->limits.max_hw_sectors; }

struct blk_mq_hw_ctx {
	void *driver_data;
	struct request_queue *queue;
	unsigned int queue_num;
};

struct blk_mq_queue_data {
	struct request *rq;
	bool last;
};

struct blk_mq_ops {
	blk_status_t (*queue_rq)(struct blk_mq_hw_ctx *, const struct blk_mq_queue_data *);
	void (*complete)(struct request *);
	int (*init_hctx)(struct blk_mq_hw_ctx *, void *, unsigned int);
};

struct blk_mq_tag_set {
	const struct blk_mq_ops *ops;
	unsigned int nr_hw_queues;
	unsigned int queue_depth;
	unsigned int cmd_size;
	int numa_node;
	unsigned int flags;
	void *driver_data;
	/* the simulation's */
	unsigned int sim_magic;
	unsigned int sim_queues;	/* 5.10: queues on it not yet cleaned up */
};

struct gendisk;

/*
 * A disk lives as long as its last reference: the driver's, until put_disk,
 * and each user's, from open to release.  In 6.1 free_disk tells the driver
 * when the last one goes; 5.10 has no such call.
 */
struct block_device_operations {
	struct module *owner;
	int (*open)(struct block_device *, fmode_t);
	void (*release)(struct gendisk *, fmode_t);
#ifndef SIM_LINUX_5_10
	void (*free_disk)(struct gendisk *disk);
#endif
};

struct gendisk {
	int major;
	int first_minor;
	int minors;
	char disk_name[32];
	unsigned short flags;
	const struct block_device_operations *fops;
	struct request_queue *queue;
	void *private_data;
	struct block_device *part0;
	/* the simulation's */
	int sim_refs;
	bool sim_added;
	bool sim_dead;
	bool sim_ro;
	sector_t sim_capacity;
};

struct block_device {
	dev_t bd_dev;
	struct gendisk *bd_disk;
	sector_t bd_nr_sectors;
	/* the simulation's */
	struct sim_disk *sim_disk;
};

/* blk-mq */
int blk_mq_alloc_tag_set(struct blk_mq_tag_set *set);
void blk_mq_free_tag_set(struct blk_mq_tag_set *set);
#ifdef SIM_LINUX_5_10
/*
 * 5.10: the queue and the disk are made apart and joined by the driver;
 * device_add_disk takes a reference to the queue for the disk, and
 * blk_cleanup_queue (after del_gendisk, or for a queue never added) detaches
 * it from its tag set and drops the queue's own.
 */
struct request_queue *blk_mq_init_queue_data(struct blk_mq_tag_set *set, void *queuedata);
struct gendisk *alloc_disk(int minors);
void blk_cleanup_queue(struct request_queue *q);
#else
struct gendisk *blk_mq_alloc_disk(struct blk_mq_tag_set *set, void *queuedata);
#endif
void blk_mq_start_request(struct request *rq);
void blk_mq_end_request(struct request *rq, blk_status_t error);
void blk_mq_complete_request(struct request *rq);
void blk_mq_requeue_request(struct request *rq, bool kick_requeue_list);
void blk_mq_kick_requeue_list(struct request_queue *q);
void blk_mq_run_hw_queues(struct request_queue *q, bool async);
void blk_mq_quiesce_queue(struct request_queue *q);
void blk_mq_unquiesce_queue(struct request_queue *q);

/* queue limits */
void blk_queue_logical_block_size(struct request_queue *q, unsigned int size);
void blk_queue_physical_block_size(struct request_queue *q, unsigned int size);
void blk_queue_max_segments(struct request_queue *q, unsigned short max_segments);
void blk_queue_max_segment_size(struct request_queue *q, unsigned int max_size);
void blk_queue_segment_boundary(struct request_queue *q, unsigned long mask);
void blk_queue_max_hw_sectors(struct request_queue *q, unsigned int max_hw_sectors);
void blk_queue_dma_alignment(struct request_queue *q, int mask);
void blk_queue_write_cache(struct request_queue *q, bool enabled, bool fua);
void blk_queue_max_discard_sectors(struct request_queue *q, unsigned int max_discard_sectors);
#ifdef SIM_LINUX_5_10
#define QUEUE_FLAG_DISCARD	8
#define QUEUE_FLAG_SECERASE	11
void blk_queue_flag_set(unsigned int flag, struct request_queue *q);
void blk_queue_flag_clear(unsigned int flag, struct request_queue *q);
#else
void blk_queue_max_secure_erase_sectors(struct request_queue *q, unsigned int max_sectors);
#endif

/* disks */
struct attribute_group;
void del_gendisk(struct gendisk *gp);
void put_disk(struct gendisk *disk);
void set_capacity(struct gendisk *disk, sector_t size);
void set_disk_ro(struct gendisk *disk, bool read_only);
#ifdef SIM_LINUX_5_10
void device_add_disk(struct device *parent, struct gendisk *disk, const struct attribute_group **groups);
void blk_set_queue_dying(struct request_queue *q);
bool set_capacity_revalidate_and_notify(struct gendisk *disk, sector_t size, bool update_bdev);
#else
int __must_check device_add_disk(struct device *parent, struct gendisk *disk,
				 const struct attribute_group **groups);
void blk_mark_disk_dead(struct gendisk *disk);
bool set_capacity_and_notify(struct gendisk *disk, sector_t size);
#endif
int __register_blkdev(unsigned int major, const char *name, void (*probe)(dev_t devt));
#define register_blkdev(major, name)	__register_blkdev(major, name, NULL)
void unregister_blkdev(unsigned int major, const char *name);

/* the backend's view of its backing device */
struct block_device *blkdev_get_by_dev(dev_t dev, fmode_t mode, void *holder);
void blkdev_put(struct block_device *bdev, fmode_t mode);
int lookup_bdev(const char *pathname, dev_t *dev);
sector_t bdev_nr_sectors(struct block_device *bdev);
unsigned int bdev_logical_block_size(struct block_device *bdev);
unsigned int bdev_physical_block_size(struct block_device *bdev);
unsigned int bdev_max_discard_sectors(struct block_device *bdev);
unsigned int bdev_discard_granularity(struct block_device *bdev);
unsigned int bdev_discard_alignment(struct block_device *bdev);
unsigned int bdev_max_secure_erase_sectors(struct block_device *bdev);
int blkdev_issue_discard(struct block_device *bdev, sector_t sector, sector_t nr_sects, gfp_t gfp_mask);
int blkdev_issue_secure_erase(struct block_device *bdev, sector_t sector, sector_t nr_sects, gfp_t gfp);

/* scatterlists */
struct scatterlist {
	unsigned long page_link;
	unsigned int offset;
	unsigned int length;
	dma_addr_t dma_address;
};

#define SIM_SG_END	0x02UL
static inline struct page *sg_page(struct scatterlist *sg) { return (struct page *)(sg->page_link & ~0x3UL); }
static inline bool sg_is_last(struct scatterlist *sg) { return (sg->page_link & SIM_SG_END) != 0; }
static inline struct scatterlist *sg_next(struct scatterlist *sg) { return sg_is_last(sg) ? NULL : sg + 1; }
static inline void sg_mark_end(struct scatterlist *sg) { sg->page_link |= SIM_SG_END; }
static inline void sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len, unsigned int offset)
{
	sg->page_link = (unsigned long)page | (sg->page_link & SIM_SG_END);
	sg->offset = offset;
	sg->length = len;
}
static inline void sg_init_table(struct scatterlist *sgl, unsigned int nents)
{
	memset(sgl, 0, sizeof(*sgl) * nents);
	sg_mark_end(&sgl[nents - 1]);
}
#define for_each_sg(sglist, sg, nr, __i) \
	for (__i = 0, sg = (sglist); __i < (nr); __i++, sg = sg_next(sg))
int blk_rq_map_sg(struct request_queue *q, struct request *rq, struct scatterlist *sglist);

/* ---- Xen: the grant table interface ---------------------------------------------------------- */

typedef u16 domid_t;
typedef u32 grant_ref_t;
typedef u32 grant_handle_t;
typedef u32 evtchn_port_t;

#define GNTMAP_host_map		(1 << 1)
#define GNTMAP_readonly		(1 << 2)
#define GNTST_okay		(0)
#define GNTST_bad_gntref	(-3)
#define GNTST_bad_handle	(-4)
#define GNTST_permission_denied	(-8)
#define INVALID_GRANT_REF	((grant_ref_t)-1)

struct gnttab_map_grant_ref {
	uint64_t host_addr;
	uint32_t flags;
	grant_ref_t ref;
	domid_t dom;
	int16_t status;
	grant_handle_t handle;
	uint64_t dev_bus_addr;
};

struct gnttab_unmap_grant_ref {
	uint64_t host_addr;
	uint64_t dev_bus_addr;
	grant_handle_t handle;
	int16_t status;
};

/* Xen's own io/ring.h (libxen-dev), with the barriers it leaves to its includer. */
#define __XEN_INTERFACE_VERSION__	0x00030208
#define xen_mb()	__sync_synchronize()
#define xen_rmb()	__sync_synchronize()
#define xen_wmb()	__sync_synchronize()
#include <xen-public/io/ring.h>

#define XEN_PAGE_SHIFT		12
#define XEN_PAGE_SIZE		(1UL << XEN_PAGE_SHIFT)
#define XEN_IO_PROTO_ABI_X86_32	"x86_32-abi"
#define XEN_IO_PROTO_ABI_X86_64	"x86_64-abi"
#define XEN_IO_PROTO_ABI_ARM	"arm-abi"
#if defined(__i386__)
#define XEN_IO_PROTO_ABI_NATIVE	XEN_IO_PROTO_ABI_X86_32
#elif defined(__x86_64__)
#define XEN_IO_PROTO_ABI_NATIVE	XEN_IO_PROTO_ABI_X86_64
#else
#define XEN_IO_PROTO_ABI_NATIVE	XEN_IO_PROTO_ABI_ARM
#endif

static inline int xen_domain(void) { return 1; }
static inline unsigned long xen_page_to_gfn(struct page *page) { return page_to_pfn(page); }
unsigned long virt_to_gfn(const void *addr);	/* of a page's first byte only */

struct gnttab_free_callback {
	struct gnttab_free_callback *next;
	void (*fn)(void *);
	void *arg;
	u16 count;
};

struct gntab_unmap_queue_data;
typedef void (*gnttab_unmap_refs_done)(int result, struct gntab_unmap_queue_data *data);

struct gntab_unmap_queue_data {
	struct delayed_work gnttab_work;
	void *data;
	gnttab_unmap_refs_done done;
	struct gnttab_unmap_grant_ref *unmap_ops;
	struct gnttab_unmap_grant_ref *kunmap_ops;
	struct page **pages;
	unsigned int count;
	unsigned int age;
};

struct gnttab_page_cache {
	spinlock_t lock;
	struct page *pages;
	unsigned int num_pages;
};

int gnttab_grant_foreign_access(domid_t domid, unsigned long frame, int readonly);
#ifdef SIM_LINUX_5_10
void gnttab_end_foreign_access(grant_ref_t ref, int readonly, unsigned long page);	/* page: its address, or 0 */
#else
void gnttab_end_foreign_access(grant_ref_t ref, struct page *page);
#endif
int gnttab_try_end_foreign_access(grant_ref_t ref);
void gnttab_request_free_callback(struct gnttab_free_callback *callback, void (*fn)(void *), void *arg, u16 count);
void gnttab_cancel_free_callback(struct gnttab_free_callback *callback);

static inline void gnttab_set_map_op(struct gnttab_map_grant_ref *map, phys_addr_t addr, uint32_t flags,
				     grant_ref_t ref, domid_t domid)
{
	map->host_addr = addr;
	map->flags = flags;
	map->ref = ref;
	map->dom = domid;
	map->status = 1;	/* not done yet */
}

static inline void gnttab_set_unmap_op(struct gnttab_unmap_grant_ref *unmap, phys_addr_t addr, uint32_t flags,
				       grant_handle_t handle)
{
	(void)flags;
	unmap->host_addr = addr;
	unmap->handle = handle;
	unmap->dev_bus_addr = 0;
}

void gnttab_page_cache_init(struct gnttab_page_cache *cache);
int gnttab_page_cache_get(struct gnttab_page_cache *cache, struct page **page);
void gnttab_page_cache_put(struct gnttab_page_cache *cache, struct page **page, unsigned int num);
void gnttab_page_cache_shrink(struct gnttab_page_cache *cache, unsigned int num);
int gnttab_map_refs(struct gnttab_map_grant_ref *map_ops, struct gnttab_map_grant_ref *kmap_ops,
		    struct page **pages, unsigned int count);
int gnttab_unmap_refs(struct gnttab_unmap_grant_ref *unmap_ops, struct gnttab_unmap_grant_ref *kunmap_ops,
		      struct page **pages, unsigned int count);
int gnttab_unmap_refs_sync(struct gntab_unmap_queue_data *item);

/* ---- Xen: event channels --------------------------------------------------------------------- */

#define XEN_EOI_FLAG_SPURIOUS	0x00000001

struct xenbus_device;
int bind_evtchn_to_irqhandler_lateeoi(evtchn_port_t evtchn, irq_handler_t handler, unsigned long irqflags,
				      const char *devname, void *dev_id);
int bind_interdomain_evtchn_to_irqhandler_lateeoi(struct xenbus_device *dev, evtchn_port_t remote_port,
						  irq_handler_t handler, unsigned long irqflags,
						  const char *devname, void *dev_id);
void unbind_from_irqhandler(unsigned int irq, void *dev_id);
void notify_remote_via_irq(int irq);
void xen_irq_lateeoi(unsigned int irq, unsigned int eoi_flags);

/* ---- Xen: xenbus ------------------------------------------------------------------------------ */

enum xenbus_state {
	XenbusStateUnknown = 0,
	XenbusStateInitialising = 1,
	XenbusStateInitWait = 2,
	XenbusStateInitialised = 3,
	XenbusStateConnected = 4,
	XenbusStateClosing = 5,
	XenbusStateClosed = 6,
	XenbusStateReconfiguring = 7,
	XenbusStateReconfigured = 8,
};

#define XENBUS_MAX_RING_GRANT_ORDER	4
#define XENBUS_MAX_RING_GRANTS		(1U << XENBUS_MAX_RING_GRANT_ORDER)

struct xenbus_watch {
	struct list_head list;
	const char *node;
	unsigned int nr_pending;
	bool (*will_handle)(struct xenbus_watch *, const char *path, const char *token);
	void (*callback)(struct xenbus_watch *, const char *path, const char *token);
};

struct xenbus_device {
	const char *devicetype;
	const char *nodename;
	const char *otherend;
	int otherend_id;
	struct device dev;
	enum xenbus_state state;
	/* the simulation's */
	struct xenbus_driver *sim_drv;
};

struct xenbus_device_id {
	char devicetype[32];
};

struct xenbus_driver {
	const char *name;
	const struct xenbus_device_id *ids;
	bool allow_rebind;
#ifdef SIM_LINUX_5_10
	int (*probe)(struct xenbus_device *dev, const struct xenbus_device_id *id);
	void (*otherend_changed)(struct xenbus_device *dev, enum xenbus_state backend_state);
	int (*remove)(struct xenbus_device *dev);
#else
	bool not_essential;
	int (*probe)(struct xenbus_device *dev, const struct xenbus_device_id *id);
	void (*otherend_changed)(struct xenbus_device *dev, enum xenbus_state backend_state);
	void (*remove)(struct xenbus_device *dev);
#endif
	int (*suspend)(struct xenbus_device *dev);
	int (*resume)(struct xenbus_device *dev);
};

struct xenbus_transaction {
	u32 id;
};
#define XBT_NIL ((struct xenbus_transaction) { 0 })

int __must_check __xenbus_register_frontend(struct xenbus_driver *drv, struct module *owner, const char *mod_name);
int __must_check __xenbus_register_backend(struct xenbus_driver *drv, struct module *owner, const char *mod_name);
#define xenbus_register_frontend(drv)	__xenbus_register_frontend(drv, THIS_MODULE, KBUILD_MODNAME)
#define xenbus_register_backend(drv)	__xenbus_register_backend(drv, THIS_MODULE, KBUILD_MODNAME)
void xenbus_unregister_driver(struct xenbus_driver *drv);

void *xenbus_read(struct xenbus_transaction t, const char *dir, const char *node, unsigned int *len);
int xenbus_write(struct xenbus_transaction t, const char *dir, const char *node, const char *string);
int xenbus_exists(struct xenbus_transaction t, const char *dir, const char *node);
int xenbus_transaction_start(struct xenbus_transaction *t);
int xenbus_transaction_end(struct xenbus_transaction t, int abort);
__printf(4, 5) int xenbus_printf(struct xenbus_transaction t, const char *dir, const char *node, const char *fmt, ...);
void unregister_xenbus_watch(struct xenbus_watch *watch);
__printf(5, 6) int xenbus_watch_pathfmt(struct xenbus_device *dev, struct xenbus_watch *watch,
					bool (*will_handle)(struct xenbus_watch *, const char *, const char *),
					void (*callback)(struct xenbus_watch *, const char *, const char *),
					const char *pathfmt, ...);
int xenbus_switch_state(struct xenbus_device *dev, enum xenbus_state new_state);
int xenbus_map_ring_valloc(struct xenbus_device *dev, grant_ref_t *gnt_refs, unsigned int nr_grefs, void **vaddr);
int xenbus_unmap_ring_vfree(struct xenbus_device *dev, void *vaddr);
int xenbus_alloc_evtchn(struct xenbus_device *dev, evtchn_port_t *port);
int xenbus_free_evtchn(struct xenbus_device *dev, evtchn_port_t port);
enum xenbus_state xenbus_read_driver_state(const char *path);
__printf(3, 4) void xenbus_dev_fatal(struct xenbus_device *dev, int err, const char *fmt, ...);
const char *xenbus_strstate(enum xenbus_state state);
int xenbus_dev_is_online(struct xenbus_device *dev);
int xenbus_frontend_closed(struct xenbus_device *dev);

#endif /* XDG_LINUX_SIM_KERN_H */
