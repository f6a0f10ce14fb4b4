//! Property tests: every PDU type survives emit → frame → split → parse unchanged, with and
//! without digests; arbitrary bytes through framing and parsing never panic.

use initiator::digest::Digests;
use initiator::pdu::{
    AsyncMessage, Bhs, Cdb, DataIn, DataOut, Frame, FrameStatus, LoginRequest, LoginResponse,
    LogoutRequest, LogoutResponse, NopIn, NopOut, ParseError, R2t, Reject, Repr, ScsiCommand,
    ScsiResponse, ScsiStatus, SnackRequest, Stage, TaskMgmtRequest, TaskMgmtResponse, TextRequest,
    TextResponse, frame_status,
};
use initiator::serial::SeqNum;
use proptest::prelude::*;

fn seq() -> impl Strategy<Value = SeqNum> {
    any::<u32>().prop_map(SeqNum)
}

/// Data segments live for the whole test run (a few KiB leaked per case).
fn data() -> impl Strategy<Value = &'static [u8]> {
    prop::collection::vec(any::<u8>(), 0..70).prop_map(|v| &*v.leak())
}

fn stage() -> impl Strategy<Value = Stage> {
    (0u8..4).prop_map(Stage::from)
}

fn digests() -> impl Strategy<Value = Digests> {
    (any::<bool>(), any::<bool>()).prop_map(|(header, data)| Digests { header, data })
}

fn cdb() -> impl Strategy<Value = Cdb<'static>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 16),
        prop::collection::vec(any::<u8>(), 17..=260),
    ]
    .prop_map(|v| Cdb::new(v.leak()).unwrap())
}

fn target_sns() -> impl Strategy<Value = (SeqNum, SeqNum, SeqNum)> {
    (seq(), seq(), seq())
}

fn initiator_pdu() -> impl Strategy<Value = Repr<'static>> {
    prop_oneof![
        (
            any::<bool>(),
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            seq(),
            seq(),
            data()
        )
            .prop_map(|(immediate, lun, itt, ttt, cmd_sn, exp_stat_sn, data)| {
                Repr::NopOut(NopOut {
                    immediate,
                    lun,
                    itt,
                    ttt,
                    cmd_sn,
                    exp_stat_sn,
                    data,
                })
            }),
        (
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                0u8..8
            ),
            (any::<u64>(), any::<u32>(), any::<u32>(), seq(), seq()),
            (cdb(), any::<Option<u32>>(), data())
        )
            .prop_map(
                |(
                    (immediate, final_bit, read, write, attr),
                    (lun, itt, expected_len, cmd_sn, exp_stat_sn),
                    (cdb, bidi_read_len, data),
                )| {
                    Repr::ScsiCommand(ScsiCommand {
                        immediate,
                        final_bit,
                        read,
                        write,
                        attr: attr.into(),
                        lun,
                        itt,
                        expected_len,
                        cmd_sn,
                        exp_stat_sn,
                        cdb,
                        bidi_read_len,
                        data,
                    })
                }
            ),
        (
            any::<bool>(),
            0u8..128,
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            seq(),
            seq(),
            seq(),
            any::<u32>()
        )
            .prop_map(
                |(immediate, f, lun, itt, ref_task_tag, cmd_sn, exp_stat_sn, ref_cmd_sn, eds)| {
                    Repr::TaskMgmtRequest(TaskMgmtRequest {
                        immediate,
                        function: f.into(),
                        lun,
                        itt,
                        ref_task_tag,
                        cmd_sn,
                        exp_stat_sn,
                        ref_cmd_sn,
                        exp_data_sn: eds,
                    })
                }
            ),
        (
            (
                any::<bool>(),
                any::<bool>(),
                stage(),
                stage(),
                any::<u8>(),
                any::<u8>()
            ),
            (
                any::<[u8; 6]>(),
                any::<u16>(),
                any::<u32>(),
                any::<u16>(),
                seq(),
                seq()
            ),
            data()
        )
            .prop_map(
                |(
                    (transit, continue_bit, csg, nsg, version_max, version_min),
                    (isid, tsih, itt, cid, cmd_sn, exp_stat_sn),
                    data,
                )| {
                    Repr::LoginRequest(LoginRequest {
                        transit,
                        continue_bit,
                        csg,
                        nsg,
                        version_max,
                        version_min,
                        isid,
                        tsih,
                        itt,
                        cid,
                        cmd_sn,
                        exp_stat_sn,
                        data,
                    })
                }
            ),
        (
            (any::<bool>(), any::<bool>(), any::<bool>()),
            (any::<u64>(), any::<u32>(), any::<u32>(), seq(), seq()),
            data()
        )
            .prop_map(
                |(
                    (immediate, final_bit, continue_bit),
                    (lun, itt, ttt, cmd_sn, exp_stat_sn),
                    data,
                )| {
                    Repr::TextRequest(TextRequest {
                        immediate,
                        final_bit,
                        continue_bit,
                        lun,
                        itt,
                        ttt,
                        cmd_sn,
                        exp_stat_sn,
                        data,
                    })
                }
            ),
        (
            any::<bool>(),
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            seq(),
            any::<u32>(),
            any::<u32>(),
            data()
        )
            .prop_map(
                |(final_bit, lun, itt, ttt, exp_stat_sn, data_sn, buffer_offset, data)| {
                    Repr::DataOut(DataOut {
                        final_bit,
                        lun,
                        itt,
                        ttt,
                        exp_stat_sn,
                        data_sn,
                        buffer_offset,
                        data,
                    })
                }
            ),
        (
            any::<bool>(),
            0u8..128,
            any::<u32>(),
            any::<u16>(),
            seq(),
            seq()
        )
            .prop_map(|(immediate, reason, itt, cid, cmd_sn, exp_stat_sn)| {
                Repr::LogoutRequest(LogoutRequest {
                    immediate,
                    reason: reason.into(),
                    itt,
                    cid,
                    cmd_sn,
                    exp_stat_sn,
                })
            }),
        (
            0u8..16,
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            seq(),
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(|(t, lun, itt, ttt, exp_stat_sn, beg_run, run_length)| {
                Repr::SnackRequest(SnackRequest {
                    snack_type: t.into(),
                    lun,
                    itt,
                    ttt,
                    exp_stat_sn,
                    beg_run,
                    run_length,
                })
            }),
    ]
}

