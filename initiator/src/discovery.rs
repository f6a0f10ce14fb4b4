//! SendTargets discovery (RFC 7143 §11.10.2 and Appendix C): the request key and a zero-copy
//! reader of the Text Response.
//!
//! The response is a sequence of `TargetName=<iqn>` pairs, each followed by zero or more
//! `TargetAddress=<host>[:<port>],<tpgt>` pairs (and possibly other keys such as
//! `TargetAlias`, which are skipped). A target with no `TargetAddress` is reachable through the
//! portal the discovery session used.
//!
//! ```
//! use initiator::discovery::SendTargetsResponse;
//! let data = b"TargetName=iqn.2026-01.test:a\0TargetAddress=10.0.0.1:3260,1\0\
//! TargetAddress=[fd00::1]:3260,1\0TargetName=iqn.2026-01.test:b\0";
//! let mut targets = SendTargetsResponse::new(data).targets();
//! let a = targets.next().unwrap().unwrap();
//! assert_eq!(a.name, "iqn.2026-01.test:a");
//! assert_eq!(a.portals().count(), 2);
//! let b = targets.next().unwrap().unwrap();
//! assert_eq!(b.portals().count(), 0);
//! assert!(targets.next().is_none());
//! ```

use crate::addr::{AddrError, Portal};
use crate::params::KeySink;

/// The Text Request key.
pub const SEND_TARGETS_KEY: &str = "SendTargets";
/// Its value in a discovery session: every target this portal knows.
pub const SEND_TARGETS_ALL: &str = "All";

/// What to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTargetsQuery<'a> {
    /// `SendTargets=All` (discovery session only).
    All,
    /// `SendTargets=<name>`: the addresses of one target.
    Target(&'a str),
    /// `SendTargets=` (empty): the addresses of the current session's target (normal session).
    Current,
}

/// Writes the request's single key.
///
/// ```
/// use initiator::discovery::{SendTargetsQuery, write_request};
/// let mut out = Vec::new();
/// write_request(SendTargetsQuery::All, &mut |k: &str, v: &str| out.push(format!("{k}={v}"))).unwrap();
/// assert_eq!(out, ["SendTargets=All"]);
/// ```
pub fn write_request<S: KeySink>(
    query: SendTargetsQuery<'_>,
    sink: &mut S,
) -> Result<(), S::Error> {
    let value = match query {
        SendTargetsQuery::All => SEND_TARGETS_ALL,
        SendTargetsQuery::Target(name) => name,
        SendTargetsQuery::Current => "",
    };
    sink.put(SEND_TARGETS_KEY, value)
}

/// A malformed SendTargets response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// A pair without `=`, or not UTF-8.
    #[error("malformed key=value pair")]
    BadPair,
    /// `TargetAddress` before any `TargetName`.
    #[error("TargetAddress before any TargetName")]
    AddressWithoutTarget,
    /// `TargetName=` with an empty value.
    #[error("empty TargetName")]
    EmptyTargetName,
}

/// Splits NUL-terminated `key=value` pairs (a missing final NUL is tolerated; empty pairs are
/// skipped, as some targets pad).
#[derive(Debug, Clone)]
struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<(&'a str, &'a str), DiscoveryError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = self
                .rest
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(self.rest.len());
            let pair = &self.rest[..end];
            self.rest = self.rest.get(end + 1..).unwrap_or(&[]);
            if pair.is_empty() {
                continue;
            }
            let parsed = core::str::from_utf8(pair)
                .ok()
                .and_then(|s| s.split_once('='))
                .filter(|(k, _)| !k.is_empty())
                .ok_or(DiscoveryError::BadPair);
            if parsed.is_err() {
                self.rest = &[];
            }
            return Some(parsed);
        }
    }
}

/// A SendTargets Text Response data segment (all continuation PDUs concatenated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendTargetsResponse<'a> {
    data: &'a [u8],
}

impl<'a> SendTargetsResponse<'a> {
    /// Wraps the data segment.
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The targets, in order.
    #[must_use]
    pub fn targets(&self) -> Targets<'a> {
        Targets {
            pairs: Pairs { rest: self.data },
            done: false,
        }
    }
}

/// Iterator over discovered targets; ends after the first error.
#[derive(Debug, Clone)]
pub struct Targets<'a> {
    pairs: Pairs<'a>,
    done: bool,
}

impl<'a> Iterator for Targets<'a> {
    type Item = Result<DiscoveredTarget<'a>, DiscoveryError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let name = loop {
            match self.pairs.next()? {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(("TargetName", "")) => {
                    self.done = true;
                    return Some(Err(DiscoveryError::EmptyTargetName));
                }
                Ok(("TargetName", name)) => break name,
                Ok(("TargetAddress", _)) => {
                    self.done = true;
                    return Some(Err(DiscoveryError::AddressWithoutTarget));
                }
                Ok(_) => continue,
            }
        };
        // This target's section runs up to the next TargetName.
        let section = self.pairs.clone();
        loop {
            let before = self.pairs.clone();
            match self.pairs.next() {
                Some(Ok(("TargetName", _))) => {
                    self.pairs = before;
                    break;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) => {
                    self.pairs = before;
                    break;
                }
                None => break,
            }
        }
        let consumed = section.rest.len() - self.pairs.rest.len();
        Some(Ok(DiscoveredTarget {
            name,
            section: &section.rest[..consumed],
        }))
    }
}

/// One target of a SendTargets response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveredTarget<'a> {
    /// `TargetName`.
    pub name: &'a str,
    section: &'a [u8],
}

impl<'a> DiscoveredTarget<'a> {
    /// Its portals with their portal group tags, in order.
    #[must_use]
    pub fn portals(&self) -> TargetPortals<'a> {
        TargetPortals {
            pairs: Pairs { rest: self.section },
        }
    }

    /// `TargetAlias`, if the target sent one.
    #[must_use]
    pub fn alias(&self) -> Option<&'a str> {
        Pairs { rest: self.section }
            .filter_map(Result::ok)
            .find(|(k, _)| *k == "TargetAlias")
            .map(|(_, v)| v)
    }
}

/// A portal of a discovered target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveredPortal<'a> {
    /// Address and port.
    pub portal: Portal<'a>,
    /// Target portal group tag, if given.
    pub tpgt: Option<u16>,
}

/// Iterator over a target's `TargetAddress` values.
#[derive(Debug, Clone)]
pub struct TargetPortals<'a> {
    pairs: Pairs<'a>,
}

impl<'a> Iterator for TargetPortals<'a> {
    type Item = Result<DiscoveredPortal<'a>, AddrError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.pairs.next()? {
                Ok(("TargetAddress", v)) => {
                    return Some(
                        Portal::parse_target_address(v)
                            .map(|(portal, tpgt)| DiscoveredPortal { portal, tpgt }),
                    );
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }
}
