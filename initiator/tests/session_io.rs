//! Full feature phase against a scripted target: Data-In, R2T, unsolicited data, CmdSN window,
//! NOP, keepalive, digests, bounds checks and recovery.

mod session_target;

use initiator::digest::{Digests, crc32c};
use initiator::error::{ConnectionFailure, ProtocolError};
use initiator::pdu::{Repr, ScsiStatus};
use initiator::session::{Command, DataDirection, Event, Params, Residual, SessionConfig};
use session_target::*;
use std::time::Duration;

const READ10: [u8; 10] = [0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0];
const WRITE10: [u8; 10] = [0x2a, 0, 0, 0, 0, 0, 0, 0, 16, 0];

fn config() -> SessionConfig<'static> {
    SessionConfig::new(INITIATOR, TARGET, ISID)
}

fn read(len: u32) -> Command<'static> {
    Command {
        lun: 0,
        cdb: &READ10,
        data: DataDirection::Read(len),
    }
}

fn write(len: u32) -> Command<'static> {
    Command {
        lun: 0,
        cdb: &WRITE10,
        data: DataDirection::Write(len),
    }
}

fn logged_in(keys: &[u8], exp: u32, max: u32) -> Harness<'static> {
    let mut h = Harness::new(config());
    login_plain(&mut h, keys, exp, max);
    h
}

fn default_keys() -> Vec<u8> {
    target_keys(8192, 262_144, 65536, "Yes", "No")
}

fn completions(h: &mut Harness<'_>) -> Vec<initiator::session::Completion> {
    h.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TaskComplete(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn read_command_and_data_in_with_status() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    let pdu = &sent[0];
    // SCSI Command (§11.3): opcode 0x01, F=1 R=1 ATTR=Simple, EDTL 1000, CmdSN 1, ExpStatSN 102.
    assert_eq!(pdu[0], 0x01);
    assert_eq!(pdu[1], 0x80 | 0x40 | 0x01);
    assert_eq!(&pdu[16..20], &tag.0.to_be_bytes());
    assert_eq!(&pdu[20..24], &1000u32.to_be_bytes());
    assert_eq!(&pdu[24..28], &1u32.to_be_bytes());
    assert_eq!(&pdu[28..32], &102u32.to_be_bytes());
    assert_eq!(&pdu[32..42], &READ10);

    let a: Vec<u8> = (0..512).map(|i| i as u8).collect();
    let b: Vec<u8> = (512..1000).map(|i| (i * 3) as u8).collect();
    h.feed_all(&data_in(tag.0, 0, 0, &a, None, Digests::NONE));
    assert!(h.events().is_empty());
    h.feed_all(&data_in(
        tag.0,
        1,
        512,
        &b,
        Some((0, 102, 2, 17)),
        Digests::NONE,
    ));
    let c = completions(&mut h);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].tag, tag);
    assert!(c[0].is_good());
    let got = &h.store.data_in[&tag.0];
    assert_eq!(&got[..512], a.as_slice());
    assert_eq!(&got[512..], b.as_slice());
    assert_eq!(h.session.tasks_in_flight(), 0);
}

#[test]
fn data_in_past_the_buffer_is_a_protocol_error_not_a_write() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    h.sent();
    let r = h.feed(&data_in(tag.0, 0, 900, &[0u8; 200], None, Digests::NONE));
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(
            ProtocolError::DataInOutOfBounds
        ))
    );
    assert!(h.store.writes.is_empty());
    // Offset near u32::MAX must not wrap around.
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    h.sent();
    let r = h.feed(&data_in(
        tag.0,
        0,
        u32::MAX - 3,
        &[0u8; 8],
        None,
        Digests::NONE,
    ));
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(
            ProtocolError::DataInOutOfBounds
        ))
    );
    // Unknown ITT.
    let mut h = logged_in(&default_keys(), 1, 16);
    h.session.submit(read(1000)).unwrap();
    h.sent();
    let r = h.feed(&data_in(0x5555, 0, 0, &[0u8; 8], None, Digests::NONE));
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(ProtocolError::UnknownTask(
            0x5555
        )))
    );
    assert!(h.store.writes.is_empty());
}