fn target_pdu() -> impl Strategy<Value = Repr<'static>> {
    prop_oneof![
        (
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            target_sns(),
            data()
        )
            .prop_map(|(lun, itt, ttt, (stat_sn, exp_cmd_sn, max_cmd_sn), data)| {
                Repr::NopIn(NopIn {
                    lun,
                    itt,
                    ttt,
                    stat_sn,
                    exp_cmd_sn,
                    max_cmd_sn,
                    data,
                })
            }),
        (
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
            (any::<u8>(), any::<u8>(), any::<u32>(), any::<u32>()),
            target_sns(),
            (any::<u32>(), any::<u32>(), any::<u32>(), data())
        )
            .prop_map(
                |(
                    (bidi_overflow, bidi_underflow, overflow, underflow),
                    (response, status, itt, snack_tag),
                    (stat_sn, exp_cmd_sn, max_cmd_sn),
                    (exp_data_sn, bidi_residual, residual, data),
                )| {
                    Repr::ScsiResponse(ScsiResponse {
                        bidi_overflow,
                        bidi_underflow,
                        overflow,
                        underflow,
                        response: response.into(),
                        status: status.into(),
                        itt,
                        snack_tag,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        exp_data_sn,
                        bidi_residual,
                        residual,
                        data,
                    })
                }
            ),
        (any::<u8>(), any::<u32>(), target_sns()).prop_map(
            |(response, itt, (stat_sn, exp_cmd_sn, max_cmd_sn))| {
                Repr::TaskMgmtResponse(TaskMgmtResponse {
                    response: response.into(),
                    itt,
                    stat_sn,
                    exp_cmd_sn,
                    max_cmd_sn,
                })
            }
        ),
        (
            (
                any::<bool>(),
                any::<bool>(),
                stage(),
                stage(),
                any::<u8>(),
                any::<u8>()
            ),
            (any::<[u8; 6]>(), any::<u16>(), any::<u32>()),
            target_sns(),
            (any::<u16>(), data())
        )
            .prop_map(
                |(
                    (transit, continue_bit, csg, nsg, version_max, version_active),
                    (isid, tsih, itt),
                    (stat_sn, exp_cmd_sn, max_cmd_sn),
                    (status, data),
                )| {
                    Repr::LoginResponse(LoginResponse {
                        transit,
                        continue_bit,
                        csg,
                        nsg,
                        version_max,
                        version_active,
                        isid,
                        tsih,
                        itt,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        status: status.into(),
                        data,
                    })
                }
            ),
        (
            (any::<bool>(), any::<bool>()),
            (any::<u64>(), any::<u32>(), any::<u32>()),
            target_sns(),
            data()
        )
            .prop_map(
                |(
                    (final_bit, continue_bit),
                    (lun, itt, ttt),
                    (stat_sn, exp_cmd_sn, max_cmd_sn),
                    data,
                )| {
                    Repr::TextResponse(TextResponse {
                        final_bit,
                        continue_bit,
                        lun,
                        itt,
                        ttt,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        data,
                    })
                }
            ),
        (
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
            (
                any::<Option<u8>>(),
                any::<u64>(),
                any::<u32>(),
                any::<u32>()
            ),
            target_sns(),
            (any::<u32>(), any::<u32>(), any::<u32>(), data())
        )
            .prop_map(
                |(
                    (final_bit, ack, overflow, underflow),
                    (status, lun, itt, ttt),
                    (stat_sn, exp_cmd_sn, max_cmd_sn),
                    (data_sn, buffer_offset, residual, data),
                )| {
                    Repr::DataIn(DataIn {
                        final_bit,
                        ack,
                        overflow,
                        underflow,
                        status: status.map(ScsiStatus::from),
                        lun,
                        itt,
                        ttt,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        data_sn,
                        buffer_offset,
                        residual,
                        data,
                    })
                }
            ),
        (
            any::<u8>(),
            any::<u32>(),
            target_sns(),
            any::<u16>(),
            any::<u16>()
        )
            .prop_map(
                |(response, itt, (stat_sn, exp_cmd_sn, max_cmd_sn), time2wait, time2retain)| {
                    Repr::LogoutResponse(LogoutResponse {
                        response: response.into(),
                        itt,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        time2wait,
                        time2retain,
                    })
                }
            ),
        (
            (any::<u64>(), any::<u32>(), any::<u32>()),
            target_sns(),
            (any::<u32>(), any::<u32>(), any::<u32>())
        )
            .prop_map(
                |(
                    (lun, itt, ttt),
                    (stat_sn, exp_cmd_sn, max_cmd_sn),
                    (r2t_sn, buffer_offset, desired_len),
                )| {
                    Repr::R2t(R2t {
                        lun,
                        itt,
                        ttt,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        r2t_sn,
                        buffer_offset,
                        desired_len,
                    })
                }
            ),
        (
            any::<u64>(),
            target_sns(),
            (
                any::<u8>(),
                any::<u8>(),
                any::<u16>(),
                any::<u16>(),
                any::<u16>()
            ),
            data()
        )
            .prop_map(
                |(
                    lun,
                    (stat_sn, exp_cmd_sn, max_cmd_sn),
                    (event, vcode, parameter1, parameter2, parameter3),
                    data,
                )| {
                    Repr::AsyncMessage(AsyncMessage {
                        lun,
                        stat_sn,
                        exp_cmd_sn,
                        max_cmd_sn,
                        event: event.into(),
                        vcode,
                        parameter1,
                        parameter2,
                        parameter3,
                        data,
                    })
                }
            ),
        (any::<u8>(), target_sns(), any::<u32>(), data()).prop_map(
            |(reason, (stat_sn, exp_cmd_sn, max_cmd_sn), data_sn, data)| {
                Repr::Reject(Reject {
                    reason: reason.into(),
                    stat_sn,
                    exp_cmd_sn,
                    max_cmd_sn,
                    data_sn,
                    data,
                })
            }
        ),
    ]
}

