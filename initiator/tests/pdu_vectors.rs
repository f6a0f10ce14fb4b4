//! Byte vectors written by hand from the RFC 7143 §11 field layouts, checked in both directions
//! (the smoltcp quartet: deconstruct with the BHS view, construct with it, parse, emit).

use initiator::digest::Digests;
use initiator::pdu::{
    AsyncEvent, AsyncMessage, Bhs, Cdb, DataIn, DataOut, Frame, FrameStatus, LoginRequest,
    LoginResponse, LoginStatus, LogoutReason, LogoutRequest, NopIn, Opcode, R2t, Reject,
    RejectReason, Repr, ScsiCommand, ScsiResponse, ScsiResponseCode, ScsiStatus, Stage,
    StatusClass, TaskAttr, frame_status,
};
use initiator::serial::SeqNum;

/// Joins byte groups written out field by field.
fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Parses `wire` (no digests) and compares with `repr`; emits `repr` and compares with `wire`.
fn parse_and_emit(wire: &[u8], repr: Repr<'_>) {
    assert_eq!(
        frame_status(wire, Digests::NONE, 1 << 20),
        Ok(FrameStatus::Complete { len: wire.len() })
    );
    let frame = Frame::split(wire, Digests::NONE).expect("split");
    assert_eq!(Repr::parse_frame(&frame).expect("parse"), repr);
    assert_eq!(repr.buffer_len(Digests::NONE), wire.len());
    let mut out = vec![0xa5u8; wire.len()];
    assert_eq!(repr.emit(&mut out, Digests::NONE), Ok(wire.len()));
    assert_eq!(out, wire);
}

const ISID: [u8; 6] = [0x00, 0x02, 0x3d, 0x00, 0x00, 0x01];

fn login_request_bytes() -> Vec<u8> {
    bytes(&[
        &[0x43, 0x87, 0x00, 0x00], // I|0x03; T, CSG=1, NSG=3; Version-max, Version-min
        &[0x00, 0x00, 0x00, 0x12], // TotalAHSLength 0, DataSegmentLength 18
        &ISID,
        &[0x00, 0x00],             // TSIH 0: new session
        &[0x00, 0x00, 0x00, 0x01], // ITT
        &[0x00, 0x00, 0x00, 0x00], // CID 0, reserved
        &[0x00, 0x00, 0x00, 0x01], // CmdSN
        &[0x00, 0x00, 0x00, 0x00], // ExpStatSN
        &[0; 16],                  // reserved
        b"HeaderDigest=None\0",
        &[0, 0], // padding
    ])
}

fn login_request_repr() -> Repr<'static> {
    Repr::LoginRequest(LoginRequest {
        transit: true,
        continue_bit: false,
        csg: Stage::Operational,
        nsg: Stage::FullFeature,
        version_max: 0,
        version_min: 0,
        isid: ISID,
        tsih: 0,
        itt: 1,
        cid: 0,
        cmd_sn: SeqNum(1),
        exp_stat_sn: SeqNum(0),
        data: b"HeaderDigest=None\0",
    })
}

#[test]
fn login_request_deconstruct() {
    let wire = login_request_bytes();
    let bhs = Bhs::new_checked(&wire[..]).unwrap();
    assert_eq!(bhs.opcode(), Opcode::LoginRequest);
    assert!(bhs.immediate());
    assert!(bhs.final_bit()); // the T bit sits where F does
    assert_eq!(bhs.flags() & 0x0f, 0x07);
    assert_eq!(bhs.total_ahs_len(), 0);
    assert_eq!(bhs.data_segment_len(), 18);
    assert_eq!(bhs.isid(), ISID);
    assert_eq!(bhs.tsih(), 0);
    assert_eq!(bhs.itt(), 1);
    assert_eq!(bhs.cid(), 0);
    assert_eq!(bhs.sn_24(), 1);
    assert_eq!(bhs.sn_28(), 0);
}

#[test]
fn login_request_construct() {
    let mut out = [0u8; 48];
    let mut bhs = Bhs::new_unchecked(&mut out[..]);
    bhs.set_opcode(Opcode::LoginRequest);
    bhs.set_immediate(true);
    bhs.set_flags(0x87);
    bhs.set_data_segment_len(18);
    bhs.set_isid(ISID);
    bhs.set_itt(1);
    bhs.set_sn_24(1);
    assert_eq!(out[..], login_request_bytes()[..48]);
}

