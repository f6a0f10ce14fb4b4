//! Finds an ACPI table by signature: RSDP → XSDT (or RSDT on ACPI 1.0) → table headers.
//!
//! Memory is reached through [`PhysMem`], so the walk is the same on firmware (identity-mapped
//! physical memory) and in host tests (a byte vector standing in for memory).

/// Read access to physical memory.
pub trait PhysMem {
    /// The `len` bytes at physical address `addr`, or `None` if they are not readable.
    fn read(&self, addr: u64, len: usize) -> Option<&[u8]>;
}

/// Why the walk failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcpiError {
    /// The RSDP is missing, has a bad signature or checksum.
    Rsdp,
    /// The XSDT/RSDT is unreadable or malformed.
    RootTable,
    /// No table with that signature is listed.
    NotFound,
    /// The table is listed but unreadable.
    Table,
}

impl core::fmt::Display for AcpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Rsdp => "no-valid-rsdp",
            Self::RootTable => "bad-xsdt",
            Self::NotFound => "not-in-xsdt",
            Self::Table => "table-unreadable",
        })
    }
}

impl core::error::Error for AcpiError {}

fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Reads a whole SDT (header + body) at `addr`, bounded to 1 MiB.
fn read_sdt<M: PhysMem>(mem: &M, addr: u64) -> Option<&[u8]> {
    let header = mem.read(addr, 36)?;
    let len = le32(header, 4)? as usize;
    if !(36..=1 << 20).contains(&len) {
        return None;
    }
    mem.read(addr, len)
}

/// Finds the first table whose signature is `signature`, starting from the RSDP at `rsdp`.
/// The table's own checksum is not checked here (that is the caller's verdict to give).
pub fn find_table<'m, M: PhysMem>(
    mem: &'m M,
    rsdp: u64,
    signature: &[u8; 4],
) -> Result<&'m [u8], AcpiError> {
    let head = mem.read(rsdp, 20).ok_or(AcpiError::Rsdp)?;
    if &head[..8] != b"RSD PTR " || sum(head) != 0 {
        return Err(AcpiError::Rsdp);
    }
    let revision = head[15];
    let (root, entry_size) = if revision >= 2 {
        let full = mem.read(rsdp, 36).ok_or(AcpiError::Rsdp)?;
        if sum(full) != 0 {
            return Err(AcpiError::Rsdp);
        }
        (le64(full, 24).ok_or(AcpiError::Rsdp)?, 8)
    } else {
        (u64::from(le32(head, 16).ok_or(AcpiError::Rsdp)?), 4)
    };
    let root = read_sdt(mem, root).ok_or(AcpiError::RootTable)?;
    let expected: &[u8] = if entry_size == 8 { b"XSDT" } else { b"RSDT" };
    if &root[..4] != expected {
        return Err(AcpiError::RootTable);
    }
    let entries = root.get(36..).ok_or(AcpiError::RootTable)?;
    for entry in entries.chunks_exact(entry_size) {
        let addr = if entry_size == 8 {
            le64(entry, 0)
        } else {
            le32(entry, 0).map(u64::from)
        }
        .ok_or(AcpiError::RootTable)?;
        let Some(head) = mem.read(addr, 4) else {
            continue;
        };
        if head == signature {
            return read_sdt(mem, addr).ok_or(AcpiError::Table);
        }
    }
    Err(AcpiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory starting at physical address 0x1000.
    struct Ram(Vec<u8>);

    impl PhysMem for Ram {
        fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
            let start = usize::try_from(addr.checked_sub(0x1000)?).ok()?;
            self.0.get(start..start.checked_add(len)?)
        }
    }

    fn fix(bytes: &mut [u8], at: usize) {
        bytes[at] = 0;
        bytes[at] = 0u8.wrapping_sub(sum(bytes));
    }

    /// RSDP (rev 2) @0x1000, XSDT @0x1040 with two entries, FACP @0x1080, iBFT @0x10c0.
    fn memory() -> Ram {
        let mut m = vec![0u8; 0x100];
        m[0..8].copy_from_slice(b"RSD PTR ");
        m[15] = 2;
        m[20..24].copy_from_slice(&36u32.to_le_bytes());
        m[24..32].copy_from_slice(&0x1040u64.to_le_bytes());
        let mut first20 = m[0..20].to_vec();
        fix(&mut first20, 8);
        m[8] = first20[8];
        let mut full = m[0..36].to_vec();
        fix(&mut full, 32);
        m[32] = full[32];
        // XSDT
        m[0x40..0x44].copy_from_slice(b"XSDT");
        m[0x44..0x48].copy_from_slice(&52u32.to_le_bytes());
        m[0x64..0x6c].copy_from_slice(&0x1080u64.to_le_bytes());
        m[0x6c..0x74].copy_from_slice(&0x10c0u64.to_le_bytes());
        // FACP, iBFT
        m[0x80..0x84].copy_from_slice(b"FACP");
        m[0x84..0x88].copy_from_slice(&36u32.to_le_bytes());
        m[0xc0..0xc4].copy_from_slice(b"iBFT");
        m[0xc4..0xc8].copy_from_slice(&48u32.to_le_bytes());
        Ram(m)
    }

    #[test]
    fn finds_a_table_through_the_xsdt() {
        let mem = memory();
        let t = find_table(&mem, 0x1000, b"iBFT").unwrap();
        assert_eq!(t.len(), 48);
        assert_eq!(&t[..4], b"iBFT");
        assert_eq!(find_table(&mem, 0x1000, b"APIC"), Err(AcpiError::NotFound));
    }

    #[test]
    fn bad_rsdp_and_root_are_reported() {
        let mut mem = memory();
        assert_eq!(find_table(&mem, 0x2000, b"iBFT"), Err(AcpiError::Rsdp));
        mem.0[0x40] = b'R';
        assert_eq!(find_table(&mem, 0x1000, b"iBFT"), Err(AcpiError::RootTable));
        mem.0[8] ^= 1;
        assert_eq!(find_table(&mem, 0x1000, b"iBFT"), Err(AcpiError::Rsdp));
    }
}
