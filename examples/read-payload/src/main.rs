//! `read-payload`: the OS-loader stand-in of the sanboot benchmark. It prints
//! `read-payload: start` at once, allocates its buffer, prints `read-payload: reading \BIG.BIN`,
//! reads `\BIG.BIN` (64 MiB) whole from the volume it was
//! loaded from (LoadedImage → DeviceHandle → SimpleFileSystem), prints
//! `read-payload: read N bytes`, then the file's checksum and `read-payload: done`, and powers
//! the machine off so QEMU exits. The host times the lines as they appear on the serial port.
//!
//! Built for `x86_64-unknown-uefi`; on any other target this binary only explains that.
#![cfg_attr(target_os = "uefi", no_std, no_main)]

#[cfg(target_os = "uefi")]
extern crate alloc;

#[cfg(target_os = "uefi")]
mod efi {
    use alloc::vec;
    use read_payload::{
        DONE_LINE, FAIL_PREFIX, FILE, FILE_BYTES, OPEN_LINE, READ_PREFIX, START_LINE, SUM_PREFIX,
        checksum,
    };
    use uefi::proto::media::file::{File, FileAttribute, FileMode};
    use uefi::runtime::{self, ResetType};
    use uefi::{CString16, Status, boot, println};

    /// Reads the whole file into memory; the number of bytes read, or why not.
    fn read_all(buf: &mut [u8]) -> Result<usize, &'static str> {
        let mut sfs = boot::get_image_file_system(boot::image_handle())
            .map_err(|_| "no file system on the image's device")?;
        let mut root = sfs.open_volume().map_err(|_| "open volume")?;
        let name = CString16::try_from(FILE).map_err(|_| "file name")?;
        let mut file = root
            .open(&name, FileMode::Read, FileAttribute::empty())
            .map_err(|_| "file not found")?
            .into_regular_file()
            .ok_or("not a regular file")?;
        // One ReadFile for the whole file, as an OS loader reads a kernel; loop only in
        // case the file system returns less.
        let mut done = 0;
        while done < buf.len() {
            let rest = buf.get_mut(done..).ok_or("buffer")?;
            match file.read(rest) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => return Err("read error"),
            }
        }
        Ok(done)
    }

    /// Reads the file, prints the figures, powers off.
    pub fn run() -> Status {
        println!("{START_LINE}");
        let mut buf = vec![0u8; FILE_BYTES];
        println!("{OPEN_LINE}");
        match read_all(&mut buf) {
            Ok(n) => {
                println!("{READ_PREFIX}{n} bytes");
                let sum = checksum(buf.get(..n).unwrap_or_default());
                println!("{SUM_PREFIX}{sum:#018x}");
            }
            Err(e) => println!("{FAIL_PREFIX}{e}"),
        }
        println!("{DONE_LINE}");
        runtime::reset(ResetType::SHUTDOWN, Status::SUCCESS, None)
    }
}

/// Prints the panic and powers off, so QEMU exits and the benchmark sees no done line. Not
/// `uefi`'s `panic_handler` feature: features are unified across the packages of one build,
/// and `uefi-sanboot` (built together with this payload) has its own handler.
#[cfg(target_os = "uefi")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    uefi::println!("{}panic: {info}", read_payload::FAIL_PREFIX);
    uefi::runtime::reset(
        uefi::runtime::ResetType::SHUTDOWN,
        uefi::Status::ABORTED,
        None,
    )
}

#[cfg(target_os = "uefi")]
#[uefi::entry]
fn efi_main() -> uefi::Status {
    efi::run()
}

#[cfg(not(target_os = "uefi"))]
fn main() {
    eprintln!(
        "read-payload is a UEFI application: `cargo xtask bench --only sanboot` builds it for \
         x86_64-unknown-uefi and puts it on the benchmark LUN as \\EFI\\BOOT\\BOOTX64.EFI."
    );
    std::process::exit(2);
}
