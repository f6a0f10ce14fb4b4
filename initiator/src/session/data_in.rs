//! Data-In payloads taken as they arrive: the header is checked and accepted first, then the
//! data segment goes to the sink piece by piece (or straight into the sink's buffer, placed by
//! the driver), then padding and DataDigest are checked and the status, if any, applied.
//!
//! So a receive buffer never has to hold a whole Data-In PDU, and a driver can receive the
//! payload without an intermediate copy (see [`Session::pending_data_in`]).

use super::receive::{check_complete, residual};
use super::*;
use crate::digest::{Crc32cStream, DIGEST_LEN, digest_from_bytes};
use crate::pdu::pad_len;

/// A Data-In PDU whose header has been accepted and whose data segment is still arriving.
#[derive(Debug, Clone)]
pub(super) struct DataInFlow {
    itt: u32,
    /// Buffer offset of the next data byte.
    next: u32,
    /// Data bytes still to come.
    remaining: u32,
    /// Padding bytes after the data.
    pad: u8,
    /// Running DataDigest, when digests are on and the segment is not empty.
    digest: Option<Crc32cStream>,
    /// The status this PDU carries (S bit), applied once the trailer checks out.
    status: Option<(ScsiStatus, Residual)>,
}

impl DataInFlow {
    fn trailer_len(&self) -> usize {
        usize::from(self.pad) + if self.digest.is_some() { DIGEST_LEN } else { 0 }
    }
}

/// Where the driver may receive the rest of a Data-In payload directly: `len` bytes at
/// `offset` of task `tag`'s read buffer (from [`Session::pending_data_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataInPlacement {
    /// The task.
    pub tag: TaskTag,
    /// Offset in the task's read buffer of the next payload byte.
    pub offset: u32,
    /// Payload bytes still to come in this PDU.
    pub len: u32,
}

