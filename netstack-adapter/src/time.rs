//! Conversions between the initiator's clock ([`initiator::time::Instant`]) and smoltcp's.
//!
//! Both count microseconds; the initiator's is unsigned (`u64`), smoltcp's signed (`i64`), so the
//! conversions saturate instead of wrapping: an instant before smoltcp's epoch becomes zero and one
//! beyond `i64::MAX` microseconds (~292 000 years) becomes `i64::MAX`.

use initiator::time::Instant;

/// Converts an initiator instant to a smoltcp instant.
///
/// ```
/// use netstack_adapter::time::to_smoltcp;
/// let t = initiator::time::Instant::from_millis(1500);
/// assert_eq!(to_smoltcp(t).total_micros(), 1_500_000);
/// ```
pub fn to_smoltcp(instant: Instant) -> smoltcp::time::Instant {
    let micros = i64::try_from(instant.as_micros()).unwrap_or(i64::MAX);
    smoltcp::time::Instant::from_micros(micros)
}

/// Converts a smoltcp instant to an initiator instant (negative instants become the epoch).
///
/// ```
/// use netstack_adapter::time::from_smoltcp;
/// let t = smoltcp::time::Instant::from_millis(7);
/// assert_eq!(from_smoltcp(t).as_micros(), 7000);
/// ```
pub fn from_smoltcp(instant: smoltcp::time::Instant) -> Instant {
    Instant::from_micros(u64::try_from(instant.total_micros()).unwrap_or(0))
}

/// Converts a smoltcp duration to a `core` duration.
pub fn duration_from_smoltcp(duration: smoltcp::time::Duration) -> core::time::Duration {
    core::time::Duration::from_micros(duration.total_micros())
}

/// Converts a `core` duration to a smoltcp duration, saturating at `u64::MAX` microseconds.
pub fn duration_to_smoltcp(duration: core::time::Duration) -> smoltcp::time::Duration {
    smoltcp::time::Duration::from_micros(initiator::time::saturating_micros(duration))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn saturates_at_the_edges() {
        assert_eq!(
            to_smoltcp(Instant::from_micros(u64::MAX)).total_micros(),
            i64::MAX
        );
        assert_eq!(
            from_smoltcp(smoltcp::time::Instant::from_micros(-5)),
            Instant::ZERO
        );
        assert_eq!(
            duration_to_smoltcp(core::time::Duration::MAX).total_micros(),
            u64::MAX
        );
    }

    proptest! {
        #[test]
        fn instant_round_trip(micros in 0u64..=i64::MAX as u64) {
            let t = Instant::from_micros(micros);
            prop_assert_eq!(from_smoltcp(to_smoltcp(t)), t);
            prop_assert_eq!(to_smoltcp(t).total_micros() as u64, micros);
        }

        #[test]
        fn duration_round_trip(micros in any::<u64>()) {
            let d = core::time::Duration::from_micros(micros);
            prop_assert_eq!(duration_from_smoltcp(duration_to_smoltcp(d)), d);
        }
    }
}
