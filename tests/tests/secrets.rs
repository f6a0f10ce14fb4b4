//! CHAP secrets never leak: logins against tgtd (one-way and mutual, right and wrong secret)
//! through the library and through the `iscsi-boot` CLI, with every output scanned for the
//! secrets: the CLI's stdout and stderr, and `Debug`/`Display` of every error and configuration
//! value the library hands out. Also checks the CLI's short-secret warning and that mutual CHAP
//! and `--require-chap` (which make authentication mandatory) are reachable from the command line.

use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::session::{Chap, MutualChap, SessionConfig};
use iscsi_boot_tests::linux_vm::REQUIRE_PEERS_ENV;
use iscsi_boot_tests::tgtd::Tgtd;
use netstack_adapter::std_tcp::StdConnector;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

const IQN: &str = "iqn.2026-01.org.iscsi-boot.test:secrets";
const USER: &str = "boot-host";
const SECRET: &str = "In1tiator-S3cret-Xq";
const TARGET_USER: &str = "boot-target";
const TARGET_SECRET: &str = "T4rget-S3cret-Mutual";
const WRONG: &str = "Wr0ng-Guess-Zk9p";
const SHORT: &str = "Sh0rt-s3c";
/// Everything that must never appear in any output.
const ALL_SECRETS: [&str; 4] = [SECRET, TARGET_SECRET, WRONG, SHORT];

fn assert_clean(what: &str, text: &str) {
    for s in ALL_SECRETS {
        assert!(!text.contains(s), "{what} leaks a secret: {text}");
        let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!text.contains(&hex), "{what} leaks a secret in hex: {text}");
    }
}

/// tgtd with target 1 requiring CHAP (`USER`/`SECRET`) and answering mutual CHAP as
/// `TARGET_USER`/`TARGET_SECRET`.
fn lab() -> Option<Tgtd> {
    if !Tgtd::available() {
        assert!(
            std::env::var_os(REQUIRE_PEERS_ENV).is_none(),
            "tgtd is required here"
        );
        return None;
    }
    let tgtd = Tgtd::start().expect("tgtd");
    tgtd.new_target(1, IQN).expect("target");
    tgtd.add_lun(1, 1, 1 << 20, 512).expect("LUN");
    tgtd.new_account(USER, SECRET).expect("account");
    tgtd.new_account(TARGET_USER, TARGET_SECRET)
        .expect("outgoing account");
    tgtd.bind_incoming_account(1, USER).expect("incoming");
    tgtd.bind_outgoing_account(1, TARGET_USER)
        .expect("outgoing");
    tgtd.bind_all(1).expect("bind");
    Some(tgtd)
}

fn library_login(tgtd: &Tgtd, secret: &'static str, mutual_secret: Option<&'static str>) -> String {
    let mut session = SessionConfig::new(
        "iqn.2026-01.org.iscsi-boot:secrets",
        IQN,
        [0x80, 0, 0, 0, 0x5e, 1],
    );
    session.login_timeout = Duration::from_secs(3);
    let mut chap = Chap::new(USER, secret.as_bytes());
    if let Some(ms) = mutual_secret {
        chap = chap.with_mutual(MutualChap {
            user: TARGET_USER,
            secret: ms.as_bytes(),
            challenge: [0x3c; 16],
            id: 7,
        });
    }
    session.chap = Some(chap);
    let mut config = ClientConfig::new(tgtd.portal(), session);
    config.lun = 1;
    // No reconnects: the driver's CHAP_A fallback for tgt (which takes CHAP_A=7 for SHA-1) must
    // not need any.
    config.max_reconnects = 0;
    let mut seen = format!("{config:?}\n{:?}\n{chap:?}\n", config.session);
    if let Some(m) = chap.mutual {
        seen += &format!("{m:?}\n");
    }
    let (mut rx, mut tx) = (vec![0u8; 200 << 10], vec![0u8; 200 << 10]);
    match Client::connect(
        StdConnector::new(),
        &config,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
        },
    ) {
        Ok(mut client) => {
            seen += &format!("{client:?}\n{:?}\n", client.session());
            let capacity = client.read_capacity().expect("READ CAPACITY after CHAP");
            seen += &format!("{capacity:?}\nOK\n");
            let _ = client.logout();
        }
        Err(e) => seen += &format!("{e:?}\n{e}\nERR\n"),
    }
    seen
}

