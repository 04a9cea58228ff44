/* The generated blkif.h includes "../grant_table.h": Xen's own, as installed. */
#include <xen/grant_table.h>
