//! The platform-independent half of the iBFT test payload: the verdict on a table (the `ibft`
//! crate's strict parser and linter, plus the facts the end-to-end test compares), and the ACPI
//! walk (RSDP → XSDT → table by signature) over a memory reader.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod acpi;
pub mod ports;

use ibft::{Table, flags};

/// Why a table failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// The strict parser rejected it (what Linux's `iscsi_ibft` rejects, and more).
    Parse(ibft::Problem),
    /// The linter found this many error-severity defects.
    Lint(usize),
    /// No valid NIC or no valid target.
    Empty,
    /// The boot-selected target names a NIC record that does not exist.
    NicAssociation,
}

impl core::fmt::Display for Fail {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Parse(p) => write!(f, "parse: {p}"),
            Self::Lint(n) => write!(f, "lint: {n} error(s)"),
            Self::Empty => f.write_str("no valid NIC or target"),
            Self::NicAssociation => f.write_str("boot target's NIC association names no NIC"),
        }
    }
}

impl core::error::Error for Fail {}

/// What a table that passed says, in brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// NIC records with the valid flag.
    pub nics: usize,
    /// Target records with the valid flag.
    pub targets: usize,
    /// The first boot-selected NIC's MAC.
    pub boot_mac: [u8; 6],
    /// The first boot-selected NIC's PCI `bus << 8 | dev << 3 | fn`.
    pub boot_pci: u16,
    /// The NIC index the first boot-selected target is associated with.
    pub target_nic: u8,
    /// Lint warnings (not failures).
    pub warnings: usize,
}

impl core::fmt::Display for Summary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let m = self.boot_mac;
        write!(
            f,
            "nics={} targets={} boot-mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} boot-pci={:02x}:{:02x}.{} target-nic={} warnings={}",
            self.nics,
            self.targets,
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5],
            self.boot_pci >> 8,
            (self.boot_pci >> 3) & 0x1f,
            self.boot_pci & 7,
            self.target_nic,
            self.warnings
        )
    }
}

