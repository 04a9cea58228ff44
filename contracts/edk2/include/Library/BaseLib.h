/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/BaseLib.h (memory
  ordering, 64-bit arithmetic that IA32 needs a library for, ASCII strings).
**/
#ifndef __BASE_LIB__
#define __BASE_LIB__

VOID EFIAPI MemoryFence (VOID);

UINT64 EFIAPI LShiftU64 (IN UINT64 Operand, IN UINTN Count);
UINT64 EFIAPI MultU64x32 (IN UINT64 Multiplicand, IN UINT32 Multiplier);
UINT64 EFIAPI DivU64x32 (IN UINT64 Dividend, IN UINT32 Divisor);

UINTN EFIAPI AsciiStrLen (IN CONST CHAR8 *String);

#endif
