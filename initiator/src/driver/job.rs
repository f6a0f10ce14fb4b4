//! Running a set of SCSI requests to completion: pipelining up to the queue depth, absorbing
//! UNIT ATTENTION, retrying NOT READY, and recovering the connection underneath.

use super::Client;
use super::cdb::{self, CdbBuf};
use crate::error::{Error, SenseInfo};
use crate::pdu::{ScsiResponseCode, ScsiStatus};
use crate::session::{
    Command, Completion, DataDirection, DataSink, DataSource, Event, MAX_TASKS, Residual, TaskTag,
};
use crate::transport::Connector;

/// One request a job wants issued; `key` names it to the job.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request {
    pub key: u32,
    pub cdb: CdbBuf,
    pub data: DataDirection,
}

/// A unit of work: requests to issue and where their data lives.
pub(crate) trait Job {
    /// The next request, or `None` when all have been handed out.
    fn next_request(&mut self) -> Option<Request>;
    /// Data-In for request `key`, already bounds-checked against its transfer length.
    fn data_in(&mut self, key: u32, offset: u32, bytes: &[u8]);
    /// Data-Out for request `key`.
    fn data_out(&mut self, key: u32, offset: u32, buf: &mut [u8]);
    /// Request `key` completed with GOOD status; returns the bytes it moved (for progress).
    fn completed(&mut self, key: u32, residual: Residual) -> Result<u64, Error>;
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    tag: TaskTag,
    req: Request,
    unit_attentions: u8,
    not_ready: u8,
}

/// Routes the session's Data-In / Data-Out by task tag to the job's request keys.
struct Router<'j, J> {
    job: &'j mut J,
    inflight: &'j [Option<InFlight>; MAX_TASKS],
}

impl<J> Router<'_, J> {
    fn key(&self, tag: TaskTag) -> Option<u32> {
        self.inflight
            .iter()
            .flatten()
            .find(|f| f.tag == tag)
            .map(|f| f.req.key)
    }
}

impl<J: Job> DataSink for Router<'_, J> {
    fn write(&mut self, tag: TaskTag, offset: u32, bytes: &[u8]) {
        // Tasks of an earlier, abandoned operation have no key: their data is dropped.
        if let Some(key) = self.key(tag) {
            self.job.data_in(key, offset, bytes);
        }
    }
}

impl<J: Job> DataSource for Router<'_, J> {
    fn read(&mut self, tag: TaskTag, offset: u32, buf: &mut [u8]) {
        match self.key(tag) {
            Some(key) => self.job.data_out(key, offset, buf),
            None => buf.fill(0),
        }
    }
}

/// Runs `job` to completion on `client`.
pub(crate) fn run<C: Connector, J: Job>(
    client: &mut Client<'_, '_, C>,
    job: &mut J,
    progress: &mut dyn FnMut(u64),
) -> Result<(), Error> {
    let mut inflight: [Option<InFlight>; MAX_TASKS] = [None; MAX_TASKS];
    // Requests to (re)submit before new ones: retries and ones the session had no room for.
    let mut retry: [Option<InFlight>; MAX_TASKS] = [None; MAX_TASKS];
    let mut exhausted = false;
    let mut done_bytes = 0u64;
    let lun = client.lun();
    let depth = usize::from(client.config.session.queue_depth.max(1)).min(MAX_TASKS);
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
                cdb: next.req.cdb.as_slice(),
                data: next.req.data,
            };
            match client.session.submit(cmd) {
                Ok(tag) => {
                    if let Some(slot) = inflight.iter_mut().find(|s| s.is_none()) {
                        *slot = Some(InFlight { tag, ..next });
                    }
                }
                Err(crate::error::SubmitError::QueueFull) => {
                    park(&mut retry, next);
                    break;
                }
                Err(e) => return Err(Error::Submit(e)),
            }
        }
        if exhausted && retry.iter().all(Option::is_none) && inflight.iter().all(Option::is_none) {
            return Ok(());
        }
        let deadline = client.connector.now() + client.config.session.keepalive_interval;
        {
            let mut router = Router {
                job: &mut *job,
                inflight: &inflight,
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
                    match classify(&c) {
                        Outcome::Good => {
                            done_bytes += job.completed(f.req.key, c.residual)?;
                            progress(done_bytes);
                        }
                        Outcome::UnitAttention(s) => {
                            f.unit_attentions += 1;
                            if f.unit_attentions > client.config.unit_attention_retries {
                                return Err(Error::CheckCondition(s));
                            }
                            park(&mut retry, f);
                        }
                        Outcome::NotReady(s) => {
                            f.not_ready += 1;
                            if f.not_ready > client.config.not_ready_retries {
                                return Err(Error::NotReady(s));
                            }
                            let until = client.connector.now() + client.config.not_ready_delay;
                            client.connector.sleep_until(until);
                            park(&mut retry, f);
                        }
                        Outcome::Busy => {
                            f.not_ready += 1;
                            if f.not_ready > client.config.not_ready_retries {
                                return Err(Error::ScsiStatus(c.status.into()));
                            }
                            park(&mut retry, f);
                        }
                        Outcome::Fail(e) => return Err(e),
                    }
                }
                Event::ConnectionFailed(why) => client.recover(why)?,
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
fn park(retry: &mut [Option<InFlight>; MAX_TASKS], f: InFlight) {
    if let Some(slot) = retry.iter_mut().find(|s| s.is_none()) {
        *slot = Some(f);
    }
}

enum Outcome {
    Good,
    UnitAttention(SenseInfo),
    NotReady(SenseInfo),
    Busy,
    Fail(Error),
}

fn classify(c: &Completion) -> Outcome {
    if c.response != ScsiResponseCode::CommandCompleted {
        return Outcome::Fail(Error::TargetFailure);
    }
    match c.status {
        ScsiStatus::Good | ScsiStatus::ConditionMet => Outcome::Good,
        ScsiStatus::CheckCondition => match SenseInfo::parse(c.sense()) {
            Some(s) if s.key == SenseInfo::UNIT_ATTENTION => Outcome::UnitAttention(s),
            Some(s) if s.key == SenseInfo::NOT_READY => Outcome::NotReady(s),
            Some(s) => Outcome::Fail(Error::CheckCondition(s)),
            None => Outcome::Fail(Error::ScsiStatus(c.status.into())),
        },
        ScsiStatus::Busy | ScsiStatus::TaskSetFull => Outcome::Busy,
        other => Outcome::Fail(Error::ScsiStatus(other.into())),
    }
}

/// A single command reading into (or sending nothing from) a small buffer.
pub(crate) struct BufferJob<'d> {
    cdb: CdbBuf,
    buf: &'d mut [u8],
    issued: bool,
    received: usize,
}

