//! `iscsi-boot bench --sessions 64`: a boot storm against a real tgtd started by the test.

use iscsi_boot_tests::tgtd::Tgtd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IQN: &str = "iqn.2026-01.org.iscsi-boot.test:storm";

#[test]
fn sixty_four_sessions_log_in_run_and_log_out() {
    if !Tgtd::available() {
        eprintln!("SKIPPED: tgtd is not available (CI has it; this test must run there)");
        return;
    }
    let tgtd = Tgtd::start().expect("start tgtd");
    tgtd.new_target(1, IQN).unwrap();
    tgtd.add_lun(1, 1, 8 << 20, 512).unwrap();
    tgtd.bind_all(1).unwrap();
    let url = format!("iscsi://{}/{IQN}/1", tgtd.portal());

    let child = Command::new(env!("CARGO_BIN_EXE_iscsi-boot"))
        .args([
            "bench",
            &url,
            "--sessions",
            "64",
            "--seconds",
            "2",
            "--block-size",
            "64k",
            "--queue-depth",
            "4",
            "--json",
        ])
        .env_remove("ISCSI_CHAP_SECRET")
        .env_remove("ISCSI_MUTUAL_CHAP_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run iscsi-boot");
    // tgtd's own view while the workload runs: the most connections it held at once.
    let mut most_seen = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut child = child;
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        most_seen = most_seen.max(tgtd.connections(1).unwrap().len());
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().expect("wait for iscsi-boot");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    eprintln!("storm: {stdout}");
    let r: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(r["sessions"], 64, "{r}");
    assert_eq!(r["completed"], 64, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    assert_eq!(r["failures"].as_array().map(Vec::len), Some(0), "{r}");
    assert!(r["bytes"].as_u64().unwrap() > 0, "{r}");
    assert!(r["mb_per_s"].as_f64().unwrap() > 0.0, "{r}");
    let login = &r["login_ms"];
    let (p50, p90, p99, max) = (
        login["p50"].as_f64().unwrap(),
        login["p90"].as_f64().unwrap(),
        login["p99"].as_f64().unwrap(),
        login["max"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max, "{r}");
    assert_eq!(most_seen, 64, "tgtd saw 64 sessions at once");

    // Every session logged out: tgtd holds no connection afterwards.
    assert_eq!(tgtd.connections(1).unwrap().len(), 0);
}

#[test]
fn a_refused_storm_fails_every_session_with_one_cause_and_does_not_hang() {
    // A port nothing listens on: every session is refused at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("iscsi://127.0.0.1:{port}/{IQN}/1");
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_iscsi-boot"))
        .args([
            "bench",
            &url,
            "--sessions",
            "16",
            "--seconds",
            "1",
            "--timeout",
            "2",
            "--json",
        ])
        .output()
        .expect("run iscsi-boot");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(3), "the connection-refused exit code");
    let r: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    assert_eq!(
        (r["completed"].clone(), r["failed"].clone()),
        (0.into(), 16.into())
    );
    assert_eq!(r["failures"][0]["cause"], "connection refused", "{r}");
    assert_eq!(r["failures"][0]["count"], 16, "{r}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("16 of 16 sessions failed"), "{stderr}");
}
