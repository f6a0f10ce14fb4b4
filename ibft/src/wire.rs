//! Zero-copy views of the iBFT structures (byte offsets from the iBFT specification v1.03).
//!
//! Each view wraps a byte buffer that starts at the structure. `new_checked` verifies the
//! buffer is long enough, after which no getter can panic; `new_unchecked` is for emitting
//! into a buffer whose length the caller already knows is sufficient.

use core::ops::Range;

/// A byte range of a field inside a structure.
pub type Field = Range<usize>;

/// The buffer is shorter than the structure it should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("buffer of {have} bytes is shorter than the {needed}-byte structure")]
pub struct Truncated {
    /// Bytes the structure needs.
    pub needed: usize,
    /// Bytes available.
    pub have: usize,
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn write_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn read_16(b: &[u8], f: Field) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&b[f]);
    out
}

/// Structure ids (the first byte of every structure header); an open enum.
///
/// ```
/// use ibft::wire::StructureId;
/// assert_eq!(StructureId::from(3), StructureId::Nic);
/// assert_eq!(u8::from(StructureId::from(9)), 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StructureId {
    /// Control structure (1).
    Control,
    /// Initiator structure (2).
    Initiator,
    /// NIC structure (3).
    Nic,
    /// Target structure (4).
    Target,
    /// Extensions structure (5), reserved by the specification.
    Extensions,
    /// Any other id.
    Unknown(u8),
}

impl From<u8> for StructureId {
    fn from(v: u8) -> Self {
        match v {
            1 => Self::Control,
            2 => Self::Initiator,
            3 => Self::Nic,
            4 => Self::Target,
            5 => Self::Extensions,
            other => Self::Unknown(other),
        }
    }
}

impl From<StructureId> for u8 {
    fn from(v: StructureId) -> Self {
        match v {
            StructureId::Control => 1,
            StructureId::Initiator => 2,
            StructureId::Nic => 3,
            StructureId::Target => 4,
            StructureId::Extensions => 5,
            StructureId::Unknown(other) => other,
        }
    }
}

/// Offsets of the 48-byte table header.
pub mod header {
    use super::Field;
    /// `iBFT` (or `IBFT`, `BIFT`).
    pub const SIGNATURE: Field = 0..4;
    /// Length of the whole table, u32.
    pub const LENGTH: Field = 4..8;
    /// Revision, must be 1.
    pub const REVISION: usize = 8;
    /// Checksum byte: the 8-bit sum of the table is 0.
    pub const CHECKSUM: usize = 9;
    /// OEM id.
    pub const OEM_ID: Field = 10..16;
    /// OEM table id.
    pub const OEM_TABLE_ID: Field = 16..24;
    /// Reserved, zero.
    pub const RESERVED: Field = 24..48;
    /// Size of the header.
    pub const LEN: usize = 48;
}

/// Offsets of the 6-byte header every structure starts with.
pub mod structure {
    /// Structure id.
    pub const ID: usize = 0;
    /// Structure version, 1.
    pub const VERSION: usize = 1;
    /// Structure length, u16.
    pub const LENGTH: usize = 2;
    /// Structure index.
    pub const INDEX: usize = 4;
    /// Flags.
    pub const FLAGS: usize = 5;
    /// Size of the structure header.
    pub const LEN: usize = 6;
}

/// Offsets of the control structure.
pub mod control {
    /// Extensions offset, u16.
    pub const EXTENSIONS: usize = 6;
    /// Initiator offset, u16.
    pub const INITIATOR: usize = 8;
    /// First NIC offset; NIC `k` is at `NIC0 + 4k`, target `k` at `NIC0 + 4k + 2`.
    pub const NIC0: usize = 10;
    /// Minimum (and pre-2020 Linux: exact) control length, two NIC/target pairs.
    pub const MIN_LEN: usize = 18;
}

/// Offsets of the initiator structure.
pub mod initiator {
    use super::Field;
    /// iSNS server.
    pub const ISNS: Field = 6..22;
    /// SLP server.
    pub const SLP: Field = 22..38;
    /// Primary RADIUS server.
    pub const RADIUS1: Field = 38..54;
    /// Secondary RADIUS server.
    pub const RADIUS2: Field = 54..70;
    /// Initiator name (length, offset).
    pub const NAME: usize = 70;
    /// Exact structure length.
    pub const LEN: usize = 74;
}

