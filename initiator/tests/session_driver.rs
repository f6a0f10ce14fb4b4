//! The blocking driver over an in-memory connector whose "network" is a scripted target with a
//! virtual clock: reconnect and re-issue, UNIT ATTENTION, NOT READY, redirects, pipelining.

mod session_target;

use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::error::{Error, LoginError};
use initiator::pdu::{Frame, FrameStatus, Repr, frame_status};
use initiator::scsi::SenseKey;
use initiator::session::SessionConfig;
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};
use session_target::*;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

const BLOCK: usize = 512;

#[derive(Default)]
struct Faults {
    /// Drop the connection when this many more SCSI commands have arrived.
    drop_after_commands: Option<usize>,
    /// UNIT ATTENTION for this many commands.
    unit_attentions: usize,
    /// NOT READY for every command.
    not_ready: bool,
    /// Answer every login with a temporary redirect to this portal.
    redirect: Option<&'static str>,
    /// Refuse connections.
    refuse: bool,
    /// Never answer reads (NOP-Outs are still answered).
    stall_reads: bool,
    /// Drop the connection on every SCSI command.
    drop_every_command: bool,
}

struct Target {
    clock_us: u64,
    disk: Vec<u8>,
    faults: Faults,
    connects: Vec<SocketAddr>,
    logins: usize,
    /// NOP-Outs with a valid ITT (pings that want an answer).
    nop_pings: usize,
    commands: usize,
    max_in_flight: usize,
    /// CmdSN window width granted.
    window: u32,
    /// `Transport::send` calls and the PDUs they carried.
    sends: usize,
    pdus: usize,
}

struct Conn {
    target: Rc<RefCell<Target>>,
    input: Vec<u8>,
    output: Vec<u8>,
    dead: bool,
    stat_sn: u32,
    exp_cmd_sn: u32,
    /// The highest MaxCmdSN advertised so far.
    max_cmd_sn: u32,
    /// Open writes: itt -> (lba, expected length, received bytes).
    writes: Vec<(u32, usize, usize, Vec<u8>)>,
    /// Commands received and not yet answered (answered at the end of each send batch).
    pending_reads: Vec<(u32, usize, usize)>,
}

#[derive(Debug)]
struct Gone;

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection gone")
    }
}

impl Conn {
    fn sns(&mut self, b: &mut [u8; 48], status: bool) {
        put32(b, 24, self.stat_sn);
        if status {
            self.stat_sn += 1;
        }
        let window = self.target.borrow().window;
        put32(b, 28, self.exp_cmd_sn);
        self.max_cmd_sn = self.exp_cmd_sn + window - 1;
        put32(b, 32, self.max_cmd_sn);
    }

    fn respond(&mut self, itt: u32, status: u8, sense: &[u8]) {
        let mut data = Vec::new();
        if !sense.is_empty() {
            data.extend_from_slice(&(sense.len() as u16).to_be_bytes());
            data.extend_from_slice(sense);
        }
        let mut b = bhs(0x21, 0x80, data.len());
        b[3] = status;
        put32(&mut b, 16, itt);
        self.sns(&mut b, true);
        self.output.extend(with_data(b, &data, Default::default()));
    }

