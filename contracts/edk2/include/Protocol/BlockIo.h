/** @file
  xendrvgen OS API contract: MdePkg/Include/Protocol/BlockIo.h, the block
  device interface the driver produces.
**/
#ifndef __BLOCK_IO_H__
#define __BLOCK_IO_H__

typedef struct _EFI_BLOCK_IO_PROTOCOL EFI_BLOCK_IO_PROTOCOL;

typedef EFI_STATUS (EFIAPI *EFI_BLOCK_RESET)(
  EFI_BLOCK_IO_PROTOCOL *This,
  BOOLEAN ExtendedVerification
  );

typedef EFI_STATUS (EFIAPI *EFI_BLOCK_READ)(
  EFI_BLOCK_IO_PROTOCOL *This,
  UINT32 MediaId,
  EFI_LBA Lba,
  UINTN BufferSize,
  VOID *Buffer
  );

typedef EFI_STATUS (EFIAPI *EFI_BLOCK_WRITE)(
  EFI_BLOCK_IO_PROTOCOL *This,
  UINT32 MediaId,
  EFI_LBA Lba,
  UINTN BufferSize,
  VOID *Buffer
  );

typedef EFI_STATUS (EFIAPI *EFI_BLOCK_FLUSH)(
  EFI_BLOCK_IO_PROTOCOL *This
  );

typedef struct {
  UINT32     MediaId;
  BOOLEAN    RemovableMedia;
  BOOLEAN    MediaPresent;
  BOOLEAN    LogicalPartition;
  BOOLEAN    ReadOnly;
  BOOLEAN    WriteCaching;
  UINT32     BlockSize;
  UINT32     IoAlign;
  EFI_LBA    LastBlock;
  EFI_LBA    LowestAlignedLba;
  UINT32     LogicalBlocksPerPhysicalBlock;
  UINT32     OptimalTransferLengthGranularity;
} EFI_BLOCK_IO_MEDIA;

#define EFI_BLOCK_IO_PROTOCOL_REVISION   0x00010000
#define EFI_BLOCK_IO_PROTOCOL_REVISION2  0x00020001
#define EFI_BLOCK_IO_PROTOCOL_REVISION3  0x0002001F

struct _EFI_BLOCK_IO_PROTOCOL {
  UINT64                Revision;
  EFI_BLOCK_IO_MEDIA    *Media;
  EFI_BLOCK_RESET       Reset;
  EFI_BLOCK_READ        ReadBlocks;
  EFI_BLOCK_WRITE       WriteBlocks;
  EFI_BLOCK_FLUSH       FlushBlocks;
};

extern EFI_GUID  gEfiBlockIoProtocolGuid;

#endif
