//! A [`Clock`] for boot services: the firmware's timestamp counter when it has one, else time
//! counted from `Stall`.

use crate::clock::Clock;
use core::time::Duration;
use initiator::time::Instant;
use uefi::boot::{self, ScopedProtocol};
use uefi::proto::misc::Timestamp;

/// Longest single `Stall` while idling: short, so frames are picked up promptly.
const IDLE_STEP: Duration = Duration::from_micros(50);

/// Readings between two real-time-clock checks in counting mode (`GetTime` is slow).
pub const RTC_EVERY: u32 = 256;

/// Monotonic time in boot services.
///
/// With `EFI_TIMESTAMP_PROTOCOL` (EDK2's TimestampDxe; OVMF does not ship it) readings come from
/// the firmware's counter, wrap-around handled. Without it, time advances by what is spent in
/// `Stall` while idling plus 1 µs per reading, and is pulled forward to the real-time clock
/// (`GetTime`, whole seconds) every [`RTC_EVERY`] readings: busy polling can make it lag by at
/// most about a second, never run fast, so timeouts run slightly long rather than short.
#[derive(Debug)]
pub struct FirmwareClock {
    counter: Option<Counter>,
    /// Microseconds counted without a timestamp counter.
    counted_micros: u64,
    /// Seconds-of-month of the first real-time-clock reading, and readings since the last one.
    rtc_start: Option<u64>,
    readings: u32,
}

/// Seconds since the start of the month from the real-time clock (a month change only makes
/// the value smaller, which the monotonic maximum below ignores).
fn rtc_seconds() -> Option<u64> {
    let t = uefi::runtime::get_time().ok()?;
    let days = u64::from(t.day());
    let hms = (u64::from(t.hour()) * 60 + u64::from(t.minute())) * 60 + u64::from(t.second());
    Some(days * 86_400 + hms)
}

#[derive(Debug)]
struct Counter {
    protocol: ScopedProtocol<Timestamp>,
    frequency: u64,
    /// Counter values 0..=end_value; the counter wraps to 0 after end_value.
    end_value: u64,
    last: u64,
    ticks: u128,
}

impl FirmwareClock {
    /// Uses the timestamp counter when the firmware has one.
    pub fn new() -> Self {
        let counter = (|| {
            let handle = boot::get_handle_for_protocol::<Timestamp>().ok()?;
            let protocol = boot::open_protocol_exclusive::<Timestamp>(handle).ok()?;
            let properties = protocol.get_properties().ok()?;
            if properties.frequency == 0 || properties.end_value == 0 {
                return None;
            }
            let last = protocol.get_timestamp();
            Some(Counter {
                protocol,
                frequency: properties.frequency,
                end_value: properties.end_value,
                last,
                ticks: 0,
            })
        })();
        let rtc_start = if counter.is_none() {
            rtc_seconds()
        } else {
            None
        };
        FirmwareClock {
            counter,
            counted_micros: 0,
            rtc_start,
            readings: 0,
        }
    }

    /// Whether readings come from the firmware's timestamp counter.
    pub fn has_counter(&self) -> bool {
        self.counter.is_some()
    }
}

impl Default for FirmwareClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FirmwareClock {
    fn now(&mut self) -> Instant {
        match &mut self.counter {
            Some(c) => {
                let raw = c.protocol.get_timestamp().min(c.end_value);
                let delta = if raw >= c.last {
                    raw - c.last
                } else {
                    // Wrapped: the rest up to end_value, the step to 0, then raw.
                    c.end_value - c.last + 1 + raw
                };
                c.last = raw;
                c.ticks += u128::from(delta);
                let micros = c.ticks * 1_000_000 / u128::from(c.frequency);
                Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
            }
            None => {
                self.counted_micros = self.counted_micros.saturating_add(1);
                self.readings += 1;
                if self.readings >= RTC_EVERY {
                    self.readings = 0;
                    if let (Some(start), Some(now)) = (self.rtc_start, rtc_seconds()) {
                        let rtc_micros = now.saturating_sub(start).saturating_mul(1_000_000);
                        self.counted_micros = self.counted_micros.max(rtc_micros);
                    }
                }
                Instant::from_micros(self.counted_micros)
            }
        }
    }

    fn idle(&mut self, timeout: Duration) {
        let step = timeout.min(IDLE_STEP);
        boot::stall(step);
        if self.counter.is_none() {
            let micros = u64::try_from(step.as_micros()).unwrap_or(u64::MAX);
            self.counted_micros = self.counted_micros.saturating_add(micros);
        }
    }
}