#[test]
fn scsi_response_carries_sense_and_residual() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    h.sent();
    // Fixed-format sense: UNIT ATTENTION, ASC 0x29 (power on / reset).
    let sense = [
        0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0,
    ];
    h.feed_all(&scsi_response(
        tag.0,
        0x02,
        102,
        2,
        17,
        Some(1000),
        &sense,
        Digests::NONE,
    ));
    let c = completions(&mut h);
    assert_eq!(c[0].status, ScsiStatus::CheckCondition);
    assert_eq!(c[0].sense(), &sense);
    assert_eq!(c[0].residual, Residual::Underflow(1000));
}

/// Splits sent PDUs into Data-Out fields: (ttt, data_sn, offset, len, final).
fn data_outs(sent: &[Vec<u8>]) -> Vec<(u32, u32, u32, usize, bool)> {
    sent.iter()
        .map(|p| match parse(p, Digests::NONE) {
            Repr::DataOut(d) => {
                for (i, b) in d.data.iter().enumerate() {
                    assert_eq!(*b, pattern(d.buffer_offset as usize + i), "payload");
                }
                (d.ttt, d.data_sn, d.buffer_offset, d.data.len(), d.final_bit)
            }
            other => panic!("expected Data-Out, got {other:?}"),
        })
        .collect()
}

#[test]
fn r2t_bursts_are_cut_to_the_target_segment_size() {
    // MaxRecvDataSegmentLength 512, MaxBurstLength 4096, InitialR2T=Yes, ImmediateData=No.
    let mut h = logged_in(&target_keys(512, 4096, 4096, "Yes", "No"), 1, 16);
    let tag = h.session.submit(write(8192)).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0][1],
        0x80 | 0x20 | 0x01,
        "F=1 W=1: no unsolicited data"
    );
    assert_eq!(&sent[0][4..8], &[0, 0, 0, 0], "no immediate data");
    h.feed_all(&r2t(tag.0, 0x77, 102, 0, 0, 4096));
    let outs = data_outs(&h.sent());
    assert_eq!(outs.len(), 8);
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(*o, (0x77, i as u32, i as u32 * 512, 512, i == 7));
    }
    h.feed_all(&r2t(tag.0, 0x78, 102, 1, 4096, 4096));
    let outs = data_outs(&h.sent());
    assert_eq!(outs.len(), 8);
    // DataSN restarts at 0 for each R2T's sequence (§11.7.5).
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(*o, (0x78, i as u32, 4096 + i as u32 * 512, 512, i == 7));
    }
    // An R2T past the write buffer is refused.
    let r = h.feed(&r2t(tag.0, 0x79, 102, 2, 8000, 512));
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(ProtocolError::R2tOutOfBounds))
    );
}

#[test]
fn immediate_and_unsolicited_data_stay_within_first_burst() {
    // InitialR2T=No, ImmediateData=Yes, FirstBurstLength 8192, target segments of 4096.
    let mut h = logged_in(&target_keys(4096, 65536, 8192, "No", "Yes"), 1, 16);
    let tag = h.session.submit(write(20000)).unwrap();
    let sent = h.sent();
    let Repr::ScsiCommand(cmd) = parse(&sent[0], Digests::NONE) else {
        panic!()
    };
    assert!(!cmd.final_bit, "unsolicited Data-Out follows");
    assert_eq!(cmd.data.len(), 4096);
    assert!(cmd.data.iter().enumerate().all(|(i, b)| *b == pattern(i)));
    let outs = data_outs(&sent[1..]);
    assert_eq!(outs, vec![(0xffff_ffff, 0, 4096, 4096, true)]);
    let unsolicited: usize = cmd.data.len() + outs.iter().map(|o| o.3).sum::<usize>();
    assert!(unsolicited <= 8192);
    h.feed_all(&r2t(tag.0, 0x10, 102, 0, 8192, 11808));
    let outs = data_outs(&h.sent());
    assert_eq!(outs.len(), 3);
    assert_eq!(outs[2], (0x10, 2, 8192 + 8192, 11808 - 8192, true));
}

