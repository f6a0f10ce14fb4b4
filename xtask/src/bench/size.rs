//! Footprint: the size of `uefi-sanboot.efi` (with iSCSI) as shipped — the `firmware` profile,
//! the release profile for UEFI images — next to Debian's iPXE `snponly.efi`, the smallest iPXE
//! that can `sanboot` over a firmware NIC; and the RAM one initiator session takes at queue
//! depth 8 (`cargo run --example footprint -p initiator`).

/// Debian's iPXE build, from package `ipxe`.
const SNPONLY: &str = "/usr/lib/ipxe/snponly.efi";

/// Byte sizes of ours and of snponly.efi.
pub(super) struct Sizes {
    pub(super) ours: u64,
    pub(super) snponly: u64,
}

/// Builds `uefi-sanboot` for x86_64-unknown-uefi as `cargo xtask e2e` does and measures both files.
pub(super) fn measure() -> Result<Sizes, String> {
    let ours = crate::build_firmware(&["uefi-sanboot"], Some("uefi-sanboot/iscsi"))?
        .join("uefi-sanboot.efi");
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

/// The parts of one session's RAM, in the order the footprint example prints them.
pub(super) struct SessionRam {
    pub(super) parts: Vec<(String, u64)>,
}

/// Runs the initiator's footprint example and reads its `name bytes` lines.
pub(super) fn session_ram() -> Result<SessionRam, String> {
    let out = std::process::Command::new("cargo")
        .args([
            "run",
            "-q",
            "--release",
            "-p",
            "initiator",
            "--example",
            "footprint",
        ])
        .current_dir(crate::workspace_root())
        .output()
        .map_err(|e| format!("cargo run --example footprint: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "footprint example failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let parts = parse_parts(&String::from_utf8_lossy(&out.stdout))?;
    Ok(SessionRam { parts })
}

fn parse_parts(text: &str) -> Result<Vec<(String, u64)>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (name, bytes) = l
                .split_once(' ')
                .ok_or_else(|| format!("footprint line without a value: {l:?}"))?;
            let bytes = bytes
                .trim()
                .parse()
                .map_err(|e| format!("footprint line {l:?}: {e}"))?;
            Ok((name.to_string(), bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_parts;

    #[test]
    fn reads_name_value_lines() {
        let parts = parse_parts("session 22608\nrx_buffer 65855\n\ntotal 88463\n").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], ("total".to_string(), 88463));
        assert!(parse_parts("session\n").is_err());
        assert!(parse_parts("session many\n").is_err());
    }
}
