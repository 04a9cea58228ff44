/*
 * xendrvgen OS API contract: Xen's public xen.h as NetBSD's kernel sees it
 * (sys/external/mit/xen-include-public/dist/xen/include/public/xen.h);
 * only the domain id type.
 */
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__

typedef uint16_t domid_t;

#endif /* __XEN_PUBLIC_XEN_H__ */
