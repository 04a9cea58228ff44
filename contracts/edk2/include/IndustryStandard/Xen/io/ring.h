/** @file
  xendrvgen OS API contract: OvmfPkg/Include/IndustryStandard/Xen/io/ring.h.

  OvmfPkg's ring.h is a port of Xen's public io/ring.h.  This contract does
  not restate the ring types and macros: it includes Xen's own io/ring.h as
  installed on the build machine (Debian's libxen-dev, /usr/include/xen),
  which the compile runners link into their work directory as xen-public/ and
  search with -idirafter.  `xendrvgen contract verify` compares that upstream
  header with the tree's port; the port's differences (EDK2 types, ZeroMem
  for memset, the `private` union of older Xen releases for `pvt`) are
  reported as notes.

  Here, written for EDK2, is what Xen's ring.h leaves to its includer:
  uint8_t, offsetof and memset in EDK2's terms, and the barriers xen_mb(),
  xen_rmb() and xen_wmb() (MemoryFence () unless the includer has defined
  them).  The interface version is set (when the includer has not) so that
  ring.h leaves the barriers to its includer rather than defining them as
  mb(), rmb() and wmb().
**/
#ifndef XENDRVGEN_CONTRACT_EDK2_IO_RING_H_
#define XENDRVGEN_CONTRACT_EDK2_IO_RING_H_

#include <Uefi.h>
#include <Library/BaseLib.h>
#include <Library/BaseMemoryLib.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00030208
#endif

typedef UINT8 uint8_t;

#ifndef offsetof
#define offsetof(Type, Field)  OFFSET_OF (Type, Field)
#endif

#ifndef memset
#define memset(Buffer, Value, Length)  SetMem ((Buffer), (Length), (UINT8)(Value))
#endif

#ifndef xen_mb
#define xen_mb()   MemoryFence ()
#define xen_rmb()  MemoryFence ()
#define xen_wmb()  MemoryFence ()
#endif

#include <xen-public/io/ring.h>

#endif
