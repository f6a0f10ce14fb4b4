//! Interop cases against a real tgtd: reads, writes, negotiation limits, LUN shapes, discovery,
//! IPv6, queue depth and byte-at-a-time delivery. Every read is compared with the backing file.

mod interop_support;

use initiator::addr::TargetAddress;
use interop_support::{Lab, assert_same, config, connect, pattern, read, read_file_range};
use iscsi_boot_tests::proxy::{FaultProxy, PduRecord};
use iscsi_boot_tests::tgtd::Tgtd;

const MIB: usize = 1 << 20;

/// SCSI Command, Data-Out, R2T and SCSI Data-In opcodes.
const OP_SCSI_COMMAND: u8 = 0x01;
const OP_DATA_OUT: u8 = 0x05;
const OP_R2T: u8 = 0x31;

#[test]
fn case_01_login_inquiry_capacity_and_read() {
    let Some(lab) = Lab::new("case01", 4 * MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let mut client = connect(&config(lab.tgtd.portal(), &lab.iqn, 1)).expect("login");
    let inquiry = client.inquiry().expect("INQUIRY");
    assert_eq!(inquiry.device_type, 0, "direct-access block device");
    assert_eq!(inquiry.vendor_str(), "IET", "tgtd's vendor id");
    let capacity = client.read_capacity().expect("READ CAPACITY");
    assert_eq!(capacity.block_size, 512);
    assert_eq!(capacity.blocks(), (4 * MIB / 512) as u64);
    let got = read(&mut client, 0, 4 * MIB);
    assert_same(&got, &lab.backing_bytes(0, 4 * MIB), "LBA 0..8192");
    client.logout().expect("logout");
}

#[test]
fn case_01b_vpd_pages_and_raw_commands() {
    use initiator::driver::DataBuffer;
    use initiator::pdu::ScsiStatus;
    use initiator::scsi::{Designators, SenseKey, UnitSerialNumber, cdb};
    let Some(lab) = Lab::new("case01b", MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let mut client = connect(&config(lab.tgtd.portal(), &lab.iqn, 1)).expect("login");
    // `tgtadm --op show`: LUN 1 of target 1 has "SCSI SN: beaf11", "SCSI ID: IET     00010001".
    let mut page = [0u8; 255];
    let n = client.inquiry_vpd(0x80, &mut page).expect("VPD 0x80");
    let serial = UnitSerialNumber::parse(&page[..n]).unwrap();
    assert_eq!(serial.serial_str(), Some("beaf11"));
    let n = client.inquiry_vpd(0x83, &mut page).expect("VPD 0x83");
    let ids: Vec<String> = Designators::parse(&page[..n])
        .unwrap()
        .map(|d| d.to_string())
        .collect();
    assert!(ids.iter().any(|d| d == "t10.IET     00010001"), "{ids:?}");

    // The raw path absorbs nothing: the first non-INQUIRY command of the new I_T nexus sees
    // the UNIT ATTENTION for the reset (ASC 0x29) that the driver's own calls retry past.
    let done = client
        .execute(&cdb::test_unit_ready(), DataBuffer::None)
        .expect("execute");
    let sense = done.sense.expect("sense data");
    assert_eq!((sense.key, sense.asc), (SenseKey::UnitAttention, 0x29));
    // A raw READ(10) past the end: CHECK CONDITION comes back as a status, not an error.
    let mut block = [0u8; 512];
    let done = client
        .execute(
            &cdb::read((MIB / 512) as u64, 1),
            DataBuffer::In(&mut block),
        )
        .expect("execute");
    assert_eq!(done.status, ScsiStatus::CheckCondition);
    let sense = done.sense.expect("sense data");
    assert_eq!(sense.key, SenseKey::IllegalRequest);
    assert_eq!((sense.asc, sense.ascq), (0x21, 0x00), "LBA out of range");
    // A raw READ(10) of LBA 0 returns the first block.
    let done = client
        .execute(&cdb::read(0, 1), DataBuffer::In(&mut block))
        .expect("execute");
    assert!(done.is_good(), "{done:?}");
    assert_eq!(done.transferred, 512);
    assert_same(&block, &lab.backing_bytes(0, 512), "LBA 0");
    client.logout().expect("logout");
}

#[test]
fn case_02_write_random_region_and_read_back() {
    let Some(lab) = Lab::new("case02", 16 * MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let mut client = connect(&config(lab.tgtd.portal(), &lab.iqn, 1)).expect("login");
    let data = pattern(4 * MIB, 0x0202);
    let lba = 5_003; // deliberately not aligned to anything
    client.write(lba, &data).expect("write 4 MiB");
    assert_same(
        &lab.backing_bytes(lba * 512, data.len()),
        &data,
        "backing file after write",
    );
    let back = read(&mut client, lba, data.len());
    assert_same(&back, &data, "read back");
    // The bytes around the region are untouched.
    assert_same(
        &read(&mut client, lba - 1, 512),
        &lab.backing_bytes((lba - 1) * 512, 512),
        "block before",
    );
    client.logout().expect("logout");
}

/// Matches each R2T with its burst of Data-Out PDUs (same ITT and TTT, in order, ending at the
/// F bit; targets may reuse a TTT for successive R2Ts of a task) and checks the burst.
fn check_r2t_bursts(records: &[PduRecord], max_burst: u32, max_segment: u32) -> usize {
    let r2ts: Vec<&PduRecord> = records
        .iter()
        .filter(|r| !r.from_initiator && r.opcode() == OP_R2T)
        .collect();
    assert!(!r2ts.is_empty(), "the target solicited data with R2Ts");
    let mut keys: Vec<(u32, u32)> = r2ts.iter().map(|r| (r.u32_at(16), r.u32_at(20))).collect();
    keys.dedup();
    for (itt, ttt) in keys {
        let same = |r: &&PduRecord| r.u32_at(16) == itt && r.u32_at(20) == ttt;
        let solicits: Vec<&PduRecord> = r2ts.iter().copied().filter(same).collect();
        let outs: Vec<&PduRecord> = records
            .iter()
            .filter(|r| r.from_initiator && r.opcode() == OP_DATA_OUT)
            .filter(same)
            .collect();
        let bursts: Vec<&[&PduRecord]> =
            outs.split_inclusive(|r| r.header[1] & 0x80 != 0).collect();
        assert_eq!(
            bursts.len(),
            solicits.len(),
            "one F-terminated burst per R2T"
        );
        for (r2t, burst) in solicits.iter().zip(bursts) {
            let (offset, desired) = (r2t.u32_at(40), r2t.u32_at(44));
            assert!(
                desired <= max_burst,
                "R2T asks for {desired} > MaxBurstLength"
            );
            let mut next = offset;
            for (sn, out) in burst.iter().enumerate() {
                assert_eq!(out.u32_at(36), sn as u32, "DataSN restarts at 0 per R2T");
                assert_eq!(out.u32_at(40), next, "Data-Out offsets are contiguous");
                assert!(out.data_len() <= max_segment, "segment within MaxRecvDSL");
                next += out.data_len();
            }
            assert_eq!(
                next - offset,
                desired,
                "the burst delivers what the R2T asked"
            );
        }
    }
    r2ts.len()
}

#[test]
fn case_10_small_burst_and_segment_limits_split_a_write() {
    let Some(lab) = Lab::configure("case10", 4 * MIB, 512, |lab| {
        for (k, v) in [
            ("MaxBurstLength", "4096"),
            ("FirstBurstLength", "4096"),
            ("MaxRecvDataSegmentLength", "512"),
            ("InitialR2T", "Yes"),
            ("ImmediateData", "No"),
        ] {
            lab.tgtd.set_param(1, k, v).expect(k);
        }
    }) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login");
    let negotiated = *client.session().negotiated();
    assert_eq!(negotiated.max_burst_length, 4096);
    assert_eq!(negotiated.max_send_data_segment_length, 512);
    let data = pattern(MIB, 0x1010);
    client.write(64, &data).expect("1 MiB write");
    let r2ts = check_r2t_bursts(&proxy.recorded(), 4096, 512);
    assert!(
        r2ts >= MIB / 4096,
        "at least one R2T per 4 KiB burst ({r2ts})"
    );
    assert_same(
        &lab.backing_bytes(64 * 512, MIB),
        &data,
        "data landed intact",
    );
    assert_same(&read(&mut client, 64, MIB), &data, "read back");
    client.logout().expect("logout");
}

#[test]
fn case_11_unsolicited_data_stays_within_first_burst() {
    let first_burst = 8192u32;
    let Some(lab) = Lab::configure("case11", 4 * MIB, 512, |lab| {
        for (k, v) in [
            ("InitialR2T", "No"),
            ("ImmediateData", "Yes"),
            ("FirstBurstLength", "8192"),
        ] {
            lab.tgtd.set_param(1, k, v).expect(k);
        }
    }) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login");
    let negotiated = *client.session().negotiated();
    assert!(!negotiated.initial_r2t && negotiated.immediate_data);
    assert_eq!(negotiated.first_burst_length, first_burst);
    let data = pattern(MIB, 0x1111);
    client.write(0, &data).expect("write");
    client
        .write(4096, &data[..3000 / 512 * 512])
        .expect("short write");
    let records = proxy.recorded();
    let writes: Vec<&PduRecord> = records
        .iter()
        .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND && r.header[1] & 0x20 != 0)
        .collect();
    assert!(!writes.is_empty());
    let mut saw_unsolicited = false;
    for cmd in writes {
        let itt = cmd.u32_at(16);
        let unsolicited: u32 = records
            .iter()
            .filter(|r| {
                r.from_initiator
                    && r.opcode() == OP_DATA_OUT
                    && r.u32_at(16) == itt
                    && r.u32_at(20) == 0xffff_ffff
            })
            .map(PduRecord::data_len)
            .sum();
        let total = cmd.data_len() + unsolicited;
        saw_unsolicited |= total > 0;
        assert!(
            total <= first_burst,
            "immediate + unsolicited data {total} > FirstBurstLength for ITT {itt:#x}"
        );
    }
    assert!(saw_unsolicited, "unsolicited data was used at all");
    assert_same(&lab.backing_bytes(0, MIB), &data, "data landed intact");
    client.logout().expect("logout");
}

#[test]
fn case_16_three_tib_lun_uses_16_byte_commands_past_2_tib() {
    if !Tgtd::available() {
        return;
    }
    let tgtd = Tgtd::start().unwrap();
    let iqn = "iqn.2026-01.org.iscsi-boot.test:case16";
    tgtd.new_target(1, iqn).unwrap();
    let backing = tgtd.add_lun(1, 1, 3 << 40, 512).unwrap();
    tgtd.bind_all(1).unwrap();
    let proxy = FaultProxy::start(tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut client = connect(&config(proxy.addr(), iqn, 1)).expect("login");
    let capacity = client.read_capacity().expect("capacity");
    assert_eq!(capacity.blocks(), (3u64 << 40) / 512);
    let cdb_ops: Vec<u8> = proxy
        .recorded()
        .iter()
        .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
        .map(|r| r.header[32])
        .collect();
    assert!(cdb_ops.contains(&0x25), "READ CAPACITY(10) first");
    assert!(cdb_ops.contains(&0x9e), "then READ CAPACITY(16)");

    let lba = (2u64 << 40) / 512 + 12_345;
    let data = pattern(64 << 10, 16);
    client.write(lba, &data).expect("write beyond 2 TiB");
    assert_same(
        &read(&mut client, lba, data.len()),
        &data,
        "read beyond 2 TiB",
    );
    assert_same(
        &read_file_range(&backing, lba * 512, data.len()),
        &data,
        "backing file at 2 TiB + 12345 blocks",
    );
    let ops: Vec<u8> = proxy
        .recorded()
        .iter()
        .filter(|r| r.from_initiator && r.opcode() == OP_SCSI_COMMAND)
        .map(|r| r.header[32])
        .collect();
    assert!(
        ops.contains(&0x8a) && ops.contains(&0x88),
        "WRITE(16) and READ(16)"
    );
    client.logout().expect("logout");
}

#[test]
fn case_17_4096_byte_logical_blocks() {
    let Some(lab) = Lab::new("case17", 8 * MIB, 4096) else {
        return;
    };
    lab.open_to_all();
    let mut client = connect(&config(lab.tgtd.portal(), &lab.iqn, 1)).expect("login");
    let capacity = client.read_capacity().expect("capacity");
    assert_eq!(capacity.block_size, 4096);
    assert_eq!(capacity.blocks(), (8 * MIB / 4096) as u64);
    assert_same(
        &read(&mut client, 0, 8 * MIB),
        &lab.backing_bytes(0, 8 * MIB),
        "whole LUN",
    );
    let data = pattern(3 * 4096, 17);
    client.write(1001, &data).expect("write");
    assert_same(
        &lab.backing_bytes(1001 * 4096, data.len()),
        &data,
        "LBA 1001 is byte 1001*4096",
    );
    client.logout().expect("logout");
}

#[test]
fn case_20_report_luns_and_lun_2_from_a_root_path() {
    let Some(lab) = Lab::new("case20", MIB, 512) else {
        return;
    };
    let lun2 = lab
        .tgtd
        .add_lun_with(1, 2, &pattern(2 * MIB, 20), 512)
        .unwrap();
    lab.tgtd.add_lun_with(1, 3, &pattern(MIB, 30), 512).unwrap();
    lab.open_to_all();
    let root_path = format!(
        "iscsi:127.0.0.1::{}:2:{}",
        lab.tgtd.portal().port(),
        lab.iqn
    );
    let addr = TargetAddress::parse_root_path(&root_path).expect("root path");
    assert_eq!(addr.lun.number(), Some(2));
    assert_eq!(addr.target_name, lab.iqn);
    let mut client = connect(&config(
        lab.tgtd.portal(),
        addr.target_name,
        addr.lun.number().unwrap(),
    ))
    .expect("login");
    let mut luns = [0u64; 8];
    let n = client.report_luns(&mut luns).expect("REPORT LUNS");
    let mut numbers: Vec<u64> = luns[..n].iter().map(|f| (f >> 48) & 0x3fff).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [0, 1, 2, 3]);
    assert_eq!(
        client.read_capacity().unwrap().blocks(),
        (2 * MIB / 512) as u64
    );
    assert_same(
        &read(&mut client, 0, 2 * MIB),
        &read_file_range(&lun2, 0, 2 * MIB),
        "LUN 2",
    );
    client.logout().expect("logout");
}

#[test]
fn case_21_send_targets_discovery_then_a_normal_session() {
    let Some(lab) = Lab::new("case21", MIB, 512) else {
        return;
    };
    lab.tgtd
        .new_target(2, "iqn.2026-01.org.iscsi-boot.test:case21-other")
        .unwrap();
    lab.tgtd.add_lun(2, 1, MIB as u64, 512).unwrap();
    lab.tgtd.bind_all(2).unwrap();
    lab.open_to_all();
    let session = config(lab.tgtd.portal(), &lab.iqn, 1).session;
    let mut found = Vec::new();
    initiator::driver::discover(
        netstack_adapter::std_tcp::StdConnector::new(),
        lab.tgtd.portal(),
        session,
        interop_support::buffers(),
        &mut |name, address| found.push((name.to_owned(), address.to_owned())),
    )
    .expect("discovery");
    let port = lab.tgtd.portal().port();
    assert!(
        found.contains(&(lab.iqn.clone(), format!("127.0.0.1:{port},1"))),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(n, _)| n.ends_with("case21-other")),
        "{found:?}"
    );
    let (name, _) = found.iter().find(|(n, _)| *n == lab.iqn).unwrap();
    let mut client = connect(&config(lab.tgtd.portal(), name, 1)).expect("login");
    assert_same(
        &read(&mut client, 0, MIB),
        &lab.backing_bytes(0, MIB),
        "after discovery",
    );
    client.logout().expect("logout");
}

#[test]
fn case_22_ipv6_portal() {
    if !Tgtd::available() {
        return;
    }
    let tgtd = Tgtd::start_v6().expect("tgtd on [::1]");
    let iqn = "iqn.2026-01.org.iscsi-boot.test:case22";
    tgtd.new_target(1, iqn).unwrap();
    let data = pattern(2 * MIB, 22);
    let backing = tgtd.add_lun_with(1, 1, &data, 512).unwrap();
    tgtd.bind_all(1).unwrap();
    assert!(tgtd.portal().is_ipv6());
    let url = format!("iscsi://{}/{iqn}/1", tgtd.portal());
    let addr = TargetAddress::parse_url(&url).expect("URL with [::1]");
    let portal = match addr.host {
        initiator::addr::Host::Ip(ip) => std::net::SocketAddr::new(ip, addr.port),
        other => panic!("expected an IP literal, got {other:?}"),
    };
    let mut client = connect(&config(portal, iqn, 1)).expect("login over IPv6");
    assert_same(
        &read(&mut client, 0, 2 * MIB),
        &read_file_range(&backing, 0, 2 * MIB),
        "LUN",
    );
    client.logout().expect("logout");
}

#[test]
fn case_24_queue_depth_8_never_exceeds_max_cmd_sn() {
    let Some(lab) = Lab::configure("case24", 8 * MIB, 512, |lab| {
        // tgtd's command window: MaxCmdSN = ExpCmdSN + MaxQueueCmd - 1.
        lab.tgtd
            .set_param(1, "MaxQueueCmd", "2")
            .expect("MaxQueueCmd");
    }) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let mut cfg = config(proxy.addr(), &lab.iqn, 1);
    cfg.session.queue_depth = 8;
    cfg.max_request_bytes = 64 << 10;
    let mut client = connect(&cfg).expect("login");
    assert_same(
        &read(&mut client, 0, 8 * MIB),
        &lab.backing_bytes(0, 8 * MIB),
        "whole LUN",
    );
    let data = pattern(2 * MIB, 24);
    client.write(100, &data).expect("write");
    assert_same(&lab.backing_bytes(100 * 512, data.len()), &data, "written");

    let mut max_cmd_sn: Option<u32> = None;
    let (mut checked, mut window_used) = (0, 0u32);
    let mut exp_cmd_sn = 0u32;
    for r in proxy.recorded() {
        if !r.from_initiator {
            // Every target PDU that carries the window: ExpCmdSN at 28, MaxCmdSN at 32.
            if matches!(
                r.opcode(),
                0x20 | 0x21 | 0x22 | 0x23 | 0x24 | 0x25 | 0x26 | 0x31 | 0x32 | 0x3f
            ) {
                let m = r.u32_at(32);
                exp_cmd_sn = r.u32_at(28);
                max_cmd_sn =
                    Some(max_cmd_sn.map_or(m, |cur| if serial_gt(m, cur) { m } else { cur }));
            }
            continue;
        }
        let immediate = r.header[0] & 0x40 != 0;
        if r.opcode() == OP_SCSI_COMMAND && !immediate {
            let cmd_sn = r.u32_at(24);
            let max = max_cmd_sn.expect("a window before the first command");
            assert!(
                !serial_gt(cmd_sn, max),
                "CmdSN {cmd_sn} sent past MaxCmdSN {max}"
            );
            window_used = window_used.max(cmd_sn.wrapping_sub(exp_cmd_sn) + 1);
            checked += 1;
        }
    }
    assert!(checked > 100, "checked {checked} commands");
    assert!(window_used >= 2, "commands were pipelined into the window");
    client.logout().expect("logout");
}

/// RFC 1982 "greater than" for 32-bit sequence numbers.
fn serial_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 1 << 31
}

#[test]
fn case_25_byte_at_a_time_delivery() {
    let Some(lab) = Lab::new("case25", MIB, 512) else {
        return;
    };
    lab.open_to_all();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_split(true);
    let mut client = connect(&config(proxy.addr(), &lab.iqn, 1)).expect("login, 1 byte at a time");
    assert_eq!(client.read_capacity().unwrap().blocks(), (MIB / 512) as u64);
    assert_same(
        &read(&mut client, 0, 256 << 10),
        &lab.backing_bytes(0, 256 << 10),
        "read",
    );
    let data = pattern(64 << 10, 25);
    client.write(1000, &data).expect("write");
    assert_same(&lab.backing_bytes(1000 * 512, data.len()), &data, "written");
    assert_same(&read(&mut client, 1000, data.len()), &data, "read back");
    client.logout().expect("logout");
    assert_eq!(proxy.connections(), 1, "no reconnect needed");
}