#[test]
fn library_outputs_never_contain_a_secret() {
    let Some(tgtd) = lab() else { return };
    let right = library_login(&tgtd, SECRET, None);
    assert!(
        right.ends_with("OK\n"),
        "one-way CHAP with the right secret: {right}"
    );
    let wrong = library_login(&tgtd, WRONG, None);
    assert!(wrong.contains("AuthenticationFailed"), "{wrong}");
    let mutual = library_login(&tgtd, SECRET, Some(TARGET_SECRET));
    assert!(mutual.ends_with("OK\n"), "mutual CHAP: {mutual}");
    let mutual_wrong = library_login(&tgtd, SECRET, Some(WRONG));
    assert!(
        mutual_wrong.contains("TargetAuthenticationFailed"),
        "{mutual_wrong}"
    );
    for (what, text) in [
        ("one-way", &right),
        ("wrong", &wrong),
        ("mutual", &mutual),
        ("mutual wrong", &mutual_wrong),
    ] {
        assert_clean(what, text);
    }
}

/// The `iscsi-boot` binary next to this test's (built by `cargo test --workspace`), built on
/// demand when this package's tests run alone.
fn cli() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("iscsi-boot");
    if !bin.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "cli", "--bin", "iscsi-boot"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building iscsi-boot");
    }
    bin
}

fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let mut cmd = Command::new(cli());
    cmd.args(args)
        .env_remove("ISCSI_CHAP_SECRET")
        .env_remove("ISCSI_MUTUAL_CHAP_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run iscsi-boot");
    let text = format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// A CLI case: what it shows, arguments, environment, whether it must succeed.
type Case = (
    &'static str,
    Vec<String>,
    Vec<(&'static str, &'static str)>,
    bool,
);

#[test]
fn cli_outputs_never_contain_a_secret() {
    let Some(tgtd) = lab() else { return };
    let url = format!("iscsi://{}/{IQN}/1", tgtd.portal());
    let url_with = |secret: &str| format!("iscsi://{USER}%{secret}@{}/{IQN}/1", tgtd.portal());
    let ok = |out: &Output| out.status.success();
    let cases: Vec<Case> = vec![
        (
            "one-way, secret in the environment",
            vec![
                "inquiry".into(),
                url.clone(),
                "--chap-user".into(),
                USER.into(),
            ],
            vec![("ISCSI_CHAP_SECRET", SECRET)],
            true,
        ),
        (
            "one-way, wrong secret on the command line",
            vec![
                "inquiry".into(),
                url.clone(),
                "--chap-user".into(),
                USER.into(),
                "--chap-secret".into(),
                WRONG.into(),
            ],
            vec![],
            false,
        ),
        (
            "one-way, secret in the URL",
            vec!["inquiry".into(), url_with(SECRET)],
            vec![],
            true,
        ),
        (
            "wrong secret in the URL",
            vec!["inquiry".into(), url_with(WRONG)],
            vec![],
            false,
        ),
        (
            "mutual",
            vec![
                "inquiry".into(),
                url.clone(),
                "--chap-user".into(),
                USER.into(),
                "--mutual-chap-user".into(),
                TARGET_USER.into(),
            ],
            vec![
                ("ISCSI_CHAP_SECRET", SECRET),
                ("ISCSI_MUTUAL_CHAP_SECRET", TARGET_SECRET),
            ],
            true,
        ),
        (
            "mutual, target proves the wrong secret",
            vec![
                "inquiry".into(),
                url.clone(),
                "--chap-user".into(),
                USER.into(),
                "--mutual-chap-user".into(),
                TARGET_USER.into(),
                "--mutual-chap-secret".into(),
                WRONG.into(),
            ],
            vec![("ISCSI_CHAP_SECRET", SECRET)],
            false,
        ),
        (
            "help with secrets in the environment",
            vec!["inquiry".into(), "--help".into()],
            vec![
                ("ISCSI_CHAP_SECRET", SECRET),
                ("ISCSI_MUTUAL_CHAP_SECRET", TARGET_SECRET),
            ],
            true,
        ),
    ];
    for (what, args, env, success) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, text) = run_cli(&args, env);
        assert_eq!(ok(&out), *success, "{what}: {text}");
        assert_clean(what, &text);
    }
}

