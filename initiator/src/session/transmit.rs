//! The transmit side: one PDU per call, in priority order (login, ping answers, task management,
//! Data-Out, new commands within the CmdSN window).

use super::*;

/// Bytes a data segment adds beyond its length at most: padding and data digest.
const TRAILER_MAX: usize = 3 + 4;

impl Session<'_> {
    /// Writes the next PDU to send into `buf` and returns its length, or `None` when nothing is
    /// due. Call until `None`. Data-Out payloads are read from `source` straight into `buf`.
    ///
    /// `buf` must hold at least a header plus 2 KiB (login PDUs); Data-Out PDUs are cut to fit it.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        source: &mut impl DataSource,
    ) -> Option<usize> {
        self.track_window(now);
        match self.phase {
            Phase::Login => self.transmit_login(buf),
            Phase::FullFeature | Phase::LoggingOut => self.transmit_full_feature(buf, source),
            Phase::Idle | Phase::LoggedOut => None,
        }
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn transmit_login(&mut self, buf: &mut [u8]) -> Option<usize> {
        if !self.login_send {
            return None;
        }
        let (header, len) = if self.login_continue {
            // The target has more text: an empty request, T=0, same stages.
            self.login_continue = false;
            let h = RequestHeader {
                transit: false,
                ..self.login_header
            };
            (h, 0)
        } else {
            let login = self.login.as_mut()?;
            match login.next_request(&self.config, &mut self.scratch) {
                Ok(x) => x,
                Err(e) => {
                    self.login_failed_tx(e);
                    return None;
                }
            }
        };
        self.login_header = header;
        let pdu = Repr::LoginRequest(LoginRequest {
            transit: header.transit,
            continue_bit: false,
            csg: header.csg,
            nsg: header.nsg,
            version_max: 0,
            version_min: 0,
            isid: self.config.isid,
            tsih: 0,
            itt: 0,
            cid: 0,
            cmd_sn: self.cmd_sn,
            exp_stat_sn: self.exp_stat_sn,
            data: &self.scratch[..len],
        });
        let n = pdu.emit_initiator(buf, Digests::NONE).ok()?;
        self.login_send = false;
        Some(n)
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn login_failed_tx(&mut self, e: LoginError) {
        self.phase = Phase::Idle;
        self.login = None;
        self.push_event(Event::LoginFailed(e));
    }

    // Out of line: smaller firmware image (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn transmit_full_feature(
        &mut self,
        buf: &mut [u8],
        source: &mut impl DataSource,
    ) -> Option<usize> {
        let digests = self.digests();
        if let Some((ttt, lun)) = self.nop_reply {
            let pdu = Repr::NopOut(NopOut {
                immediate: true,
                lun,
                itt: RESERVED_TAG,
                ttt,
                cmd_sn: self.cmd_sn,
                exp_stat_sn: self.exp_stat_sn,
                data: &[],
            });
            let n = pdu.emit_initiator(buf, digests).ok()?;
            self.nop_reply = None;
            return Some(n);
        }
        if let Some((itt, false, deadline)) = self.ping {
            let pdu = Repr::NopOut(NopOut {
                immediate: true,
                lun: 0,
                itt,
                ttt: RESERVED_TAG,
                cmd_sn: self.cmd_sn,
                exp_stat_sn: self.exp_stat_sn,
                data: &[],
            });
            let n = pdu.emit_initiator(buf, digests).ok()?;
            self.ping = Some((itt, true, deadline));
            return Some(n);
        }
        if let Some(tmf) = self.tmf
            && !tmf.sent
        {
            let pdu = Repr::TaskMgmtRequest(TaskMgmtRequest {
                immediate: true,
                function: tmf.function,
                lun: tmf.lun,
                itt: tmf.itt,
                ref_task_tag: tmf.ref_itt,
                cmd_sn: self.cmd_sn,
                exp_stat_sn: self.exp_stat_sn,
                ref_cmd_sn: tmf.ref_cmd_sn,
                exp_data_sn: 0,
            });
            let n = pdu.emit_initiator(buf, digests).ok()?;
            self.tmf = Some(PendingTmf { sent: true, ..tmf });
            return Some(n);
        }
        if self.phase == Phase::LoggingOut && !self.logout_sent {
            let pdu = Repr::LogoutRequest(LogoutRequest {
                immediate: true,
                reason: LogoutReason::CloseSession,
                itt: self.alloc_itt(),
                cid: 0,
                cmd_sn: self.cmd_sn,
                exp_stat_sn: self.exp_stat_sn,
            });
            let n = pdu.emit_initiator(buf, digests).ok()?;
            self.logout_sent = true;
            return Some(n);
        }
        if let Some(n) = self.transmit_data_out(buf, source) {
            return Some(n);
        }
        if self.phase != Phase::FullFeature || !self.window_open() {
            return None;
        }
        if let Some((itt, ttt, false)) = self.text_request {
            let pdu = Repr::TextRequest(TextRequest {
                immediate: false,
                final_bit: true,
                continue_bit: false,
                lun: 0,
                itt,
                ttt,
                cmd_sn: self.cmd_sn,
                exp_stat_sn: self.exp_stat_sn,
                data: if ttt == RESERVED_TAG {
                    b"SendTargets=All\0"
                } else {
                    &[]
                },
            });
            let n = pdu.emit_initiator(buf, digests).ok()?;
            self.cmd_sn = self.cmd_sn.next();
            self.text_request = Some((itt, ttt, true));
            return Some(n);
        }
        let itt = self.first_unsent()?;
        self.transmit_command(itt, buf, source)
    }

    /// The unsent task to send next, walking the table only if one may exist.
    fn first_unsent(&mut self) -> Option<u32> {
        if !self.maybe_unsent {
            return None;
        }
        let itt = self.tasks.first_unsent(self.next_itt);
        self.maybe_unsent = itt.is_some();
        itt
    }

    /// Notes since when commands have been waiting for a closed CmdSN window (see
    /// [`Session::handle_timeout`]).
    fn track_window(&mut self, now: Instant) {
        let waiting = self.phase == Phase::FullFeature
            && !self.window_open()
            && (self.first_unsent().is_some() || matches!(self.text_request, Some((_, _, false))));
        self.window_closed_since = match (waiting, self.window_closed_since) {
            (false, _) => None,
            (true, None) => Some(now),
            (true, since) => since,
        };
    }

    /// Whether a non-immediate command may be sent now (CmdSN within [ExpCmdSN, MaxCmdSN]).
    fn window_open(&self) -> bool {
        self.cmd_sn.in_window(self.exp_cmd_sn, self.max_cmd_sn)
    }

    /// Room for a data segment in `buf` after a header of `header_len` bytes.
    fn data_room(&self, buf_len: usize, header_len: usize) -> u32 {
        let room = buf_len.saturating_sub(header_len + TRAILER_MAX);
        // Keep segments a multiple of 4 so offsets stay aligned.
        let room = u32::try_from(room).unwrap_or(u32::MAX) & !3;
        room.min(self.negotiated.max_send_data_segment_length)
    }

    fn transmit_command(
        &mut self,
        itt: u32,
        buf: &mut [u8],
        source: &mut impl DataSource,
    ) -> Option<usize> {
        let digests = self.digests();
        let n = self.negotiated;
        let task = *self.tasks.get(itt)?;
        let header_len = crate::pdu::BHS_LEN + digests.header_len();
        let immediate_len = if task.write_len > 0 && n.immediate_data {
            task.write_len
                .min(n.first_burst_length)
                .min(self.data_room(buf.len(), header_len))
        } else {
            0
        };
        let unsolicited_end = if task.write_len > 0 && !n.initial_r2t {
            task.write_len.min(n.first_burst_length)
        } else {
            immediate_len
        };
        let imm = immediate_len as usize;
        let (head, rest) = buf.split_at_mut_checked(header_len)?;
        let data = rest.get_mut(..imm)?;
        source.read(TaskTag(itt), 0, data);
        let cmd_sn = self.cmd_sn;
        let pdu = Repr::ScsiCommand(ScsiCommandPdu {
            immediate: false,
            final_bit: unsolicited_end == immediate_len,
            read: task.read_len > 0,
            write: task.write_len > 0,
            attr: TaskAttr::Simple,
            lun: task.lun,
            itt,
            expected_len: task.read_len.max(task.write_len),
            cmd_sn,
            exp_stat_sn: self.exp_stat_sn,
            cdb: Cdb::new(&task.cdb[..usize::from(task.cdb_len)]).ok()?,
            bidi_read_len: None,
            data,
        });
        let written = pdu.emit_initiator_header(head, digests).ok()?;
        debug_assert_eq!(written, header_len);
        let trailer = data_trailer(&rest[..imm], digests);
        let t = trailer.as_bytes();
        rest.get_mut(imm..imm + t.len())?.copy_from_slice(t);
        self.cmd_sn = cmd_sn.next();
        let t_len = t.len();
        let entry = self.tasks.get_mut(itt)?;
        entry.sent = true;
        entry.cmd_sn = cmd_sn;
        entry.unsolicited_next = immediate_len;
        entry.unsolicited_end = unsolicited_end;
        entry.unsolicited_data_sn = 0;
        self.maybe_data_out |= unsolicited_end > immediate_len;
        Some(header_len + imm + t_len)
    }

    fn transmit_data_out(&mut self, buf: &mut [u8], source: &mut impl DataSource) -> Option<usize> {
        let digests = self.digests();
        let header_len = crate::pdu::BHS_LEN + digests.header_len();
        let room = self.data_room(buf.len(), header_len);
        if room == 0 || !self.maybe_data_out {
            return None;
        }
        // Solicited bursts first (the target is waiting for them), then unsolicited data.
        let mut pick = None;
        for t in self.tasks.iter() {
            if !t.sent {
                continue;
            }
            if let Some(i) = t.r2ts.iter().position(Option::is_some) {
                pick = Some((t.itt, Some(i)));
                break;
            }
            if t.unsolicited_next < t.unsolicited_end && pick.is_none() {
                pick = Some((t.itt, None));
            }
        }
        let Some((itt, r2t)) = pick else {
            self.maybe_data_out = false;
            return None;
        };
        let exp_stat_sn = self.exp_stat_sn;
        let task = self.tasks.get_mut(itt)?;
        let (ttt, offset, end, data_sn) = match r2t {
            Some(i) => {
                let b = task.r2ts[i]?;
                (b.ttt, b.next, b.end, b.data_sn)
            }
            None => (
                RESERVED_TAG,
                task.unsolicited_next,
                task.unsolicited_end,
                task.unsolicited_data_sn,
            ),
        };
        let len = (end - offset).min(room);
        let last = offset + len == end;
        let (head, rest) = buf.split_at_mut_checked(header_len)?;
        let data = rest.get_mut(..len as usize)?;
        source.read(TaskTag(itt), offset, data);
        let pdu = Repr::DataOut(DataOut {
            final_bit: last,
            lun: task.lun,
            itt,
            ttt,
            exp_stat_sn,
            data_sn,
            buffer_offset: offset,
            data,
        });
        pdu.emit_initiator_header(head, digests).ok()?;
        let trailer = data_trailer(&rest[..len as usize], digests);
        let t = trailer.as_bytes();
        rest.get_mut(len as usize..len as usize + t.len())?
            .copy_from_slice(t);
        match r2t {
            Some(i) => {
                task.r2ts[i] = if last {
                    None
                } else {
                    Some(R2tBurst {
                        ttt,
                        next: offset + len,
                        end,
                        data_sn: data_sn.wrapping_add(1),
                    })
                };
            }
            None => {
                task.unsolicited_next = offset + len;
                task.unsolicited_data_sn = data_sn.wrapping_add(1);
            }
        }
        Some(header_len + len as usize + t.len())
    }
}
