//! A scripted iSCSI target for session tests: a virtual clock, the session under test, and
//! helpers that build target PDUs byte by byte from the RFC 7143 §11 layouts.
#![allow(dead_code)]

use initiator::digest::{Digests, crc32c};
use initiator::pdu::{Frame, FrameStatus, Repr, frame_status};
use initiator::session::{
    ChapDigest, DataSink, DataSource, Event, Session, SessionConfig, TaskTag,
};
use initiator::time::Instant;
use std::collections::HashMap;
use std::time::Duration;

pub const INITIATOR: &str = "iqn.2024-01.org.example:host";
pub const TARGET: &str = "iqn.2024-01.org.example:disk";
pub const ISID: [u8; 6] = [0x80, 0x12, 0x34, 0x56, 0x78, 0x9a];

/// Records Data-In by task and serves Data-Out from a pattern: byte at offset `o` of any task
/// is `(o * 7 + 3) as u8`.
#[derive(Default)]
pub struct Store {
    pub data_in: HashMap<u32, Vec<u8>>,
    pub writes: Vec<(u32, u32, usize)>,
}

pub fn pattern(offset: usize) -> u8 {
    (offset.wrapping_mul(7).wrapping_add(3)) as u8
}

impl DataSink for Store {
    fn write(&mut self, tag: TaskTag, offset: u32, bytes: &[u8]) {
        let v = self.data_in.entry(tag.0).or_default();
        let end = offset as usize + bytes.len();
        if v.len() < end {
            v.resize(end, 0);
        }
        v[offset as usize..end].copy_from_slice(bytes);
        self.writes.push((tag.0, offset, bytes.len()));
    }
}

impl DataSource for Store {
    fn read(&mut self, _tag: TaskTag, offset: u32, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = pattern(offset as usize + i);
        }
    }
}

/// A stand-in CHAP hash for exchange tests (the real hashes are tested with `chap.rs`):
/// out = [algorithm, id, secret…, challenge…] truncated to 32 bytes.
pub struct FakeHash;

impl ChapDigest for FakeHash {
    fn digest(
        &self,
        algorithm: u8,
        id: u8,
        secret: &[u8],
        challenge: &[u8],
        out: &mut [u8; 64],
    ) -> Option<usize> {
        if !(5..=8).contains(&algorithm) {
            return None;
        }
        let mut v = vec![algorithm, id];
        v.extend_from_slice(secret);
        v.extend_from_slice(challenge);
        v.truncate(32);
        out[..v.len()].copy_from_slice(&v);
        Some(v.len())
    }
}

pub fn fake_hash_hex(algorithm: u8, id: u8, secret: &[u8], challenge: &[u8]) -> String {
    let mut out = [0u8; 64];
    let n = FakeHash
        .digest(algorithm, id, secret, challenge, &mut out)
        .unwrap();
    let mut s = String::from("0x");
    for b in &out[..n] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub struct Harness<'a> {
    pub session: Session<'a>,
    pub now: Instant,
    pub store: Store,
    pub digests: Digests,
    pub tx_buf: Vec<u8>,
}

impl<'a> Harness<'a> {
    pub fn new(config: SessionConfig<'a>) -> Self {
        let mut session = Session::new(config);
        session.start_login(Instant::ZERO);
        Harness {
            session,
            now: Instant::ZERO,
            store: Store::default(),
            digests: Digests::NONE,
            tx_buf: vec![0; 70_000],
        }
    }

    /// Everything the session wants to send now, one PDU per entry.
    pub fn sent(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(n) = self
            .session
            .poll_transmit(self.now, &mut self.tx_buf, &mut self.store)
        {
            out.push(self.tx_buf[..n].to_vec());
            assert!(out.len() < 10_000, "session keeps transmitting");
        }
        out
    }

    /// Feeds target bytes; returns the session's verdict.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<usize, initiator::error::ConnectionFailure> {
        self.session.handle_input(self.now, bytes, &mut self.store)
    }

    /// Feeds a whole PDU that must be consumed completely.
    pub fn feed_all(&mut self, bytes: &[u8]) {
        assert_eq!(self.feed(bytes), Ok(bytes.len()));
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    pub fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        if let Some(t) = self.session.poll_timeout()
            && self.now >= t
        {
            self.session.handle_timeout(self.now);
        }
    }
}

