//! The iSCSI PDU codec (RFC 7143 §11): BHS view, per-opcode representations, AHS, framing.
//!
//! Receiving: [`frame_status`] on the receive buffer until it says `Complete { len }`, then
//! [`Frame::split`] on those bytes (digests checked), then [`Repr::parse_frame`]. Sending:
//! [`Repr::emit`] for a whole PDU, or [`Repr::emit_header`] plus [`data_trailer`] to send a
//! data segment straight from the caller's buffer.

mod ahs;
mod bhs;
mod codes;
mod frame;
mod opcode;
mod repr;
mod requests;
mod responses;

pub use ahs::{
    AHS_TYPE_BIDI_READ_LEN, AHS_TYPE_EXTENDED_CDB, Ahs, AhsError, AhsIter, BHS_CDB_LEN,
    BIDI_READ_LEN_AHS_LEN, MAX_CDB_LEN, MAX_TOTAL_AHS_LEN, extended_cdb_ahs_len,
};
pub use bhs::{BHS_LEN, Bhs, BhsTruncated, FINAL_BIT, IMMEDIATE_BIT, field};
pub use codes::{
    AsyncEvent, LoginStatus, LogoutReason, LogoutResponseCode, RejectReason, ScsiResponseCode,
    ScsiStatus, SnackType, Stage, StatusClass, TaskAttr, TmfFunction, TmfResponse,
};
pub use frame::{DataTrailer, Frame, FrameError, FrameStatus, data_trailer, frame_status, pad_len};
pub use opcode::Opcode;
pub use repr::{EmitError, MAX_DATA_SEGMENT_LEN, ParseError, Repr};
pub use requests::{
    Cdb, CdbTooLong, DataOut, LoginRequest, LogoutRequest, NopOut, ScsiCommand, SnackRequest,
    TaskMgmtRequest, TextRequest,
};
pub use responses::{
    AsyncMessage, DataIn, LoginResponse, LogoutResponse, NopIn, R2t, Reject, ScsiResponse,
    SenseError, TaskMgmtResponse, TextResponse, split_sense,
};

/// The reserved tag value 0xffffffff (unused ITT/TTT).
pub const RESERVED_TAG: u32 = 0xffff_ffff;
