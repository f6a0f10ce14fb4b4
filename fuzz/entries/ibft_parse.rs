//! Any bytes through the strict parser, the lenient decoder (and its dump) and the linter:
//! none may panic, loop without bound or allocate.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use core::fmt::Write;

/// A `fmt::Write` that only counts, so the dump is exercised without allocating.
struct Count(usize);

impl Write for Count {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let strict = ibft::Table::parse(data);
    let mut errors = 0usize;
    let lenient = ibft::Table::decode(data, &mut |p: ibft::Problem| {
        errors += usize::from(p.is_error())
    });
    // The strict parser accepts exactly the tables without error-severity problems.
    assert_eq!(strict.is_ok(), lenient.is_ok() && errors == 0);
    if let Ok(t) = lenient {
        let mut out = Count(0);
        let _ = write!(out, "{t}");
    }
    let mut out = Count(0);
    let summary = ibft::lint(data, &mut |f: ibft::Finding| {
        let _ = write!(out, "{f}");
    });
    // Every decoding error is also a lint error.
    assert!(summary.errors >= errors);
    let _ = ibft::find(data);
}
