//! The real driver over std TCP against a scripted malicious target, one test per attack.
//!
//! Every attack must end in a typed error (or, where the RFC allows the target's behaviour, a
//! correct completion) well within its time budget, and no byte may be written outside the
//! caller's read buffer: it sits between guard bytes that are checked afterwards. The initiator
//! crate is `no_std` without `alloc`, so its memory is bounded by construction; the buffers here
//! are fixed.

use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::error::{ConnectionFailure, Error, LoginError, ProtocolError};
use initiator::session::{Chap, MutualChap, SessionConfig};
use iscsi_boot_tests::hostile::{
    Conn, HostileTarget, LoginFlags, Numbers, Pdu, header, keys, login_response, op, put, set_dsl,
    with_data,
};
use netstack_adapter::std_tcp::StdConnector;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Attacks tried in this run (printed by each test; summed in `docs/security.md`).
static CASES: AtomicUsize = AtomicUsize::new(0);

const INITIATOR: &str = "iqn.2026-01.org.iscsi-boot:hostile";
const TARGET: &str = "iqn.2026-01.org.iscsi-boot:evil";
const BLOCK: usize = 512;
const GUARD: usize = 4096;
const GUARD_BYTE: u8 = 0xa5;
/// Upper bound on any single attack, connect to error.
const BUDGET: Duration = Duration::from_secs(6);

/// Short timeouts so every failure surfaces in about a second, and no reconnects.
fn config(target: &HostileTarget) -> ClientConfig<'static> {
    config_for(target.addr())
}

/// [`config`] for a portal address.
fn config_for(portal: std::net::SocketAddr) -> ClientConfig<'static> {
    let mut session = SessionConfig::new(INITIATOR, TARGET, [0x80, 0, 0, 0, 0x48, 1]);
    session.login_timeout = Duration::from_millis(1500);
    session.keepalive_interval = Duration::from_millis(300);
    session.keepalive_timeout = Duration::from_millis(600);
    let mut config = ClientConfig::new(portal, session);
    config.connect_timeout = Duration::from_secs(1);
    config.max_reconnects = 0;
    config.initial_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(10);
    config
}

/// What an attack did to the initiator.
#[derive(Debug)]
struct Outcome {
    result: Result<(), Error>,
    elapsed: Duration,
}

/// Runs `op` on a fresh client (logged in against `target` with `config`) in its own thread,
/// reading/writing `len` bytes at LBA 0 through a guarded buffer; fails the test on a hang or
/// on a byte written outside the buffer.
fn attack(
    name: &str,
    make_config: impl FnOnce() -> ClientConfig<'static> + Send + 'static,
    len: usize,
    write: bool,
) -> Outcome {
    CASES.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let config = make_config();
        let started = Instant::now();
        let mut rx_buf = vec![0u8; 80 << 10];
        let mut tx_buf = vec![0u8; 80 << 10];
        let mut guarded = vec![GUARD_BYTE; GUARD + len + GUARD];
        let result = Client::connect(
            StdConnector::new(),
            &config,
            Buffers {
                rx: &mut rx_buf,
                tx: &mut tx_buf,
            },
        )
        .and_then(|mut client| {
            client.set_block_size(BLOCK as u32);
            let body = &mut guarded[GUARD..GUARD + len];
            if write {
                body.fill(0x3c);
                client.write(0, body)
            } else {
                client.read(0, body)
            }
        });
        let elapsed = started.elapsed();
        let intact = guarded[..GUARD].iter().all(|&b| b == GUARD_BYTE)
            && guarded[GUARD + len..].iter().all(|&b| b == GUARD_BYTE);
        let _ = tx.send((result, elapsed, intact));
    });
    let (result, elapsed, intact) = rx
        .recv_timeout(BUDGET)
        .unwrap_or_else(|_| panic!("{name}: the initiator hung for more than {BUDGET:?}"));
    assert!(intact, "{name}: bytes written outside the caller's buffer");
    eprintln!(
        "{name}: {result:?} after {elapsed:?} (cases so far {})",
        CASES.load(Ordering::Relaxed)
    );
    Outcome { result, elapsed }
}

