//! PLACEHOLDER — to be replaced by the `ibft` crate's builder once it is available.
//!
//! A deliberately minimal iBFT writer (header, control, initiator, up to two NICs and two
//! targets, string heap) so that the ACPI install and the payload's check can be exercised end
//! to end. It does no linting (duplicate MACs, string limits beyond fitting the buffer,
//! gateway policy); the real builder does.
//!
//! Layout follows "iSCSI Boot Firmware Table (iBFT) as Defined in ACPI 3.0b", v1.03, with
//! structures 8-byte aligned as the spec asks.

use core::net::IpAddr;

/// One port's NIC record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StubNic {
    /// The port's MAC address.
    pub mac: [u8; 6],
    /// PCI location as `bus << 8 | device << 3 | function`.
    pub pci_bdf: u16,
    /// The port's address and prefix length.
    pub address: Option<(IpAddr, u8)>,
    /// The default gateway.
    pub gateway: Option<IpAddr>,
    /// The DHCP server, when the address came from DHCP.
    pub dhcp_server: Option<IpAddr>,
}

/// One target record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StubTarget<'a> {
    /// The portal address.
    pub address: IpAddr,
    /// The portal port.
    pub port: u16,
    /// The LUN in SAM format.
    pub lun: [u8; 8],
    /// The index of the NIC record used to reach it.
    pub nic_index: u8,
    /// The target name.
    pub name: &'a str,
}

/// Why the stub could not build a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubError {
    /// No NIC, more than two NICs or targets, or a target naming a missing NIC.
    Shape,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl core::fmt::Display for StubError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Shape => "iBFT needs 1-2 NICs, 0-2 targets, each target on an existing NIC",
            Self::BufferTooSmall => "iBFT buffer too small",
        })
    }
}

impl core::error::Error for StubError {}

const HEADER_LEN: usize = 48;
const CONTROL_LEN: usize = 18;
const INITIATOR_LEN: usize = 74;
const NIC_LEN: usize = 102;
const TARGET_LEN: usize = 54;

const fn align8(x: usize) -> usize {
    (x + 7) & !7
}

struct Writer<'b> {
    buf: &'b mut [u8],
    heap: usize,
}

impl Writer<'_> {
    fn put(&mut self, at: usize, bytes: &[u8]) -> Result<(), StubError> {
        let end = at
            .checked_add(bytes.len())
            .ok_or(StubError::BufferTooSmall)?;
        self.buf
            .get_mut(at..end)
            .ok_or(StubError::BufferTooSmall)?
            .copy_from_slice(bytes);
        Ok(())
    }

    fn u16(&mut self, at: usize, v: u16) -> Result<(), StubError> {
        self.put(at, &v.to_le_bytes())
    }

    fn ip(&mut self, at: usize, ip: Option<IpAddr>) -> Result<(), StubError> {
        let bytes = match ip {
            None => [0; 16],
            Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
            Some(IpAddr::V6(v6)) => v6.octets(),
        };
        self.put(at, &bytes)
    }

    fn header(
        &mut self,
        at: usize,
        id: u8,
        len: usize,
        index: u8,
        flags: u8,
    ) -> Result<(), StubError> {
        self.put(at, &[id, 1])?;
        self.u16(at + 2, len as u16)?;
        self.put(at + 4, &[index, flags])
    }

    /// Writes `s` + NUL into the heap and its (length, offset) at `at`.
    fn string(&mut self, at: usize, s: &str) -> Result<(), StubError> {
        let len = u16::try_from(s.len()).map_err(|_| StubError::BufferTooSmall)?;
        let off = u16::try_from(self.heap).map_err(|_| StubError::BufferTooSmall)?;
        self.put(self.heap, s.as_bytes())?;
        self.put(self.heap + s.len(), &[0])?;
        self.heap += s.len() + 1;
        self.u16(at, len)?;
        self.u16(at + 2, off)
    }
}

