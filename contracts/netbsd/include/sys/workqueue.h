/*
 * xendrvgen OS API contract: NetBSD sys/sys/workqueue.h.  The installed
 * <sys/buf.h> embeds a struct work in struct buf.
 */
#ifndef _SYS_WORKQUEUE_H_
#define	_SYS_WORKQUEUE_H_

struct work {
	void *wk_dummy;
};

#endif /* _SYS_WORKQUEUE_H_ */
