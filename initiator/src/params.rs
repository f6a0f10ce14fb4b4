//! Login-time operational parameter negotiation (RFC 7143 §6.2, §13).
//!
//! [`Config`] says what we want; [`Negotiator::write_offer`] writes **every** key we rely on,
//! defaults included (some targets assume 0 for an unsent key; LIO requires `FirstBurstLength`);
//! [`Negotiator::apply`] takes each `(key, value)` the target sends, checks answers against the
//! offer with the key's result function, and answers keys the target offers on its own;
//! [`Negotiator::finish`] yields the [`Negotiated`] values the session runs with.
//!
//! Everything here works on `&str` pairs; the PDU code is not involved.
//!
//! ```
//! use initiator::params::{Config, Negotiator, SessionType};
//! let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
//! let mut offer = Vec::new();
//! n.write_offer(&mut |k: &str, v: &str| offer.push(format!("{k}={v}"))).unwrap();
//! assert!(offer.contains(&"FirstBurstLength=262144".to_owned()));
//! let mut reply = Vec::new();
//! n.apply("MaxBurstLength", "262144", &mut |k: &str, v: &str| reply.push(format!("{k}={v}"))).unwrap();
//! n.apply("MaxRecvDataSegmentLength", "65536", &mut |k: &str, v: &str| reply.push(format!("{k}={v}"))).unwrap();
//! let done = n.finish().unwrap();
//! assert_eq!(done.max_burst_length, 262144);
//! assert_eq!(done.max_send_data_segment_length, 65536);
//! assert!(reply.is_empty());
//! ```

use crate::text::{format_bool as yes_no, format_decimal as decimal};
use core::convert::Infallible;
use core::fmt;

/// Where key=value pairs are written (a login/text data segment, a test vector, …).
pub trait KeySink {
    /// Why a pair could not be written (e.g. the buffer is full).
    type Error;
    /// Writes one pair.
    fn put(&mut self, key: &str, value: &str) -> Result<(), Self::Error>;
}

impl<F: FnMut(&str, &str)> KeySink for F {
    type Error = Infallible;
    fn put(&mut self, key: &str, value: &str) -> Result<(), Infallible> {
        self(key, value);
        Ok(())
    }
}

impl KeySink for crate::text::TextWriter<'_> {
    type Error = crate::text::WriteError;
    fn put(&mut self, key: &str, value: &str) -> Result<(), Self::Error> {
        self.push(key, value)
    }
}

/// Largest value of the 24-bit length keys (RFC 7143 §13.12–13.14).
pub const MAX_LENGTH: u32 = (1 << 24) - 1;
/// Smallest value of the length keys.
pub const MIN_LENGTH: u32 = 512;
/// Largest DefaultTime2Wait / DefaultTime2Retain.
pub const MAX_TIME2: u32 = 3600;

/// A digest algorithm for headers or data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Digest {
    /// No digest.
    #[default]
    None,
    /// CRC32C.
    Crc32c,
}

impl Digest {
    /// The key value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Crc32c => "CRC32C",
        }
    }
}

/// What we accept for a digest, offered in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DigestPolicy {
    /// Offer `None` only.
    Off,
    /// Offer `None,CRC32C`.
    #[default]
    PreferNone,
    /// Offer `CRC32C,None`.
    PreferCrc32c,
    /// Offer `CRC32C` only.
    Require,
}

impl DigestPolicy {
    /// The list we offer.
    #[must_use]
    pub const fn offer(self) -> &'static str {
        match self {
            Self::Off => "None",
            Self::PreferNone => "None,CRC32C",
            Self::PreferCrc32c => "CRC32C,None",
            Self::Require => "CRC32C",
        }
    }

    /// True if `d` is acceptable.
    #[must_use]
    pub const fn accepts(self, d: Digest) -> bool {
        matches!(
            (self, d),
            (
                Self::Off | Self::PreferNone | Self::PreferCrc32c,
                Digest::None
            ) | (
                Self::PreferNone | Self::PreferCrc32c | Self::Require,
                Digest::Crc32c
            )
        )
    }

    /// Our choice from a list the target offers, by our preference.
    fn choose(self, list: &str) -> Option<Digest> {
        let has = |d: Digest| list.split(',').any(|v| v == d.as_str());
        let order: &[Digest] = match self {
            Self::Off => &[Digest::None],
            Self::PreferNone => &[Digest::None, Digest::Crc32c],
            Self::PreferCrc32c => &[Digest::Crc32c, Digest::None],
            Self::Require => &[Digest::Crc32c],
        };
        order.iter().copied().find(|&d| has(d))
    }
}