    fn handle(&mut self, pdu: &[u8]) {
        let frame = Frame::split(pdu, Default::default()).unwrap();
        let repr = Repr::parse_frame(&frame).unwrap();
        match repr {
            Repr::LoginRequest(r) => {
                let redirect = self.target.borrow().faults.redirect;
                if let Some(to) = redirect {
                    let data = text(&[("TargetAddress", to)]);
                    self.output.extend(login_response(
                        false, false, 0, 0, 0x0101, 0, 0, 1, 1, &data,
                    ));
                    return;
                }
                self.exp_cmd_sn = r.cmd_sn.0;
                let window = self.target.borrow().window;
                if r.csg == initiator::pdu::Stage::Security {
                    self.output.extend(login_response(
                        true,
                        false,
                        0,
                        1,
                        0,
                        0,
                        self.stat_sn,
                        self.exp_cmd_sn,
                        self.exp_cmd_sn,
                        &[],
                    ));
                } else {
                    self.target.borrow_mut().logins += 1;
                    self.max_cmd_sn = self.exp_cmd_sn + window - 1;
                    let keys = target_keys(8192, 65536, 8192, "No", "Yes");
                    self.output.extend(login_response(
                        true,
                        false,
                        1,
                        3,
                        0,
                        3,
                        self.stat_sn,
                        self.exp_cmd_sn,
                        self.exp_cmd_sn + window - 1,
                        &keys,
                    ));
                }
                self.stat_sn += 1;
            }
            Repr::ScsiCommand(c) => {
                assert!(
                    c.cmd_sn.0 <= self.max_cmd_sn,
                    "CmdSN {} past MaxCmdSN {}",
                    c.cmd_sn.0,
                    self.max_cmd_sn
                );
                self.exp_cmd_sn = c.cmd_sn.0 + 1;
                let mut t = self.target.borrow_mut();
                t.commands += 1;
                if t.faults.drop_every_command {
                    drop(t);
                    self.dead = true;
                    return;
                }
                if let Some(n) = t.faults.drop_after_commands.as_mut() {
                    if *n == 0 {
                        t.faults.drop_after_commands = None;
                        drop(t);
                        self.dead = true;
                        return;
                    }
                    *n -= 1;
                }
                if t.faults.not_ready {
                    drop(t);
                    self.respond(
                        c.itt,
                        2,
                        &[0x70, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x03],
                    );
                    return;
                }
                if t.faults.unit_attentions > 0 {
                    t.faults.unit_attentions -= 1;
                    drop(t);
                    self.respond(
                        c.itt,
                        2,
                        &[0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0],
                    );
                    return;
                }
                let cdb = *c.cdb.bhs_part();
                let disk_blocks = t.disk.len() / BLOCK;
                drop(t);
                match cdb[0] {
                    0x00 | 0x35 => self.respond(c.itt, 0, &[]),
                    0x25 => {
                        let mut d = [0u8; 8];
                        d[..4].copy_from_slice(&((disk_blocks - 1) as u32).to_be_bytes());
                        d[4..].copy_from_slice(&(BLOCK as u32).to_be_bytes());
                        self.pending_reads.push((c.itt, usize::MAX, 0));
                        self.send_data(c.itt, &d);
                    }
                    0x28 | 0x2a => {
                        let lba = u32::from_be_bytes(cdb[2..6].try_into().unwrap()) as usize;
                        let blocks = u16::from_be_bytes([cdb[7], cdb[8]]) as usize;
                        let len = blocks * BLOCK;
                        assert_eq!(len, c.expected_len as usize);
                        if cdb[0] == 0x28 {
                            self.pending_reads.push((c.itt, lba, len));
                        } else {
                            self.writes.push((c.itt, lba, len, c.data.to_vec()));
                            self.continue_write(c.itt, c.final_bit);
                        }
                    }
                    op => panic!("unexpected CDB {op:#x}"),
                }
            }
            Repr::DataOut(d) => {
                let w = self.writes.iter_mut().find(|w| w.0 == d.itt).unwrap();
                assert_eq!(d.buffer_offset as usize, w.3.len(), "Data-Out in order");
                w.3.extend_from_slice(d.data);
                if d.final_bit {
                    self.continue_write(d.itt, true);
                }
            }
            Repr::NopOut(n) => {
                if n.itt != 0xffff_ffff {
                    self.target.borrow_mut().nop_pings += 1;
                    let mut b = bhs(0x20, 0x80, 0);
                    put32(&mut b, 16, n.itt);
                    put32(&mut b, 20, 0xffff_ffff);
                    self.sns(&mut b, true);
                    self.output.extend_from_slice(&b);
                }
            }
            Repr::TaskMgmtRequest(t) => {
                // Task Management Function Response (§11.6): function complete.
                assert_eq!(u8::from(t.function), 5, "LOGICAL UNIT RESET");
                assert_eq!(t.lun, 0);
                let mut b = bhs(0x22, 0x80, 0);
                put32(&mut b, 16, t.itt);
                self.sns(&mut b, true);
                self.output.extend_from_slice(&b);
            }
            Repr::LogoutRequest(l) => {
                let mut b = bhs(0x26, 0x80, 0);
                put32(&mut b, 16, l.itt);
                self.sns(&mut b, true);
                self.output.extend_from_slice(&b);
            }
            other => panic!("unexpected PDU {other:?}"),
        }
    }

    fn send_data(&mut self, itt: u32, data: &[u8]) {
        let mut b = bhs(0x25, 0x81, data.len());
        put32(&mut b, 16, itt);
        put32(&mut b, 20, 0xffff_ffff);
        self.sns(&mut b, true);
        self.output.extend(with_data(b, data, Default::default()));
        self.pending_reads.retain(|r| r.0 != itt);
    }

