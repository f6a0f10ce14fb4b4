//! REPORT LUNS parameter data (SPC-4 §6.33).

use super::{ParseError, be32, need};
use crate::addr::Lun;

/// REPORT LUNS data: a LUN LIST LENGTH header and 8-byte LUNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLuns<'a> {
    data: &'a [u8],
}

impl<'a> ReportLuns<'a> {
    /// Parses the 8-byte header.
    ///
    /// ```
    /// use initiator::scsi::ReportLuns;
    /// let data = [0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
    /// let r = ReportLuns::parse(&data).unwrap();
    /// let luns: Vec<_> = r.iter().map(|l| l.number()).collect();
    /// assert_eq!(luns, [Some(0), Some(2)]);
    /// assert!(!r.is_truncated());
    /// ```
    pub fn parse(data: &'a [u8]) -> Result<Self, ParseError> {
        need(data, 8)?;
        Ok(Self { data })
    }

    /// LUN LIST LENGTH in bytes, as reported (may exceed what was transferred).
    #[must_use]
    pub fn list_len(&self) -> u32 {
        be32(self.data, 0)
    }

    /// The number of LUNs the target has.
    #[must_use]
    pub fn total_count(&self) -> u32 {
        self.list_len() / 8
    }

    /// True when the allocation length was too small for the whole list.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        (self.data.len() - 8) / 8 < self.total_count() as usize
    }

    /// The LUNs present in the buffer.
    #[must_use]
    pub fn iter(&self) -> ReportLunsIter<'a> {
        let listed = usize::try_from(self.list_len()).unwrap_or(usize::MAX);
        let body = &self.data[8..];
        let end = body.len().min(listed);
        ReportLunsIter {
            rest: &body[..end - end % 8],
        }
    }
}

impl<'a> IntoIterator for ReportLuns<'a> {
    type Item = Lun;
    type IntoIter = ReportLunsIter<'a>;
    fn into_iter(self) -> ReportLunsIter<'a> {
        self.iter()
    }
}

/// Iterator over REPORT LUNS entries.
#[derive(Debug, Clone)]
pub struct ReportLunsIter<'a> {
    rest: &'a [u8],
}

impl Iterator for ReportLunsIter<'_> {
    type Item = Lun;

    fn next(&mut self) -> Option<Lun> {
        let (lun, rest) = self.rest.split_first_chunk::<8>()?;
        self.rest = rest;
        Some(Lun(*lun))
    }
}
