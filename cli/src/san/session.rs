//! Opens a session to a named target with the initiator's blocking driver over std TCP.
//!
//! The driver borrows its names, secrets and I/O buffers for the session's lifetime. A command
//! runs one session per process, so those are leaked to `'static` once instead of threading
//! lifetimes through every command.

use super::device::{BlockDevice, DiscoveredTarget, LunInfo};
use super::failure::{Cause, Failure};
use super::opts::{DigestChoice, SessionArgs};
use initiator::addr::{Host, Portal, TargetAddress, percent_decode};
use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::error::{ConnectionFailure, Error, LoginError};
use initiator::scsi::cdb::vpd;
use initiator::scsi::{Designators, UnitSerialNumber};
use initiator::session::{Chap, MutualChap, Params, SessionConfig};
use initiator::transport::Connector;
use netstack_adapter::std_tcp::StdConnector;
use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};

/// Bytes per READ/WRITE command; `queue_depth` of them are pipelined.
const REQUEST_BYTES: u32 = 256 << 10;

/// MaxRecvDataSegmentLength we offer: one Data-In PDU per command up to 1 MiB, so the target
/// writes a header and a payload per command instead of one pair per 256 KiB (libiscsi's value),
/// and we parse fewer headers.
const MAX_RECV_SEGMENT: u32 = 1 << 20;

/// Receive buffer: one PDU of our MaxRecvDataSegmentLength plus headers, with room to spare
/// so a receive call rarely has to stop at the buffer's end.
const RX_BYTES: usize = MAX_RECV_SEGMENT as usize + (64 << 10);

/// Transmit buffer: Data-Out PDUs are cut to fit it.
const TX_BYTES: usize = 256 << 10;

