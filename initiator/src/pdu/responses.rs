//! Target-side PDUs (RFC 7143 §11): the fields of each opcode as plain values.

use super::codes::{
    AsyncEvent, LoginStatus, LogoutResponseCode, RejectReason, ScsiResponseCode, ScsiStatus, Stage,
    TmfResponse,
};
use crate::serial::SeqNum;

/// NOP-In (0x20, RFC 7143 §11.19): a ping from the target (TTT ≠ 0xffffffff: answer it) or the
/// answer to our NOP-Out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NopIn<'a> {
    /// LUN (echo it in the answering NOP-Out).
    pub lun: u64,
    /// ITT of our NOP-Out, or 0xffffffff for a target ping.
    pub itt: u32,
    /// TTT (echo it), or 0xffffffff when no answer is wanted.
    pub ttt: u32,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// Ping data.
    pub data: &'a [u8],
}

/// SCSI Response (0x21, RFC 7143 §11.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScsiResponse<'a> {
    /// o: bidirectional read residual overflow.
    pub bidi_overflow: bool,
    /// u: bidirectional read residual underflow.
    pub bidi_underflow: bool,
    /// O: residual overflow.
    pub overflow: bool,
    /// U: residual underflow.
    pub underflow: bool,
    /// Response.
    pub response: ScsiResponseCode,
    /// SCSI status (valid when `response` is CommandCompleted).
    pub status: ScsiStatus,
    /// ITT.
    pub itt: u32,
    /// SNACK Tag.
    pub snack_tag: u32,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// ExpDataSN.
    pub exp_data_sn: u32,
    /// Bidirectional Read Residual Count.
    pub bidi_residual: u32,
    /// Residual Count.
    pub residual: u32,
    /// Data segment: SenseLength (2 bytes), sense data, response data.
    pub data: &'a [u8],
}

/// The SenseLength prefix of a SCSI Response or Async Message data segment is inconsistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SenseError {
    /// One byte only: SenseLength needs two.
    #[error("data segment of 1 byte cannot hold SenseLength")]
    Truncated,
    /// SenseLength points past the data segment.
    #[error("SenseLength {sense_len} exceeds the {available} bytes available")]
    TooLong {
        /// SenseLength.
        sense_len: u16,
        /// Bytes after the SenseLength field.
        available: usize,
    },
}

/// Splits a data segment into (sense data, what follows) per RFC 7143 §11.4.7.2.
/// An empty segment has no sense data.
///
/// ```
/// use initiator::pdu::split_sense;
/// assert_eq!(split_sense(&[0, 2, 0x70, 0x00, 0xaa]), Ok((&[0x70, 0x00][..], &[0xaa][..])));
/// assert_eq!(split_sense(&[]), Ok((&[][..], &[][..])));
/// ```
pub fn split_sense(data: &[u8]) -> Result<(&[u8], &[u8]), SenseError> {
    if data.is_empty() {
        return Ok((&[], &[]));
    }
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return Err(SenseError::Truncated);
    };
    let sense_len = u16::from_be_bytes(*len);
    if usize::from(sense_len) > rest.len() {
        return Err(SenseError::TooLong {
            sense_len,
            available: rest.len(),
        });
    }
    Ok(rest.split_at(usize::from(sense_len)))
}

impl<'a> ScsiResponse<'a> {
    /// The sense data (empty if none).
    pub fn sense(&self) -> Result<&'a [u8], SenseError> {
        split_sense(self.data).map(|(sense, _)| sense)
    }

    /// The response data following the sense data (bidirectional/vendor use; usually empty).
    pub fn response_data(&self) -> Result<&'a [u8], SenseError> {
        split_sense(self.data).map(|(_, rest)| rest)
    }
}

/// SCSI Task Management Function Response (0x22, RFC 7143 §11.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskMgmtResponse {
    /// Response.
    pub response: TmfResponse,
    /// ITT of the request.
    pub itt: u32,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
}

