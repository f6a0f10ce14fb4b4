//! Running one measured command: under GNU `time` (for the CPU seconds of the command and its
//! children), in its own process group (so a deadline reaches the command, not only `time`).

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run cost: wall-clock, user and system seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Usage {
    pub(crate) wall: f64,
    pub(crate) user: f64,
    pub(crate) sys: f64,
}

impl Usage {
    /// User + system seconds.
    pub(crate) fn cpu(&self) -> f64 {
        self.user + self.sys
    }
}

/// A finished run: its stdout and what it cost.
pub(crate) struct Timed {
    pub(crate) stdout: String,
    pub(crate) usage: Usage,
}

/// Runs `program args` under `/usr/bin/time` with a deadline; on expiry the process group gets
/// SIGTERM (iscsi-perf then prints its average and exits), 10 s later SIGKILL.
pub(crate) fn run(program: &Path, args: &[String], limit: Duration) -> Result<Timed, String> {
    let usage_file = std::env::temp_dir().join(format!(
        "iscsi-boot-bench-usage-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%e %U %S", "-o"])
        .arg(&usage_file)
        .arg(program)
        .args(args)
        .process_group(0);
    let shown = format!("{} {}", program.display(), args.join(" "));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{shown}` (needs /usr/bin/time, package time): {e}"))?;
    let group = format!("-{}", child.id());
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        pipe.map(|mut p| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = p.read_to_string(&mut s);
                s
            })
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let mut termed = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        let waited = started.elapsed();
        if waited > limit && !termed {
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            termed = true;
        } else if waited > limit + Duration::from_secs(10) {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            let _ = std::fs::remove_file(&usage_file);
            return Err(format!("`{shown}` did not finish"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.and_then(|r| r.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|r| r.join().ok()).unwrap_or_default();
    let usage_text = std::fs::read_to_string(&usage_file).unwrap_or_default();
    let _ = std::fs::remove_file(&usage_file);
    if !status.success() && !termed {
        return Err(format!("`{shown}` failed ({status}): {stderr}{stdout}"));
    }
    let usage = parse_usage(&usage_text)
        .ok_or_else(|| format!("no usage from /usr/bin/time for `{shown}`: {usage_text:?}"))?;
    Ok(Timed {
        stdout: stdout + &stderr,
        usage,
    })
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The last line of GNU time's `-f "%e %U %S"` output (earlier lines may say the command
/// was killed by a signal).
fn parse_usage(text: &str) -> Option<Usage> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut n = line.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some(Usage {
        wall: n.next()??,
        user: n.next()??,
        sys: n.next()??,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_from_the_last_line() {
        let text = "Command terminated by signal 15\n5.01 0.42 1.37\n";
        let u = parse_usage(text).unwrap();
        assert_eq!((u.wall, u.user, u.sys), (5.01, 0.42, 1.37));
        assert!(parse_usage("garbage").is_none());
    }
}
