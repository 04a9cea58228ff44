/** @file
  xendrvgen OS API contract: OvmfPkg/Include/IndustryStandard/Xen/xen.h
  (the domain id type).
**/
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__

typedef UINT16 domid_t;

#endif
