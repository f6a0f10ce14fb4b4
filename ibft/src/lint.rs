//! The linter: stable codes, severities and the symptom each defect causes.
//!
//! Findings are handed to a callback one at a time, so linting needs no allocation; collect
//! them into a `heapless::Vec` or print them as they come.
//!
//! The checks themselves (`lint`, `lint_into`) are behind the `lint` feature (on by default);
//! the codes, severities and findings are always there.
//!
//! ```
//! # #[cfg(feature = "lint")] {
//! let mut codes = heapless::Vec::<&str, 32>::new();
//! let summary = ibft::lint(&[0u8; 10], &mut |f: ibft::Finding| { let _ = codes.push(f.code.as_str()); });
//! assert_eq!(codes.as_slice(), ["IBFT001"]);
//! assert_eq!(summary.errors, 1);
//! # }
//! ```

use core::fmt;

#[cfg(feature = "lint")]
use crate::parse::{NicRepr, Table, TargetRepr, flags};
use crate::parse::{Problem, Slot, StringField};
#[cfg(feature = "lint")]
use crate::types::{ChapType, Origin};
#[cfg(feature = "lint")]
use crate::wire;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Some consumer may misbehave.
    Warning,
    /// Some consumer rejects the table or boots wrongly.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

macro_rules! codes {
    ($($name:ident = $num:literal, $sev:ident, $title:literal, $why:literal;)*) => {
        /// A lint code; the numbers are stable.
        ///
        /// ```
        /// let c = ibft::Code::Checksum;
        /// assert_eq!((c.as_str(), c.severity()), ("IBFT004", ibft::Severity::Error));
        /// assert!(c.explanation().contains("Linux"));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = $title]
                $name,
            )*
        }

        impl Code {
            /// Every code, in number order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The stable code, e.g. `IBFT004`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => concat!("IBFT", $num),)* }
            }

            /// The severity.
            pub fn severity(self) -> Severity {
                match self { $(Code::$name => Severity::$sev,)* }
            }

            /// A short description of the defect.
            pub fn title(self) -> &'static str {
                match self { $(Code::$name => $title,)* }
            }

            /// One line on the symptom the defect causes (which OS fails, how).
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$name => $why,)* }
            }
        }
    };
}

