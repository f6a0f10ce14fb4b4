//! `uefi-sanboot`: a UEFI application that attaches an iSCSI LUN as a local disk (Block I/O),
//! installs an iSCSI Boot Firmware Table (iBFT) describing the ports and the target, and
//! chain-loads the OS loader from the LUN. See `docs/sanboot.md`.
//!
//! Built for `x86_64-unknown-uefi`; on any other target this binary only explains that.
#![cfg_attr(target_os = "uefi", no_std, no_main)]

#[cfg(target_os = "uefi")]
extern crate alloc;

#[cfg(target_os = "uefi")]
mod efi;

#[cfg(target_os = "uefi")]
#[uefi::entry]
fn efi_main() -> uefi::Status {
    efi::run()
}

#[cfg(not(target_os = "uefi"))]
fn main() {
    eprintln!(
        "uefi-sanboot is a UEFI application: build it with \
         `cargo build --release --target x86_64-unknown-uefi -p uefi-sanboot` \
         and start it from the UEFI shell or a boot entry (see docs/sanboot.md)."
    );
    std::process::exit(2);
}

/// A panic is a bug: one fixed line, then power off (see `efi::halt_on_panic`). Not `uefi`'s
/// `panic_handler` feature: that one formats the message, which costs about 30 KB.
#[cfg(target_os = "uefi")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    efi::halt_on_panic()
}
