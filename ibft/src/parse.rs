//! Parsing: a strict [`Table::parse`] and a lenient [`Table::decode`] that reports every
//! [`Problem`] it meets and still decodes what it can.

use core::fmt;
use core::net::IpAddr;

use crate::types::{ChapType, IpCidr, Lun, NicConfig, Origin, PciAddress, decode_ip};
use crate::wire::{self, HeaderPacket, StructPacket, StructureId};

/// Flag bits of the structure headers.
pub mod flags {
    /// Bit 0: the record is valid.
    pub const VALID: u8 = 1;
    /// Bit 1: the firmware booted from this record.
    pub const BOOT_SELECTED: u8 = 2;
    /// NIC bit 2: the address is global (clear = link-local).
    pub const GLOBAL: u8 = 4;
    /// Target bit 2: CHAP secrets come from RADIUS.
    pub const RADIUS_CHAP: u8 = 4;
    /// Target bit 3: reverse CHAP secrets come from RADIUS.
    pub const RADIUS_REVERSE_CHAP: u8 = 8;
    /// Bits defined for the control structure (EDK2: boot failover; iPXE: single login).
    pub const CONTROL_MASK: u8 = 1;
    /// Bits defined for the initiator structure.
    pub const INITIATOR_MASK: u8 = 3;
    /// Bits defined for NIC structures.
    pub const NIC_MASK: u8 = 7;
    /// Bits defined for target structures.
    pub const TARGET_MASK: u8 = 15;
}

/// Signatures consumers accept (Linux: `iBFT`, `IBFT`, Broadcom's `BIFT`).
pub const SIGNATURES: [[u8; 4]; 3] = [*b"iBFT", *b"IBFT", *b"BIFT"];

/// Where in the table a problem sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The 48-byte header.
    Header,
    /// The control structure.
    Control,
    /// The initiator structure.
    Initiator,
    /// The NIC referenced by control slot `n`.
    Nic(u16),
    /// The target referenced by control slot `n`.
    Target(u16),
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slot::Header => f.write_str("header"),
            Slot::Control => f.write_str("control"),
            Slot::Initiator => f.write_str("initiator"),
            Slot::Nic(n) => write!(f, "nic{n}"),
            Slot::Target(n) => write!(f, "target{n}"),
        }
    }
}

/// A string field of a structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringField {
    /// Initiator name.
    InitiatorName,
    /// NIC host name.
    Hostname,
    /// Target name.
    TargetName,
    /// CHAP name.
    ChapName,
    /// CHAP secret.
    ChapSecret,
    /// Reverse CHAP name.
    ReverseChapName,
    /// Reverse CHAP secret.
    ReverseChapSecret,
}

impl fmt::Display for StringField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InitiatorName => "initiator name",
            Self::Hostname => "host name",
            Self::TargetName => "target name",
            Self::ChapName => "CHAP name",
            Self::ChapSecret => "CHAP secret",
            Self::ReverseChapName => "reverse CHAP name",
            Self::ReverseChapSecret => "reverse CHAP secret",
        })
    }
}

