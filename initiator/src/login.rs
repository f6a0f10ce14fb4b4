//! The login phase (RFC 7143 §6): security stage (AuthMethod, CHAP one-way and mutual) and
//! operational stage (every key sent explicitly), as a pure state machine over key=value text.
//!
//! The session frames the PDUs, joins continued (C bit) responses and feeds each complete
//! response text to [`Login::handle_response`]; [`Login::next_request`] writes the next text.

use crate::error::LoginError;
use crate::pdu::{LoginStatus, Stage, StatusClass};
use crate::session::config::{Negotiated, SessionConfig};
use crate::text::{TextIter, TextWriter, parse_bool, parse_u32};
use core::net::{IpAddr, SocketAddr};

/// Most login PDU round trips before the login is declared stuck.
const MAX_ROUND_TRIPS: u8 = 16;

/// The well-known iSCSI port, used when a TargetAddress names none.
pub const DEFAULT_PORT: u16 = 3260;

/// Where the login stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// First security-stage PDU: names and AuthMethod offer.
    Start,
    /// AuthMethod=CHAP chosen: send our CHAP_A list.
    SendAlgorithms,
    /// CHAP_A list sent, waiting for CHAP_A/CHAP_I/CHAP_C.
    AwaitChallenge,
    /// Challenge answered: send CHAP_N/CHAP_R (and our mutual challenge).
    SendResponse,
    /// Response sent; waiting for the target to transit (and answer our challenge).
    AwaitTransit,
    /// Security stage done without CHAP; waiting for transit or asking again.
    SecurityEmpty,
    /// Send the operational keys.
    SendOperational,
    /// Operational keys sent; the next request is empty until the target transits.
    OperationalEmpty,
}

/// What the session does after a login response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStep {
    /// Send the next login request ([`Login::next_request`]).
    Continue,
    /// The target moved to the full feature phase; these values are in force.
    Complete(Negotiated),
    /// The target redirects us (status 0x0101 temporary / 0x0102 permanent).
    Redirect {
        /// Where to connect instead.
        portal: SocketAddr,
        /// Status 0x0102.
        permanent: bool,
    },
}

/// The header fields of the next login request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader {
    /// T bit.
    pub transit: bool,
    /// Current stage.
    pub csg: Stage,
    /// Next stage (meaningful with T).
    pub nsg: Stage,
}

/// The login state machine. One per connection attempt.
#[derive(Debug, Clone)]
pub struct Login {
    step: Step,
    round_trips: u8,
    /// Chosen CHAP algorithm, identifier and the target's challenge (decoded).
    algorithm: u8,
    chap_id: u8,
    challenge: [u8; 1024],
    challenge_len: usize,
    /// Whether we answered a CHAP challenge (the security stage authenticated us).
    authenticated: bool,
    negotiated: Negotiated,
}

impl Login {
    /// A fresh login for `config`.
    #[must_use]
    pub fn new(config: &SessionConfig<'_>) -> Login {
        Login {
            step: Step::Start,
            round_trips: 0,
            algorithm: 0,
            chap_id: 0,
            challenge: [0; 1024],
            challenge_len: 0,
            authenticated: false,
            negotiated: Negotiated::login_defaults(config.params.max_recv_data_segment_length),
        }
    }

    /// The CHAP algorithm the target chose, once it has.
    #[must_use]
    pub fn chap_algorithm(&self) -> Option<u8> {
        (self.algorithm != 0).then_some(self.algorithm)
    }

