//! Typed errors of the session and the driver: each names one cause, small and `Copy`.

use crate::pdu::LoginStatus;
use crate::scsi::Sense;

/// Why a login did not reach the full feature phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Status 0x0201: the target rejected our credentials, or (at the first step) the
    /// authentication methods offered: CHAP only when it is required, `None` without credentials.
    #[error(
        "authentication failed (login status 0x0201): CHAP credentials or offered method refused"
    )]
    AuthenticationFailed,
    /// Status 0x0202: this initiator is not allowed to access the target (ACL).
    #[error("access forbidden (login status 0x0202): initiator not allowed by the target's ACL")]
    Forbidden,
    /// Status 0x0203: no target by that name at this portal.
    #[error("target not found (login status 0x0203)")]
    NotFound,
    /// Status 0x0204: the target has been removed.
    #[error("target removed (login status 0x0204)")]
    TargetRemoved,
    /// Status 0x0205: no common protocol version.
    #[error("unsupported iSCSI version (login status 0x0205)")]
    UnsupportedVersion,
    /// Status 0x0206: the target accepts no more connections.
    #[error("too many connections (login status 0x0206)")]
    TooManyConnections,
    /// Status 0x0207: the target misses a key we should have sent.
    #[error("missing parameter (login status 0x0207)")]
    MissingParameter,
    /// Status 0x0209: the target does not support the session type.
    #[error("session type not supported (login status 0x0209)")]
    SessionTypeNotSupported,
    /// Another initiator-error status (class 2).
    #[error("login rejected as an initiator error (status {0:#06x})")]
    InitiatorError(u16),
    /// Status 0x0300 or another target-error status (class 3).
    #[error("target error during login (status {0:#06x})")]
    TargetError(u16),
    /// Status 0x0301 / 0x0302: the target is temporarily unable to serve.
    #[error("target service unavailable (status {0:#06x})")]
    ServiceUnavailable(u16),
    /// We require CHAP (or mutual CHAP) but the target skipped authentication.
    #[error("target skipped authentication that this initiator requires")]
    AuthenticationSkipped,
    /// Mutual CHAP: the target's response to our challenge is wrong.
    #[error("target failed mutual CHAP authentication")]
    TargetAuthenticationFailed,
    /// The target offered no authentication method or CHAP algorithm we accept.
    #[error("no common authentication method or CHAP algorithm")]
    NoCommonAuthMethod,
    /// The target's CHAP challenge is malformed, too short or reflects our own.
    #[error("malformed CHAP exchange from the target")]
    BadChap,
    /// A negotiation answer is malformed or out of range.
    #[error("operational parameter negotiation failed")]
    Negotiation,
    /// A redirect without a usable TargetAddress (must be an IP literal with optional port).
    #[error("redirect without a usable TargetAddress")]
    BadRedirect,
    /// Redirected more times than the loop limit allows.
    #[error("too many login redirects")]
    RedirectLoop,
    /// The login PDUs themselves were malformed or out of sequence.
    #[error("protocol violation during login")]
    Protocol,
    /// The CHAP settings cannot be used: an empty or over-long secret or name, no algorithm,
    /// or the same secret for both directions (RFC 7143 §12.1.3).
    #[error("unusable CHAP configuration (empty or too long secret, or one secret both ways)")]
    BadChapConfig,
}

impl LoginError {
    /// Maps a non-success, non-redirect login status to its error.
    #[must_use]
    pub fn from_status(status: LoginStatus) -> LoginError {
        let raw = u16::from(status);
        match status {
            LoginStatus::AuthenticationFailure => LoginError::AuthenticationFailed,
            LoginStatus::AuthorizationFailure => LoginError::Forbidden,
            LoginStatus::NotFound => LoginError::NotFound,
            LoginStatus::TargetRemoved => LoginError::TargetRemoved,
            LoginStatus::UnsupportedVersion => LoginError::UnsupportedVersion,
            LoginStatus::TooManyConnections => LoginError::TooManyConnections,
            LoginStatus::MissingParameter => LoginError::MissingParameter,
            LoginStatus::SessionTypeNotSupported => LoginError::SessionTypeNotSupported,
            LoginStatus::ServiceUnavailable | LoginStatus::OutOfResources => {
                LoginError::ServiceUnavailable(raw)
            }
            _ if raw >> 8 == 3 => LoginError::TargetError(raw),
            _ if raw >> 8 == 2 => LoginError::InitiatorError(raw),
            _ => LoginError::Protocol,
        }
    }

    /// Whether retrying the same login later may succeed (target-side, transient statuses).
    #[must_use]
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            LoginError::TargetError(_)
                | LoginError::ServiceUnavailable(_)
                | LoginError::TooManyConnections
        )
    }
}