/// A structural defect found while decoding a table.
///
/// ```
/// let mut problems = Vec::new();
/// let _ = ibft::Table::decode(&[0u8; 20], &mut |p| problems.push(p));
/// assert_eq!(problems, [ibft::Problem::TooShort { have: 20 }]);
/// assert!(problems[0].is_error());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Fewer than 48 bytes: not even a header.
    #[error("only {have} bytes, shorter than the 48-byte header")]
    TooShort {
        /// Bytes available.
        have: usize,
    },
    /// The length field is smaller than header + control, or larger than the bytes available.
    #[error("length field {length} does not match the {have} bytes available")]
    Length {
        /// The length field.
        length: u32,
        /// Bytes available.
        have: usize,
    },
    /// Unknown signature.
    #[error("signature {} is not iBFT, IBFT or BIFT", crate::display::HexBytes(.0))]
    Signature([u8; 4]),
    /// Revision other than 1.
    #[error("revision {0}, expected 1")]
    Revision(u8),
    /// The bytes do not sum to 0.
    #[error("checksum wrong: bytes sum to {0:#04x}, not 0")]
    Checksum(u8),
    /// Reserved header bytes 24..48 are not zero.
    #[error("reserved header bytes 24..48 are not zero")]
    HeaderReserved,
    /// The control structure is missing, has the wrong id, index or a length below 18.
    #[error("control structure malformed (id {id}, index {index}, length {length})")]
    Control {
        /// Its id byte.
        id: u8,
        /// Its index byte.
        index: u8,
        /// Its length field.
        length: u16,
    },
    /// The extensions offset is set (no consumer reads extensions).
    #[error("extensions offset {0:#x} is set; consumers ignore extensions")]
    Extensions(u16),
    /// A structure offset points at or past the end of the table.
    #[error("{slot}: offset {offset:#x} is outside the table")]
    OffsetOutOfRange {
        /// Which structure.
        slot: Slot,
        /// The offset.
        offset: u16,
    },
    /// A structure does not fit inside the table.
    #[error("{slot}: structure at {offset:#x} runs past the end of the table")]
    Overflow {
        /// Which structure.
        slot: Slot,
        /// The offset.
        offset: u16,
    },
    /// A structure has the wrong id for its slot.
    #[error("{slot}: structure id {id} is wrong for this slot")]
    WrongId {
        /// Which structure.
        slot: Slot,
        /// The id found.
        id: u8,
    },
    /// A structure length differs from the exact length of its kind.
    #[error("{slot}: length {length}, expected {expected}")]
    WrongLength {
        /// Which structure.
        slot: Slot,
        /// The length field.
        length: u16,
        /// The exact length of this kind.
        expected: u16,
    },
    /// A structure version other than 1.
    #[error("{slot}: version {version}, expected 1")]
    Version {
        /// Which structure.
        slot: Slot,
        /// The version found.
        version: u8,
    },
    /// Two NICs or two targets share an index.
    #[error("{slot}: index {index} is used twice")]
    DuplicateIndex {
        /// The later structure.
        slot: Slot,
        /// The index.
        index: u8,
    },
    /// Flag bits outside the defined ones are set.
    #[error("{slot}: reserved flag bits set in {flags:#04x}")]
    ReservedFlags {
        /// Which structure.
        slot: Slot,
        /// The flags byte.
        flags: u8,
    },
    /// A string's bytes (or its NUL) lie outside the table.
    #[error("{slot}: {field} ({length} bytes at {offset:#x}) lies outside the table")]
    StringOutOfRange {
        /// Which structure.
        slot: Slot,
        /// Which string.
        field: StringField,
        /// Its offset.
        offset: u16,
        /// Its length.
        length: u16,
    },
    /// A string is not followed by a NUL byte.
    #[error("{slot}: {field} is not NUL-terminated")]
    StringNotTerminated {
        /// Which structure.
        slot: Slot,
        /// Which string.
        field: StringField,
    },
    /// A string is not UTF-8 (or contains a NUL).
    #[error("{slot}: {field} is not printable UTF-8 text")]
    StringNotText {
        /// Which structure.
        slot: Slot,
        /// Which string.
        field: StringField,
    },
    /// A target's NIC association names no NIC in the table.
    #[error("{slot}: NIC association {nic} names no NIC in the table")]
    DanglingNic {
        /// Which target.
        slot: Slot,
        /// The NIC index it names.
        nic: u8,
    },
    /// The initiator offset is 0.
    #[error("no initiator structure")]
    MissingInitiator,
}

impl Problem {
    /// Whether the strict parser rejects a table with this problem.
    pub fn is_error(&self) -> bool {
        crate::lint::Code::of_problem(self).severity() == crate::lint::Severity::Error
    }
}

