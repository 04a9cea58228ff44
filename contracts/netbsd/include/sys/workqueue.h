/*
 * xendrvgen OS API contract: NetBSD sys/sys/workqueue.h.  The installed
 * <sys/buf.h> embeds a struct work in struct buf; the generated backend
 * runs its rings from a workqueue(9) and waits for a ring's last run with
 * workqueue_wait before tearing the ring down.  struct work's member is
 * private.
 */
#ifndef _SYS_WORKQUEUE_H_
#define	_SYS_WORKQUEUE_H_

struct work {
	void *wk_dummy;
};

struct workqueue;
struct cpu_info;

#define	WQ_MPSAFE	0x01
#define	WQ_PERCPU	0x02

int workqueue_create(struct workqueue **, const char *,
    void (*)(struct work *, void *), void *, pri_t, int, int);
void workqueue_destroy(struct workqueue *);
void workqueue_enqueue(struct workqueue *, struct work *, struct cpu_info *);
void workqueue_wait(struct workqueue *, struct work *);

#endif /* _SYS_WORKQUEUE_H_ */