/// `attack` with the default short-timeout configuration.
fn attack_read(name: &str, target: &HostileTarget, len: usize) -> Outcome {
    let addr = target.addr();
    attack(name, move || config_for(addr), len, false)
}

fn protocol(e: &Error) -> Option<ProtocolError> {
    match e {
        Error::Protocol(p) | Error::ConnectionLost(ConnectionFailure::Protocol(p)) => Some(*p),
        _ => None,
    }
}

/// Asserts a protocol violation was reported (any kind, or the given one).
fn assert_protocol(out: &Outcome, want: Option<ProtocolError>) {
    let err = out.result.as_ref().expect_err("the attack must fail");
    let got = protocol(err).unwrap_or_else(|| panic!("not a protocol error: {err:?}"));
    if let Some(w) = want {
        assert_eq!(got, w);
    }
}

/// Logs in, takes one command, and lets `then` answer it.
fn after_command(
    then: impl Fn(&mut Conn, &Pdu) -> io::Result<()> + Send + Sync + 'static,
) -> HostileTarget {
    HostileTarget::start(move |conn| {
        conn.login()?;
        let cmd = conn.next_command()?;
        then(conn, &cmd)?;
        conn.hold()
    })
    .expect("listen")
}

#[test]
fn sanity_a_well_behaved_script_reads_correctly() {
    let target = after_command(|conn, cmd| {
        let data: Vec<u8> = (0..cmd.expected_len()).map(|i| i as u8 ^ 0x5a).collect();
        let pdu = conn.data_in(cmd.itt(), 0, 0, &data, true);
        conn.send(&pdu)
    });
    let out = attack_read("sanity", &target, 4 * BLOCK);
    assert_eq!(out.result, Ok(()));
}

#[test]
fn data_segment_length_16_mib() {
    let target = after_command(|conn, cmd| {
        let mut bhs = header(op::DATA_IN, 0);
        set_dsl(&mut bhs, 0x00ff_ffff);
        put(&mut bhs, 16, cmd.itt());
        put(&mut bhs, 20, 0xffff_ffff);
        conn.stamp(&mut bhs, false);
        conn.send(&bhs)?;
        conn.send(&vec![0x41; 256 << 10])
    });
    let out = attack_read("dsl_16mib", &target, 4 * BLOCK);
    assert_protocol(&out, None);
}

#[test]
fn huge_total_ahs_length() {
    let target = after_command(|conn, cmd| {
        let mut bhs = header(op::DATA_IN, 0x81);
        bhs[4] = 0xff; // 1020 bytes of AHS
        set_dsl(&mut bhs, 0x00ff_ffff);
        put(&mut bhs, 16, cmd.itt());
        put(&mut bhs, 20, 0xffff_ffff);
        conn.stamp(&mut bhs, true);
        conn.send(&bhs)?;
        conn.send(&vec![0xff; 64 << 10])
    });
    let out = attack_read("total_ahs_255", &target, 4 * BLOCK);
    assert_protocol(&out, None);
}

#[test]
fn huge_total_ahs_length_with_small_segment() {
    let target = after_command(|conn, cmd| {
        let mut bhs = header(op::DATA_IN, 0x81);
        bhs[4] = 0xff;
        set_dsl(&mut bhs, 2048);
        put(&mut bhs, 16, cmd.itt());
        put(&mut bhs, 20, 0xffff_ffff);
        conn.stamp(&mut bhs, true);
        let mut pdu = bhs.to_vec();
        pdu.extend_from_slice(&[0xff; 1020]);
        pdu.extend_from_slice(&[0x11; 2048]);
        conn.send(&pdu)
    });
    let out = attack_read("total_ahs_255_small", &target, 4 * BLOCK);
    // Garbage AHS is malformed; the initiator must not take its data as valid either way.
    assert!(
        out.result.is_err(),
        "garbage AHS accepted: {:?}",
        out.result
    );
}

