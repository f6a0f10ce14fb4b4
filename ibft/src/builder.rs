//! The builder: NICs and targets in, a checksummed table out, into the caller's buffer.

use core::net::IpAddr;

use crate::parse::{StringField, flags};
use crate::types::{Chap, ChapType, Lun, NicConfig, encode_ip, is_link_local};
use crate::wire::{self, HeaderPacket, StructPacket, StructureId};

/// Default capacity of a [`Builder`] (NICs and targets each).
pub const DEFAULT_CAPACITY: usize = 16;

/// What the builder writes into a NIC's gateway field.
///
/// The Microsoft iSCSI initiator adds a *permanent* route to each target through the NIC's
/// gateway when the table has one (KB960104). When the target is on the NIC's own subnet and
/// the gateway does not route back to it, Windows loses its disk at the hand-off
/// (`0xc00000e9` / INACCESSIBLE_BOOT_DEVICE). Linux ignores the field for on-link targets.
///
/// ```
/// use core::net::IpAddr;
/// let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// let nic = b.add_nic(ibft::NicConfig {
///     mac: [2, 0, 0, 0, 0, 1],
///     address: Some(ibft::IpCidr::new("10.0.2.15".parse().unwrap(), 24)),
///     gateway: Some("10.0.2.1".parse().unwrap()),
///     ..Default::default()
/// }).unwrap();
/// let target: IpAddr = "10.0.2.2".parse().unwrap();
/// b.add_target(ibft::TargetConfig::new(nic, target, "iqn.2026-11.org.example:d")).unwrap();
/// assert_eq!(b.gateway_for(nic), None); // OmitWhenOnLink
/// b.gateway_policy = ibft::GatewayPolicy::TargetAsGateway;
/// assert_eq!(b.gateway_for(nic), Some(target));
/// b.gateway_policy = ibft::GatewayPolicy::Keep;
/// assert_eq!(b.gateway_for(nic), Some("10.0.2.1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatewayPolicy {
    /// Write the gateway the port was configured with.
    Keep,
    /// Blank the gateway of a NIC through which a target is reached on-link.
    #[default]
    OmitWhenOnLink,
    /// sanbootconf's workaround: the gateway becomes the target's address when exactly one
    /// target is on-link through the NIC, and is blanked when several are.
    TargetAsGateway,
}

/// Alignment of each structure and of the string heap.
///
/// ```
/// let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// b.alignment = ibft::Alignment::Sixteen; // as iPXE writes
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alignment {
    /// 8 bytes, as the specification asks and EDK2 writes.
    #[default]
    Eight,
    /// 16 bytes, as iPXE writes.
    Sixteen,
}

impl Alignment {
    fn bytes(self) -> usize {
        match self {
            Self::Eight => 8,
            Self::Sixteen => 16,
        }
    }
}

/// A NIC added to a [`Builder`]; targets name their NIC with it.
///
/// ```
/// let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// let first = b.add_nic(ibft::NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() }).unwrap();
/// let second = b.add_nic(ibft::NicConfig { mac: [2, 0, 0, 0, 0, 2], ..Default::default() }).unwrap();
/// assert_eq!((first.index(), second.index()), (0, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NicHandle(u8);

impl NicHandle {
    /// The NIC's index in the table (its position among the added NICs).
    pub fn index(self) -> u8 {
        self.0
    }
}

/// One iSCSI target as the boot firmware reaches it.
///
/// ```
/// # let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// # let nic = b.add_nic(ibft::NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() }).unwrap();
/// let mut t = ibft::TargetConfig::new(nic, "10.0.2.2".parse().unwrap(), "iqn.2026-11.org.example:disk");
/// t.lun = ibft::Lun::new(1);
/// t.chap = Some(ibft::Chap { user: "u", secret: "twelve-chars" });
/// b.add_target(t).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetConfig<'a> {
    /// The NIC through which the target is reached.
    pub nic: NicHandle,
    /// Target address.
    pub address: IpAddr,
    /// TCP port.
    pub port: u16,
    /// LUN.
    pub lun: Lun,
    /// Target name.
    pub name: &'a str,
    /// One-way CHAP credentials (the target authenticates the initiator).
    pub chap: Option<Chap<'a>>,
    /// Reverse credentials for mutual CHAP (needs `chap` too).
    pub mutual_chap: Option<Chap<'a>>,
    /// Whether the firmware booted from this target.
    pub boot: bool,
}

