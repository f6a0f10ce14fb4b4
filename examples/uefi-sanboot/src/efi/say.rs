//! Progress output: one line per stage on the console (which firmware usually mirrors to the
//! serial port), in a fixed `sanboot: <stage>: <detail>` shape that logs can be grepped for.

use core::fmt;

/// Prints `sanboot: <stage>: <detail>`.
pub fn stage(stage: &str, detail: fmt::Arguments<'_>) {
    uefi::println!("sanboot: {stage}: {detail}");
}

/// Prints `sanboot: FAILED at <stage>: <cause>`, the one line a failed boot leaves.
pub fn failed(stage: &str, cause: &str) {
    uefi::println!("sanboot: FAILED at {stage}: {cause}");
}

/// `<what>: <status>`: the cause of a failed firmware call. Out of line, so the formatting
/// is compiled once for every such cause (a smaller image, docs/sanboot.md "Footprint").
#[inline(never)]
pub fn status_cause(what: &str, status: uefi::Status) -> alloc::string::String {
    alloc::format!("{what}: {}", StatusText(status))
}

/// A UEFI status as the console shows it: the spec's name for the errors a boot runs into,
/// else the raw value in hex. (`Status`'s `Debug` names all of them, at 1.5 KB more.)
pub struct StatusText(pub uefi::Status);

impl fmt::Display for StatusText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use uefi::Status as S;
        let name = match self.0 {
            S::SUCCESS => "SUCCESS",
            S::LOAD_ERROR => "LOAD_ERROR",
            S::INVALID_PARAMETER => "INVALID_PARAMETER",
            S::UNSUPPORTED => "UNSUPPORTED",
            S::BUFFER_TOO_SMALL => "BUFFER_TOO_SMALL",
            S::DEVICE_ERROR => "DEVICE_ERROR",
            S::OUT_OF_RESOURCES => "OUT_OF_RESOURCES",
            S::NOT_FOUND => "NOT_FOUND",
            S::ACCESS_DENIED => "ACCESS_DENIED",
            S::ALREADY_STARTED => "ALREADY_STARTED",
            S::ABORTED => "ABORTED",
            S::SECURITY_VIOLATION => "SECURITY_VIOLATION",
            other => return write!(f, "status {:#x}", other.0),
        };
        f.write_str(name)
    }
}