#[test]
fn cmdsn_window_is_never_exceeded_and_a_closed_window_stalls() {
    // ExpCmdSN 1, MaxCmdSN 1: room for exactly one command.
    let mut h = logged_in(&default_keys(), 1, 1);
    let tags: Vec<_> = (0..3)
        .map(|_| h.session.submit(read(512)).unwrap())
        .collect();
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0][24..28], &1u32.to_be_bytes());
    assert!(
        h.sent().is_empty(),
        "closed window: nothing to send, no spinning"
    );
    // The response opens the window to MaxCmdSN 3.
    h.feed_all(&scsi_response(
        tags[0].0,
        0,
        102,
        2,
        3,
        Some(512), // no data sent: the whole transfer is residual
        &[],
        Digests::NONE,
    ));
    let sent = h.sent();
    let sns: Vec<_> = sent
        .iter()
        .map(|p| u32::from_be_bytes(p[24..28].try_into().unwrap()))
        .collect();
    assert_eq!(sns, vec![2, 3]);
    // A stale (smaller) MaxCmdSN does not shrink the window backwards.
    h.feed_all(&scsi_response(
        tags[1].0,
        0,
        103,
        3,
        2,
        Some(512), // no data sent: the whole transfer is residual
        &[],
        Digests::NONE,
    ));
    assert!(h.sent().is_empty());
    // The queue depth holds.
    let mut cfg = config();
    cfg.queue_depth = 2;
    let mut h = Harness::new(cfg);
    login_plain(&mut h, &default_keys(), 1, 100);
    h.session.submit(read(512)).unwrap();
    h.session.submit(read(512)).unwrap();
    assert_eq!(
        h.session.submit(read(512)),
        Err(initiator::error::SubmitError::QueueFull)
    );
}

#[test]
fn an_exp_cmd_sn_beyond_the_commands_sent_does_not_stall_the_session() {
    // RFC 7143 §4.2.2.1: ExpCmdSN acknowledges commands the target has received, so it can
    // never pass the next CmdSN we would send. A target that claims otherwise (here 1000 after
    // one command) must not close our window: the next command still goes out, with CmdSN 2.
    let mut h = logged_in(&default_keys(), 1, 16);
    let first = h.session.submit(read(512)).unwrap();
    assert_eq!(h.sent().len(), 1);
    h.feed_all(&scsi_response(
        first.0,
        0,
        102,
        1000,
        1015,
        Some(512),
        &[],
        Digests::NONE,
    ));
    h.session.submit(read(512)).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "the second command was held back");
    assert_eq!(&sent[0][24..28], &2u32.to_be_bytes(), "CmdSN");
}

#[test]
fn nop_in_ping_is_answered_with_ttt_and_lun() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let lun = 0x0001_0000_0000_0000u64;
    h.feed_all(&nop_in(0xffff_ffff, 0x1234_5678, lun, 102, 1, 16));
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    let p = &sent[0];
    // NOP-Out (§11.18): opcode 0x00 with I bit, F bit, LUN and TTT echoed, ITT reserved.
    assert_eq!(p[0], 0x40);
    assert_eq!(p[1], 0x80);
    assert_eq!(&p[8..16], &lun.to_be_bytes());
    assert_eq!(&p[16..20], &[0xff; 4]);
    assert_eq!(&p[20..24], &0x1234_5678u32.to_be_bytes());
    // A NOP-In with TTT 0xffffffff wants no answer.
    h.feed_all(&nop_in(0xffff_ffff, 0xffff_ffff, 0, 102, 1, 16));
    assert!(h.sent().is_empty());
}

#[test]
fn keepalive_pings_after_idle_and_fails_without_answer() {
    let mut h = logged_in(&default_keys(), 1, 16);
    h.advance(Duration::from_secs(4));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    let Repr::NopOut(ping) = parse(&sent[0], Digests::NONE) else {
        panic!()
    };
    assert!(ping.immediate);
    assert_ne!(ping.itt, 0xffff_ffff);
    assert_eq!(ping.ttt, 0xffff_ffff);
    // Answered: no failure, a new idle period starts.
    h.feed_all(&nop_in(ping.itt, 0xffff_ffff, 0, 102, 1, 16));
    h.advance(Duration::from_secs(4));
    assert!(h.events().is_empty());
    // Next ping goes unanswered.
    h.advance(Duration::from_secs(1));
    assert_eq!(h.sent().len(), 1);
    h.advance(Duration::from_secs(5));
    assert_eq!(
        h.events(),
        vec![Event::ConnectionFailed(ConnectionFailure::KeepaliveTimeout)]
    );
}