/// Discovery or normal session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SessionType {
    /// `SessionType=Normal`.
    #[default]
    Normal,
    /// `SessionType=Discovery` (SendTargets).
    Discovery,
}

impl SessionType {
    /// The key value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Discovery => "Discovery",
        }
    }
}

/// The operational values we ask for. Values are clamped to their spec range on use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// HeaderDigest offer.
    pub header_digest: DigestPolicy,
    /// DataDigest offer.
    pub data_digest: DigestPolicy,
    /// MaxConnections (we drive one connection).
    pub max_connections: u16,
    /// InitialR2T.
    pub initial_r2t: bool,
    /// ImmediateData.
    pub immediate_data: bool,
    /// Our MaxRecvDataSegmentLength: the largest data segment we accept.
    pub max_recv_data_segment_length: u32,
    /// MaxBurstLength.
    pub max_burst_length: u32,
    /// FirstBurstLength.
    pub first_burst_length: u32,
    /// DefaultTime2Wait, seconds.
    pub default_time2wait: u16,
    /// DefaultTime2Retain, seconds.
    pub default_time2retain: u16,
    /// MaxOutstandingR2T.
    pub max_outstanding_r2t: u16,
    /// DataPDUInOrder.
    pub data_pdu_in_order: bool,
    /// DataSequenceInOrder.
    pub data_sequence_in_order: bool,
    /// ErrorRecoveryLevel (0..=2).
    pub error_recovery_level: u8,
}

impl Default for Config {
    /// MaxRecvDSL 256 KiB, MaxBurst 1 MiB, FirstBurst 256 KiB, ImmediateData=Yes, InitialR2T=No,
    /// digests `None,CRC32C`, everything else the RFC default.
    fn default() -> Self {
        Self {
            header_digest: DigestPolicy::PreferNone,
            data_digest: DigestPolicy::PreferNone,
            max_connections: 1,
            initial_r2t: false,
            immediate_data: true,
            max_recv_data_segment_length: 256 * 1024,
            max_burst_length: 1024 * 1024,
            first_burst_length: 256 * 1024,
            default_time2wait: 2,
            default_time2retain: 20,
            max_outstanding_r2t: 1,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            error_recovery_level: 0,
        }
    }
}

impl Config {
    /// The configuration clamped into the spec ranges (FirstBurst ≤ MaxBurst too).
    #[must_use]
    pub fn normalized(&self) -> Self {
        let mut c = *self;
        c.max_connections = c.max_connections.max(1);
        c.max_recv_data_segment_length =
            c.max_recv_data_segment_length.clamp(MIN_LENGTH, MAX_LENGTH);
        c.max_burst_length = c.max_burst_length.clamp(MIN_LENGTH, MAX_LENGTH);
        c.first_burst_length = c
            .first_burst_length
            .clamp(MIN_LENGTH, MAX_LENGTH)
            .min(c.max_burst_length);
        c.default_time2wait = c.default_time2wait.min(MAX_TIME2 as u16);
        c.default_time2retain = c.default_time2retain.min(MAX_TIME2 as u16);
        c.max_outstanding_r2t = c.max_outstanding_r2t.max(1);
        c.error_recovery_level = c.error_recovery_level.min(2);
        c
    }
}

/// The values a session runs with after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// HeaderDigest.
    pub header_digest: Digest,
    /// DataDigest.
    pub data_digest: Digest,
    /// MaxConnections.
    pub max_connections: u16,
    /// InitialR2T.
    pub initial_r2t: bool,
    /// ImmediateData.
    pub immediate_data: bool,
    /// Largest data segment we receive (our declaration).
    pub max_recv_data_segment_length: u32,
    /// Largest data segment we may send (the target's declaration; 8192 if it declared none).
    pub max_send_data_segment_length: u32,
    /// MaxBurstLength.
    pub max_burst_length: u32,
    /// FirstBurstLength.
    pub first_burst_length: u32,
    /// DefaultTime2Wait, seconds.
    pub default_time2wait: u16,
    /// DefaultTime2Retain, seconds.
    pub default_time2retain: u16,
    /// MaxOutstandingR2T.
    pub max_outstanding_r2t: u16,
    /// DataPDUInOrder.
    pub data_pdu_in_order: bool,
    /// DataSequenceInOrder.
    pub data_sequence_in_order: bool,
    /// ErrorRecoveryLevel.
    pub error_recovery_level: u8,
    /// TargetPortalGroupTag, if the target declared it.
    pub target_portal_group_tag: Option<u16>,
}

