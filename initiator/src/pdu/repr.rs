//! [`Repr`]: one parsed PDU of any opcode, with `parse`, `buffer_len`, `emit`.

use super::Opcode;
use super::ahs::{
    AHS_TYPE_BIDI_READ_LEN, AHS_TYPE_EXTENDED_CDB, AhsError, AhsIter, BIDI_READ_LEN_AHS_LEN,
    extended_cdb_ahs_len,
};
use super::bhs::{BHS_LEN, Bhs, FINAL_BIT};
use super::codes::{ScsiStatus, Stage};
use super::frame::{Frame, pad_len};
use super::requests::{
    Cdb, CdbTooLong, DataOut, LoginRequest, LogoutRequest, NopOut, ScsiCommand, SnackRequest,
    TaskMgmtRequest, TextRequest,
};
use super::responses::{
    AsyncMessage, DataIn, LoginResponse, LogoutResponse, NopIn, R2t, Reject, ScsiResponse,
    TaskMgmtResponse, TextResponse,
};
use crate::digest::{DIGEST_LEN, Digests, crc32c, digest_bytes};
use crate::serial::SeqNum;

/// Largest DataSegmentLength the 24-bit field can carry.
pub const MAX_DATA_SEGMENT_LEN: usize = 0x00ff_ffff;

