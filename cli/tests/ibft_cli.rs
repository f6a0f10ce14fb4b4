//! `iscsi-boot ibft build|dump|lint` end to end, through the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_iscsi-boot"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iscsi-boot-ibft-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

const CLEAN: &str = r#"
[table]
oem_id = "ISBOOT"
oem_table_id = "ISCSIBT"
gateway_policy = "omit-when-on-link"
compat_two_pairs = false

[initiator]
name = "iqn.2026-11.org.example:node1"

[[nic]]
mac = "52:54:00:12:34:01"
pci = "00:03.0"
ip = "10.0.2.15/24"
gateway = "10.0.2.2"
dns = ["10.0.2.3"]
dhcp_server = "10.0.2.2"
vlan = 0
hostname = "node1"

[[nic]]
mac = "52:54:00:12:34:02"
pci = "00:04.0"
ip = "fd00::15/64"

[[target]]
nic = 0
root_path = "iscsi:10.0.2.2::3260:1:iqn.2026-11.org.example:disk1"
chap = { user = "u", secret = "0123456789ab" }
mutual_chap = { user = "t", secret = "ba9876543210" }
boot = true

[[target]]
nic = 1
root_path = "iscsi:[fd00::2]::3261:4100:iqn.2026-11.org.example:disk2"
"#;

