//! Replays every checked-in fuzz corpus file through the same entry points the cargo-fuzz
//! targets call, so CI exercises the corpora (and every crash ever minimised into them) on the
//! stable toolchain. `cargo xtask fuzz` grows the corpora with the real fuzzers on nightly.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/entries/addr_parse.rs"]
#[allow(dead_code)]
mod addr_parse;
#[path = "../../fuzz/entries/chap_value.rs"]
#[allow(dead_code)]
mod chap_value;
#[path = "../../fuzz/entries/frame_checksums.rs"]
#[allow(dead_code)]
mod frame_checksums;
#[path = "../../fuzz/entries/ibft_parse.rs"]
#[allow(dead_code)]
mod ibft_parse;
#[path = "../../fuzz/entries/ibft_payload_check.rs"]
#[allow(dead_code)]
mod ibft_payload_check;
#[path = "../../fuzz/entries/pdu_parse.rs"]
#[allow(dead_code)]
mod pdu_parse;
#[path = "../../fuzz/entries/sanboot_config.rs"]
#[allow(dead_code)]
mod sanboot_config;
#[path = "../../fuzz/entries/sense_parse.rs"]
#[allow(dead_code)]
mod sense_parse;
#[path = "../../fuzz/entries/session_input.rs"]
#[allow(dead_code)]
mod session_input;
#[path = "../../fuzz/entries/text_parse.rs"]
#[allow(dead_code)]
mod text_parse;

/// A fuzz target's entry point.
type Entry = fn(&[u8]);

/// Every fuzz target by name, with its entry point.
const TARGETS: &[(&str, Entry)] = &[
    ("addr_parse", addr_parse::run),
    ("chap_value", chap_value::run),
    ("frame_checksums", frame_checksums::run),
    ("ibft_parse", ibft_parse::run),
    ("ibft_payload_check", ibft_payload_check::run),
    ("pdu_parse", pdu_parse::run),
    ("sanboot_config", sanboot_config::run),
    ("sense_parse", sense_parse::run),
    ("session_input", session_input::run),
    ("text_parse", text_parse::run),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn every_fuzz_target_has_an_entry_and_a_corpus() {
    let mut names: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| {
            let path = e.expect("entry").path();
            path.file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut known: Vec<&str> = TARGETS.iter().map(|t| t.0).collect();
    known.sort_unstable();
    assert_eq!(names, known, "fuzz targets and replay entries differ");
    for name in names {
        assert!(
            fuzz_dir().join("corpus").join(&name).is_dir(),
            "no corpus for {name}"
        );
    }
}

#[test]
fn replay_every_corpus() {
    let mut total = 0usize;
    for (name, run) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in &files {
            let data = std::fs::read(file).expect("read corpus file");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", file.display());
        }
        assert!(!files.is_empty(), "{name}: empty corpus");
        eprintln!("{name}: {} inputs replayed", files.len());
        total += files.len();
    }
    eprintln!("{total} corpus inputs replayed");
}
