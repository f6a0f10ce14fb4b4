//! The login phase (RFC 7143 §6): security stage (AuthMethod, CHAP one-way and mutual) and
//! operational stage (every key sent explicitly), as a pure state machine over key=value text.
//!
//! The session frames the PDUs, joins continued (C bit) responses and feeds each complete
//! response text to [`Login::handle_response`]; [`Login::next_request`] writes the next text.

use crate::addr::{Host, Portal};
use crate::chap::{self, ChapConfig, ChapError, ChapExchange, Secret};
use crate::error::LoginError;
use crate::params::{Negotiator, SessionType};
use crate::pdu::{LoginStatus, Stage, StatusClass};
use crate::session::config::{Negotiated, SessionConfig};
use crate::text::{TextIter, TextWriter};
use core::net::SocketAddr;

/// Most login PDU round trips before the login is declared stuck.
const MAX_ROUND_TRIPS: u8 = 16;

/// The well-known iSCSI port, used when a TargetAddress names none.
pub const DEFAULT_PORT: u16 = crate::addr::DEFAULT_PORT;

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
    /// The CHAP exchange, once the target chose CHAP.
    chap: Option<ChapExchange>,
    negotiated: Negotiated,
    /// Operational keys: offers, result functions, answers to target offers.
    negotiator: Negotiator,
    /// Our answers to keys the target offered, sent with the next request.
    replies: [u8; 512],
    replies_len: usize,
}

impl Login {
    /// A fresh login for `config`.
    #[must_use]
    pub fn new(config: &SessionConfig<'_>) -> Login {
        Login {
            step: Step::Start,
            round_trips: 0,
            chap: None,
            negotiated: Negotiated::login_defaults(config.params.max_recv_data_segment_length),
            negotiator: Negotiator::new(
                &config.params.operational(),
                if config.target_name.is_some() {
                    SessionType::Normal
                } else {
                    SessionType::Discovery
                },
            ),
            replies: [0; 512],
            replies_len: 0,
        }
    }

    /// The CHAP algorithm the target chose, once it has.
    #[must_use]
    pub fn chap_algorithm(&self) -> Option<u8> {
        self.chap
            .as_ref()
            .and_then(ChapExchange::algorithm)
            .map(chap::ChapAlgorithm::code)
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
                        let required = chap.is_required();
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
                let mut offered = None;
                with_chap(config, &mut |cfg| {
                    let mut exchange = ChapExchange::new(cfg).map_err(login_error)?;
                    exchange
                        .offer(cfg, &mut w)
                        .map_err(|_| LoginError::Protocol)?;
                    offered = Some(exchange);
                    Ok(())
                })?;
                self.chap = offered;
                self.step = Step::AwaitChallenge;
                security(false, Stage::Operational)
            }
            Step::SendResponse => {
                // CHAP_N/CHAP_R (and our mutual challenge) were written when the challenge came.
                self.push_replies(&mut w)?;
                self.step = Step::AwaitTransit;
                security(true, Stage::Operational)
            }
            Step::AwaitChallenge | Step::AwaitTransit | Step::SecurityEmpty => {
                security(true, Stage::Operational)
            }
            Step::SendOperational => {
                self.negotiator
                    .write_offer(&mut w)
                    .map_err(|_| LoginError::Protocol)?;
                self.push_replies(&mut w)?;
                self.step = Step::OperationalEmpty;
                RequestHeader {
                    transit: true,
                    csg: Stage::Operational,
                    nsg: Stage::FullFeature,
                }
            }
            Step::OperationalEmpty => {
                self.push_replies(&mut w)?;
                RequestHeader {
                    transit: true,
                    csg: Stage::Operational,
                    nsg: Stage::FullFeature,
                }
            }
        };
        Ok((header, w.len()))
    }

    /// Processes one complete login response (continuations already joined into `text`).
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
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
        let required = config.chap.is_some_and(|c| c.is_required());
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
            let exchange = self.chap.as_mut().ok_or(LoginError::Protocol)?;
            let mut replies = TextWriter::new(&mut self.replies);
            with_chap(config, &mut |cfg| {
                for pair in TextIter::new(text) {
                    let (key, value) = pair.map_err(|_| LoginError::BadChap)?;
                    exchange.receive(cfg, key, value).map_err(login_error)?;
                }
                if !exchange.has_challenge() {
                    return Err(LoginError::BadChap);
                }
                exchange.respond(cfg, &mut replies).map_err(|e| match e {
                    chap::RespondError::Chap(e) => login_error(e),
                    chap::RespondError::Sink(_) => LoginError::Protocol,
                })
            })?;
            self.replies_len = replies.len();
            self.step = Step::SendResponse;
            return Ok(LoginStep::Continue);
        } else if self.step == Step::AwaitTransit && transit {
            let exchange = self.chap.as_mut().ok_or(LoginError::Protocol)?;
            with_chap(config, &mut |cfg| {
                if cfg.mutual.is_some() {
                    for pair in TextIter::new(text) {
                        let (key, value) = pair.map_err(|_| LoginError::BadChap)?;
                        if matches!(key, "CHAP_N" | "CHAP_R") {
                            exchange.receive(cfg, key, value).map_err(login_error)?;
                        }
                    }
                }
                exchange.finish(cfg).map_err(login_error)
            })?;
        }
        if transit {
            let authenticated = self.chap.as_ref().is_some_and(ChapExchange::has_responded);
            if required && !authenticated {
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
        let mut replies = TextWriter::new(&mut self.replies);
        for pair in TextIter::new(text) {
            let (key, value) = pair.map_err(|_| LoginError::Negotiation)?;
            self.negotiator
                .apply(key, value, &mut replies)
                .map_err(|_| LoginError::Negotiation)?;
        }
        self.replies_len = replies.len();
        if !transit {
            return Ok(LoginStep::Continue);
        }
        if nsg != Stage::FullFeature {
            return Err(LoginError::Protocol);
        }
        let r = self
            .negotiator
            .finish()
            .map_err(|_| LoginError::Negotiation)?;
        self.negotiated = Negotiated::in_force(&r, config.params.max_recv_data_segment_length);
        Ok(LoginStep::Complete(self.negotiated))
    }

    /// Appends our answers to the target's offers (from the last response) to a request.
    fn push_replies(&mut self, w: &mut TextWriter<'_>) -> Result<(), LoginError> {
        let replies = &self.replies[..self.replies_len];
        for pair in TextIter::new(replies) {
            let (k, v) = pair.map_err(|_| LoginError::Protocol)?;
            push(w, k, v)?;
        }
        self.replies_len = 0;
        Ok(())
    }
}