/// Login Response (0x23, RFC 7143 §11.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginResponse<'a> {
    /// T: the target moves to NSG.
    pub transit: bool,
    /// C: the text continues in the next PDU.
    pub continue_bit: bool,
    /// Current stage.
    pub csg: Stage,
    /// Next stage.
    pub nsg: Stage,
    /// Version-max.
    pub version_max: u8,
    /// Version-active.
    pub version_active: u8,
    /// ISID (echoed).
    pub isid: [u8; 6],
    /// TSIH assigned by the target on the final response.
    pub tsih: u16,
    /// ITT (echoed).
    pub itt: u32,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// Status-Class and Status-Detail.
    pub status: LoginStatus,
    /// key=value text.
    pub data: &'a [u8],
}

/// Text Response (0x24, RFC 7143 §11.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextResponse<'a> {
    /// F: last PDU of the response.
    pub final_bit: bool,
    /// C: the text continues in the next PDU.
    pub continue_bit: bool,
    /// LUN.
    pub lun: u64,
    /// ITT (echoed).
    pub itt: u32,
    /// TTT: ≠ 0xffffffff when more follows and the request must be repeated with it.
    pub ttt: u32,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// key=value text.
    pub data: &'a [u8],
}

/// SCSI Data-In (0x25, RFC 7143 §11.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataIn<'a> {
    /// F: last PDU of the sequence.
    pub final_bit: bool,
    /// A: the target asks for a DataACK SNACK.
    pub ack: bool,
    /// O: residual overflow (valid with status).
    pub overflow: bool,
    /// U: residual underflow (valid with status).
    pub underflow: bool,
    /// S bit and status byte: `Some` when this PDU carries the command's final status.
    pub status: Option<ScsiStatus>,
    /// LUN (valid with A).
    pub lun: u64,
    /// ITT of the command.
    pub itt: u32,
    /// TTT (valid with A), else 0xffffffff.
    pub ttt: u32,
    /// StatSN (valid with status).
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// DataSN.
    pub data_sn: u32,
    /// Buffer Offset of this payload in the command's buffer.
    pub buffer_offset: u32,
    /// Residual Count (valid with status).
    pub residual: u32,
    /// Payload.
    pub data: &'a [u8],
}

/// Logout Response (0x26, RFC 7143 §11.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutResponse {
    /// Response.
    pub response: LogoutResponseCode,
    /// ITT (echoed).
    pub itt: u32,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// Time2Wait (seconds).
    pub time2wait: u16,
    /// Time2Retain (seconds).
    pub time2retain: u16,
}

/// Ready To Transfer (0x31, RFC 7143 §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R2t {
    /// LUN.
    pub lun: u64,
    /// ITT of the command.
    pub itt: u32,
    /// TTT to put in the Data-Out PDUs.
    pub ttt: u32,
    /// StatSN (next StatSN, not advanced).
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// R2TSN.
    pub r2t_sn: u32,
    /// Buffer Offset of the requested data.
    pub buffer_offset: u32,
    /// Desired Data Transfer Length.
    pub desired_len: u32,
}

/// Asynchronous Message (0x32, RFC 7143 §11.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncMessage<'a> {
    /// LUN (SCSI events).
    pub lun: u64,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// AsyncEvent.
    pub event: AsyncEvent,
    /// AsyncVCode.
    pub vcode: u8,
    /// Parameter1.
    pub parameter1: u16,
    /// Parameter2.
    pub parameter2: u16,
    /// Parameter3.
    pub parameter3: u16,
    /// Sense data (with SenseLength prefix) and iSCSI event data.
    pub data: &'a [u8],
}

/// Reject (0x3f, RFC 7143 §11.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject<'a> {
    /// Reason.
    pub reason: RejectReason,
    /// StatSN.
    pub stat_sn: SeqNum,
    /// ExpCmdSN.
    pub exp_cmd_sn: SeqNum,
    /// MaxCmdSN.
    pub max_cmd_sn: SeqNum,
    /// DataSN/R2TSN (data SNACK reject only).
    pub data_sn: u32,
    /// The complete header (BHS, maybe AHS) of the rejected PDU.
    pub data: &'a [u8],
}

impl<'a> Reject<'a> {
    /// The ITT of the rejected PDU, read from its header in the data segment, if present.
    #[must_use]
    pub fn rejected_itt(&self) -> Option<u32> {
        let b = self.data.get(16..20)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}
