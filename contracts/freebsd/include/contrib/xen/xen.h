/*
 * xendrvgen OS API contract: the part of Xen's public xen.h that FreeBSD's
 * kernel headers expose to the generated drivers (sys/contrib/xen/xen.h).
 */
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__

/* The tree spells its unsigned domain-id constants with these helpers. */
#define __xen_mk_uint(x)  x ## U
#define xen_mk_uint(x)    __xen_mk_uint(x)

#define DOMID_SELF  xen_mk_uint(0x7FF0)

typedef uint16_t domid_t;

#endif /* __XEN_PUBLIC_XEN_H__ */
