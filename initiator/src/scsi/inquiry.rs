//! INQUIRY data: standard (SPC-4 §6.6.2), unit serial number VPD page 0x80 (§7.8.15) and device
//! identification VPD page 0x83 (§7.8.6).

use super::{ParseError, ascii_str, be16, need, trim_ascii};

/// Standard INQUIRY data (the first 36 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardInquiry<'a> {
    data: &'a [u8],
}

impl<'a> StandardInquiry<'a> {
    /// Length of the fields parsed here.
    pub const LEN: usize = 36;

    /// Checks that `data` holds at least [`Self::LEN`] bytes.
    pub fn parse(data: &'a [u8]) -> Result<Self, ParseError> {
        need(data, Self::LEN)?;
        Ok(Self { data })
    }

    /// The whole INQUIRY data as received (at least [`Self::LEN`] bytes).
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Peripheral qualifier (0 = connected, 1 = not connected, 3 = no LU here).
    #[must_use]
    pub fn peripheral_qualifier(&self) -> u8 {
        self.data[0] >> 5
    }

    /// Peripheral device type (0 = direct access block device, 5 = CD/DVD, 0x1f = unknown).
    #[must_use]
    pub fn device_type(&self) -> u8 {
        self.data[0] & 0x1f
    }

    /// Removable medium.
    #[must_use]
    pub fn removable(&self) -> bool {
        self.data[1] & 0x80 != 0
    }

    /// VERSION (6 = SPC-4).
    #[must_use]
    pub fn version(&self) -> u8 {
        self.data[2]
    }

    /// T10 vendor identification, padding trimmed.
    #[must_use]
    pub fn vendor(&self) -> &'a [u8] {
        trim_ascii(&self.data[8..16])
    }

    /// Product identification, padding trimmed.
    #[must_use]
    pub fn product(&self) -> &'a [u8] {
        trim_ascii(&self.data[16..32])
    }

    /// Product revision level, padding trimmed.
    #[must_use]
    pub fn revision(&self) -> &'a [u8] {
        trim_ascii(&self.data[32..36])
    }

    /// [`vendor`](Self::vendor) as text, if printable ASCII.
    #[must_use]
    pub fn vendor_str(&self) -> Option<&'a str> {
        ascii_str(self.vendor())
    }

    /// [`product`](Self::product) as text, if printable ASCII.
    #[must_use]
    pub fn product_str(&self) -> Option<&'a str> {
        ascii_str(self.product())
    }

    /// [`revision`](Self::revision) as text, if printable ASCII.
    #[must_use]
    pub fn revision_str(&self) -> Option<&'a str> {
        ascii_str(self.revision())
    }
}

/// Header of a VPD page: checks the page code, returns the page body bounded by PAGE LENGTH
/// and by the bytes actually received.
fn vpd_body(data: &[u8], page: u8) -> Result<&[u8], ParseError> {
    need(data, 4)?;
    if data[1] != page {
        return Err(ParseError::UnexpectedCode(data[1]));
    }
    let len = usize::from(be16(data, 2));
    let end = 4usize.saturating_add(len).min(data.len());
    Ok(&data[4..end])
}

/// VPD page 0x80: the unit serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitSerialNumber<'a> {
    serial: &'a [u8],
}

impl<'a> UnitSerialNumber<'a> {
    /// Parses page 0x80.
    pub fn parse(data: &'a [u8]) -> Result<Self, ParseError> {
        Ok(Self {
            serial: trim_ascii(vpd_body(data, super::cdb::vpd::UNIT_SERIAL_NUMBER)?),
        })
    }

    /// The serial number bytes, padding trimmed.
    #[must_use]
    pub fn serial(&self) -> &'a [u8] {
        self.serial
    }

    /// The serial as text, if printable ASCII.
    #[must_use]
    pub fn serial_str(&self) -> Option<&'a str> {
        ascii_str(self.serial)
    }
}

/// Designator type (SPC-4 table 459), an open enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DesignatorType {
    /// 0: vendor specific.
    VendorSpecific,
    /// 1: T10 vendor ID based.
    T10VendorId,
    /// 2: EUI-64 based.
    Eui64,
    /// 3: NAA.
    Naa,
    /// 4: relative target port identifier.
    RelativeTargetPort,
    /// 5: target port group.
    TargetPortGroup,
    /// 6: logical unit group.
    LogicalUnitGroup,
    /// 7: MD5 logical unit identifier.
    Md5LogicalUnit,
    /// 8: SCSI name string (e.g. the iSCSI name).
    ScsiNameString,
    /// 9: protocol specific port identifier.
    ProtocolSpecificPort,
    /// 10: UUID.
    Uuid,
    /// Anything else.
    Unknown(u8),
}

impl DesignatorType {
    /// The 4-bit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::VendorSpecific => 0,
            Self::T10VendorId => 1,
            Self::Eui64 => 2,
            Self::Naa => 3,
            Self::RelativeTargetPort => 4,
            Self::TargetPortGroup => 5,
            Self::LogicalUnitGroup => 6,
            Self::Md5LogicalUnit => 7,
            Self::ScsiNameString => 8,
            Self::ProtocolSpecificPort => 9,
            Self::Uuid => 10,
            Self::Unknown(code) => code,
        }
    }

    /// From the 4-bit code.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code {
            0 => Self::VendorSpecific,
            1 => Self::T10VendorId,
            2 => Self::Eui64,
            3 => Self::Naa,
            4 => Self::RelativeTargetPort,
            5 => Self::TargetPortGroup,
            6 => Self::LogicalUnitGroup,
            7 => Self::Md5LogicalUnit,
            8 => Self::ScsiNameString,
            9 => Self::ProtocolSpecificPort,
            10 => Self::Uuid,
            other => Self::Unknown(other),
        }
    }
}

