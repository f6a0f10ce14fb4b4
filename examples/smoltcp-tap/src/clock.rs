//! A host clock that idles by waiting on the TAP file descriptor.

use initiator::time::Instant;
use smoltcp::phy::TunTapInterface;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// Monotonic time since start; idle time is spent in `select` on the TAP.
#[derive(Debug)]
pub struct TapClock {
    start: std::time::Instant,
    fd: RawFd,
}

impl TapClock {
    /// A clock that wakes up when `tap` has a frame.
    pub fn new(tap: &TunTapInterface) -> Self {
        TapClock {
            start: std::time::Instant::now(),
            fd: tap.as_raw_fd(),
        }
    }
}

impl netstack_adapter::Clock for TapClock {
    fn now(&mut self) -> Instant {
        Instant::from_micros(initiator::time::saturating_micros(self.start.elapsed()))
    }

    fn idle(&mut self, timeout: Duration) {
        let timeout = netstack_adapter::time::duration_to_smoltcp(timeout);
        // An error here only means we poll again sooner.
        let _ = smoltcp::phy::wait(self.fd, Some(timeout));
    }
}