    /// Writes the next request's text into `buf` and returns its header fields and length.
    pub fn next_request(
        &mut self,
        config: &SessionConfig<'_>,
        buf: &mut [u8],
    ) -> Result<(RequestHeader, usize), LoginError> {
        let mut w = TextWriter::new(buf);
        let security = |transit, nsg| RequestHeader {
            transit,
            csg: Stage::Security,
            nsg,
        };
        let header = match self.step {
            Step::Start => {
                push(&mut w, "InitiatorName", config.initiator_name)?;
                match config.target_name {
                    Some(target) => {
                        push(&mut w, "SessionType", "Normal")?;
                        push(&mut w, "TargetName", target)?;
                    }
                    None => push(&mut w, "SessionType", "Discovery")?,
                }
                match config.chap {
                    None => {
                        push(&mut w, "AuthMethod", "None")?;
                        security(true, Stage::Operational)
                    }
                    Some(chap) => {
                        let required = chap.required || chap.mutual.is_some();
                        push(
                            &mut w,
                            "AuthMethod",
                            if required { "CHAP" } else { "CHAP,None" },
                        )?;
                        security(false, Stage::Operational)
                    }
                }
            }
            Step::SendAlgorithms => {
                let chap = config.chap.ok_or(LoginError::Protocol)?;
                let mut list = [0u8; 64];
                let mut len = 0;
                for (i, alg) in chap.algorithms.iter().enumerate() {
                    let mut digits = [0u8; 10];
                    let s = crate::text::format_decimal(u32::from(*alg), &mut digits);
                    let extra = s.len() + usize::from(i > 0);
                    let out = list
                        .get_mut(len..len + extra)
                        .ok_or(LoginError::NoCommonAuthMethod)?;
                    if i > 0 {
                        out[0] = b',';
                    }
                    out[usize::from(i > 0)..].copy_from_slice(s.as_bytes());
                    len += extra;
                }
                let list = core::str::from_utf8(&list[..len]).map_err(|_| LoginError::Protocol)?;
                push(&mut w, "CHAP_A", list)?;
                self.step = Step::AwaitChallenge;
                security(false, Stage::Operational)
            }
            Step::SendResponse => {
                let chap = config.chap.ok_or(LoginError::Protocol)?;
                let mut digest = [0u8; 64];
                let n = chap
                    .digest
                    .digest(
                        self.algorithm,
                        self.chap_id,
                        chap.secret,
                        &self.challenge[..self.challenge_len],
                        &mut digest,
                    )
                    .ok_or(LoginError::NoCommonAuthMethod)?;
                let mut hex = [0u8; 2 + 128];
                push(&mut w, "CHAP_N", chap.user)?;
                push(&mut w, "CHAP_R", encode_hex(&digest[..n], &mut hex))?;
                if let Some(mutual) = chap.mutual {
                    let mut digits = [0u8; 10];
                    push(
                        &mut w,
                        "CHAP_I",
                        crate::text::format_decimal(u32::from(mutual.id), &mut digits),
                    )?;
                    let mut hex = [0u8; 2 + 32];
                    push(&mut w, "CHAP_C", encode_hex(&mutual.challenge, &mut hex))?;
                }
                self.authenticated = true;
                self.step = Step::AwaitTransit;
                security(true, Stage::Operational)
            }
            Step::AwaitChallenge | Step::AwaitTransit | Step::SecurityEmpty => {
                security(true, Stage::Operational)
            }
            Step::SendOperational => {
                let p = &config.params;
                let digest = |on| if on { "CRC32C,None" } else { "None" };
                push(&mut w, "HeaderDigest", digest(p.header_digest))?;
                push(&mut w, "DataDigest", digest(p.data_digest))?;
                push_u32(
                    &mut w,
                    "MaxRecvDataSegmentLength",
                    p.max_recv_data_segment_length,
                )?;
                if config.target_name.is_some() {
                    push_u32(&mut w, "MaxConnections", 1)?;
                    push(&mut w, "InitialR2T", bool_str(p.initial_r2t))?;
                    push(&mut w, "ImmediateData", bool_str(p.immediate_data))?;
                    push_u32(&mut w, "MaxBurstLength", p.max_burst_length)?;
                    push_u32(&mut w, "FirstBurstLength", p.first_burst_length)?;
                    push_u32(
                        &mut w,
                        "MaxOutstandingR2T",
                        u32::from(p.max_outstanding_r2t),
                    )?;
                    push(&mut w, "DataPDUInOrder", "Yes")?;
                    push(&mut w, "DataSequenceInOrder", "Yes")?;
                }
                push_u32(&mut w, "DefaultTime2Wait", 2)?;
                push_u32(&mut w, "DefaultTime2Retain", 0)?;
                push_u32(&mut w, "ErrorRecoveryLevel", 0)?;
                self.step = Step::OperationalEmpty;
                RequestHeader {
                    transit: true,
                    csg: Stage::Operational,
                    nsg: Stage::FullFeature,
                }
            }
            Step::OperationalEmpty => RequestHeader {
                transit: true,
                csg: Stage::Operational,
                nsg: Stage::FullFeature,
            },
        };
        Ok((header, w.len()))
    }

