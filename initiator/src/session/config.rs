//! What the caller configures for a session, and what the login negotiated.

use core::time::Duration;

pub use crate::chap::{ChapDigest, StandardChap};

/// CHAP_A values offered by default, strongest first: SHA3-256, SHA-256, SHA-1, MD5.
pub const DEFAULT_CHAP_ALGORITHMS: [u8; 4] = crate::chap::DEFAULT_ALGORITHMS;

/// Mutual CHAP: the target proves it knows `secret` by answering `challenge`.
#[derive(Clone, Copy)]
pub struct MutualChap<'a> {
    /// The name the target must answer with (CHAP_N).
    pub user: &'a str,
    /// The target's secret.
    pub secret: &'a [u8],
    /// Our challenge: caller-supplied random bytes (the core has no randomness); fresh per login
    /// is best. 16 bytes is the minimum RFC 7143 §12.1.3 wants.
    pub challenge: [u8; 16],
    /// Identifier byte sent as CHAP_I (random too, ideally).
    pub id: u8,
}

impl core::fmt::Debug for MutualChap<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MutualChap")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// CHAP credentials: one-way (we answer the target) and optionally mutual.
#[derive(Clone, Copy)]
pub struct Chap<'a> {
    /// Our CHAP name (CHAP_N).
    pub user: &'a str,
    /// Our secret.
    pub secret: &'a [u8],
    /// Authenticate the target too.
    pub mutual: Option<MutualChap<'a>>,
    /// Refuse a target that skips authentication (always true when `mutual` is set).
    pub required: bool,
    /// CHAP_A values offered, in order of preference (e.g. `&[8, 7, 6, 5]`).
    pub algorithms: &'a [u8],
    /// The hash implementation.
    pub digest: &'a dyn ChapDigest,
}

impl<'a> Chap<'a> {
    /// One-way CHAP with the standard hashes and algorithm order; a target that skips
    /// authentication is accepted (see [`Chap::require`]).
    ///
    /// ```
    /// use initiator::session::{Chap, MutualChap};
    /// let chap = Chap::new("alice", b"secret-of-12+").require();
    /// assert!(chap.required);
    /// let mutual = chap.with_mutual(MutualChap { user: "disk", secret: b"target-secret",
    ///     challenge: [7; 16], id: 1 });
    /// assert!(mutual.mutual.is_some());
    /// ```
    #[must_use]
    pub fn new(user: &'a str, secret: &'a [u8]) -> Chap<'a> {
        Chap {
            user,
            secret,
            mutual: None,
            required: false,
            algorithms: &DEFAULT_CHAP_ALGORITHMS,
            digest: &StandardChap,
        }
    }

    /// Whether a target that skips authentication is refused: [`Chap::required`], or mutual
    /// CHAP configured.
    #[must_use]
    pub fn is_required(&self) -> bool {
        self.required || self.mutual.is_some()
    }

    /// Refuse targets that skip authentication.
    #[must_use]
    pub fn require(self) -> Chap<'a> {
        Chap {
            required: true,
            ..self
        }
    }

    /// Authenticate the target too (implies [`Chap::require`]).
    #[must_use]
    pub fn with_mutual(self, mutual: MutualChap<'a>) -> Chap<'a> {
        Chap {
            mutual: Some(mutual),
            required: true,
            ..self
        }
    }
}

impl core::fmt::Debug for Chap<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Chap")
            .field("user", &self.user)
            .field("mutual", &self.mutual)
            .field("required", &self.required)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// Our side of the operational key negotiation: every key is sent explicitly, defaults included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Offer `HeaderDigest=CRC32C,None` (else `None`).
    pub header_digest: bool,
    /// Offer `DataDigest=CRC32C,None` (else `None`).
    pub data_digest: bool,
    /// Largest data segment we accept (declared). Must fit the receive buffer.
    pub max_recv_data_segment_length: u32,
    /// Largest burst we propose.
    pub max_burst_length: u32,
    /// Largest unsolicited burst we propose.
    pub first_burst_length: u32,
    /// We propose InitialR2T (`Yes` forbids unsolicited Data-Out PDUs).
    pub initial_r2t: bool,
    /// We propose ImmediateData.
    pub immediate_data: bool,
    /// Most R2Ts per task we accept outstanding.
    pub max_outstanding_r2t: u16,
}

impl Params {
    /// These proposals as the negotiator's configuration: every key explicit, ERL 0, one
    /// connection, in-order data.
    #[must_use]
    pub fn operational(&self) -> crate::params::Config {
        use crate::params::DigestPolicy;
        let digest = |on| {
            if on {
                DigestPolicy::PreferCrc32c
            } else {
                DigestPolicy::Off
            }
        };
        crate::params::Config {
            header_digest: digest(self.header_digest),
            data_digest: digest(self.data_digest),
            max_connections: 1,
            initial_r2t: self.initial_r2t,
            immediate_data: self.immediate_data,
            max_recv_data_segment_length: self.max_recv_data_segment_length,
            max_burst_length: self.max_burst_length,
            first_burst_length: self.first_burst_length,
            default_time2wait: 2,
            default_time2retain: 0,
            max_outstanding_r2t: self.max_outstanding_r2t,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            error_recovery_level: 0,
        }
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            header_digest: false,
            data_digest: false,
            max_recv_data_segment_length: 65536,
            max_burst_length: 262_144,
            first_burst_length: 65536,
            initial_r2t: false,
            immediate_data: true,
            max_outstanding_r2t: 1,
        }
    }
}

