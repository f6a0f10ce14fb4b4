//! The size of the release `uefi-sanboot.efi` (with iSCSI) next to Debian's iPXE `snponly.efi`,
//! the smallest iPXE that can `sanboot` over a firmware NIC.

use std::path::PathBuf;

/// Debian's iPXE build, from package `ipxe`.
const SNPONLY: &str = "/usr/lib/ipxe/snponly.efi";

/// Byte sizes of ours and of snponly.efi.
pub(super) struct Sizes {
    pub(super) ours: u64,
    pub(super) snponly: u64,
}

/// Builds `uefi-sanboot` for x86_64-unknown-uefi in release mode and measures both files.
pub(super) fn measure() -> Result<Sizes, String> {
    crate::run(
        "cargo",
        &[
            "build",
            "--release",
            "--target",
            "x86_64-unknown-uefi",
            "-p",
            "uefi-sanboot",
            "--features",
            "uefi-sanboot/iscsi",
        ],
    )?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let ours = target_dir.join("x86_64-unknown-uefi/release/uefi-sanboot.efi");
    let len = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e} (package ipxe for snponly.efi)", p.display()))
    };
    Ok(Sizes {
        ours: len(&ours)?,
        snponly: len(std::path::Path::new(SNPONLY))?,
    })
}