/// The unit serial number (VPD page 0x80) and device identifiers (page 0x83) as text; a page
/// the LU does not support (CHECK CONDITION) or cannot be parsed is left out.
fn identity<C: Connector>(
    client: &mut Client<'_, '_, C>,
) -> Result<(Option<String>, Vec<String>), Error> {
    let mut page = vec![0u8; 1024];
    let serial = match client.inquiry_vpd(vpd::UNIT_SERIAL_NUMBER, &mut page) {
        Ok(n) => UnitSerialNumber::parse(&page[..n])
            .ok()
            .map(|s| String::from_utf8_lossy(s.serial()).into_owned()),
        Err(Error::CheckCondition(_)) => None,
        Err(e) => return Err(e),
    };
    let identifiers = match client.inquiry_vpd(vpd::DEVICE_IDENTIFICATION, &mut page) {
        Ok(n) => Designators::parse(&page[..n])
            .map(|ds| ds.map(|d| d.to_string()).collect())
            .unwrap_or_default(),
        Err(Error::CheckCondition(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok((serial, identifiers))
}

/// Logs in to `target` and returns its LUN, ready for I/O with `queue_depth` commands in flight.
pub fn open(
    target: &str,
    session: &SessionArgs,
    queue_depth: u32,
) -> Result<Box<dyn BlockDevice>, Failure> {
    session.validate()?;
    let target: &'static str = leak_str(target.to_owned());
    let addr = TargetAddress::parse(target).map_err(|e| {
        Failure::new(
            Cause::Usage,
            format!("target {:?}: {e}", redact_url(target)),
        )
    })?;
    let portal = resolve(addr.portal())?;
    let target_name = decode(addr.target_name, "target name")?;
    let lun = addr.lun.number().ok_or_else(|| {
        Failure::new(
            Cause::Usage,
            "only single-level LUNs 0..=16383 are supported",
        )
    })?;
    let url_user = addr.credentials.map(|c| c.user);
    let url_secret = match addr.credentials.and_then(|c| c.password) {
        Some(p) => Some(decode(p, "URL password")?),
        None => None,
    };
    let mut config = session_config(session, Some(target_name), url_user, url_secret)?;
    let most = u32::try_from(initiator::session::MAX_TASKS).unwrap_or(32);
    config.queue_depth = u16::try_from(queue_depth.clamp(1, most)).unwrap_or(8);
    let mut client_config = ClientConfig::new(portal, config);
    client_config.lun = lun;
    client_config.max_request_bytes = REQUEST_BYTES;
    client_config.connect_timeout = session.timeout();

    let buffers = Buffers {
        rx: leak_buf(RX_BYTES),
        tx: leak_buf(TX_BYTES),
    };
    let where_ = format!("{target_name} at {portal}");
    let mut client = Client::connect(StdConnector::new(), &client_config, buffers)
        .map_err(|e| classify(e, &where_))?;
    check_digests(&client, session)?;
    let inquiry = client.inquiry().map_err(|e| classify(e, &where_))?;
    let (serial, identifiers) = identity(&mut client).map_err(|e| classify(e, &where_))?;
    let capacity = client.read_capacity().map_err(|e| classify(e, &where_))?;
    let mut fields = [0u64; 64];
    let count = client
        .report_luns(&mut fields)
        .map_err(|e| classify(e, &where_))?;
    let luns = fields[..count.min(fields.len())]
        .iter()
        .map(|f| (f >> 48) & 0x3fff)
        .collect();
    let info = LunInfo {
        vendor: inquiry.vendor_str().to_owned(),
        product: inquiry.product_str().to_owned(),
        revision: inquiry.revision_str().to_owned(),
        serial,
        identifiers,
        block_size: capacity.block_size,
        blocks: capacity.blocks(),
        luns,
    };
    Ok(Box::new(Device {
        client,
        info,
        where_,
    }))
}

/// Runs a SendTargets discovery session against `portal` (`HOST[:PORT]`).
pub fn discover(portal: &str, session: &SessionArgs) -> Result<Vec<DiscoveredTarget>, Failure> {
    let portal_text: &'static str = leak_str(portal.to_owned());
    let parsed = Portal::parse(portal_text)
        .map_err(|e| Failure::new(Cause::Usage, format!("portal {portal:?}: {e}")))?;
    let addr = resolve(parsed)?;
    let config = session_config(session, None, None, None)?;
    let buffers = Buffers {
        rx: leak_buf(RX_BYTES),
        tx: leak_buf(TX_BYTES),
    };
    let mut found: Vec<DiscoveredTarget> = Vec::new();
    initiator::driver::discover(
        StdConnector::new(),
        addr,
        config,
        buffers,
        &mut |name, address| match found.iter_mut().find(|t| t.name == name) {
            Some(t) => t.portals.push(address.to_owned()),
            None => found.push(DiscoveredTarget {
                name: name.to_owned(),
                portals: vec![address.to_owned()],
            }),
        },
    )
    .map_err(|e| classify(e, &addr.to_string()))?;
    Ok(found)
}

/// The session configuration from the command line, the URL and the environment.
fn session_config(
    args: &SessionArgs,
    target_name: Option<&'static str>,
    url_user: Option<&'static str>,
    url_secret: Option<&'static str>,
) -> Result<SessionConfig<'static>, Failure> {
    let initiator_name = leak_str(args.initiator_name());
    let mut config = match target_name {
        Some(name) => SessionConfig::new(initiator_name, name, isid()),
        None => SessionConfig::discovery(initiator_name, isid()),
    };
    config.params = Params {
        header_digest: args.header_digest != DigestChoice::None,
        data_digest: args.data_digest != DigestChoice::None,
        max_recv_data_segment_length: MAX_RECV_SEGMENT,
        ..Params::default()
    };
    config.login_timeout = args.timeout();
    let user = args.chap_user.clone().map(leak_str).or(url_user);
    let secret = args.chap_secret.clone().map(leak_str).or(url_secret);
    let chap = match (user, secret) {
        (Some(user), Some(secret)) if args.require_chap => {
            Some(Chap::new(user, secret.as_bytes()).require())
        }
        (Some(user), Some(secret)) => Some(Chap::new(user, secret.as_bytes())),
        (None, None) if args.require_chap => {
            return Err(Failure::new(
                Cause::Usage,
                "--require-chap needs CHAP credentials (--chap-user and ISCSI_CHAP_SECRET)",
            ));
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(Failure::new(
                Cause::Usage,
                "a CHAP user needs a secret (--chap-secret or ISCSI_CHAP_SECRET)",
            ));
        }
        (None, Some(_)) => {
            return Err(Failure::new(
                Cause::Usage,
                "a CHAP secret needs a user (--chap-user or user@ in the URL)",
            ));
        }
    };
    warn_if_short(secret, "CHAP secret");
    warn_if_short(args.mutual_chap_secret.as_deref(), "mutual CHAP secret");
    let mutual = match (&args.mutual_chap_user, &args.mutual_chap_secret) {
        (Some(user), Some(secret)) => Some(MutualChap {
            user: leak_str(user.clone()),
            secret: leak_str(secret.clone()).as_bytes(),
            challenge: random_bytes(),
            id: random_bytes::<1>()[0],
        }),
        (None, None) => None,
        _ => {
            return Err(Failure::new(
                Cause::Usage,
                "mutual CHAP needs both --mutual-chap-user and --mutual-chap-secret",
            ));
        }
    };
    config.chap = match (chap, mutual) {
        (Some(chap), Some(mutual)) => Some(chap.with_mutual(mutual)),
        (Some(chap), None) => Some(chap),
        (None, Some(_)) => {
            return Err(Failure::new(
                Cause::Usage,
                "mutual CHAP needs one-way CHAP credentials too",
            ));
        }
        (None, None) => None,
    };
    Ok(config)
}

/// Shortest CHAP secret the Microsoft iSCSI initiator and target accept (RFC 7143 §12.1.3
/// recommends at least 96 bits of randomness; 12 characters is the common floor).
const MIN_SECRET_LEN: usize = 12;

/// Warns (on stderr, without the secret) about a secret Windows and many targets refuse.
fn warn_if_short(secret: Option<&str>, what: &str) {
    if let Some(s) = secret
        && s.len() < MIN_SECRET_LEN
    {
        eprintln!(
            "iscsi-boot: warning: the {what} is {} characters long; Windows and many targets \
             refuse secrets shorter than {MIN_SECRET_LEN}",
            s.len()
        );
    }
}

/// `--header-digest crc32c` / `--data-digest crc32c` refuse a session without them.
fn check_digests(
    client: &Client<'static, 'static, StdConnector>,
    args: &SessionArgs,
) -> Result<(), Failure> {
    let digests = client.session().negotiated().digests;
    let missing = (args.header_digest == DigestChoice::Crc32c && !digests.header)
        || (args.data_digest == DigestChoice::Crc32c && !digests.data);
    if missing {
        return Err(Failure::new(
            Cause::Digest,
            "the target did not agree to the required CRC32C digests",
        ));
    }
    Ok(())
}

/// The logged-in LUN.
struct Device {
    client: Client<'static, 'static, StdConnector>,
    info: LunInfo,
    where_: String,
}

impl BlockDevice for Device {
    fn info(&self) -> &LunInfo {
        &self.info
    }

    fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Failure> {
        self.client
            .read(lba, buf)
            .map_err(|e| classify(e, &self.where_))
    }

    fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), Failure> {
        self.client
            .write(lba, data)
            .map_err(|e| classify(e, &self.where_))
    }

    fn read_streaming(&mut self, lba: u64, blocks: u64, scratch: &mut [u8]) -> Result<(), Failure> {
        self.client
            .read_streaming(lba, blocks, scratch)
            .map_err(|e| classify(e, &self.where_))
    }

    fn write_streaming(&mut self, lba: u64, blocks: u64, pattern: &[u8]) -> Result<(), Failure> {
        self.client
            .write_streaming(lba, blocks, pattern)
            .map_err(|e| classify(e, &self.where_))
    }

    fn set_request_bytes(&mut self, bytes: u32) {
        self.client.set_max_request_bytes(bytes);
    }

    fn close(self: Box<Self>) -> Result<(), Failure> {
        let where_ = self.where_;
        self.client.logout().map_err(|e| classify(e, &where_))
    }
}

/// Maps a driver error to a cause and a one-line message.
pub fn classify(e: Error, where_: &str) -> Failure {
    let cause = match e {
        Error::Connect(_) => Cause::ConnectionRefused,
        Error::Login(login) => match login {
            LoginError::AuthenticationFailed
            | LoginError::AuthenticationSkipped
            | LoginError::TargetAuthenticationFailed
            | LoginError::NoCommonAuthMethod
            | LoginError::BadChap => Cause::Authentication,
            LoginError::NotFound | LoginError::TargetRemoved | LoginError::Forbidden => {
                Cause::NotFound
            }
            LoginError::RedirectLoop => Cause::RedirectLoop,
            _ => Cause::Other,
        },
        Error::ConnectionLost(ConnectionFailure::HeaderDigest | ConnectionFailure::DataDigest) => {
            Cause::Digest
        }
        Error::ConnectionLost(
            ConnectionFailure::KeepaliveTimeout | ConnectionFailure::LoginTimeout,
        )
        | Error::Timeout => Cause::Timeout,
        // LOGICAL UNIT NOT SUPPORTED: the LUN in the address does not exist.
        Error::CheckCondition(sense) if sense.asc == 0x25 => Cause::NotFound,
        Error::CheckCondition(_)
        | Error::NotReady(_)
        | Error::ScsiStatus(_)
        | Error::TargetFailure => Cause::Scsi,
        _ => Cause::Other,
    };
    Failure::new(cause, format!("{where_}: {e}"))
}

fn resolve(portal: Portal<'_>) -> Result<SocketAddr, Failure> {
    match portal.host {
        Host::Ip(ip) => Ok(SocketAddr::new(ip, portal.port)),
        Host::Name(name) => (name, portal.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                Failure::new(
                    Cause::ConnectionRefused,
                    format!("cannot resolve host name {name:?}"),
                )
            }),
    }
}

