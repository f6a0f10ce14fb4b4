//! The sanboot configuration parsers (file, command line, root path, MAC) and the SMBIOS walk
//! must return typed errors, never panic, on any input.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use sanboot::config::Config;
use sanboot::root_path::RootPath;

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let _ = sanboot::smbios::system_uuid(data);
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(cfg) = Config::from_file(text) {
            for rp in cfg.root_paths() {
                let _ = rp.sam_lun();
            }
        }
        let _ = Config::from_args(text);
        let _ = RootPath::parse(text);
        let _ = text.parse::<sanboot::mac::Mac>();
    }
}
