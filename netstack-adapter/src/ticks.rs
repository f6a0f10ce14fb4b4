//! Microseconds from a free-running tick counter (such as the x86 timestamp counter) whose
//! frequency was measured once: a multiply and a shift per reading, no division and no I/O.

/// Converts raw counter readings to monotonic microseconds since the first reading.
///
/// The scale is a 32.32 fixed-point microseconds-per-tick factor, truncated, so the clock can
/// only run slow, never fast (timeouts run slightly long rather than short). A reading below
/// the previous one (a counter reset or a different CPU's counter) does not move time back.
///
/// ```
/// use netstack_adapter::ticks::TickScale;
/// let mut clock = TickScale::new(2_000_000_000, 1_000).unwrap(); // 2 GHz, first tick 1000
/// let one_second = clock.micros(1_000 + 2_000_000_000);
/// assert!((999_999..=1_000_000).contains(&one_second)); // truncated: slow, never fast
/// assert_eq!(clock.micros(5), one_second); // never backwards
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickScale {
    /// Microseconds per tick, times 2^32.
    micros_per_tick_q32: u64,
    start: u64,
    last: u64,
}

/// Slowest counter accepted: below this, one tick is more than a microsecond.
pub const MIN_HZ: u64 = 1_000_000;

impl TickScale {
    /// A clock for a counter ticking `hz` times a second, whose current reading is `start`.
    /// `None` when `hz` is below [`MIN_HZ`] (a counter that did not tick while measured).
    pub fn new(hz: u64, start: u64) -> Option<Self> {
        if hz < MIN_HZ {
            return None;
        }
        let q32 = (1_000_000u128 << 32) / u128::from(hz);
        Some(TickScale {
            micros_per_tick_q32: u64::try_from(q32).ok()?,
            start,
            last: start,
        })
    }

    /// Microseconds from `start` to the reading `raw` (or to the latest earlier reading, if
    /// `raw` is behind it).
    pub fn micros(&mut self, raw: u64) -> u64 {
        self.last = self.last.max(raw);
        let ticks = u128::from(self.last - self.start);
        let micros = (ticks * u128::from(self.micros_per_tick_q32)) >> 32;
        u64::try_from(micros).unwrap_or(u64::MAX)
    }
}

/// The frequency of a counter that advanced `ticks` while at least `micros` microseconds
/// passed (a firmware delay waits at least as long as asked): an upper bound, so a clock built
/// on it runs slow rather than fast. `None` for a zero interval.
///
/// ```
/// assert_eq!(netstack_adapter::ticks::hz_from(30_000_000, 10_000), Some(3_000_000_000));
/// ```
pub fn hz_from(ticks: u64, micros: u64) -> Option<u64> {
    if micros == 0 {
        return None;
    }
    u64::try_from(u128::from(ticks) * 1_000_000 / u128::from(micros)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_a_counter_that_did_not_tick() {
        assert_eq!(TickScale::new(0, 0), None);
        assert_eq!(TickScale::new(MIN_HZ - 1, 0), None);
        assert!(TickScale::new(MIN_HZ, 0).is_some());
        assert_eq!(hz_from(5, 0), None);
    }

    #[test]
    fn one_second_at_common_frequencies() {
        for hz in [
            MIN_HZ,
            3_579_545,
            1_000_000_000,
            2_457_308_000,
            5_000_000_000,
        ] {
            let mut c = TickScale::new(hz, 7).unwrap();
            let got = c.micros(7 + hz);
            // Truncation makes the clock slow by at most about one part in a million here.
            assert!((999_999..=1_000_000).contains(&got), "{hz} Hz: {got}");
        }
    }

    proptest! {
        #[test]
        fn never_fast_and_slow_by_at_most_the_scale_truncation(
            hz in MIN_HZ..=20_000_000_000u64,
            start in any::<u64>(),
            elapsed in 0u64..=1u64 << 50,
        ) {
            let mut c = TickScale::new(hz, start).unwrap();
            let raw = start.wrapping_add(elapsed).max(start);
            let ticks = raw - start;
            let exact = u128::from(ticks) * 1_000_000 / u128::from(hz);
            let got = u128::from(c.micros(raw));
            prop_assert!(got <= exact);
            // The factor is truncated by less than one part in 2^32 of a microsecond per tick:
            // relative error below hz / (10^6 * 2^32), 0.7 ppm at 3 GHz.
            let bound = exact * u128::from(hz) / (1_000_000u128 << 32) + 1;
            prop_assert!(exact - got <= bound, "{} > {}", exact - got, bound);
        }

        #[test]
        fn monotonic(hz in MIN_HZ..=10_000_000_000u64, readings in prop::collection::vec(any::<u64>(), 1..20)) {
            let mut c = TickScale::new(hz, readings[0]).unwrap();
            let mut prev = 0;
            for r in readings {
                let now = c.micros(r);
                prop_assert!(now >= prev);
                prev = now;
            }
        }
    }
}
