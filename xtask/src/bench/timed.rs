//! Running one measured command in its own process group (so a deadline reaches the command's
//! children too), timing it and reading its CPU seconds, and its children's, from the kernel's
//! resource usage in microseconds (GNU `time` prints hundredths, 2 % of a 3-second read).

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::signal::{Signal, killpg};
use nix::sys::time::TimeValLike as _;
use nix::unistd::Pid;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
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

/// How long a command has to exit after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);

/// Runs `program args` with a deadline; on expiry the process group gets SIGTERM (iscsi-perf
/// then prints its average and exits), [`TERM_GRACE`] later SIGKILL.
///
/// The CPU figures are the difference of `getrusage(RUSAGE_CHILDREN)` across the run, which
/// counts every child this process reaped meanwhile: the bench runs its commands one at a time,
/// so that is the command and whatever it waited for itself.
pub(crate) fn run(program: &Path, args: &[String], limit: Duration) -> Result<Timed, String> {
    let shown = format!("{} {}", program.display(), args.join(" "));
    let before = children_usage()?;
    // From before the fork to after the reap, as GNU `time` counts it.
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let group = Pid::from_raw(i32::try_from(child.id()).map_err(|e| e.to_string())?);
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
    // A thread blocks in `wait`, so the end is seen when it happens rather than at a poll.
    let (ended_tx, ended) = mpsc::channel::<(std::io::Result<ExitStatus>, Instant)>();
    let reaper = std::thread::spawn(move || {
        let status = child.wait();
        let _ = ended_tx.send((status, Instant::now()));
    });
    let mut termed = false;
    let (status, end) = match ended.recv_timeout(limit) {
        Ok(done) => done,
        Err(_) => {
            let _ = killpg(group, Signal::SIGTERM);
            termed = true;
            match ended.recv_timeout(TERM_GRACE) {
                Ok(done) => done,
                Err(_) => {
                    let _ = killpg(group, Signal::SIGKILL);
                    let _ = reaper.join();
                    return Err(format!("`{shown}` did not finish"));
                }
            }
        }
    };
    let _ = reaper.join();
    let after = children_usage()?;
    let status = status.map_err(|e| format!("waiting for `{shown}`: {e}"))?;
    let stdout = out.and_then(|r| r.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|r| r.join().ok()).unwrap_or_default();
    if !status.success() && !termed {
        return Err(format!("`{shown}` failed ({status}): {stderr}{stdout}"));
    }
    Ok(Timed {
        stdout: stdout + &stderr,
        usage: Usage {
            wall: end.duration_since(started).as_secs_f64(),
            user: after.user - before.user,
            sys: after.sys - before.sys,
        },
    })
}

/// User and system seconds of every child reaped so far (`wall` unused).
fn children_usage() -> Result<Usage, String> {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).map_err(|e| format!("getrusage: {e}"))?;
    let seconds = |t: nix::sys::time::TimeVal| t.num_microseconds() as f64 / 1e6;
    Ok(Usage {
        wall: 0.0,
        user: seconds(u.user_time()),
        sys: seconds(u.system_time()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The children's usage is process-wide: one test's command at a time, as in the bench.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn sh(script: &str, limit: Duration) -> Result<Timed, String> {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        run(
            Path::new("/bin/sh"),
            &["-c".to_string(), script.to_string()],
            limit,
        )
    }

    #[test]
    fn a_short_command_costs_less_than_a_hundredth_and_more_than_nothing() {
        // GNU `time` would print 0.00 here: the kernel's figure is finer.
        let t = sh("echo hi", Duration::from_secs(30)).unwrap();
        assert_eq!(t.stdout, "hi\n");
        assert!(t.usage.cpu() > 0.0, "{:?}", t.usage);
        assert!(t.usage.cpu() < 0.05, "{:?}", t.usage);
        assert!(t.usage.wall < 5.0, "{:?}", t.usage);
    }

    #[test]
    fn sleeping_is_wall_time_not_cpu_time() {
        let t = sh("sleep 0.3", Duration::from_secs(30)).unwrap();
        assert!(t.usage.wall >= 0.3, "{:?}", t.usage);
        assert!(t.usage.cpu() < 0.1, "{:?}", t.usage);
    }

    #[test]
    fn a_busy_loop_costs_cpu_time_and_counts_its_children() {
        // The shell forks `true` each time round: their CPU is counted with the shell's.
        let t = sh(
            "i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done",
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(t.usage.cpu() > 0.01, "{:?}", t.usage);
        assert!(t.usage.cpu() <= t.usage.wall * 2.0 + 0.01, "{:?}", t.usage);
    }

    #[test]
    fn a_deadline_stops_the_whole_process_group() {
        // The shell's child `sleep` is in the same group and gets the SIGTERM too.
        let started = Instant::now();
        let t = sh("sleep 30; echo late", Duration::from_millis(200)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!t.stdout.contains("late"));
        assert!(t.usage.wall >= 0.2, "{:?}", t.usage);
    }

    #[test]
    fn a_failing_command_is_an_error_with_its_output() {
        let e = sh("echo why >&2; exit 3", Duration::from_secs(30))
            .err()
            .unwrap();
        assert!(e.contains("why"), "{e}");
    }
}
