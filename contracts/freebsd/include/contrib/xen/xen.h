/*
 * xendrvgen OS API contract: the part of Xen's public xen.h that FreeBSD's
 * kernel headers expose to the generated drivers (sys/contrib/xen/xen.h).
 */
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__

typedef uint16_t domid_t;

#define DOMID_SELF  (0x7FF0U)

#endif /* __XEN_PUBLIC_XEN_H__ */
