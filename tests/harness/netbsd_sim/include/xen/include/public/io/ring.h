/* The generated blkif.h includes "ring.h": Xen's own, as installed (libxen-dev). */
#include <xen/io/ring.h>