/// The strict parser's error: the first error-severity [`Problem`] of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid iBFT: {0}")]
pub struct ParseError(pub Problem);

/// Decoded table header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRepr {
    /// Signature.
    pub signature: [u8; 4],
    /// Length field.
    pub length: u32,
    /// Revision.
    pub revision: u8,
    /// Checksum byte.
    pub checksum: u8,
    /// OEM id.
    pub oem_id: [u8; 6],
    /// OEM table id.
    pub oem_table_id: [u8; 8],
}

/// Decoded initiator structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitiatorRepr<'a> {
    /// Flags byte.
    pub flags: u8,
    /// Index.
    pub index: u8,
    /// iSNS server.
    pub isns: Option<IpAddr>,
    /// SLP server.
    pub slp: Option<IpAddr>,
    /// Primary and secondary RADIUS servers.
    pub radius: [Option<IpAddr>; 2],
    /// Initiator name.
    pub name: &'a str,
}

/// Decoded NIC structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NicRepr<'a> {
    /// Control slot number.
    pub slot: u16,
    /// Offset in the table.
    pub offset: u16,
    /// Index.
    pub index: u8,
    /// Flags byte.
    pub flags: u8,
    /// Raw prefix byte (also in `config.address` when an address is set).
    pub prefix: u8,
    /// The port configuration the record describes.
    pub config: NicConfig<'a>,
}

/// Decoded target structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetRepr<'a> {
    /// Control slot number.
    pub slot: u16,
    /// Offset in the table.
    pub offset: u16,
    /// Index.
    pub index: u8,
    /// Flags byte.
    pub flags: u8,
    /// Target address.
    pub address: Option<IpAddr>,
    /// TCP port.
    pub port: u16,
    /// LUN.
    pub lun: Lun,
    /// CHAP type.
    pub chap_type: ChapType,
    /// Index of the NIC used to reach the target.
    pub nic: u8,
    /// Target name.
    pub name: &'a str,
    /// CHAP name.
    pub chap_name: &'a str,
    /// CHAP secret.
    pub chap_secret: &'a str,
    /// Reverse CHAP name.
    pub reverse_chap_name: &'a str,
    /// Reverse CHAP secret.
    pub reverse_chap_secret: &'a str,
}

/// A leniently decoded table with its problems (see [`Table::decode_with_problems`]).
#[derive(Debug, Clone)]
pub struct Decoded<'a, const N: usize> {
    /// What could be decoded.
    pub table: Table<'a>,
    /// The first `N` problems, in table order.
    pub problems: heapless::Vec<Problem, N>,
    /// How many further problems did not fit.
    pub dropped: usize,
}

/// A decoded table borrowing its bytes; NICs and targets are read on demand, so no
/// allocation and no capacity limit.
///
/// ```
/// # let cfg = ibft::NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() };
/// # let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// # let nic = b.add_nic(cfg).unwrap();
/// # b.add_target(ibft::TargetConfig::new(nic, "10.0.2.2".parse().unwrap(), "iqn.2026-11.org.example:d")).unwrap();
/// # let mut buf = [0u8; 1024];
/// # let len = b.emit(&mut buf).unwrap();
/// let table = ibft::Table::parse(&buf[..len]).unwrap();
/// assert_eq!(table.nics().count(), 1);
/// assert_eq!(table.targets().next().unwrap().port, 3260);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    bytes: &'a [u8],
    control_len: usize,
}

fn utf8_prefix(b: &[u8]) -> &str {
    match core::str::from_utf8(b) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or(""),
    }
}

