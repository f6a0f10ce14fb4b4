//! The platform-independent half of the iBFT test payload: a strict reading of an iBFT into a
//! one-line verdict, and the ACPI walk (RSDP → XSDT → table by signature) over a memory reader.
//!
//! PLACEHOLDER for the table reading: `check` is a minimal reader kept until the `ibft` crate's
//! parser is available; it checks what Linux's `iscsi_ibft` checks (revision, checksum, control
//! structure, exact structure lengths, offsets inside the table, duplicate indices) and that
//! each target's NIC association names a NIC record.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod acpi;

/// Why a table failed the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// Shorter than a header, or its length field disagrees with the bytes available.
    Length,
    /// Signature is not `iBFT`, `IBFT` or `BIFT`.
    Signature,
    /// Revision is not 1.
    Revision,
    /// The bytes do not sum to zero.
    Checksum,
    /// No valid control structure at offset 0x30.
    Control,
    /// A structure offset points outside the table.
    Offset,
    /// A structure has the wrong id or length.
    Structure,
    /// Two NICs or two targets share an index.
    DuplicateIndex,
    /// A target names a NIC record that does not exist.
    NicAssociation,
    /// No valid NIC or no valid target.
    Empty,
}

impl core::fmt::Display for Fail {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Length => "length",
            Self::Signature => "signature",
            Self::Revision => "revision",
            Self::Checksum => "checksum",
            Self::Control => "control-structure",
            Self::Offset => "offset-out-of-table",
            Self::Structure => "structure-id-or-length",
            Self::DuplicateIndex => "duplicate-index",
            Self::NicAssociation => "target-nic-association",
            Self::Empty => "no-valid-nic-or-target",
        })
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
}

impl core::fmt::Display for Summary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let m = self.boot_mac;
        write!(
            f,
            "nics={} targets={} boot-mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} boot-pci={:02x}:{:02x}.{} target-nic={}",
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
            self.target_nic
        )
    }
}

fn u16_at(t: &[u8], at: usize) -> Result<u16, Fail> {
    let b = t.get(at..at + 2).ok_or(Fail::Offset)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

/// Reads `table` (exactly the table's bytes, as long as its length field says).
pub fn check(table: &[u8]) -> Result<Summary, Fail> {
    if table.len() < 48 {
        return Err(Fail::Length);
    }
    if !matches!(&table[0..4], b"iBFT" | b"IBFT" | b"BIFT") {
        return Err(Fail::Signature);
    }
    let len = u32::from_le_bytes([table[4], table[5], table[6], table[7]]) as usize;
    if len != table.len() {
        return Err(Fail::Length);
    }
    if table[8] != 1 {
        return Err(Fail::Revision);
    }
    if table.iter().fold(0u8, |a, &b| a.wrapping_add(b)) != 0 {
        return Err(Fail::Checksum);
    }
    let control = table.get(0x30..0x30 + 18).ok_or(Fail::Control)?;
    let control_len = usize::from(u16::from_le_bytes([control[2], control[3]]));
    if control[0] != 1 || control[4] != 0 || control_len < 18 || control_len % 2 != 0 {
        return Err(Fail::Control);
    }
    // Offsets: initiator, then (NIC, target) pairs.
    let slots = (control_len - 8) / 2;
    let mut nic_indices = [false; 256];
    let mut target_indices = [false; 256];
    let mut summary = Summary {
        nics: 0,
        targets: 0,
        boot_mac: [0; 6],
        boot_pci: 0,
        target_nic: 0,
    };
    let mut boot_nic_seen = false;
    let mut boot_target_seen = false;
    let mut associations = [0u8; 256];
    let mut association_count = 0usize;
    for slot in 0..slots {
        let off = usize::from(u16_at(table, 0x30 + 8 + 2 * slot)?);
        if off == 0 {
            continue;
        }
        if off >= table.len() {
            return Err(Fail::Offset);
        }
        let (want_id, want_len) = match slot {
            0 => (2u8, 74usize),
            s if s % 2 == 1 => (3, 102),
            _ => (4, 54),
        };
        let s = table.get(off..off + want_len).ok_or(Fail::Offset)?;
        if s[0] != want_id || usize::from(u16::from_le_bytes([s[2], s[3]])) != want_len {
            return Err(Fail::Structure);
        }
        let (index, flags) = (usize::from(s[4]), s[5]);
        match want_id {
            3 => {
                if core::mem::replace(&mut nic_indices[index], true) {
                    return Err(Fail::DuplicateIndex);
                }
                if flags & 1 != 0 {
                    summary.nics += 1;
                }
                if flags & 3 == 3 && !boot_nic_seen {
                    boot_nic_seen = true;
                    summary.boot_mac.copy_from_slice(&s[90..96]);
                    summary.boot_pci = u16::from_le_bytes([s[96], s[97]]);
                }
            }
            4 => {
                if core::mem::replace(&mut target_indices[index], true) {
                    return Err(Fail::DuplicateIndex);
                }
                if flags & 1 != 0 {
                    summary.targets += 1;
                    associations[association_count] = s[33];
                    association_count += 1;
                }
                if flags & 3 == 3 && !boot_target_seen {
                    boot_target_seen = true;
                    summary.target_nic = s[33];
                }
            }
            _ => {}
        }
    }
    if summary.nics == 0 || summary.targets == 0 {
        return Err(Fail::Empty);
    }
    if associations[..association_count]
        .iter()
        .any(|&n| !nic_indices[usize::from(n)])
    {
        return Err(Fail::NicAssociation);
    }
    Ok(summary)
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
        let s = check(&hand_table()).unwrap();
        assert_eq!(s.nics, 2);
        assert_eq!(s.targets, 1);
        assert_eq!(s.boot_mac, [0x52, 0x54, 0, 0, 0, 2]);
        assert_eq!(s.boot_pci, 0x18);
        assert_eq!(s.target_nic, 1);
        assert_eq!(
            s.to_string(),
            "nics=2 targets=1 boot-mac=52:54:00:00:00:02 boot-pci=00:03.0 target-nic=1"
        );
    }

    #[test]
    fn each_defect_is_named() {
        let good = hand_table();
        let mut t = good.clone();
        t[9] ^= 1;
        assert_eq!(check(&t), Err(Fail::Checksum));
        let mut t = good.clone();
        t[8] = 2;
        fix_checksum(&mut t);
        assert_eq!(check(&t), Err(Fail::Revision));
        let mut t = good.clone();
        t[0] = b'x';
        assert_eq!(check(&t), Err(Fail::Signature));
        assert_eq!(check(&good[..0x100]), Err(Fail::Length));
        let mut t = good.clone();
        t[0x100 + 4] = 0; // NIC1 index 0 duplicates NIC0
        fix_checksum(&mut t);
        assert_eq!(check(&t), Err(Fail::DuplicateIndex));
        let mut t = good.clone();
        t[0x168 + 33] = 5;
        fix_checksum(&mut t);
        assert_eq!(check(&t), Err(Fail::NicAssociation));
        let mut t = good.clone();
        t[0x168 + 2] = 56;
        fix_checksum(&mut t);
        assert_eq!(check(&t), Err(Fail::Structure));
        let mut t = good.clone();
        t[0x3a..0x3c].copy_from_slice(&0x1afu16.to_le_bytes());
        fix_checksum(&mut t);
        assert_eq!(check(&t), Err(Fail::Offset));
        let mut t = good;
        t[0x34] = 1; // control index must be 0
        fix_checksum(&mut t);
        assert_eq!(check(&t), Err(Fail::Control));
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
            let _ = check(&t);
        }
    }
}