#[test]
fn data_in_for_unknown_itt() {
    let target = after_command(|conn, cmd| {
        let pdu = conn.data_in(cmd.itt() ^ 0x5555_0000, 0, 0, &[0x22; 512], false);
        conn.send(&pdu)
    });
    let out = attack_read("data_in_unknown_itt", &target, 4 * BLOCK);
    assert_protocol(&out, None);
}

#[test]
fn data_in_past_the_end_of_the_buffer() {
    let target = after_command(|conn, cmd| {
        let end = cmd.expected_len();
        let pdu = conn.data_in(cmd.itt(), 0, end - 256, &[0x33; 1024], true);
        conn.send(&pdu)
    });
    let out = attack_read("data_in_past_end", &target, 4 * BLOCK);
    assert_protocol(&out, Some(ProtocolError::DataInOutOfBounds));
}

#[test]
fn data_in_at_an_offset_that_wraps() {
    let target = after_command(|conn, cmd| {
        let pdu = conn.data_in(cmd.itt(), 0, u32::MAX - 100, &[0x34; 512], true);
        conn.send(&pdu)
    });
    let out = attack_read("data_in_offset_wraps", &target, 4 * BLOCK);
    assert_protocol(&out, Some(ProtocolError::DataInOutOfBounds));
}

#[test]
fn data_in_overlapping() {
    let target = after_command(|conn, cmd| {
        let len = cmd.expected_len() as usize;
        let first = conn.data_in(cmd.itt(), 0, 0, &vec![0x44; len / 2], false);
        conn.send(&first)?;
        // Overlaps the first half, then claims completion with the second half never sent.
        let second = conn.data_in(cmd.itt(), 1, len as u32 / 4, &vec![0x55; len / 2], true);
        conn.send(&second)
    });
    let out = attack_read("data_in_overlap", &target, 4 * BLOCK);
    assert!(
        out.result.is_err(),
        "overlapping Data-In that leaves a hole was accepted as a complete read"
    );
}

#[test]
fn r2t_for_a_read() {
    let target = after_command(|conn, cmd| {
        let pdu = conn.r2t(cmd.itt(), 7, 0, 0, 512);
        conn.send(&pdu)
    });
    let out = attack_read("r2t_for_read", &target, 4 * BLOCK);
    assert_protocol(&out, Some(ProtocolError::R2tOutOfBounds));
}

#[test]
fn r2t_beyond_the_transfer() {
    let target = after_command(|conn, cmd| {
        let end = cmd.expected_len();
        let pdu = conn.r2t(cmd.itt(), 7, 0, end, 4096);
        conn.send(&pdu)
    });
    let addr = target.addr();
    let out = attack("r2t_beyond", move || config_for(addr), 256 << 10, true);
    assert_protocol(&out, Some(ProtocolError::R2tOutOfBounds));
}

#[test]
fn r2t_length_overflowing_u32() {
    let target = after_command(|conn, cmd| {
        let pdu = conn.r2t(cmd.itt(), 7, 0, 4096, u32::MAX - 2048);
        conn.send(&pdu)
    });
    let addr = target.addr();
    let out = attack("r2t_overflow", move || config_for(addr), 256 << 10, true);
    assert_protocol(&out, Some(ProtocolError::R2tOutOfBounds));
}

/// [`config_for`] with one-block requests, so a transfer is many commands.
fn one_block(portal: std::net::SocketAddr) -> ClientConfig<'static> {
    let mut config = config_for(portal);
    config.max_request_bytes = BLOCK as u32;
    config
}