#[test]
fn login_request_parse_emit() {
    parse_and_emit(&login_request_bytes(), login_request_repr());
}

#[test]
fn login_response_with_status() {
    let wire = bytes(&[
        &[0x23, 0x00, 0x00, 0x00], // Login Response; T=0, CSG=0, NSG=0; Version-max, -active
        &[0x00, 0x00, 0x00, 0x00],
        &ISID,
        &[0x00, 0x00],             // TSIH
        &[0x00, 0x00, 0x00, 0x01], // ITT
        &[0x00, 0x00, 0x00, 0x00], // reserved
        &[0x00, 0x00, 0x00, 0x10], // StatSN
        &[0x00, 0x00, 0x00, 0x01], // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x01], // MaxCmdSN
        &[0x02, 0x01],             // Status-Class 2, Status-Detail 1: authentication failure
        &[0; 10],
    ]);
    let bhs = Bhs::new_checked(&wire[..]).unwrap();
    assert_eq!(bhs.opcode(), Opcode::LoginResponse);
    assert_eq!((bhs.byte36(), bhs.byte37()), (2, 1));
    let repr = Repr::LoginResponse(LoginResponse {
        transit: false,
        continue_bit: false,
        csg: Stage::Security,
        nsg: Stage::Security,
        version_max: 0,
        version_active: 0,
        isid: ISID,
        tsih: 0,
        itt: 1,
        stat_sn: SeqNum(0x10),
        exp_cmd_sn: SeqNum(1),
        max_cmd_sn: SeqNum(1),
        status: LoginStatus::AuthenticationFailure,
        data: b"",
    });
    parse_and_emit(&wire, repr);
    assert_eq!(
        LoginStatus::AuthenticationFailure.class(),
        StatusClass::InitiatorError
    );
}

const READ10: [u8; 10] = [0x28, 0, 0, 0, 0, 0x10, 0, 0, 0x08, 0];

