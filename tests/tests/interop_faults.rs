//! Interop cases against a real tgtd with faults: dropped connections, digests and corruption,
//! NOP pings, a silent peer, UNIT ATTENTION, descriptor sense, an offline LU, logout.

mod interop_support;

use initiator::error::Error;
use initiator::scsi::SenseKey;
use initiator::session::Params;
use initiator::transport::Connector;
use interop_support::{Lab, assert_same, config, connect, pattern, read};
use iscsi_boot_tests::proxy::{Corruption, FaultProxy, Flow, PduRecord};
use netstack_adapter::std_tcp::StdConnector;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;
const OP_NOP_OUT: u8 = 0x00;
const OP_SCSI_COMMAND: u8 = 0x01;
const OP_LOGOUT: u8 = 0x06;
const OP_NOP_IN: u8 = 0x20;
const OP_SCSI_RESPONSE: u8 = 0x21;
const OP_DATA_IN: u8 = 0x25;
const OP_LOGOUT_RESPONSE: u8 = 0x26;

/// The SCSI status of a response PDU (SCSI Response, or Data-In with the S bit).
fn scsi_status(r: &PduRecord) -> Option<u8> {
    match r.opcode() {
        OP_SCSI_RESPONSE => Some(r.header[3]),
        OP_DATA_IN if r.header[1] & 0x01 != 0 => Some(r.header[3]),
        _ => None,
    }
}

#[test]
fn case_03_connection_dropped_mid_read_is_recovered() {
    let Some(lab) = Lab::new("case03", 16 * MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login");
    client.read_capacity().unwrap();
    // Slow the relay so the read is surely in flight when the connection goes.
    proxy.set_delay(Duration::from_millis(2));
    let got = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            proxy.drop_all();
            proxy.set_delay(Duration::ZERO);
        });
        read(&mut client, 0, 16 * MIB)
    });
    assert_same(
        &got,
        &lab.backing_bytes(0, 16 * MIB),
        "whole LUN across the drop",
    );
    assert_eq!(proxy.connections(), 2, "exactly one reconnect");
    let reissued = proxy
        .recorded()
        .iter()
        .filter(|r| r.connection == 2 && r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
        .count();
    assert!(
        reissued > 0,
        "unfinished reads re-issued on the new connection"
    );
    client.logout().expect("logout");
}

fn digest_lab(case: &str, header: bool, data: bool) -> Option<Lab> {
    let lab = Lab::configure(case, 4 * MIB, 512, |lab| {
        let value = |on| if on { "CRC32C" } else { "None" };
        lab.tgtd
            .set_param(1, "HeaderDigest", value(header))
            .unwrap();
        lab.tgtd.set_param(1, "DataDigest", value(data)).unwrap();
    })?;
    lab.open_to_all();
    Some(lab)
}

fn with_digests(
    mut cfg: initiator::driver::ClientConfig<'static>,
) -> initiator::driver::ClientConfig<'static> {
    cfg.session.params = Params {
        header_digest: true,
        data_digest: true,
        ..cfg.session.params
    };
    cfg
}

#[test]
fn case_08_crc32c_header_and_data_digests() {
    let Some(lab) = digest_lab("case08", true, true) else {
        return;
    };
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_digests(true, true);
    proxy.set_recording(true);
    let mut client = connect(&with_digests(config(proxy.addr(), &lab.iqn, 1))).expect("login");
    let digests = client.session().negotiated().digests;
    assert!(
        digests.header && digests.data,
        "CRC32C negotiated both ways: {digests:?}"
    );
    assert_same(
        &read(&mut client, 0, 4 * MIB),
        &lab.backing_bytes(0, 4 * MIB),
        "read",
    );
    let data = pattern(MIB, 8);
    client.write(2048, &data).expect("write");
    assert_same(
        &lab.backing_bytes(2048 * 512, MIB),
        &data,
        "tgtd accepted our digests",
    );
    client.logout().expect("logout");
    assert_eq!(proxy.connections(), 1, "no digest error on either side");
    // The relay followed every PDU boundary with 4-byte digests: every header it saw is one
    // a target or an initiator sends.
    assert!(proxy.recorded().iter().all(|r| matches!(
        r.opcode(),
        0x00..=0x06 | 0x10 | 0x1c..=0x1e | 0x20..=0x26 | 0x31 | 0x32 | 0x3c..=0x3f
    )));
}

