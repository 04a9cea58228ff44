/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/PrintLib.h.
**/
#ifndef __PRINT_LIB_H__
#define __PRINT_LIB_H__

UINTN EFIAPI AsciiSPrint (CHAR8 *StartOfBuffer, UINTN BufferSize, CONST CHAR8 *FormatString, ...);

#endif
