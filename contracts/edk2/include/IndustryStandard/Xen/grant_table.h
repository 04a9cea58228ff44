/** @file
  xendrvgen OS API contract: OvmfPkg/Include/IndustryStandard/Xen/
  grant_table.h (the grant reference type).
**/
#ifndef __XEN_PUBLIC_GRANT_TABLE_H__
#define __XEN_PUBLIC_GRANT_TABLE_H__

#include <IndustryStandard/Xen/xen.h>

typedef UINT32 grant_ref_t;

#endif
