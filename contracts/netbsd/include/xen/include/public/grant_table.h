/*
 * xendrvgen OS API contract: Xen's public grant_table.h, as NetBSD's kernel
 * includes it: the grant reference and handle types.
 */
#ifndef __XEN_PUBLIC_GRANT_TABLE_H__
#define __XEN_PUBLIC_GRANT_TABLE_H__

#include <xen/include/public/xen.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

#endif /* __XEN_PUBLIC_GRANT_TABLE_H__ */
