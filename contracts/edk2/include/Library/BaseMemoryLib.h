/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/BaseMemoryLib.h.
**/
#ifndef __BASE_MEMORY_LIB__
#define __BASE_MEMORY_LIB__

VOID * EFIAPI CopyMem (VOID *DestinationBuffer, CONST VOID *SourceBuffer, UINTN Length);
VOID * EFIAPI ZeroMem (VOID *Buffer, UINTN Length);
// Used by the contract ring.h, for the memset() of Xen's SHARED_RING_INIT.
VOID * EFIAPI SetMem (VOID *Buffer, UINTN Length, UINT8 Value);

#endif