/// Parses one PDU the session sent (the wire codec decodes; expectations come from the RFC).
pub fn parse(pdu: &[u8], digests: Digests) -> Repr<'_> {
    assert_eq!(
        frame_status(pdu, digests, 1 << 24),
        Ok(FrameStatus::Complete { len: pdu.len() })
    );
    let frame = Frame::split(pdu, digests).expect("frame");
    Repr::parse_frame(&frame).expect("parse")
}

/// The key=value pairs of a text segment.
pub fn pairs(data: &[u8]) -> Vec<(String, String)> {
    data.split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let s = std::str::from_utf8(p).unwrap();
            let (k, v) = s.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub fn value(data: &[u8], key: &str) -> Option<String> {
    pairs(data)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

pub fn text(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (k, val) in pairs {
        v.extend_from_slice(k.as_bytes());
        v.push(b'=');
        v.extend_from_slice(val.as_bytes());
        v.push(0);
    }
    v
}

/// A 48-byte BHS with opcode, flags and DataSegmentLength set (RFC 7143 §11.2.1).
pub fn bhs(opcode: u8, flags: u8, data_len: usize) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0] = opcode;
    b[1] = flags;
    b[5] = (data_len >> 16) as u8;
    b[6] = (data_len >> 8) as u8;
    b[7] = data_len as u8;
    b
}

pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Appends data, padding and digests.
pub fn with_data(header: [u8; 48], data: &[u8], digests: Digests) -> Vec<u8> {
    let mut v = header.to_vec();
    if digests.header {
        v.extend_from_slice(&crc32c(&header).to_le_bytes());
    }
    v.extend_from_slice(data);
    let pad = (4 - data.len() % 4) % 4;
    v.extend(std::iter::repeat_n(0, pad));
    if digests.data && !data.is_empty() {
        let start = v.len() - data.len() - pad;
        let d = crc32c(&v[start..]);
        v.extend_from_slice(&d.to_le_bytes());
    }
    v
}

/// Login Response (opcode 0x23, §11.13): T/C bits, CSG/NSG, status, SNs.
#[allow(clippy::too_many_arguments)]
pub fn login_response(
    transit: bool,
    cont: bool,
    csg: u8,
    nsg: u8,
    status: u16,
    tsih: u16,
    stat_sn: u32,
    exp_cmd_sn: u32,
    max_cmd_sn: u32,
    data: &[u8],
) -> Vec<u8> {
    let flags = (u8::from(transit) << 7) | (u8::from(cont) << 6) | (csg << 2) | nsg;
    let mut b = bhs(0x23, flags, data.len());
    b[8..14].copy_from_slice(&ISID);
    b[14..16].copy_from_slice(&tsih.to_be_bytes());
    put32(&mut b, 16, 0); // ITT of our login requests
    put32(&mut b, 24, stat_sn);
    put32(&mut b, 28, exp_cmd_sn);
    put32(&mut b, 32, max_cmd_sn);
    b[36..38].copy_from_slice(&status.to_be_bytes());
    with_data(b, data, Digests::NONE)
}

/// SCSI Data-In (0x25, §11.7).
#[allow(clippy::too_many_arguments)]
pub fn data_in(
    itt: u32,
    data_sn: u32,
    offset: u32,
    data: &[u8],
    final_status: Option<(u8, u32, u32, u32)>,
    digests: Digests,
) -> Vec<u8> {
    let mut flags = 0u8;
    if final_status.is_some() {
        flags |= 0x80 | 0x01; // F + S
    }
    let mut b = bhs(0x25, flags, data.len());
    put32(&mut b, 16, itt);
    put32(&mut b, 20, 0xffff_ffff);
    if let Some((status, stat_sn, exp, max)) = final_status {
        b[3] = status;
        put32(&mut b, 24, stat_sn);
        put32(&mut b, 28, exp);
        put32(&mut b, 32, max);
    }
    put32(&mut b, 36, data_sn);
    put32(&mut b, 40, offset);
    with_data(b, data, digests)
}

