//! The default initiator name, derived from the machine's SMBIOS UUID so it is stable across
//! boots and unique per machine.

/// The prefix of derived initiator names.
pub const NAME_PREFIX: &str = "iqn.2026-11.org.iscsi-boot:";

/// Length of a derived name: the prefix plus a 36-character UUID.
pub const NAME_LEN: usize = NAME_PREFIX.len() + 36;

/// Formats `iqn.2026-11.org.iscsi-boot:<uuid>` from the 16 raw bytes of the SMBIOS type 1 UUID
/// field. SMBIOS 2.6+ stores the first three UUID fields little-endian, so they are swapped to the
/// text order (as `dmidecode` prints it).
///
/// ```
/// use sanboot::naming::initiator_name_from_smbios_uuid;
/// let raw = [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
///            0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
/// let mut buf = [0u8; sanboot::naming::NAME_LEN];
/// assert_eq!(
///     initiator_name_from_smbios_uuid(&raw, &mut buf),
///     "iqn.2026-11.org.iscsi-boot:00112233-4455-6677-8899-aabbccddeeff"
/// );
/// ```
pub fn initiator_name_from_smbios_uuid<'b>(raw: &[u8; 16], buf: &'b mut [u8; NAME_LEN]) -> &'b str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    buf[..NAME_PREFIX.len()].copy_from_slice(NAME_PREFIX.as_bytes());
    let mut at = NAME_PREFIX.len();
    for (i, &src) in order.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            buf[at] = b'-';
            at += 1;
        }
        let byte = raw[src];
        buf[at] = HEX[usize::from(byte >> 4)];
        buf[at + 1] = HEX[usize::from(byte & 0xf)];
        at += 2;
    }
    // Only ASCII was written.
    core::str::from_utf8(&buf[..]).unwrap_or(NAME_PREFIX)
}

/// Length of a MAC-derived name: the prefix, `mac-` and 12 hex digits.
pub const MAC_NAME_LEN: usize = NAME_PREFIX.len() + 4 + 12;

/// The fallback when the firmware reports no SMBIOS UUID (all zeros or all ones):
/// `iqn.2026-11.org.iscsi-boot:mac-<12 hex digits>` from the SAN port's permanent MAC.
///
/// ```
/// use sanboot::naming::{initiator_name_from_mac, MAC_NAME_LEN};
/// let mut buf = [0u8; MAC_NAME_LEN];
/// assert_eq!(
///     initiator_name_from_mac(&[0x52, 0x54, 0, 0xab, 0xcd, 0xef], &mut buf),
///     "iqn.2026-11.org.iscsi-boot:mac-525400abcdef"
/// );
/// ```
pub fn initiator_name_from_mac<'b>(mac: &[u8; 6], buf: &'b mut [u8; MAC_NAME_LEN]) -> &'b str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf[..NAME_PREFIX.len()].copy_from_slice(NAME_PREFIX.as_bytes());
    let mut at = NAME_PREFIX.len();
    buf[at..at + 4].copy_from_slice(b"mac-");
    at += 4;
    for &byte in mac {
        buf[at] = HEX[usize::from(byte >> 4)];
        buf[at + 1] = HEX[usize::from(byte & 0xf)];
        at += 2;
    }
    core::str::from_utf8(&buf[..]).unwrap_or(NAME_PREFIX)
}
