//! Finds the system UUID (SMBIOS type 1, offset 8) in a raw SMBIOS structure table.
//!
//! ```
//! use sanboot::smbios::system_uuid;
//! // A type 1 structure (length 0x1b) with no strings, then the end-of-table structure.
//! let mut table = vec![1u8, 0x1b, 0, 0];
//! table.extend_from_slice(&[0; 4]); // manufacturer .. serial string numbers
//! table.extend(1u8..=16); // UUID
//! table.extend_from_slice(&[0; 3]); // wake-up type, SKU, family
//! table.extend_from_slice(&[0, 0]); // empty string set
//! table.extend_from_slice(&[127, 4, 0, 0, 0, 0]);
//! assert_eq!(system_uuid(&table), Some(core::array::from_fn(|i| i as u8 + 1)));
//! ```

/// Walks the structures and returns the first type 1 UUID that is neither all zeros nor all
/// ones (SMBIOS: "not present" / "not set"). Stops at the end-of-table structure, at the end of
/// the slice, or on a malformed structure.
pub fn system_uuid(table: &[u8]) -> Option<[u8; 16]> {
    let mut at = 0usize;
    loop {
        let kind = *table.get(at)?;
        let len = usize::from(*table.get(at + 1)?);
        if len < 4 {
            return None;
        }
        if kind == 1 && len >= 0x19 {
            let uuid: [u8; 16] = table.get(at + 8..at + 24)?.try_into().ok()?;
            if uuid != [0; 16] && uuid != [0xff; 16] {
                return Some(uuid);
            }
        }
        if kind == 127 {
            return None;
        }
        // The formatted area is followed by strings, terminated by a double NUL.
        let strings = table.get(at + len..)?;
        let end = strings.windows(2).position(|w| w == [0, 0])?;
        at = at.checked_add(len)?.checked_add(end + 2)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure(kind: u8, formatted: &[u8], strings: &[&str]) -> Vec<u8> {
        let mut s = vec![kind, (formatted.len() + 4) as u8, 0, 0];
        s.extend_from_slice(formatted);
        for text in strings {
            s.extend_from_slice(text.as_bytes());
            s.push(0);
        }
        if strings.is_empty() {
            s.push(0);
        }
        s.push(0);
        s
    }

    #[test]
    fn skips_other_structures_and_their_strings() {
        let mut table = structure(0, &[1, 2, 0, 0xe8, 0, 3, 0, 0], &["EDK II", "unknown"]);
        let mut type1 = vec![1, 2, 0, 0];
        type1.extend_from_slice(&[0xab; 16]);
        type1.extend_from_slice(&[6, 0, 0]);
        table.extend(structure(1, &type1, &["QEMU", "Standard PC"]));
        table.extend(structure(127, &[], &[]));
        assert_eq!(system_uuid(&table), Some([0xab; 16]));
    }

    #[test]
    fn unset_uuid_and_truncation_give_none() {
        let mut type1 = vec![1, 2, 0, 0];
        type1.extend_from_slice(&[0; 16]);
        type1.extend_from_slice(&[6, 0, 0]);
        let table = structure(1, &type1, &[]);
        assert_eq!(system_uuid(&table), None);
        assert_eq!(system_uuid(&[]), None);
        assert_eq!(system_uuid(&[1, 0x1b, 0]), None);
        assert_eq!(system_uuid(&[1, 2, 0, 0]), None);
    }
}