#[test]
fn case_09_corrupted_data_segment_is_detected_and_recovered() {
    let Some(lab) = digest_lab("case09", false, true) else {
        return;
    };
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_digests(false, true);
    let mut client = connect(&with_digests(config(proxy.addr(), &lab.iqn, 1))).expect("login");
    assert!(client.session().negotiated().digests.data);
    client.read_capacity().unwrap();
    proxy.corrupt(Corruption::NextDataIn);
    let got = read(&mut client, 0, 2 * MIB);
    assert_eq!(proxy.corruptions_applied(), 1, "one bit flipped in flight");
    assert_same(
        &got,
        &lab.backing_bytes(0, 2 * MIB),
        "the corrupt segment was not used",
    );
    assert_eq!(
        proxy.connections(),
        2,
        "the connection was dropped and re-established"
    );
    client.logout().expect("logout");
}

#[test]
fn case_12_target_nop_pings_are_answered() {
    // tgtd pings every second and gives up after 3 unanswered pings; 10 s of idle() covers
    // ten pings and more than three times the target's patience.
    let Some(lab) = Lab::configure("case12", MIB, 512, |lab| {
        lab.tgtd.set_param(1, "nop_interval", "1").unwrap();
        lab.tgtd.set_param(1, "nop_count", "3").unwrap();
    }) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut cfg = config(proxy.addr(), &lab.iqn, 1);
    // Our own keepalives would hide unanswered pings: only tgtd's pings keep the session up.
    cfg.session.keepalive_interval = Duration::from_secs(30);
    let mut client = connect(&cfg).expect("login");
    client.read_capacity().expect("READ CAPACITY");
    let commands_before = proxy
        .recorded()
        .iter()
        .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
        .count();
    // Driver instants share the process-wide epoch of every StdConnector.
    let until = StdConnector::new().now() + Duration::from_secs(10);
    client.idle(until).expect("idle");
    let commands_idle = proxy
        .recorded()
        .iter()
        .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
        .count();
    assert_eq!(commands_idle, commands_before, "no command while idle");
    assert_eq!(proxy.connections(), 1, "no reconnect during idle");
    assert_same(
        &read(&mut client, 0, MIB),
        &lab.backing_bytes(0, MIB),
        "I/O after idle",
    );
    let records = proxy.recorded();
    let pings: Vec<u32> = records
        .iter()
        .filter(|r| !r.from_initiator && r.opcode() == OP_NOP_IN && r.u32_at(20) != u32::MAX)
        .map(|r| r.u32_at(20))
        .collect();
    assert!(pings.len() >= 5, "tgtd pinged ({} pings)", pings.len());
    for ttt in &pings {
        assert!(
            records
                .iter()
                .any(|r| r.from_initiator && r.opcode() == OP_NOP_OUT && r.u32_at(20) == *ttt),
            "ping with TTT {ttt:#x} answered by a NOP-Out echoing it"
        );
    }
    assert_eq!(proxy.connections(), 1, "the session stayed alive");

    // Truly silent for longer than tgtd's patience: the next I/O still succeeds (the driver
    // reconnects if the target gave up meanwhile).
    std::thread::sleep(Duration::from_secs(4));
    assert_same(
        &read(&mut client, 0, MIB),
        &lab.backing_bytes(0, MIB),
        "I/O after silence",
    );
    client.logout().ok();
}

#[test]
fn case_13_silent_peer_times_out_and_reconnects() {
    let Some(lab) = Lab::new("case13", MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    let mut cfg = config(proxy.addr(), &lab.iqn, 1);
    cfg.session.keepalive_interval = Duration::from_millis(300);
    cfg.session.keepalive_timeout = Duration::from_millis(300);
    cfg.session.login_timeout = Duration::from_secs(1);
    let mut client = connect(&cfg).expect("login");
    client.read_capacity().unwrap();
    proxy.set_flow(Flow::BlackHole);
    let started = Instant::now();
    let got = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(1500));
            proxy.set_flow(Flow::Forward);
        });
        read(&mut client, 0, 256 << 10)
    });
    assert_same(
        &got,
        &lab.backing_bytes(0, 256 << 10),
        "read after the silence",
    );
    assert!(proxy.connections() >= 2, "the dead connection was replaced");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    client.logout().expect("logout");
}