impl Default for Negotiated {
    /// The RFC 7143 §13 defaults.
    fn default() -> Self {
        Self {
            header_digest: Digest::None,
            data_digest: Digest::None,
            max_connections: 1,
            initial_r2t: true,
            immediate_data: true,
            max_recv_data_segment_length: 8192,
            max_send_data_segment_length: 8192,
            max_burst_length: 262_144,
            first_burst_length: 65_536,
            default_time2wait: 2,
            default_time2retain: 20,
            max_outstanding_r2t: 1,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            error_recovery_level: 0,
            target_portal_group_tag: None,
        }
    }
}

/// The keys this module knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// HeaderDigest (list).
    HeaderDigest,
    /// DataDigest (list).
    DataDigest,
    /// MaxConnections (minimum).
    MaxConnections,
    /// InitialR2T (or).
    InitialR2T,
    /// ImmediateData (and).
    ImmediateData,
    /// MaxRecvDataSegmentLength (declarative).
    MaxRecvDataSegmentLength,
    /// MaxBurstLength (minimum).
    MaxBurstLength,
    /// FirstBurstLength (minimum).
    FirstBurstLength,
    /// DefaultTime2Wait (maximum).
    DefaultTime2Wait,
    /// DefaultTime2Retain (minimum).
    DefaultTime2Retain,
    /// MaxOutstandingR2T (minimum).
    MaxOutstandingR2T,
    /// DataPDUInOrder (or).
    DataPDUInOrder,
    /// DataSequenceInOrder (or).
    DataSequenceInOrder,
    /// ErrorRecoveryLevel (minimum).
    ErrorRecoveryLevel,
    /// SessionType (declarative, initiator).
    SessionType,
    /// TargetName.
    TargetName,
    /// InitiatorName.
    InitiatorName,
    /// InitiatorAlias.
    InitiatorAlias,
    /// TargetAlias (declarative, target).
    TargetAlias,
    /// TargetPortalGroupTag (declarative, target).
    TargetPortalGroupTag,
    /// TargetAddress (declarative, target).
    TargetAddress,
    /// AuthMethod (list).
    AuthMethod,
}

/// The result function of a negotiated key (RFC 7143 §6.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Ordered list; the responder picks the first it supports.
    List,
    /// Number, result is the smaller.
    Min,
    /// Number, result is the larger.
    Max,
    /// Boolean OR.
    Or,
    /// Boolean AND.
    And,
    /// Declared by one side, no answer.
    Declarative,
}

impl Key {
    /// Every key, in the order we write them.
    pub const ALL: [Key; 22] = [
        Key::InitiatorName,
        Key::InitiatorAlias,
        Key::SessionType,
        Key::TargetName,
        Key::AuthMethod,
        Key::HeaderDigest,
        Key::DataDigest,
        Key::MaxConnections,
        Key::InitialR2T,
        Key::ImmediateData,
        Key::MaxRecvDataSegmentLength,
        Key::MaxBurstLength,
        Key::FirstBurstLength,
        Key::DefaultTime2Wait,
        Key::DefaultTime2Retain,
        Key::MaxOutstandingR2T,
        Key::DataPDUInOrder,
        Key::DataSequenceInOrder,
        Key::ErrorRecoveryLevel,
        Key::TargetAlias,
        Key::TargetPortalGroupTag,
        Key::TargetAddress,
    ];