impl<'a> Table<'a> {
    /// Parses a table strictly: every error-severity [`Problem`] rejects it (at least all
    /// that Linux checks, plus bounds, duplicate indices, ids and reserved bits).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let mut first = None;
        let table = Self::decode(bytes, &mut |p: Problem| {
            if first.is_none() && p.is_error() {
                first = Some(p);
            }
        })
        .map_err(ParseError)?;
        match first {
            Some(p) => Err(ParseError(p)),
            None => Ok(table),
        }
    }

    /// Decodes a table leniently: every problem goes to `problems` and whatever can be
    /// decoded is returned. Fails only when there is no header or control structure (that
    /// problem is reported to `problems` too).
    ///
    /// ```
    /// # let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
    /// # let nic = b.add_nic(ibft::NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() }).unwrap();
    /// # b.add_target(ibft::TargetConfig::new(nic, "10.0.2.2".parse().unwrap(), "iqn.2026-11.org.example:d")).unwrap();
    /// # let mut buf = [0u8; 1024];
    /// # let len = b.emit(&mut buf).unwrap();
    /// buf[10] ^= 1; // break the checksum
    /// let mut problems = 0;
    /// let table = ibft::Table::decode(&buf[..len], &mut |_| problems += 1).unwrap();
    /// assert_eq!(problems, 1);
    /// assert_eq!(table.nics().count(), 1); // still decoded
    /// assert!(ibft::Table::parse(&buf[..len]).is_err());
    /// ```
    pub fn decode(bytes: &'a [u8], problems: &mut impl FnMut(Problem)) -> Result<Self, Problem> {
        decode_dyn(bytes, problems)
    }

    /// [`decode`](Self::decode) returning the problems too, in a fixed-capacity collection
    /// (no allocation); problems beyond `N` are counted in [`Decoded::dropped`].
    ///
    /// ```
    /// let bytes = include_bytes!("../tests/data/fwts-0002.bin");
    /// let d = ibft::Table::decode_with_problems::<8>(bytes).unwrap();
    /// assert_eq!(d.problems[0], ibft::Problem::Checksum(208));
    /// assert_eq!((d.problems.len(), d.dropped), (8, 5));
    /// assert_eq!(d.table.nics().count(), 1);
    /// ```
    pub fn decode_with_problems<const N: usize>(
        bytes: &'a [u8],
    ) -> Result<Decoded<'a, N>, Problem> {
        let mut problems = heapless::Vec::new();
        let mut dropped = 0;
        let table = Self::decode(bytes, &mut |p| {
            if problems.push(p).is_err() {
                dropped += 1;
            }
        })?;
        Ok(Decoded {
            table,
            problems,
            dropped,
        })
    }

    /// The table bytes (cut to the length field when it fits).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The header.
    pub fn header(&self) -> HeaderRepr {
        let h = HeaderPacket::new_unchecked(self.bytes);
        HeaderRepr {
            signature: h.signature(),
            length: h.length(),
            revision: h.revision(),
            checksum: h.checksum(),
            oem_id: h.oem_id(),
            oem_table_id: h.oem_table_id(),
        }
    }

    /// The control structure's flags byte.
    pub fn control_flags(&self) -> u8 {
        self.bytes[0x30 + wire::structure::FLAGS]
    }

    /// The number of NIC/target slot pairs the control structure has.
    pub fn slot_pairs(&self) -> u16 {
        // (len - 10) / 4 rounded up: a trailing NIC slot without its target slot counts.
        self.control_len
            .saturating_sub(wire::control::NIC0)
            .div_ceil(4) as u16
    }

    fn control_u16(&self, at: usize) -> u16 {
        if at + 2 > self.control_len {
            return 0;
        }
        let p = StructPacket::new_unchecked(&self.bytes[0x30..]);
        p.u16_at(at)
    }

    /// Offset of the NIC in slot `k` (0 when empty).
    pub fn nic_offset(&self, k: u16) -> u16 {
        self.control_u16(wire::control::NIC0 + 4 * usize::from(k))
    }

    /// Offset of the target in slot `k` (0 when empty).
    pub fn target_offset(&self, k: u16) -> u16 {
        self.control_u16(wire::control::NIC0 + 4 * usize::from(k) + 2)
    }

    fn structure(
        &self,
        offset: u16,
        id: StructureId,
        len: usize,
    ) -> Option<StructPacket<&'a [u8]>> {
        if offset == 0 {
            return None;
        }
        let p = StructPacket::new_checked(self.bytes.get(usize::from(offset)..)?, len).ok()?;
        (p.id() == id).then_some(p)
    }

    /// The string a (length, offset) pair names, empty when out of range; cut at the first
    /// byte that is not UTF-8.
    pub fn string(&self, (len, off): (u16, u16)) -> &'a str {
        if len == 0 {
            return "";
        }
        let start = usize::from(off);
        match self.bytes.get(start..start + usize::from(len)) {
            Some(b) => utf8_prefix(b),
            None => "",
        }
    }

    /// The initiator structure, if present and readable.
    pub fn initiator(&self) -> Option<InitiatorRepr<'a>> {
        let off = self.control_u16(wire::control::INITIATOR);
        let p = self.structure(off, StructureId::Initiator, wire::initiator::LEN)?;
        use wire::initiator as f;
        Some(InitiatorRepr {
            flags: p.flags(),
            index: p.index(),
            isns: decode_ip(p.addr(f::ISNS)),
            slp: decode_ip(p.addr(f::SLP)),
            radius: [decode_ip(p.addr(f::RADIUS1)), decode_ip(p.addr(f::RADIUS2))],
            name: self.string(p.string_ref(f::NAME)),
        })
    }

    /// The NIC in control slot `k`, if present and readable.
    pub fn nic(&self, k: u16) -> Option<NicRepr<'a>> {
        let offset = self.nic_offset(k);
        let p = self.structure(offset, StructureId::Nic, wire::nic::LEN)?;
        use wire::nic as f;
        let prefix = p.u8_at(f::PREFIX);
        let pci = p.u16_at(f::PCI);
        let hostname = self.string(p.string_ref(f::HOSTNAME));
        let mut mac = [0; 6];
        mac.copy_from_slice(p.bytes(f::MAC));
        Some(NicRepr {
            slot: k,
            offset,
            index: p.index(),
            flags: p.flags(),
            prefix,
            config: NicConfig {
                mac,
                pci: (pci != 0).then(|| PciAddress::from_wire(pci)),
                address: decode_ip(p.addr(f::IP)).map(|a| IpCidr::new(a, prefix)),
                gateway: decode_ip(p.addr(f::GATEWAY)),
                dns: [decode_ip(p.addr(f::DNS1)), decode_ip(p.addr(f::DNS2))],
                dhcp_server: decode_ip(p.addr(f::DHCP)),
                origin: Origin::from(p.u8_at(f::ORIGIN)),
                vlan: p.u16_at(f::VLAN),
                hostname: (!hostname.is_empty()).then_some(hostname),
            },
        })
    }

    /// The target in control slot `k`, if present and readable.
    pub fn target(&self, k: u16) -> Option<TargetRepr<'a>> {
        let offset = self.target_offset(k);
        let p = self.structure(offset, StructureId::Target, wire::target::LEN)?;
        use wire::target as f;
        let mut lun = [0; 8];
        lun.copy_from_slice(p.bytes(f::LUN));
        Some(TargetRepr {
            slot: k,
            offset,
            index: p.index(),
            flags: p.flags(),
            address: decode_ip(p.addr(f::IP)),
            port: p.u16_at(f::PORT),
            lun: Lun(lun),
            chap_type: p.u8_at(f::CHAP_TYPE).into(),
            nic: p.u8_at(f::NIC),
            name: self.string(p.string_ref(f::NAME)),
            chap_name: self.string(p.string_ref(f::CHAP_NAME)),
            chap_secret: self.string(p.string_ref(f::CHAP_SECRET)),
            reverse_chap_name: self.string(p.string_ref(f::RCHAP_NAME)),
            reverse_chap_secret: self.string(p.string_ref(f::RCHAP_SECRET)),
        })
    }

    /// All readable NICs in slot order.
    pub fn nics(&self) -> impl Iterator<Item = NicRepr<'a>> + '_ {
        (0..self.slot_pairs()).filter_map(|k| self.nic(k))
    }

    /// All readable targets in slot order.
    pub fn targets(&self) -> impl Iterator<Item = TargetRepr<'a>> + '_ {
        (0..self.slot_pairs()).filter_map(|k| self.target(k))
    }

    /// The NIC whose index is `index` (what a target's NIC association names).
    pub fn nic_by_index(&self, index: u8) -> Option<NicRepr<'a>> {
        self.nics().find(|n| n.index == index)
    }
}

