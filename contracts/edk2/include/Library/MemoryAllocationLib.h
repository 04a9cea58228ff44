/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/MemoryAllocationLib.h.
**/
#ifndef __MEMORY_ALLOCATION_LIB_H__
#define __MEMORY_ALLOCATION_LIB_H__

VOID * EFIAPI AllocatePages (UINTN Pages);
VOID EFIAPI FreePages (VOID *Buffer, UINTN Pages);
VOID * EFIAPI AllocateZeroPool (UINTN AllocationSize);
VOID EFIAPI FreePool (VOID *Buffer);

#endif
