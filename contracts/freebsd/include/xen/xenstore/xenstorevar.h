/*
 * xendrvgen OS API contract: FreeBSD sys/xen/xenstore/xenstorevar.h
 * (XenStore access used by the generated drivers).
 */
#ifndef _XEN_XENSTORE_XENSTOREVAR_H
#define _XEN_XENSTORE_XENSTOREVAR_H

#include <sys/queue.h>
#include <sys/bus.h>
#include <sys/malloc.h>

#include <machine/stdarg.h>

#include <xen/xen-os.h>
#include <contrib/xen/grant_table.h>
#include <contrib/xen/io/xenbus.h>

#include "xenbus_if.h"

MALLOC_DECLARE(M_XENSTORE);

struct xs_watch;

typedef	void (xs_watch_cb_t)(struct xs_watch *, const char **vec,
    unsigned int len);

struct xs_watch
{
	LIST_ENTRY(xs_watch) list;
	char *node;
	xs_watch_cb_t *callback;
	uintptr_t callback_data;
	/* Maximum and current number of undelivered events (FreeBSD 13+). */
	unsigned int max_pending;
	unsigned int pending;
};

struct xs_transaction
{
	uint32_t id;
};

#define XST_NIL ((struct xs_transaction) { 0 })

int xs_exists(struct xs_transaction t, const char *dir, const char *node);

int xs_read(struct xs_transaction t, const char *dir,
    const char *node, unsigned int *len, void **result);

int xs_write(struct xs_transaction t, const char *dir,
    const char *node, const char *string);

int xs_rm(struct xs_transaction t, const char *dir, const char *node);

int xs_transaction_start(struct xs_transaction *t);

int xs_transaction_end(struct xs_transaction t, int abort);

int xs_scanf(struct xs_transaction t,
    const char *dir, const char *node, int *scancountp, const char *fmt, ...)
    __attribute__((format(scanf, 5, 6)));

int xs_printf(struct xs_transaction t, const char *dir,
    const char *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int xs_gather(struct xs_transaction t, const char *dir, ...);

#endif /* _XEN_XENSTORE_XENSTOREVAR_H */