/// Checks one structure referenced from the control structure; returns it when readable.
fn check_structure<'a>(
    bytes: &'a [u8],
    slot: Slot,
    offset: u16,
    id: StructureId,
    exact: usize,
    mask: u8,
    sink: &mut dyn FnMut(Problem),
) -> Option<StructPacket<&'a [u8]>> {
    let start = usize::from(offset);
    if start >= bytes.len() {
        sink(Problem::OffsetOutOfRange { slot, offset });
        return None;
    }
    let Ok(p) = StructPacket::new_checked(&bytes[start..], wire::structure::LEN) else {
        sink(Problem::Overflow { slot, offset });
        return None;
    };
    if p.id() != id {
        sink(Problem::WrongId {
            slot,
            id: p.id().into(),
        });
        return None;
    }
    if usize::from(p.length()) != exact {
        sink(Problem::WrongLength {
            slot,
            length: p.length(),
            expected: exact as u16,
        });
    }
    if start + exact.max(usize::from(p.length())) > bytes.len() {
        sink(Problem::Overflow { slot, offset });
        if start + exact > bytes.len() {
            return None;
        }
    }
    if p.version() != 1 {
        sink(Problem::Version {
            slot,
            version: p.version(),
        });
    }
    if p.flags() & !mask != 0 {
        sink(Problem::ReservedFlags {
            slot,
            flags: p.flags(),
        });
    }
    Some(StructPacket::new_unchecked(&bytes[start..start + exact]))
}