/// Offsets of the NIC structure.
pub mod nic {
    use super::Field;
    /// IP address.
    pub const IP: Field = 6..22;
    /// Subnet prefix length.
    pub const PREFIX: usize = 22;
    /// Origin of the address.
    pub const ORIGIN: usize = 23;
    /// Gateway.
    pub const GATEWAY: Field = 24..40;
    /// Primary DNS.
    pub const DNS1: Field = 40..56;
    /// Secondary DNS.
    pub const DNS2: Field = 56..72;
    /// DHCP server.
    pub const DHCP: Field = 72..88;
    /// VLAN, u16.
    pub const VLAN: usize = 88;
    /// MAC address.
    pub const MAC: Field = 90..96;
    /// PCI bus/device/function, u16.
    pub const PCI: usize = 96;
    /// Hostname (length, offset).
    pub const HOSTNAME: usize = 98;
    /// Exact structure length.
    pub const LEN: usize = 102;
}

/// Offsets of the target structure.
pub mod target {
    use super::Field;
    /// Target IP address.
    pub const IP: Field = 6..22;
    /// TCP port, u16.
    pub const PORT: usize = 22;
    /// SAM LUN, 8 bytes.
    pub const LUN: Field = 24..32;
    /// CHAP type.
    pub const CHAP_TYPE: usize = 32;
    /// Index of the NIC used to reach the target.
    pub const NIC: usize = 33;
    /// Target name (length, offset).
    pub const NAME: usize = 34;
    /// CHAP name.
    pub const CHAP_NAME: usize = 38;
    /// CHAP secret.
    pub const CHAP_SECRET: usize = 42;
    /// Reverse CHAP name.
    pub const RCHAP_NAME: usize = 46;
    /// Reverse CHAP secret.
    pub const RCHAP_SECRET: usize = 50;
    /// Exact structure length.
    pub const LEN: usize = 54;
}

fn check(b: &[u8], needed: usize) -> Result<(), Truncated> {
    if b.len() < needed {
        Err(Truncated {
            needed,
            have: b.len(),
        })
    } else {
        Ok(())
    }
}