codes! {
    Truncated = "001", Error, "table shorter than its header/control or than its length field",
        "Linux and Windows cannot read the table: no iSCSI boot information at the hand-off";
    Signature = "002", Error, "unknown signature",
        "Linux looks only for iBFT/IBFT/BIFT: \"No iBFT detected\", the root disk never appears";
    Revision = "003", Error, "revision is not 1",
        "Linux iscsi_ibft rejects the whole table: \"No iBFT detected\"";
    Checksum = "004", Error, "checksum wrong",
        "Linux and Windows' sanbootconf skip a table whose bytes do not sum to 0: no iSCSI boot information at the hand-off";
    HeaderReserved = "005", Warning, "reserved header bytes not zero",
        "FWTS fails the table; consumers that treat bytes 24..48 as ACPI creator fields may print junk";
    Control = "006", Error, "control structure malformed (id 1, index 0, length >= 18 expected)",
        "Linux rejects the whole table; no NIC or target reaches the OS";
    OffsetOutOfRange = "007", Error, "structure offset outside the table",
        "Linux skips the structure: that NIC or target is missing in the OS";
    Overflow = "008", Error, "structure runs past the end of the table",
        "consumers read beyond the table: garbage values or a skipped record";
    WrongId = "009", Error, "structure has the wrong id for its slot",
        "Linux skips the structure: that NIC or target is missing in the OS";
    WrongLength = "010", Error, "structure length is not the exact length of its kind",
        "Linux skips structures of the wrong length: that NIC or target is missing in the OS";
    Version = "011", Warning, "structure version is not 1",
        "strict firmware test suites fail the table; future consumers may reject it";
    DuplicateIndex = "012", Error, "two NICs or two targets share an index",
        "Linux sysfs registration fails and the whole iBFT disappears";
    ReservedFlags = "013", Error, "reserved flag bits set",
        "consumers may misread the record's validity or boot selection";
    StringOutOfRange = "014", Error, "string outside the table",
        "Linux reads bytes past the table (it does not check): garbage names, login fails";
    StringNotTerminated = "015", Warning, "string not followed by a NUL byte",
        "consumers that rely on the NUL (the spec requires it) read a longer string";
    StringNotText = "016", Warning, "string is not printable UTF-8 text",
        "iSCSI names and host names are ASCII; the OS initiator will fail to log in";
    DanglingNic = "017", Error, "target's NIC association names no NIC",
        "the OS does not know which port reaches the target: the hand-off fails";
    MissingInitiator = "018", Error, "no initiator structure",
        "the OS has no initiator name to log in with: the root disk never appears";
    Extensions = "019", Warning, "extensions offset set",
        "no consumer reads extensions; whatever they carry is lost";
    DuplicateMac = "020", Error, "two NICs with the same MAC and PCI address",
        "the OS brings up one port for two records; Linux may lose the table (duplicate sysfs entry)";
    MacOnTwoPciFunctions = "021", Error, "same MAC on different PCI functions",
        "MAC and PCI address belong to different ports: the OS configures the wrong port and the hand-off fails";
    WrongNicAssociation = "022", Error, "target associated with a NIC on another subnet while another NIC is on the target's subnet",
        "the OS initiator logs in through the wrong port: the session stalls or the boot disk is lost";
    GatewayOnLink = "023", Warning, "gateway set although the target is on-link",
        "Windows adds a permanent route to the target via the gateway (KB960104): 0xc00000e9 if it does not route back";
    MoreThanTwoPairs = "024", Warning, "more than two NIC/target pairs (control length is not 18)",
        "Linux kernels before the 2020 change \"iscsi_ibft: Don't limits Targets and NICs to two\" reject the whole table";
    ShortChapSecret = "025", Warning, "CHAP secret shorter than 12 characters",
        "the Microsoft initiator refuses the secret, even when unused: Windows fails to boot";
    NotValid = "026", Warning, "flags have neither valid nor boot-selected",
        "open-iscsi and dracut ignore the record: that NIC or target is not used by Linux";
    DhcpWithoutServer = "027", Warning, "origin DHCP without DHCP server",
        "dracut re-runs DHCP for the port; Windows may treat the address as static";
    BadPrefix = "028", Error, "subnet prefix 0 or too long",
        "the OS configures the port with a bogus netmask: targets become unreachable";
    NoBootNic = "029", Error, "no boot-selected NIC",
        "open-iscsi finds no boot NIC; Windows cannot tell which port carries its disk";
    NoBootTarget = "030", Error, "no boot-selected target",
        "open-iscsi finds no boot target: the root disk never appears";
    VlanRange = "031", Warning, "VLAN above 4095",
        "the VLAN field holds a 12-bit id; the OS tags frames wrongly";
    DuplicatePci = "032", Error, "two NICs with the same PCI address and different MACs",
        "the OS cannot map both records to ports: one port is configured wrongly";
    ChapMismatch = "033", Warning, "CHAP type and CHAP strings disagree",
        "the OS initiator logs in with or without CHAP contrary to the target: login fails";
    EmptyInitiatorName = "034", Error, "initiator name empty",
        "the OS initiator has no name to log in with: the root disk never appears";
    TargetWithoutAddress = "035", Error, "target address empty",
        "the OS initiator cannot reach the target: the root disk never appears";
    EmptyTargetName = "036", Error, "target name empty",
        "the OS initiator cannot log in to an unnamed target: the root disk never appears";
}

