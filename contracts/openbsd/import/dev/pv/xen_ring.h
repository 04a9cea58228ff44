/*
 * A header the OpenBSD port brings into the tree: sys/dev/pv/xen_ring.h.
 *
 * OpenBSD carries no copy of Xen's public io/ring.h (xbf(4) declares its own
 * ring); the generated protocol header and driver use Xen's ring types and
 * macros, so this header stands for Xen's io/ring.h as installed on the build
 * machine (Debian's libxen-dev, /usr/include/xen), which the compile runners
 * link into their work directory as xen-public/ and search with -idirafter.
 * Importing Xen's ring.h into sys/dev/pv/ is part of landing the port.
 *
 * What ring.h leaves to its includer: memset and offsetof (sys/systm.h) and
 * the barriers xen_mb(), xen_rmb() and xen_wmb(), here the membar_*() of
 * sys/atomic.h.
 */
#ifndef XENDRVGEN_OPENBSD_XEN_RING_H
#define XENDRVGEN_OPENBSD_XEN_RING_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00030208
#endif

#ifndef xen_mb
#define xen_mb()	membar_sync()
#define xen_rmb()	membar_consumer()
#define xen_wmb()	membar_producer()
#endif

#include <xen-public/io/ring.h>

#endif /* XENDRVGEN_OPENBSD_XEN_RING_H */