/// What a designator identifies (ASSOCIATION).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Association {
    /// 0: the logical unit.
    LogicalUnit,
    /// 1: the target port.
    TargetPort,
    /// 2: the SCSI target device.
    TargetDevice,
    /// 3: reserved.
    Reserved,
}

/// CODE SET of a designator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSet {
    /// 1: binary.
    Binary,
    /// 2: ASCII.
    Ascii,
    /// 3: UTF-8.
    Utf8,
    /// Anything else.
    Unknown(u8),
}

/// One identification descriptor of VPD page 0x83.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Designator<'a> {
    /// PROTOCOL IDENTIFIER (5 = iSCSI), meaningful when `piv` is set.
    pub protocol_id: u8,
    /// CODE SET.
    pub code_set: CodeSet,
    /// PROTOCOL IDENTIFIER VALID.
    pub piv: bool,
    /// ASSOCIATION.
    pub association: Association,
    /// DESIGNATOR TYPE.
    pub designator_type: DesignatorType,
    /// The designator bytes.
    pub value: &'a [u8],
}

impl core::fmt::Display for Designator<'_> {
    /// The usual text forms (as Linux prints a `wwid`): `naa.` + hex for NAA, `eui.` + hex
    /// for EUI-64, `t10.` + the text for T10 vendor ID based, the string itself for a SCSI
    /// name string, and `type N:` + hex for anything else.
    ///
    /// ```
    /// use initiator::scsi::Designators;
    /// // page 0x83: an NAA 6 designator and a T10 vendor ID one
    /// let page = [
    ///     0, 0x83, 0, 32, //
    ///     0x01, 0x03, 0, 8, 0x60, 0x01, 0x40, 0x5f, 0xee, 0xd0, 0x00, 0x01, //
    ///     0x02, 0x01, 0, 16, b'I', b'E', b'T', b' ', b' ', b' ', b' ', b' ', //
    ///     b'0', b'0', b'0', b'1', b'0', b'0', b'0', b'1',
    /// ];
    /// let text: Vec<String> = Designators::parse(&page).unwrap().map(|d| d.to_string()).collect();
    /// assert_eq!(text, ["naa.6001405feed00001", "t10.IET     00010001"]);
    /// ```
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let text = match self.code_set {
            CodeSet::Ascii | CodeSet::Utf8 => core::str::from_utf8(trim_ascii(self.value)).ok(),
            _ => None,
        };
        match (self.designator_type, text) {
            (DesignatorType::T10VendorId, Some(t)) => write!(f, "t10.{t}"),
            (DesignatorType::ScsiNameString, Some(t)) => f.write_str(t),
            (DesignatorType::Naa, _) => write_hex(f, "naa.", self.value),
            (DesignatorType::Eui64, _) => write_hex(f, "eui.", self.value),
            (DesignatorType::Uuid, _) => write_hex(f, "uuid.", self.value),
            (other, Some(t)) => write!(f, "type {}:{t}", other.code()),
            (other, None) => {
                write!(f, "type {}:", other.code())?;
                write_hex(f, "", self.value)
            }
        }
    }
}

fn write_hex(f: &mut core::fmt::Formatter<'_>, prefix: &str, bytes: &[u8]) -> core::fmt::Result {
    f.write_str(prefix)?;
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// Iterator over the designators of VPD page 0x83; stops at the first truncated descriptor.
#[derive(Debug, Clone)]
pub struct Designators<'a> {
    rest: &'a [u8],
}

impl<'a> Designators<'a> {
    /// Parses page 0x83.
    ///
    /// ```
    /// use initiator::scsi::Designators;
    /// // page 0x83, one NAA designator (binary, LU) of 8 bytes
    /// let page = [0, 0x83, 0, 12, 0x01, 0x03, 0, 8, 0x60, 1, 2, 3, 4, 5, 6, 7];
    /// let d: Vec<_> = Designators::parse(&page).unwrap().collect();
    /// assert_eq!(d.len(), 1);
    /// assert_eq!(d[0].value, &[0x60, 1, 2, 3, 4, 5, 6, 7]);
    /// ```
    pub fn parse(data: &'a [u8]) -> Result<Self, ParseError> {
        Ok(Self {
            rest: vpd_body(data, super::cdb::vpd::DEVICE_IDENTIFICATION)?,
        })
    }
}

impl<'a> Iterator for Designators<'a> {
    type Item = Designator<'a>;

    fn next(&mut self) -> Option<Designator<'a>> {
        let head = self.rest.get(..4)?;
        let len = usize::from(head[3]);
        let Some(value) = self.rest.get(4..4 + len) else {
            self.rest = &[];
            return None;
        };
        let d = Designator {
            protocol_id: head[0] >> 4,
            code_set: match head[0] & 0x0f {
                1 => CodeSet::Binary,
                2 => CodeSet::Ascii,
                3 => CodeSet::Utf8,
                other => CodeSet::Unknown(other),
            },
            piv: head[1] & 0x80 != 0,
            association: match (head[1] >> 4) & 0x3 {
                0 => Association::LogicalUnit,
                1 => Association::TargetPort,
                2 => Association::TargetDevice,
                _ => Association::Reserved,
            },
            designator_type: DesignatorType::from_code(head[1] & 0x0f),
            value,
        };
        self.rest = self.rest.get(4 + len..).unwrap_or(&[]);
        Some(d)
    }
}
