/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/BaseLib.h (memory
  ordering).
**/
#ifndef __BASE_LIB__
#define __BASE_LIB__

VOID EFIAPI MemoryFence (VOID);

#endif