    /// Processes one complete login response (continuations already joined into `text`).
    pub fn handle_response(
        &mut self,
        config: &SessionConfig<'_>,
        transit: bool,
        csg: Stage,
        nsg: Stage,
        status: LoginStatus,
        text: &[u8],
    ) -> Result<LoginStep, LoginError> {
        self.round_trips = self.round_trips.saturating_add(1);
        if self.round_trips > MAX_ROUND_TRIPS {
            return Err(LoginError::Protocol);
        }
        match status.class() {
            StatusClass::Success => {}
            StatusClass::Redirection => {
                let addr = find(text, "TargetAddress").ok_or(LoginError::BadRedirect)?;
                let portal = parse_target_address(addr).ok_or(LoginError::BadRedirect)?;
                return Ok(LoginStep::Redirect {
                    portal,
                    permanent: status == LoginStatus::TargetMovedPermanently,
                });
            }
            _ => return Err(LoginError::from_status(status)),
        }
        match csg {
            Stage::Security => self.handle_security(config, transit, nsg, text),
            Stage::Operational => self.handle_operational(config, transit, nsg, text),
            _ => Err(LoginError::Protocol),
        }
    }

    fn handle_security(
        &mut self,
        config: &SessionConfig<'_>,
        transit: bool,
        nsg: Stage,
        text: &[u8],
    ) -> Result<LoginStep, LoginError> {
        let required = config
            .chap
            .is_some_and(|c| c.required || c.mutual.is_some());
        if self.step == Step::Start {
            match find(text, "AuthMethod") {
                Some("CHAP") if config.chap.is_some() => {
                    self.step = Step::SendAlgorithms;
                }
                Some("CHAP") => return Err(LoginError::NoCommonAuthMethod),
                Some("None") | None if required => return Err(LoginError::AuthenticationSkipped),
                Some("None") | None => self.step = Step::SecurityEmpty,
                Some(_) => return Err(LoginError::NoCommonAuthMethod),
            }
        } else if self.step == Step::AwaitChallenge && !(transit && find(text, "CHAP_C").is_none())
        {
            let chap = config.chap.ok_or(LoginError::Protocol)?;
            let alg = find(text, "CHAP_A")
                .and_then(|v| parse_u32(v).ok())
                .and_then(|v| u8::try_from(v).ok())
                .ok_or(LoginError::BadChap)?;
            if !chap.algorithms.contains(&alg) {
                return Err(LoginError::NoCommonAuthMethod);
            }
            let id = find(text, "CHAP_I")
                .and_then(|v| parse_u32(v).ok())
                .and_then(|v| u8::try_from(v).ok())
                .ok_or(LoginError::BadChap)?;
            let c = find(text, "CHAP_C").ok_or(LoginError::BadChap)?;
            let len = decode_binary(c, &mut self.challenge).ok_or(LoginError::BadChap)?;
            if len == 0 {
                return Err(LoginError::BadChap);
            }
            // Reflection guard: a target replaying our own challenge wants us to answer it.
            if let Some(m) = chap.mutual
                && self.challenge[..len] == m.challenge
            {
                return Err(LoginError::BadChap);
            }
            self.algorithm = alg;
            self.chap_id = id;
            self.challenge_len = len;
            self.step = Step::SendResponse;
            return Ok(LoginStep::Continue);
        } else if self.step == Step::AwaitTransit
            && let Some(m) = config.chap.and_then(|c| c.mutual)
            && transit
        {
            let chap = config.chap.ok_or(LoginError::Protocol)?;
            let name = find(text, "CHAP_N").ok_or(LoginError::TargetAuthenticationFailed)?;
            let resp = find(text, "CHAP_R").ok_or(LoginError::TargetAuthenticationFailed)?;
            let mut got = [0u8; 64];
            let got_len =
                decode_binary(resp, &mut got).ok_or(LoginError::TargetAuthenticationFailed)?;
            let mut want = [0u8; 64];
            let want_len = chap
                .digest
                .digest(self.algorithm, m.id, m.secret, &m.challenge, &mut want)
                .ok_or(LoginError::NoCommonAuthMethod)?;
            if name != m.user || !constant_time_eq(&got[..got_len], &want[..want_len]) {
                return Err(LoginError::TargetAuthenticationFailed);
            }
        }
        if transit {
            if required && !self.authenticated {
                return Err(LoginError::AuthenticationSkipped);
            }
            match nsg {
                Stage::Operational => self.step = Step::SendOperational,
                Stage::FullFeature => return Ok(LoginStep::Complete(self.negotiated)),
                _ => return Err(LoginError::Protocol),
            }
        }
        Ok(LoginStep::Continue)
    }

