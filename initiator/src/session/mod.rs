//! The sans-IO iSCSI session: one connection at a time, bytes and time in, bytes, timeouts and
//! events out (quinn-proto's `Connection` is the model).
//!
//! ```text
//! start_login(now) ─► poll_transmit / handle_input ... ─► Event::LoggedIn
//! submit(cmd) ─► poll_transmit(Data-Out from DataSource) / handle_input(Data-In to DataSink)
//!             ─► Event::TaskComplete
//! connection lost ─► Event::ConnectionFailed ─► (new transport) start_login(now): unfinished
//!             tasks are re-issued after the new login, completed ones never
//! ```
//!
//! ```
//! use initiator::session::{NoData, Session, SessionConfig};
//! use initiator::time::Instant;
//!
//! let config = SessionConfig::new("iqn.2024-01.org.example:host", "iqn.2024-01.org.example:disk",
//!                                 [0x80, 0, 0, 0, 0, 1]);
//! let mut session = Session::new(config);
//! session.start_login(Instant::ZERO);
//! let mut tx = [0u8; 4096];
//! let n = session.poll_transmit(Instant::ZERO, &mut tx, &mut NoData).unwrap();
//! assert_eq!(tx[0], 0x43); // Login Request, immediate
//! assert!(session.poll_transmit(Instant::ZERO, &mut tx, &mut NoData).is_none()); // awaits the answer
//! // ... write tx[..n] to the socket, feed what comes back to `handle_input`, then
//! // `poll_event` until `Event::LoggedIn`.
//! # let _ = n;
//! ```
//!
//! The session owns no socket and reads no clock; its buffers are fixed-size fields (about
//! 22 KiB in all: [`TEXT_BUF_LEN`] for login/text responses, a 2 KiB request scratch, the CHAP
//! challenge and negotiation state of the login in progress, the task table and the event queue;
//! firmware with a small stack should keep it in a static). Received PDUs are parsed in place
//! in the caller's buffer.

pub mod config;
mod data_in;
mod task;

pub use config::{Chap, ChapDigest, MutualChap, Negotiated, Params, SessionConfig};
pub use data_in::DataInPlacement;
pub use task::{MAX_CDB, MAX_R2TS, MAX_TASKS};

use crate::digest::Digests;
use crate::error::{ConnectionFailure, LoginError, ProtocolError, SubmitError};
use crate::login::{Login, LoginStep, RequestHeader};
use crate::pdu::{
    AsyncEvent, Cdb, DataIn, DataOut, Frame, FrameError, FrameStatus, LoginRequest, LogoutReason,
    LogoutRequest, NopOut, Opcode, R2t, RESERVED_TAG, Repr, ScsiCommand as ScsiCommandPdu,
    ScsiResponseCode, ScsiStatus, Stage, TaskAttr, TaskMgmtRequest, TextRequest, TmfFunction,
    TmfResponse, data_trailer, frame_status,
};
use crate::serial::SeqNum;
use crate::time::Instant;
use core::net::SocketAddr;
use task::{R2tBurst, Task, TaskTable};

/// Size of the buffer that joins continued login and text responses (SendTargets lists).
pub const TEXT_BUF_LEN: usize = 8192;

/// Data segment limit during login (RFC 7143 §6.1: login PDUs carry at most 8192 bytes).
const LOGIN_MAX_DATA: u32 = 8192;

/// Events queued at most; completions are bounded by the task table, so this never overflows.
const EVENT_QUEUE_LEN: usize = MAX_TASKS + 16;

/// Longest sense data kept in a [`Completion`].
pub const MAX_SENSE: usize = 96;

/// An Initiator Task Tag naming one submitted command or task management request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskTag(pub u32);

/// Which way a command moves data, and how much (the Expected Data Transfer Length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirection {
    /// No data phase.
    None,
    /// The target sends this many bytes (Data-In, handed to a [`DataSink`]).
    Read(u32),
    /// We send this many bytes (immediate, unsolicited and solicited Data-Out from a [`DataSource`]).
    Write(u32),
}