/// Why a PDU could not be parsed into a [`Repr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer than 48 header bytes.
    #[error("PDU header shorter than the 48-byte BHS")]
    Truncated,
    /// An opcode this codec does not know (reserved or vendor-specific).
    #[error("unknown opcode {0:#04x}")]
    UnknownOpcode(u8),
    /// The AHS or data slice does not match TotalAHSLength / DataSegmentLength.
    #[error("segment lengths do not match the BHS")]
    LengthMismatch,
    /// A malformed AHS.
    #[error(transparent)]
    Ahs(#[from] AhsError),
    /// An Extended CDB AHS makes the CDB longer than 260 bytes.
    #[error(transparent)]
    CdbTooLong(#[from] CdbTooLong),
}

/// Why a PDU could not be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The output buffer is too small.
    #[error("buffer of {available} bytes too small, {needed} needed")]
    BufferTooSmall {
        /// Bytes the PDU (or header) needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The data segment does not fit the 24-bit DataSegmentLength.
    #[error("data segment of {0} bytes exceeds the 24-bit DataSegmentLength")]
    DataTooLong(usize),
}

/// One PDU of any opcode. Data segments borrow from the receive buffer (parse) or from the
/// caller (emit); nothing is copied.
///
/// ```
/// use initiator::digest::Digests;
/// use initiator::pdu::{Frame, NopOut, Repr};
/// use initiator::serial::SeqNum;
///
/// let ping = Repr::NopOut(NopOut {
///     immediate: true, lun: 0, itt: 7, ttt: 0xffff_ffff,
///     cmd_sn: SeqNum(1), exp_stat_sn: SeqNum(2), data: b"hi",
/// });
/// let mut buf = [0u8; 64];
/// let len = ping.emit(&mut buf, Digests::BOTH).unwrap();
/// assert_eq!(len, ping.buffer_len(Digests::BOTH)); // 48 + 4 + 2 + 2 pad + 4
/// let frame = Frame::split(&buf[..len], Digests::BOTH).unwrap();
/// assert_eq!(Repr::parse_frame(&frame).unwrap(), ping);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is named after its opcode and documented on its struct
pub enum Repr<'a> {
    NopOut(NopOut<'a>),
    ScsiCommand(ScsiCommand<'a>),
    TaskMgmtRequest(TaskMgmtRequest),
    LoginRequest(LoginRequest<'a>),
    TextRequest(TextRequest<'a>),
    DataOut(DataOut<'a>),
    LogoutRequest(LogoutRequest),
    SnackRequest(SnackRequest),
    NopIn(NopIn<'a>),
    ScsiResponse(ScsiResponse<'a>),
    TaskMgmtResponse(TaskMgmtResponse),
    LoginResponse(LoginResponse<'a>),
    TextResponse(TextResponse<'a>),
    DataIn(DataIn<'a>),
    LogoutResponse(LogoutResponse),
    R2t(R2t),
    AsyncMessage(AsyncMessage<'a>),
    Reject(Reject<'a>),
}

const fn bit(flags: u8, mask: u8) -> bool {
    flags & mask != 0
}

const fn flag(on: bool, mask: u8) -> u8 {
    if on { mask } else { 0 }
}

/// Stage pair of a Login PDU's flags byte.
fn stages(flags: u8) -> (Stage, Stage) {
    (Stage::from((flags >> 2) & 3), Stage::from(flags & 3))
}

fn stage_bits(csg: Stage, nsg: Stage) -> u8 {
    ((u8::from(csg) & 3) << 2) | (u8::from(nsg) & 3)
}

impl<'a> Repr<'a> {
    /// Parses a split frame (see [`Frame::split`]).
    pub fn parse_frame(frame: &Frame<'a>) -> Result<Repr<'a>, ParseError> {
        Repr::parse(&frame.bhs, frame.ahs, frame.data)
    }

    /// Parses a PDU from its BHS, its AHS area (TotalAHSLength bytes) and its data segment
    /// (DataSegmentLength bytes, padding and digests excluded).
    ///
    /// Reserved fields are ignored, as RFC 7143 asks of receivers; AHS types other than the
    /// extended CDB and bidirectional read length are skipped.
    pub fn parse<T: AsRef<[u8]>>(
        bhs: &Bhs<T>,
        ahs: &'a [u8],
        data: &'a [u8],
    ) -> Result<Repr<'a>, ParseError> {
        Self::parse_of::<T, true>(bhs, ahs, data)
    }

    /// [`Repr::parse_frame`] for an initiator: only the PDUs a target sends. An initiator's
    /// opcode (0x00–0x1f) is refused as [`ParseError::UnknownOpcode`], after the same length
    /// checks, so the initiator's image carries no parser for the PDUs it never receives.
    ///
    /// ```
    /// use initiator::pdu::{Frame, ParseError, Repr};
    /// use initiator::digest::Digests;
    /// let mut pdu = [0u8; 48];
    /// pdu[0] = 0x00; // NOP-Out: an initiator's PDU
    /// let frame = Frame::split(&pdu, Digests::NONE).unwrap();
    /// assert_eq!(Repr::parse_target_frame(&frame), Err(ParseError::UnknownOpcode(0x00)));
    /// pdu[0] = 0x20; // NOP-In
    /// let frame = Frame::split(&pdu, Digests::NONE).unwrap();
    /// assert!(matches!(Repr::parse_target_frame(&frame), Ok(Repr::NopIn(_))));
    /// ```
    pub fn parse_target_frame(frame: &Frame<'a>) -> Result<Repr<'a>, ParseError> {
        Self::parse_of::<_, false>(&frame.bhs, frame.ahs, frame.data)
    }

    /// [`Repr::parse`], with the initiator's opcodes only when `INITIATOR_PDUS`.
    fn parse_of<T: AsRef<[u8]>, const INITIATOR_PDUS: bool>(
        bhs: &Bhs<T>,
        ahs: &'a [u8],
        data: &'a [u8],
    ) -> Result<Repr<'a>, ParseError> {
        bhs.check_len().map_err(|_| ParseError::Truncated)?;
        if ahs.len() != bhs.total_ahs_len()
            || u32::try_from(data.len()).ok() != Some(bhs.data_segment_len())
        {
            return Err(ParseError::LengthMismatch);
        }
        let b = bhs;
        let flags = b.flags();
        let sn24 = SeqNum(b.sn_24());
        let sn28 = SeqNum(b.sn_28());
        let sn32 = SeqNum(b.sn_32());
        let op = b.opcode();
        if INITIATOR_PDUS {
            if let Some(r) = Self::parse_initiator_pdu(op, b, ahs, data)? {
                return Ok(r);
            }
        } else if u8::from(op) < 0x20 {
            // Not compiled into `parse_target_frame`: the initiator's opcodes.
            return Err(ParseError::UnknownOpcode(op.into()));
        }
        Ok(match op {
            Opcode::NopIn => Repr::NopIn(NopIn {
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                data,
            }),
            Opcode::ScsiResponse => Repr::ScsiResponse(ScsiResponse {
                bidi_overflow: bit(flags, 0x10),
                bidi_underflow: bit(flags, 0x08),
                overflow: bit(flags, 0x04),
                underflow: bit(flags, 0x02),
                response: b.byte2().into(),
                status: b.byte3().into(),
                itt: b.itt(),
                snack_tag: b.ttt(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                exp_data_sn: b.sn_36(),
                bidi_residual: b.word_40(),
                residual: b.word_44(),
                data,
            }),
            Opcode::TaskMgmtResponse => Repr::TaskMgmtResponse(TaskMgmtResponse {
                response: b.byte2().into(),
                itt: b.itt(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
            }),
            Opcode::LoginResponse => {
                let (csg, nsg) = stages(flags);
                Repr::LoginResponse(LoginResponse {
                    transit: bit(flags, 0x80),
                    continue_bit: bit(flags, 0x40),
                    csg,
                    nsg,
                    version_max: b.byte2(),
                    version_active: b.byte3(),
                    isid: b.isid(),
                    tsih: b.tsih(),
                    itt: b.itt(),
                    stat_sn: sn24,
                    exp_cmd_sn: sn28,
                    max_cmd_sn: sn32,
                    status: super::LoginStatus::from_parts(b.byte36(), b.byte37()),
                    data,
                })
            }
            Opcode::TextResponse => Repr::TextResponse(TextResponse {
                final_bit: bit(flags, FINAL_BIT),
                continue_bit: bit(flags, 0x40),
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                data,
            }),
            Opcode::DataIn => Repr::DataIn(DataIn {
                data,
                ..DataIn::from_bhs(b)
            }),
            Opcode::LogoutResponse => Repr::LogoutResponse(LogoutResponse {
                response: b.byte2().into(),
                itt: b.itt(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                time2wait: b.half_40(),
                time2retain: b.half_42(),
            }),
            Opcode::R2t => Repr::R2t(R2t {
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                r2t_sn: b.sn_36(),
                buffer_offset: b.word_40(),
                desired_len: b.word_44(),
            }),
            Opcode::AsyncMessage => Repr::AsyncMessage(AsyncMessage {
                lun: b.lun(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                event: b.byte36().into(),
                vcode: b.byte37(),
                parameter1: b.parameter1(),
                parameter2: b.half_40(),
                parameter3: b.half_42(),
                data,
            }),
            Opcode::Reject => Repr::Reject(Reject {
                reason: b.byte2().into(),
                stat_sn: sn24,
                exp_cmd_sn: sn28,
                max_cmd_sn: sn32,
                data_sn: b.sn_36(),
                data,
            }),
            // Unknown, or an initiator's opcode already handled above.
            other => return Err(ParseError::UnknownOpcode(other.into())),
        })
    }

    /// The PDUs an initiator sends (opcodes 0x00–0x1f), or `None` for any other opcode.
    fn parse_initiator_pdu<T: AsRef<[u8]>>(
        op: Opcode,
        b: &Bhs<T>,
        ahs: &'a [u8],
        data: &'a [u8],
    ) -> Result<Option<Repr<'a>>, ParseError> {
        let flags = b.flags();
        let sn24 = SeqNum(b.sn_24());
        let sn28 = SeqNum(b.sn_28());
        let sn32 = SeqNum(b.sn_32());
        Ok(Some(match op {
            Opcode::NopOut => Repr::NopOut(NopOut {
                immediate: b.immediate(),
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                cmd_sn: sn24,
                exp_stat_sn: sn28,
                data,
            }),
            Opcode::ScsiCommand => {
                let (ext, bidi_read_len) = parse_command_ahs(ahs)?;
                Repr::ScsiCommand(ScsiCommand {
                    immediate: b.immediate(),
                    final_bit: bit(flags, FINAL_BIT),
                    read: bit(flags, 0x40),
                    write: bit(flags, 0x20),
                    attr: (flags & 0x07).into(),
                    lun: b.lun(),
                    itt: b.itt(),
                    expected_len: b.ttt(),
                    cmd_sn: sn24,
                    exp_stat_sn: sn28,
                    cdb: Cdb::from_parts(b.cdb(), ext)?,
                    bidi_read_len,
                    data,
                })
            }
            Opcode::TaskMgmtRequest => Repr::TaskMgmtRequest(TaskMgmtRequest {
                immediate: b.immediate(),
                function: (flags & 0x7f).into(),
                lun: b.lun(),
                itt: b.itt(),
                ref_task_tag: b.ttt(),
                cmd_sn: sn24,
                exp_stat_sn: sn28,
                ref_cmd_sn: sn32,
                exp_data_sn: b.sn_36(),
            }),
            Opcode::LoginRequest => {
                let (csg, nsg) = stages(flags);
                Repr::LoginRequest(LoginRequest {
                    transit: bit(flags, 0x80),
                    continue_bit: bit(flags, 0x40),
                    csg,
                    nsg,
                    version_max: b.byte2(),
                    version_min: b.byte3(),
                    isid: b.isid(),
                    tsih: b.tsih(),
                    itt: b.itt(),
                    cid: b.cid(),
                    cmd_sn: sn24,
                    exp_stat_sn: sn28,
                    data,
                })
            }
            Opcode::TextRequest => Repr::TextRequest(TextRequest {
                immediate: b.immediate(),
                final_bit: bit(flags, FINAL_BIT),
                continue_bit: bit(flags, 0x40),
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                cmd_sn: sn24,
                exp_stat_sn: sn28,
                data,
            }),
            Opcode::DataOut => Repr::DataOut(DataOut {
                final_bit: bit(flags, FINAL_BIT),
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                exp_stat_sn: sn28,
                data_sn: b.sn_36(),
                buffer_offset: b.word_40(),
                data,
            }),
            Opcode::LogoutRequest => Repr::LogoutRequest(LogoutRequest {
                immediate: b.immediate(),
                reason: (flags & 0x7f).into(),
                itt: b.itt(),
                cid: b.cid(),
                cmd_sn: sn24,
                exp_stat_sn: sn28,
            }),
            Opcode::SnackRequest => Repr::SnackRequest(SnackRequest {
                snack_type: (flags & 0x0f).into(),
                lun: b.lun(),
                itt: b.itt(),
                ttt: b.ttt(),
                exp_stat_sn: sn28,
                beg_run: b.word_40(),
                run_length: b.word_44(),
            }),
            _ => return Ok(None),
        }))
    }

    /// The opcode of this PDU.
    #[must_use]
    pub fn opcode(&self) -> Opcode {
        match self {
            Repr::NopOut(_) => Opcode::NopOut,
            Repr::ScsiCommand(_) => Opcode::ScsiCommand,
            Repr::TaskMgmtRequest(_) => Opcode::TaskMgmtRequest,
            Repr::LoginRequest(_) => Opcode::LoginRequest,
            Repr::TextRequest(_) => Opcode::TextRequest,
            Repr::DataOut(_) => Opcode::DataOut,
            Repr::LogoutRequest(_) => Opcode::LogoutRequest,
            Repr::SnackRequest(_) => Opcode::SnackRequest,
            Repr::NopIn(_) => Opcode::NopIn,
            Repr::ScsiResponse(_) => Opcode::ScsiResponse,
            Repr::TaskMgmtResponse(_) => Opcode::TaskMgmtResponse,
            Repr::LoginResponse(_) => Opcode::LoginResponse,
            Repr::TextResponse(_) => Opcode::TextResponse,
            Repr::DataIn(_) => Opcode::DataIn,
            Repr::LogoutResponse(_) => Opcode::LogoutResponse,
            Repr::R2t(_) => Opcode::R2t,
            Repr::AsyncMessage(_) => Opcode::AsyncMessage,
            Repr::Reject(_) => Opcode::Reject,
        }
    }

    /// The data segment (empty for opcodes without one).
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        match self {
            Repr::NopOut(p) => p.data,
            Repr::ScsiCommand(p) => p.data,
            Repr::LoginRequest(p) => p.data,
            Repr::TextRequest(p) => p.data,
            Repr::DataOut(p) => p.data,
            Repr::NopIn(p) => p.data,
            Repr::ScsiResponse(p) => p.data,
            Repr::LoginResponse(p) => p.data,
            Repr::TextResponse(p) => p.data,
            Repr::DataIn(p) => p.data,
            Repr::AsyncMessage(p) => p.data,
            Repr::Reject(p) => p.data,
            Repr::TaskMgmtRequest(_)
            | Repr::LogoutRequest(_)
            | Repr::SnackRequest(_)
            | Repr::TaskMgmtResponse(_)
            | Repr::LogoutResponse(_)
            | Repr::R2t(_) => &[],
        }
    }

    /// Bytes of the AHS area this PDU emits (only SCSI Command has AHS).
    #[must_use]
    pub fn ahs_len(&self) -> usize {
        match self {
            Repr::ScsiCommand(cmd) => {
                extended_cdb_ahs_len(16 + cmd.cdb.extended().len())
                    + if cmd.bidi_read_len.is_some() {
                        BIDI_READ_LEN_AHS_LEN
                    } else {
                        0
                    }
            }
            _ => 0,
        }
    }

    /// Bytes of BHS + AHS + header digest: what [`Repr::emit_header`] writes.
    #[must_use]
    pub fn header_len(&self, digests: Digests) -> usize {
        BHS_LEN + self.ahs_len() + digests.header_len()
    }

    /// Bytes of the whole PDU on the wire: header, data, padding, data digest.
    #[must_use]
    pub fn buffer_len(&self, digests: Digests) -> usize {
        let data = self.data().len();
        self.header_len(digests) + data + pad_len(data) + digests.data_len(data)
    }

    /// Writes the 48-byte BHS (reserved bytes zeroed; DataSegmentLength truncated to 24 bits,
    /// which [`Repr::emit_header`] checks first).
    pub fn emit_bhs<T: AsRef<[u8]> + AsMut<[u8]>>(&self, bhs: &mut Bhs<T>) {
        self.emit_bhs_of::<T, true>(bhs);
    }

    /// [`Repr::emit_bhs`]; without `TARGET_PDUS`, a target's PDU gets only its opcode and
    /// lengths (an initiator never sends one), so the initiator's image carries no emitter
    /// for them.
    fn emit_bhs_of<T: AsRef<[u8]> + AsMut<[u8]>, const TARGET_PDUS: bool>(&self, bhs: &mut Bhs<T>) {
        bhs.clear();
        bhs.set_opcode(self.opcode());
        bhs.set_total_ahs_len(self.ahs_len());
        bhs.set_data_segment_len(u32::try_from(self.data().len()).unwrap_or(u32::MAX));
        match self {
            Repr::NopOut(p) => {
                bhs.set_immediate(p.immediate);
                bhs.set_flags(FINAL_BIT);
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                bhs.set_sn_24(p.cmd_sn.0);
                bhs.set_sn_28(p.exp_stat_sn.0);
            }
            Repr::ScsiCommand(p) => {
                bhs.set_immediate(p.immediate);
                bhs.set_flags(
                    flag(p.final_bit, FINAL_BIT)
                        | flag(p.read, 0x40)
                        | flag(p.write, 0x20)
                        | (u8::from(p.attr) & 0x07),
                );
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.expected_len);
                bhs.set_sn_24(p.cmd_sn.0);
                bhs.set_sn_28(p.exp_stat_sn.0);
                bhs.set_cdb(*p.cdb.bhs_part());
            }
            Repr::TaskMgmtRequest(p) => {
                bhs.set_immediate(p.immediate);
                bhs.set_flags(FINAL_BIT | (u8::from(p.function) & 0x7f));
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ref_task_tag);
                bhs.set_sn_24(p.cmd_sn.0);
                bhs.set_sn_28(p.exp_stat_sn.0);
                bhs.set_sn_32(p.ref_cmd_sn.0);
                bhs.set_sn_36(p.exp_data_sn);
            }
            Repr::LoginRequest(p) => {
                bhs.set_immediate(true);
                bhs.set_flags(
                    flag(p.transit, 0x80) | flag(p.continue_bit, 0x40) | stage_bits(p.csg, p.nsg),
                );
                bhs.set_byte2(p.version_max);
                bhs.set_byte3(p.version_min);
                bhs.set_isid(p.isid);
                bhs.set_tsih(p.tsih);
                bhs.set_itt(p.itt);
                bhs.set_cid(p.cid);
                bhs.set_sn_24(p.cmd_sn.0);
                bhs.set_sn_28(p.exp_stat_sn.0);
            }
            Repr::TextRequest(p) => {
                bhs.set_immediate(p.immediate);
                bhs.set_flags(flag(p.final_bit, FINAL_BIT) | flag(p.continue_bit, 0x40));
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                bhs.set_sn_24(p.cmd_sn.0);
                bhs.set_sn_28(p.exp_stat_sn.0);
            }
            Repr::DataOut(p) => {
                bhs.set_flags(flag(p.final_bit, FINAL_BIT));
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                bhs.set_sn_28(p.exp_stat_sn.0);
                bhs.set_sn_36(p.data_sn);
                bhs.set_word_40(p.buffer_offset);
            }
            Repr::LogoutRequest(p) => {
                bhs.set_immediate(p.immediate);
                bhs.set_flags(FINAL_BIT | (u8::from(p.reason) & 0x7f));
                bhs.set_itt(p.itt);
                bhs.set_cid(p.cid);
                bhs.set_sn_24(p.cmd_sn.0);
                bhs.set_sn_28(p.exp_stat_sn.0);
            }
            Repr::SnackRequest(p) => {
                bhs.set_flags(FINAL_BIT | (u8::from(p.snack_type) & 0x0f));
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                bhs.set_sn_28(p.exp_stat_sn.0);
                bhs.set_word_40(p.beg_run);
                bhs.set_word_44(p.run_length);
            }
            // Constant per instance: compiles the target's PDUs out of the initiator's emitter.
            _ if !TARGET_PDUS => debug_assert!(false, "an initiator emits only its own PDUs"),
            Repr::NopIn(p) => {
                bhs.set_flags(FINAL_BIT);
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
            }
            Repr::ScsiResponse(p) => {
                bhs.set_flags(
                    FINAL_BIT
                        | flag(p.bidi_overflow, 0x10)
                        | flag(p.bidi_underflow, 0x08)
                        | flag(p.overflow, 0x04)
                        | flag(p.underflow, 0x02),
                );
                bhs.set_byte2(p.response.into());
                bhs.set_byte3(p.status.into());
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.snack_tag);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_sn_36(p.exp_data_sn);
                bhs.set_word_40(p.bidi_residual);
                bhs.set_word_44(p.residual);
            }
            Repr::TaskMgmtResponse(p) => {
                bhs.set_flags(FINAL_BIT);
                bhs.set_byte2(p.response.into());
                bhs.set_itt(p.itt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
            }
            Repr::LoginResponse(p) => {
                bhs.set_flags(
                    flag(p.transit, 0x80) | flag(p.continue_bit, 0x40) | stage_bits(p.csg, p.nsg),
                );
                bhs.set_byte2(p.version_max);
                bhs.set_byte3(p.version_active);
                bhs.set_isid(p.isid);
                bhs.set_tsih(p.tsih);
                bhs.set_itt(p.itt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_byte36(u8::from(p.status.class()));
                bhs.set_byte37(p.status.detail());
            }
            Repr::TextResponse(p) => {
                bhs.set_flags(flag(p.final_bit, FINAL_BIT) | flag(p.continue_bit, 0x40));
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
            }
            Repr::DataIn(p) => {
                bhs.set_flags(
                    flag(p.final_bit, FINAL_BIT)
                        | flag(p.ack, 0x40)
                        | flag(p.overflow, 0x04)
                        | flag(p.underflow, 0x02)
                        | flag(p.status.is_some(), 0x01),
                );
                if let Some(status) = p.status {
                    bhs.set_byte3(status.into());
                }
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_sn_36(p.data_sn);
                bhs.set_word_40(p.buffer_offset);
                bhs.set_word_44(p.residual);
            }
            Repr::LogoutResponse(p) => {
                bhs.set_flags(FINAL_BIT);
                bhs.set_byte2(p.response.into());
                bhs.set_itt(p.itt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_half_40(p.time2wait);
                bhs.set_half_42(p.time2retain);
            }
            Repr::R2t(p) => {
                bhs.set_flags(FINAL_BIT);
                bhs.set_lun(p.lun);
                bhs.set_itt(p.itt);
                bhs.set_ttt(p.ttt);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_sn_36(p.r2t_sn);
                bhs.set_word_40(p.buffer_offset);
                bhs.set_word_44(p.desired_len);
            }
            Repr::AsyncMessage(p) => {
                bhs.set_flags(FINAL_BIT);
                bhs.set_lun(p.lun);
                bhs.set_itt(0xffff_ffff);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_byte36(p.event.into());
                bhs.set_byte37(p.vcode);
                bhs.set_parameter1(p.parameter1);
                bhs.set_half_40(p.parameter2);
                bhs.set_half_42(p.parameter3);
            }
            Repr::Reject(p) => {
                bhs.set_flags(FINAL_BIT);
                bhs.set_byte2(p.reason.into());
                bhs.set_itt(0xffff_ffff);
                emit_target_sns(bhs, p.stat_sn, p.exp_cmd_sn, p.max_cmd_sn);
                bhs.set_sn_36(p.data_sn);
            }
        }
    }

    /// Writes the AHS area ([`Repr::ahs_len`] bytes) into `area`.
    fn emit_ahs(&self, area: &mut [u8]) {
        area.fill(0);
        let Repr::ScsiCommand(cmd) = self else {
            return;
        };
        let mut at = 0;
        let ext = cmd.cdb.extended();
        if !ext.is_empty() {
            // AHSLength counts the reserved byte plus the CDB bytes past the 16th.
            let len = u16::try_from(ext.len() + 1).unwrap_or(u16::MAX);
            area[0..2].copy_from_slice(&len.to_be_bytes());
            area[2] = AHS_TYPE_EXTENDED_CDB;
            area[4..4 + ext.len()].copy_from_slice(ext);
            at = extended_cdb_ahs_len(16 + ext.len());
        }
        if let Some(read_len) = cmd.bidi_read_len {
            area[at..at + 2].copy_from_slice(&5u16.to_be_bytes());
            area[at + 2] = AHS_TYPE_BIDI_READ_LEN;
            area[at + 4..at + 8].copy_from_slice(&read_len.to_be_bytes());
        }
    }

    /// Writes BHS + AHS + header digest into `buf` and returns the bytes written
    /// ([`Repr::header_len`]). The data segment itself is not written: send it from the caller's
    /// buffer, followed by [`data_trailer`](super::data_trailer).
    pub fn emit_header(&self, buf: &mut [u8], digests: Digests) -> Result<usize, EmitError> {
        self.emit_header_of::<true>(buf, digests)
    }

    /// [`Repr::emit_header`] for the PDUs an initiator sends (opcodes 0x00–0x1f); a target's
    /// PDU gets only its opcode and lengths. The initiator's session uses this, so its image
    /// carries no emitter for the PDUs it never sends.
    pub fn emit_initiator_header(
        &self,
        buf: &mut [u8],
        digests: Digests,
    ) -> Result<usize, EmitError> {
        self.emit_header_of::<false>(buf, digests)
    }

    fn emit_header_of<const TARGET_PDUS: bool>(
        &self,
        buf: &mut [u8],
        digests: Digests,
    ) -> Result<usize, EmitError> {
        let data_len = self.data().len();
        if data_len > MAX_DATA_SEGMENT_LEN {
            return Err(EmitError::DataTooLong(data_len));
        }
        let needed = self.header_len(digests);
        let available = buf.len();
        let Some(out) = buf.get_mut(..needed) else {
            return Err(EmitError::BufferTooSmall { needed, available });
        };
        let hdr_end = BHS_LEN + self.ahs_len();
        self.emit_bhs_of::<_, TARGET_PDUS>(&mut Bhs::new_unchecked(&mut out[..BHS_LEN]));
        self.emit_ahs(&mut out[BHS_LEN..hdr_end]);
        if digests.header {
            let digest = digest_bytes(crc32c(&out[..hdr_end]));
            out[hdr_end..hdr_end + DIGEST_LEN].copy_from_slice(&digest);
        }
        Ok(needed)
    }

    /// Writes the whole PDU (header, data, padding, data digest) into `buf` and returns its
    /// length ([`Repr::buffer_len`]).
    pub fn emit(&self, buf: &mut [u8], digests: Digests) -> Result<usize, EmitError> {
        self.emit_of::<true>(buf, digests)
    }

    /// [`Repr::emit`] for the PDUs an initiator sends, as [`Repr::emit_initiator_header`].
    pub fn emit_initiator(&self, buf: &mut [u8], digests: Digests) -> Result<usize, EmitError> {
        self.emit_of::<false>(buf, digests)
    }

    fn emit_of<const TARGET_PDUS: bool>(
        &self,
        buf: &mut [u8],
        digests: Digests,
    ) -> Result<usize, EmitError> {
        let needed = self.buffer_len(digests);
        let available = buf.len();
        if available < needed {
            return Err(EmitError::BufferTooSmall { needed, available });
        }
        let at = self.emit_header_of::<TARGET_PDUS>(buf, digests)?;
        let data = self.data();
        buf[at..at + data.len()].copy_from_slice(data);
        let trailer = super::data_trailer(data, digests);
        let at = at + data.len();
        buf[at..needed].copy_from_slice(trailer.as_bytes());
        Ok(needed)
    }
}

fn emit_target_sns<T: AsRef<[u8]> + AsMut<[u8]>>(
    bhs: &mut Bhs<T>,
    stat_sn: SeqNum,
    exp_cmd_sn: SeqNum,
    max_cmd_sn: SeqNum,
) {
    bhs.set_sn_24(stat_sn.0);
    bhs.set_sn_28(exp_cmd_sn.0);
    bhs.set_sn_32(max_cmd_sn.0);
}

/// Extracts the extended CDB bytes and bidirectional read length from a SCSI Command's AHS.
fn parse_command_ahs(area: &[u8]) -> Result<(&[u8], Option<u32>), ParseError> {
    let mut ext: &[u8] = &[];
    let mut bidi = None;
    for ahs in AhsIter::new(area) {
        let ahs = ahs?;
        let bad_len = AhsError::BadLength {
            ahs_type: ahs.ahs_type,
            len: u16::try_from(ahs.specific.len()).unwrap_or(u16::MAX),
        };
        match ahs.ahs_type {
            AHS_TYPE_EXTENDED_CDB => {
                ext = ahs.specific.get(1..).ok_or(bad_len)?;
            }
            AHS_TYPE_BIDI_READ_LEN => match ahs.specific {
                [_, a, b, c, d] => bidi = Some(u32::from_be_bytes([*a, *b, *c, *d])),
                _ => return Err(bad_len.into()),
            },
            _ => {}
        }
    }
    Ok((ext, bidi))
}

impl DataIn<'static> {
    /// The fields of a Data-In header (opcode 0x25), with an empty `data`: for a receiver that
    /// takes the data segment (`bhs.data_segment_len()` bytes) as it arrives rather than whole.
    ///
    /// ```
    /// use initiator::pdu::{Bhs, DataIn};
    /// let mut h = [0u8; 48];
    /// h[0] = 0x25;
    /// h[7] = 8; // DataSegmentLength
    /// h[40..44].copy_from_slice(&512u32.to_be_bytes()); // Buffer Offset
    /// let d = DataIn::parse_header(&Bhs::new_checked(&h[..]).unwrap()).unwrap();
    /// assert_eq!((d.buffer_offset, d.status, d.data.len()), (512, None, 0));
    /// ```
    pub fn parse_header<T: AsRef<[u8]>>(bhs: &Bhs<T>) -> Result<DataIn<'static>, ParseError> {
        bhs.check_len().map_err(|_| ParseError::Truncated)?;
        match bhs.opcode() {
            Opcode::DataIn => Ok(DataIn::from_bhs(bhs)),
            other => Err(ParseError::UnknownOpcode(other.into())),
        }
    }

    /// The header fields; the caller has checked the length and the opcode.
    fn from_bhs<T: AsRef<[u8]>>(b: &Bhs<T>) -> DataIn<'static> {
        let flags = b.flags();
        DataIn {
            final_bit: bit(flags, FINAL_BIT),
            ack: bit(flags, 0x40),
            overflow: bit(flags, 0x04),
            underflow: bit(flags, 0x02),
            status: bit(flags, 0x01).then(|| ScsiStatus::from(b.byte3())),
            lun: b.lun(),
            itt: b.itt(),
            ttt: b.ttt(),
            stat_sn: SeqNum(b.sn_24()),
            exp_cmd_sn: SeqNum(b.sn_28()),
            max_cmd_sn: SeqNum(b.sn_32()),
            data_sn: b.sn_36(),
            buffer_offset: b.word_40(),
            residual: b.word_44(),
            data: &[],
        }
    }
}
