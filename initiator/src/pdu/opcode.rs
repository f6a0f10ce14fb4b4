//! The 6-bit iSCSI opcode (RFC 7143 §11.2.1.2).

use super::codes::open_enum;

open_enum! {
    /// PDU opcode: the low 6 bits of BHS byte 0.
    ///
    /// ```
    /// use initiator::pdu::Opcode;
    /// assert_eq!(Opcode::from(0x25), Opcode::DataIn);
    /// assert!(Opcode::DataIn.is_target());
    /// assert_eq!(Opcode::from(0x1c), Opcode::Unknown(0x1c));
    /// ```
    pub enum Opcode(u8) {
        /// NOP-Out (initiator).
        NopOut = 0x00,
        /// SCSI Command (initiator).
        ScsiCommand = 0x01,
        /// SCSI Task Management Function Request (initiator).
        TaskMgmtRequest = 0x02,
        /// Login Request (initiator).
        LoginRequest = 0x03,
        /// Text Request (initiator).
        TextRequest = 0x04,
        /// SCSI Data-Out (initiator).
        DataOut = 0x05,
        /// Logout Request (initiator).
        LogoutRequest = 0x06,
        /// SNACK Request (initiator).
        SnackRequest = 0x10,
        /// NOP-In (target).
        NopIn = 0x20,
        /// SCSI Response (target).
        ScsiResponse = 0x21,
        /// SCSI Task Management Function Response (target).
        TaskMgmtResponse = 0x22,
        /// Login Response (target).
        LoginResponse = 0x23,
        /// Text Response (target).
        TextResponse = 0x24,
        /// SCSI Data-In (target).
        DataIn = 0x25,
        /// Logout Response (target).
        LogoutResponse = 0x26,
        /// Ready To Transfer (target).
        R2t = 0x31,
        /// Asynchronous Message (target).
        AsyncMessage = 0x32,
        /// Reject (target).
        Reject = 0x3f,
    }
}

impl Opcode {
    /// Mask of the opcode bits in BHS byte 0.
    pub const MASK: u8 = 0x3f;

    /// Whether the target sends this opcode (bit 5 set: 0x20..=0x3f).
    #[must_use]
    pub fn is_target(self) -> bool {
        u8::from(self) & 0x20 != 0
    }

    /// Whether the initiator sends this opcode.
    #[must_use]
    pub fn is_initiator(self) -> bool {
        !self.is_target()
    }
}
