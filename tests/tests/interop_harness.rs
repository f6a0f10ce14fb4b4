//! The harness checked against independent initiators (libiscsi's tools, `qemu-img`): the tgtd
//! configurations and proxy faults the interop cases rely on do what those cases expect.

mod interop_support;

use interop_support::{INITIATOR, Lab, pattern};
use iscsi_boot_tests::proxy::{Corruption, FaultProxy};
use iscsi_boot_tests::tgtd::{ScratchDir, Tgtd, on_path};
use std::process::{Command, Output};

fn tool(name: &str) -> bool {
    let ok = on_path(name);
    if !ok {
        eprintln!("SKIPPED: `{name}` is not installed (libiscsi-bin / qemu-utils)");
    }
    ok
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

/// `qemu-img convert` of the whole LUN at `url` into a file; returns the bytes.
fn qemu_img_read(url: &str, dir: &ScratchDir) -> Vec<u8> {
    let out = dir.path().join("copy.raw");
    let o = run(
        "qemu-img",
        &[
            "convert",
            "-O",
            "raw",
            "--image-opts",
            &format!(
                "driver=iscsi,transport=tcp,portal={},target={},lun=1,initiator-name={INITIATOR}",
                url_portal(url),
                url_target(url)
            ),
            out.to_str().unwrap(),
        ],
    );
    assert!(
        o.status.success(),
        "qemu-img: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

fn url_portal(url: &str) -> &str {
    url.trim_start_matches("iscsi://")
        .split('/')
        .next()
        .unwrap()
}

fn url_target(url: &str) -> &str {
    url.trim_start_matches("iscsi://")
        .split('/')
        .nth(1)
        .unwrap()
}

#[test]
fn qemu_img_reads_the_backing_file_directly_and_through_a_splitting_proxy() {
    if !tool("qemu-img") {
        return;
    }
    let Some(lab) = Lab::new("harness-qemu-img", 1 << 20, 512) else {
        return;
    };
    lab.open_to_all();
    let dir = ScratchDir::new("harness").unwrap();
    let expected = std::fs::read(&lab.backing).unwrap();
    assert_eq!(qemu_img_read(&lab.url(1), &dir), expected);

    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_split(true);
    let via_proxy = format!("iscsi://{}/{}/1", proxy.addr(), lab.iqn);
    assert_eq!(qemu_img_read(&via_proxy, &dir), expected);
    assert!(proxy.connections() >= 1);
}

#[test]
fn proxy_corrupts_exactly_one_data_in_byte() {
    if !tool("qemu-img") {
        return;
    }
    let Some(lab) = Lab::new("harness-corrupt", 256 << 10, 512) else {
        return;
    };
    lab.open_to_all();
    let dir = ScratchDir::new("harness").unwrap();
    let expected = std::fs::read(&lab.backing).unwrap();
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.corrupt(Corruption::NextDataIn);
    let got = qemu_img_read(&format!("iscsi://{}/{}/1", proxy.addr(), lab.iqn), &dir);
    assert_eq!(proxy.corruptions_applied(), 1);
    let diffs: Vec<usize> = (0..expected.len())
        .filter(|&i| got[i] != expected[i])
        .collect();
    // The first Data-In may belong to INQUIRY or READ CAPACITY rather than to the LUN's bytes.
    assert!(diffs.len() <= 1, "at most one byte differs: {diffs:?}");
    if let [i] = diffs[..] {
        assert_eq!(got[i] ^ expected[i], 0x01);
    }
}

#[test]
fn chap_accounts_admit_the_right_secret_only() {
    if !tool("iscsi-inq") {
        return;
    }
    let Some(lab) = Lab::configure("harness-chap", 64 << 10, 512, |lab| {
        lab.tgtd.new_account("alice", "alice-secret-12").unwrap();
        lab.tgtd.bind_incoming_account(1, "alice").unwrap();
    }) else {
        return;
    };
    lab.open_to_all();
    let portal = lab.tgtd.portal();
    let good = format!("iscsi://alice%alice-secret-12@{portal}/{}/1", lab.iqn);
    let bad = format!("iscsi://alice%wrong-secret-99@{portal}/{}/1", lab.iqn);
    let none = lab.url(1);
    assert!(run("iscsi-inq", &["-i", INITIATOR, &good]).status.success());
    assert!(!run("iscsi-inq", &["-i", INITIATOR, &bad]).status.success());
    assert!(!run("iscsi-inq", &["-i", INITIATOR, &none]).status.success());
}

#[test]
fn redirect_sends_libiscsi_to_an_ipv6_portal() {
    if !tool("iscsi-inq") {
        return;
    }
    let Some(front) = Lab::new("harness-redirect", 64 << 10, 512) else {
        return;
    };
    front.open_to_all();
    let back = Tgtd::start_v6().expect("tgtd on [::1]");
    back.new_target(1, &front.iqn).unwrap();
    back.add_lun_with(1, 1, &pattern(64 << 10, 7), 512).unwrap();
    back.bind_all(1).unwrap();
    back.set_lun_params(1, 1, "vendor_id=BACKEND").unwrap();
    front.tgtd.redirect(1, back.portal(), false).unwrap();
    let o = run("iscsi-inq", &["-i", INITIATOR, &front.url(1)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("BACKEND"),
        "answered by the redirect's target: {text}"
    );
}

#[test]
fn big_sparse_lun_with_4096_byte_blocks_reports_its_capacity() {
    if !tool("iscsi-readcapacity16") {
        return;
    }
    if !Tgtd::available() {
        return;
    }
    let tgtd = Tgtd::start().unwrap();
    tgtd.new_target(1, "iqn.2026-01.org.iscsi-boot.test:harness-big")
        .unwrap();
    tgtd.add_lun(1, 1, 3 << 40, 4096).unwrap();
    tgtd.bind_all(1).unwrap();
    let url = format!(
        "iscsi://{}/iqn.2026-01.org.iscsi-boot.test:harness-big/1",
        tgtd.portal()
    );
    let o = run("iscsi-readcapacity16", &["-i", INITIATOR, &url]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("4096"), "block size 4096 in: {text}");
    assert!(
        text.contains(&((3u64 << 40) / 4096 - 1).to_string()),
        "last LBA in: {text}"
    );
}

#[test]
fn offline_lun_fails_media_access() {
    if !tool("iscsi-readcapacity16") {
        return;
    }
    let Some(lab) = Lab::new("harness-offline", 64 << 10, 512) else {
        return;
    };
    lab.open_to_all();
    lab.tgtd.set_lun_params(1, 1, "online=0").unwrap();
    let o = run("iscsi-readcapacity16", &["-i", INITIATOR, &lab.url(1)]);
    assert!(
        !o.status.success(),
        "an offline LUN must not report a capacity"
    );
}