#[test]
fn digests_are_sent_and_checked() {
    let mut cfg = config();
    cfg.params = Params {
        header_digest: true,
        data_digest: true,
        ..Params::default()
    };
    let mut h = Harness::new(cfg);
    let sent = h.sent();
    // Login PDUs never carry digests.
    assert_eq!(sent[0].len() % 4, 0);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Digests::NONE) else {
        panic!()
    };
    assert_eq!(
        value(req.data, "HeaderDigest").as_deref(),
        Some("CRC32C,None")
    );
    let mut keys = text(&[("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")]);
    keys.extend(
        target_keys(8192, 262_144, 65536, "Yes", "No")
            .into_iter()
            .skip("HeaderDigest=None\0DataDigest=None\0".len()),
    );
    h.feed_all(&login_response(true, false, 1, 3, 0, 7, 101, 1, 16, &keys));
    assert!(matches!(h.events().as_slice(), [Event::LoggedIn(n)] if n.digests == Digests::BOTH));
    let tag = h.session.submit(read(8)).unwrap();
    let sent = h.sent();
    let p = &sent[0];
    assert_eq!(p.len(), 52);
    assert_eq!(&p[48..52], &crc32c(&p[..48]).to_le_bytes());
    // Good digests pass.
    h.feed_all(&data_in(tag.0, 0, 0, &[1, 2, 3, 4], None, Digests::BOTH));
    // A corrupted data byte fails the connection.
    let mut bad = data_in(
        tag.0,
        1,
        4,
        &[5, 6, 7, 8],
        Some((0, 102, 2, 17)),
        Digests::BOTH,
    );
    bad[52] ^= 0xff;
    assert_eq!(h.feed(&bad), Err(ConnectionFailure::DataDigest));
    assert_eq!(
        h.events(),
        vec![Event::ConnectionFailed(ConnectionFailure::DataDigest)]
    );
}

#[test]
fn header_digest_error_fails_the_connection() {
    let mut cfg = config();
    cfg.params.header_digest = true;
    let mut h = Harness::new(cfg);
    h.sent();
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    h.sent();
    let keys = text(&[("HeaderDigest", "CRC32C"), ("DataDigest", "None")]);
    h.feed_all(&login_response(true, false, 1, 3, 0, 7, 101, 1, 16, &keys));
    h.events();
    let mut nop = nop_in(0xffff_ffff, 5, 0, 102, 1, 16);
    nop.extend_from_slice(&crc32c(&nop).to_le_bytes());
    nop[20] ^= 1;
    assert_eq!(h.feed(&nop), Err(ConnectionFailure::HeaderDigest));
}

#[test]
fn recovery_reissues_only_unfinished_tasks() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let done = h.session.submit(read(4)).unwrap();
    let open = h.session.submit(read(8)).unwrap();
    assert_eq!(h.sent().len(), 2);
    h.feed_all(&data_in(
        done.0,
        0,
        0,
        &[9; 4],
        Some((0, 102, 3, 18)),
        Digests::NONE,
    ));
    // Half of the second read arrives, then the connection dies.
    h.feed_all(&data_in(open.0, 0, 0, &[1; 4], None, Digests::NONE));
    h.session.connection_lost();
    let ev = h.events();
    assert!(
        matches!(ev.as_slice(), [Event::TaskComplete(c), Event::ConnectionFailed(ConnectionFailure::Transport)] if c.tag == done)
    );
    // Reconnect: same ISID, TSIH 0.
    h.session.start_login(h.now);
    let sent = h.sent();
    assert_eq!(&sent[0][8..14], &ISID);
    assert_eq!(&sent[0][14..16], &[0, 0]);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 500, 40, 40, &[]));
    h.sent();
    h.feed_all(&login_response(
        true,
        false,
        1,
        3,
        0,
        8,
        501,
        40,
        60,
        &default_keys(),
    ));
    assert!(matches!(h.events().as_slice(), [Event::LoggedIn(_)]));
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "only the unfinished read goes out again");
    let Repr::ScsiCommand(cmd) = parse(&sent[0], Digests::NONE) else {
        panic!()
    };
    assert_eq!(cmd.itt, open.0);
    assert_eq!(cmd.cmd_sn.0, 40);
    assert_eq!(cmd.exp_stat_sn.0, 502);
    h.feed_all(&data_in(
        open.0,
        0,
        0,
        &[2; 8],
        Some((0, 502, 41, 61)),
        Digests::NONE,
    ));
    let c = completions(&mut h);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].tag, open);
    assert_eq!(
        h.store.data_in[&open.0],
        vec![2; 8],
        "re-issued read rewrote the range"
    );
    assert_eq!(h.store.data_in[&done.0], vec![9; 4]);
}