/// Answers every command correctly (reads with a pattern, writes via one R2T) after `tweak`
/// has changed the sequence numbers for the next response.
fn serve(conn: &mut Conn, tweak: &dyn Fn(&mut Numbers, usize)) -> io::Result<()> {
    for i in 0.. {
        let cmd = conn.next_command()?;
        tweak(&mut conn.numbers, i);
        let len = cmd.expected_len();
        if cmd.is_read() {
            let data: Vec<u8> = (0..len).map(|b| (b as u8) ^ 0x77).collect();
            let pdu = conn.data_in(cmd.itt(), 0, 0, &data, true);
            conn.send(&pdu)?;
        } else {
            let pdu = conn.good_response(&cmd);
            conn.send(&pdu)?;
        }
    }
    Ok(())
}

#[test]
fn sequence_numbers_wrap_around() {
    let target = HostileTarget::start(|conn| {
        conn.numbers.stat_sn = u32::MAX - 2;
        conn.login()?;
        serve(conn, &|_, _| {})
    })
    .expect("listen");
    // Several commands, so StatSN crosses 2^32 and CmdSN follows the target's window.
    let addr = target.addr();
    let out = attack("statsn_wrap", move || one_block(addr), 8 * BLOCK, false);
    assert_eq!(
        out.result,
        Ok(()),
        "serial number arithmetic across the wrap"
    );
}

#[test]
fn cmd_sn_wraps_around() {
    let target = HostileTarget::start(|conn| {
        conn.login()?;
        serve(conn, &|n, i| {
            if i == 0 {
                // A target may start anywhere; the initiator's CmdSN must follow ExpCmdSN.
                n.window = 4;
            }
        })
    })
    .expect("listen");
    let addr = target.addr();
    let out = attack("cmdsn_window", move || one_block(addr), 8 * BLOCK, false);
    assert_eq!(out.result, Ok(()));
}

#[test]
fn stat_sn_and_exp_cmd_sn_jump() {
    for jump in [1u32, 1000, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0] {
        let target = HostileTarget::start(move |conn| {
            conn.login()?;
            serve(conn, &move |n, i| {
                if i == 1 {
                    n.stat_sn = n.stat_sn.wrapping_add(jump);
                    n.exp_cmd_sn = n.exp_cmd_sn.wrapping_add(jump);
                }
            })
        })
        .expect("listen");
        let addr = target.addr();
        let out = attack(
            &format!("sn_jump_{jump:#x}"),
            move || one_block(addr),
            6 * BLOCK,
            false,
        );
        // Either the initiator follows (a jump inside the window) or it fails cleanly; the
        // budget and the guard bytes are what matter.
        assert!(out.elapsed < BUDGET);
    }
}

#[test]
fn max_cmd_sn_closes_the_window_forever() {
    let target = HostileTarget::start(|conn| {
        conn.numbers.window = 0; // MaxCmdSN = ExpCmdSN - 1: no command may be sent
        conn.login()?;
        // Keep answering pings so the connection looks alive.
        conn.next_command().map(|_| ())
    })
    .expect("listen");
    let out = attack_read("window_closed", &target, 4 * BLOCK);
    assert!(
        out.result.is_err(),
        "a closed window must not hang the read"
    );
}

/// A login whose security stage is answered normally and whose operational stage gets `text`
/// as a series of continued responses.
fn operational_flood(text: Vec<u8>) -> HostileTarget {
    HostileTarget::start(move |conn| {
        let req = conn.read_pdu()?;
        let numbers = conn.numbers;
        let flags = LoginFlags {
            transit: true,
            cont: false,
            csg: 0,
            nsg: 1,
        };
        conn.send(&login_response(
            &req,
            &numbers,
            flags,
            0,
            &keys(&["AuthMethod=None"]),
        ))?;
        let mut req = conn.read_pdu()?;
        let chunks: Vec<&[u8]> = text.chunks(8000).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let flags = LoginFlags {
                transit: last,
                cont: !last,
                csg: 1,
                nsg: if last { 3 } else { 0 },
            };
            conn.send(&login_response(&req, &numbers, flags, 0, chunk))?;
            if !last {
                req = conn.read_pdu()?; // the initiator's empty request for the next part
            }
        }
        conn.hold()
    })
    .expect("listen")
}

