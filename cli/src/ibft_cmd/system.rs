//! The running machine: its firmware's iBFT and the ports the NIC records name (Linux sysfs).

use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use ibft::{NicRepr, Table};

/// Reads the firmware table from `<sysfs>/firmware/acpi/tables/{iBFT,IBFT,BIFT}`.
pub fn read_table(sysfs: &Path) -> Result<(String, Vec<u8>), String> {
    let dir = sysfs.join("firmware/acpi/tables");
    for name in ["iBFT", "IBFT", "BIFT"] {
        let p = dir.join(name);
        if let Ok(bytes) = fs::read(&p) {
            return Ok((p.display().to_string(), bytes));
        }
    }
    Err(format!(
        "no iBFT in {} (the firmware did not boot from iSCSI, or reading it needs root)",
        dir.display()
    ))
}

/// A mismatch between a NIC record and the live machine.
#[derive(Debug)]
pub struct SystemFinding {
    /// Stable code.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// What differs.
    pub message: String,
    /// The symptom.
    pub explanation: &'static str,
}

impl std::fmt::Display for SystemFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} -- {}",
            self.code, self.severity, self.message, self.explanation
        )
    }
}

fn fmt_mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Compares each NIC record with the port at its PCI address, and lists PCI network ports
/// the table leaves out; skips what the machine cannot tell (no such device, no network
/// interface, no `ip` tool).
pub fn cross_check(table: &Table<'_>, sysfs: &Path) -> Vec<SystemFinding> {
    let mut out = Vec::new();
    for nic in table.nics() {
        check_nic(&nic, sysfs, &mut out);
    }
    missing_ports(table, sysfs, &mut out);
    out
}

/// PCI functions (domain 0) that have a network interface but no NIC record.
fn missing_ports(table: &Table<'_>, sysfs: &Path, out: &mut Vec<SystemFinding>) {
    let recorded: Vec<String> = table
        .nics()
        .filter_map(|n| n.config.pci)
        .map(|p| format!("0000:{p}"))
        .collect();
    if recorded.is_empty() {
        return;
    }
    let Ok(devices) = fs::read_dir(sysfs.join("bus/pci/devices")) else {
        return;
    };
    let mut missing: Vec<(String, String)> = devices
        .flatten()
        .filter_map(|d| {
            let name = d.file_name().to_string_lossy().into_owned();
            let iface = fs::read_dir(d.path().join("net")).ok()?.flatten().next()?;
            let iface = iface.file_name().to_string_lossy().into_owned();
            (name.starts_with("0000:") && !recorded.contains(&name)).then_some((name, iface))
        })
        .collect();
    missing.sort();
    for (pci, iface) in missing {
        out.push(SystemFinding {
            code: "IBFT103",
            severity: "warning",
            message: format!("port {iface} (PCI {}) has no NIC record", &pci[5..]),
            explanation: "Windows disables NICs missing from the table and loses its boot path when NIC order changes",
        });
    }
}

fn check_nic(nic: &NicRepr<'_>, sysfs: &Path, out: &mut Vec<SystemFinding>) {
    let Some(pci) = nic.config.pci else { return };
    let dev = sysfs.join(format!("bus/pci/devices/0000:{pci}/net"));
    let Ok(entries) = fs::read_dir(&dev) else {
        return;
    };
    let ifaces: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|e| {
            let mac = fs::read_to_string(e.path().join("address")).ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                mac.trim().to_ascii_lowercase(),
            ))
        })
        .collect();
    if ifaces.is_empty() {
        return;
    }
    let want = fmt_mac(nic.config.mac);
    let Some((iface, _)) = ifaces.iter().find(|(_, m)| *m == want) else {
        let (iface, have) = &ifaces[0];
        out.push(SystemFinding {
            code: "IBFT101",
            severity: "error",
            message: format!("nic{}: MAC {want}, but PCI {pci} ({iface}) has {have}", nic.slot),
            explanation: "MAC and PCI address name different ports: the OS configures the wrong port and the hand-off fails",
        });
        return;
    };
    let Some(addr) = nic.config.address else {
        return;
    };
    let Some(have) = live_addresses(iface) else {
        return;
    };
    if !have.is_empty() && !have.contains(&addr.addr) {
        let list: Vec<String> = have.iter().map(IpAddr::to_string).collect();
        out.push(SystemFinding {
            code: "IBFT102",
            severity: "warning",
            message: format!("nic{}: address {} is not on {iface} (it has {})", nic.slot, addr.addr, list.join(", ")),
            explanation: "the record's address belongs to another port or lease: the OS may bring up the wrong address",
        });
    }
}

/// Addresses of `iface` from `ip -o addr show dev IFACE`; `None` when that cannot be told.
fn live_addresses(iface: &str) -> Option<Vec<IpAddr>> {
    let out = Command::new("ip")
        .args(["-o", "addr", "show", "dev", iface])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet" || *w == "inet6")?;
                words.next()?.split('/').next()?.parse().ok()
            })
            .collect(),
    )
}
