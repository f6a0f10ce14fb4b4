//! Sense data (SPC-4 §4.5): fixed (0x70/0x71) and descriptor (0x72/0x73) formats, and how to
//! react to it.
//!
//! ```
//! use initiator::scsi::{Retry, Sense, SenseKey};
//! // fixed format, UNIT ATTENTION, ASC/ASCQ 29/00 (power on or reset)
//! let raw = [0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0x00, 0, 0, 0, 0];
//! let s = Sense::parse(&raw).unwrap();
//! assert_eq!(s.key, SenseKey::UnitAttention);
//! assert!(s.is_unit_attention());
//! assert_eq!(s.retry(), Retry::Immediately);
//! ```

use super::{ParseError, be32, be64, need};

/// SENSE KEY, an open enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenseKey {
    /// 0x0.
    NoSense,
    /// 0x1.
    RecoveredError,
    /// 0x2.
    NotReady,
    /// 0x3.
    MediumError,
    /// 0x4.
    HardwareError,
    /// 0x5.
    IllegalRequest,
    /// 0x6.
    UnitAttention,
    /// 0x7.
    DataProtect,
    /// 0x8.
    BlankCheck,
    /// 0x9.
    VendorSpecific,
    /// 0xA.
    CopyAborted,
    /// 0xB.
    AbortedCommand,
    /// 0xD.
    VolumeOverflow,
    /// 0xE.
    Miscompare,
    /// 0xF.
    Completed,
    /// 0xC (reserved).
    Unknown(u8),
}

impl SenseKey {
    /// The SPC-4 name of the key (table 28), upper case as in the standard.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoSense => "NO SENSE",
            Self::RecoveredError => "RECOVERED ERROR",
            Self::NotReady => "NOT READY",
            Self::MediumError => "MEDIUM ERROR",
            Self::HardwareError => "HARDWARE ERROR",
            Self::IllegalRequest => "ILLEGAL REQUEST",
            Self::UnitAttention => "UNIT ATTENTION",
            Self::DataProtect => "DATA PROTECT",
            Self::BlankCheck => "BLANK CHECK",
            Self::VendorSpecific => "VENDOR SPECIFIC",
            Self::CopyAborted => "COPY ABORTED",
            Self::AbortedCommand => "ABORTED COMMAND",
            Self::VolumeOverflow => "VOLUME OVERFLOW",
            Self::Miscompare => "MISCOMPARE",
            Self::Completed => "COMPLETED",
            Self::Unknown(_) => "sense key",
        }
    }

    /// The 4-bit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::NoSense => 0x0,
            Self::RecoveredError => 0x1,
            Self::NotReady => 0x2,
            Self::MediumError => 0x3,
            Self::HardwareError => 0x4,
            Self::IllegalRequest => 0x5,
            Self::UnitAttention => 0x6,
            Self::DataProtect => 0x7,
            Self::BlankCheck => 0x8,
            Self::VendorSpecific => 0x9,
            Self::CopyAborted => 0xa,
            Self::AbortedCommand => 0xb,
            Self::VolumeOverflow => 0xd,
            Self::Miscompare => 0xe,
            Self::Completed => 0xf,
            Self::Unknown(code) => code & 0x0f,
        }
    }

    /// From the 4-bit code.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code & 0x0f {
            0x0 => Self::NoSense,
            0x1 => Self::RecoveredError,
            0x2 => Self::NotReady,
            0x3 => Self::MediumError,
            0x4 => Self::HardwareError,
            0x5 => Self::IllegalRequest,
            0x6 => Self::UnitAttention,
            0x7 => Self::DataProtect,
            0x8 => Self::BlankCheck,
            0x9 => Self::VendorSpecific,
            0xa => Self::CopyAborted,
            0xb => Self::AbortedCommand,
            0xd => Self::VolumeOverflow,
            0xe => Self::Miscompare,
            0xf => Self::Completed,
            other => Self::Unknown(other),
        }
    }
}

/// Which sense data format was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenseFormat {
    /// 0x70 / 0x71.
    Fixed,
    /// 0x72 / 0x73.
    Descriptor,
}

/// What to do about a CHECK CONDITION.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// The command did not fail in a way a retry fixes.
    No,
    /// Reissue now (UNIT ATTENTION, ABORTED COMMAND).
    Immediately,
    /// Reissue after a pause (the unit is becoming ready).
    AfterDelay,
}

/// Parsed sense data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sense {
    /// Format.
    pub format: SenseFormat,
    /// Deferred error (0x71/0x73) rather than current.
    pub deferred: bool,
    /// SENSE KEY.
    pub key: SenseKey,
    /// ADDITIONAL SENSE CODE (0 if not transferred).
    pub asc: u8,
    /// ADDITIONAL SENSE CODE QUALIFIER (0 if not transferred).
    pub ascq: u8,
    /// INFORMATION, when marked valid (fixed: VALID bit; descriptor: information descriptor).
    pub information: Option<u64>,
}