fn build(dir: &Path, toml: &str) -> (i32, String, PathBuf) {
    let cfg = dir.join("t.toml");
    let out = dir.join("t.bin");
    fs::write(&cfg, toml).unwrap();
    let (code, _, err) = run(bin()
        .args(["ibft", "build", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out));
    (code, err, out)
}

#[test]
fn build_dump_lint_round_trip() {
    let dir = scratch("roundtrip");
    let (code, err, table) = build(&dir, CLEAN);
    assert_eq!(code, 0, "{err}");
    let bytes = fs::read(&table).unwrap();
    assert_eq!(&bytes[..4], b"iBFT");
    assert_eq!(bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)), 0);

    let (code, out, err) = run(bin().args(["ibft", "dump"]).arg(&table));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("initiator flags 0x03 valid boot-selected name iqn.2026-11.org.example:node1"),
        "{out}"
    );
    assert!(
        out.contains("mac 52:54:00:12:34:01 pci 00:03.0 vlan 0 hostname node1"),
        "{out}"
    );
    // Target 10.0.2.2 is on-link: the default policy blanks the gateway.
    assert!(
        out.contains("ip 10.0.2.15/24 origin 3 (dhcp) gateway - dns 10.0.2.3 - dhcp 10.0.2.2"),
        "{out}"
    );
    assert!(
        out.contains("address fd00::2 port 3261 lun 256 nic 1"),
        "{out}"
    );
    assert!(!out.contains("0123456789ab"), "secrets are not printed");

    let (code, out, _) = run(bin().args(["ibft", "dump", "--json"]).arg(&table));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["header"]["oem_id"], "ISBOOT");
    assert_eq!(v["nics"][1]["ip"], "fd00::15");
    assert_eq!(v["nics"][1]["prefix"], 64);
    assert_eq!(v["targets"][0]["chap_type"], 2);
    assert_eq!(v["targets"][0]["lun_bytes"], "0001000000000000");
    assert_eq!(v["targets"][1]["lun_bytes"], "4100000000000000");
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);

    let (code, out, _) = run(bin().args(["ibft", "lint"]).arg(&table));
    assert_eq!((code, out.as_str()), (0, ""));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn lint_exit_codes() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ibft/tests/data");
    let (code, out, _) = run(bin()
        .args(["ibft", "lint"])
        .arg(data.join("lkml-3nic-3target.bin")));
    assert_eq!(code, 1);
    assert!(
        out.lines().any(|l| l.starts_with("IBFT021 error nic2")),
        "{out}"
    );
    assert!(
        out.lines().all(|l| l.contains(" -- ")),
        "every finding explains itself"
    );

    let dir = scratch("exit");
    // Short secret and compat warnings only: exit 3.
    let (code, err, table) = build(&dir, &CLEAN.replace("0123456789ab", "short"));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("IBFT025"),
        "build notes what consumers trip over: {err}"
    );
    let (code, out, _) = run(bin().args(["ibft", "lint", "--json"]).arg(&table));
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["code"], "IBFT025");
    assert_eq!(v[0]["field"], "CHAP secret");

    let (code, _, err) = run(bin().args(["ibft", "lint"]).arg(dir.join("missing.bin")));
    assert_eq!(code, 2);
    assert!(
        err.starts_with("iscsi-boot: ") && err.contains("missing.bin") && err.lines().count() == 1,
        "{err}"
    );
    let (code, out, _) = run(bin().args(["ibft", "dump"]).arg(data.join("fwts-0002.bin")));
    assert_eq!(code, 0, "broken tables are still dumped");
    assert!(out.contains("IBFT004 error checksum wrong"), "{out}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_config_errors_name_the_key() {
    let dir = scratch("badcfg");
    let cases = [
        (CLEAN.replace("vlan = 0", "vlan = \"zero\""), "nic[0].vlan"),
        (
            CLEAN.replace("hostname = \"node1\"", "hostnme = \"node1\""),
            "hostnme",
        ),
        (
            CLEAN.replace("ip = \"fd00::15/64\"", "ip = \"fd00::15\""),
            "nic[1].ip",
        ),
        (
            CLEAN.replace("52:54:00:12:34:02", "52:54:00:12:34:01"),
            "nic[1]",
        ),
        (
            CLEAN.replace(
                "gateway_policy = \"omit-when-on-link\"",
                "gateway_policy = \"sometimes\"",
            ),
            "table.gateway_policy",
        ),
        (
            CLEAN.replace(
                "root_path = \"iscsi:10.0.2.2",
                "root_path = \"iscsi:server.example",
            ),
            "target[0].root_path",
        ),
        (
            CLEAN.replace("oem_id = \"ISBOOT\"", "oem_id = \"TOOLONG\""),
            "oem_id",
        ),
        ("[initiator\nname = 1".to_string(), "line 1"),
    ];
    for (toml, key) in cases {
        let (code, err, _) = build(&dir, &toml);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(key), "`{key}` not named in: {err}");
        assert_eq!(err.lines().count(), 1, "one-line error: {err}");
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn system_mode_reads_sysfs_and_cross_checks_macs() {
    let dir = scratch("sysfs");
    let (code, err, table) = build(&dir, CLEAN);
    assert_eq!(code, 0, "{err}");
    let sys = dir.join("sys");
    fs::create_dir_all(sys.join("firmware/acpi/tables")).unwrap();
    fs::copy(&table, sys.join("firmware/acpi/tables/iBFT")).unwrap();
    let port = sys.join("bus/pci/devices/0000:00:03.0/net/ibfttest9");
    fs::create_dir_all(&port).unwrap();
    fs::write(port.join("address"), "52:54:00:12:34:01\n").unwrap();

    let (code, out, err) = run(bin()
        .args(["ibft", "dump", "--system"])
        .env("ISCSI_BOOT_SYSFS", &sys));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name iqn.2026-11.org.example:node1"));
    // Matching MAC; the interface does not exist here, so its addresses cannot be told.
    let (code, out, _) = run(bin()
        .args(["ibft", "lint", "--system"])
        .env("ISCSI_BOOT_SYSFS", &sys));
    assert_eq!((code, out.as_str()), (0, ""));

    // A second port the table does not describe.
    let other = sys.join("bus/pci/devices/0000:00:07.0/net/ibfttest8");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("address"), "52:54:00:12:34:07\n").unwrap();
    let (code, out, _) = run(bin()
        .args(["ibft", "lint", "--system"])
        .env("ISCSI_BOOT_SYSFS", &sys));
    assert_eq!(code, 3);
    assert!(
        out.starts_with("IBFT103 warning port ibfttest8 (PCI 00:07.0) has no NIC record"),
        "{out}"
    );
    fs::remove_dir_all(sys.join("bus/pci/devices/0000:00:07.0")).unwrap();

    fs::write(port.join("address"), "52:54:00:99:99:99\n").unwrap();
    let (code, out, _) = run(bin()
        .args(["ibft", "lint", "--system"])
        .env("ISCSI_BOOT_SYSFS", &sys));
    assert_eq!(code, 1);
    assert!(out.starts_with("IBFT101 error nic0: MAC 52:54:00:12:34:01, but PCI 00:03.0 (ibfttest9) has 52:54:00:99:99:99"), "{out}");

    fs::remove_dir_all(sys.join("firmware")).unwrap();
    let (code, _, err) = run(bin()
        .args(["ibft", "lint", "--system"])
        .env("ISCSI_BOOT_SYSFS", &sys));
    assert_eq!(code, 2);
    assert!(err.contains("no iBFT"), "{err}");
    fs::remove_dir_all(dir).unwrap();
}