    fn handle_operational(
        &mut self,
        config: &SessionConfig<'_>,
        transit: bool,
        nsg: Stage,
        text: &[u8],
    ) -> Result<LoginStep, LoginError> {
        if self.step == Step::SecurityEmpty || self.step == Step::AwaitTransit {
            // The target went straight to operational on our T bit; our keys are still owed.
            self.step = Step::SendOperational;
        }
        let p = &config.params;
        let n = &mut self.negotiated;
        for pair in TextIter::new(text) {
            let (key, value) = pair.map_err(|_| LoginError::Negotiation)?;
            if matches!(value, "Irrelevant" | "NotUnderstood" | "Reject") {
                continue;
            }
            let num = || parse_u32(value).map_err(|_| LoginError::Negotiation);
            let yes = || parse_bool(value).map_err(|_| LoginError::Negotiation);
            match key {
                "HeaderDigest" => n.digests.header = digest_choice(value, p.header_digest)?,
                "DataDigest" => n.digests.data = digest_choice(value, p.data_digest)?,
                "MaxRecvDataSegmentLength" => {
                    let v = num()?;
                    if !(512..=0x00ff_ffff).contains(&v) {
                        return Err(LoginError::Negotiation);
                    }
                    n.max_send_data_segment_length = v;
                }
                "MaxBurstLength" => n.max_burst_length = num()?.clamp(512, p.max_burst_length),
                "FirstBurstLength" => {
                    n.first_burst_length = num()?.clamp(512, p.first_burst_length);
                }
                "InitialR2T" => n.initial_r2t = yes()? || p.initial_r2t,
                "ImmediateData" => n.immediate_data = yes()? && p.immediate_data,
                "MaxOutstandingR2T" => {
                    let v = u16::try_from(num()?).unwrap_or(u16::MAX);
                    n.max_outstanding_r2t = v.clamp(1, p.max_outstanding_r2t.max(1));
                }
                _ => {}
            }
        }
        if !transit {
            return Ok(LoginStep::Continue);
        }
        if nsg != Stage::FullFeature {
            return Err(LoginError::Protocol);
        }
        // Keys the target did not answer keep the lesser of our proposal and the default.
        n.initial_r2t |= p.initial_r2t;
        n.immediate_data &= p.immediate_data;
        n.max_burst_length = n.max_burst_length.min(p.max_burst_length);
        n.first_burst_length = n
            .first_burst_length
            .min(p.first_burst_length)
            .min(n.max_burst_length);
        n.max_outstanding_r2t = n.max_outstanding_r2t.min(p.max_outstanding_r2t.max(1));
        n.max_recv_data_segment_length = p.max_recv_data_segment_length;
        Ok(LoginStep::Complete(*n))
    }
}

fn digest_choice(value: &str, offered: bool) -> Result<bool, LoginError> {
    match value {
        "CRC32C" if offered => Ok(true),
        "None" => Ok(false),
        _ => Err(LoginError::Negotiation),
    }
}

fn bool_str(b: bool) -> &'static str {
    crate::text::format_bool(b)
}

fn push(w: &mut TextWriter<'_>, key: &str, value: &str) -> Result<(), LoginError> {
    w.push(key, value).map_err(|_| LoginError::Protocol)
}

fn push_u32(w: &mut TextWriter<'_>, key: &str, value: u32) -> Result<(), LoginError> {
    w.push_u32(key, value).map_err(|_| LoginError::Protocol)
}

/// The first value of `key` in a text segment, if well-formed.
pub(crate) fn find<'a>(text: &'a [u8], key: &str) -> Option<&'a str> {
    TextIter::new(text).find_key(key).and_then(Result::ok)
}

/// Parses a TargetAddress value: `ip[:port][,tpgt]` or `[ipv6][:port][,tpgt]`.
/// Host names are not resolved (the core has no resolver): `None`.
///
/// ```
/// use initiator::login::parse_target_address;
/// let a = parse_target_address("[::1]:3261,1").unwrap();
/// assert_eq!(a.to_string(), "[::1]:3261");
/// assert_eq!(parse_target_address("10.0.0.1").unwrap().port(), 3260);
/// ```
#[must_use]
pub fn parse_target_address(value: &str) -> Option<SocketAddr> {
    let addr = value.split(',').next()?;
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => (addr, None), // a bare IPv6 literal
            None => (addr, None),
        }
    };
    let ip: IpAddr = host.parse().ok()?;
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => DEFAULT_PORT,
    };
    Some(SocketAddr::new(ip, port))
}

