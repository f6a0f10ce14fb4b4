//! Running a set of SCSI requests to completion: pipelining up to the queue depth, absorbing
//! UNIT ATTENTION, retrying NOT READY, and recovering the connection underneath.

use super::Client;
use crate::error::Error;
use crate::pdu::{ScsiResponseCode, ScsiStatus};
use crate::scsi::cdb::{self, Cdb};
use crate::scsi::{Sense, SenseKey};
use crate::session::{
    Command, Completion, DataDirection, DataSink, DataSource, Event, MAX_TASKS, Residual, TaskTag,
};
use crate::transport::Connector;

/// One request a job wants issued; `key` names it to the job.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request {
    pub key: u32,
    pub cdb: Cdb,
    pub data: DataDirection,
}

/// A unit of work: requests to issue and where their data lives.
pub(crate) trait Job {
    /// The next request, or `None` when all have been handed out.
    fn next_request(&mut self) -> Option<Request>;
    /// Data-In for request `key`, already bounds-checked against its transfer length.
    fn data_in(&mut self, key: u32, offset: u32, bytes: &[u8]);
    /// The part of request `key`'s read buffer at `offset` (at most `len` bytes) for Data-In
    /// to be received into directly; `None` has it go through [`Job::data_in`].
    fn data_in_buffer(&mut self, key: u32, offset: u32, len: u32) -> Option<&mut [u8]> {
        let _ = (key, offset, len);
        None
    }
    /// Data-Out for request `key`.
    fn data_out(&mut self, key: u32, offset: u32, buf: &mut [u8]);
    /// Request `key` completed with GOOD status (or any status, for a [`Job::raw_status`]
    /// job); returns the bytes it moved (for progress).
    fn completed(&mut self, key: u32, completion: &Completion) -> Result<u64, Error>;
    /// Whether every SCSI status is handed to [`Job::completed`] as it came, with no
    /// UNIT ATTENTION / NOT READY / BUSY retries and no CHECK CONDITION error.
    fn raw_status(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    tag: TaskTag,
    req: Request,
    unit_attentions: u8,
    not_ready: u8,
}

/// Routes the session's Data-In / Data-Out by task tag to the job's request keys.
struct Router<'j> {
    job: &'j mut dyn Job,
    inflight: &'j [Option<InFlight>],
}

impl Router<'_> {
    fn key(&self, tag: TaskTag) -> Option<u32> {
        self.inflight
            .iter()
            .flatten()
            .find(|f| f.tag == tag)
            .map(|f| f.req.key)
    }
}

impl DataSink for Router<'_> {
    fn write(&mut self, tag: TaskTag, offset: u32, bytes: &[u8]) {
        // Tasks of an earlier, abandoned operation have no key: their data is dropped.
        if let Some(key) = self.key(tag) {
            self.job.data_in(key, offset, bytes);
        }
    }

    fn buffer(&mut self, tag: TaskTag, offset: u32, len: u32) -> Option<&mut [u8]> {
        let key = self.key(tag)?;
        self.job.data_in_buffer(key, offset, len)
    }
}

impl DataSource for Router<'_> {
    fn read(&mut self, tag: TaskTag, offset: u32, buf: &mut [u8]) {
        match self.key(tag) {
            Some(key) => self.job.data_out(key, offset, buf),
            None => buf.fill(0),
        }
    }
}

