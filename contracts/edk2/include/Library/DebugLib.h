/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/DebugLib.h (the DEBUG
  and ASSERT macros as a build without MDEPKG_NDEBUG expands them, and the
  functions they call).
**/
#ifndef __DEBUG_LIB_H__
#define __DEBUG_LIB_H__

#define DEBUG_INFO     0x00000040
#define DEBUG_ERROR    0x80000000

VOID EFIAPI DebugPrint (UINTN ErrorLevel, CONST CHAR8 *Format, ...);
VOID EFIAPI DebugAssert (CONST CHAR8 *FileName, UINTN LineNumber, CONST CHAR8 *Description);
BOOLEAN EFIAPI DebugAssertEnabled (VOID);
BOOLEAN EFIAPI DebugPrintEnabled (VOID);
BOOLEAN EFIAPI DebugPrintLevelEnabled (CONST UINTN ErrorLevel);

#define DEBUG_LINE_NUMBER  __LINE__
#define DEBUG_EXPRESSION_STRING(Expression)  #Expression

#if defined (__FILE_NAME__)
#define _ASSERT(Expression)  DebugAssert (__FILE_NAME__, DEBUG_LINE_NUMBER, DEBUG_EXPRESSION_STRING (Expression))
#else
#define _ASSERT(Expression)  DebugAssert (__FILE__, DEBUG_LINE_NUMBER, DEBUG_EXPRESSION_STRING (Expression))
#endif

#define _DEBUG_PRINT(PrintLevel, ...) \
    do { \
      if (DebugPrintLevelEnabled (PrintLevel)) { \
        DebugPrint (PrintLevel, ##__VA_ARGS__); \
      } \
    } while (FALSE)
#define _DEBUGLIB_DEBUG(Expression)  _DEBUG_PRINT Expression

#define ASSERT(Expression) \
    do { \
      if (DebugAssertEnabled ()) { \
        if (!(Expression)) { \
          _ASSERT (Expression); \
          ANALYZER_UNREACHABLE (); \
        } \
      } \
    } while (FALSE)

#define DEBUG(Expression) \
    do { \
      if (DebugPrintEnabled ()) { \
        _DEBUGLIB_DEBUG (Expression); \
      } \
    } while (FALSE)

#endif