/// Judges `table` (exactly the table's bytes): strict parse, lint (findings go to `finding`),
/// then the facts the end-to-end test compares.
pub fn check(table: &[u8], finding: &mut impl FnMut(ibft::Finding)) -> Result<Summary, Fail> {
    let parsed = Table::parse(table).map_err(|e| Fail::Parse(e.0))?;
    let lint = ibft::lint(table, finding);
    if lint.errors > 0 {
        return Err(Fail::Lint(lint.errors));
    }
    let valid = |f: u8| f & flags::VALID != 0;
    let boot =
        |f: u8| f & (flags::VALID | flags::BOOT_SELECTED) == flags::VALID | flags::BOOT_SELECTED;
    let nics = parsed.nics().filter(|n| valid(n.flags)).count();
    let targets = parsed.targets().filter(|t| valid(t.flags)).count();
    if nics == 0 || targets == 0 {
        return Err(Fail::Empty);
    }
    let boot_nic = parsed.nics().find(|n| boot(n.flags));
    let boot_target = parsed.targets().find(|t| boot(t.flags));
    let target_nic = boot_target.map_or(0, |t| t.nic);
    if boot_target.is_some() && !parsed.nics().any(|n| n.index == target_nic) {
        return Err(Fail::NicAssociation);
    }
    Ok(Summary {
        nics,
        targets,
        boot_mac: boot_nic.map_or([0; 6], |n| n.config.mac),
        boot_pci: boot_nic
            .and_then(|n| n.config.pci)
            .map_or(0, |p| p.to_wire()),
        target_nic,
        warnings: lint.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-NIC, one-target table written by hand from the spec's offsets (ibft.md):
    /// header 48, control @0x30 (18), initiator @0x48 (74), NIC0 @0x98, NIC1 @0x100,
    /// target0 @0x168, strings from 0x1a0.
    fn hand_table() -> Vec<u8> {
        let mut t = vec![0u8; 0x1b0];
        t[0..4].copy_from_slice(b"iBFT");
        t[4..8].copy_from_slice(&(0x1b0u32).to_le_bytes());
        t[8] = 1;
        // control
        t[0x30..0x36].copy_from_slice(&[1, 1, 18, 0, 0, 0]);
        for (i, off) in [0x48u16, 0x98, 0x168, 0x100, 0].iter().enumerate() {
            t[0x38 + 2 * i..0x3a + 2 * i].copy_from_slice(&off.to_le_bytes());
        }
        // initiator
        t[0x48..0x4e].copy_from_slice(&[2, 1, 74, 0, 0, 3]);
        // NIC0: port 1, not boot
        t[0x98..0x9e].copy_from_slice(&[3, 1, 102, 0, 0, 1]);
        t[0x98 + 90..0x98 + 96].copy_from_slice(&[0x52, 0x54, 0, 0, 0, 1]);
        t[0x98 + 96] = 2 << 3;
        // NIC1: port 2, boot-selected
        t[0x100..0x106].copy_from_slice(&[3, 1, 102, 0, 1, 3]);
        t[0x100 + 90..0x100 + 96].copy_from_slice(&[0x52, 0x54, 0, 0, 0, 2]);
        t[0x100 + 96] = 3 << 3;
        // target0 via NIC1
        t[0x168..0x16e].copy_from_slice(&[4, 1, 54, 0, 0, 3]);
        t[0x168 + 33] = 1;
        t[0x168 + 6..0x168 + 22]
            .copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 3, 2]);
        t[0x168 + 22..0x168 + 24].copy_from_slice(&3260u16.to_le_bytes());
        // strings: initiator name @0x1a0, target name @0x1a8 (length excludes the NUL)
        t[0x48 + 70..0x48 + 74].copy_from_slice(&[5, 0, 0xa0, 0x01]);
        t[0x1a0..0x1a6].copy_from_slice(b"iqn.i\0");
        t[0x168 + 34..0x168 + 38].copy_from_slice(&[5, 0, 0xa8, 0x01]);
        t[0x1a8..0x1ae].copy_from_slice(b"iqn.t\0");
        fix_checksum(&mut t);
        t
    }

    fn fix_checksum(t: &mut [u8]) {
        t[9] = 0;
        let sum = t.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        t[9] = 0u8.wrapping_sub(sum);
    }

    #[test]
    fn hand_written_table_passes() {
        let s = check(&hand_table(), &mut |f| panic!("unexpected finding {f}")).unwrap();
        assert_eq!(s.nics, 2);
        assert_eq!(s.targets, 1);
        assert_eq!(s.boot_mac, [0x52, 0x54, 0, 0, 0, 2]);
        assert_eq!(s.boot_pci, 0x18);
        assert_eq!(s.target_nic, 1);
        assert_eq!(
            s.to_string(),
            "nics=2 targets=1 boot-mac=52:54:00:00:00:02 boot-pci=00:03.0 target-nic=1 warnings=0"
        );
    }

    #[test]
    fn each_defect_is_named() {
        let good = hand_table();
        let fails = |t: &[u8]| check(t, &mut |_| {}).unwrap_err();
        let mut t = good.clone();
        t[9] ^= 1;
        assert!(matches!(fails(&t), Fail::Parse(_)), "checksum");
        let mut t = good.clone();
        t[8] = 2;
        fix_checksum(&mut t);
        assert!(matches!(fails(&t), Fail::Parse(_)), "revision");
        let mut t = good.clone();
        t[0] = b'x';
        assert!(matches!(fails(&t), Fail::Parse(_)), "signature");
        assert!(matches!(fails(&good[..0x100]), Fail::Parse(_)), "length");
        let mut t = good.clone();
        t[0x100 + 4] = 0; // NIC1 index 0 duplicates NIC0
        fix_checksum(&mut t);
        assert!(
            matches!(fails(&t), Fail::Parse(_) | Fail::Lint(_)),
            "duplicate"
        );
        let mut t = good.clone();
        t[0x168 + 33] = 5;
        fix_checksum(&mut t);
        assert!(
            matches!(
                fails(&t),
                Fail::Parse(_) | Fail::Lint(_) | Fail::NicAssociation
            ),
            "association"
        );
        let mut t = good.clone();
        t[0x168 + 2] = 56;
        fix_checksum(&mut t);
        assert!(
            matches!(fails(&t), Fail::Parse(_) | Fail::Lint(_)),
            "length"
        );
        let mut t = good.clone();
        t[0x3a..0x3c].copy_from_slice(&0x1afu16.to_le_bytes());
        fix_checksum(&mut t);
        assert!(matches!(fails(&t), Fail::Parse(_)), "offset");
        let mut t = good;
        t[0x34] = 1; // control index must be 0
        fix_checksum(&mut t);
        assert!(
            matches!(fails(&t), Fail::Parse(_) | Fail::Lint(_)),
            "control"
        );
    }

    /// The hand table with DHCP-leased addresses written into both NIC records (IPv4-mapped
    /// address at offset 6, prefix at 22, origin at 23).
    fn table_with_addresses() -> Vec<u8> {
        let mut t = hand_table();
        for (nic, last) in [(0x98usize, 2u8), (0x100, 3)] {
            t[nic + 6..nic + 22]
                .copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, last, 15]);
            t[nic + 22] = 24;
            t[nic + 23] = 3;
        }
        fix_checksum(&mut t);
        t
    }

    fn machine() -> [ports::Port; 2] {
        let pci = |device| {
            Some(ibft::PciAddress {
                bus: 0,
                device,
                function: 0,
            })
        };
        [
            ports::Port {
                mac: [0x52, 0x54, 0, 0, 0, 1],
                pci: pci(2),
            },
            ports::Port {
                mac: [0x52, 0x54, 0, 0, 0, 2],
                pci: pci(3),
            },
        ]
    }

    const LEASES: &str = "e2e lease=52:54:00:00:00:01,10.0.2.15 lease=52:54:00:00:00:02,10.0.3.15";

    #[test]
    fn ports_match_the_machine() {
        let t = table_with_addresses();
        assert_eq!(ports::check_ports(&t, &machine(), LEASES, 1), Ok(2));
    }

    #[test]
    fn each_port_mismatch_is_named() {
        use ports::PortFail;
        let t = table_with_addresses();
        let mut m = machine();
        m[0].mac[5] = 9;
        assert_eq!(
            ports::check_ports(&t, &m, LEASES, 1),
            Err(PortFail::NoSuchMac(0))
        );
        let mut m = machine();
        m[1].pci = None;
        assert_eq!(ports::check_ports(&t, &m, LEASES, 1), Err(PortFail::Pci(1)));
        let wrong = "lease=52:54:00:00:00:01,10.0.2.16 lease=52:54:00:00:00:02,10.0.3.15";
        assert_eq!(
            ports::check_ports(&t, &machine(), wrong, 1),
            Err(PortFail::Address(0))
        );
        assert_eq!(
            ports::check_ports(&t, &machine(), "", 1),
            Err(PortFail::Address(0))
        );
        // The target uses NIC1, which is not the first port.
        assert_eq!(
            ports::check_ports(&t, &machine(), LEASES, 0),
            Err(PortFail::TargetNic(1))
        );
        assert_eq!(
            ports::check_ports(&t, &machine(), LEASES, 2),
            Err(PortFail::NoSanPort)
        );
        assert_eq!(
            ports::check_ports(&t[..20], &machine(), LEASES, 1),
            Err(PortFail::Parse)
        );
    }

    #[test]
    fn never_panics_on_truncations() {
        let good = hand_table();
        for n in 0..good.len() {
            let mut t = good[..n].to_vec();
            if t.len() >= 8 {
                t[4..8].copy_from_slice(&(n as u32).to_le_bytes());
                if t.len() >= 10 {
                    fix_checksum(&mut t);
                }
            }
            let _ = check(&t, &mut |_| {});
        }
    }
}