impl<'d> BufferJob<'d> {
    pub fn none(cdb: CdbBuf) -> BufferJob<'static> {
        BufferJob {
            cdb,
            buf: &mut [],
            issued: false,
            received: 0,
        }
    }

    pub fn read(cdb: CdbBuf, buf: &'d mut [u8]) -> BufferJob<'d> {
        BufferJob {
            cdb,
            buf,
            issued: false,
            received: 0,
        }
    }

    /// Bytes the target actually returned (expected length minus underflow residual).
    pub fn received(&self) -> usize {
        self.received
    }
}

impl Job for BufferJob<'_> {
    fn next_request(&mut self) -> Option<Request> {
        if self.issued {
            return None;
        }
        self.issued = true;
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        Some(Request {
            key: 0,
            cdb: self.cdb,
            data: if len == 0 {
                DataDirection::None
            } else {
                DataDirection::Read(len)
            },
        })
    }

    fn data_in(&mut self, _: u32, offset: u32, bytes: &[u8]) {
        let at = offset as usize;
        if let Some(dst) = self.buf.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    fn data_out(&mut self, _: u32, _: u32, buf: &mut [u8]) {
        buf.fill(0);
    }

    fn completed(&mut self, _: u32, residual: Residual) -> Result<u64, Error> {
        self.received = match residual {
            Residual::Underflow(n) => self.buf.len().saturating_sub(n as usize),
            _ => self.buf.len(),
        };
        Ok(self.received as u64)
    }
}

enum Blocks<'d> {
    Read(&'d mut [u8]),
    Write(&'d [u8]),
}

/// A block read or write split into requests of at most `chunk` bytes.
pub(crate) struct BlockJob<'d> {
    lba: u64,
    block_size: u32,
    chunk: u32,
    next: u32,
    chunks: u32,
    len: usize,
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
        if block_size == 0 || len % block_size as usize != 0 {
            return Err(Error::Unaligned(block_size));
        }
        let chunk = (max_request / block_size).max(1) * block_size;
        let chunks = u32::try_from(len.div_ceil(chunk as usize))
            .map_err(|_| Error::Unaligned(block_size))?;
        Ok(BlockJob {
            lba,
            block_size,
            chunk,
            next: 0,
            chunks,
            len,
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

    fn range(&self, key: u32) -> (usize, usize) {
        let start = key as usize * self.chunk as usize;
        (start, (start + self.chunk as usize).min(self.len))
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
            cdb: cdb::read_write(write, lba, blocks),
            data: if write {
                DataDirection::Write(bytes)
            } else {
                DataDirection::Read(bytes)
            },
        })
    }

    fn data_in(&mut self, key: u32, offset: u32, bytes: &[u8]) {
        let (start, end) = self.range(key);
        if let Blocks::Read(buf) = &mut self.data {
            let at = start + offset as usize;
            if let Some(dst) = buf.get_mut(at..(at + bytes.len()).min(end)) {
                let n = dst.len();
                dst.copy_from_slice(&bytes[..n]);
            }
        }
    }

    fn data_out(&mut self, key: u32, offset: u32, out: &mut [u8]) {
        let (start, end) = self.range(key);
        let at = start + offset as usize;
        match &self.data {
            Blocks::Write(data) => match data.get(at..(at + out.len()).min(end)) {
                Some(src) if src.len() == out.len() => out.copy_from_slice(src),
                _ => out.fill(0),
            },
            Blocks::Read(_) => out.fill(0),
        }
    }

    fn completed(&mut self, key: u32, residual: Residual) -> Result<u64, Error> {
        if let Residual::Underflow(_) = residual {
            return Err(Error::ShortResponse);
        }
        let (start, end) = self.range(key);
        Ok((end - start) as u64)
    }
}
