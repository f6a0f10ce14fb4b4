//! Wire codes of RFC 7143 as open enums: every value parses, unknown ones into `Unknown(..)`.

/// Declares an open enum over an integer with `From` conversions both ways.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($repr:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value without a name here (reserved, vendor-specific or from a later RFC).
            Unknown($repr),
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                match value {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use open_enum;

open_enum! {
    /// Login stage (CSG/NSG, RFC 7143 §11.12.3); two bits on the wire, 2 is reserved.
    pub enum Stage(u8) {
        /// SecurityNegotiation.
        Security = 0,
        /// LoginOperationalNegotiation.
        Operational = 1,
        /// FullFeaturePhase (only as NSG).
        FullFeature = 3,
    }
}

open_enum! {
    /// Login response Status-Class and Status-Detail as one code (class << 8 | detail),
    /// RFC 7143 §11.13.5.
    ///
    /// ```
    /// use initiator::pdu::{LoginStatus, StatusClass};
    /// let status = LoginStatus::from(0x0203);
    /// assert_eq!(status, LoginStatus::NotFound);
    /// assert_eq!(status.class(), StatusClass::InitiatorError);
    /// ```
    pub enum LoginStatus(u16) {
        /// 0x0000: login is proceeding OK.
        Success = 0x0000,
        /// 0x0101: the target has moved temporarily (see `TargetAddress`).
        TargetMovedTemporarily = 0x0101,
        /// 0x0102: the target has moved permanently.
        TargetMovedPermanently = 0x0102,
        /// 0x0200: miscellaneous initiator error.
        InitiatorError = 0x0200,
        /// 0x0201: authentication failed.
        AuthenticationFailure = 0x0201,
        /// 0x0202: the initiator is not allowed access to the target.
        AuthorizationFailure = 0x0202,
        /// 0x0203: no such target.
        NotFound = 0x0203,
        /// 0x0204: the target has been removed.
        TargetRemoved = 0x0204,
        /// 0x0205: unsupported iSCSI version.
        UnsupportedVersion = 0x0205,
        /// 0x0206: too many connections on this session.
        TooManyConnections = 0x0206,
        /// 0x0207: a required parameter is missing.
        MissingParameter = 0x0207,
        /// 0x0208: the target cannot include this connection in the session.
        CantIncludeInSession = 0x0208,
        /// 0x0209: the session type is not supported.
        SessionTypeNotSupported = 0x0209,
        /// 0x020a: the session to be joined does not exist.
        SessionDoesNotExist = 0x020a,
        /// 0x020b: a request was made that is invalid during login.
        InvalidDuringLogin = 0x020b,
        /// 0x0300: miscellaneous target error.
        TargetError = 0x0300,
        /// 0x0301: the target or a resource is unavailable for now.
        ServiceUnavailable = 0x0301,
        /// 0x0302: the target lacks resources to accept the login.
        OutOfResources = 0x0302,
    }
}

impl LoginStatus {
    /// Builds the code from the two wire bytes.
    #[must_use]
    pub fn from_parts(class: u8, detail: u8) -> LoginStatus {
        LoginStatus::from(u16::from_be_bytes([class, detail]))
    }

    /// The Status-Class byte.
    #[must_use]
    pub fn class(self) -> StatusClass {
        StatusClass::from(u16::from(self).to_be_bytes()[0])
    }

    /// The Status-Detail byte.
    #[must_use]
    pub fn detail(self) -> u8 {
        u16::from(self).to_be_bytes()[1]
    }
}

open_enum! {
    /// Login response Status-Class (RFC 7143 §11.13.5).
    pub enum StatusClass(u8) {
        /// The login request succeeded (so far).
        Success = 0,
        /// The target is elsewhere; retry at the returned `TargetAddress`.
        Redirection = 1,
        /// The initiator made a mistake; retrying unchanged will not help.
        InitiatorError = 2,
        /// The target cannot serve the request now.
        TargetError = 3,
    }
}

open_enum! {
    /// SCSI Command task attribute (ATTR, 3 bits, RFC 7143 §11.3.1).
    pub enum TaskAttr(u8) {
        /// Untagged.
        Untagged = 0,
        /// Simple (the usual choice).
        Simple = 1,
        /// Ordered.
        Ordered = 2,
        /// Head of queue.
        HeadOfQueue = 3,
        /// ACA.
        Aca = 4,
    }
}

open_enum! {
    /// SCSI Response "Response" byte (RFC 7143 §11.4.3).
    pub enum ScsiResponseCode(u8) {
        /// Command completed at target (the SCSI status says how).
        CommandCompleted = 0x00,
        /// Target failure: there is no SCSI status.
        TargetFailure = 0x01,
    }
}

open_enum! {
    /// SCSI status byte (SAM-5), in SCSI Response and in Data-In with the S bit.
    pub enum ScsiStatus(u8) {
        /// GOOD.
        Good = 0x00,
        /// CHECK CONDITION: sense data explains.
        CheckCondition = 0x02,
        /// CONDITION MET.
        ConditionMet = 0x04,
        /// BUSY.
        Busy = 0x08,
        /// RESERVATION CONFLICT.
        ReservationConflict = 0x18,
        /// TASK SET FULL.
        TaskSetFull = 0x28,
        /// ACA ACTIVE.
        AcaActive = 0x30,
        /// TASK ABORTED.
        TaskAborted = 0x40,
    }
}

open_enum! {
    /// Task management function (RFC 7143 §11.5.1), 7 bits on the wire.
    pub enum TmfFunction(u8) {
        /// ABORT TASK: abort the task named by Referenced Task Tag.
        AbortTask = 1,
        /// ABORT TASK SET.
        AbortTaskSet = 2,
        /// CLEAR ACA.
        ClearAca = 3,
        /// CLEAR TASK SET.
        ClearTaskSet = 4,
        /// LOGICAL UNIT RESET.
        LogicalUnitReset = 5,
        /// TARGET WARM RESET.
        TargetWarmReset = 6,
        /// TARGET COLD RESET.
        TargetColdReset = 7,
        /// TASK REASSIGN.
        TaskReassign = 8,
    }
}

open_enum! {
    /// Task management response (RFC 7143 §11.6.1).
    pub enum TmfResponse(u8) {
        /// Function complete.
        FunctionComplete = 0,
        /// Task does not exist.
        TaskDoesNotExist = 1,
        /// LUN does not exist.
        LunDoesNotExist = 2,
        /// Task still allegiant.
        TaskStillAllegiant = 3,
        /// Task allegiance reassignment not supported.
        ReassignmentNotSupported = 4,
        /// Task management function not supported.
        NotSupported = 5,
        /// Function authorization failed.
        AuthorizationFailed = 6,
        /// Function rejected.
        FunctionRejected = 255,
    }
}

open_enum! {
    /// Logout request reason code (RFC 7143 §11.14.1), 7 bits on the wire.
    pub enum LogoutReason(u8) {
        /// Close the session.
        CloseSession = 0,
        /// Close the connection.
        CloseConnection = 1,
        /// Remove the connection for recovery.
        RemoveForRecovery = 2,
    }
}

open_enum! {
    /// Logout response code (RFC 7143 §11.15.1).
    pub enum LogoutResponseCode(u8) {
        /// Connection or session closed successfully.
        ClosedSuccessfully = 0,
        /// CID not found.
        CidNotFound = 1,
        /// Connection recovery is not supported.
        RecoveryNotSupported = 2,
        /// Cleanup failed for various reasons.
        CleanupFailed = 3,
    }
}

open_enum! {
    /// Asynchronous event (RFC 7143 §11.9.1).
    pub enum AsyncEvent(u8) {
        /// A SCSI asynchronous event; sense data in the data segment.
        ScsiEvent = 0,
        /// The target asks for a logout within Parameter3 seconds.
        LogoutRequested = 1,
        /// The target will drop the connection named by Parameter1.
        ConnectionDrop = 2,
        /// The target will drop all connections of the session.
        SessionDrop = 3,
        /// The target asks for parameter renegotiation.
        NegotiationRequested = 4,
        /// The task is terminated (RFC 7143 addition).
        TaskTermination = 5,
        /// Vendor-specific event.
        VendorSpecific = 255,
    }
}

open_enum! {
    /// Reject reason (RFC 7143 §11.17.1).
    pub enum RejectReason(u8) {
        /// Data (payload) digest error.
        DataDigestError = 0x02,
        /// SNACK reject.
        SnackReject = 0x03,
        /// Protocol error.
        ProtocolError = 0x04,
        /// Command not supported.
        CommandNotSupported = 0x05,
        /// Immediate command rejected: too many immediate commands.
        ImmediateCommandReject = 0x06,
        /// Task in progress.
        TaskInProgress = 0x07,
        /// Invalid data ACK.
        InvalidDataAck = 0x08,
        /// Invalid PDU field.
        InvalidPduField = 0x09,
        /// Long operation reject: out of resources to generate a TTT.
        LongOperationReject = 0x0a,
        /// Deprecated "negotiation reset" (RFC 3720).
        NegotiationReset = 0x0b,
        /// Waiting for logout.
        WaitingForLogout = 0x0c,
    }
}

open_enum! {
    /// SNACK type (RFC 7143 §11.16.1), 4 bits on the wire.
    pub enum SnackType(u8) {
        /// Data/R2T SNACK.
        DataR2t = 0,
        /// Status SNACK.
        Status = 1,
        /// DataACK.
        DataAck = 2,
        /// R-Data SNACK.
        RData = 3,
    }
}