fn push(w: &mut TextWriter<'_>, key: &str, value: &str) -> Result<(), LoginError> {
    w.push(key, value).map_err(|_| LoginError::Protocol)
}

/// The first value of `key` in a text segment, if well-formed.
pub(crate) fn find<'a>(text: &'a [u8], key: &str) -> Option<&'a str> {
    TextIter::new(text).find_key(key).and_then(Result::ok)
}

/// Parses a TargetAddress value: `ip[:port][,tpgt]` or `[ipv6][:port][,tpgt]`, as
/// [`Portal::parse_target_address`] does. Host names are not resolved (the core has no
/// resolver): `None`.
///
/// ```
/// use initiator::login::parse_target_address;
/// let a = parse_target_address("[::1]:3261,1").unwrap();
/// assert_eq!(a.to_string(), "[::1]:3261");
/// assert_eq!(parse_target_address("10.0.0.1").unwrap().port(), 3260);
/// ```
#[must_use]
pub fn parse_target_address(value: &str) -> Option<SocketAddr> {
    match Portal::parse_target_address(value).ok()? {
        (
            Portal {
                host: Host::Ip(ip),
                port,
            },
            _,
        ) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

/// Runs `f` with the session's CHAP settings as a [`ChapConfig`] (secrets copied into
/// zeroizing [`Secret`]s for the call). `dyn` and out of line: one copy of the secret handling
/// for the three CHAP steps (a smaller firmware image, docs/sanboot.md "Footprint").
#[inline(never)]
fn with_chap(
    config: &SessionConfig<'_>,
    f: &mut dyn FnMut(&ChapConfig<'_>) -> Result<(), LoginError>,
) -> Result<(), LoginError> {
    let chap = config.chap.ok_or(LoginError::Protocol)?;
    let secret = Secret::new(chap.secret).map_err(|_| LoginError::BadChapConfig)?;
    let target_secret = match chap.mutual {
        Some(m) => Some(Secret::new(m.secret).map_err(|_| LoginError::BadChapConfig)?),
        None => None,
    };
    let mutual = match (&chap.mutual, &target_secret) {
        (Some(m), Some(target_secret)) => Some(chap::MutualChap {
            secret: target_secret,
            target_name: Some(m.user),
            identifier: m.id,
            challenge: &m.challenge,
        }),
        _ => None,
    };
    f(&ChapConfig {
        name: chap.user,
        secret: &secret,
        mutual,
        algorithms: chap.algorithms,
        digest: chap.digest,
    })
}

/// The login failure a CHAP failure amounts to.
fn login_error(e: ChapError) -> LoginError {
    match e {
        ChapError::UnsupportedAlgorithm(_) | ChapError::AlgorithmRejected => {
            LoginError::NoCommonAuthMethod
        }
        ChapError::BadConfig | ChapError::SameSecretBothWays => LoginError::BadChapConfig,
        ChapError::WrongTargetName
        | ChapError::ReflectedResponse
        | ChapError::TargetAuthFailed
        | ChapError::TargetDidNotAuthenticate => LoginError::TargetAuthenticationFailed,
        ChapError::InvalidValue(_)
        | ChapError::ChallengeTooLong
        | ChapError::Missing(_)
        | ChapError::Unexpected(_)
        | ChapError::ReflectedChallenge => LoginError::BadChap,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    proptest::proptest! {
        #[test]
        fn target_address_round_trip(addr in proptest::prelude::any::<SocketAddr>(), port in 1u16.., tpgt in 0u16..) {
            // Display of SocketAddr brackets IPv6 literals, as TargetAddress does.
            let ip_only = SocketAddr::new(addr.ip(), port);
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
