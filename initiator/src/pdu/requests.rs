//! Initiator-side PDUs (RFC 7143 §11): the fields of each opcode as plain values.

use super::ahs::{BHS_CDB_LEN, MAX_CDB_LEN};
use super::codes::{LogoutReason, SnackType, Stage, TaskAttr, TmfFunction};
use crate::serial::SeqNum;

/// NOP-Out (0x00, RFC 7143 §11.18): a ping, or the answer to a NOP-In carrying a TTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NopOut<'a> {
    /// Immediate delivery (CmdSN not advanced).
    pub immediate: bool,
    /// LUN; echoes the NOP-In's when answering one.
    pub lun: u64,
    /// ITT; 0xffffffff when answering a NOP-In.
    pub itt: u32,
    /// TTT; echoes the NOP-In's, else 0xffffffff.
    pub ttt: u32,
    /// CmdSN.
    pub cmd_sn: SeqNum,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// Ping data.
    pub data: &'a [u8],
}

/// A CDB as carried by a SCSI Command: up to 16 bytes in the BHS, the rest in an Extended CDB
/// AHS. Borrowed; a CDB shorter than 16 bytes is zero-padded in the BHS.
///
/// ```
/// use initiator::pdu::Cdb;
/// let read10 = [0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0];
/// let cdb = Cdb::new(&read10).unwrap();
/// assert_eq!(cdb.bhs_part()[..10], read10);
/// assert!(cdb.extended().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cdb<'a> {
    bhs_part: [u8; BHS_CDB_LEN],
    extended: &'a [u8],
}

/// A CDB longer than [`MAX_CDB_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("CDB of {0} bytes is longer than 260")]
pub struct CdbTooLong(pub usize);

impl<'a> Cdb<'a> {
    /// Wraps a CDB of at most [`MAX_CDB_LEN`] bytes.
    pub fn new(cdb: &'a [u8]) -> Result<Cdb<'a>, CdbTooLong> {
        if cdb.len() > MAX_CDB_LEN {
            return Err(CdbTooLong(cdb.len()));
        }
        let split = cdb.len().min(BHS_CDB_LEN);
        let mut bhs_part = [0u8; BHS_CDB_LEN];
        bhs_part[..split].copy_from_slice(&cdb[..split]);
        Ok(Cdb {
            bhs_part,
            extended: &cdb[split..],
        })
    }

    /// Builds a CDB from its two wire parts (the 16 BHS bytes, the Extended CDB AHS bytes).
    pub fn from_parts(
        bhs_part: [u8; BHS_CDB_LEN],
        extended: &'a [u8],
    ) -> Result<Cdb<'a>, CdbTooLong> {
        let len = BHS_CDB_LEN + extended.len();
        if len > MAX_CDB_LEN {
            return Err(CdbTooLong(len));
        }
        Ok(Cdb { bhs_part, extended })
    }

    /// The 16 bytes carried in the BHS.
    #[must_use]
    pub fn bhs_part(&self) -> &[u8; BHS_CDB_LEN] {
        &self.bhs_part
    }

    /// The bytes past the 16th (carried in an Extended CDB AHS); empty for short CDBs.
    #[must_use]
    pub fn extended(&self) -> &'a [u8] {
        self.extended
    }

    /// The SCSI operation code (first CDB byte).
    #[must_use]
    pub fn opcode(&self) -> u8 {
        self.bhs_part[0]
    }
}

/// SCSI Command (0x01, RFC 7143 §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScsiCommand<'a> {
    /// Immediate delivery.
    pub immediate: bool,
    /// F: no unsolicited Data-Out follows this PDU.
    pub final_bit: bool,
    /// R: data flows target → initiator.
    pub read: bool,
    /// W: data flows initiator → target.
    pub write: bool,
    /// Task attribute.
    pub attr: TaskAttr,
    /// LUN (8 bytes as sent).
    pub lun: u64,
    /// ITT.
    pub itt: u32,
    /// Expected Data Transfer Length (for bidirectional commands: the write length).
    pub expected_len: u32,
    /// CmdSN.
    pub cmd_sn: SeqNum,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// The CDB.
    pub cdb: Cdb<'a>,
    /// Bidirectional Read Expected Data Transfer Length (AHS type 2), if any.
    pub bidi_read_len: Option<u32>,
    /// Immediate data.
    pub data: &'a [u8],
}