    /// After the unsolicited part (or a burst) arrived: R2T for the rest, or finish.
    fn continue_write(&mut self, itt: u32, burst_done: bool) {
        if !burst_done {
            return;
        }
        let i = self.writes.iter().position(|w| w.0 == itt).unwrap();
        let (lba, len, have) = (self.writes[i].1, self.writes[i].2, self.writes[i].3.len());
        if have < len {
            let mut b = bhs(0x31, 0x80, 0);
            put32(&mut b, 16, itt);
            put32(&mut b, 20, 0x100 + itt);
            self.sns(&mut b, false);
            put32(&mut b, 40, have as u32);
            put32(&mut b, 44, ((len - have) as u32).min(65536));
            self.output.extend_from_slice(&b);
            return;
        }
        let w = self.writes.remove(i);
        self.target.borrow_mut().disk[lba * BLOCK..lba * BLOCK + len].copy_from_slice(&w.3);
        self.respond(itt, 0, &[]);
    }

    /// Answers queued reads (so several are in flight at once).
    fn flush_reads(&mut self) {
        if self.target.borrow().faults.stall_reads {
            return;
        }
        let reads = std::mem::take(&mut self.pending_reads);
        {
            let mut t = self.target.borrow_mut();
            t.max_in_flight = t.max_in_flight.max(reads.len());
        }
        for (itt, lba, len) in reads {
            let data = self.target.borrow().disk[lba * BLOCK..lba * BLOCK + len].to_vec();
            // Two Data-In PDUs per read, status in the last.
            let half = (len / 2) & !3;
            let mut b = bhs(0x25, 0x00, half);
            put32(&mut b, 16, itt);
            put32(&mut b, 20, 0xffff_ffff);
            self.sns(&mut b, false);
            self.output
                .extend(with_data(b, &data[..half], Default::default()));
            let mut b = bhs(0x25, 0x81, len - half);
            put32(&mut b, 16, itt);
            put32(&mut b, 20, 0xffff_ffff);
            self.sns(&mut b, true);
            put32(&mut b, 36, 1);
            put32(&mut b, 40, half as u32);
            self.output
                .extend(with_data(b, &data[half..], Default::default()));
        }
    }
}

impl Transport for Conn {
    type Error = Gone;

    fn send(&mut self, bytes: &[u8]) -> Result<usize, Gone> {
        if self.dead {
            return Err(Gone);
        }
        self.input.extend_from_slice(bytes);
        self.target.borrow_mut().sends += 1;
        while let Ok(FrameStatus::Complete { len }) =
            frame_status(&self.input, Default::default(), 1 << 24)
        {
            self.target.borrow_mut().pdus += 1;
            let pdu: Vec<u8> = self.input.drain(..len).collect();
            self.handle(&pdu);
            if self.dead {
                break;
            }
        }
        Ok(bytes.len())
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Gone> {
        if self.dead {
            return Err(Gone);
        }
        self.flush_reads();
        let n = buf.len().min(self.output.len());
        buf[..n].copy_from_slice(&self.output[..n]);
        self.output.drain(..n);
        Ok(n)
    }

    fn wait(&mut self, _want_send: bool, deadline: Instant) -> Result<(), Gone> {
        if self.dead {
            return Err(Gone);
        }
        let stalled = self.target.borrow().faults.stall_reads;
        if self.output.is_empty() && (self.pending_reads.is_empty() || stalled) {
            let mut t = self.target.borrow_mut();
            t.clock_us = t.clock_us.max(deadline.as_micros());
        }
        Ok(())
    }
}

struct Net {
    target: Rc<RefCell<Target>>,
}

impl Connector for Net {
    type Transport = Conn;

    fn connect(&mut self, portal: SocketAddr, _deadline: Instant) -> Result<Conn, Gone> {
        let mut t = self.target.borrow_mut();
        t.connects.push(portal);
        if t.faults.refuse {
            return Err(Gone);
        }
        Ok(Conn {
            target: self.target.clone(),
            input: Vec::new(),
            output: Vec::new(),
            dead: false,
            stat_sn: 1000,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
            writes: Vec::new(),
            pending_reads: Vec::new(),
        })
    }

    fn now(&mut self) -> Instant {
        let mut t = self.target.borrow_mut();
        t.clock_us += 10; // time passes a little on every look
        Instant::from_micros(t.clock_us)
    }

