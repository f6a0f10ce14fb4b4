//! The smoltcp path against the std-TCP path to the same target: a fresh network namespace
//! holds tgtd on 10.77.0.1 (the kernel side of a TAP device); `smoltcp-tap` reads the LUN
//! through the TAP with its own TCP/IP stack, `iscsi-boot read` through the namespace's kernel
//! TCP. Only addresses inside that namespace are used.

use super::timed;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TAP: &str = "tap0";
const HOST_ADDR: &str = "10.77.0.1";
const PORT: u16 = 3260;
const TARGET: &str = "iqn.2026-11.org.example.iscsi-boot:netns-bench";

/// TAP MTUs the smoltcp path runs at: Ethernet's standard frame, and the jumbo frame iSCSI
/// networks are usually built for. Under 1,500 bytes most of the smoltcp process's time is
/// the kernel's, not smoltcp's: cutting tgtd's large TCP sends into frames and one `read` per
/// frame.
pub(super) const TAP_MTUS: [u32; 2] = [1500, 9000];

/// Throughput samples (MiB/s, whole process from start to exit) of each path.
pub(super) struct Paths {
    /// One list per entry of [`TAP_MTUS`].
    pub(super) smoltcp: [Vec<f64>; TAP_MTUS.len()],
    pub(super) std_tcp: Vec<f64>,
    pub(super) lun_mib: u64,
}

/// The namespace, its tgtd and its backing file; all removed on drop.
struct Netns {
    name: String,
    tgtd: Option<Child>,
    control: String,
    backing: PathBuf,
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(mut t) = self.tgtd.take() {
            let _ = t.kill();
            let _ = t.wait();
        }
        for suffix in ["", ".lock"] {
            let _ = std::fs::remove_file(format!("/var/run/tgtd/socket.{}{suffix}", self.control));
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_file(&self.backing);
    }
}

impl Netns {
    fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut cmd = Command::new("ip");
        cmd.args(["-n", &self.name]).args(args);
        crate::run_with(&mut cmd)
    }

    fn exec(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// The arguments of `ip` that run `program args` in the namespace (for [`timed::run`]).
    fn exec_args(&self, program: &Path, args: &[&str]) -> Vec<String> {
        ["netns", "exec", &self.name]
            .iter()
            .map(|s| s.to_string())
            .chain([program.to_string_lossy().into_owned()])
            .chain(args.iter().map(|a| a.to_string()))
            .collect()
    }

    fn tgtadm(&self, args: &[&str]) -> Result<(), String> {
        crate::run_quiet(
            self.exec("tgtadm")
                .args(["-C", &self.control, "--lld", "iscsi"])
                .args(args),
        )
    }
}

/// Builds `smoltcp-tap` (release), sets up the namespace and alternates the two readers.
pub(super) fn measure(ours: &Path, rounds: usize, lun_mib: u64) -> Result<Paths, String> {
    crate::run(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "smoltcp-tap",
            "--bin",
            "smoltcp-tap",
        ],
    )?;
    let tap_bin = crate::workspace_root().join("target/release/smoltcp-tap");
    let pid = std::process::id();
    let mut ns = Netns {
        name: format!("iscsi-boot-bench-{pid}"),
        tgtd: None,
        control: (20_000 + pid % 10_000).to_string(),
        backing: PathBuf::from(format!("/dev/shm/iscsi-boot-bench-{pid}-netns.img")),
    };
    crate::run("ip", &["netns", "add", &ns.name])?;
    ns.ip(&["link", "set", "lo", "up"])?;
    ns.ip(&["tuntap", "add", "dev", TAP, "mode", "tap"])?;
    ns.ip(&["addr", "add", &format!("{HOST_ADDR}/24"), "dev", TAP])?;
    ns.ip(&["link", "set", TAP, "up"])?;
    let chunk: Vec<u8> = (0..1usize << 20).map(|i| (i % 241) as u8).collect();
    let image: Vec<u8> = chunk.repeat(lun_mib as usize);
    std::fs::write(&ns.backing, image).map_err(|e| format!("{}: {e}", ns.backing.display()))?;
    let tgtd = ns
        .exec("tgtd")
        .args(["-f", "-C", &ns.control, "--iscsi"])
        .arg(format!("portal={HOST_ADDR}:{PORT}"))
        .env(
            crate::tgtd::MALLOC_TUNABLES.0,
            crate::tgtd::MALLOC_TUNABLES.1,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("tgtd in the namespace: {e}"))?;
    ns.tgtd = Some(tgtd);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ns.tgtadm(&["--op", "show", "--mode", "system"]).is_err() {
        if Instant::now() > deadline {
            return Err("tgtd in the namespace did not come up".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    ns.tgtadm(&[
        "--op", "new", "--mode", "target", "--tid", "1", "-T", TARGET,
    ])?;
    let backing = ns.backing.to_string_lossy().into_owned();
    let lun = [
        "--op",
        "new",
        "--mode",
        "logicalunit",
        "--tid",
        "1",
        "--lun",
        "1",
        "-b",
    ];
    ns.tgtadm(&[&lun[..], &[backing.as_str()]].concat())?;
    ns.tgtadm(&[
        "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
    ])?;

    let url = format!("iscsi://{HOST_ADDR}:{PORT}/{TARGET}/1");
    let blocks = ((lun_mib << 20) / 512).to_string();
    let out_file = format!("/dev/shm/iscsi-boot-bench-{pid}-netns-out.img");
    let ip = Path::new("ip");
    let mib = lun_mib as f64;
    let limit = Duration::from_secs(120);
    let mut paths = Paths {
        smoltcp: Default::default(),
        std_tcp: Vec::new(),
        lun_mib,
    };
    let result = (|| {
        for round in 1..=rounds {
            for (mtu, samples) in TAP_MTUS.iter().zip(&mut paths.smoltcp) {
                ns.ip(&["link", "set", TAP, "mtu", &mtu.to_string()])?;
                let a = smoltcp_read(&ns, ip, &tap_bin, &url, &blocks, limit)?;
                eprintln!(
                    "  netns round {round}: smoltcp, MTU {mtu}: {:8.1} MiB/s",
                    mib / a
                );
                samples.push(mib / a);
            }
            let std_args = ns.exec_args(ours, &["read", &url, "-o", &out_file]);
            let b = mib / timed::run(ip, &std_args, limit)?.usage.wall;
            eprintln!("  netns round {round}: std TCP: {b:8.1} MiB/s");
            paths.std_tcp.push(b);
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&out_file);
    drop(ns);
    result.map(|()| paths)
}

/// Seconds `smoltcp-tap` takes to read the LUN (`blocks` of 512 bytes) in namespace `ns`.
fn smoltcp_read(
    ns: &Netns,
    ip: &Path,
    tap_bin: &Path,
    url: &str,
    blocks: &str,
    limit: Duration,
) -> Result<f64, String> {
    let args = ns.exec_args(
        tap_bin,
        &[
            "--tap",
            TAP,
            "--ip",
            "10.77.0.2/24",
            "--target",
            url,
            "--blocks",
            blocks,
        ],
    );
    let t = timed::run(ip, &args, limit)?;
    if !t.stdout.contains("read ") {
        return Err(format!("smoltcp-tap did not read:\n{}", t.stdout));
    }
    Ok(t.usage.wall)
}