/// Runs `job` to completion on `client`. The job is a trait object: one copy of this loop
/// serves every kind of job (commands, block reads/writes, streams), which keeps firmware
/// images small; the indirect calls are per request or per received chunk, not per byte.
pub(crate) fn run<C: Connector>(
    client: &mut Client<'_, '_, C>,
    job: &mut dyn Job,
    progress: &mut dyn FnMut(u64),
) -> Result<(), Error> {
    let depth = usize::from(client.config.session.queue_depth.max(1)).min(MAX_TASKS);
    // At most `depth` requests are ever out, in flight and parked for retry together (one
    // leaves `inflight` before it is parked, and a new one is handed out only below the
    // depth), so the first `depth` slots always hold them all and have a free one when
    // needed: the per-PDU lookups below walk `depth` slots, not MAX_TASKS.
    let mut inflight_slots: [Option<InFlight>; MAX_TASKS] = [None; MAX_TASKS];
    let inflight = &mut inflight_slots[..depth];
    // Requests to (re)submit before new ones: retries and ones the session had no room for.
    let mut retry_slots: [Option<InFlight>; MAX_TASKS] = [None; MAX_TASKS];
    let retry = &mut retry_slots[..depth];
    let mut exhausted = false;
    let mut done_bytes = 0u64;
    let lun = client.lun();
    // Bounds on recovery without progress: connection failures and stalled commands since the
    // last completion.
    let mut failures = 0u32;
    let mut stalled = false;
    let mut last_progress = client.connector.now();
    loop {
        // Hand out requests up to the queue depth.
        while client.session.is_logged_in() {
            let count = inflight.iter().flatten().count();
            if count >= depth {
                break;
            }
            let next = match retry.iter_mut().find_map(Option::take) {
                Some(h) => h,
                None if exhausted => break,
                None => match job.next_request() {
                    Some(req) => InFlight {
                        tag: TaskTag(0),
                        req,
                        unit_attentions: 0,
                        not_ready: 0,
                    },
                    None => {
                        exhausted = true;
                        break;
                    }
                },
            };
            let cmd = Command {
                lun,
                cdb: next.req.cdb.as_bytes(),
                data: next.req.data,
            };
            match client.session.submit(cmd) {
                Ok(tag) => {
                    if let Some(slot) = inflight.iter_mut().find(|s| s.is_none()) {
                        *slot = Some(InFlight { tag, ..next });
                    }
                }
                Err(crate::error::SubmitError::QueueFull) => {
                    park(retry, next);
                    break;
                }
                Err(e) => return Err(Error::Submit(e)),
            }
        }
        if exhausted && retry.iter().all(Option::is_none) && inflight.iter().all(Option::is_none) {
            return Ok(());
        }
        let now = client.connector.now();
        if inflight.iter().any(Option::is_some)
            && now >= last_progress + client.config.command_timeout
        {
            // The target keeps the connection alive but does not finish our commands: start
            // over on a new connection, a bounded number of times.
            stalled = true;
            last_progress = now;
            client.session.connection_lost();
        }
        let deadline = (now + client.config.session.keepalive_interval)
            .min(last_progress + client.config.command_timeout);
        {
            let mut router = Router {
                job: &mut *job,
                inflight,
            };
            client.pump_once(&mut router, deadline);
        }
        while let Some(ev) = client.session.poll_event() {
            match ev {
                Event::TaskComplete(c) => {
                    let Some(slot) = inflight
                        .iter_mut()
                        .find(|s| s.is_some_and(|f| f.tag == c.tag))
                    else {
                        continue; // a task of an abandoned operation
                    };
                    let Some(mut f) = slot.take() else { continue };
                    failures = 0;
                    stalled = false;
                    last_progress = client.connector.now();
                    let outcome =
                        if job.raw_status() && c.response == ScsiResponseCode::CommandCompleted {
                            Outcome::Good
                        } else {
                            classify(&c)
                        };
                    match outcome {
                        Outcome::Good => {
                            done_bytes += job.completed(f.req.key, &c)?;
                            progress(done_bytes);
                        }
                        Outcome::UnitAttention(s) => {
                            f.unit_attentions += 1;
                            if f.unit_attentions > client.config.unit_attention_retries {
                                return Err(Error::CheckCondition(s));
                            }
                            park(retry, f);
                        }
                        Outcome::NotReady(s) => {
                            f.not_ready += 1;
                            if f.not_ready > client.config.not_ready_retries {
                                return Err(Error::NotReady(s));
                            }
                            let until = client.connector.now() + client.config.not_ready_delay;
                            client.connector.sleep_until(until);
                            park(retry, f);
                        }
                        Outcome::Busy => {
                            f.not_ready += 1;
                            if f.not_ready > client.config.not_ready_retries {
                                return Err(Error::ScsiStatus(c.status.into()));
                            }
                            park(retry, f);
                        }
                        Outcome::Fail(e) => return Err(e),
                    }
                }
                Event::ConnectionFailed(why) => {
                    failures += 1;
                    if failures > client.config.max_reconnects {
                        return Err(if stalled {
                            Error::Timeout
                        } else {
                            Error::ConnectionLost(why)
                        });
                    }
                    client.recover(why)?;
                    last_progress = client.connector.now();
                }
                Event::LoggedOut => {
                    return Err(Error::ConnectionLost(
                        crate::error::ConnectionFailure::DroppedByTarget,
                    ));
                }
                Event::LogoutRequested { .. } => {
                    // The target wants this connection gone: reconnect right away; unfinished
                    // tasks are re-issued on the new login.
                    client.session.connection_lost();
                }
                _ => {}
            }
        }
    }
}

