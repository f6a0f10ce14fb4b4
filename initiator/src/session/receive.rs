//! The receive side: framing, digest checks and dispatch of every target PDU.

use super::*;
use crate::pdu::{
    AsyncMessage, BHS_LEN, Bhs, LoginResponse, NopIn, ParseError, ScsiResponse, TaskMgmtResponse,
    TextResponse,
};

/// The Data-In opcode (RFC 7143 §11.7), recognised from the first header byte.
const DATA_IN: u8 = 0x25;

impl Session<'_> {
    /// Consumes PDUs from the front of `bytes` and returns how many bytes were used; keep the
    /// rest and call again with more appended. Other PDUs are taken whole; a Data-In is taken
    /// as it arrives: its header once complete and checked, then its payload, which goes to
    /// `sink` in place, piece by piece (see [`Session::pending_data_in`]).
    ///
    /// An error means the connection is dead (also reported as [`Event::ConnectionFailed`]);
    /// open a new one and call [`Session::start_login`].
    // Out of line: smaller firmware image (docs/sanboot.md "Footprint").
    #[inline(never)]
    pub fn handle_input(
        &mut self,
        now: Instant,
        bytes: &[u8],
        sink: &mut impl DataSink,
    ) -> Result<usize, ConnectionFailure> {
        let mut used = 0;
        while let Some(rest) = bytes.get(used..) {
            if matches!(self.phase, Phase::Idle | Phase::LoggedOut) {
                break;
            }
            if self.data_in_flow.is_some() {
                match self.continue_data_in(rest, sink) {
                    Ok((n, done)) => {
                        used += n;
                        if done {
                            continue;
                        }
                        break;
                    }
                    Err(e) => return Err(self.fail_with(e)),
                }
            }
            let digests = self.digests();
            if self.phase != Phase::Login && rest.first().map(|b| b & 0x3f) == Some(DATA_IN) {
                // Data-In: accept the header now, take the payload as it comes.
                match self.data_in_header(now, rest, digests) {
                    Ok(Some(n)) => {
                        used += n;
                        continue;
                    }
                    Ok(None) => break,
                    Err(e) => return Err(self.fail_with(e)),
                }
            }
            let len = match frame_status(rest, digests, self.max_recv()) {
                Ok(FrameStatus::Partial { .. }) => break,
                Ok(FrameStatus::Complete { len }) => len,
                Err(e) => return Err(self.fail_with(frame_failure(e))),
            };
            let pdu = &rest[..len];
            used += len;
            let frame = match Frame::split(pdu, digests) {
                Ok(f) => f,
                Err(e) => return Err(self.fail_with(frame_failure(e))),
            };
            let repr = match Repr::parse_target_frame(&frame) {
                Ok(r) => r,
                // An initiator's PDU from the target: not malformed, just not ours to receive.
                Err(ParseError::UnknownOpcode(op))
                    if !matches!(Opcode::from(op), Opcode::Unknown(_)) =>
                {
                    return Err(self.fail_with(ConnectionFailure::Protocol(
                        ProtocolError::UnexpectedPdu(op),
                    )));
                }
                Err(_) => {
                    return Err(
                        self.fail_with(ConnectionFailure::Protocol(ProtocolError::Malformed))
                    );
                }
            };
            self.last_rx = now;
            if let Some((_, true, _)) = self.ping {
                // Any PDU proves the target alive.
                self.ping = None;
            }
            if let Err(e) = self.dispatch(now, repr) {
                return Err(self.fail_with(e));
            }
        }
        Ok(used)
    }

    /// Checks and accepts a Data-In header at the front of `rest`; returns its length, or
    /// `None` while it is incomplete.
    fn data_in_header(
        &mut self,
        now: Instant,
        rest: &[u8],
        digests: Digests,
    ) -> Result<Option<usize>, ConnectionFailure> {
        // Header digest and the DataSegmentLength limit, before anything else.
        frame_status(rest, digests, self.max_recv()).map_err(frame_failure)?;
        let Some(header) = rest.get(..BHS_LEN) else {
            return Ok(None);
        };
        let bhs = Bhs::new_unchecked(header);
        let header_len = BHS_LEN + bhs.total_ahs_len() + digests.header_len();
        if rest.len() < header_len {
            return Ok(None);
        }
        let d = DataIn::parse_header(&bhs)
            .map_err(|_| ConnectionFailure::Protocol(ProtocolError::Malformed))?;
        self.last_rx = now;
        if let Some((_, true, _)) = self.ping {
            self.ping = None;
        }
        self.start_data_in(&d, bhs.data_segment_len(), digests)?;
        Ok(Some(header_len))
    }

    pub(super) fn fail_with(&mut self, why: ConnectionFailure) -> ConnectionFailure {
        self.fail(why);
        why
    }

    // Out of line: smaller firmware image (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn dispatch(&mut self, now: Instant, repr: Repr<'_>) -> Result<(), ConnectionFailure> {
        let unexpected =
            |op: Opcode| ConnectionFailure::Protocol(ProtocolError::UnexpectedPdu(op.into()));
        if self.phase == Phase::Login {
            return match repr {
                Repr::LoginResponse(r) => {
                    self.on_login_response(now, &r);
                    Ok(())
                }
                other => Err(unexpected(other.opcode())),
            };
        }
        match repr {
            Repr::ScsiResponse(r) => self.on_scsi_response(&r),
            Repr::R2t(r) => self.on_r2t(&r),
            Repr::NopIn(n) => {
                self.on_nop_in(&n);
                Ok(())
            }
            Repr::TaskMgmtResponse(r) => {
                self.on_tmf_response(&r);
                Ok(())
            }
            Repr::TextResponse(r) => self.on_text_response(&r),
            Repr::LogoutResponse(r) => {
                self.update_sn(r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn, true);
                self.phase = Phase::LoggedOut;
                self.push_event(Event::LoggedOut);
                Ok(())
            }
            Repr::AsyncMessage(m) => self.on_async(&m),
            Repr::Reject(r) => {
                self.update_sn(r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn, true);
                Err(ConnectionFailure::Protocol(ProtocolError::Rejected(
                    r.reason.into(),
                )))
            }
            other => Err(unexpected(other.opcode())),
        }
    }

    /// Applies StatSN / ExpCmdSN / MaxCmdSN from a target PDU (RFC 7143 §4.2.2.1).
    pub(super) fn update_sn(
        &mut self,
        stat_sn: SeqNum,
        exp_cmd_sn: SeqNum,
        max_cmd_sn: SeqNum,
        status: bool,
    ) {
        if status && stat_sn.ge(self.exp_stat_sn) {
            self.exp_stat_sn = stat_sn.next();
        }
        // A window is valid when MaxCmdSN >= ExpCmdSN - 1; stale values are ignored. ExpCmdSN
        // acknowledges commands received, so one past our next CmdSN is a target error: taking
        // it would close the window on commands never sent and stall the session.
        if max_cmd_sn.ge(exp_cmd_sn.wrapping_sub(1)) {
            if exp_cmd_sn.gt(self.exp_cmd_sn) && !exp_cmd_sn.gt(self.cmd_sn) {
                self.exp_cmd_sn = exp_cmd_sn;
            }
            if max_cmd_sn.gt(self.max_cmd_sn) {
                self.max_cmd_sn = max_cmd_sn;
            }
        }
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn on_login_response(&mut self, now: Instant, r: &LoginResponse<'_>) {
        let _ = now;
        if r.itt != 0 {
            // Our login requests use ITT 0.
            self.login_failed(LoginError::Protocol);
            return;
        }
        self.exp_stat_sn = r.stat_sn.next();
        if r.continue_bit {
            if !self.append_text(r.data) {
                self.login_failed(LoginError::Protocol);
                return;
            }
            self.login_continue = true;
            self.login_send = true;
            return;
        }
        if !self.append_text(r.data) {
            self.login_failed(LoginError::Protocol);
            return;
        }
        let Some(mut login) = self.login.take() else {
            return;
        };
        let text_len = self.text_len;
        self.text_len = 0;
        let step = login.handle_response(
            &self.config,
            r.transit,
            r.csg,
            r.nsg,
            r.status,
            &self.text[..text_len],
        );
        if login.chap_algorithm().is_some() {
            self.chap_algorithm = login.chap_algorithm();
        }
        match step {
            Ok(LoginStep::Continue) => {
                self.login = Some(login);
                self.login_send = true;
            }
            Ok(LoginStep::Complete(n)) => {
                self.negotiated = n;
                self.tsih = r.tsih;
                self.exp_cmd_sn = r.exp_cmd_sn;
                self.max_cmd_sn = r.max_cmd_sn;
                self.cmd_sn = r.exp_cmd_sn;
                self.phase = Phase::FullFeature;
                self.push_event(Event::LoggedIn(n));
            }
            Ok(LoginStep::Redirect { portal, permanent }) => {
                self.phase = Phase::Idle;
                self.push_event(Event::Redirected { portal, permanent });
            }
            Err(e) => self.login_failed(e),
        }
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn login_failed(&mut self, e: LoginError) {
        self.phase = Phase::Idle;
        self.login = None;
        self.push_event(Event::LoginFailed(e));
    }

    fn append_text(&mut self, data: &[u8]) -> bool {
        match self.text.get_mut(self.text_len..self.text_len + data.len()) {
            Some(dst) => {
                dst.copy_from_slice(data);
                self.text_len += data.len();
                true
            }
            None => false,
        }
    }

    fn on_scsi_response(&mut self, r: &ScsiResponse<'_>) -> Result<(), ConnectionFailure> {
        self.update_sn(r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn, true);
        let Some(task) = self.tasks.get(r.itt) else {
            return Err(ConnectionFailure::Protocol(ProtocolError::UnknownTask(
                r.itt,
            )));
        };
        check_complete(
            task,
            r.status,
            residual(r.overflow, r.underflow, r.residual),
        )?;
        self.tasks.remove(r.itt);
        let mut c = Completion::new(
            TaskTag(r.itt),
            r.response,
            r.status,
            residual(r.overflow, r.underflow, r.residual),
        );
        if let Ok(sense) = r.sense() {
            let n = sense.len().min(MAX_SENSE);
            c.sense[..n].copy_from_slice(&sense[..n]);
            c.sense_len = n as u8;
        }
        self.push_event(Event::TaskComplete(c));
        Ok(())
    }

    fn on_r2t(&mut self, r: &R2t) -> Result<(), ConnectionFailure> {
        let proto = ConnectionFailure::Protocol;
        self.update_sn(r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn, false);
        let max_r2t = usize::from(self.negotiated.max_outstanding_r2t).clamp(1, MAX_R2TS);
        let max_burst = self.negotiated.max_burst_length;
        let task = self
            .tasks
            .get_mut(r.itt)
            .ok_or(proto(ProtocolError::UnknownTask(r.itt)))?;
        let end = r
            .buffer_offset
            .checked_add(r.desired_len)
            .ok_or(proto(ProtocolError::R2tOutOfBounds))?;
        if task.write_len == 0
            || r.desired_len == 0
            || end > task.write_len
            || r.desired_len > max_burst
        {
            return Err(proto(ProtocolError::R2tOutOfBounds));
        }
        if task.outstanding_r2ts() >= max_r2t {
            return Err(proto(ProtocolError::TooManyR2ts));
        }
        let slot = task
            .r2ts
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(proto(ProtocolError::TooManyR2ts))?;
        *slot = Some(R2tBurst {
            ttt: r.ttt,
            next: r.buffer_offset,
            end,
            data_sn: 0,
        });
        self.maybe_data_out = true;
        Ok(())
    }

    fn on_nop_in(&mut self, n: &NopIn<'_>) {
        let ours = n.itt != RESERVED_TAG;
        self.update_sn(n.stat_sn, n.exp_cmd_sn, n.max_cmd_sn, ours);
        if let Some((itt, _, _)) = self.ping
            && itt == n.itt
        {
            self.ping = None;
        }
        if n.ttt != RESERVED_TAG {
            self.nop_reply = Some((n.ttt, n.lun));
        }
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn on_tmf_response(&mut self, r: &TaskMgmtResponse) {
        self.update_sn(r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn, true);
        let Some(tmf) = self.tmf else { return };
        if tmf.itt != r.itt {
            return;
        }
        self.tmf = None;
        let done = matches!(
            r.response,
            TmfResponse::FunctionComplete | TmfResponse::TaskDoesNotExist
        );
        if done {
            // The target sends nothing more for the affected tasks: complete them here.
            let mut aborted = [0u32; MAX_TASKS];
            let mut n = 0;
            for t in self.tasks.iter() {
                let hit = match tmf.function {
                    TmfFunction::AbortTask => t.itt == tmf.ref_itt,
                    _ => t.lun == tmf.lun,
                };
                if hit && n < MAX_TASKS {
                    aborted[n] = t.itt;
                    n += 1;
                }
            }
            for &itt in &aborted[..n] {
                self.tasks.remove(itt);
                self.push_event(Event::TaskComplete(Completion::new(
                    TaskTag(itt),
                    ScsiResponseCode::CommandCompleted,
                    ScsiStatus::TaskAborted,
                    Residual::None,
                )));
            }
        }
        self.push_event(Event::TmfComplete {
            tag: TaskTag(r.itt),
            response: r.response,
        });
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn on_text_response(&mut self, r: &TextResponse<'_>) -> Result<(), ConnectionFailure> {
        self.update_sn(r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn, true);
        let Some((itt, _, _)) = self.text_request else {
            return Err(ConnectionFailure::Protocol(ProtocolError::UnknownTask(
                r.itt,
            )));
        };
        if itt != r.itt {
            return Err(ConnectionFailure::Protocol(ProtocolError::UnknownTask(
                r.itt,
            )));
        }
        if !self.append_text(r.data) {
            return Err(ConnectionFailure::Protocol(ProtocolError::TextTooLong));
        }
        if r.continue_bit || !r.final_bit {
            // Ask for the rest, echoing the target's TTT.
            self.text_request = Some((itt, r.ttt, false));
        } else {
            self.text_request = None;
            self.text_ready = true;
            self.push_event(Event::TextComplete);
        }
        Ok(())
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn on_async(&mut self, m: &AsyncMessage<'_>) -> Result<(), ConnectionFailure> {
        self.update_sn(m.stat_sn, m.exp_cmd_sn, m.max_cmd_sn, true);
        match m.event {
            AsyncEvent::LogoutRequested => {
                self.push_event(Event::LogoutRequested {
                    within_secs: m.parameter3,
                });
                Ok(())
            }
            AsyncEvent::ConnectionDrop | AsyncEvent::SessionDrop => {
                Err(ConnectionFailure::DroppedByTarget)
            }
            _ => Ok(()),
        }
    }
}

/// A read that ends GOOD must have received every byte the residual does not account for.
pub(super) fn check_complete(
    task: &Task,
    status: ScsiStatus,
    residual: Residual,
) -> Result<(), ConnectionFailure> {
    if task.read_len == 0 || status != ScsiStatus::Good {
        return Ok(());
    }
    let expected = match residual {
        Residual::Underflow(n) => task.read_len.saturating_sub(n),
        Residual::None | Residual::Overflow(_) => task.read_len,
    };
    if task.data_in == expected {
        Ok(())
    } else {
        Err(ConnectionFailure::Protocol(ProtocolError::MissingData))
    }
}

pub(super) fn residual(overflow: bool, underflow: bool, count: u32) -> Residual {
    if overflow {
        Residual::Overflow(count)
    } else if underflow {
        Residual::Underflow(count)
    } else {
        Residual::None
    }
}

fn frame_failure(e: FrameError) -> ConnectionFailure {
    match e {
        FrameError::HeaderDigest => ConnectionFailure::HeaderDigest,
        FrameError::DataDigest => ConnectionFailure::DataDigest,
        FrameError::DataSegmentTooLong { .. } => {
            ConnectionFailure::Protocol(ProtocolError::SegmentTooLong)
        }
        _ => ConnectionFailure::Protocol(ProtocolError::Malformed),
    }
}