    /// The key name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Key::HeaderDigest => "HeaderDigest",
            Key::DataDigest => "DataDigest",
            Key::MaxConnections => "MaxConnections",
            Key::InitialR2T => "InitialR2T",
            Key::ImmediateData => "ImmediateData",
            Key::MaxRecvDataSegmentLength => "MaxRecvDataSegmentLength",
            Key::MaxBurstLength => "MaxBurstLength",
            Key::FirstBurstLength => "FirstBurstLength",
            Key::DefaultTime2Wait => "DefaultTime2Wait",
            Key::DefaultTime2Retain => "DefaultTime2Retain",
            Key::MaxOutstandingR2T => "MaxOutstandingR2T",
            Key::DataPDUInOrder => "DataPDUInOrder",
            Key::DataSequenceInOrder => "DataSequenceInOrder",
            Key::ErrorRecoveryLevel => "ErrorRecoveryLevel",
            Key::SessionType => "SessionType",
            Key::TargetName => "TargetName",
            Key::InitiatorName => "InitiatorName",
            Key::InitiatorAlias => "InitiatorAlias",
            Key::TargetAlias => "TargetAlias",
            Key::TargetPortalGroupTag => "TargetPortalGroupTag",
            Key::TargetAddress => "TargetAddress",
            Key::AuthMethod => "AuthMethod",
        }
    }

    /// The key for a name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its result function.
    #[must_use]
    pub const fn kind(self) -> KeyKind {
        match self {
            Key::HeaderDigest | Key::DataDigest | Key::AuthMethod => KeyKind::List,
            Key::MaxConnections
            | Key::MaxBurstLength
            | Key::FirstBurstLength
            | Key::DefaultTime2Retain
            | Key::MaxOutstandingR2T
            | Key::ErrorRecoveryLevel => KeyKind::Min,
            Key::DefaultTime2Wait => KeyKind::Max,
            Key::InitialR2T | Key::DataPDUInOrder | Key::DataSequenceInOrder => KeyKind::Or,
            Key::ImmediateData => KeyKind::And,
            Key::MaxRecvDataSegmentLength
            | Key::SessionType
            | Key::TargetName
            | Key::InitiatorName
            | Key::InitiatorAlias
            | Key::TargetAlias
            | Key::TargetPortalGroupTag
            | Key::TargetAddress => KeyKind::Declarative,
        }
    }

    /// Inclusive range of a numeric key.
    #[must_use]
    pub const fn range(self) -> Option<(u32, u32)> {
        Some(match self {
            Key::MaxConnections | Key::MaxOutstandingR2T => (1, 65535),
            Key::MaxRecvDataSegmentLength | Key::MaxBurstLength | Key::FirstBurstLength => {
                (MIN_LENGTH, MAX_LENGTH)
            }
            Key::DefaultTime2Wait | Key::DefaultTime2Retain => (0, MAX_TIME2),
            Key::ErrorRecoveryLevel => (0, 2),
            Key::TargetPortalGroupTag => (0, 65535),
            _ => return None,
        })
    }

    /// True for keys that only matter in a normal session (RFC 7143 §13: "Irrelevant" in
    /// discovery sessions).
    #[must_use]
    pub const fn normal_session_only(self) -> bool {
        matches!(
            self,
            Key::MaxConnections
                | Key::InitialR2T
                | Key::ImmediateData
                | Key::MaxBurstLength
                | Key::FirstBurstLength
                | Key::MaxOutstandingR2T
                | Key::DataPDUInOrder
                | Key::DataSequenceInOrder
        )
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Negotiation failed: the outcome cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A number is malformed or outside the key's range.
    #[error("{} value out of range or malformed", .0.name())]
    OutOfRange(Key),
    /// The answer violates the result function (e.g. larger than our minimum offer, or a list
    /// item we did not offer).
    #[error("{} answer is not a legal result of our offer", .0.name())]
    NotOffered(Key),
    /// The target rejected a key whose default we cannot live with (e.g. a required digest).
    #[error("target rejected {}", .0.name())]
    Rejected(Key),
    /// The target does not understand a key we cannot do without.
    #[error("target does not understand {}", .0.name())]
    NotUnderstood(Key),
    /// The result is inconsistent (FirstBurstLength above MaxBurstLength).
    #[error("FirstBurstLength exceeds MaxBurstLength")]
    Inconsistent,
    /// The target sent an initiator-only key.
    #[error("target sent initiator key {}", .0.name())]
    WrongDirection(Key),
}