/// SCSI Task Management Function Request (0x02, RFC 7143 §11.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskMgmtRequest {
    /// Immediate delivery (usual for TMFs).
    pub immediate: bool,
    /// Function.
    pub function: TmfFunction,
    /// LUN.
    pub lun: u64,
    /// ITT of this request.
    pub itt: u32,
    /// Referenced Task Tag (ABORT TASK), else 0xffffffff.
    pub ref_task_tag: u32,
    /// CmdSN.
    pub cmd_sn: SeqNum,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// RefCmdSN (ABORT TASK: the CmdSN of the referenced task).
    pub ref_cmd_sn: SeqNum,
    /// ExpDataSN (task reassignment only).
    pub exp_data_sn: u32,
}

/// Login Request (0x03, RFC 7143 §11.12); the immediate bit is always set on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRequest<'a> {
    /// T: the initiator is ready to move to NSG.
    pub transit: bool,
    /// C: the key=value text continues in the next PDU.
    pub continue_bit: bool,
    /// Current stage.
    pub csg: Stage,
    /// Next stage (meaningful with T).
    pub nsg: Stage,
    /// Version-max (0).
    pub version_max: u8,
    /// Version-min (0).
    pub version_min: u8,
    /// ISID.
    pub isid: [u8; 6],
    /// TSIH: 0 for a new session.
    pub tsih: u16,
    /// ITT.
    pub itt: u32,
    /// CID.
    pub cid: u16,
    /// CmdSN.
    pub cmd_sn: SeqNum,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// key=value text.
    pub data: &'a [u8],
}

/// Text Request (0x04, RFC 7143 §11.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRequest<'a> {
    /// Immediate delivery.
    pub immediate: bool,
    /// F: last PDU of the request.
    pub final_bit: bool,
    /// C: the text continues in the next PDU.
    pub continue_bit: bool,
    /// LUN (normally 0).
    pub lun: u64,
    /// ITT.
    pub itt: u32,
    /// TTT: 0xffffffff to start, else the target's to continue.
    pub ttt: u32,
    /// CmdSN.
    pub cmd_sn: SeqNum,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// key=value text.
    pub data: &'a [u8],
}

/// SCSI Data-Out (0x05, RFC 7143 §11.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataOut<'a> {
    /// F: last PDU of the sequence (R2T burst or unsolicited data).
    pub final_bit: bool,
    /// LUN (echoes the R2T's for solicited data).
    pub lun: u64,
    /// ITT of the command.
    pub itt: u32,
    /// TTT from the R2T, 0xffffffff for unsolicited data.
    pub ttt: u32,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// DataSN within the sequence.
    pub data_sn: u32,
    /// Buffer Offset.
    pub buffer_offset: u32,
    /// Payload.
    pub data: &'a [u8],
}

/// Logout Request (0x06, RFC 7143 §11.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutRequest {
    /// Immediate delivery.
    pub immediate: bool,
    /// Reason code.
    pub reason: LogoutReason,
    /// ITT.
    pub itt: u32,
    /// CID of the connection to close (reason ≠ close session).
    pub cid: u16,
    /// CmdSN.
    pub cmd_sn: SeqNum,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
}

/// SNACK Request (0x10, RFC 7143 §11.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnackRequest {
    /// Type.
    pub snack_type: SnackType,
    /// LUN (DataACK), else 0.
    pub lun: u64,
    /// ITT (0xffffffff for Status SNACK).
    pub itt: u32,
    /// TTT (DataACK) or SNACK Tag (R-Data), else 0xffffffff.
    pub ttt: u32,
    /// ExpStatSN.
    pub exp_stat_sn: SeqNum,
    /// BegRun.
    pub beg_run: u32,
    /// RunLength (0 = all from BegRun).
    pub run_length: u32,
}