fn round_trip(repr: Repr<'_>, digests: Digests) {
    let len = repr.buffer_len(digests);
    let mut buf = vec![0u8; len + 8];
    assert_eq!(repr.emit(&mut buf, digests), Ok(len));
    assert_eq!(
        frame_status(&buf, digests, 1 << 24),
        Ok(FrameStatus::Complete { len })
    );
    let frame = Frame::split(&buf[..len], digests).unwrap();
    assert_eq!(Repr::parse_frame(&frame), Ok(repr));
    // Emitting into a buffer one byte short fails cleanly.
    assert!(repr.emit(&mut buf[..len - 1], digests).is_err());
}

/// The initiator's emitter writes its own PDUs byte for byte as the full one does; the
/// initiator's parser refuses them by opcode.
fn initiator_side_sends(repr: Repr<'_>, digests: Digests) {
    let len = repr.buffer_len(digests);
    let (mut full, mut own) = (vec![0u8; len], vec![0u8; len]);
    assert_eq!(repr.emit(&mut full, digests), Ok(len));
    assert_eq!(repr.emit_initiator(&mut own, digests), Ok(len));
    assert_eq!(full, own);
    let header = repr.header_len(digests);
    assert_eq!(repr.emit_initiator_header(&mut own, digests), Ok(header));
    assert_eq!(full[..header], own[..header]);
    let frame = Frame::split(&full, digests).unwrap();
    assert_eq!(
        Repr::parse_target_frame(&frame),
        Err(ParseError::UnknownOpcode(repr.opcode().into()))
    );
}

