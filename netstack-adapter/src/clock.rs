//! The clock source a [`Port`](crate::Port) reads, and how it idles between polls.

use core::time::Duration;
use initiator::time::Instant;

/// A monotonic clock plus a way to pass idle time.
///
/// The protocol crates never read a clock; the adapter asks this trait instead. Firmware usually
/// busy-polls (the default [`Clock::idle`] returns at once); a host program can sleep on the
/// device's file descriptor instead.
///
/// Any `FnMut() -> Instant` is a clock that busy-polls:
/// ```
/// use netstack_adapter::Clock;
/// let mut ticks = 0u64;
/// let mut clock = move || { ticks += 1; initiator::time::Instant::from_millis(ticks) };
/// assert_eq!(Clock::now(&mut clock).as_micros(), 1000);
/// ```
pub trait Clock {
    /// The current time.
    fn now(&mut self) -> Instant;

    /// Called when the stack has nothing to do for up to `timeout` (or until a frame arrives).
    /// Returning early is always allowed.
    fn idle(&mut self, timeout: Duration) {
        let _ = timeout;
    }
}

impl<F: FnMut() -> Instant> Clock for F {
    fn now(&mut self) -> Instant {
        self()
    }
}