impl<'a> TargetConfig<'a> {
    /// A boot-selected target on port 3260, LUN 0, without CHAP.
    pub fn new(nic: NicHandle, address: IpAddr, name: &'a str) -> Self {
        Self {
            nic,
            address,
            port: 3260,
            lun: Lun::default(),
            name,
            chap: None,
            mutual_chap: None,
            boot: true,
        }
    }
}

/// Why a table cannot be built.
///
/// ```
/// let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// let nic = ibft::NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() };
/// b.add_nic(nic).unwrap();
/// assert_eq!(b.add_nic(nic), Err(ibft::BuildError::DuplicateMac(nic.mac)));
/// assert_eq!(b.buffer_len(), Err(ibft::BuildError::NoBootTarget));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// More NICs than the builder's capacity.
    #[error("too many NICs")]
    TooManyNics,
    /// More targets than the builder's capacity.
    #[error("too many targets")]
    TooManyTargets,
    /// Compat mode allows at most two NICs and two targets.
    #[error("compat mode allows at most 2 NICs and 2 targets")]
    CompatLimit,
    /// Two NICs share a MAC address.
    #[error("two NICs share the MAC address {}", crate::display::HexBytes(.0))]
    DuplicateMac([u8; 6]),
    /// Two NICs share a PCI address.
    #[error("two NICs share a PCI address")]
    DuplicatePci,
    /// All-zero MAC address.
    #[error("MAC address is all zero")]
    InvalidMac,
    /// PCI device above 31, function above 7, or 00:00.0 (which encodes as "none").
    #[error("invalid PCI address")]
    InvalidPci,
    /// Prefix 0 or longer than the address family allows.
    #[error("invalid subnet prefix length")]
    InvalidPrefix,
    /// VLAN id above 4095.
    #[error("VLAN id {0} above 4095")]
    InvalidVlan(u16),
    /// A target names a NIC this builder did not return.
    #[error("target refers to a NIC that does not exist")]
    DanglingNic,
    /// Mutual CHAP without one-way CHAP.
    #[error("mutual CHAP needs one-way CHAP credentials too")]
    MutualChapWithoutChap,
    /// A string contains a NUL byte.
    #[error("{0} contains a NUL byte")]
    StringHasNul(StringField),
    /// A string is longer than its field allows (iSCSI names: 223 bytes, RFC 3720;
    /// other strings: 65535).
    #[error("{0} is too long")]
    StringTooLong(StringField),
    /// A required string is empty.
    #[error("{0} is empty")]
    EmptyString(StringField),
    /// OEM id longer than 6 or OEM table id longer than 8 bytes.
    #[error("OEM id or OEM table id too long")]
    OemIdTooLong,
    /// The table would exceed 65535 bytes (offsets are 16 bits).
    #[error("table of {0} bytes exceeds 65535")]
    TableTooLarge(usize),
    /// No target is boot-selected.
    #[error("no boot-selected target")]
    NoBootTarget,
    /// The output buffer is too small.
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the table needs.
        needed: usize,
    },
}

/// Builds an iBFT from whole [`NicConfig`]s and [`TargetConfig`]s into a caller's buffer,
/// without allocating. `N` bounds the number of NICs and of targets.
///
/// Layout (as EDK2 and the Linux test tables): header, control (18 bytes + 4 per pair beyond
/// two), initiator, all NICs, all targets, then the string heap; each aligned.
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:node1");
/// let nic = b.add_nic(ibft::NicConfig {
///     mac: [0x52, 0x54, 0, 0x12, 0x34, 0x01],
///     pci: Some(ibft::PciAddress { bus: 0, device: 3, function: 0 }),
///     address: Some(ibft::IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 24)),
///     ..Default::default()
/// })?;
/// b.add_target(ibft::TargetConfig::new(nic, "10.0.2.2".parse().unwrap(), "iqn.2026-11.org.example:disk1"))?;
/// let mut buf = [0u8; 512];
/// let len = b.emit(&mut buf)?;
/// assert_eq!(len, b.buffer_len()?);
/// assert!(ibft::Table::parse(&buf[..len]).is_ok());
/// # Ok::<(), ibft::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder<'a, const N: usize = DEFAULT_CAPACITY> {
    initiator_name: &'a str,
    oem_id: [u8; 6],
    oem_table_id: [u8; 8],
    /// What to write into NIC gateway fields.
    pub gateway_policy: GatewayPolicy,
    /// Refuse more than two NICs or targets (Linux before 2020 rejects such tables whole).
    pub compat_two_pairs: bool,
    /// Structure alignment.
    pub alignment: Alignment,
    nics: heapless::Vec<NicConfig<'a>, N>,
    targets: heapless::Vec<TargetConfig<'a>, N>,
}