/// Everything a session needs to log in and run.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig<'a> {
    /// Our iSCSI name (iqn./eui./naa.).
    pub initiator_name: &'a str,
    /// The target to log in to; `None` opens a discovery session.
    pub target_name: Option<&'a str>,
    /// Initiator Session ID: keep it across reconnects so the target reinstates the session.
    pub isid: [u8; 6],
    /// CHAP credentials, or `None` for `AuthMethod=None`.
    pub chap: Option<Chap<'a>>,
    /// Operational keys we propose.
    pub params: Params,
    /// Most commands in flight at once (also bounded by the table size and MaxCmdSN).
    pub queue_depth: u16,
    /// Idle time (nothing received) after which a NOP-Out ping is sent.
    pub keepalive_interval: Duration,
    /// How long to wait for any PDU after a ping before declaring the connection dead.
    pub keepalive_timeout: Duration,
    /// How long a login may take.
    pub login_timeout: Duration,
}

impl<'a> SessionConfig<'a> {
    /// The largest PDU a session with this configuration receives, header, AHS, digests and
    /// padding included: the receive buffer it needs. Equal to [`Session::max_pdu_len`]
    /// (crate::session::Session::max_pdu_len), without building a 22 KiB `Session`.
    #[must_use]
    pub fn max_pdu_len(&self) -> usize {
        let data = self
            .params
            .max_recv_data_segment_length
            .max(super::LOGIN_MAX_DATA) as usize;
        crate::pdu::BHS_LEN + crate::pdu::MAX_TOTAL_AHS_LEN + 4 + data + 3 + 4
    }

    /// A normal session to `target_name` with defaults: no CHAP, queue depth 8, 5 s keepalive
    /// interval and timeout, 10 s login timeout.
    #[must_use]
    pub fn new(initiator_name: &'a str, target_name: &'a str, isid: [u8; 6]) -> Self {
        SessionConfig {
            initiator_name,
            target_name: Some(target_name),
            isid,
            chap: None,
            params: Params::default(),
            queue_depth: 8,
            keepalive_interval: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(5),
            login_timeout: Duration::from_secs(10),
        }
    }

    /// A discovery session (SendTargets) with the same defaults.
    #[must_use]
    pub fn discovery(initiator_name: &'a str, isid: [u8; 6]) -> Self {
        SessionConfig {
            target_name: None,
            ..SessionConfig::new(initiator_name, "", isid)
        }
    }
}

/// The outcome of operational negotiation: what both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Header and data digests in force.
    pub digests: crate::digest::Digests,
    /// Largest data segment we may send (the target's declared MaxRecvDataSegmentLength).
    pub max_send_data_segment_length: u32,
    /// Largest data segment we accept (our declaration).
    pub max_recv_data_segment_length: u32,
    /// Agreed MaxBurstLength.
    pub max_burst_length: u32,
    /// Agreed FirstBurstLength.
    pub first_burst_length: u32,
    /// Agreed InitialR2T.
    pub initial_r2t: bool,
    /// Agreed ImmediateData.
    pub immediate_data: bool,
    /// Agreed MaxOutstandingR2T.
    pub max_outstanding_r2t: u16,
}

impl Negotiated {
    /// The values a session runs with, taken from the full outcome of operational negotiation:
    /// our own MaxRecvDataSegmentLength, FirstBurstLength capped by MaxBurstLength
    /// (RFC 7143 §13.14) and at least one outstanding R2T.
    #[must_use]
    pub fn in_force(agreed: &crate::params::Negotiated, our_max_recv: u32) -> Self {
        use crate::params::Digest;
        Negotiated {
            digests: crate::digest::Digests {
                header: agreed.header_digest == Digest::Crc32c,
                data: agreed.data_digest == Digest::Crc32c,
            },
            max_send_data_segment_length: agreed.max_send_data_segment_length,
            max_recv_data_segment_length: our_max_recv,
            max_burst_length: agreed.max_burst_length,
            first_burst_length: agreed.first_burst_length.min(agreed.max_burst_length),
            initial_r2t: agreed.initial_r2t,
            immediate_data: agreed.immediate_data,
            max_outstanding_r2t: agreed.max_outstanding_r2t.max(1),
        }
    }

    /// The RFC 7143 §13 defaults that apply before (and during) login.
    ///
    /// ```
    /// use initiator::session::Negotiated;
    /// let n = Negotiated::login_defaults(65536);
    /// assert_eq!(n.max_send_data_segment_length, 8192);
    /// assert!(n.initial_r2t && n.immediate_data);
    /// ```
    #[must_use]
    pub fn login_defaults(our_max_recv: u32) -> Self {
        Self::in_force(&crate::params::Negotiated::default(), our_max_recv)
    }
}
