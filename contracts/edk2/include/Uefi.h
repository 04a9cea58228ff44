/** @file
  xendrvgen OS API contract: the EDK2 base types and UEFI services the
  generated XenPvBlkDxe-style driver uses.

  In an edk2 tree these come from MdePkg/Include/Base.h,
  MdePkg/Include/X64/ProcessorBind.h (Ia32/ for IA32), MdePkg/Include/Uefi/UefiBaseType.h,
  MdePkg/Include/Uefi/UefiSpec.h and MdePkg/Include/Uefi.h.  The contract
  keeps their names and types; EFI_BOOT_SERVICES and EFI_SYSTEM_TABLE list
  only the members the driver calls (`xendrvgen contract verify` checks each
  against the tree).
**/
#ifndef __XENDRVGEN_CONTRACT_UEFI_H__
#define __XENDRVGEN_CONTRACT_UEFI_H__

typedef unsigned long long  UINT64;
typedef long long           INT64;
typedef unsigned int        UINT32;
typedef int                 INT32;
typedef unsigned short      UINT16;
typedef unsigned short      CHAR16;
typedef short               INT16;
typedef unsigned char       BOOLEAN;
typedef unsigned char       UINT8;
typedef char                CHAR8;
typedef signed char         INT8;
#if defined (__x86_64__) || defined (__aarch64__)
typedef UINT64  UINTN;
typedef INT64   INTN;
#else
typedef UINT32  UINTN;
typedef INT32   INTN;
#endif

/* ProcessorBind.h of each architecture (X64/, Ia32/) names its CPU. */
#if defined (__x86_64__)
#define MDE_CPU_X64
#elif defined (__i386__)
#define MDE_CPU_IA32
#endif

#define VOID      void
#define CONST     const
#define STATIC    static
#define IN
#define OUT
#define OPTIONAL
#define TRUE   ((BOOLEAN)(1==1))
#define FALSE  ((BOOLEAN)(0==1))
#define NULL   ((VOID *) 0)

/* As in the tree, EFIAPI is empty unless the build defines it; EDK2's GCC
   and CLANG X64 builds pass -DEFIAPI=__attribute__((ms_abi)). */
#ifndef EFIAPI
#define EFIAPI
#endif

#define ANALYZER_UNREACHABLE()

/* Base.h: limits, compile-time checks, and structure helpers (GCC/CLANG forms). */
#define MAX_UINT32  ((UINT32)0xFFFFFFFF)
#define MAX_UINT64  ((UINT64)0xFFFFFFFFFFFFFFFFULL)

#define STATIC_ASSERT  _Static_assert
#define ALIGNOF(TYPE)  _Alignof (TYPE)
#define OFFSET_OF(TYPE, Field)  ((UINTN) __builtin_offsetof(TYPE, Field))
#define BASE_CR(Record, TYPE, Field)  ((TYPE *) (VOID *) ((CHAR8 *) (Record) - OFFSET_OF (TYPE, Field)))

#define MAX(a, b)  \
  (((a) > (b)) ? (a) : (b))
#define MIN(a, b)  \
  (((a) < (b)) ? (a) : (b))

#define SIGNATURE_16(A, B)        ((A) | (B << 8))
#define SIGNATURE_32(A, B, C, D)  (SIGNATURE_16 (A, B) | (SIGNATURE_16 (C, D) << 16))

#if defined (__x86_64__) || defined (__aarch64__)
#define MAX_BIT      0x8000000000000000ULL
#else
#define MAX_BIT      0x80000000
#endif
#define ENCODE_ERROR(StatusCode)  ((RETURN_STATUS)(MAX_BIT | (StatusCode)))
#define RETURN_ERROR(StatusCode)  (((RETURN_STATUS)(StatusCode)) >= MAX_BIT)

typedef UINTN RETURN_STATUS;
typedef RETURN_STATUS EFI_STATUS;
typedef VOID *EFI_HANDLE;
typedef VOID *EFI_EVENT;
typedef UINT64 EFI_LBA;
typedef UINT64 EFI_PHYSICAL_ADDRESS;
typedef UINTN EFI_TPL;

typedef struct {
  UINT32    Data1;
  UINT16    Data2;
  UINT16    Data3;
  UINT8     Data4[8];
} GUID;
typedef GUID EFI_GUID;