/// SCSI Response (0x21, §11.4) with optional sense data and residual flags.
#[allow(clippy::too_many_arguments)]
pub fn scsi_response(
    itt: u32,
    status: u8,
    stat_sn: u32,
    exp_cmd_sn: u32,
    max_cmd_sn: u32,
    underflow: Option<u32>,
    sense: &[u8],
    digests: Digests,
) -> Vec<u8> {
    let mut data = Vec::new();
    if !sense.is_empty() {
        data.extend_from_slice(&(sense.len() as u16).to_be_bytes());
        data.extend_from_slice(sense);
    }
    let flags = 0x80 | if underflow.is_some() { 0x02 } else { 0 };
    let mut b = bhs(0x21, flags, data.len());
    b[3] = status;
    put32(&mut b, 16, itt);
    put32(&mut b, 24, stat_sn);
    put32(&mut b, 28, exp_cmd_sn);
    put32(&mut b, 32, max_cmd_sn);
    put32(&mut b, 44, underflow.unwrap_or(0));
    with_data(b, &data, digests)
}

/// R2T (0x31, §11.8).
pub fn r2t(itt: u32, ttt: u32, stat_sn: u32, r2t_sn: u32, offset: u32, len: u32) -> Vec<u8> {
    let mut b = bhs(0x31, 0x80, 0);
    put32(&mut b, 16, itt);
    put32(&mut b, 20, ttt);
    put32(&mut b, 24, stat_sn);
    put32(&mut b, 28, 1);
    put32(&mut b, 32, 64);
    put32(&mut b, 36, r2t_sn);
    put32(&mut b, 40, offset);
    put32(&mut b, 44, len);
    b.to_vec()
}

/// NOP-In (0x20, §11.19).
pub fn nop_in(itt: u32, ttt: u32, lun: u64, stat_sn: u32, exp: u32, max: u32) -> Vec<u8> {
    let mut b = bhs(0x20, 0x80, 0);
    b[8..16].copy_from_slice(&lun.to_be_bytes());
    put32(&mut b, 16, itt);
    put32(&mut b, 20, ttt);
    put32(&mut b, 24, stat_sn);
    put32(&mut b, 28, exp);
    put32(&mut b, 32, max);
    b.to_vec()
}

/// The operational-stage answer a plain target gives.
pub fn target_keys(
    max_recv: u32,
    max_burst: u32,
    first_burst: u32,
    initial_r2t: &str,
    immediate: &str,
) -> Vec<u8> {
    text(&[
        ("HeaderDigest", "None"),
        ("DataDigest", "None"),
        ("MaxConnections", "1"),
        ("InitialR2T", initial_r2t),
        ("ImmediateData", immediate),
        ("MaxRecvDataSegmentLength", &max_recv.to_string()),
        ("MaxBurstLength", &max_burst.to_string()),
        ("FirstBurstLength", &first_burst.to_string()),
        ("MaxOutstandingR2T", "1"),
        ("DataPDUInOrder", "Yes"),
        ("DataSequenceInOrder", "Yes"),
        ("DefaultTime2Wait", "2"),
        ("DefaultTime2Retain", "0"),
        ("ErrorRecoveryLevel", "0"),
    ])
}

/// Drives a login without CHAP to the full feature phase: security then operational stage.
/// The target answers with `keys`; its first StatSN is 100 and CmdSN window [exp, max].
pub fn login_plain(h: &mut Harness<'_>, keys: &[u8], exp: u32, max: u32) {
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, exp, exp, &[]));
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    h.feed_all(&login_response(
        true, false, 1, 3, 0, 7, 101, exp, max, keys,
    ));
    let ev = h.events();
    assert!(
        matches!(ev.as_slice(), [Event::LoggedIn(_)]),
        "expected LoggedIn, got {ev:?}"
    );
    assert!(h.session.is_logged_in());
}
