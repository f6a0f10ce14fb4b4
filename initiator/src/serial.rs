//! 32-bit serial number arithmetic (RFC 1982) for CmdSN, ExpCmdSN, MaxCmdSN, StatSN, DataSN, R2TSN.
//!
//! iSCSI sequence numbers wrap at 2³²; comparisons are only meaningful for numbers less than 2³¹
//! apart. Two numbers exactly 2³¹ apart are neither less nor greater than each other (RFC 1982
//! §3.2 leaves that case undefined), so both `lt` and `gt` return `false` for them.
//!
//! ```
//! use initiator::serial::SeqNum;
//! let near_wrap = SeqNum(0xffff_fffe);
//! assert!(near_wrap.lt(SeqNum(1)));
//! assert_eq!(near_wrap.wrapping_add(3), SeqNum(1));
//! ```

/// Half the sequence number space: the largest distance over which comparisons are defined.
const HALF: u32 = 1 << 31;

/// A 32-bit iSCSI sequence number compared with RFC 1982 serial number arithmetic.
///
/// Deliberately not `PartialOrd`: serial order is not transitive, so `<` would mislead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The raw value as sent on the wire.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// `self + n` modulo 2³² (RFC 1982 §3.1 allows adding up to 2³¹ - 1).
    #[must_use]
    pub const fn wrapping_add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// `self - n` modulo 2³².
    #[must_use]
    pub const fn wrapping_sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }

    /// The next sequence number.
    #[must_use]
    pub const fn next(self) -> SeqNum {
        self.wrapping_add(1)
    }

    /// Serial "less than" (RFC 1982 §3.2).
    #[must_use]
    pub const fn lt(self, other: SeqNum) -> bool {
        let diff = other.0.wrapping_sub(self.0);
        diff != 0 && diff < HALF
    }

    /// Serial "less than or equal".
    #[must_use]
    pub const fn le(self, other: SeqNum) -> bool {
        self.0 == other.0 || self.lt(other)
    }

    /// Serial "greater than" (RFC 1982 §3.2).
    #[must_use]
    pub const fn gt(self, other: SeqNum) -> bool {
        other.lt(self)
    }

    /// Serial "greater than or equal".
    #[must_use]
    pub const fn ge(self, other: SeqNum) -> bool {
        other.le(self)
    }

    /// How far `self` is ahead of `earlier` (`self - earlier` modulo 2³²).
    #[must_use]
    pub const fn distance_from(self, earlier: SeqNum) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Whether a non-immediate command numbered `self` may be sent now, given the target's last
    /// `ExpCmdSN` and `MaxCmdSN` (RFC 7143 §4.2.2.1): `exp ≤ self ≤ max` in serial order.
    ///
    /// `max == exp - 1` is a closed window (nothing may be sent); an invalid window (`max` more
    /// than one behind `exp`) admits nothing either.
    ///
    /// ```
    /// use initiator::serial::SeqNum;
    /// assert!(SeqNum(5).in_window(SeqNum(5), SeqNum(5)));
    /// assert!(!SeqNum(5).in_window(SeqNum(5), SeqNum(4))); // closed window
    /// ```
    #[must_use]
    pub const fn in_window(self, exp: SeqNum, max: SeqNum) -> bool {
        match window_len(exp, max) {
            Some(len) => self.distance_from(exp) < len,
            None => false,
        }
    }
}

/// Number of commands the window `[exp, max]` admits: `max - exp + 1`, 0 for a closed window
/// (`max == exp - 1`), `None` when `max` is further behind `exp` than that (RFC 7143 §4.2.2.1 says
/// such a MaxCmdSN/ExpCmdSN pair must be ignored).
///
/// ```
/// use initiator::serial::{SeqNum, window_len};
/// assert_eq!(window_len(SeqNum(10), SeqNum(17)), Some(8));
/// assert_eq!(window_len(SeqNum(10), SeqNum(9)), Some(0));
/// assert_eq!(window_len(SeqNum(10), SeqNum(8)), None);
/// ```
#[must_use]
pub const fn window_len(exp: SeqNum, max: SeqNum) -> Option<u32> {
    let len = max.0.wrapping_sub(exp.0).wrapping_add(1);
    if len <= HALF { Some(len) } else { None }
}