#define RETURN_SUCCESS            (RETURN_STATUS)(0)
#define EFI_SUCCESS               RETURN_SUCCESS
#define EFI_INVALID_PARAMETER     ENCODE_ERROR (2)
#define EFI_UNSUPPORTED           ENCODE_ERROR (3)
#define EFI_BAD_BUFFER_SIZE       ENCODE_ERROR (4)
#define EFI_BUFFER_TOO_SMALL      ENCODE_ERROR (5)
#define EFI_NOT_READY             ENCODE_ERROR (6)
#define EFI_DEVICE_ERROR          ENCODE_ERROR (7)
#define EFI_WRITE_PROTECTED       ENCODE_ERROR (8)
#define EFI_OUT_OF_RESOURCES      ENCODE_ERROR (9)
#define EFI_NO_MEDIA              ENCODE_ERROR (12)
#define EFI_MEDIA_CHANGED         ENCODE_ERROR (13)
#define EFI_NOT_FOUND             ENCODE_ERROR (14)
#define EFI_TIMEOUT               ENCODE_ERROR (18)
#define EFI_ALREADY_STARTED       ENCODE_ERROR (20)
#define EFI_ERROR(A)              RETURN_ERROR(A)

#define EFI_PAGE_SIZE   0x1000
#define EFI_PAGE_MASK   0xFFF
#define EFI_PAGE_SHIFT  12
#define EFI_SIZE_TO_PAGES(Size)  (((Size) >> EFI_PAGE_SHIFT) + (((Size) & EFI_PAGE_MASK) ? 1 : 0))

#define EFI_OPEN_PROTOCOL_BY_DRIVER     0x00000010
#define EFI_OPEN_PROTOCOL_GET_PROTOCOL  0x00000002

typedef struct {
  UINT8    Type;
  UINT8    SubType;
  UINT8    Length[2];
} EFI_DEVICE_PATH_PROTOCOL;

/* UefiSpec.h: events and task priority levels (for the ExitBootServices event). */
#define EVT_SIGNAL_EXIT_BOOT_SERVICES  0x00000201

#define TPL_CALLBACK  8
#define TPL_NOTIFY    16

typedef struct {
  UINT64    Signature;
  UINT32    Revision;
  UINT32    HeaderSize;
  UINT32    CRC32;
  UINT32    Reserved;
} EFI_TABLE_HEADER;

typedef
VOID
(EFIAPI *EFI_EVENT_NOTIFY)(
  IN  EFI_EVENT                Event,
  IN  VOID                     *Context
  );

typedef
EFI_STATUS
(EFIAPI *EFI_CREATE_EVENT)(
  IN  UINT32                       Type,
  IN  EFI_TPL                      NotifyTpl,
  IN  EFI_EVENT_NOTIFY             NotifyFunction OPTIONAL,
  IN  VOID                         *NotifyContext OPTIONAL,
  OUT EFI_EVENT                    *Event
  );

typedef
EFI_STATUS
(EFIAPI *EFI_CLOSE_EVENT)(
  IN EFI_EVENT                Event
  );

typedef
EFI_STATUS
(EFIAPI *EFI_STALL)(
  IN  UINTN                    Microseconds
  );

typedef
EFI_STATUS
(EFIAPI *EFI_OPEN_PROTOCOL)(
  IN  EFI_HANDLE                Handle,
  IN  EFI_GUID                  *Protocol,
  OUT VOID                      **Interface  OPTIONAL,
  IN  EFI_HANDLE                AgentHandle,
  IN  EFI_HANDLE                ControllerHandle,
  IN  UINT32                    Attributes
  );

typedef
EFI_STATUS
(EFIAPI *EFI_CLOSE_PROTOCOL)(
  IN EFI_HANDLE               Handle,
  IN EFI_GUID                 *Protocol,
  IN EFI_HANDLE               AgentHandle,
  IN EFI_HANDLE               ControllerHandle
  );

typedef
EFI_STATUS
(EFIAPI *EFI_INSTALL_MULTIPLE_PROTOCOL_INTERFACES)(
  IN OUT EFI_HANDLE           *Handle,
  ...
  );

typedef
EFI_STATUS
(EFIAPI *EFI_UNINSTALL_MULTIPLE_PROTOCOL_INTERFACES)(
  IN EFI_HANDLE           Handle,
  ...
  );

typedef struct {
  EFI_TABLE_HEADER                              Hdr;
  EFI_CREATE_EVENT                              CreateEvent;
  EFI_CLOSE_EVENT                               CloseEvent;
  EFI_STALL                                     Stall;
  EFI_OPEN_PROTOCOL                             OpenProtocol;
  EFI_CLOSE_PROTOCOL                            CloseProtocol;
  EFI_INSTALL_MULTIPLE_PROTOCOL_INTERFACES      InstallMultipleProtocolInterfaces;
  EFI_UNINSTALL_MULTIPLE_PROTOCOL_INTERFACES    UninstallMultipleProtocolInterfaces;
} EFI_BOOT_SERVICES;

typedef struct {
  EFI_TABLE_HEADER     Hdr;
  EFI_BOOT_SERVICES    *BootServices;
} EFI_SYSTEM_TABLE;

#endif