/// Longest iSCSI name (RFC 3720, section 3.2.6.1).
pub const MAX_ISCSI_NAME: usize = 223;

fn check_string(s: &str, field: StringField) -> Result<(), BuildError> {
    if s.as_bytes().contains(&0) {
        return Err(BuildError::StringHasNul(field));
    }
    let max = match field {
        StringField::InitiatorName | StringField::TargetName => MAX_ISCSI_NAME,
        _ => usize::from(u16::MAX),
    };
    if s.len() > max {
        return Err(BuildError::StringTooLong(field));
    }
    Ok(())
}

fn fill_id<const L: usize>(s: &str) -> Result<[u8; L], BuildError> {
    let b = s.as_bytes();
    if b.len() > L {
        return Err(BuildError::OemIdTooLong);
    }
    let mut out = [0; L];
    out[..b.len()].copy_from_slice(b);
    Ok(out)
}

/// Bytes a string takes in the heap (the NUL is written but not counted in its length).
fn heap_len(s: &str) -> usize {
    if s.is_empty() { 0 } else { s.len() + 1 }
}

impl<'a, const N: usize> Builder<'a, N> {
    /// A builder for an initiator named `initiator_name`, OEM id `ISBOOT` / `ISCSIBT`,
    /// [`GatewayPolicy::OmitWhenOnLink`], 8-byte alignment, no compat limit.
    pub fn new(initiator_name: &'a str) -> Self {
        Self {
            initiator_name,
            oem_id: *b"ISBOOT",
            oem_table_id: *b"ISCSIBT\0",
            gateway_policy: GatewayPolicy::default(),
            compat_two_pairs: false,
            alignment: Alignment::default(),
            nics: heapless::Vec::new(),
            targets: heapless::Vec::new(),
        }
    }

    /// Sets the OEM id (at most 6 bytes) and OEM table id (at most 8 bytes), zero-padded.
    pub fn set_oem(&mut self, oem_id: &str, oem_table_id: &str) -> Result<(), BuildError> {
        self.oem_id = fill_id(oem_id)?;
        self.oem_table_id = fill_id(oem_table_id)?;
        Ok(())
    }

    /// Adds a NIC; rejects duplicate MAC or PCI addresses and malformed values.
    pub fn add_nic(&mut self, nic: NicConfig<'a>) -> Result<NicHandle, BuildError> {
        if nic.mac == [0; 6] {
            return Err(BuildError::InvalidMac);
        }
        if let Some(pci) = nic.pci
            && (!pci.is_valid() || pci.to_wire() == 0)
        {
            return Err(BuildError::InvalidPci);
        }
        if nic.address.is_some_and(|a| !a.is_valid()) {
            return Err(BuildError::InvalidPrefix);
        }
        if nic.vlan > 4095 {
            return Err(BuildError::InvalidVlan(nic.vlan));
        }
        if let Some(h) = nic.hostname {
            check_string(h, StringField::Hostname)?;
        }
        for other in &self.nics {
            if other.mac == nic.mac {
                return Err(BuildError::DuplicateMac(nic.mac));
            }
            if nic.pci.is_some() && other.pci == nic.pci {
                return Err(BuildError::DuplicatePci);
            }
        }
        let handle = NicHandle(u8::try_from(self.nics.len()).map_err(|_| BuildError::TooManyNics)?);
        self.nics.push(nic).map_err(|_| BuildError::TooManyNics)?;
        Ok(handle)
    }

    /// Adds a target and returns its index in the table.
    pub fn add_target(&mut self, target: TargetConfig<'a>) -> Result<u8, BuildError> {
        if usize::from(target.nic.0) >= self.nics.len() {
            return Err(BuildError::DanglingNic);
        }
        if target.name.is_empty() {
            return Err(BuildError::EmptyString(StringField::TargetName));
        }
        check_string(target.name, StringField::TargetName)?;
        if target.mutual_chap.is_some() && target.chap.is_none() {
            return Err(BuildError::MutualChapWithoutChap);
        }
        if let Some(c) = target.chap {
            check_string(c.user, StringField::ChapName)?;
            check_string(c.secret, StringField::ChapSecret)?;
        }
        if let Some(c) = target.mutual_chap {
            check_string(c.user, StringField::ReverseChapName)?;
            check_string(c.secret, StringField::ReverseChapSecret)?;
        }
        let index = u8::try_from(self.targets.len()).map_err(|_| BuildError::TooManyTargets)?;
        self.targets
            .push(target)
            .map_err(|_| BuildError::TooManyTargets)?;
        Ok(index)
    }