/// What [`Negotiator::apply`] did with a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// An answer to our offer (or a target declaration), recorded.
    Recorded,
    /// A target offer we answered through the sink.
    Answered,
    /// Ignored (a declaration we need not keep, or `Irrelevant`).
    Ignored,
    /// Not an operational key (e.g. `AuthMethod`, `CHAP_*`, `TargetAddress` for redirects):
    /// left for the caller.
    NotMine,
}

/// [`Negotiator::apply`] failed: the negotiation, or the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyError<E> {
    /// The outcome is unusable.
    Param(ParamError),
    /// The sink refused our answer.
    Sink(E),
}

impl<E> From<ParamError> for ApplyError<E> {
    fn from(e: ParamError) -> Self {
        Self::Param(e)
    }
}

impl<E: fmt::Display> fmt::Display for ApplyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Param(e) => write!(f, "{e}"),
            Self::Sink(e) => write!(f, "cannot write answer: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ApplyError<E> {}

/// Drives one login's operational negotiation.
#[derive(Debug, Clone)]
pub struct Negotiator {
    config: Config,
    session_type: SessionType,
    offered: u32,
    result: Negotiated,
}

/// Parses a decimal or `0x` hex number (RFC 7143 §6.1 numerical values) up to `u32`
/// ([`crate::text::parse_u32`] without the error detail).
#[must_use]
pub fn parse_number(value: &str) -> Option<u32> {
    crate::text::parse_u32(value).ok()
}

fn parse_bool(value: &str) -> Option<bool> {
    crate::text::parse_bool(value).ok()
}

impl Negotiator {
    /// Starts a negotiation for `config` (normalized) and a session type.
    #[must_use]
    pub fn new(config: &Config, session_type: SessionType) -> Self {
        let config = config.normalized();
        let mut result = Negotiated {
            max_recv_data_segment_length: config.max_recv_data_segment_length,
            ..Negotiated::default()
        };
        if session_type == SessionType::Discovery {
            result.max_connections = 1;
        }
        Self {
            config,
            session_type,
            offered: 0,
            result,
        }
    }

    /// The normalized configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Our value for an operational key, as written in the offer.
    fn our_value<'b>(&self, key: Key, buf: &'b mut [u8; 10]) -> Option<&'b str> {
        let c = &self.config;
        let num = |v: u32, buf: &'b mut [u8; 10]| -> &'b str { decimal(v, buf) };
        Some(match key {
            Key::HeaderDigest => c.header_digest.offer(),
            Key::DataDigest => c.data_digest.offer(),
            Key::MaxConnections => num(c.max_connections.into(), buf),
            Key::InitialR2T => yes_no(c.initial_r2t),
            Key::ImmediateData => yes_no(c.immediate_data),
            Key::MaxRecvDataSegmentLength => num(c.max_recv_data_segment_length, buf),
            Key::MaxBurstLength => num(c.max_burst_length, buf),
            Key::FirstBurstLength => num(c.first_burst_length, buf),
            Key::DefaultTime2Wait => num(c.default_time2wait.into(), buf),
            Key::DefaultTime2Retain => num(c.default_time2retain.into(), buf),
            Key::MaxOutstandingR2T => num(c.max_outstanding_r2t.into(), buf),
            Key::DataPDUInOrder => yes_no(c.data_pdu_in_order),
            Key::DataSequenceInOrder => yes_no(c.data_sequence_in_order),
            Key::ErrorRecoveryLevel => num(c.error_recovery_level.into(), buf),
            _ => return None,
        })
    }

    fn relevant(&self, key: Key) -> bool {
        !(self.session_type == SessionType::Discovery && key.normal_session_only())
    }

    /// Writes every operational key we rely on (defaults included) for this session type.
    /// Identity keys (`InitiatorName`, `SessionType`, …) are written by
    /// [`write_identity`], `AuthMethod`/CHAP by the security stage.
    pub fn write_offer<S: KeySink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        for key in Key::ALL {
            if !self.relevant(key) {
                continue;
            }
            let mut buf = [0u8; 10];
            if let Some(v) = self.our_value(key, &mut buf) {
                sink.put(key.name(), v)?;
                self.offered |= key.bit();
            }
        }
        Ok(())
    }

    /// Takes one pair from the target's login response.
    pub fn apply<S: KeySink>(
        &mut self,
        key: &str,
        value: &str,
        sink: &mut S,
    ) -> Result<Applied, ApplyError<S::Error>> {
        let Some(k) = Key::from_name(key) else {
            return self.apply_foreign(key, value, sink);
        };
        match k {
            Key::InitiatorName | Key::InitiatorAlias | Key::SessionType => {
                return Err(ParamError::WrongDirection(k).into());
            }
            Key::TargetName | Key::AuthMethod | Key::TargetAddress => return Ok(Applied::NotMine),
            Key::TargetAlias => return Ok(Applied::Ignored),
            Key::TargetPortalGroupTag => {
                let v = parse_number(value)
                    .filter(|&v| v <= 65535)
                    .ok_or(ParamError::OutOfRange(k))?;
                self.result.target_portal_group_tag = Some(v as u16);
                return Ok(Applied::Recorded);
            }
            Key::MaxRecvDataSegmentLength => {
                // Declarative: the target's receive limit is our send limit.
                if matches!(value, "Irrelevant" | "NotUnderstood" | "Reject") {
                    return Ok(Applied::Ignored);
                }
                let v = check_range(k, value)?;
                self.result.max_send_data_segment_length = v;
                return Ok(Applied::Recorded);
            }
            _ => {}
        }
        if !self.relevant(k) {
            // A normal-session key in a discovery session: say so if it is an offer.
            if value != "Irrelevant" && self.offered & k.bit() == 0 {
                sink.put(key, "Irrelevant").map_err(ApplyError::Sink)?;
                return Ok(Applied::Answered);
            }
            return Ok(Applied::Ignored);
        }
        if self.offered & k.bit() != 0 {
            self.apply_answer(k, value)?;
            Ok(Applied::Recorded)
        } else {
            self.answer_offer(k, value, sink)
        }
    }

    /// Keys outside RFC 7143's operational set.
    fn apply_foreign<S: KeySink>(
        &mut self,
        key: &str,
        value: &str,
        sink: &mut S,
    ) -> Result<Applied, ApplyError<S::Error>> {
        if key.starts_with("CHAP_") {
            return Ok(Applied::NotMine);
        }
        let answer = match key {
            // RFC 7143 §13.26: obsolete marker keys — no markers.
            "OFMarker" | "IFMarker" => "No",
            "OFMarkInt" | "IFMarkInt" => "Irrelevant",
            // iSER (RFC 7145): we are a TCP initiator.
            "RDMAExtensions" => "No",
            "TargetRecvDataSegmentLength" | "InitiatorRecvDataSegmentLength" => {
                return Ok(Applied::Ignored);
            }
            _ if matches!(value, "NotUnderstood" | "Irrelevant" | "Reject") => {
                return Ok(Applied::Ignored);
            }
            _ => "NotUnderstood",
        };
        sink.put(key, answer).map_err(ApplyError::Sink)?;
        Ok(Applied::Answered)
    }

    /// The target's answer to a key we offered.
    fn apply_answer(&mut self, k: Key, value: &str) -> Result<(), ParamError> {
        match value {
            "Irrelevant" => return Ok(()),
            "Reject" | "NotUnderstood" => {
                // The key keeps its RFC default; fail only if that default is unacceptable.
                let d = Negotiated::default();
                let default_ok = match k {
                    Key::HeaderDigest => self.config.header_digest.accepts(d.header_digest),
                    Key::DataDigest => self.config.data_digest.accepts(d.data_digest),
                    _ => true,
                };
                if !default_ok {
                    return Err(if value == "Reject" {
                        ParamError::Rejected(k)
                    } else {
                        ParamError::NotUnderstood(k)
                    });
                }
                self.set_default(k);
                return Ok(());
            }
            _ => {}
        }
        let c = self.config;
        match k.kind() {
            KeyKind::List => {
                let policy = if k == Key::HeaderDigest {
                    c.header_digest
                } else {
                    c.data_digest
                };
                let d = match value {
                    "None" => Digest::None,
                    "CRC32C" => Digest::Crc32c,
                    _ => return Err(ParamError::NotOffered(k)),
                };
                if !policy.accepts(d) {
                    return Err(ParamError::NotOffered(k));
                }
                if k == Key::HeaderDigest {
                    self.result.header_digest = d;
                } else {
                    self.result.data_digest = d;
                }
            }
            KeyKind::Min | KeyKind::Max => {
                let v = check_range(k, value)?;
                let mut buf = [0u8; 10];
                let ours = self
                    .our_value(k, &mut buf)
                    .and_then(parse_number)
                    .unwrap_or(v);
                let legal = if k.kind() == KeyKind::Min {
                    v <= ours
                } else {
                    v >= ours
                };
                if !legal {
                    return Err(ParamError::NotOffered(k));
                }
                self.set_number(k, v);
            }
            KeyKind::Or | KeyKind::And => {
                let v = parse_bool(value).ok_or(ParamError::OutOfRange(k))?;
                let ours = self.our_bool(k);
                // OR: our Yes forces Yes; AND: our No forces No.
                let legal = if k.kind() == KeyKind::Or {
                    v || !ours
                } else {
                    !v || ours
                };
                if !legal {
                    return Err(ParamError::NotOffered(k));
                }
                self.set_bool(k, v);
            }
            KeyKind::Declarative => {}
        }
        Ok(())
    }

    /// A key the target offers first: compute the result and answer it.
    fn answer_offer<S: KeySink>(
        &mut self,
        k: Key,
        value: &str,
        sink: &mut S,
    ) -> Result<Applied, ApplyError<S::Error>> {
        if matches!(value, "Irrelevant" | "Reject" | "NotUnderstood") {
            return Ok(Applied::Ignored);
        }
        let c = self.config;
        let mut buf = [0u8; 10];
        let answer: &str = match k.kind() {
            KeyKind::List => {
                let policy = if k == Key::HeaderDigest {
                    c.header_digest
                } else {
                    c.data_digest
                };
                match policy.choose(value) {
                    Some(d) => {
                        if k == Key::HeaderDigest {
                            self.result.header_digest = d;
                        } else {
                            self.result.data_digest = d;
                        }
                        d.as_str()
                    }
                    None => "Reject",
                }
            }
            KeyKind::Min | KeyKind::Max => match check_range(k, value) {
                Ok(theirs) => {
                    let ours = self
                        .our_value(k, &mut [0u8; 10])
                        .and_then(parse_number)
                        .unwrap_or(theirs);
                    let v = if k.kind() == KeyKind::Min {
                        theirs.min(ours)
                    } else {
                        theirs.max(ours)
                    };
                    self.set_number(k, v);
                    decimal(v, &mut buf)
                }
                Err(_) => "Reject",
            },
            KeyKind::Or | KeyKind::And => match parse_bool(value) {
                Some(theirs) => {
                    let ours = self.our_bool(k);
                    let v = if k.kind() == KeyKind::Or {
                        theirs || ours
                    } else {
                        theirs && ours
                    };
                    self.set_bool(k, v);
                    yes_no(v)
                }
                None => "Reject",
            },
            KeyKind::Declarative => return Ok(Applied::Ignored),
        };
        sink.put(k.name(), answer).map_err(ApplyError::Sink)?;
        Ok(Applied::Answered)
    }

    fn our_bool(&self, k: Key) -> bool {
        match k {
            Key::InitialR2T => self.config.initial_r2t,
            Key::ImmediateData => self.config.immediate_data,
            Key::DataPDUInOrder => self.config.data_pdu_in_order,
            _ => self.config.data_sequence_in_order,
        }
    }

    fn set_bool(&mut self, k: Key, v: bool) {
        let r = &mut self.result;
        match k {
            Key::InitialR2T => r.initial_r2t = v,
            Key::ImmediateData => r.immediate_data = v,
            Key::DataPDUInOrder => r.data_pdu_in_order = v,
            Key::DataSequenceInOrder => r.data_sequence_in_order = v,
            _ => {}
        }
    }

    /// `v` is already range-checked for `k`.
    fn set_number(&mut self, k: Key, v: u32) {
        let r = &mut self.result;
        let v16 = u16::try_from(v).unwrap_or(u16::MAX);
        match k {
            Key::MaxConnections => r.max_connections = v16,
            Key::MaxBurstLength => r.max_burst_length = v,
            Key::FirstBurstLength => r.first_burst_length = v,
            Key::DefaultTime2Wait => r.default_time2wait = v16,
            Key::DefaultTime2Retain => r.default_time2retain = v16,
            Key::MaxOutstandingR2T => r.max_outstanding_r2t = v16,
            Key::ErrorRecoveryLevel => r.error_recovery_level = u8::try_from(v).unwrap_or(0),
            _ => {}
        }
    }

    fn set_default(&mut self, k: Key) {
        let d = Negotiated::default();
        let r = &mut self.result;
        match k {
            Key::HeaderDigest => r.header_digest = d.header_digest,
            Key::DataDigest => r.data_digest = d.data_digest,
            Key::MaxConnections => r.max_connections = d.max_connections,
            Key::InitialR2T => r.initial_r2t = d.initial_r2t,
            Key::ImmediateData => r.immediate_data = d.immediate_data,
            Key::MaxBurstLength => r.max_burst_length = d.max_burst_length,
            Key::FirstBurstLength => r.first_burst_length = d.first_burst_length,
            Key::DefaultTime2Wait => r.default_time2wait = d.default_time2wait,
            Key::DefaultTime2Retain => r.default_time2retain = d.default_time2retain,
            Key::MaxOutstandingR2T => r.max_outstanding_r2t = d.max_outstanding_r2t,
            Key::DataPDUInOrder => r.data_pdu_in_order = d.data_pdu_in_order,
            Key::DataSequenceInOrder => r.data_sequence_in_order = d.data_sequence_in_order,
            Key::ErrorRecoveryLevel => r.error_recovery_level = d.error_recovery_level,
            _ => {}
        }
    }

    /// The outcome so far (keys the target did not answer keep their RFC default, since an
    /// unanswered offer is not in effect).
    pub fn finish(&self) -> Result<Negotiated, ParamError> {
        let r = self.result;
        if self.session_type == SessionType::Normal && r.first_burst_length > r.max_burst_length {
            return Err(ParamError::Inconsistent);
        }
        if !self.config.header_digest.accepts(r.header_digest) {
            return Err(ParamError::NotOffered(Key::HeaderDigest));
        }
        if !self.config.data_digest.accepts(r.data_digest) {
            return Err(ParamError::NotOffered(Key::DataDigest));
        }
        Ok(r)
    }
}