/// Queues `f` for resubmission (the table has room: `f` came out of `inflight`).
fn park(retry: &mut [Option<InFlight>], f: InFlight) {
    let slot = retry.iter_mut().find(|s| s.is_none());
    debug_assert!(slot.is_some(), "more requests out than the queue depth");
    if let Some(slot) = slot {
        *slot = Some(f);
    }
}

enum Outcome {
    Good,
    UnitAttention(Sense),
    NotReady(Sense),
    Busy,
    Fail(Error),
}

fn classify(c: &Completion) -> Outcome {
    if c.response != ScsiResponseCode::CommandCompleted {
        return Outcome::Fail(Error::TargetFailure);
    }
    match c.status {
        ScsiStatus::Good | ScsiStatus::ConditionMet => Outcome::Good,
        // Any NOT READY is retried (after a pause) rather than only the "becoming ready"
        // causes: an LU taken offline for a moment comes back within the retry budget.
        ScsiStatus::CheckCondition => match Sense::parse(c.sense()) {
            Ok(s) if s.key == SenseKey::UnitAttention => Outcome::UnitAttention(s),
            Ok(s) if s.key == SenseKey::NotReady => Outcome::NotReady(s),
            Ok(s) => Outcome::Fail(Error::CheckCondition(s)),
            Err(_) => Outcome::Fail(Error::ScsiStatus(c.status.into())),
        },
        ScsiStatus::Busy | ScsiStatus::TaskSetFull => Outcome::Busy,
        other => Outcome::Fail(Error::ScsiStatus(other.into())),
    }
}

/// Where the data of a single command comes from or goes to.
#[derive(Debug)]
pub enum DataBuffer<'d> {
    /// No data phase.
    None,
    /// Data-In: the target fills this buffer (its length is the expected transfer length).
    In(&'d mut [u8]),
    /// Data-Out: these bytes are sent to the target.
    Out(&'d [u8]),
}

impl DataBuffer<'_> {
    fn len(&self) -> usize {
        match self {
            DataBuffer::None => 0,
            DataBuffer::In(b) => b.len(),
            DataBuffer::Out(b) => b.len(),
        }
    }
}

/// How a command run by [`Client::execute`](super::Client::execute) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandStatus {
    /// SCSI status (GOOD, CHECK CONDITION, BUSY, …).
    pub status: ScsiStatus,
    /// Parsed sense data, when the target sent any that parses.
    pub sense: Option<Sense>,
    /// The residual count the target reported.
    pub residual: Residual,
    /// Bytes actually moved: the buffer length minus an underflow residual.
    pub transferred: usize,
}

impl CommandStatus {
    /// GOOD (or CONDITION MET) status.
    #[must_use]
    pub fn is_good(&self) -> bool {
        matches!(self.status, ScsiStatus::Good | ScsiStatus::ConditionMet)
    }
}

/// A single command with an optional buffer.
pub(crate) struct BufferJob<'d> {
    cdb: Cdb,
    data: DataBuffer<'d>,
    issued: bool,
    raw: bool,
    status: Option<CommandStatus>,
}