    /// The gateway the table will carry for `nic` under the current [`GatewayPolicy`].
    pub fn gateway_for(&self, nic: NicHandle) -> Option<IpAddr> {
        let cfg = self.nics.get(usize::from(nic.0))?;
        let configured = cfg.gateway;
        let Some(subnet) = cfg.address else {
            return configured;
        };
        let mut on_link = self
            .targets
            .iter()
            .filter(|t| t.nic == nic && subnet.contains(t.address));
        let first = on_link.next();
        let several = on_link.next().is_some();
        match (self.gateway_policy, first) {
            (GatewayPolicy::Keep, _) | (_, None) => configured,
            (GatewayPolicy::OmitWhenOnLink, Some(_)) => None,
            (GatewayPolicy::TargetAsGateway, Some(t)) if !several => Some(t.address),
            (GatewayPolicy::TargetAsGateway, Some(_)) => None,
        }
    }

    fn pairs(&self) -> usize {
        self.nics.len().max(self.targets.len()).max(2)
    }

    fn align(&self, x: usize) -> usize {
        let a = self.alignment.bytes();
        x.div_ceil(a) * a
    }

    /// Offsets: (control length, initiator, first NIC, first target, heap start).
    fn layout(&self) -> (usize, usize, usize, usize, usize) {
        let control_len = wire::control::MIN_LEN + 4 * (self.pairs() - 2);
        let initiator = self.align(wire::header::LEN + control_len);
        let nic0 = self.align(initiator + wire::initiator::LEN);
        let nic_stride = self.align(wire::nic::LEN);
        let target0 = self.align(nic0 + nic_stride * self.nics.len());
        let target_stride = self.align(wire::target::LEN);
        let heap = self.align(target0 + target_stride * self.targets.len());
        (control_len, initiator, nic0, target0, heap)
    }

    fn strings_len(&self) -> usize {
        let mut n = heap_len(self.initiator_name);
        for nic in &self.nics {
            n += heap_len(nic.hostname.unwrap_or(""));
        }
        for t in &self.targets {
            n += heap_len(t.name);
            for c in [t.chap, t.mutual_chap].into_iter().flatten() {
                n += heap_len(c.user) + heap_len(c.secret);
            }
        }
        n
    }

    fn validate(&self) -> Result<usize, BuildError> {
        check_string(self.initiator_name, StringField::InitiatorName)?;
        if self.initiator_name.is_empty() {
            return Err(BuildError::EmptyString(StringField::InitiatorName));
        }
        if self.compat_two_pairs && (self.nics.len() > 2 || self.targets.len() > 2) {
            return Err(BuildError::CompatLimit);
        }
        if !self.targets.iter().any(|t| t.boot) {
            return Err(BuildError::NoBootTarget);
        }
        let total = self.layout().4 + self.strings_len();
        if total > usize::from(u16::MAX) {
            return Err(BuildError::TableTooLarge(total));
        }
        Ok(total)
    }

