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
///
/// `live` has bit `i` set exactly when `slots[i]` holds a task, so the table's walks (several per
/// transmitted PDU) visit only the tasks in flight, not all [`MAX_TASKS`] slots.
#[derive(Debug)]
pub(crate) struct TaskTable {
    slots: [Option<Task>; MAX_TASKS],
    live: u32,
}

// `live` has one bit per slot.
const _: () = assert!(MAX_TASKS <= u32::BITS as usize);

/// Indices of the set bits of a mask, lowest first.
struct SetBits(u32);

impl Iterator for SetBits {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(i as usize)
    }
}

impl TaskTable {
    pub const fn new() -> Self {
        TaskTable {
            slots: [None; MAX_TASKS],
            live: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.live.count_ones() as usize
    }

    pub fn insert(&mut self, task: Task) -> bool {
        let free = (!self.live).trailing_zeros() as usize;
        match self.slots.get_mut(free) {
            Some(slot) => {
                *slot = Some(task);
                self.live |= 1 << free;
                true
            }
            None => false,
        }
    }

    /// The slot index of the task tagged `itt`.
    fn index_of(&self, itt: u32) -> Option<usize> {
        SetBits(self.live).find(|&i| {
            self.slots
                .get(i)
                .is_some_and(|s| s.is_some_and(|t| t.itt == itt))
        })
    }

    pub fn get_mut(&mut self, itt: u32) -> Option<&mut Task> {
        let i = self.index_of(itt)?;
        self.slots.get_mut(i)?.as_mut()
    }

    pub fn get(&self, itt: u32) -> Option<&Task> {
        let i = self.index_of(itt)?;
        self.slots.get(i)?.as_ref()
    }

    pub fn remove(&mut self, itt: u32) -> Option<Task> {
        let i = self.index_of(itt)?;
        self.live &= !(1 << i);
        self.slots.get_mut(i)?.take()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        SetBits(self.live).filter_map(|i| self.slots.get(i)?.as_ref())
    }

    /// Every task, for the rare whole-table updates (a new connection).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn task(itt: u32) -> Task {
        Task::new(itt, 0, &[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512, 0)
    }

    #[test]
    fn holds_max_tasks_and_reuses_freed_slots() {
        let mut table = TaskTable::new();
        for itt in 0..MAX_TASKS as u32 {
            assert!(table.insert(task(itt)));
        }
        assert_eq!(table.len(), MAX_TASKS);
        assert!(!table.insert(task(99)), "a full table refuses");
        assert_eq!(table.remove(7).map(|t| t.itt), Some(7));
        assert_eq!(table.remove(7).map(|t| t.itt), None, "removed once");
        assert!(table.get(7).is_none());
        assert_eq!(table.len(), MAX_TASKS - 1);
        assert!(table.insert(task(100)));
        assert_eq!(table.get(100).map(|t| t.itt), Some(100));
        assert_eq!(table.len(), MAX_TASKS);
    }

    #[test]
    fn walks_see_exactly_the_tasks_in_flight() {
        let mut table = TaskTable::new();
        for itt in [10, 11, 12, 13] {
            assert!(table.insert(task(itt)));
        }
        table.remove(11);
        let mut seen = [0u32; 4];
        let mut n = 0;
        for t in table.iter() {
            seen[n] = t.itt;
            n += 1;
        }
        seen[..n].sort_unstable();
        assert_eq!(&seen[..n], &[10, 12, 13]);
        for t in table.iter_mut() {
            t.sent = t.itt != 12;
        }
        assert_eq!(table.first_unsent(14), Some(12));
        table.get_mut(12).unwrap().sent = true;
        assert_eq!(table.first_unsent(14), None);
        assert_eq!(table.len(), 3);
    }
}