fn check_string(
    bytes: &[u8],
    slot: Slot,
    field: StringField,
    (length, offset): (u16, u16),
    sink: &mut dyn FnMut(Problem),
) {
    if length == 0 {
        return;
    }
    let start = usize::from(offset);
    let end = start + usize::from(length);
    let Some(s) = bytes.get(start..end) else {
        sink(Problem::StringOutOfRange {
            slot,
            field,
            offset,
            length,
        });
        return;
    };
    if core::str::from_utf8(s).is_err() || s.contains(&0) {
        sink(Problem::StringNotText { slot, field });
    }
    if bytes.get(end) != Some(&0) {
        sink(Problem::StringNotTerminated { slot, field });
    }
}

fn decode_dyn<'a>(bytes: &'a [u8], sink: &mut dyn FnMut(Problem)) -> Result<Table<'a>, Problem> {
    let Ok(h) = HeaderPacket::new_checked(bytes) else {
        let p = Problem::TooShort { have: bytes.len() };
        sink(p);
        return Err(p);
    };
    let length = h.length();
    let control_at = wire::header::LEN;
    let min = control_at + wire::control::MIN_LEN;
    let bytes = match usize::try_from(length) {
        Ok(l) if l >= min && l <= bytes.len() => &bytes[..l],
        _ => {
            sink(Problem::Length {
                length,
                have: bytes.len(),
            });
            bytes
        }
    };
    if !SIGNATURES.contains(&h.signature()) {
        sink(Problem::Signature(h.signature()));
    }
    if h.revision() != 1 {
        sink(Problem::Revision(h.revision()));
    }
    let sum = bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    if sum != 0 {
        sink(Problem::Checksum(sum));
    }
    if h.reserved().iter().any(|b| *b != 0) {
        sink(Problem::HeaderReserved);
    }

    let Ok(c) = StructPacket::new_checked(&bytes[control_at..], wire::control::MIN_LEN) else {
        let p = Problem::Control {
            id: 0,
            index: 0,
            length: 0,
        };
        sink(p);
        return Err(p);
    };
    let (id, index, clen) = (u8::from(c.id()), c.index(), c.length());
    if id != 1 || index != 0 || usize::from(clen) < wire::control::MIN_LEN {
        let p = Problem::Control {
            id,
            index,
            length: clen,
        };
        sink(p);
        if id != 1 {
            return Err(p);
        }
    }
    if c.version() != 1 {
        sink(Problem::Version {
            slot: Slot::Control,
            version: c.version(),
        });
    }
    if c.flags() & !flags::CONTROL_MASK != 0 {
        sink(Problem::ReservedFlags {
            slot: Slot::Control,
            flags: c.flags(),
        });
    }
    let room = bytes.len() - control_at;
    if usize::from(clen) > room {
        sink(Problem::Overflow {
            slot: Slot::Control,
            offset: control_at as u16,
        });
    }
    let control_len = usize::from(clen).clamp(wire::control::MIN_LEN, room);
    let ext = c.u16_at(wire::control::EXTENSIONS);
    if ext != 0 {
        sink(Problem::Extensions(ext));
    }
    let table = Table { bytes, control_len };

    let init_off = table.control_u16(wire::control::INITIATOR);
    if init_off == 0 {
        sink(Problem::MissingInitiator);
    } else if let Some(p) = check_structure(
        bytes,
        Slot::Initiator,
        init_off,
        StructureId::Initiator,
        wire::initiator::LEN,
        flags::INITIATOR_MASK,
        sink,
    ) {
        let name = p.string_ref(wire::initiator::NAME);
        check_string(
            bytes,
            Slot::Initiator,
            StringField::InitiatorName,
            name,
            sink,
        );
    }

    let mut nic_seen = [false; 256];
    let mut target_seen = [false; 256];
    for k in 0..table.slot_pairs() {
        let off = table.nic_offset(k);
        if off == 0 {
            continue;
        }
        let slot = Slot::Nic(k);
        let nic_flags = flags::NIC_MASK;
        if let Some(p) = check_structure(
            bytes,
            slot,
            off,
            StructureId::Nic,
            wire::nic::LEN,
            nic_flags,
            sink,
        ) {
            let seen = &mut nic_seen[usize::from(p.index())];
            if *seen {
                sink(Problem::DuplicateIndex {
                    slot,
                    index: p.index(),
                });
            }
            *seen = true;
            let host = p.string_ref(wire::nic::HOSTNAME);
            check_string(bytes, slot, StringField::Hostname, host, sink);
        }
    }
    for k in 0..table.slot_pairs() {
        let off = table.target_offset(k);
        if off == 0 {
            continue;
        }
        let slot = Slot::Target(k);
        let t_flags = flags::TARGET_MASK;
        let Some(p) = check_structure(
            bytes,
            slot,
            off,
            StructureId::Target,
            wire::target::LEN,
            t_flags,
            sink,
        ) else {
            continue;
        };
        let seen = &mut target_seen[usize::from(p.index())];
        if *seen {
            sink(Problem::DuplicateIndex {
                slot,
                index: p.index(),
            });
        }
        *seen = true;
        let nic = p.u8_at(wire::target::NIC);
        if !nic_seen[usize::from(nic)] {
            sink(Problem::DanglingNic { slot, nic });
        }
        use wire::target as f;
        for (at, field) in [
            (f::NAME, StringField::TargetName),
            (f::CHAP_NAME, StringField::ChapName),
            (f::CHAP_SECRET, StringField::ChapSecret),
            (f::RCHAP_NAME, StringField::ReverseChapName),
            (f::RCHAP_SECRET, StringField::ReverseChapSecret),
        ] {
            check_string(bytes, slot, field, p.string_ref(at), sink);
        }
    }
    Ok(table)
}
