//! Progress output: one line per stage on the console (which firmware usually mirrors to the
//! serial port), in a fixed `sanboot: <stage>: <detail>` shape that logs can be grepped for.

use core::fmt;

/// Prints `sanboot: <stage>: <detail>`.
pub fn stage(stage: &str, detail: fmt::Arguments<'_>) {
    uefi::println!("sanboot: {stage}: {detail}");
}

/// Prints `sanboot: FAILED at <stage>: <cause>`, the one line a failed boot leaves.
pub fn failed(stage: &str, cause: fmt::Arguments<'_>) {
    uefi::println!("sanboot: FAILED at {stage}: {cause}");
}