/// Writes `0x` + lower-case hex of `bytes` into `out`; returns it as text.
fn encode_hex<'o>(bytes: &[u8], out: &'o mut [u8]) -> &'o str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let len = (2 + bytes.len() * 2).min(out.len());
    if len >= 2 {
        out[0] = b'0';
        out[1] = b'x';
    }
    for (i, b) in bytes.iter().enumerate() {
        if let Some(pair) = out.get_mut(2 + 2 * i..4 + 2 * i) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
    }
    core::str::from_utf8(&out[..len]).unwrap_or("")
}

/// Decodes a binary value (`0x` hex or `0b` base64, RFC 7143 §6.1) into `out`.
fn decode_binary(value: &str, out: &mut [u8]) -> Option<usize> {
    let bytes = value.as_bytes();
    match bytes.get(..2)? {
        b"0x" | b"0X" => {
            let digits = &bytes[2..];
            // An odd count has an implied leading zero nibble.
            let odd = digits.len() % 2;
            let len = digits.len().div_ceil(2);
            let dst = out.get_mut(..len)?;
            let mut nibbles = core::iter::repeat_n(b'0', odd).chain(digits.iter().copied());
            for d in dst.iter_mut() {
                let hi = hex_val(nibbles.next()?)?;
                let lo = hex_val(nibbles.next()?)?;
                *d = hi << 4 | lo;
            }
            Some(len)
        }
        b"0b" | b"0B" => decode_base64(&bytes[2..], out),
        _ => None,
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn decode_base64(src: &[u8], out: &mut [u8]) -> Option<usize> {
    let val = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let src = src
        .strip_suffix(b"==")
        .or(src.strip_suffix(b"="))
        .unwrap_or(src);
    let mut len = 0;
    for chunk in src.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = acc << 6 | val(c)?;
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        acc <<= 6 * (4 - chunk.len() as u32);
        let bytes = acc.to_be_bytes();
        out.get_mut(len..len + produced)?
            .copy_from_slice(&bytes[1..1 + produced]);
        len += produced;
    }
    Some(len)
}

/// Compares without an early exit, so timing does not leak how many bytes matched (`subtle`
/// keeps the optimiser from reintroducing one, which a plain fold does not guarantee).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn binary_values_decode() {
        let mut out = [0u8; 8];
        assert_eq!(decode_binary("0x0102ff", &mut out), Some(3));
        assert_eq!(&out[..3], &[1, 2, 0xff]);
        assert_eq!(decode_binary("0xabc", &mut out), Some(2));
        assert_eq!(&out[..2], &[0x0a, 0xbc]);
        // "hi!" in base64 is "aGkh"; "hi" is "aGk=".
        assert_eq!(decode_binary("0baGkh", &mut out), Some(3));
        assert_eq!(&out[..3], b"hi!");
        assert_eq!(decode_binary("0baGk=", &mut out), Some(2));
        assert_eq!(&out[..2], b"hi");
        assert_eq!(decode_binary("12", &mut out), None);
        assert_eq!(decode_binary("0x123456789abcdef012", &mut out), None);
    }

    proptest::proptest! {
        #[test]
        fn hex_round_trip(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut text = [0u8; 130];
            let s = encode_hex(&bytes, &mut text);
            let mut back = [0u8; 64];
            let n = decode_binary(s, &mut back).unwrap();
            proptest::prop_assert_eq!(&back[..n], bytes.as_slice());
        }

        #[test]
        fn target_address_round_trip(addr in proptest::prelude::any::<SocketAddr>(), tpgt in 0u16..) {
            // Display of SocketAddr brackets IPv6 literals, as TargetAddress does.
            let ip_only = SocketAddr::new(addr.ip(), addr.port());
            let value = std::format!("{ip_only},{tpgt}");
            proptest::prop_assert_eq!(parse_target_address(&value), Some(ip_only));
        }
    }

    #[test]
    fn target_addresses() {
        assert_eq!(
            parse_target_address("127.0.0.1:3261,1"),
            Some("127.0.0.1:3261".parse().unwrap())
        );
        assert_eq!(
            parse_target_address("fe80::1"),
            Some("[fe80::1]:3260".parse().unwrap())
        );
        assert_eq!(parse_target_address("target.example:3260"), None);
    }
}