impl<'d> BufferJob<'d> {
    /// A command whose non-GOOD statuses are retried or turned into errors.
    pub fn new(cdb: Cdb, data: DataBuffer<'d>) -> BufferJob<'d> {
        BufferJob {
            cdb,
            data,
            issued: false,
            raw: false,
            status: None,
        }
    }

    /// A command whose status is reported as it came.
    pub fn raw(cdb: Cdb, data: DataBuffer<'d>) -> BufferJob<'d> {
        BufferJob {
            raw: true,
            ..Self::new(cdb, data)
        }
    }

    /// The outcome, once the job has completed.
    pub fn status(&self) -> Option<CommandStatus> {
        self.status
    }

    /// Bytes the target actually returned (expected length minus underflow residual).
    pub fn received(&self) -> usize {
        self.status.map_or(0, |s| s.transferred)
    }
}

impl Job for BufferJob<'_> {
    fn next_request(&mut self) -> Option<Request> {
        if self.issued {
            return None;
        }
        self.issued = true;
        let len = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        Some(Request {
            key: 0,
            cdb: self.cdb,
            data: match self.data {
                DataBuffer::In(_) if len > 0 => DataDirection::Read(len),
                DataBuffer::Out(_) if len > 0 => DataDirection::Write(len),
                _ => DataDirection::None,
            },
        })
    }

    fn data_in(&mut self, _: u32, offset: u32, bytes: &[u8]) {
        let at = offset as usize;
        if let DataBuffer::In(buf) = &mut self.data
            && let Some(dst) = buf.get_mut(at..at.saturating_add(bytes.len()))
        {
            dst.copy_from_slice(bytes);
        }
    }

    fn data_in_buffer(&mut self, _: u32, offset: u32, len: u32) -> Option<&mut [u8]> {
        let at = offset as usize;
        match &mut self.data {
            DataBuffer::In(buf) => buf.get_mut(at..at.saturating_add(len as usize)),
            _ => None,
        }
    }

    fn data_out(&mut self, _: u32, offset: u32, out: &mut [u8]) {
        let at = offset as usize;
        match &self.data {
            DataBuffer::Out(data) => match data.get(at..at.saturating_add(out.len())) {
                Some(src) => out.copy_from_slice(src),
                None => out.fill(0),
            },
            _ => out.fill(0),
        }
    }

    fn completed(&mut self, _: u32, c: &Completion) -> Result<u64, Error> {
        let len = self.data.len();
        let transferred = match c.residual {
            Residual::Underflow(n) => len.saturating_sub(n as usize),
            _ => len,
        };
        self.status = Some(CommandStatus {
            status: c.status,
            sense: Sense::parse(c.sense()).ok(),
            residual: c.residual,
            transferred,
        });
        Ok(transferred as u64)
    }

    fn raw_status(&self) -> bool {
        self.raw
    }
}

pub(crate) enum Blocks<'d> {
    Read(&'d mut [u8]),
    Write(&'d [u8]),
}

/// A block read or write split into requests of at most `chunk` bytes.
///
/// Request data lives at its offset in the transfer modulo `ring`, the buffer's length: for a
/// plain read or write that is the transfer itself; a streamed one reuses a smaller buffer
/// round robin (see [`BlockJob::stream`]).
pub(crate) struct BlockJob<'d> {
    lba: u64,
    block_size: u32,
    chunk: u32,
    next: u32,
    chunks: u32,
    len: usize,
    ring: usize,
    data: Blocks<'d>,
}

impl<'d> BlockJob<'d> {
    fn new(
        lba: u64,
        block_size: u32,
        max_request: u32,
        len: usize,
        data: Blocks<'d>,
    ) -> Result<Self, Error> {
        if block_size == 0 || !len.is_multiple_of(block_size as usize) {
            return Err(Error::Unaligned(block_size));
        }
        let chunk = (max_request / block_size).max(1) * block_size;
        let chunks = u32::try_from(len.div_ceil(chunk as usize))
            .map_err(|_| Error::Unaligned(block_size))?;
        let ring = match &data {
            Blocks::Read(b) => b.len(),
            Blocks::Write(b) => b.len(),
        };
        Ok(BlockJob {
            lba,
            block_size,
            chunk,
            next: 0,
            chunks,
            len,
            ring,
            data,
        })
    }