/// A SCSI command to submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'c> {
    /// Logical unit number (the single-level form, as 8 LUN bytes; see [`lun_field`]).
    pub lun: u64,
    /// The CDB, at most 16 bytes.
    pub cdb: &'c [u8],
    /// Data direction and length.
    pub data: DataDirection,
}

/// Encodes a LUN number 0..=16383 into the 8-byte LUN field (SAM flat/peripheral addressing).
///
/// ```
/// assert_eq!(initiator::session::lun_field(2), 0x0002_0000_0000_0000);
/// assert_eq!(initiator::session::lun_field(300), 0x412c_0000_0000_0000);
/// ```
#[must_use]
pub const fn lun_field(lun: u16) -> u64 {
    let first = if lun < 256 {
        lun as u64
    } else {
        0x4000 | (lun as u64 & 0x3fff)
    };
    first << 48
}

/// Receives Data-In payloads as borrowed slices of the receive buffer.
///
/// The session has checked that `offset + bytes.len()` lies within the task's expected transfer
/// length. After a reconnect a re-issued read writes the same range again.
pub trait DataSink {
    /// Stores `bytes` at `offset` of task `tag`'s read buffer.
    fn write(&mut self, tag: TaskTag, offset: u32, bytes: &[u8]);

    /// Lends task `tag`'s read buffer from `offset` on (at most `len` bytes) so that a driver
    /// can receive a Data-In payload straight into it (direct placement, see
    /// [`Session::pending_data_in`]). `None`, the default, has the bytes handed to
    /// [`DataSink::write`] instead. The range was checked as for `write`; its bytes are
    /// unverified until the PDU's DataDigest has been checked.
    fn buffer(&mut self, tag: TaskTag, offset: u32, len: u32) -> Option<&mut [u8]> {
        let _ = (tag, offset, len);
        None
    }
}

/// Supplies Data-Out payloads straight into the transmit buffer.
pub trait DataSource {
    /// Fills `buf` with the bytes at `offset` of task `tag`'s write buffer. The session asks only
    /// for ranges within the task's transfer length.
    fn read(&mut self, tag: TaskTag, offset: u32, buf: &mut [u8]);
}

/// A sink that discards everything (for commands without Data-In).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoData;

impl DataSink for NoData {
    fn write(&mut self, _: TaskTag, _: u32, _: &[u8]) {}
}

impl DataSource for NoData {
    fn read(&mut self, _: TaskTag, _: u32, buf: &mut [u8]) {
        buf.fill(0);
    }
}

/// Residual count of a completed command (RFC 7143 §11.4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residual {
    /// Exactly the expected length moved.
    None,
    /// This many fewer bytes than expected moved.
    Underflow(u32),
    /// The target wanted to move this many more bytes than expected.
    Overflow(u32),
}

/// The outcome of one SCSI command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The command.
    pub tag: TaskTag,
    /// iSCSI response code (`CommandCompleted` unless the target failed).
    pub response: ScsiResponseCode,
    /// SCSI status.
    pub status: ScsiStatus,
    /// Residual count.
    pub residual: Residual,
    sense: [u8; MAX_SENSE],
    sense_len: u8,
}

impl Completion {
    /// Sense data (empty unless CHECK CONDITION), truncated to [`MAX_SENSE`] bytes.
    #[must_use]
    pub fn sense(&self) -> &[u8] {
        &self.sense[..usize::from(self.sense_len)]
    }

    /// Whether the command completed with GOOD status.
    #[must_use]
    pub fn is_good(&self) -> bool {
        self.response == ScsiResponseCode::CommandCompleted && self.status == ScsiStatus::Good
    }

    fn new(
        tag: TaskTag,
        response: ScsiResponseCode,
        status: ScsiStatus,
        residual: Residual,
    ) -> Self {
        Completion {
            tag,
            response,
            status,
            residual,
            sense: [0; MAX_SENSE],
            sense_len: 0,
        }
    }
}

impl core::fmt::Debug for Completion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Completion")
            .field("tag", &self.tag)
            .field("response", &self.response)
            .field("status", &self.status)
            .field("residual", &self.residual)
            .field("sense", &self.sense())
            .finish()
    }
}