#[test]
fn cli_warns_about_short_secrets_without_showing_them() {
    let Some(tgtd) = lab() else { return };
    let url = format!("iscsi://{}/{IQN}/1", tgtd.portal());
    let (out, text) = run_cli(
        &["inquiry", &url, "--chap-user", USER, "--timeout", "3"],
        &[("ISCSI_CHAP_SECRET", SHORT)],
    );
    assert!(
        !out.status.success(),
        "a wrong short secret logs in: {text}"
    );
    assert!(
        text.contains("warning") && text.contains("shorter than 12"),
        "no short-secret warning: {text}"
    );
    assert_clean("short secret", &text);
    let (_, text) = run_cli(
        &["inquiry", &url, "--chap-user", USER],
        &[("ISCSI_CHAP_SECRET", SECRET)],
    );
    assert!(
        !text.contains("warning"),
        "a 19-character secret is fine: {text}"
    );
}

#[test]
fn cli_mutual_or_required_chap_refuses_a_target_that_skips_authentication() {
    let Some(tgtd) = Tgtd::available().then(|| Tgtd::start().expect("tgtd")) else {
        assert!(std::env::var_os(REQUIRE_PEERS_ENV).is_none());
        return;
    };
    // No accounts bound: the target would let anyone in with AuthMethod=None.
    tgtd.new_target(1, IQN).expect("target");
    tgtd.add_lun(1, 1, 1 << 20, 512).expect("LUN");
    tgtd.bind_all(1).expect("bind");
    let url = format!("iscsi://{}/{IQN}/1", tgtd.portal());
    let (out, text) = run_cli(
        &[
            "inquiry",
            &url,
            "--chap-user",
            USER,
            "--mutual-chap-user",
            TARGET_USER,
        ],
        &[
            ("ISCSI_CHAP_SECRET", SECRET),
            ("ISCSI_MUTUAL_CHAP_SECRET", TARGET_SECRET),
        ],
    );
    assert!(
        !out.status.success(),
        "mutual CHAP accepted an unauthenticated target: {text}"
    );
    assert_clean("skip", &text);
    // One-way CHAP with --require-chap refuses it too: it offers CHAP only.
    let (out, text) = run_cli(
        &["inquiry", &url, "--chap-user", USER, "--require-chap"],
        &[("ISCSI_CHAP_SECRET", SECRET)],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "exit code 4 = authentication: {text}"
    );
    // tgt answers a CHAP-only offer from a target without CHAP with status 0x0201.
    assert!(
        text.contains("authentication failed") && text.contains("0x0201"),
        "{text}"
    );
    assert_clean("require", &text);
    // --require-chap without credentials is a usage error, before any connection.
    let (out, text) = run_cli(&["inquiry", &url, "--require-chap"], &[]);
    assert!(
        !out.status.success() && text.contains("--require-chap needs CHAP credentials"),
        "{text}"
    );
    // One-way CHAP alone accepts such a target (documented in docs/security.md).
    let (out, text) = run_cli(
        &["inquiry", &url, "--chap-user", USER],
        &[("ISCSI_CHAP_SECRET", SECRET)],
    );
    assert!(out.status.success(), "{text}");
}