/// The initiator's parser reads a target's PDUs as the full one does.
fn initiator_side_receives(repr: Repr<'_>, digests: Digests) {
    let len = repr.buffer_len(digests);
    let mut buf = vec![0u8; len];
    assert_eq!(repr.emit(&mut buf, digests), Ok(len));
    let frame = Frame::split(&buf, digests).unwrap();
    assert_eq!(Repr::parse_target_frame(&frame), Ok(repr));
}

proptest! {
    #[test]
    fn initiator_pdus_round_trip(repr in initiator_pdu(), digests in digests()) {
        round_trip(repr, digests);
        initiator_side_sends(repr, digests);
    }

    #[test]
    fn target_pdus_round_trip(repr in target_pdu(), digests in digests()) {
        round_trip(repr, digests);
        initiator_side_receives(repr, digests);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        digests in digests(),
        max in 0u32..1024,
    ) {
        let mut rx = &bytes[..];
        // Frame as many PDUs as the bytes hold; each step consumes at least 48 bytes.
        while let Ok(FrameStatus::Complete { len }) = frame_status(rx, digests, max) {
            if let Ok(frame) = Frame::split(&rx[..len], digests) {
                let full = Repr::parse_frame(&frame);
                let target = Repr::parse_target_frame(&frame);
                // Both agree, except that the initiator's side refuses an initiator's PDU.
                match full {
                    Ok(r) if u8::from(r.opcode()) < 0x20 => prop_assert_eq!(
                        target,
                        Err(ParseError::UnknownOpcode(r.opcode().into()))
                    ),
                    Err(_) if u8::from(frame.bhs.opcode()) < 0x20 => prop_assert!(target.is_err()),
                    other => prop_assert_eq!(target, other),
                }
            }
            rx = &rx[len..];
        }
        if let Ok(bhs) = Bhs::new_checked(&bytes[..]) {
            let ahs = bytes.get(48..48 + bhs.total_ahs_len()).unwrap_or(&[]);
            let _ = Repr::parse(&bhs, ahs, &[]);
        }
    }

    #[test]
    fn arbitrary_headers_with_matching_lengths_parse_or_fail_cleanly(
        mut header in prop::collection::vec(any::<u8>(), 48..=48),
        ahs in prop::collection::vec(any::<u8>(), 0..40usize),
        data in prop::collection::vec(any::<u8>(), 0..40usize),
    ) {
        let ahs = &ahs[..ahs.len() / 4 * 4];
        header[4] = u8::try_from(ahs.len() / 4).unwrap();
        header[5] = 0;
        header[6] = 0;
        header[7] = u8::try_from(data.len()).unwrap();
        let bhs = Bhs::new_checked(&header[..]).unwrap();
        if let Ok(repr) = Repr::parse(&bhs, ahs, &data) {
            // Whatever parses re-emits to something that parses to the same value.
            let len = repr.buffer_len(Digests::NONE);
            let mut buf = vec![0u8; len];
            repr.emit(&mut buf, Digests::NONE).unwrap();
            let frame = Frame::split(&buf, Digests::NONE).unwrap();
            prop_assert_eq!(Repr::parse_frame(&frame), Ok(repr));
        }
    }
}
