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