/// A view of the 48-byte table header.
///
/// ```
/// let mut buf = [0u8; 48];
/// let mut h = ibft::wire::HeaderPacket::new_unchecked(&mut buf[..]);
/// h.set_fields(48, *b"ISBOOT", *b"ISCSIBT\0");
/// let h = ibft::wire::HeaderPacket::new_checked(&buf[..]).unwrap();
/// assert_eq!((h.signature(), h.length(), h.revision()), (*b"iBFT", 48, 1));
/// assert!(ibft::wire::HeaderPacket::new_checked(&buf[..47]).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeaderPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> HeaderPacket<T> {
    /// Wraps a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }
    /// Wraps a buffer after checking it holds a whole header.
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), header::LEN)?;
        Ok(Self { buffer })
    }
    /// The signature.
    pub fn signature(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[0], b[1], b[2], b[3]]
    }
    /// The table length field.
    pub fn length(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_le_bytes([b[4], b[5], b[6], b[7]])
    }
    /// The revision.
    pub fn revision(&self) -> u8 {
        self.buffer.as_ref()[header::REVISION]
    }
    /// The checksum byte.
    pub fn checksum(&self) -> u8 {
        self.buffer.as_ref()[header::CHECKSUM]
    }
    /// The OEM id.
    pub fn oem_id(&self) -> [u8; 6] {
        let mut o = [0; 6];
        o.copy_from_slice(&self.buffer.as_ref()[header::OEM_ID]);
        o
    }
    /// The OEM table id.
    pub fn oem_table_id(&self) -> [u8; 8] {
        let mut o = [0; 8];
        o.copy_from_slice(&self.buffer.as_ref()[header::OEM_TABLE_ID]);
        o
    }
    /// The reserved bytes (should be zero).
    pub fn reserved(&self) -> &[u8] {
        &self.buffer.as_ref()[header::RESERVED]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> HeaderPacket<T> {
    /// Sets signature, length, revision, OEM ids and zeroes the reserved bytes and checksum.
    pub fn set_fields(&mut self, length: u32, oem_id: [u8; 6], oem_table_id: [u8; 8]) {
        let b = self.buffer.as_mut();
        b[header::SIGNATURE].copy_from_slice(b"iBFT");
        b[header::LENGTH].copy_from_slice(&length.to_le_bytes());
        b[header::REVISION] = 1;
        b[header::CHECKSUM] = 0;
        b[header::OEM_ID].copy_from_slice(&oem_id);
        b[header::OEM_TABLE_ID].copy_from_slice(&oem_table_id);
        b[header::RESERVED].fill(0);
    }
    /// Sets the checksum byte.
    pub fn set_checksum(&mut self, v: u8) {
        self.buffer.as_mut()[header::CHECKSUM] = v;
    }
}

/// A view of any iBFT structure (control, initiator, NIC or target): its 6-byte header plus
/// the fields of the kind it is used as.
///
/// ```
/// use ibft::wire::{StructPacket, StructureId, nic};
/// let mut buf = [0xffu8; nic::LEN];
/// let mut p = StructPacket::new_unchecked(&mut buf[..]);
/// p.set_header(StructureId::Nic, nic::LEN as u16, 1, ibft::flags::VALID);
/// p.set_u16_at(nic::VLAN, 100);
/// let p = StructPacket::new_checked(&buf[..], nic::LEN).unwrap();
/// assert_eq!((p.id(), p.length(), p.index(), p.u16_at(nic::VLAN)), (StructureId::Nic, 102, 1, 100));
/// assert_eq!(p.addr(nic::IP), [0; 16]); // set_header zeroes the body
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StructPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> StructPacket<T> {
    /// Wraps a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }
    /// Wraps a buffer after checking it holds at least `len` bytes (the structure's fixed size).
    pub fn new_checked(buffer: T, len: usize) -> Result<Self, Truncated> {
        check(buffer.as_ref(), len.max(structure::LEN))?;
        Ok(Self { buffer })
    }
    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// Structure id.
    pub fn id(&self) -> StructureId {
        self.buffer.as_ref()[structure::ID].into()
    }
    /// Structure version.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[structure::VERSION]
    }
    /// Structure length field.
    pub fn length(&self) -> u16 {
        read_u16(self.buffer.as_ref(), structure::LENGTH)
    }
    /// Structure index.
    pub fn index(&self) -> u8 {
        self.buffer.as_ref()[structure::INDEX]
    }
    /// Flags.
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[structure::FLAGS]
    }
    /// A little-endian u16 at `at`.
    pub fn u16_at(&self, at: usize) -> u16 {
        read_u16(self.buffer.as_ref(), at)
    }
    /// A byte at `at`.
    pub fn u8_at(&self, at: usize) -> u8 {
        self.buffer.as_ref()[at]
    }
    /// A 16-byte address field.
    pub fn addr(&self, f: Field) -> [u8; 16] {
        read_16(self.buffer.as_ref(), f)
    }
    /// A (length, offset) string reference at `at`.
    pub fn string_ref(&self, at: usize) -> (u16, u16) {
        (self.u16_at(at), self.u16_at(at + 2))
    }
    /// Raw bytes of a field.
    pub fn bytes(&self, f: Field) -> &[u8] {
        &self.buffer.as_ref()[f]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> StructPacket<T> {
    /// Writes the structure header (version 1) and zeroes the rest of `len` bytes.
    pub fn set_header(&mut self, id: StructureId, len: u16, index: u8, flags: u8) {
        let b = self.buffer.as_mut();
        b[..usize::from(len)].fill(0);
        b[structure::ID] = id.into();
        b[structure::VERSION] = 1;
        write_u16(b, structure::LENGTH, len);
        b[structure::INDEX] = index;
        b[structure::FLAGS] = flags;
    }
    /// Writes a little-endian u16 at `at`.
    pub fn set_u16_at(&mut self, at: usize, v: u16) {
        write_u16(self.buffer.as_mut(), at, v);
    }
    /// Writes a byte at `at`.
    pub fn set_u8_at(&mut self, at: usize, v: u8) {
        self.buffer.as_mut()[at] = v;
    }
    /// Writes raw bytes into a field.
    // Out of line: called for every field; smaller firmware image (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn set_bytes(&mut self, f: Field, v: &[u8]) {
        self.buffer.as_mut()[f].copy_from_slice(v);
    }
    /// Writes a (length, offset) string reference at `at`.
    // Out of line: called for every field; smaller firmware image (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn set_string_ref(&mut self, at: usize, len: u16, offset: u16) {
        self.set_u16_at(at, len);
        self.set_u16_at(at + 2, offset);
    }
}
