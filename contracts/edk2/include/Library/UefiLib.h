/** @file
  xendrvgen OS API contract: MdePkg/Include/Library/UefiLib.h (driver
  binding installation).
**/
#ifndef __UEFI_LIB_H__
#define __UEFI_LIB_H__

#include <Protocol/DriverBinding.h>

EFI_STATUS
EFIAPI
EfiLibInstallDriverBinding (
  CONST EFI_HANDLE             ImageHandle,
  CONST EFI_SYSTEM_TABLE       *SystemTable,
  EFI_DRIVER_BINDING_PROTOCOL  *DriverBinding,
  EFI_HANDLE                   DriverBindingHandle
  );

#endif