/// Something the application should know about, from [`Session::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Login finished; commands may be submitted (tasks from before a reconnect are re-issued).
    LoggedIn(Negotiated),
    /// The target redirected the login; connect to `portal` and call [`Session::start_login`].
    Redirected {
        /// Where to go.
        portal: SocketAddr,
        /// Status 0x0102 (remember it) rather than 0x0101.
        permanent: bool,
    },
    /// Login failed for good (a retry would fail the same way unless [`LoginError::is_transient`]).
    LoginFailed(LoginError),
    /// A command finished.
    TaskComplete(Completion),
    /// A task management function finished.
    TmfComplete {
        /// Tag returned by [`Session::abort_task`] / [`Session::lun_reset`].
        tag: TaskTag,
        /// The target's answer.
        response: TmfResponse,
    },
    /// A text exchange (SendTargets) finished: read [`Session::text_response`].
    TextComplete,
    /// The target asks us to log out within `within_secs` (async event 1).
    LogoutRequested {
        /// Parameter3 of the async message: seconds until the target drops us.
        within_secs: u16,
    },
    /// Logout finished; the connection may be closed.
    LoggedOut,
    /// The connection is dead. Unfinished tasks stay queued for the next login.
    ConnectionFailed(ConnectionFailure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No connection yet (or after a failure): waiting for [`Session::start_login`].
    Idle,
    Login,
    FullFeature,
    LoggingOut,
    LoggedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingTmf {
    itt: u32,
    function: TmfFunction,
    lun: u64,
    ref_itt: u32,
    ref_cmd_sn: SeqNum,
    sent: bool,
}

/// A sans-IO iSCSI session (see the module docs).
///
/// About 22 KiB (the task table, an 8 KiB text buffer and the event queue live inside it): in
/// firmware, whose stack may be only 128 KiB, keep it (or the [`crate::driver::Client`] that holds
/// it) on the heap or in a static, not in a stack frame — `Client::new` then `Client::login` lets
/// the caller box the client before logging in.
#[derive(Debug)]
pub struct Session<'a> {
    config: SessionConfig<'a>,
    phase: Phase,
    login: Option<Login>,
    login_header: RequestHeader,
    login_send: bool,
    login_continue: bool,
    login_deadline: Instant,
    negotiated: Negotiated,
    chap_algorithm: Option<u8>,
    tsih: u16,
    cmd_sn: SeqNum,
    exp_cmd_sn: SeqNum,
    max_cmd_sn: SeqNum,
    exp_stat_sn: SeqNum,
    next_itt: u32,
    tasks: TaskTable,
    /// The Data-In whose payload is arriving.
    data_in_flow: Option<data_in::DataInFlow>,
    tmf: Option<PendingTmf>,
    /// TTT and LUN of a NOP-In ping to answer.
    nop_reply: Option<(u32, u64)>,
    /// ITT of our keepalive ping and when it must be answered by.
    ping: Option<(u32, bool, Instant)>,
    last_rx: Instant,
    /// Since when commands have been waiting for a CmdSN window the target keeps closed.
    window_closed_since: Option<Instant>,
    /// Whether a task may still be unsent, or may have Data-Out to send. Set where such work
    /// appears, cleared by a walk of the task table that finds none: the transmit path, called
    /// several times per command, walks the table only when there can be something to find.
    maybe_unsent: bool,
    maybe_data_out: bool,
    logout_sent: bool,
    text_request: Option<(u32, u32, bool)>,
    text: [u8; TEXT_BUF_LEN],
    text_len: usize,
    text_ready: bool,
    scratch: [u8; 2048],
    events: [Option<Event>; EVENT_QUEUE_LEN],
    event_head: usize,
    event_len: usize,
}