    /// The number of bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> Result<usize, BuildError> {
        self.validate()
    }

    /// Writes the table into the start of `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        let total = self.validate()?;
        let buf = buf
            .get_mut(..total)
            .ok_or(BuildError::BufferTooSmall { needed: total })?;
        buf.fill(0);
        let (control_len, init_at, nic0, target0, heap_at) = self.layout();
        let mut heap = Heap { at: heap_at };

        HeaderPacket::new_unchecked(&mut *buf).set_fields(
            total as u32,
            self.oem_id,
            self.oem_table_id,
        );

        let mut control = StructPacket::new_unchecked(&mut buf[wire::header::LEN..]);
        control.set_header(StructureId::Control, control_len as u16, 0, 0);
        control.set_u16_at(wire::control::INITIATOR, init_at as u16);
        let nic_stride = self.align(wire::nic::LEN);
        let target_stride = self.align(wire::target::LEN);
        for k in 0..self.nics.len() {
            let at = wire::control::NIC0 + 4 * k;
            control.set_u16_at(at, (nic0 + k * nic_stride) as u16);
        }
        for k in 0..self.targets.len() {
            let at = wire::control::NIC0 + 4 * k + 2;
            control.set_u16_at(at, (target0 + k * target_stride) as u16);
        }

        let name = heap.put(buf, self.initiator_name);
        let mut init = StructPacket::new_unchecked(&mut buf[init_at..]);
        let init_flags = flags::VALID | flags::BOOT_SELECTED;
        init.set_header(
            StructureId::Initiator,
            wire::initiator::LEN as u16,
            0,
            init_flags,
        );
        init.set_string_ref(wire::initiator::NAME, name.0, name.1);

        for (k, nic) in self.nics.iter().enumerate() {
            let handle = NicHandle(k as u8);
            let host = heap.put(buf, nic.hostname.unwrap_or(""));
            let boot = self.targets.iter().any(|t| t.boot && t.nic == handle);
            let global = nic.address.is_none_or(|a| !is_link_local(a.addr));
            let f = flags::VALID
                | if boot { flags::BOOT_SELECTED } else { 0 }
                | if global { flags::GLOBAL } else { 0 };
            let mut p = StructPacket::new_unchecked(&mut buf[nic0 + k * nic_stride..]);
            use wire::nic as o;
            p.set_header(StructureId::Nic, o::LEN as u16, k as u8, f);
            p.set_bytes(o::IP, &encode_ip(nic.address.map(|a| a.addr)));
            p.set_u8_at(o::PREFIX, nic.address.map_or(0, |a| a.prefix));
            p.set_u8_at(o::ORIGIN, nic.origin.into());
            p.set_bytes(o::GATEWAY, &encode_ip(self.gateway_for(handle)));
            p.set_bytes(o::DNS1, &encode_ip(nic.dns[0]));
            p.set_bytes(o::DNS2, &encode_ip(nic.dns[1]));
            p.set_bytes(o::DHCP, &encode_ip(nic.dhcp_server));
            p.set_u16_at(o::VLAN, nic.vlan);
            p.set_bytes(o::MAC, &nic.mac);
            p.set_u16_at(o::PCI, nic.pci.map_or(0, |a| a.to_wire()));
            p.set_string_ref(o::HOSTNAME, host.0, host.1);
        }

        for (k, t) in self.targets.iter().enumerate() {
            let name = heap.put(buf, t.name);
            let chap = t
                .chap
                .map(|c| (heap.put(buf, c.user), heap.put(buf, c.secret)));
            let rchap = t
                .mutual_chap
                .map(|c| (heap.put(buf, c.user), heap.put(buf, c.secret)));
            let chap_type = match (chap, rchap) {
                (None, _) => ChapType::None,
                (Some(_), None) => ChapType::Chap,
                (Some(_), Some(_)) => ChapType::Mutual,
            };
            let f = flags::VALID | if t.boot { flags::BOOT_SELECTED } else { 0 };
            let mut p = StructPacket::new_unchecked(&mut buf[target0 + k * target_stride..]);
            use wire::target as o;
            p.set_header(StructureId::Target, o::LEN as u16, k as u8, f);
            p.set_bytes(o::IP, &encode_ip(Some(t.address)));
            p.set_u16_at(o::PORT, t.port);
            p.set_bytes(o::LUN, &t.lun.0);
            p.set_u8_at(o::CHAP_TYPE, chap_type.into());
            p.set_u8_at(o::NIC, t.nic.0);
            p.set_string_ref(o::NAME, name.0, name.1);
            let none = ((0, 0), (0, 0));
            let (cn, cs) = chap.unwrap_or(none);
            let (rn, rs) = rchap.unwrap_or(none);
            p.set_string_ref(o::CHAP_NAME, cn.0, cn.1);
            p.set_string_ref(o::CHAP_SECRET, cs.0, cs.1);
            p.set_string_ref(o::RCHAP_NAME, rn.0, rn.1);
            p.set_string_ref(o::RCHAP_SECRET, rs.0, rs.1);
        }

        let sum = buf.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        HeaderPacket::new_unchecked(&mut *buf).set_checksum(0u8.wrapping_sub(sum));
        Ok(total)
    }
}

/// The string heap cursor.
struct Heap {
    at: usize,
}

impl Heap {
    /// Copies `s` and its NUL into the heap; returns (length, offset), (0, 0) when empty.
    fn put(&mut self, buf: &mut [u8], s: &str) -> (u16, u16) {
        if s.is_empty() {
            return (0, 0);
        }
        let at = self.at;
        buf[at..at + s.len()].copy_from_slice(s.as_bytes());
        buf[at + s.len()] = 0;
        self.at += s.len() + 1;
        (s.len() as u16, at as u16)
    }
}
