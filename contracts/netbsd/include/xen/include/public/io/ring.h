/*
 * xendrvgen OS API contract:
 * sys/external/mit/xen-include-public/dist/xen/include/public/io/ring.h.
 *
 * NetBSD's xen-include-public is a copy of Xen's public headers, so this
 * contract does not restate the ring types and macros: it includes Xen's own
 * io/ring.h as installed on the build machine (Debian's libxen-dev,
 * /usr/include/xen), which the compile runners link into their work
 * directory as xen-public/ and search with -idirafter.  `xendrvgen contract
 * verify` compares that upstream header with the tree's copy.
 *
 * What Xen's ring.h leaves to its includer: uint8_t (sys/types.h), offsetof
 * (sys/systm.h) and memset (lib/libkern/libkern.h), which a kernel source has
 * included first, and the barriers xen_mb(), xen_rmb() and xen_wmb(), which
 * this contract does not declare elsewhere: they default here to the
 * membar_*() of sys/atomic.h, as the generated drivers define them.  The
 * interface version is set (when the includer has not) so that ring.h leaves
 * the barriers to its includer rather than defining them as mb(), rmb() and
 * wmb().
 */
#ifndef XENDRVGEN_CONTRACT_NETBSD_IO_RING_H
#define XENDRVGEN_CONTRACT_NETBSD_IO_RING_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00030208
#endif

#ifndef xen_mb
#define	xen_mb()	membar_sync()
#define	xen_rmb()	membar_acquire()
#define	xen_wmb()	membar_release()
#endif

#include <xen-public/io/ring.h>

#endif /* XENDRVGEN_CONTRACT_NETBSD_IO_RING_H */