impl<'a> Session<'a> {
    /// A session that has not connected yet. Call [`Session::start_login`] once the transport is up.
    #[must_use]
    pub fn new(config: SessionConfig<'a>) -> Session<'a> {
        Session {
            negotiated: Negotiated::login_defaults(config.params.max_recv_data_segment_length),
            config,
            chap_algorithm: None,
            phase: Phase::Idle,
            login: None,
            login_header: RequestHeader {
                transit: false,
                csg: Stage::Security,
                nsg: Stage::Operational,
            },
            login_send: false,
            login_continue: false,
            login_deadline: Instant::ZERO,
            tsih: 0,
            cmd_sn: SeqNum(1),
            exp_cmd_sn: SeqNum(1),
            max_cmd_sn: SeqNum(1),
            exp_stat_sn: SeqNum(0),
            next_itt: 1,
            tasks: TaskTable::new(),
            data_in_flow: None,
            tmf: None,
            nop_reply: None,
            ping: None,
            last_rx: Instant::ZERO,
            window_closed_since: None,
            maybe_unsent: false,
            maybe_data_out: false,
            logout_sent: false,
            text_request: None,
            text: [0; TEXT_BUF_LEN],
            text_len: 0,
            text_ready: false,
            scratch: [0; 2048],
            events: [None; EVENT_QUEUE_LEN],
            event_head: 0,
            event_len: 0,
        }
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &SessionConfig<'a> {
        &self.config
    }

    /// Begins a login on a freshly opened connection (first connect, redirect or reconnect).
    ///
    /// Session reinstatement: the same ISID with TSIH 0, so the target replaces the old session.
    /// Unfinished tasks are re-issued once the login completes.
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn start_login(&mut self, now: Instant) {
        self.phase = Phase::Login;
        self.login = Some(Login::new(&self.config));
        self.login_send = true;
        self.login_continue = false;
        self.login_deadline = now + self.config.login_timeout;
        self.negotiated =
            Negotiated::login_defaults(self.config.params.max_recv_data_segment_length);
        self.tsih = 0;
        self.chap_algorithm = None;
        self.exp_stat_sn = SeqNum(0);
        self.nop_reply = None;
        self.ping = None;
        self.data_in_flow = None;
        self.logout_sent = false;
        self.text_len = 0;
        self.text_ready = false;
        self.last_rx = now;
        self.window_closed_since = None;
        if let Some(tmf) = self.tmf.take() {
            self.push_event(Event::TmfComplete {
                tag: TaskTag(tmf.itt),
                response: TmfResponse::FunctionRejected,
            });
        }
        if let Some((itt, _, _)) = self.text_request {
            self.text_request = Some((itt, RESERVED_TAG, false));
        }
        for t in self.tasks.iter_mut() {
            t.reset_for_reissue();
        }
        self.maybe_unsent = true;
    }

    /// Whether the session is in the full feature phase.
    #[must_use]
    pub fn is_logged_in(&self) -> bool {
        self.phase == Phase::FullFeature
    }

    /// Values negotiated at the last login.
    #[must_use]
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The CHAP algorithm (CHAP_A) the target chose at the last login, if CHAP ran.
    #[must_use]
    pub fn chap_algorithm(&self) -> Option<u8> {
        self.chap_algorithm
    }

    /// Replaces the CHAP_A list offered from the next login on (no effect without CHAP).
    ///
    /// tgt (tgtd/IET) answers `CHAP_A=7` but means SHA-1 rather than the IANA SHA-256; the
    /// driver retries without 7 when a login that used 7 fails authentication.
    pub fn set_chap_algorithms(&mut self, algorithms: &'a [u8]) {
        if let Some(chap) = self.config.chap.as_mut() {
            chap.algorithms = algorithms;
        }
    }

    /// The TSIH the target assigned at the last login.
    #[must_use]
    pub fn tsih(&self) -> u16 {
        self.tsih
    }

    /// Commands submitted and not yet completed.
    #[must_use]
    pub fn tasks_in_flight(&self) -> usize {
        self.tasks.len()
    }

    /// The largest receive buffer a caller needs: one whole PDU with our MaxRecvDataSegmentLength.
    #[must_use]
    pub fn max_pdu_len(&self) -> usize {
        self.config.max_pdu_len()
    }

    /// Queues a SCSI command. It goes out once the CmdSN window and queue depth allow.
    pub fn submit(&mut self, cmd: Command<'_>) -> Result<TaskTag, SubmitError> {
        if self.config.target_name.is_none()
            || !matches!(self.phase, Phase::FullFeature | Phase::Login | Phase::Idle)
        {
            return Err(SubmitError::NotLoggedIn);
        }
        if cmd.cdb.len() > MAX_CDB {
            return Err(SubmitError::CdbTooLong);
        }
        let depth = usize::from(self.config.queue_depth.max(1)).min(MAX_TASKS);
        if self.tasks.len() >= depth {
            return Err(SubmitError::QueueFull);
        }
        let (read, write) = match cmd.data {
            DataDirection::None => (0, 0),
            DataDirection::Read(n) => (n, 0),
            DataDirection::Write(n) => (0, n),
        };
        let itt = self.alloc_itt();
        if !self
            .tasks
            .insert(Task::new(itt, cmd.lun, cmd.cdb, read, write))
        {
            return Err(SubmitError::QueueFull);
        }
        self.maybe_unsent = true;
        Ok(TaskTag(itt))
    }

    /// Queues ABORT TASK for `tag` (an immediate task management request).
    pub fn abort_task(&mut self, tag: TaskTag) -> Result<TaskTag, SubmitError> {
        let task = self.tasks.get(tag.0).ok_or(SubmitError::NoSuchTask)?;
        let (lun, cmd_sn, sent) = (task.lun, task.cmd_sn, task.sent);
        if !sent {
            // Never left: drop it locally.
            self.tasks.remove(tag.0);
            self.push_event(Event::TaskComplete(Completion::new(
                tag,
                ScsiResponseCode::CommandCompleted,
                ScsiStatus::TaskAborted,
                Residual::None,
            )));
        }
        self.queue_tmf(
            TmfFunction::AbortTask,
            lun,
            tag.0,
            if sent { cmd_sn } else { self.cmd_sn },
        )
    }

    /// Queues LOGICAL UNIT RESET for `lun` (the 8-byte LUN field).
    pub fn lun_reset(&mut self, lun: u64) -> Result<TaskTag, SubmitError> {
        self.queue_tmf(
            TmfFunction::LogicalUnitReset,
            lun,
            RESERVED_TAG,
            self.cmd_sn,
        )
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn queue_tmf(
        &mut self,
        function: TmfFunction,
        lun: u64,
        ref_itt: u32,
        ref_cmd_sn: SeqNum,
    ) -> Result<TaskTag, SubmitError> {
        if self.phase != Phase::FullFeature {
            return Err(SubmitError::NotLoggedIn);
        }
        if self.tmf.is_some() {
            return Err(SubmitError::Busy);
        }
        let itt = self.alloc_itt();
        self.tmf = Some(PendingTmf {
            itt,
            function,
            lun,
            ref_itt,
            ref_cmd_sn,
            sent: false,
        });
        Ok(TaskTag(itt))
    }

    /// Queues `SendTargets=All` on a discovery session; [`Event::TextComplete`] follows.
    pub fn send_targets(&mut self) -> Result<TaskTag, SubmitError> {
        if self.phase != Phase::FullFeature {
            return Err(SubmitError::NotLoggedIn);
        }
        if self.text_request.is_some() {
            return Err(SubmitError::Busy);
        }
        let itt = self.alloc_itt();
        self.text_len = 0;
        self.text_ready = false;
        self.text_request = Some((itt, RESERVED_TAG, false));
        Ok(TaskTag(itt))
    }

    /// The joined text of the last completed text exchange (after [`Event::TextComplete`]).
    #[must_use]
    pub fn text_response(&self) -> &[u8] {
        if self.text_ready {
            &self.text[..self.text_len]
        } else {
            &[]
        }
    }

    /// Starts a logout (close the session). [`Event::LoggedOut`] follows.
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn logout(&mut self) {
        if self.phase == Phase::FullFeature {
            self.phase = Phase::LoggingOut;
            self.logout_sent = false;
        }
    }

    /// Marks the connection dead because the transport failed (the driver calls this on a
    /// transport error). Emits [`Event::ConnectionFailed`].
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn connection_lost(&mut self) {
        self.fail(ConnectionFailure::Transport);
    }

    /// Whether [`Session::poll_event`] has something to return.
    #[must_use]
    pub fn events_pending(&self) -> bool {
        self.event_len > 0
    }

    /// Returns the next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.event_len == 0 {
            return None;
        }
        let ev = self.events[self.event_head].take();
        self.event_head = (self.event_head + 1) % EVENT_QUEUE_LEN;
        self.event_len -= 1;
        ev
    }