impl Code {
    /// The code that reports a decoding problem.
    pub fn of_problem(p: &Problem) -> Code {
        match p {
            Problem::TooShort { .. } | Problem::Length { .. } => Code::Truncated,
            Problem::Signature(_) => Code::Signature,
            Problem::Revision(_) => Code::Revision,
            Problem::Checksum(_) => Code::Checksum,
            Problem::HeaderReserved => Code::HeaderReserved,
            Problem::Control { .. } => Code::Control,
            Problem::Extensions(_) => Code::Extensions,
            Problem::OffsetOutOfRange { .. } => Code::OffsetOutOfRange,
            Problem::Overflow { .. } => Code::Overflow,
            Problem::WrongId { .. } => Code::WrongId,
            Problem::WrongLength { .. } => Code::WrongLength,
            Problem::Version { .. } => Code::Version,
            Problem::DuplicateIndex { .. } => Code::DuplicateIndex,
            Problem::ReservedFlags { .. } => Code::ReservedFlags,
            Problem::StringOutOfRange { .. } => Code::StringOutOfRange,
            Problem::StringNotTerminated { .. } => Code::StringNotTerminated,
            Problem::StringNotText { .. } => Code::StringNotText,
            Problem::DanglingNic { .. } => Code::DanglingNic,
            Problem::MissingInitiator => Code::MissingInitiator,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint finding; `Display` gives the one-line form `CODE severity where: what -- symptom`.
///
/// ```
/// let f = ibft::Finding::from(ibft::Problem::Revision(2));
/// assert_eq!(f.code, ibft::Code::Revision);
/// assert_eq!(f.severity(), ibft::Severity::Error);
/// assert!(f.to_string().starts_with("IBFT003 error revision 2, expected 1 -- Linux"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// The code.
    pub code: Code,
    /// Where.
    pub slot: Slot,
    /// The record it conflicts with, for pairwise findings.
    pub related: Option<Slot>,
    /// The decoding problem, for structural findings.
    pub problem: Option<Problem>,
    /// The string concerned, for findings about one string (e.g. which CHAP secret).
    pub field: Option<StringField>,
}

impl From<Problem> for Finding {
    /// The finding that reports a decoding problem.
    fn from(p: Problem) -> Self {
        Finding {
            code: Code::of_problem(&p),
            slot: problem_slot(&p),
            related: None,
            problem: Some(p),
            field: None,
        }
    }
}

impl Finding {
    /// The severity of the finding's code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

impl fmt::Display for Finding {
    /// `CODE severity where: what -- symptom`, on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.code, self.code.severity())?;
        match &self.problem {
            Some(p) => write!(f, "{p}")?,
            None => write!(f, "{}: {}", self.slot, self.code.title())?,
        }
        if let Some(field) = self.field {
            write!(f, " ({field})")?;
        }
        if let Some(r) = self.related {
            write!(f, " (with {r})")?;
        }
        write!(f, " -- {}", self.code.explanation())
    }
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LintSummary {
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
}

#[cfg(feature = "lint")]
/// NICs and targets beyond this many slots are not compared pairwise (keeps linting of
/// hostile tables linear).
pub const PAIRWISE_LIMIT: u16 = 64;

#[cfg(feature = "lint")]
/// Lints a table: every decoding problem plus the semantic defects consumers trip over.
/// Findings go to `sink` one by one; the return value counts them.
pub fn lint(bytes: &[u8], sink: &mut impl FnMut(Finding)) -> LintSummary {
    let mut summary = LintSummary::default();
    let mut emit = |f: Finding| {
        match f.severity() {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
        }
        sink(f)
    };
    let table = Table::decode(bytes, &mut |p: Problem| emit(p.into()));
    if let Ok(table) = table {
        semantic(&table, &mut emit);
    }
    summary
}

#[cfg(feature = "lint")]
/// [`lint()`] into a fixed-capacity collection (no allocation); the summary counts every
/// finding, including those beyond `N`.
///
/// ```
/// let bytes = include_bytes!("../tests/data/lkml-3nic-3target.bin");
/// let (findings, summary) = ibft::lint_into::<16>(bytes);
/// assert_eq!(findings.len(), 4);
/// assert_eq!((summary.errors, summary.warnings), (3, 1));
/// ```
pub fn lint_into<const N: usize>(bytes: &[u8]) -> (heapless::Vec<Finding, N>, LintSummary) {
    let mut findings = heapless::Vec::new();
    let summary = lint(bytes, &mut |f| {
        let _ = findings.push(f);
    });
    (findings, summary)
}

fn problem_slot(p: &Problem) -> Slot {
    match *p {
        Problem::OffsetOutOfRange { slot, .. }
        | Problem::Overflow { slot, .. }
        | Problem::WrongId { slot, .. }
        | Problem::WrongLength { slot, .. }
        | Problem::Version { slot, .. }
        | Problem::DuplicateIndex { slot, .. }
        | Problem::ReservedFlags { slot, .. }
        | Problem::StringOutOfRange { slot, .. }
        | Problem::StringNotTerminated { slot, .. }
        | Problem::StringNotText { slot, .. }
        | Problem::DanglingNic { slot, .. } => slot,
        Problem::Control { .. } | Problem::Extensions(_) => Slot::Control,
        Problem::MissingInitiator => Slot::Initiator,
        _ => Slot::Header,
    }
}

#[cfg(feature = "lint")]
fn finding(code: Code, slot: Slot, related: Option<Slot>) -> Finding {
    Finding {
        code,
        slot,
        related,
        problem: None,
        field: None,
    }
}

#[cfg(feature = "lint")]
fn semantic(table: &Table<'_>, emit: &mut impl FnMut(Finding)) {
    let control_len = u16::from_le_bytes([table.bytes()[0x32], table.bytes()[0x33]]);
    if usize::from(control_len) != wire::control::MIN_LEN && table.slot_pairs() > 2 {
        emit(finding(Code::MoreThanTwoPairs, Slot::Control, None));
    }
    if let Some(init) = table.initiator() {
        if init.name.is_empty() {
            emit(finding(Code::EmptyInitiatorName, Slot::Initiator, None));
        }
        if init.flags & (flags::VALID | flags::BOOT_SELECTED) == 0 {
            emit(finding(Code::NotValid, Slot::Initiator, None));
        }
    }

    let limit = table.slot_pairs().min(PAIRWISE_LIMIT);
    let nics = || (0..limit).filter_map(|k| table.nic(k));
    let targets = || (0..limit).filter_map(|k| table.target(k));
    let mut boot_nic = false;
    for nic in nics() {
        lint_nic(&nic, emit);
        boot_nic |= nic.flags & flags::BOOT_SELECTED != 0;
        for other in nics().take_while(|o| o.slot < nic.slot) {
            if other.offset == nic.offset {
                continue;
            }
            let (a, b) = (&other.config, &nic.config);
            let related = Some(Slot::Nic(other.slot));
            if a.mac == b.mac {
                let code = if a.pci == b.pci {
                    Code::DuplicateMac
                } else {
                    Code::MacOnTwoPciFunctions
                };
                emit(finding(code, Slot::Nic(nic.slot), related));
            } else if a.pci.is_some() && a.pci == b.pci {
                emit(finding(Code::DuplicatePci, Slot::Nic(nic.slot), related));
            }
        }
    }
    if table.nics().next().is_some() && !boot_nic {
        emit(finding(Code::NoBootNic, Slot::Control, None));
    }

    let mut boot_target = false;
    for t in targets() {
        lint_target(&t, emit);
        boot_target |= t.flags & flags::BOOT_SELECTED != 0;
        let (Some(addr), Some(nic)) = (t.address, nics().find(|n| n.index == t.nic)) else {
            continue;
        };
        let slot = Slot::Target(t.slot);
        if nic.config.address.is_some_and(|c| c.contains(addr)) {
            // A gateway equal to the target is sanbootconf's workaround, not a defect.
            if nic.config.gateway.is_some_and(|g| g != addr) {
                emit(finding(
                    Code::GatewayOnLink,
                    Slot::Nic(nic.slot),
                    Some(slot),
                ));
            }
        } else if let Some(right) =
            nics().find(|n| n.config.address.is_some_and(|c| c.contains(addr)))
        {
            emit(finding(
                Code::WrongNicAssociation,
                slot,
                Some(Slot::Nic(right.slot)),
            ));
        }
    }
    if !boot_target {
        emit(finding(Code::NoBootTarget, Slot::Control, None));
    }
}

#[cfg(feature = "lint")]
fn lint_nic(nic: &NicRepr<'_>, emit: &mut impl FnMut(Finding)) {
    let slot = Slot::Nic(nic.slot);
    if nic.flags & (flags::VALID | flags::BOOT_SELECTED) == 0 {
        emit(finding(Code::NotValid, slot, None));
    }
    if nic.config.address.is_some_and(|a| !a.is_valid()) {
        emit(finding(Code::BadPrefix, slot, None));
    }
    if nic.config.origin == Origin::Dhcp && nic.config.dhcp_server.is_none() {
        emit(finding(Code::DhcpWithoutServer, slot, None));
    }
    if nic.config.vlan > 4095 {
        emit(finding(Code::VlanRange, slot, None));
    }
}

#[cfg(feature = "lint")]
fn lint_target(t: &TargetRepr<'_>, emit: &mut impl FnMut(Finding)) {
    let slot = Slot::Target(t.slot);
    if t.flags & (flags::VALID | flags::BOOT_SELECTED) == 0 {
        emit(finding(Code::NotValid, slot, None));
    }
    if t.address.is_none() {
        emit(finding(Code::TargetWithoutAddress, slot, None));
    }
    if t.name.is_empty() {
        emit(finding(Code::EmptyTargetName, slot, None));
    }
    for (secret, field) in [
        (t.chap_secret, StringField::ChapSecret),
        (t.reverse_chap_secret, StringField::ReverseChapSecret),
    ] {
        if !secret.is_empty() && secret.chars().count() < 12 {
            emit(Finding {
                field: Some(field),
                ..finding(Code::ShortChapSecret, slot, None)
            });
        }
    }
    let has_chap = !t.chap_name.is_empty() || !t.chap_secret.is_empty();
    let has_rchap = !t.reverse_chap_name.is_empty() || !t.reverse_chap_secret.is_empty();
    let consistent = match t.chap_type {
        ChapType::None => !has_chap && !has_rchap,
        ChapType::Chap => has_chap && !has_rchap,
        ChapType::Mutual => has_chap && has_rchap,
        ChapType::Unknown(_) => false,
    };
    if !consistent {
        emit(finding(Code::ChapMismatch, slot, None));
    }
}
