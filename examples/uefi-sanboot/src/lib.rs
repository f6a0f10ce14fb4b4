//! The platform-independent parts of the `uefi-sanboot` application: configuration, root-path
//! parsing, the block-device backend trait and a RAM-disk backend. They build and are tested on
//! the host; the UEFI glue lives in the binary (`src/main.rs` and `src/efi/`).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod block;
pub mod config;
pub mod ibft_table;
pub mod lun_disk;
pub mod mac;
pub mod naming;
pub mod root_path;
pub mod small_sort;
pub mod smbios;