    /// When [`Session::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Login => Some(self.login_deadline),
            Phase::FullFeature | Phase::LoggingOut => {
                let keepalive = match self.ping {
                    Some((_, _, deadline)) => deadline,
                    None => self.last_rx + self.config.keepalive_interval,
                };
                Some(match self.window_stall_deadline() {
                    Some(stall) => keepalive.min(stall),
                    None => keepalive,
                })
            }
            Phase::Idle | Phase::LoggedOut => None,
        }
    }

    /// When commands waiting for a closed CmdSN window give up: a target that answers pings but
    /// never opens its window would otherwise stall the session forever.
    fn window_stall_deadline(&self) -> Option<Instant> {
        self.window_closed_since
            .map(|since| since + self.config.keepalive_interval + self.config.keepalive_timeout)
    }

    /// Handles timers: login timeout, keepalive ping, keepalive timeout, and a CmdSN window
    /// closed for longer than a keepalive interval plus timeout (reported as a keepalive
    /// timeout: the target stopped accepting commands).
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::FullFeature
            && self.window_stall_deadline().is_some_and(|d| now >= d)
        {
            self.window_closed_since = None;
            self.fail(ConnectionFailure::KeepaliveTimeout);
            return;
        }
        match self.phase {
            Phase::Login if now >= self.login_deadline => {
                self.fail(ConnectionFailure::LoginTimeout)
            }
            Phase::FullFeature | Phase::LoggingOut => match self.ping {
                Some((_, _, deadline)) if now >= deadline => {
                    self.fail(ConnectionFailure::KeepaliveTimeout);
                }
                None if now >= self.last_rx + self.config.keepalive_interval => {
                    let itt = self.alloc_itt();
                    self.ping = Some((itt, false, now + self.config.keepalive_timeout));
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn alloc_itt(&mut self) -> u32 {
        loop {
            let itt = self.next_itt;
            self.next_itt = self.next_itt.wrapping_add(1);
            if itt != RESERVED_TAG && self.tasks.get(itt).is_none() {
                return itt;
            }
        }
    }

    fn push_event(&mut self, ev: Event) {
        if self.event_len == EVENT_QUEUE_LEN {
            // Cannot happen with a bounded task table; drop the oldest rather than panic.
            let _ = self.poll_event();
        }
        let at = (self.event_head + self.event_len) % EVENT_QUEUE_LEN;
        self.events[at] = Some(ev);
        self.event_len += 1;
    }

    fn fail(&mut self, why: ConnectionFailure) {
        if matches!(self.phase, Phase::Idle | Phase::LoggedOut) {
            return;
        }
        self.phase = Phase::Idle;
        self.login = None;
        self.data_in_flow = None;
        self.push_event(Event::ConnectionFailed(why));
    }

    fn digests(&self) -> Digests {
        if self.phase == Phase::Login || self.phase == Phase::Idle {
            Digests::NONE
        } else {
            self.negotiated.digests
        }
    }

    fn max_recv(&self) -> u32 {
        if self.phase == Phase::Login {
            LOGIN_MAX_DATA.max(self.config.params.max_recv_data_segment_length)
        } else {
            self.negotiated.max_recv_data_segment_length
        }
    }
}

mod receive;
mod transmit;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_stays_small() {
        // The module docs promise about 22 KiB; catch accidental growth.
        assert!(core::mem::size_of::<Session<'static>>() <= 24 * 1024);
    }

    #[test]
    fn lun_field_encodes_flat_space() {
        assert_eq!(lun_field(0), 0);
        assert_eq!(lun_field(0x3fff), 0x7fff_0000_0000_0000);
    }
}
