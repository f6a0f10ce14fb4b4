//! The boot storm: many sessions to one target at once, as when a rack of diskless servers
//! powers on together.
//!
//! Each session runs on its own thread with its own `Client` (and so its own random ISID):
//! it logs in, runs the bench workload, and logs out. Every blocking step is bounded by the
//! session timeouts, so a failed session ends its thread without holding up the others.

use super::TargetArgs;
use super::failure::{Cause, Failure};
use super::session;
use super::transfer;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The workload each session of a storm runs.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// How long each session runs the bench loop after its login.
    pub duration: Duration,
    /// Bytes per command.
    pub block_size: u64,
    /// Commands in flight per session.
    pub queue_depth: u32,
    /// Write zeros instead of reading.
    pub write: bool,
}

/// Login latency percentiles, in milliseconds (nearest-rank).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (milliseconds); all zero when there are none.
    pub fn of(samples: &[f64]) -> Percentiles {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: usize| -> f64 {
            if sorted.is_empty() {
                return 0.0;
            }
            // Nearest rank: the smallest value with at least p% of the samples at or below it.
            let n = sorted.len();
            let k = (p * n).div_ceil(100).clamp(1, n);
            sorted[k - 1]
        };
        Percentiles {
            p50: rank(50),
            p90: rank(90),
            p99: rank(99),
            max: rank(100),
        }
    }
}

/// Failed sessions of one cause, with the first message seen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FailureKind {
    /// The cause's label (see `Cause::label`).
    pub cause: &'static str,
    /// Sessions that failed with this cause.
    pub count: u32,
    /// The first of their errors.
    pub first_error: String,
}

/// What a storm did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StormReport {
    /// `read` or `write`.
    pub mode: &'static str,
    /// Sessions started.
    pub sessions: u32,
    /// Sessions that logged in, ran the workload and logged out.
    pub completed: u32,
    /// Sessions that failed at any step.
    pub failed: u32,
    /// The failures by cause.
    pub failures: Vec<FailureKind>,
    /// Wall time from the first session's workload start to the last one's end, in seconds.
    pub seconds: f64,
    /// Bytes moved by all sessions.
    pub bytes: u64,
    /// Commands completed by all sessions.
    pub ios: u64,
    /// Aggregate megabytes (10^6 bytes) per second over `seconds`.
    pub mb_per_s: f64,
    /// Aggregate commands per second over `seconds`.
    pub iops: f64,
    /// Login latency (connect, login, INQUIRY, READ CAPACITY) of the sessions that logged in.
    pub login_ms: Percentiles,
}

/// One session's outcome.
struct SessionOutcome {
    login: Option<Duration>,
    work: Option<(Instant, Instant, transfer::BenchResult)>,
    error: Option<Failure>,
}

/// Runs `sessions` sessions against `target` at once and gathers their results.
pub fn run(target: &TargetArgs, sessions: u32, workload: Workload) -> StormReport {
    let sessions = sessions.max(1);
    let start_line = Arc::new(Barrier::new(sessions as usize));
    let threads: Vec<_> = (0..sessions)
        .map(|i| {
            let target = target.clone();
            let start_line = Arc::clone(&start_line);
            std::thread::Builder::new()
                .name(format!("storm-{i}"))
                .spawn(move || {
                    start_line.wait();
                    one_session(&target, workload)
                })
        })
        .collect();
    let outcomes: Vec<SessionOutcome> = threads
        .into_iter()
        .map(|spawned| {
            let failed = |msg: String| SessionOutcome {
                login: None,
                work: None,
                error: Some(Failure::new(Cause::Other, msg)),
            };
            match spawned {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|_| failed("session thread panicked".to_owned())),
                Err(e) => failed(format!("cannot start a session thread: {e}")),
            }
        })
        .collect();
    summarize(sessions, workload.write, &outcomes)
}