    fn sleep_until(&mut self, deadline: Instant) {
        let mut t = self.target.borrow_mut();
        t.clock_us = t.clock_us.max(deadline.as_micros());
    }
}

fn target(faults: Faults) -> Rc<RefCell<Target>> {
    Rc::new(RefCell::new(Target {
        clock_us: 0,
        disk: (0..4 << 20).map(pattern).collect(),
        faults,
        connects: Vec::new(),
        logins: 0,
        nop_pings: 0,
        commands: 0,
        max_in_flight: 0,
        window: 64,
        sends: 0,
        pdus: 0,
    }))
}

fn config() -> ClientConfig<'static> {
    let mut c = ClientConfig::new(
        "127.0.0.1:3260".parse().unwrap(),
        SessionConfig::new(INITIATOR, TARGET, ISID),
    );
    c.max_request_bytes = 64 * 1024;
    c
}

fn with_client<R>(
    t: &Rc<RefCell<Target>>,
    cfg: &ClientConfig<'static>,
    f: impl FnOnce(Result<Client<'static, '_, Net>, Error>) -> R,
) -> R {
    let mut rx = vec![0u8; 80_000];
    let mut tx = vec![0u8; 80_000];
    let client = Client::connect(
        Net { target: t.clone() },
        cfg,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
        },
    );
    f(client)
}

#[test]
fn pipelined_read_and_write_round_trip() {
    let t = target(Faults::default());
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        let cap = c.read_capacity().unwrap();
        assert_eq!(cap.block_size, 512);
        assert_eq!(cap.blocks(), (4 << 20) / 512);
        let mut buf = vec![0u8; 1 << 20];
        let mut last = 0;
        c.read_with_progress(8, &mut buf, &mut |done| last = done)
            .unwrap();
        assert_eq!(last, 1 << 20);
        assert!(
            buf.iter()
                .enumerate()
                .all(|(i, b)| *b == pattern(8 * 512 + i))
        );
        let data: Vec<u8> = (0..300_000 / 512 * 512).map(|i| (i % 251) as u8).collect();
        c.write(100, &data).unwrap();
        c.sync_cache().unwrap();
        c.logout().unwrap();
        assert_eq!(
            &t.borrow().disk[100 * 512..100 * 512 + data.len()],
            data.as_slice()
        );
    });
    let t = t.borrow();
    assert!(t.max_in_flight > 1, "reads were pipelined");
    assert!(t.max_in_flight <= 8, "queue depth 8 respected");
}

#[test]
fn data_out_pdus_leave_gathered_in_few_sends() {
    let t = target(Faults::default());
    let data: Vec<u8> = (0..256 * 1024).map(|i| (i % 253) as u8).collect();
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.read_capacity().unwrap();
        let before = (t.borrow().sends, t.borrow().pdus);
        c.write(0, &data).unwrap();
        let t = t.borrow();
        let (sends, pdus) = (t.sends - before.0, t.pdus - before.1);
        // 8 KiB Data-Out PDUs (the target's MaxRecvDataSegmentLength) into an 80 KB tx:
        // several PDUs per send call rather than one.
        assert!(pdus >= 32, "{pdus} PDUs");
        assert!(sends * 4 <= pdus, "{pdus} PDUs in {sends} sends");
    });
    assert_eq!(&t.borrow().disk[..data.len()], data.as_slice());
}

#[test]
fn streaming_covers_a_range_through_a_small_buffer() {
    let t = target(Faults::default());
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.read_capacity().unwrap();
        // 1 MiB in 64 KiB requests through a 4-request buffer: request k lands in part k mod 4,
        // so the buffer ends up holding requests 12..16.
        let before = t.borrow().commands;
        let mut scratch = vec![0u8; 4 << 16];
        c.read_streaming(0, (1 << 20) / BLOCK as u64, &mut scratch)
            .unwrap();
        assert_eq!(t.borrow().commands - before, 16);
        assert!(
            scratch
                .iter()
                .enumerate()
                .all(|(i, b)| *b == pattern((12 << 16) + i))
        );
        // 512 KiB written from one repeated 64 KiB pattern.
        let pattern_bytes: Vec<u8> = (0..1 << 16).map(|i| (i % 249) as u8).collect();
        c.write_streaming(0, (512 << 10) / BLOCK as u64, &pattern_bytes)
            .unwrap();
        // A buffer that is not a whole number of requests is refused.
        let mut odd = vec![0u8; 100];
        assert!(matches!(
            c.read_streaming(0, 8, &mut odd),
            Err(Error::Unaligned(_))
        ));
        let disk = &t.borrow().disk;
        for k in 0..8 {
            assert_eq!(&disk[k << 16..(k + 1) << 16], pattern_bytes.as_slice());
        }
    });
}

