/** @file
  xendrvgen OS API contract: OvmfPkg/Include/IndustryStandard/Xen/
  event_channel.h (the event channel port type).
**/
#ifndef __XEN_PUBLIC_EVENT_CHANNEL_H__
#define __XEN_PUBLIC_EVENT_CHANNEL_H__

#include <IndustryStandard/Xen/xen.h>

typedef UINT32 evtchn_port_t;

#endif
