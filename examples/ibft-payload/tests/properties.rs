//! The payload's readers return typed errors, never panic, on arbitrary bytes.

use ibft_payload::acpi::{PhysMem, find_table};
use proptest::prelude::*;

struct Mem(Vec<u8>);

impl PhysMem for Mem {
    fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(addr).ok()?;
        self.0.get(start..start.checked_add(len)?)
    }
}

proptest! {
    #[test]
    fn check_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        // Make the header plausible often enough to get past the first checks.
        if bytes.len() >= 10 {
            bytes[..4].copy_from_slice(b"iBFT");
            let len = bytes.len() as u32;
            bytes[4..8].copy_from_slice(&len.to_le_bytes());
            bytes[8] = 1;
            bytes[9] = 0;
            let sum = bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b));
            bytes[9] = 0u8.wrapping_sub(sum);
        }
        let _ = ibft_payload::check(&bytes, &mut |_| {});
    }

    #[test]
    fn acpi_walk_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), rsdp in 0u64..400) {
        let _ = find_table(&Mem(bytes), rsdp, b"iBFT");
    }
}