/// Logs in, runs the workload, logs out; records how far it got.
fn one_session(target: &TargetArgs, workload: Workload) -> SessionOutcome {
    let mut outcome = SessionOutcome {
        login: None,
        work: None,
        error: None,
    };
    let began = Instant::now();
    let mut dev = match session::open(&target.target, &target.session, workload.queue_depth) {
        Ok(dev) => dev,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    outcome.login = Some(began.elapsed());
    let work_start = Instant::now();
    match transfer::bench(
        &mut *dev,
        workload.duration,
        workload.block_size,
        workload.queue_depth,
        workload.write,
    ) {
        Ok(r) => outcome.work = Some((work_start, Instant::now(), r)),
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    }
    if let Err(e) = dev.close() {
        outcome.error = Some(e);
    }
    outcome
}

fn summarize(sessions: u32, write: bool, outcomes: &[SessionOutcome]) -> StormReport {
    let mut failures: Vec<FailureKind> = Vec::new();
    for e in outcomes.iter().filter_map(|o| o.error.as_ref()) {
        let label = e.cause.label();
        match failures.iter_mut().find(|k| k.cause == label) {
            Some(kind) => kind.count += 1,
            None => failures.push(FailureKind {
                cause: label,
                count: 1,
                first_error: e.message.clone(),
            }),
        }
    }
    let failed: u32 = failures.iter().map(|k| k.count).sum();
    let logins: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.login)
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    let work: Vec<_> = outcomes.iter().filter_map(|o| o.work.as_ref()).collect();
    let bytes = work.iter().map(|(_, _, r)| r.bytes).sum();
    let ios = work.iter().map(|(_, _, r)| r.ios).sum();
    let first = work.iter().map(|(s, _, _)| *s).min();
    let last = work.iter().map(|(_, e, _)| *e).max();
    let seconds = match (first, last) {
        (Some(s), Some(e)) => e.duration_since(s).as_secs_f64(),
        _ => 0.0,
    };
    let rate = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
    StormReport {
        mode: if write { "write" } else { "read" },
        sessions,
        completed: sessions.saturating_sub(failed),
        failed,
        failures,
        seconds,
        bytes,
        ios,
        mb_per_s: rate(bytes as f64) / 1e6,
        iops: rate(ios as f64),
        login_ms: Percentiles::of(&logins),
    }
}

impl StormReport {
    /// The report for people, one fact a line.
    pub fn human(&self) -> String {
        let mut out = format!(
            "sessions: {} completed, {} failed of {}\n\
             {}: {:.1} MB/s, {:.0} IOPS aggregate ({:.1} s)\n\
             login: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
            self.completed,
            self.failed,
            self.sessions,
            self.mode,
            self.mb_per_s,
            self.iops,
            self.seconds,
            self.login_ms.p50,
            self.login_ms.p90,
            self.login_ms.p99,
            self.login_ms.max,
        );
        for kind in &self.failures {
            out.push_str(&format!(
                "failed ({}): {} sessions, first: {}\n",
                kind.cause, kind.count, kind.first_error
            ));
        }
        out
    }

    /// The failure the process exits with: the first kind seen, if any session failed.
    pub fn failure(&self) -> Option<Failure> {
        let first = self.failures.first()?;
        let cause = CAUSES
            .into_iter()
            .find(|c| c.label() == first.cause)
            .unwrap_or(Cause::Other);
        Some(Failure::new(
            cause,
            format!(
                "{} of {} sessions failed; first: {}",
                self.failed, self.sessions, first.first_error
            ),
        ))
    }
}

const CAUSES: [Cause; 10] = [
    Cause::Other,
    Cause::Usage,
    Cause::ConnectionRefused,
    Cause::Authentication,
    Cause::NotFound,
    Cause::RedirectLoop,
    Cause::Digest,
    Cause::Timeout,
    Cause::Scsi,
    Cause::LocalIo,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        // 1..=100: p50 is the 50th value, p90 the 90th, p99 the 99th.
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = Percentiles::of(&samples);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
        // Four samples: ranks ceil(2) = 2, ceil(3.6) = 4, ceil(3.96) = 4.
        let p = Percentiles::of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (2.0, 4.0, 4.0, 4.0));
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
    }

    #[test]
    fn failures_are_grouped_by_cause_keeping_the_first_message() {
        let fail = |cause, msg: &str| SessionOutcome {
            login: None,
            work: None,
            error: Some(Failure::new(cause, msg)),
        };
        let outcomes = [
            fail(Cause::Timeout, "first timeout"),
            fail(Cause::ConnectionRefused, "refused"),
            fail(Cause::Timeout, "second timeout"),
        ];
        let r = summarize(5, false, &outcomes);
        assert_eq!((r.completed, r.failed), (2, 3));
        assert_eq!((r.seconds, r.mb_per_s, r.iops), (0.0, 0.0, 0.0));
        assert_eq!(r.failures.len(), 2);
        assert_eq!(r.failures[0].cause, "timeout");
        assert_eq!(r.failures[0].count, 2);
        assert_eq!(r.failures[0].first_error, "first timeout");
        let f = r.failure().unwrap();
        assert_eq!(f.cause, Cause::Timeout);
        assert!(f.message.starts_with("3 of 5 sessions failed"));
    }
}