impl From<u32> for SeqNum {
    fn from(value: u32) -> Self {
        SeqNum(value)
    }
}

impl From<SeqNum> for u32 {
    fn from(value: SeqNum) -> Self {
        value.0
    }
}

impl core::fmt::Display for SeqNum {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::{SeqNum, window_len};
    use proptest::prelude::*;

    #[test]
    fn rfc1982_examples() {
        // RFC 1982 §3.2 with SERIAL_BITS = 32.
        assert!(SeqNum(0).lt(SeqNum(1)));
        assert!(SeqNum(0).lt(SeqNum(0x7fff_ffff)));
        assert!(!SeqNum(0).lt(SeqNum(0x8000_0000))); // undefined: neither
        assert!(!SeqNum(0).gt(SeqNum(0x8000_0000)));
        assert!(SeqNum(0xffff_ffff).lt(SeqNum(0)));
        assert!(SeqNum(0x8000_0001).lt(SeqNum(0)));
        assert!(SeqNum(5).le(SeqNum(5)) && SeqNum(5).ge(SeqNum(5)));
        assert!(!SeqNum(5).lt(SeqNum(5)));
    }

    #[test]
    fn windows() {
        // RFC 7143 §4.2.2.1: MaxCmdSN = ExpCmdSN - 1 closes the window.
        assert_eq!(window_len(SeqNum(0), SeqNum(0xffff_ffff)), Some(0));
        assert!(!SeqNum(0).in_window(SeqNum(0), SeqNum(0xffff_ffff)));
        // Window across the wrap: 0xfffffffe ..= 1 admits 4 numbers.
        assert_eq!(window_len(SeqNum(0xffff_fffe), SeqNum(1)), Some(4));
        for sn in [0xffff_fffe, 0xffff_ffff, 0, 1] {
            assert!(SeqNum(sn).in_window(SeqNum(0xffff_fffe), SeqNum(1)));
        }
        assert!(!SeqNum(2).in_window(SeqNum(0xffff_fffe), SeqNum(1)));
        assert!(!SeqNum(0xffff_fffd).in_window(SeqNum(0xffff_fffe), SeqNum(1)));
        // MaxCmdSN further behind than ExpCmdSN - 1: invalid, nothing admitted.
        assert_eq!(window_len(SeqNum(10), SeqNum(5)), None);
        assert!(!SeqNum(10).in_window(SeqNum(10), SeqNum(5)));
    }

    proptest! {
        #[test]
        fn lt_and_gt_are_mirror_images(a in any::<u32>(), b in any::<u32>()) {
            let (a, b) = (SeqNum(a), SeqNum(b));
            prop_assert_eq!(a.lt(b), b.gt(a));
            prop_assert!(!(a.lt(b) && b.lt(a)));
        }

        #[test]
        fn adding_less_than_half_moves_forward(a in any::<u32>(), n in 1u32..0x8000_0000) {
            let a = SeqNum(a);
            prop_assert!(a.lt(a.wrapping_add(n)));
            prop_assert_eq!(a.wrapping_add(n).distance_from(a), n);
            prop_assert_eq!(a.wrapping_add(n).wrapping_sub(n), a);
        }

        #[test]
        fn window_admits_exactly_its_length(exp in any::<u32>(), len in 0u32..64, off in 0u32..80) {
            let exp = SeqNum(exp);
            let max = exp.wrapping_add(len).wrapping_sub(1);
            prop_assert_eq!(window_len(exp, max), Some(len));
            prop_assert_eq!(exp.wrapping_add(off).in_window(exp, max), off < len);
        }
    }
}