#[test]
fn connection_loss_mid_read_reconnects_and_reissues() {
    let t = target(Faults {
        drop_after_commands: Some(3),
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.set_block_size(512);
        let mut buf = vec![0u8; 1 << 20];
        let mut reports = Vec::new();
        c.read_with_progress(0, &mut buf, &mut |d| reports.push(d))
            .unwrap();
        assert!(buf.iter().enumerate().all(|(i, b)| *b == pattern(i)));
        // Progress never counts a chunk twice.
        assert!(reports.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*reports.last().unwrap(), 1 << 20);
    });
    assert_eq!(t.borrow().logins, 2, "one re-login");
}

#[test]
fn unit_attention_is_absorbed_with_a_bound() {
    let t = target(Faults {
        unit_attentions: 2,
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.test_unit_ready().unwrap();
    });
    let t = target(Faults {
        unit_attentions: 100,
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        let err = c.unwrap().test_unit_ready().unwrap_err();
        assert!(
            matches!(
                err,
                Error::CheckCondition(s)
                    if s.key == SenseKey::UnitAttention && (s.asc, s.ascq) == (0x29, 0)
            ),
            "{err:?}"
        );
    });
    assert_eq!(t.borrow().commands, 9, "1 + 8 retries, then a clear error");
}

#[test]
fn not_ready_is_retried_then_reported() {
    let t = target(Faults {
        not_ready: true,
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        let err = c.unwrap().test_unit_ready().unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotReady(s) if s.key == SenseKey::NotReady && (s.asc, s.ascq) == (4, 3)
            ),
            "{err:?}"
        );
    });
    assert_eq!(t.borrow().commands, 6);
}

#[test]
fn redirect_loop_is_cut_off() {
    let t = target(Faults {
        redirect: Some("127.0.0.1:3260"),
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        assert_eq!(c.unwrap_err(), Error::Login(LoginError::RedirectLoop));
    });
    assert_eq!(t.borrow().connects.len(), 6, "first connect + 5 redirects");
}

#[test]
fn refused_connection_gives_up_after_bounded_backoff() {
    let t = target(Faults {
        refuse: true,
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        assert_eq!(
            c.unwrap_err(),
            Error::Connect("127.0.0.1:3260".parse().unwrap())
        );
    });
    let t = t.borrow();
    assert_eq!(t.connects.len(), 6);
    // 100 + 200 + 400 + 800 + 1600 ms of back-off, on the virtual clock.
    assert!(t.clock_us >= 3_100_000, "{}", t.clock_us);
    assert!(t.clock_us < 4_000_000, "{}", t.clock_us);
}

#[test]
fn narrow_command_window_is_respected() {
    let t = target(Faults::default());
    t.borrow_mut().window = 2;
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.set_block_size(512);
        let mut buf = vec![0u8; 512 * 1024];
        c.read(0, &mut buf).unwrap();
        assert!(buf.iter().enumerate().all(|(i, b)| *b == pattern(i)));
    });
    assert!(t.borrow().max_in_flight <= 2);
}

#[test]
fn stalled_commands_time_out_after_bounded_retries() {
    let t = target(Faults::default());
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.set_block_size(512);
        t.borrow_mut().faults.stall_reads = true;
        let mut buf = vec![0u8; 4096];
        assert_eq!(c.read(0, &mut buf), Err(Error::Timeout));
    });
    let t = t.borrow();
    assert_eq!(t.logins, 6, "first login + 5 re-logins");
    // 6 command timeouts of 30 s on the virtual clock (keepalives kept the link up meanwhile).
    assert!(t.clock_us >= 180_000_000, "{}", t.clock_us);
}

#[test]
fn a_connection_that_always_fails_gives_up() {
    let t = target(Faults::default());
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        c.set_block_size(512);
        t.borrow_mut().faults.drop_every_command = true;
        let mut buf = vec![0u8; 4096];
        assert_eq!(
            c.read(0, &mut buf),
            Err(Error::ConnectionLost(
                initiator::error::ConnectionFailure::Transport
            ))
        );
    });
    assert_eq!(t.borrow().logins, 6);
}

