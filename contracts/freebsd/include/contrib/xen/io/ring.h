/*
 * xendrvgen OS API contract: sys/contrib/xen/io/ring.h.
 *
 * FreeBSD's sys/contrib/xen is a copy of Xen's public headers, so this
 * contract does not restate the ring types and macros: it includes Xen's own
 * io/ring.h as installed on the build machine (Debian's libxen-dev,
 * /usr/include/xen), which the compile runners link into their work
 * directory as xen-public/ and search with -idirafter.  `xendrvgen contract
 * verify` compares that upstream header with the tree's copy.
 *
 * What Xen's ring.h leaves to its includer, and where a FreeBSD kernel source
 * gets it: uint8_t (sys/types.h), offsetof (sys/stddef.h), memset
 * (sys/systm.h) and xen_mb(), xen_rmb(), xen_wmb() (xen/xen-os.h, in this
 * contract too).  The interface version is set (when the includer has not) so
 * that ring.h takes the barriers from xen/xen-os.h rather than defining them
 * as mb(), rmb() and wmb() itself.
 */
#ifndef XENDRVGEN_CONTRACT_FREEBSD_IO_RING_H
#define XENDRVGEN_CONTRACT_FREEBSD_IO_RING_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00030208
#endif

#include <xen-public/io/ring.h>

#endif /* XENDRVGEN_CONTRACT_FREEBSD_IO_RING_H */