impl core::fmt::Display for Sense {
    /// `ILLEGAL REQUEST (key 0x5, ASC 0x21, ASCQ 0x00)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} (key {:#x}, ASC {:#04x}, ASCQ {:#04x})",
            self.key.name(),
            self.key.code(),
            self.asc,
            self.ascq
        )
    }
}

impl Sense {
    /// Parses sense data (without iSCSI's 2-byte SenseLength prefix).
    ///
    /// Fixed format needs 3 bytes (ASC/ASCQ read as 0 when cut short, as SPC allows);
    /// descriptor format needs 4.
    pub fn parse(data: &[u8]) -> Result<Self, ParseError> {
        need(data, 1)?;
        let code = data[0] & 0x7f;
        match code {
            0x70 | 0x71 => {
                need(data, 3)?;
                // ADDITIONAL SENSE LENGTH bounds what follows byte 7.
                let avail = match data.get(7) {
                    Some(&n) => data.len().min(8 + usize::from(n)),
                    None => data.len(),
                };
                let data = &data[..avail];
                let information =
                    (data[0] & 0x80 != 0 && data.len() >= 7).then(|| u64::from(be32(data, 3)));
                Ok(Self {
                    format: SenseFormat::Fixed,
                    deferred: code == 0x71,
                    key: SenseKey::from_code(data[2]),
                    asc: data.get(12).copied().unwrap_or(0),
                    ascq: data.get(13).copied().unwrap_or(0),
                    information,
                })
            }
            0x72 | 0x73 => {
                need(data, 4)?;
                let end = match data.get(7) {
                    Some(&n) => data.len().min(8 + usize::from(n)),
                    None => data.len(),
                };
                let mut rest = data.get(8..end).unwrap_or(&[]);
                let mut information = None;
                while let [ty, len, ..] = *rest {
                    let total = 2 + usize::from(len);
                    let Some(desc) = rest.get(..total) else { break };
                    // Information descriptor: type 0, additional length 0x0a, VALID bit.
                    if ty == 0x00 && desc.len() >= 12 && desc[2] & 0x80 != 0 {
                        information = Some(be64(desc, 4));
                    }
                    rest = &rest[total..];
                }
                Ok(Self {
                    format: SenseFormat::Descriptor,
                    deferred: code == 0x73,
                    key: SenseKey::from_code(data[1]),
                    asc: data[2],
                    ascq: data[3],
                    information,
                })
            }
            other => Err(ParseError::UnexpectedCode(other)),
        }
    }

    /// UNIT ATTENTION (reset, capacity or LUN inventory changed, …).
    #[must_use]
    pub fn is_unit_attention(&self) -> bool {
        self.key == SenseKey::UnitAttention
    }

    /// NOT READY.
    #[must_use]
    pub fn is_not_ready(&self) -> bool {
        self.key == SenseKey::NotReady
    }

    /// ILLEGAL REQUEST / LOGICAL UNIT NOT SUPPORTED (25/00): wrong LUN.
    #[must_use]
    pub fn is_lun_not_supported(&self) -> bool {
        self.key == SenseKey::IllegalRequest && self.asc == 0x25 && self.ascq == 0
    }

    /// NOT READY / MEDIUM NOT PRESENT (3A/xx).
    #[must_use]
    pub fn is_medium_not_present(&self) -> bool {
        self.key == SenseKey::NotReady && self.asc == 0x3a
    }

    /// UNIT ATTENTION / CAPACITY DATA HAS CHANGED (2A/09).
    #[must_use]
    pub fn is_capacity_changed(&self) -> bool {
        self.is_unit_attention() && self.asc == 0x2a && self.ascq == 0x09
    }

    /// UNIT ATTENTION / REPORTED LUNS DATA HAS CHANGED (3F/0E).
    #[must_use]
    pub fn is_reported_luns_changed(&self) -> bool {
        self.is_unit_attention() && self.asc == 0x3f && self.ascq == 0x0e
    }

    /// Whether, and how soon, the command should be reissued.
    ///
    /// UNIT ATTENTION and ABORTED COMMAND: now. NOT READY 04/01 (becoming ready), 04/00 (cause
    /// not reportable), 04/0A (asymmetric access state transition): after a pause; other NOT
    /// READY causes (manual intervention, medium absent, offline) are not retried. NO SENSE and
    /// RECOVERED ERROR mean the command completed.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self.key {
            SenseKey::UnitAttention | SenseKey::AbortedCommand => Retry::Immediately,
            SenseKey::NotReady => match (self.asc, self.ascq) {
                (0x04, 0x00 | 0x01 | 0x0a) => Retry::AfterDelay,
                _ => Retry::No,
            },
            _ => Retry::No,
        }
    }

    /// True when retrying may help.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.retry() != Retry::No
    }
}