#[test]
fn login_response_with_10000_keys() {
    let pairs: Vec<String> = (0..10_000).map(|i| format!("X-Evil-{i}=Yes")).collect();
    let refs: Vec<&str> = pairs.iter().map(String::as_str).collect();
    let target = operational_flood(keys(&refs));
    let out = attack_read("10000_keys", &target, BLOCK);
    // Unknown keys may be ignored, but only up to the text buffer: a bounded error or success.
    if let Err(e) = out.result {
        assert!(
            matches!(
                e,
                Error::Login(_) | Error::Protocol(_) | Error::ConnectionLost(_)
            ),
            "{e:?}"
        );
    }
}

#[test]
fn login_response_segment_over_max_recv() {
    let target = HostileTarget::start(|conn| {
        let req = conn.read_pdu()?;
        let numbers = conn.numbers;
        let flags = LoginFlags {
            transit: true,
            cont: false,
            csg: 0,
            nsg: 1,
        };
        let mut text = keys(&["AuthMethod=None"]);
        text.resize(1 << 20, b'A');
        conn.send(&login_response(&req, &numbers, flags, 0, &text))?;
        conn.hold()
    })
    .expect("listen");
    let out = attack_read("login_1mib_segment", &target, BLOCK);
    assert!(out.result.is_err());
}

/// A target that asks for CHAP and answers CHAP_A with `challenge_text`.
fn chap_target(challenge_text: Vec<u8>) -> HostileTarget {
    HostileTarget::start(move |conn| {
        let req = conn.read_pdu()?;
        let numbers = conn.numbers;
        let security = |cont| LoginFlags {
            transit: false,
            cont,
            csg: 0,
            nsg: 1,
        };
        conn.send(&login_response(
            &req,
            &numbers,
            security(false),
            0,
            &keys(&["AuthMethod=CHAP"]),
        ))?;
        let mut req = conn.read_pdu()?; // CHAP_A
        let chunks: Vec<&[u8]> = challenge_text.chunks(8000).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            conn.send(&login_response(&req, &numbers, security(!last), 0, chunk))?;
            req = conn.read_pdu()?;
        }
        conn.hold()
    })
    .expect("listen")
}

/// Mutual CHAP credentials with a fixed challenge the tests can reflect.
const OUR_CHALLENGE: [u8; 16] = [0x07; 16];

fn chap_config(portal: std::net::SocketAddr) -> ClientConfig<'static> {
    let mut config = config_for(portal);
    config.session.chap = Some(
        Chap::new("host", b"initiator-secret-1").with_mutual(MutualChap {
            user: TARGET,
            secret: b"target-secret-12",
            challenge: OUR_CHALLENGE,
            id: 9,
        }),
    );
    config
}

#[test]
fn chap_challenge_of_1_mib() {
    let mut text = b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0x".to_vec();
    text.extend(std::iter::repeat_n(b'a', 2 << 20));
    text.push(0);
    let target = chap_target(text);
    let out = attack(
        "chap_c_1mib",
        {
            let addr = target.addr();
            move || chap_config(addr)
        },
        BLOCK,
        false,
    );
    let err = out.result.expect_err("a 1 MiB challenge must be refused");
    assert!(
        matches!(
            err,
            Error::Login(LoginError::BadChap | LoginError::Protocol)
                | Error::Protocol(_)
                | Error::ConnectionLost(_)
        ),
        "{err:?}"
    );
}

#[test]
fn chap_challenge_reflected_back() {
    let text = keys(&[
        "CHAP_A=5",
        "CHAP_I=9",
        "CHAP_C=0x07070707070707070707070707070707",
    ]);
    let target = chap_target(text);
    let out = attack(
        "chap_reflection",
        {
            let addr = target.addr();
            move || chap_config(addr)
        },
        BLOCK,
        false,
    );
    assert_eq!(out.result, Err(Error::Login(LoginError::BadChap)));
}