fn check_range(k: Key, value: &str) -> Result<u32, ParamError> {
    let v = parse_number(value).ok_or(ParamError::OutOfRange(k))?;
    match k.range() {
        Some((lo, hi)) if (lo..=hi).contains(&v) => Ok(v),
        Some(_) => Err(ParamError::OutOfRange(k)),
        None => Ok(v),
    }
}

/// Who we are and what we log into: the first login PDU's identity keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    /// `InitiatorName` (IQN).
    pub initiator_name: &'a str,
    /// `InitiatorAlias`, if any.
    pub initiator_alias: Option<&'a str>,
    /// `SessionType`.
    pub session_type: SessionType,
    /// `TargetName` (required for normal sessions, absent for discovery).
    pub target_name: Option<&'a str>,
}

/// Writes `InitiatorName`, `InitiatorAlias`, `SessionType`, `TargetName`.
pub fn write_identity<S: KeySink>(id: &Identity<'_>, sink: &mut S) -> Result<(), S::Error> {
    sink.put(Key::InitiatorName.name(), id.initiator_name)?;
    if let Some(alias) = id.initiator_alias {
        sink.put(Key::InitiatorAlias.name(), alias)?;
    }
    sink.put(Key::SessionType.name(), id.session_type.as_str())?;
    if id.session_type == SessionType::Normal
        && let Some(t) = id.target_name
    {
        sink.put(Key::TargetName.name(), t)?;
    }
    Ok(())
}

/// The authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `None`.
    None,
    /// `CHAP`.
    Chap,
}

impl AuthMethod {
    /// What we offer: `CHAP` alone when we hold credentials (never let the target skip it),
    /// else `None`.
    #[must_use]
    pub const fn offer(have_chap_credentials: bool) -> &'static str {
        if have_chap_credentials {
            "CHAP"
        } else {
            "None"
        }
    }

    /// Parses the target's answer; anything but `CHAP`/`None` (e.g. `Reject`) is `None` here.
    #[must_use]
    pub fn from_answer(value: &str) -> Option<Self> {
        match value {
            "CHAP" => Some(Self::Chap),
            "None" => Some(Self::None),
            _ => None,
        }
    }
}
