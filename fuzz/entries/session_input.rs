//! Feeds arbitrary target bytes to a session, in arbitrary chunks, during login (selector bit 0
//! clear) or in the full feature phase with a read and a write in flight (bit 0 set). The session
//! must never panic, and every Data-In it hands out must lie inside its task's buffer.
//!
//! With selector bit 7 set, the next input byte is a placement plan: at the k-th chance (a
//! Data-In payload pending with nothing buffered), plan bit `k % 8` set places the piece's
//! bytes directly, as a driver receiving into the read buffer does
//! ([`Session::pending_data_in`] / [`Session::data_placed`]); clear feeds them through
//! `handle_input`. Every placement range must lie inside its task's buffer.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use initiator::session::{
    Command, DataDirection, DataSink, DataSource, Session, SessionConfig, TaskTag,
};
use initiator::time::Instant;

/// Checks every Data-In against the lengths submitted.
struct Bounds {
    tasks: Vec<(u32, u32)>,
}

impl DataSink for Bounds {
    fn write(&mut self, tag: TaskTag, offset: u32, bytes: &[u8]) {
        let (_, len) = self
            .tasks
            .iter()
            .find(|t| t.0 == tag.0)
            .expect("known task");
        assert!(
            offset as usize + bytes.len() <= *len as usize,
            "Data-In out of bounds"
        );
    }
}

impl DataSource for Bounds {
    fn read(&mut self, tag: TaskTag, offset: u32, buf: &mut [u8]) {
        let (_, len) = self
            .tasks
            .iter()
            .find(|t| t.0 == tag.0)
            .expect("known task");
        assert!(
            offset as usize + buf.len() <= *len as usize,
            "Data-Out out of bounds"
        );
        buf.fill(0xa5);
    }
}

/// A Login Response (RFC 7143 §11.13) with T=1 from `csg` to `nsg`, status 0.
fn login_response(csg: u8, nsg: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = 0x23;
    b[1] = 0x80 | (csg << 2) | nsg;
    b[7] = data.len() as u8;
    b[28..32].copy_from_slice(&1u32.to_be_bytes());
    b[32..36].copy_from_slice(&32u32.to_be_bytes());
    b.extend_from_slice(data);
    b.resize(b.len().next_multiple_of(4), 0);
    b
}

/// Runs one fuzz input.
pub fn run(input: &[u8]) {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    let config = SessionConfig::new(
        "iqn.2024-01.org.example:i",
        "iqn.2024-01.org.example:t",
        [0x80, 0, 0, 0, 0, 1],
    );
    let mut session = Session::new(config);
    let mut io = Bounds { tasks: Vec::new() };
    let mut tx = vec![0u8; 70_000];
    let mut now = Instant::ZERO;
    session.start_login(now);
    while session.poll_transmit(now, &mut tx, &mut io).is_some() {}
    if selector & 1 != 0 {
        let _ = session.handle_input(now, &login_response(0, 1, &[]), &mut io);
        while session.poll_transmit(now, &mut tx, &mut io).is_some() {}
        let keys = b"InitialR2T=No\0ImmediateData=Yes\0MaxRecvDataSegmentLength=512\0";
        let _ = session.handle_input(now, &login_response(1, 3, keys), &mut io);
        for (cdb, data) in [
            (0x28u8, DataDirection::Read(4096)),
            (0x2a, DataDirection::Write(4096)),
        ] {
            let (DataDirection::Read(len) | DataDirection::Write(len)) = data else {
                continue;
            };
            let cmd = Command {
                lun: 0,
                cdb: &[cdb, 0, 0, 0, 0, 0, 0, 0, 8, 0],
                data,
            };
            if let Ok(tag) = session.submit(cmd) {
                io.tasks.push((tag.0, len));
            }
        }
    }
    // Chunk sizes come from selector bits 1..=6; the buffer keeps what was not consumed.
    let chunk = usize::from((selector >> 1) & 0x3f).max(1);
    let (plan, rest) = match rest.split_first() {
        Some((&plan, rest)) if selector & 0x80 != 0 => (plan, rest),
        _ => (0, rest),
    };
    let mut chance = 0u32;
    let mut rx: Vec<u8> = Vec::new();
    for piece in rest.chunks(chunk) {
        let piece = match place(&mut session, &io, now, plan, &mut chance, &rx, piece) {
            Ok(unplaced) => unplaced,
            Err(()) => break,
        };
        rx.extend_from_slice(piece);
        match session.handle_input(now, &rx, &mut io) {
            Ok(used) => {
                rx.drain(..used);
            }
            Err(_) => break,
        }
        let mut sent = 0;
        while session.poll_transmit(now, &mut tx, &mut io).is_some() {
            sent += 1;
            assert!(sent < 10_000, "transmit loop");
        }
        while session.poll_event().is_some() {}
        now = now + core::time::Duration::from_millis(700);
        session.handle_timeout(now);
    }
}

/// Places the front of `piece` directly when a payload is pending, nothing is buffered and the
/// plan says so; returns the bytes left for `handle_input`, or `Err` once the session failed.
fn place<'p>(
    session: &mut Session<'_>,
    io: &Bounds,
    now: Instant,
    plan: u8,
    chance: &mut u32,
    rx: &[u8],
    piece: &'p [u8],
) -> Result<&'p [u8], ()> {
    if !rx.is_empty() {
        return Ok(piece);
    }
    let Some(p) = session.pending_data_in() else {
        return Ok(piece);
    };
    let direct = plan & (1 << (*chance % 8)) != 0;
    *chance += 1;
    if !direct {
        return Ok(piece);
    }
    // The range a driver's sink would lend (`DataSink::buffer`) must lie inside the task's buffer.
    let (_, len) = io
        .tasks
        .iter()
        .find(|t| t.0 == p.tag.0)
        .expect("placement for a known task");
    assert!(
        u64::from(p.offset) + u64::from(p.len) <= u64::from(*len),
        "placement out of bounds"
    );
    let n = piece.len().min(p.len as usize);
    let (placed, unplaced) = piece.split_at(n);
    session.data_placed(now, placed).map_err(|_| ())?;
    Ok(unplaced)
}