fn decode(s: &'static str, what: &str) -> Result<&'static str, Failure> {
    if !s.contains('%') {
        return Ok(s);
    }
    let buf = leak_buf(s.len());
    percent_decode(s, buf)
        .map(|d| leak_str(d.to_owned()))
        .map_err(|e| Failure::new(Cause::Usage, format!("{what}: {e}")))
}

/// The target string with any URL password replaced, for error messages.
pub(crate) fn redact_url(s: &str) -> String {
    let Some(rest) = s.strip_prefix("iscsi://") else {
        return s.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split('%').next().unwrap_or("");
            format!("iscsi://{user}%***@{}", &rest[at + 1..])
        }
        None => s.to_owned(),
    }
}

fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_buf(len: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; len].into_boxed_slice())
}

/// Random bytes from the OS, falling back to time and pid mixing when unavailable.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut out));
    if from_os.is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut state = (nanos as u64) ^ (u64::from(std::process::id()) << 32) | 1;
        for b in &mut out {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
    }
    out
}

/// A random-format ISID (RFC 7143 §10.12.5: type 0b10 in the top bits), kept for the session.
fn isid() -> [u8; 6] {
    let mut isid: [u8; 6] = random_bytes();
    isid[0] = 0x80 | (isid[0] & 0x3f);
    isid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("iscsi://alice%s3cret@host:3260/iqn.x/1"),
            "iscsi://alice%***@host:3260/iqn.x/1"
        );
        assert_eq!(redact_url("iscsi:host::::iqn.x"), "iscsi:host::::iqn.x");
    }

    #[test]
    fn login_errors_are_classified() {
        let auth = classify(Error::Login(LoginError::AuthenticationFailed), "t");
        assert_eq!(auth.cause, Cause::Authentication);
        let missing = classify(Error::Login(LoginError::NotFound), "t");
        assert_eq!(missing.cause, Cause::NotFound);
        let refused = classify(Error::Connect("127.0.0.1:1".parse().unwrap()), "t");
        assert_eq!(refused.cause, Cause::ConnectionRefused);
        let digest = classify(Error::ConnectionLost(ConnectionFailure::DataDigest), "t");
        assert_eq!(digest.cause, Cause::Digest);
    }

    #[test]
    fn isid_is_random_format() {
        assert_eq!(isid()[0] & 0xc0, 0x80);
    }
}