#[test]
fn case_14_unit_attention_after_login_is_absorbed() {
    let Some(lab) = Lab::new("case14", MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login");
    // A LUN added while the session runs raises REPORTED LUNS DATA HAS CHANGED (3F/0E) for the
    // next command, should the new I_T nexus not already carry POWER ON/RESET.
    lab.tgtd.add_lun(1, 2, MIB as u64, 512).unwrap();
    let capacity = client.read_capacity().expect("UNIT ATTENTION absorbed");
    assert_eq!(capacity.blocks(), (MIB / 512) as u64);
    let statuses: Vec<u8> = proxy.recorded().iter().filter_map(scsi_status).collect();
    assert_eq!(
        statuses.first(),
        Some(&0x02),
        "the target raised CHECK CONDITION first: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&0x00), "then GOOD");
    assert_same(
        &read(&mut client, 0, MIB),
        &lab.backing_bytes(0, MIB),
        "read",
    );
    client.logout().expect("logout");
}

#[test]
fn case_15_descriptor_format_sense_is_parsed() {
    let Some(lab) = Lab::configure("case15", MIB, 512, |lab| {
        lab.tgtd.set_lun_params(1, 1, "sense_format=1").unwrap();
    }) else {
        return;
    };
    lab.open_to_all();
    let mut client = connect(&config(lab.tgtd.portal(), &lab.iqn, 1)).expect("login");
    let blocks = client.read_capacity().unwrap().blocks();
    let mut buf = vec![0u8; 512];
    let err = client
        .read(blocks, &mut buf)
        .expect_err("read past the end");
    // ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE.
    assert!(
        matches!(
            err,
            Error::CheckCondition(s)
                if s.key == SenseKey::IllegalRequest && (s.asc, s.ascq) == (0x21, 0)
        ),
        "{err:?}"
    );
    // The session survives a CHECK CONDITION.
    assert_same(
        &read(&mut client, 0, MIB),
        &lab.backing_bytes(0, MIB),
        "read after",
    );
    client.logout().expect("logout");
}

#[test]
fn case_19_offline_lu_gives_bounded_not_ready() {
    let Some(lab) = Lab::new("case19", MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let cfg = config(proxy.addr(), &lab.iqn, 1);
    let mut client = connect(&cfg).expect("login");
    client.read_capacity().unwrap();
    lab.tgtd.set_lun_params(1, 1, "online=0").unwrap();
    let before = proxy.recorded().len();
    let started = Instant::now();
    // tgtd fails TEST UNIT READY (and READ CAPACITY(16)) of an offline disk with NOT READY but
    // still serves READ/WRITE, so the readiness check a boot loader makes is what is tested.
    let err = client.test_unit_ready().expect_err("offline LU");
    assert!(
        matches!(
            err,
            Error::NotReady(s) if s.key == SenseKey::NotReady
        ),
        "{err:?}"
    );
    let commands = proxy.recorded()[before..]
        .iter()
        .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
        .count();
    let limit = 1 + usize::from(cfg.not_ready_retries) + usize::from(cfg.unit_attention_retries);
    assert!(
        commands >= 2 && commands <= limit,
        "{commands} attempts, bounded by {limit}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.to_string().contains("not ready"),
        "clear message: {err}"
    );
    client.logout().expect("logout");
}

#[test]
fn case_23_logout_after_io_and_clean_logout() {
    let Some(lab) = Lab::new("case23", 8 * MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);

    // Clean logout of an idle session.
    let client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login");
    client.logout().expect("clean logout");

    // Logout right behind a large write: the write completes first, then the session ends.
    let mut client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login");
    let data = pattern(4 * MIB, 23);
    client.write(0, &data).expect("write");
    client.logout().expect("logout after I/O");
    assert_same(
        &lab.backing_bytes(0, data.len()),
        &data,
        "every byte written before logout",
    );

    let records = proxy.recorded();
    for conn in 1..=2 {
        let of_conn: Vec<&PduRecord> = records.iter().filter(|r| r.connection == conn).collect();
        let logout = of_conn
            .iter()
            .position(|r| r.from_initiator && r.opcode() == OP_LOGOUT)
            .expect("a Logout Request");
        let response = of_conn
            .iter()
            .position(|r| !r.from_initiator && r.opcode() == OP_LOGOUT_RESPONSE)
            .expect("a Logout Response");
        assert_eq!(
            of_conn[response].header[2], 0,
            "connection or session closed successfully"
        );
        assert!(
            of_conn[..logout]
                .iter()
                .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
                .count()
                <= of_conn[..logout]
                    .iter()
                    .filter_map(|r| scsi_status(r))
                    .count(),
            "no command was outstanding when the logout went out"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while !lab.tgtd.connections(1).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "tgtd still lists the session");
        std::thread::sleep(Duration::from_millis(20));
    }
}
