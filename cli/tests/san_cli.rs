//! The target commands of `iscsi-boot` against a real tgtd started by the test.

use iscsi_boot_tests::tgtd::{ScratchDir, Tgtd};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const IQN: &str = "iqn.2026-01.org.iscsi-boot.test:cli";

fn iscsi_boot(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iscsi-boot"));
    cmd.args(args)
        .env_remove("ISCSI_CHAP_SECRET")
        .env_remove("ISCSI_MUTUAL_CHAP_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run iscsi-boot")
}

/// `len` pseudo-random bytes (xorshift64*).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A tgtd serving `IQN` LUN 1 with `bytes`; `None` (after a loud line) where tgtd cannot run.
fn target(bytes: &[u8]) -> Option<(Tgtd, std::path::PathBuf)> {
    if !Tgtd::available() {
        eprintln!("SKIPPED: tgtd is not available (CI has it; this test must run there)");
        return None;
    }
    let tgtd = Tgtd::start().expect("start tgtd");
    tgtd.new_target(1, IQN).unwrap();
    let backing = tgtd.add_lun_with(1, 1, bytes, 512).unwrap();
    tgtd.bind_all(1).unwrap();
    Some((tgtd, backing))
}

fn url(tgtd: &Tgtd) -> String {
    format!("iscsi://{}/{IQN}/1", tgtd.portal())
}

#[test]
fn read_of_a_64_mib_lun_equals_the_backing_file() {
    let Some((tgtd, backing)) = target(&pattern(64 << 20, 64)) else {
        return;
    };
    let dir = ScratchDir::new("cli-read").unwrap();
    let out = dir.path().join("lun.img");
    let o = iscsi_boot(
        &["read", &url(&tgtd), "--output", out.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (got, expected) = (
        std::fs::read(&out).unwrap(),
        std::fs::read(&backing).unwrap(),
    );
    assert_eq!(got.len(), 64 << 20);
    assert!(got == expected, "the image differs from the backing file");

    // The same LUN named by an RFC 4173 root path, part of it.
    let root_path = format!("iscsi:127.0.0.1::{}:1:{IQN}", tgtd.portal().port());
    let part = dir.path().join("part.img");
    let o = iscsi_boot(
        &[
            "read",
            &root_path,
            "-o",
            part.to_str().unwrap(),
            "--lba",
            "100",
            "--blocks",
            "8",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&part).unwrap(),
        expected[100 * 512..108 * 512]
    );
}

#[test]
fn wrong_chap_secret_fails_fast_with_an_authentication_error() {
    let Some((tgtd, _)) = target(&pattern(1 << 20, 5)) else {
        return;
    };
    tgtd.new_account("cli-user", "the-right-secret").unwrap();
    tgtd.bind_incoming_account(1, "cli-user").unwrap();

    let wrong = "a-wrong-secret-42";
    let started = Instant::now();
    let o = iscsi_boot(
        &["inquiry", &url(&tgtd), "--chap-user", "cli-user"],
        &[("ISCSI_CHAP_SECRET", wrong)],
    );
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(
        o.status.code(),
        Some(4),
        "the authentication exit code: {stderr}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(stderr.contains("authentication"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains(wrong), "the secret is never printed");

    // A secret in the URL is not echoed either.
    let in_url = format!("iscsi://cli-user%{wrong}@{}/{IQN}/1", tgtd.portal());
    let o = iscsi_boot(&["inquiry", &in_url], &[]);
    assert_eq!(o.status.code(), Some(4));
    assert!(!String::from_utf8_lossy(&o.stderr).contains(wrong));

    let o = iscsi_boot(
        &["inquiry", &url(&tgtd), "--chap-user", "cli-user"],
        &[("ISCSI_CHAP_SECRET", "the-right-secret")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn inquiry_discover_write_and_bench() {
    let Some((tgtd, backing)) = target(&pattern(4 << 20, 9)) else {
        return;
    };
    let o = iscsi_boot(&["inquiry", &url(&tgtd)], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("block size: 512"), "{text}");
    assert!(text.contains("capacity:   4194304 bytes"), "{text}");
    assert!(text.contains("luns:       0 1"), "{text}");
    // `tgtadm --op show` lists LUN 1 of the first target as "SCSI SN: beaf11" and
    // "SCSI ID: IET     00010001"; libiscsi's `iscsi-inq -e 1 -c 131` shows that ID as the
    // T10 vendor ID designator next to two NAA ones.
    assert!(text.contains("serial:     beaf11\n"), "{text}");
    assert!(
        text.contains("identifier: t10.IET     00010001\n"),
        "{text}"
    );
    assert_eq!(text.matches("identifier: naa.").count(), 2, "{text}");

    let o = iscsi_boot(&["discover", &tgtd.portal().to_string()], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains(IQN), "{text}");

    let dir = ScratchDir::new("cli-write").unwrap();
    let image = dir.path().join("image");
    let data = pattern(300_000, 77);
    std::fs::write(&image, &data).unwrap();
    let o = iscsi_boot(
        &[
            "write",
            &url(&tgtd),
            "--input",
            image.to_str().unwrap(),
            "--lba",
            "10",
            "--verify",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lun = std::fs::read(&backing).unwrap();
    assert_eq!(lun[10 * 512..10 * 512 + data.len()], data[..]);
    assert!(
        lun[10 * 512 + data.len()..(10 + 586) * 512]
            .iter()
            .all(|&b| b == 0),
        "padded"
    );

    // Larger than the LUN: refused, nothing written.
    std::fs::write(&image, pattern(5 << 20, 1)).unwrap();
    let before = std::fs::read(&backing).unwrap();
    let o = iscsi_boot(&["write", &url(&tgtd), "-i", image.to_str().unwrap()], &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        std::fs::read(&backing).unwrap() == before,
        "nothing written"
    );

    let o = iscsi_boot(&["bench", &url(&tgtd), "--seconds", "1", "--json"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(r["mode"], "read");
    assert!(r["bytes"].as_u64().unwrap() > 0 && r["mb_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn unknown_target_and_refused_portal_name_their_cause() {
    let Some((tgtd, _)) = target(&pattern(1 << 20, 3)) else {
        return;
    };
    let missing = format!(
        "iscsi://{}/iqn.2026-01.org.iscsi-boot.test:absent/1",
        tgtd.portal()
    );
    let o = iscsi_boot(&["inquiry", &missing], &[]);
    assert_eq!(o.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let o = iscsi_boot(&["inquiry", &format!("iscsi://{closed}/{IQN}/1")], &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("connection refused"));

    let o = iscsi_boot(&["inquiry", "iscsi://nowhere"], &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unparsable target is a usage error"
    );
}
