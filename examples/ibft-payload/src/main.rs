//! `ibft-payload`: the stand-in OS loader the end-to-end test puts on the LUN as
//! `\EFI\BOOT\BOOTX64.EFI`. It finds the iBFT the way an OS does (RSDP from the configuration
//! table → XSDT → signature `iBFT`), prints one verdict line (`IBFT-OK …` or
//! `IBFT-FAIL <reason>`), checks that it can read files relative to itself (which needs the
//! `LoadedImage.DeviceHandle` a correct chain-load sets), and powers the machine off. The table
//! is judged by the `ibft` crate's strict parser and linter; each lint finding is printed as
//! `IBFT-LINT <finding>`.
//!
//! Built for `x86_64-unknown-uefi`; on any other target this binary only explains that.
#![cfg_attr(target_os = "uefi", no_std, no_main)]

#[cfg(target_os = "uefi")]
extern crate alloc;

#[cfg(target_os = "uefi")]
mod efi {
    use alloc::string::String;
    use alloc::vec::Vec;
    use ibft_payload::acpi::{PhysMem, find_table};
    use ibft_payload::ports::{Port, check_ports};
    use netstack_adapter::uefi::{port_handles, port_identity};
    use uefi::boot;
    use uefi::fs::FileSystem;
    use uefi::proto::loaded_image::LoadedImage;
    use uefi::runtime::{self, ResetType};
    use uefi::table::cfg::ConfigTableEntry;
    use uefi::{CString16, Status, println};

    /// Physical memory as firmware maps it during boot services: identity-mapped.
    struct Identity;

    impl PhysMem for Identity {
        fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
            if addr == 0 || addr.checked_add(len as u64)? > 1 << 48 {
                return None;
            }
            // SAFETY: before ExitBootServices UEFI identity-maps memory; the addresses come from
            // the firmware's own ACPI tables (RSDP, XSDT entries, table lengths), which point
            // at ACPI memory that stays mapped and unmodified while this program runs.
            Some(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
        }
    }

    fn rsdp() -> Option<u64> {
        uefi::system::with_config_table(|entries| {
            let by = |guid| entries.iter().find(|e| e.guid == guid);
            by(ConfigTableEntry::ACPI2_GUID)
                .or_else(|| by(ConfigTableEntry::ACPI_GUID))
                .map(|e| e.address as u64)
        })
    }

    /// Finds the iBFT and prints the verdict on it; returns the table when there is one.
    fn verdict() -> Option<&'static [u8]> {
        let Some(rsdp) = rsdp() else {
            println!("IBFT-FAIL no-acpi-configuration-table");
            return None;
        };
        match find_table(&Identity, rsdp, b"iBFT") {
            Err(e) => {
                println!("IBFT-FAIL {e}");
                None
            }
            Ok(table) => {
                let verdict = ibft_payload::check(table, &mut |finding| {
                    println!("IBFT-LINT {finding}");
                });
                match verdict {
                    Ok(summary) => println!("IBFT-OK {summary}"),
                    Err(e) => println!("IBFT-FAIL {e}"),
                }
                Some(table)
            }
        }
    }

    /// The machine's network ports as the firmware sees them, in PCI order.
    fn firmware_ports() -> Vec<Port> {
        let mut handles = [None; 8];
        let found = port_handles(&mut handles).unwrap_or(0);
        let mut ports: Vec<Port> = handles[..found]
            .iter()
            .flatten()
            .filter_map(|&h| port_identity(h).ok())
            .map(|id| Port {
                mac: id.permanent_mac,
                pci: id.pci,
            })
            .collect();
        ports.sort_by_key(|p| p.pci.map(|a| (a.bus, a.device, a.function)));
        ports
    }

    /// Compares the table's NIC records with the firmware's ports; the SAN port is the second.
    fn port_verdict(table: &[u8], options: &str) {
        let ports = firmware_ports();
        match check_ports(table, &ports, options, 1) {
            Ok(n) => println!("PORTS-OK nics={n} ports={}", ports.len()),
            Err(e) => println!("PORTS-FAIL {e}"),
        }
    }

    fn load_options() -> String {
        boot::open_protocol_exclusive::<LoadedImage>(boot::image_handle())
            .ok()
            .and_then(|li| li.load_options_as_cstr16().ok().map(String::from))
            .unwrap_or_default()
    }

    /// Reports the load options and reads a file relative to this image's own device.
    fn self_checks() {
        let image = boot::image_handle();
        if let Ok(li) = boot::open_protocol_exclusive::<LoadedImage>(image) {
            let args = li
                .load_options_as_cstr16()
                .map(String::from)
                .unwrap_or_default();
            println!("PAYLOAD-ARGS {args}");
            println!(
                "PAYLOAD-DEVICE {}",
                if li.device().is_some() {
                    "set"
                } else {
                    "missing"
                }
            );
        }
        let Ok(sfs) = boot::get_image_file_system(image) else {
            println!("PAYLOAD-READ FAIL no-file-system-on-own-device");
            return;
        };
        let mut fs = FileSystem::new(sfs);
        let Ok(path) = CString16::try_from("\\payload.bin") else {
            return;
        };
        let started = runtime::get_time().ok();
        match fs.read(path.as_ref()) {
            Ok(bytes) => {
                let ended = runtime::get_time().ok();
                let seconds = match (started, ended) {
                    (Some(a), Some(b)) => {
                        let secs = |t: uefi::runtime::Time| {
                            u32::from(t.hour()) * 3600
                                + u32::from(t.minute()) * 60
                                + u32::from(t.second())
                        };
                        secs(b).wrapping_sub(secs(a)) % 86_400
                    }
                    _ => 0,
                };
                let checksum = bytes
                    .iter()
                    .fold(0u32, |a, &b| a.wrapping_add(u32::from(b)));
                println!(
                    "PAYLOAD-READ \\payload.bin {} bytes sum {checksum:#x} in ~{seconds} s (RTC resolution)",
                    bytes.len()
                );
            }
            Err(_) => println!("PAYLOAD-READ none (no \\payload.bin)"),
        }
    }

    /// Prints the verdict and the self-checks, then powers off.
    pub fn run() -> Status {
        let options = load_options();
        if let Some(table) = verdict() {
            port_verdict(table, &options);
        }
        // `stall=N`: wait N seconds without touching the disk (the idle-session scenario).
        if let Some(secs) = options
            .split_ascii_whitespace()
            .find_map(|w| w.strip_prefix("stall=")?.parse::<usize>().ok())
        {
            println!("PAYLOAD-STALL {secs} s");
            boot::stall(core::time::Duration::from_secs(secs as u64));
        }
        self_checks();
        println!("PAYLOAD-DONE");
        runtime::reset(ResetType::SHUTDOWN, Status::SUCCESS, None)
    }
}

/// Prints the panic and powers off, as `uefi`'s `panic_handler` feature would. Defined here
/// because that feature is unified across the packages of one build, and `uefi-sanboot`
/// (built together with this payload) has its own, non-formatting handler.
#[cfg(target_os = "uefi")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    uefi::println!("[PANIC]: {info}");
    uefi::boot::stall(core::time::Duration::from_secs(10));
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
        "ibft-payload is a UEFI application: build it with \
         `cargo build --release --target x86_64-unknown-uefi -p ibft-payload` \
         (cargo xtask e2e puts it on the test LUN as \\EFI\\BOOT\\BOOTX64.EFI)."
    );
    std::process::exit(2);
}