#[test]
fn lun_reset_round_trip() {
    let t = target(Faults::default());
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        assert_eq!(
            c.lun_reset(),
            Ok(initiator::pdu::TmfResponse::FunctionComplete)
        );
        c.test_unit_ready().unwrap();
    });
}

#[test]
fn idle_keeps_the_session_alive_with_keepalives() {
    let t = target(Faults::default());
    let mut cfg = config();
    cfg.session.keepalive_interval = std::time::Duration::from_secs(5);
    with_client(&t, &cfg, |c| {
        let mut c = c.unwrap();
        c.read_capacity().unwrap();
        let start = t.borrow().clock_us;
        let until = Instant::from_micros(start + 60_000_000);
        c.idle(until).unwrap();
        assert!(
            t.borrow().clock_us >= until.as_micros(),
            "idle returns at the deadline"
        );
        let mut buf = vec![0u8; 4096];
        c.read(8, &mut buf).unwrap();
        assert_eq!(buf, t.borrow().disk[8 * BLOCK..8 * BLOCK + 4096]);
    });
    let t = t.borrow();
    assert_eq!(t.connects.len(), 1, "no reconnect while idle");
    // 60 s of silence at one keepalive per 5 s (RFC 7143 §11.18: NOP-Out with a valid ITT).
    assert!(t.nop_pings >= 10, "{} keepalives", t.nop_pings);
}

#[test]
fn execute_reports_the_status_as_it_came() {
    use initiator::driver::DataBuffer;
    use initiator::pdu::ScsiStatus;
    use initiator::scsi::cdb;
    let t = target(Faults {
        not_ready: true,
        ..Faults::default()
    });
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        let done = c
            .execute(&cdb::test_unit_ready(), DataBuffer::None)
            .unwrap();
        assert_eq!(done.status, ScsiStatus::CheckCondition);
        let sense = done.sense.unwrap();
        assert_eq!(
            (sense.key, sense.asc, sense.ascq),
            (SenseKey::NotReady, 4, 3)
        );
    });
    assert_eq!(t.borrow().commands, 1, "no retry on the raw path");

    let t = target(Faults::default());
    with_client(&t, &config(), |c| {
        let mut c = c.unwrap();
        let data: Vec<u8> = (0..2 * BLOCK).map(|i| (i % 251) as u8).collect();
        let done = c
            .execute(&cdb::write(100, 2), DataBuffer::Out(&data))
            .unwrap();
        assert!(done.is_good(), "{done:?}");
        let mut back = vec![0u8; 2 * BLOCK];
        let done = c
            .execute(&cdb::read(100, 2), DataBuffer::In(&mut back))
            .unwrap();
        assert!(done.is_good(), "{done:?}");
        assert_eq!(done.transferred, 2 * BLOCK);
        assert_eq!(back, data);
    });
}

#[test]
fn new_then_login_is_connect_in_two_steps() {
    let t = target(Faults::default());
    let mut rx = vec![0u8; 80_000];
    let mut tx = vec![0u8; 80_000];
    let mut c = Client::new(
        Net { target: t.clone() },
        &config(),
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
        },
    );
    assert!(t.borrow().connects.is_empty(), "new does not connect");
    c.login().unwrap();
    assert_eq!(c.read_capacity().unwrap().blocks(), (4 << 20) / 512);
    assert_eq!(t.borrow().logins, 1);
}

#[test]
fn login_checks_the_receive_buffer_against_the_largest_pdu() {
    // Default MaxRecvDataSegmentLength 65536: BHS 48 + AHS up to 260 + header digest 4 +
    // 65536 data + 3 padding + data digest 4 (RFC 7143 §11.2).
    let cfg = config();
    assert_eq!(cfg.session.max_pdu_len(), 48 + 260 + 4 + 65536 + 3 + 4);
    let t = target(Faults::default());
    let mut rx = vec![0u8; 65_854];
    let mut tx = vec![0u8; 80_000];
    let mut c = Client::new(
        Net { target: t.clone() },
        &cfg,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
        },
    );
    assert!(matches!(
        c.login(),
        Err(Error::BufferTooSmall { needed: 65_855 })
    ));
    assert!(t.borrow().connects.is_empty());
    // A small MaxRecvDataSegmentLength still needs room for an 8192-byte login PDU.
    let mut small = SessionConfig::new(INITIATOR, TARGET, ISID);
    small.params.max_recv_data_segment_length = 512;
    assert_eq!(small.max_pdu_len(), 48 + 260 + 4 + 8192 + 3 + 4);
}