impl Session<'_> {
    /// The rest of the Data-In payload being received, if a Data-In header has been accepted
    /// and its data is still to come. The driver may receive up to `len` bytes straight into
    /// the sink's buffer ([`DataSink::buffer`]) and report them with
    /// [`Session::data_placed`]; bytes passed to [`Session::handle_input`] instead are handed
    /// to the sink as usual.
    #[must_use]
    pub fn pending_data_in(&self) -> Option<DataInPlacement> {
        self.data_in_flow
            .as_ref()
            .filter(|f| f.remaining > 0)
            .map(|f| DataInPlacement {
                tag: TaskTag(f.itt),
                offset: f.next,
                len: f.remaining,
            })
    }

    /// Whether a Data-In may be the next PDU (a read is in flight): a driver that places
    /// payloads directly receives just the next header into its own buffer.
    #[must_use]
    pub fn expects_data_in(&self) -> bool {
        self.phase == Phase::FullFeature
            && self.tasks.iter().any(|t| t.sent && t.read_len > t.data_in)
    }

    /// Reports `bytes`, received straight into the buffer [`Session::pending_data_in`] named,
    /// as the next payload bytes (at most its `len`). The PDU completes (digest check, status)
    /// in this call or, when padding or a digest follows, in [`Session::handle_input`].
    ///
    /// More bytes than were pending, or none pending, is an error that fails the connection.
    // Out of line: smaller firmware image (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn data_placed(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ConnectionFailure> {
        let fits = self
            .pending_data_in()
            .is_some_and(|p| u32::try_from(bytes.len()).is_ok_and(|n| n <= p.len));
        if !fits {
            return Err(self.fail_with(ConnectionFailure::Protocol(
                ProtocolError::DataInOutOfBounds,
            )));
        }
        self.last_rx = now;
        if let Some(flow) = self.data_in_flow.as_mut() {
            if let Some(d) = flow.digest.as_mut() {
                d.update(bytes);
            }
            // Both fit in u32: checked against `remaining` above.
            let n = bytes.len() as u32;
            flow.next += n;
            flow.remaining -= n;
        }
        match self.continue_data_in(&[], &mut NoData) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail_with(e)),
        }
    }

    /// Checks a Data-In header (task, offset, length, DataSN) before any of its data is taken.
    pub(super) fn start_data_in(
        &mut self,
        d: &DataIn<'_>,
        data_len: u32,
        digests: Digests,
    ) -> Result<(), ConnectionFailure> {
        let proto = ConnectionFailure::Protocol;
        self.update_sn(d.stat_sn, d.exp_cmd_sn, d.max_cmd_sn, d.status.is_some());
        let task = self
            .tasks
            .get_mut(d.itt)
            .ok_or(proto(ProtocolError::UnknownTask(d.itt)))?;
        if task.read_len == 0 {
            return Err(proto(ProtocolError::UnexpectedDataIn));
        }
        let end = d
            .buffer_offset
            .checked_add(data_len)
            .ok_or(proto(ProtocolError::DataInOutOfBounds))?;
        if end > task.read_len {
            return Err(proto(ProtocolError::DataInOutOfBounds));
        }
        // DataPDUInOrder=Yes and DataSequenceInOrder=Yes (always offered): offsets are contiguous
        // and DataSN counts up from 0, so a lost or repeated PDU is caught here instead of
        // leaving a hole in the buffer.
        if d.buffer_offset != task.data_in || d.data_sn != task.data_in_sn {
            return Err(proto(ProtocolError::DataInOutOfOrder));
        }
        task.data_in = end;
        task.data_in_sn = task.data_in_sn.wrapping_add(1);
        let len = data_len as usize;
        self.data_in_flow = Some(DataInFlow {
            itt: d.itt,
            next: d.buffer_offset,
            remaining: data_len,
            pad: pad_len(len) as u8,
            digest: (digests.data_len(len) > 0).then(Crc32cStream::new),
            status: d
                .status
                .map(|s| (s, residual(d.overflow, d.underflow, d.residual))),
        });
        Ok(())
    }

    /// Takes payload and trailer bytes of the Data-In in progress from the front of `rest`;
    /// returns how many were used and whether the PDU is complete.
    pub(super) fn continue_data_in(
        &mut self,
        rest: &[u8],
        sink: &mut impl DataSink,
    ) -> Result<(usize, bool), ConnectionFailure> {
        let Some(flow) = self.data_in_flow.as_mut() else {
            return Ok((0, true));
        };
        let take = rest.len().min(flow.remaining as usize);
        if let Some(chunk) = rest.get(..take)
            && !chunk.is_empty()
        {
            sink.write(TaskTag(flow.itt), flow.next, chunk);
            if let Some(d) = flow.digest.as_mut() {
                d.update(chunk);
            }
            // `take` <= `remaining`, a u32.
            flow.next += take as u32;
            flow.remaining -= take as u32;
        }
        if flow.remaining > 0 {
            return Ok((take, false));
        }
        let trailer_len = flow.trailer_len();
        let Some(trailer) = rest.get(take..take + trailer_len) else {
            // Padding or digest still to come (at most 7 bytes): the caller keeps them.
            return Ok((take, false));
        };
        let (pad, digest) = trailer.split_at(usize::from(flow.pad));
        if let Some(mut d) = flow.digest.take() {
            d.update(pad);
            let got = digest_from_bytes(digest.try_into().unwrap_or([0; DIGEST_LEN]));
            if d.value() != got {
                return Err(ConnectionFailure::DataDigest);
            }
        }
        let (itt, status) = (flow.itt, flow.status);
        self.data_in_flow = None;
        if let Some((status, residual)) = status {
            let task = self
                .tasks
                .get(itt)
                .ok_or(ConnectionFailure::Protocol(ProtocolError::UnknownTask(itt)))?;
            check_complete(task, status, residual)?;
            self.tasks.remove(itt);
            self.push_event(Event::TaskComplete(Completion::new(
                TaskTag(itt),
                ScsiResponseCode::CommandCompleted,
                status,
                residual,
            )));
        }
        Ok((take + trailer_len, true))
    }
}