    pub fn read(
        lba: u64,
        block_size: u32,
        max_request: u32,
        buf: &'d mut [u8],
    ) -> Result<Self, Error> {
        let len = buf.len();
        Self::new(lba, block_size, max_request, len, Blocks::Read(buf))
    }

    pub fn write(
        lba: u64,
        block_size: u32,
        max_request: u32,
        data: &'d [u8],
    ) -> Result<Self, Error> {
        Self::new(
            lba,
            block_size,
            max_request,
            data.len(),
            Blocks::Write(data),
        )
    }

    /// `len` bytes from `lba` on through `data`, whose length must be a whole number of
    /// requests: request `k` uses part `k mod (data.len() / chunk)` of it.
    pub fn stream(
        lba: u64,
        block_size: u32,
        max_request: u32,
        len: usize,
        data: Blocks<'d>,
    ) -> Result<Self, Error> {
        let job = Self::new(lba, block_size, max_request, len, data)?;
        if job.ring == 0 || !job.ring.is_multiple_of(job.chunk as usize) {
            return Err(Error::Unaligned(job.chunk));
        }
        Ok(job)
    }

    /// Request `key`'s byte range in the transfer.
    fn range(&self, key: u32) -> (usize, usize) {
        let start = key as usize * self.chunk as usize;
        (start, (start + self.chunk as usize).min(self.len))
    }

    /// Request `key`'s byte range in the buffer.
    fn place(&self, key: u32) -> (usize, usize) {
        let (start, end) = self.range(key);
        let at = start % self.ring.max(1);
        (at, at + (end - start))
    }
}

impl Job for BlockJob<'_> {
    fn next_request(&mut self) -> Option<Request> {
        if self.next >= self.chunks {
            return None;
        }
        let key = self.next;
        self.next += 1;
        let (start, end) = self.range(key);
        let bytes = (end - start) as u32;
        let lba = self.lba + (start / self.block_size as usize) as u64;
        let blocks = bytes / self.block_size;
        let write = matches!(self.data, Blocks::Write(_));
        Some(Request {
            key,
            cdb: if write {
                cdb::write(lba, blocks)
            } else {
                cdb::read(lba, blocks)
            },
            data: if write {
                DataDirection::Write(bytes)
            } else {
                DataDirection::Read(bytes)
            },
        })
    }

    fn data_in(&mut self, key: u32, offset: u32, bytes: &[u8]) {
        let (start, end) = self.place(key);
        if let Blocks::Read(buf) = &mut self.data {
            let at = start + offset as usize;
            if let Some(dst) = buf.get_mut(at..(at + bytes.len()).min(end)) {
                let n = dst.len();
                dst.copy_from_slice(&bytes[..n]);
            }
        }
    }

    fn data_in_buffer(&mut self, key: u32, offset: u32, len: u32) -> Option<&mut [u8]> {
        let (start, end) = self.place(key);
        let at = start.checked_add(offset as usize)?;
        let stop = at.saturating_add(len as usize).min(end);
        match &mut self.data {
            Blocks::Read(buf) => buf.get_mut(at..stop),
            Blocks::Write(_) => None,
        }
    }

    fn data_out(&mut self, key: u32, offset: u32, out: &mut [u8]) {
        let (start, end) = self.place(key);
        let at = start + offset as usize;
        match &self.data {
            Blocks::Write(data) => match data.get(at..(at + out.len()).min(end)) {
                Some(src) if src.len() == out.len() => out.copy_from_slice(src),
                _ => out.fill(0),
            },
            Blocks::Read(_) => out.fill(0),
        }
    }

    fn completed(&mut self, key: u32, c: &Completion) -> Result<u64, Error> {
        if let Residual::Underflow(_) = c.residual {
            return Err(Error::ShortResponse);
        }
        let (start, end) = self.range(key);
        Ok((end - start) as u64)
    }
}
