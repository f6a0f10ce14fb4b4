//! A [`Clock`] for boot services: the CPU's timestamp counter on x86_64, else the firmware's
//! timestamp protocol when it has one, else time counted from `Stall`.

use crate::clock::Clock;
use crate::ticks::TickScale;
use core::time::Duration;
use initiator::time::{Instant, saturating_micros};
use uefi::boot::{self, ScopedProtocol};
use uefi::proto::misc::Timestamp;

/// Longest single `Stall` while idling: short, so frames are picked up promptly.
const IDLE_STEP: Duration = Duration::from_micros(50);

/// Longest single spin on the timestamp counter while idling: the next poll of an idle SNP
/// (a memory read in a virtio driver) costs less than a `Stall`, so poll again soon.
const SPIN_STEP: u64 = 10;

/// Readings between two real-time-clock checks in counting mode (`GetTime` is slow).
pub const RTC_EVERY: u32 = 256;

/// Monotonic time in boot services.
///
/// On x86_64 readings come from the CPU's timestamp counter (`rdtsc`), its frequency measured
/// once against `Stall` (see [`tsc`]), and idling spins on it: no port I/O per reading or per
/// idle step. `Stall` and the timestamp protocol read a hardware timer through I/O ports
/// (OVMF: the ACPI PM timer), which under emulation costs an exit to the emulator per read and
/// slowed a polling receive loop down measurably (docs/sanboot.md "Read throughput").
///
/// Elsewhere, with `EFI_TIMESTAMP_PROTOCOL` (EDK2's TimestampDxe; OVMF does not ship it) readings come from
/// the firmware's counter, wrap-around handled. Without it, time advances by what is spent in
/// `Stall` while idling plus 1 µs per reading, and is pulled forward to the real-time clock
/// (`GetTime`, whole seconds) every [`RTC_EVERY`] readings: busy polling can make it lag by at
/// most about a second, never run fast, so timeouts run slightly long rather than short.
#[derive(Debug)]
pub struct FirmwareClock {
    tsc: Option<TickScale>,
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

/// The firmware's `EFI_TIMESTAMP_PROTOCOL` counter, when it has a usable one.
fn timestamp_counter() -> Option<Counter> {
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
    /// Uses the CPU's timestamp counter on x86_64, else the firmware's when it has one.
    pub fn new() -> Self {
        let tsc = tsc::hz().and_then(|hz| TickScale::new(hz, tsc::read()));
        let counter = if tsc.is_some() {
            None
        } else {
            timestamp_counter()
        };
        let rtc_start = if tsc.is_none() && counter.is_none() {
            rtc_seconds()
        } else {
            None
        };
        FirmwareClock {
            tsc,
            counter,
            counted_micros: 0,
            rtc_start,
            readings: 0,
        }
    }

    /// Whether readings come from a hardware counter (the CPU's or the firmware's) rather than
    /// from counting `Stall`s.
    pub fn has_counter(&self) -> bool {
        self.tsc.is_some() || self.counter.is_some()
    }
}

impl Default for FirmwareClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FirmwareClock {
    fn now(&mut self) -> Instant {
        if let Some(scale) = &mut self.tsc {
            return Instant::from_micros(scale.micros(tsc::read()));
        }
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
        if let Some(scale) = &mut self.tsc {
            let step = saturating_micros(timeout).min(SPIN_STEP);
            let end = scale.micros(tsc::read()).saturating_add(step);
            while scale.micros(tsc::read()) < end {
                core::hint::spin_loop();
            }
            return;
        }
        let step = timeout.min(IDLE_STEP);
        boot::stall(step);
        if self.counter.is_none() {
            self.counted_micros = self.counted_micros.saturating_add(saturating_micros(step));
        }
    }
}

/// The x86_64 timestamp counter and its frequency, measured once per boot.
#[cfg(target_arch = "x86_64")]
mod tsc {
    use core::sync::atomic::{AtomicU64, Ordering};
    use core::time::Duration;
    use uefi::boot;

    /// One calibration `Stall`; the shortest of [`ROUNDS`] counts, since a delay can only
    /// overrun (an emulator descheduled mid-way), which would make the clock slow.
    const STALL: Duration = Duration::from_millis(2);
    const ROUNDS: usize = 3;

    /// The measured frequency; 0 until measured, 1 when unusable.
    static HZ: AtomicU64 = AtomicU64::new(0);

    /// The counter.
    pub fn read() -> u64 {
        // SAFETY: `rdtsc` exists on every x86_64 CPU, has no operands and only reads the
        // counter; UEFI runs at ring 0, where CR4.TSD cannot forbid it.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// Ticks per second, measured against `Stall` on first use (6 ms), or `None` if the
    /// counter does not advance usefully.
    pub fn hz() -> Option<u64> {
        let known = HZ.load(Ordering::Relaxed);
        if known == 0 {
            let fewest = (0..ROUNDS)
                .map(|_| {
                    let start = read();
                    boot::stall(STALL);
                    read().wrapping_sub(start)
                })
                .min()
                .unwrap_or(0);
            let micros = initiator::time::saturating_micros(STALL);
            let hz = crate::ticks::hz_from(fewest, micros)
                .filter(|&hz| hz >= crate::ticks::MIN_HZ)
                .unwrap_or(1);
            HZ.store(hz, Ordering::Relaxed);
            return (hz > 1).then_some(hz);
        }
        (known > 1).then_some(known)
    }
}

/// No timestamp counter to use on other architectures.
#[cfg(not(target_arch = "x86_64"))]
mod tsc {
    pub fn read() -> u64 {
        0
    }
    pub fn hz() -> Option<u64> {
        None
    }
}