#[test]
fn scsi_command_read10() {
    let wire = bytes(&[
        &[0x01, 0xc1, 0x00, 0x00], // SCSI Command; F, R, ATTR=Simple
        &[0x00, 0x00, 0x00, 0x00],
        &[0x00, 0x01, 0, 0, 0, 0, 0, 0], // LUN 1 (SAM single-level)
        &[0x00, 0x00, 0x00, 0x0a],       // ITT
        &[0x00, 0x00, 0x10, 0x00],       // Expected Data Transfer Length 4096
        &[0x00, 0x00, 0x00, 0x22],       // CmdSN
        &[0x00, 0x00, 0x00, 0x33],       // ExpStatSN
        &READ10,
        &[0; 6], // CDB padding to 16
    ]);
    let bhs = Bhs::new_checked(&wire[..]).unwrap();
    assert_eq!(bhs.opcode(), Opcode::ScsiCommand);
    assert!(!bhs.immediate());
    assert_eq!(bhs.lun(), 0x0001_0000_0000_0000);
    assert_eq!(bhs.ttt(), 4096);
    assert_eq!(bhs.cdb()[..10], READ10);
    let repr = Repr::ScsiCommand(ScsiCommand {
        immediate: false,
        final_bit: true,
        read: true,
        write: false,
        attr: TaskAttr::Simple,
        lun: 0x0001_0000_0000_0000,
        itt: 0x0a,
        expected_len: 4096,
        cmd_sn: SeqNum(0x22),
        exp_stat_sn: SeqNum(0x33),
        cdb: Cdb::new(&READ10).unwrap(),
        bidi_read_len: None,
        data: b"",
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn scsi_command_with_extended_cdb_and_bidi_ahs() {
    // A 32-byte variable-length CDB: 16 bytes in the BHS, 16 in an Extended CDB AHS whose
    // AHSLength is CDB length - 15 = 17 (reserved byte + 16), padded to 20 bytes; then the
    // bidirectional read length AHS (AHSLength 5, type 2).
    let cdb: Vec<u8> = (0x40..0x60).collect();
    let wire = bytes(&[
        &[0x01, 0xe1, 0x00, 0x00], // F, R, W, Simple
        &[0x07, 0x00, 0x00, 0x00], // TotalAHSLength 7 words = 28 bytes
        &[0; 8],                   // LUN 0
        &[0x00, 0x00, 0x00, 0x01], // ITT
        &[0x00, 0x00, 0x02, 0x00], // EDTL 512 (write part)
        &[0x00, 0x00, 0x00, 0x05], // CmdSN
        &[0x00, 0x00, 0x00, 0x06], // ExpStatSN
        &cdb[..16],                // CDB bytes 0..16
        &[0x00, 0x11, 0x01, 0x00], // AHSLength 17, AHSType 1, reserved
        &cdb[16..],                // CDB bytes 16..32: 3 + 17 = 20 bytes, no padding
        &[0x00, 0x05, 0x02, 0x00], // AHSLength 5, AHSType 2, reserved
        &[0x00, 0x00, 0x10, 0x00], // Bidirectional Read Expected Data Transfer Length 4096
    ]);
    let repr = Repr::ScsiCommand(ScsiCommand {
        immediate: false,
        final_bit: true,
        read: true,
        write: true,
        attr: TaskAttr::Simple,
        lun: 0,
        itt: 1,
        expected_len: 512,
        cmd_sn: SeqNum(5),
        exp_stat_sn: SeqNum(6),
        cdb: Cdb::new(&cdb).unwrap(),
        bidi_read_len: Some(4096),
        data: b"",
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn scsi_response_with_residual_and_sense() {
    let sense = [
        0x70, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00,
        0x00, 0x00, 0x00,
    ]; // fixed format, ILLEGAL REQUEST, ASC 0x24
    let wire = bytes(&[
        &[0x21, 0x82, 0x00, 0x02], // SCSI Response; U; completed; CHECK CONDITION
        &[0x00, 0x00, 0x00, 0x14], // DataSegmentLength 20
        &[0; 8],                   // reserved
        &[0x00, 0x00, 0x00, 0x0a], // ITT
        &[0x00, 0x00, 0x00, 0x00], // SNACK Tag
        &[0x00, 0x00, 0x00, 0x33], // StatSN
        &[0x00, 0x00, 0x00, 0x23], // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x42], // MaxCmdSN
        &[0x00, 0x00, 0x00, 0x00], // ExpDataSN
        &[0x00, 0x00, 0x00, 0x00], // Bidirectional Read Residual Count
        &[0x00, 0x00, 0x02, 0x00], // Residual Count 512
        &[0x00, 0x12],             // SenseLength 18
        &sense,
    ]);
    let repr = Repr::ScsiResponse(ScsiResponse {
        bidi_overflow: false,
        bidi_underflow: false,
        overflow: false,
        underflow: true,
        response: ScsiResponseCode::CommandCompleted,
        status: ScsiStatus::CheckCondition,
        itt: 0x0a,
        snack_tag: 0,
        stat_sn: SeqNum(0x33),
        exp_cmd_sn: SeqNum(0x23),
        max_cmd_sn: SeqNum(0x42),
        exp_data_sn: 0,
        bidi_residual: 0,
        residual: 512,
        data: &wire[48..],
    });
    parse_and_emit(&wire, repr);
    let Repr::ScsiResponse(parsed) =
        Repr::parse_frame(&Frame::split(&wire, Digests::NONE).unwrap()).unwrap()
    else {
        panic!("not a SCSI Response");
    };
    assert_eq!(parsed.sense(), Ok(&sense[..]));
    assert_eq!(parsed.response_data(), Ok(&[][..]));
}

#[test]
fn data_in_with_status() {
    let wire = bytes(&[
        &[0x25, 0x81, 0x00, 0x00], // Data-In; F, S; status GOOD
        &[0x00, 0x00, 0x00, 0x08], // DataSegmentLength 8
        &[0; 8],                   // LUN
        &[0x00, 0x00, 0x00, 0x0a], // ITT
        &[0xff, 0xff, 0xff, 0xff], // TTT
        &[0x00, 0x00, 0x00, 0x34], // StatSN
        &[0x00, 0x00, 0x00, 0x23], // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x42], // MaxCmdSN
        &[0x00, 0x00, 0x00, 0x03], // DataSN
        &[0x00, 0x00, 0x30, 0x00], // Buffer Offset
        &[0x00, 0x00, 0x00, 0x00], // Residual Count
        &[1, 2, 3, 4, 5, 6, 7, 8],
    ]);
    let repr = Repr::DataIn(DataIn {
        final_bit: true,
        ack: false,
        overflow: false,
        underflow: false,
        status: Some(ScsiStatus::Good),
        lun: 0,
        itt: 0x0a,
        ttt: 0xffff_ffff,
        stat_sn: SeqNum(0x34),
        exp_cmd_sn: SeqNum(0x23),
        max_cmd_sn: SeqNum(0x42),
        data_sn: 3,
        buffer_offset: 0x3000,
        residual: 0,
        data: &[1, 2, 3, 4, 5, 6, 7, 8],
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn data_in_without_status_ignores_status_byte() {
    // S clear: byte 3 is reserved and must not surface as a status.
    let mut wire = vec![0u8; 48];
    wire[0] = 0x25;
    wire[3] = 0x02;
    let frame = Frame::split(&wire, Digests::NONE).unwrap();
    let Ok(Repr::DataIn(data_in)) = Repr::parse_frame(&frame) else {
        panic!("not Data-In");
    };
    assert_eq!(data_in.status, None);
}

#[test]
fn r2t() {
    let wire = bytes(&[
        &[0x31, 0x80, 0x00, 0x00],
        &[0x00, 0x00, 0x00, 0x00],
        &[0x00, 0x01, 0, 0, 0, 0, 0, 0], // LUN 1
        &[0x00, 0x00, 0x00, 0x0b],       // ITT
        &[0x00, 0x00, 0x12, 0x34],       // TTT
        &[0x00, 0x00, 0x00, 0x35],       // StatSN
        &[0x00, 0x00, 0x00, 0x24],       // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x43],       // MaxCmdSN
        &[0x00, 0x00, 0x00, 0x01],       // R2TSN
        &[0x00, 0x00, 0x20, 0x00],       // Buffer Offset
        &[0x00, 0x00, 0x10, 0x00],       // Desired Data Transfer Length
    ]);
    let repr = Repr::R2t(R2t {
        lun: 0x0001_0000_0000_0000,
        itt: 0x0b,
        ttt: 0x1234,
        stat_sn: SeqNum(0x35),
        exp_cmd_sn: SeqNum(0x24),
        max_cmd_sn: SeqNum(0x43),
        r2t_sn: 1,
        buffer_offset: 0x2000,
        desired_len: 0x1000,
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn nop_in_ping_from_target() {
    let wire = bytes(&[
        &[0x20, 0x80, 0x00, 0x00],
        &[0x00, 0x00, 0x00, 0x00],
        &[0; 8],
        &[0xff, 0xff, 0xff, 0xff], // ITT reserved: target-initiated
        &[0x00, 0x00, 0x00, 0x05], // TTT: answer wanted
        &[0x00, 0x00, 0x00, 0x36], // StatSN
        &[0x00, 0x00, 0x00, 0x25], // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x44], // MaxCmdSN
        &[0; 12],
    ]);
    let repr = Repr::NopIn(NopIn {
        lun: 0,
        itt: 0xffff_ffff,
        ttt: 5,
        stat_sn: SeqNum(0x36),
        exp_cmd_sn: SeqNum(0x25),
        max_cmd_sn: SeqNum(0x44),
        data: b"",
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn data_out() {
    let wire = bytes(&[
        &[0x05, 0x80, 0x00, 0x00],
        &[0x00, 0x00, 0x00, 0x04],
        &[0x00, 0x01, 0, 0, 0, 0, 0, 0],
        &[0x00, 0x00, 0x00, 0x0b], // ITT
        &[0x00, 0x00, 0x12, 0x34], // TTT from the R2T
        &[0x00, 0x00, 0x00, 0x00], // reserved
        &[0x00, 0x00, 0x00, 0x36], // ExpStatSN
        &[0x00, 0x00, 0x00, 0x00], // reserved
        &[0x00, 0x00, 0x00, 0x02], // DataSN
        &[0x00, 0x00, 0x20, 0x00], // Buffer Offset
        &[0x00, 0x00, 0x00, 0x00], // reserved
        &[0xde, 0xad, 0xbe, 0xef],
    ]);
    let repr = Repr::DataOut(DataOut {
        final_bit: true,
        lun: 0x0001_0000_0000_0000,
        itt: 0x0b,
        ttt: 0x1234,
        exp_stat_sn: SeqNum(0x36),
        data_sn: 2,
        buffer_offset: 0x2000,
        data: &[0xde, 0xad, 0xbe, 0xef],
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn logout_request() {
    let wire = bytes(&[
        &[0x46, 0x80, 0x00, 0x00], // I|0x06; reason 0 close session
        &[0x00, 0x00, 0x00, 0x00],
        &[0; 8],
        &[0x00, 0x00, 0x00, 0x0c], // ITT
        &[0x00, 0x00, 0x00, 0x00], // CID, reserved
        &[0x00, 0x00, 0x00, 0x24], // CmdSN
        &[0x00, 0x00, 0x00, 0x37], // ExpStatSN
        &[0; 16],
    ]);
    let repr = Repr::LogoutRequest(LogoutRequest {
        immediate: true,
        reason: LogoutReason::CloseSession,
        itt: 0x0c,
        cid: 0,
        cmd_sn: SeqNum(0x24),
        exp_stat_sn: SeqNum(0x37),
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn reject_carries_bad_header() {
    let bad_header = bytes(&[&[0x00, 0x80, 0, 0], &[0; 12], &[0, 0, 0, 0x77], &[0; 28]]);
    let wire = bytes(&[
        &[0x3f, 0x80, 0x09, 0x00], // Reject; reason: invalid PDU field
        &[0x00, 0x00, 0x00, 0x30], // DataSegmentLength 48
        &[0; 8],
        &[0xff, 0xff, 0xff, 0xff],
        &[0; 4],
        &[0x00, 0x00, 0x00, 0x37], // StatSN
        &[0x00, 0x00, 0x00, 0x25], // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x44], // MaxCmdSN
        &[0x00, 0x00, 0x00, 0x00], // DataSN/R2TSN
        &[0; 8],
        &bad_header,
    ]);
    let repr = Repr::Reject(Reject {
        reason: RejectReason::InvalidPduField,
        stat_sn: SeqNum(0x37),
        exp_cmd_sn: SeqNum(0x25),
        max_cmd_sn: SeqNum(0x44),
        data_sn: 0,
        data: &bad_header,
    });
    parse_and_emit(&wire, repr);
    let Repr::Reject(reject) = repr else {
        unreachable!()
    };
    assert_eq!(reject.rejected_itt(), Some(0x77));
}

#[test]
fn async_message_logout_requested() {
    let wire = bytes(&[
        &[0x32, 0x80, 0x00, 0x00],
        &[0x00, 0x00, 0x00, 0x00],
        &[0; 8],
        &[0xff, 0xff, 0xff, 0xff], // ITT reserved
        &[0; 4],
        &[0x00, 0x00, 0x00, 0x38], // StatSN
        &[0x00, 0x00, 0x00, 0x25], // ExpCmdSN
        &[0x00, 0x00, 0x00, 0x44], // MaxCmdSN
        &[0x01, 0x00],             // AsyncEvent 1: logout requested; AsyncVCode
        &[0x00, 0x00],             // Parameter1
        &[0x00, 0x00],             // Parameter2
        &[0x00, 0x0a],             // Parameter3: log out within 10 s
        &[0; 4],
    ]);
    let repr = Repr::AsyncMessage(AsyncMessage {
        lun: 0,
        stat_sn: SeqNum(0x38),
        exp_cmd_sn: SeqNum(0x25),
        max_cmd_sn: SeqNum(0x44),
        event: AsyncEvent::LogoutRequested,
        vcode: 0,
        parameter1: 0,
        parameter2: 0,
        parameter3: 10,
        data: b"",
    });
    parse_and_emit(&wire, repr);
}

#[test]
fn unknown_opcode_is_an_error() {
    let mut wire = [0u8; 48];
    wire[0] = 0x1c; // vendor-specific initiator opcode
    let frame = Frame::split(&wire, Digests::NONE).unwrap();
    assert_eq!(
        Repr::parse_frame(&frame),
        Err(initiator::pdu::ParseError::UnknownOpcode(0x1c))
    );
}