#[test]
fn chap_none_when_mutual_required() {
    let target =
        HostileTarget::start(|conn| conn.login().and_then(|()| conn.hold())).expect("listen");
    let out = attack(
        "chap_skipped",
        {
            let addr = target.addr();
            move || chap_config(addr)
        },
        BLOCK,
        false,
    );
    assert_eq!(
        out.result,
        Err(Error::Login(LoginError::AuthenticationSkipped))
    );
}

#[test]
fn redirect_loop() {
    let target = HostileTarget::start(|conn| {
        let req = conn.read_pdu()?;
        let me = conn.stream().local_addr()?;
        let text = keys(&[&format!("TargetAddress={me},1")]);
        let flags = LoginFlags {
            transit: false,
            cont: false,
            csg: 0,
            nsg: 0,
        };
        let numbers = conn.numbers;
        conn.send(&login_response(&req, &numbers, flags, 0x0101, &text))?;
        conn.hold()
    })
    .expect("listen");
    let addr = target.addr();
    let out = attack("redirect_loop", move || config_for(addr), BLOCK, false);
    assert_eq!(out.result, Err(Error::Login(LoginError::RedirectLoop)));
    let max_redirects = config(&target).max_redirects;
    assert_eq!(target.connections(), usize::from(max_redirects) + 1);
}

#[test]
fn target_stops_reading_during_a_write() {
    let target = HostileTarget::start(|conn| {
        conn.login()?;
        let cmd = conn.next_command()?;
        let pdu = conn.r2t(cmd.itt(), 1, 0, 0, cmd.expected_len().min(262_144));
        conn.send(&pdu)?;
        // Zero window: never read again.
        conn.stall(Duration::from_secs(10));
        Ok(())
    })
    .expect("listen");
    let addr = target.addr();
    let out = attack("zero_window", move || config_for(addr), 16 << 20, true);
    assert!(out.result.is_err());
}

#[test]
fn half_a_pdu_then_silence() {
    let target = after_command(|conn, cmd| {
        let pdu = conn.data_in(cmd.itt(), 0, 0, &[0x66; 1024], true);
        conn.send(&pdu[..30])?;
        conn.stall(Duration::from_secs(10));
        Ok(())
    });
    let out = attack_read("half_pdu", &target, 4 * BLOCK);
    assert!(
        matches!(
            out.result,
            Err(Error::ConnectionLost(ConnectionFailure::KeepaliveTimeout) | Error::Timeout)
        ),
        "{:?}",
        out.result
    );
}

#[test]
fn half_a_login_response_then_silence() {
    let target = HostileTarget::start(|conn| {
        let req = conn.read_pdu()?;
        let numbers = conn.numbers;
        let flags = LoginFlags {
            transit: true,
            cont: false,
            csg: 0,
            nsg: 1,
        };
        let pdu = login_response(&req, &numbers, flags, 0, &keys(&["AuthMethod=None"]));
        conn.send(&pdu[..40])?;
        conn.stall(Duration::from_secs(10));
        Ok(())
    })
    .expect("listen");
    let out = attack_read("half_login", &target, BLOCK);
    assert!(
        matches!(
            out.result,
            Err(Error::ConnectionLost(ConnectionFailure::LoginTimeout) | Error::Timeout)
        ),
        "{:?}",
        out.result
    );
}

#[test]
fn wrong_opcode_during_login() {
    let target = HostileTarget::start(|conn| {
        let req = conn.read_pdu()?;
        let mut bhs = header(op::DATA_IN, 0x81);
        put(&mut bhs, 16, req.itt());
        conn.send(&with_data(&bhs, &[1; 64]))?;
        conn.hold()
    })
    .expect("listen");
    let out = attack_read("data_in_during_login", &target, BLOCK);
    assert!(out.result.is_err());
}