/// Builds an iBFT into `buf`; returns its length. NIC record `boot_nic` and the first target are
/// marked boot-selected.
pub fn build(
    buf: &mut [u8],
    initiator_name: &str,
    nics: &[StubNic],
    boot_nic: u8,
    targets: &[StubTarget<'_>],
) -> Result<usize, StubError> {
    if nics.is_empty()
        || usize::from(boot_nic) >= nics.len()
        || nics.len() > 2
        || targets.len() > 2
        || targets
            .iter()
            .any(|t| usize::from(t.nic_index) >= nics.len())
    {
        return Err(StubError::Shape);
    }
    let control = HEADER_LEN;
    let initiator = align8(control + CONTROL_LEN);
    let nic_at = |i: usize| align8(initiator + INITIATOR_LEN) + i * align8(NIC_LEN);
    let target_at = |i: usize| nic_at(nics.len()) + i * align8(TARGET_LEN);
    let heap = target_at(targets.len());
    buf.get_mut(..heap)
        .ok_or(StubError::BufferTooSmall)?
        .fill(0);
    let mut w = Writer { buf, heap };

    w.put(0, b"iBFT")?;
    w.put(8, &[1])?; // revision
    w.put(10, b"ISCSIB")?; // OEM id
    w.put(16, b"SANBOOT ")?; // OEM table id

    w.header(control, 1, CONTROL_LEN, 0, 0)?;
    w.u16(control + 8, initiator as u16)?;
    for (i, _) in nics.iter().enumerate() {
        w.u16(control + 10 + 4 * i, nic_at(i) as u16)?;
    }
    for (i, _) in targets.iter().enumerate() {
        w.u16(control + 12 + 4 * i, target_at(i) as u16)?;
    }

    w.header(initiator, 2, INITIATOR_LEN, 0, 0b11)?;
    w.string(initiator + 70, initiator_name)?;

    for (i, nic) in nics.iter().enumerate() {
        let at = nic_at(i);
        let global = nic.address.is_some_and(|(ip, _)| match ip {
            IpAddr::V4(_) => true,
            IpAddr::V6(v6) => !v6.is_unicast_link_local(),
        });
        let flags = 1 | if i == usize::from(boot_nic) { 2 } else { 0 } | if global { 4 } else { 0 };
        w.header(at, 3, NIC_LEN, i as u8, flags)?;
        w.ip(at + 6, nic.address.map(|(ip, _)| ip))?;
        w.put(at + 22, &[nic.address.map_or(0, |(_, p)| p)])?;
        w.put(at + 23, &[if nic.dhcp_server.is_some() { 3 } else { 1 }])?;
        w.ip(at + 24, nic.gateway)?;
        w.ip(at + 72, nic.dhcp_server)?;
        w.put(at + 90, &nic.mac)?;
        w.u16(at + 96, nic.pci_bdf)?;
    }

    for (i, t) in targets.iter().enumerate() {
        let at = target_at(i);
        let flags = 1 | if i == 0 { 2 } else { 0 };
        w.header(at, 4, TARGET_LEN, i as u8, flags)?;
        w.ip(at + 6, Some(t.address))?;
        w.u16(at + 22, t.port)?;
        w.put(at + 24, &t.lun)?;
        w.put(at + 33, &[t.nic_index])?;
        w.string(at + 34, t.name)?;
    }

    let len = align8(w.heap);
    let pad_end = len;
    let pad_start = w.heap;
    w.buf
        .get_mut(pad_start..pad_end)
        .ok_or(StubError::BufferTooSmall)?
        .fill(0);
    w.put(4, &(len as u32).to_le_bytes())?;
    let sum = w.buf[..len].iter().fold(0u8, |a, &b| a.wrapping_add(b));
    w.put(9, &[0u8.wrapping_sub(sum)])?;
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn layout_matches_the_spec_offsets() {
        let nic = StubNic {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x57],
            pci_bdf: 3 << 3, // 00:03.0
            address: Some((IpAddr::V4(Ipv4Addr::new(10, 0, 3, 15)), 24)),
            gateway: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2))),
            dhcp_server: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2))),
        };
        let target = StubTarget {
            address: IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2)),
            port: 3260,
            lun: [0, 1, 0, 0, 0, 0, 0, 0],
            nic_index: 0,
            name: "iqn.t",
        };
        let mut buf = [0xEEu8; 1024];
        let len = build(&mut buf, "iqn.i", &[nic], 0, &[target]).unwrap();
        let t = &buf[..len];
        assert_eq!(&t[0..4], b"iBFT");
        assert_eq!(
            u32::from_le_bytes(t[4..8].try_into().unwrap()) as usize,
            len
        );
        assert_eq!(t[8], 1);
        assert_eq!(t.iter().fold(0u8, |a, &b| a.wrapping_add(b)), 0);
        assert!(t[24..48].iter().all(|&b| b == 0), "reserved bytes are zero");
        // Control at 0x30: id 1, version 1, length 18, index 0.
        assert_eq!(&t[0x30..0x36], &[1, 1, 18, 0, 0, 0]);
        let off = |at: usize| u16::from_le_bytes([t[at], t[at + 1]]) as usize;
        let (ini, nic0, tgt0) = (off(0x30 + 8), off(0x30 + 10), off(0x30 + 12));
        assert_eq!(off(0x30 + 14), 0, "no NIC1");
        assert_eq!(off(0x30 + 16), 0, "no target1");
        assert_eq!(&t[ini..ini + 6], &[2, 1, 74, 0, 0, 3]);
        assert_eq!(&t[nic0..nic0 + 6], &[3, 1, 102, 0, 0, 7]);
        assert_eq!(&t[tgt0..tgt0 + 6], &[4, 1, 54, 0, 0, 3]);
        assert!([ini, nic0, tgt0].iter().all(|o| o % 8 == 0));
        // NIC: IPv4-mapped address, prefix, origin DHCP, MAC, PCI.
        assert_eq!(
            &t[nic0 + 6..nic0 + 22],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 3, 15]
        );
        assert_eq!(t[nic0 + 22], 24);
        assert_eq!(t[nic0 + 23], 3);
        assert_eq!(&t[nic0 + 90..nic0 + 96], &[0x52, 0x54, 0, 0x12, 0x34, 0x57]);
        assert_eq!(&t[nic0 + 96..nic0 + 98], &[0x18, 0]);
        // Target: port, LUN, NIC association, name string with NUL not counted.
        assert_eq!(&t[tgt0 + 22..tgt0 + 24], &[0xbc, 0x0c]);
        assert_eq!(&t[tgt0 + 24..tgt0 + 32], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(t[tgt0 + 33], 0);
        let (name_len, name_off) = (off(tgt0 + 34), off(tgt0 + 36));
        assert_eq!(&t[name_off..name_off + name_len + 1], b"iqn.t\0");
        let (iname_len, iname_off) = (off(ini + 70), off(ini + 72));
        assert_eq!(&t[iname_off..iname_off + iname_len], b"iqn.i");
    }

    #[test]
    fn rejects_bad_shapes_and_small_buffers() {
        let nic = StubNic {
            mac: [0; 6],
            pci_bdf: 0,
            address: None,
            gateway: None,
            dhcp_server: None,
        };
        let target = StubTarget {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3260,
            lun: [0; 8],
            nic_index: 1,
            name: "t",
        };
        let mut buf = [0u8; 1024];
        assert_eq!(build(&mut buf, "i", &[], 0, &[]), Err(StubError::Shape));
        assert_eq!(
            build(&mut buf, "i", &[nic], 0, &[target]),
            Err(StubError::Shape)
        );
        assert_eq!(build(&mut buf, "i", &[nic], 1, &[]), Err(StubError::Shape));
        assert_eq!(
            build(&mut buf[..100], "i", &[nic], 0, &[]),
            Err(StubError::BufferTooSmall)
        );
    }
}