/// A violation of RFC 7143 by the target, detected on a PDU it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A PDU could not be framed or parsed.
    #[error("malformed PDU")]
    Malformed,
    /// A PDU's data segment is longer than the MaxRecvDataSegmentLength we declared.
    #[error("data segment longer than our MaxRecvDataSegmentLength")]
    SegmentTooLong,
    /// A response names an Initiator Task Tag we have no task for.
    #[error("response for unknown task tag {0:#010x}")]
    UnknownTask(u32),
    /// Data-In offset/length falls outside the task's expected transfer.
    #[error("Data-In outside the task's buffer")]
    DataInOutOfBounds,
    /// Data-In whose offset does not continue where the previous one ended (DataPDUInOrder).
    #[error("Data-In out of order")]
    DataInOutOfOrder,
    /// A read completed GOOD without all the data its residual promises.
    #[error("read completed with data missing")]
    MissingData,
    /// Data-In for a command that reads nothing.
    #[error("Data-In for a command without read data")]
    UnexpectedDataIn,
    /// An R2T outside the task's write buffer, or for a task without write data.
    #[error("R2T outside the task's write buffer")]
    R2tOutOfBounds,
    /// More R2Ts outstanding than MaxOutstandingR2T.
    #[error("more R2Ts than MaxOutstandingR2T")]
    TooManyR2ts,
    /// A PDU that is not allowed in the current phase.
    #[error("unexpected PDU {0:#04x} in this phase")]
    UnexpectedPdu(u8),
    /// The target rejected one of our PDUs (Reject reason code).
    #[error("target rejected a PDU (reason {0:#04x})")]
    Rejected(u8),
    /// A text response too large for the text buffer.
    #[error("text response larger than the text buffer")]
    TextTooLong,
}

/// Why a connection was declared dead. The session stays usable: reconnect and log in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionFailure {
    /// The transport reported an error or the peer closed.
    #[error("connection lost")]
    Transport,
    /// A header digest did not match.
    #[error("header digest error")]
    HeaderDigest,
    /// A data digest did not match.
    #[error("data digest error")]
    DataDigest,
    /// No answer to a NOP-Out keepalive in time.
    #[error("target stopped answering (keepalive timeout)")]
    KeepaliveTimeout,
    /// Login did not finish in time.
    #[error("login timed out")]
    LoginTimeout,
    /// The target asked to drop the connection or session (async message).
    #[error("target dropped the connection")]
    DroppedByTarget,
    /// The target violated the protocol.
    #[error("protocol violation: {0}")]
    Protocol(ProtocolError),
}

/// Why [`Session::submit`](crate::session::Session::submit) refused a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The task table is full (queue depth reached); wait for a completion.
    #[error("task table full")]
    QueueFull,
    /// The session is not in the full feature phase of a normal session.
    #[error("session not logged in")]
    NotLoggedIn,
    /// The CDB is longer than 16 bytes.
    #[error("CDB longer than 16 bytes")]
    CdbTooLong,
    /// The referenced task does not exist (task management).
    #[error("no such task")]
    NoSuchTask,
    /// Another task management function or text exchange is still running.
    #[error("busy with another request")]
    Busy,
}

/// Everything the blocking driver can fail with, one cause per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The TCP connection to the portal could not be opened.
    #[error("cannot connect to {}", crate::addr::Portal::from(*.0))]
    Connect(core::net::SocketAddr),
    /// The connection failed and reconnecting did not succeed within the retry budget.
    #[error("connection lost: {0}")]
    ConnectionLost(ConnectionFailure),
    /// Login was refused.
    #[error("login failed: {0}")]
    Login(LoginError),
    /// No answer in time.
    #[error("timed out waiting for the target")]
    Timeout,
    /// The command ended with CHECK CONDITION.
    #[error("SCSI check condition: {0}")]
    CheckCondition(Sense),
    /// The logical unit stayed NOT READY through every retry.
    #[error("logical unit not ready: {0}")]
    NotReady(Sense),
    /// Another SCSI status (BUSY, RESERVATION CONFLICT, TASK SET FULL, …) or a CHECK CONDITION
    /// without readable sense.
    #[error("SCSI status {0:#04x}")]
    ScsiStatus(u8),
    /// The target reported a service response of TARGET FAILURE.
    #[error("target failure")]
    TargetFailure,
    /// The target returned less data than the command needs.
    #[error("short response from the target")]
    ShortResponse,
    /// The target violated the protocol.
    #[error("protocol violation: {0}")]
    Protocol(ProtocolError),
    /// The session refused a command.
    #[error("{0}")]
    Submit(SubmitError),
    /// A caller buffer is too small (receive buffer below one PDU, transmit below 2 KiB + header).
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// A transfer length that is not a whole number of blocks.
    #[error("length is not a multiple of the {0}-byte block size")]
    Unaligned(u32),
    /// The operation needs a discovery (or normal) session and has the other kind.
    #[error("wrong session type for this operation")]
    WrongSessionType,
}

impl From<LoginError> for Error {
    fn from(e: LoginError) -> Self {
        Error::Login(e)
    }
}

impl From<SubmitError> for Error {
    fn from(e: SubmitError) -> Self {
        Error::Submit(e)
    }
}