#[test]
fn byte_at_a_time_delivery_gives_the_same_result() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(6)).unwrap();
    h.sent();
    let pdu = data_in(tag.0, 0, 0, b"abcdef", Some((0, 102, 2, 17)), Digests::NONE);
    let mut buf = Vec::new();
    for b in pdu {
        buf.push(b);
        let used = h.feed(&buf).unwrap();
        buf.drain(..used);
    }
    assert!(buf.is_empty());
    assert_eq!(completions(&mut h).len(), 1);
    assert_eq!(h.store.data_in[&tag.0], b"abcdef");
}

#[test]
fn abort_task_completes_the_aborted_command() {
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(8)).unwrap();
    h.sent();
    let tmf = h.session.abort_task(tag).unwrap();
    let sent = h.sent();
    // Task Management Function Request (§11.5): opcode 0x02 immediate, function 1, RTT.
    assert_eq!(sent[0][0], 0x42);
    assert_eq!(sent[0][1], 0x80 | 0x01);
    assert_eq!(&sent[0][20..24], &tag.0.to_be_bytes());
    let mut b = bhs(0x22, 0x80, 0);
    put32(&mut b, 16, tmf.0);
    put32(&mut b, 24, 102);
    put32(&mut b, 28, 2);
    put32(&mut b, 32, 17);
    h.feed_all(&b);
    let ev = h.events();
    assert!(
        matches!(ev[0], Event::TaskComplete(c) if c.tag == tag && c.status == ScsiStatus::TaskAborted)
    );
    assert!(matches!(ev[1], Event::TmfComplete { tag: t, .. } if t == tmf));
    assert_eq!(h.session.tasks_in_flight(), 0);
}

#[test]
fn logout_round_trip() {
    let mut h = logged_in(&default_keys(), 1, 16);
    h.session.logout();
    let sent = h.sent();
    // Logout Request (§11.14): opcode 0x06 immediate, F, reason 0 (close session).
    assert_eq!(sent[0][0], 0x46);
    assert_eq!(sent[0][1], 0x80);
    let itt = u32::from_be_bytes(sent[0][16..20].try_into().unwrap());
    let mut b = bhs(0x26, 0x80, 0);
    put32(&mut b, 16, itt);
    put32(&mut b, 24, 102);
    h.feed_all(&b);
    assert_eq!(h.events(), vec![Event::LoggedOut]);
}

#[test]
fn data_in_gaps_and_missing_data_are_protocol_errors() {
    // A Data-In that skips ahead (DataPDUInOrder=Yes was negotiated).
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    h.sent();
    h.feed_all(&data_in(tag.0, 0, 0, &[0; 400], None, Digests::NONE));
    let r = h.feed(&data_in(tag.0, 1, 600, &[0; 400], None, Digests::NONE));
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(ProtocolError::DataInOutOfOrder))
    );
    // GOOD status without all data and without an underflow residual.
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    h.sent();
    h.feed_all(&data_in(tag.0, 0, 0, &[0; 400], None, Digests::NONE));
    let r = h.feed(&scsi_response(
        tag.0,
        0,
        102,
        2,
        17,
        None,
        &[],
        Digests::NONE,
    ));
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(ProtocolError::MissingData))
    );
    // The same with the residual that accounts for it completes.
    let mut h = logged_in(&default_keys(), 1, 16);
    let tag = h.session.submit(read(1000)).unwrap();
    h.sent();
    h.feed_all(&data_in(tag.0, 0, 0, &[0; 400], None, Digests::NONE));
    h.feed_all(&scsi_response(
        tag.0,
        0,
        102,
        2,
        17,
        Some(600),
        &[],
        Digests::NONE,
    ));
    let c = completions(&mut h);
    assert_eq!(c[0].residual, Residual::Underflow(600));
}
