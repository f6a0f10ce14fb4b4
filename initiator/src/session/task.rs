//! The task table: commands in flight, their transfer progress and outstanding R2Ts.

use crate::serial::SeqNum;

/// Most tasks one session tracks (an upper bound on the queue depth).
pub const MAX_TASKS: usize = 32;

/// Most R2Ts tracked per task (an upper bound on MaxOutstandingR2T).
pub const MAX_R2TS: usize = 4;

/// Longest CDB a [`Command`](super::Command) may carry.
pub const MAX_CDB: usize = 16;

/// One solicited burst still to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct R2tBurst {
    pub ttt: u32,
    /// Next offset to send.
    pub next: u32,
    /// End of the burst (exclusive).
    pub end: u32,
    /// DataSN of the next Data-Out of this burst.
    pub data_sn: u32,
}

/// A SCSI command in the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Task {
    pub itt: u32,
    pub lun: u64,
    pub cdb: [u8; MAX_CDB],
    pub cdb_len: u8,
    pub read_len: u32,
    pub write_len: u32,
    /// The command PDU has gone out on the current connection.
    pub sent: bool,
    pub cmd_sn: SeqNum,
    /// Unsolicited Data-Out still to send: next offset and end (exclusive).
    pub unsolicited_next: u32,
    pub unsolicited_end: u32,
    pub unsolicited_data_sn: u32,
    pub r2ts: [Option<R2tBurst>; MAX_R2TS],
    /// Data-In bytes received on the current connection.
    pub data_in: u32,
    /// DataSN of the next Data-In.
    pub data_in_sn: u32,
}

impl Task {
    pub fn new(itt: u32, lun: u64, cdb: &[u8], read_len: u32, write_len: u32) -> Task {
        let mut c = [0u8; MAX_CDB];
        let n = cdb.len().min(MAX_CDB);
        c[..n].copy_from_slice(&cdb[..n]);
        Task {
            itt,
            lun,
            cdb: c,
            cdb_len: n as u8,
            read_len,
            write_len,
            sent: false,
            cmd_sn: SeqNum(0),
            unsolicited_next: 0,
            unsolicited_end: 0,
            unsolicited_data_sn: 0,
            r2ts: [None; MAX_R2TS],
            data_in: 0,
            data_in_sn: 0,
        }
    }

    /// Forgets everything that belonged to the failed connection: the command goes out again.
    pub fn reset_for_reissue(&mut self) {
        self.sent = false;
        self.unsolicited_next = 0;
        self.unsolicited_end = 0;
        self.unsolicited_data_sn = 0;
        self.r2ts = [None; MAX_R2TS];
        self.data_in = 0;
        self.data_in_sn = 0;
    }

    pub fn outstanding_r2ts(&self) -> usize {
        self.r2ts.iter().filter(|r| r.is_some()).count()
    }
}

/// Fixed-size table of tasks, indexed by search on the ITT.
#[derive(Debug)]
pub(crate) struct TaskTable {
    slots: [Option<Task>; MAX_TASKS],
}

impl TaskTable {
    pub const fn new() -> Self {
        TaskTable {
            slots: [None; MAX_TASKS],
        }
    }

    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    pub fn insert(&mut self, task: Task) -> bool {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(task);
                true
            }
            None => false,
        }
    }

    pub fn get_mut(&mut self, itt: u32) -> Option<&mut Task> {
        self.slots.iter_mut().flatten().find(|t| t.itt == itt)
    }

    pub fn get(&self, itt: u32) -> Option<&Task> {
        self.slots.iter().flatten().find(|t| t.itt == itt)
    }

    pub fn remove(&mut self, itt: u32) -> Option<Task> {
        self.slots
            .iter_mut()
            .find(|s| s.is_some_and(|t| t.itt == itt))
            .and_then(Option::take)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        self.slots.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        self.slots.iter_mut().flatten()
    }

    /// The unsent task submitted first (tags are handed out in increasing order).
    pub fn first_unsent(&self, next_itt: u32) -> Option<u32> {
        self.iter()
            .filter(|t| !t.sent)
            .max_by_key(|t| next_itt.wrapping_sub(t.itt))
            .map(|t| t.itt)
    }
}
