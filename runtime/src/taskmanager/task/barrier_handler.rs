//! Checkpoint barrier handling at a task's input: when a checkpoint's
//! barriers are in, and which records belong to it.
//!
//! Flink's `CheckpointBarrierHandler` (`SingleCheckpointBarrierHandler`
//! with its `WaitingForFirstBarrier`, `CollectingBarriers` and
//! `AlternatingWaitingForFirstBarrierUnaligned` states) decides, barrier by
//! barrier, when the task may snapshot. [`CheckpointBarrierHandler`] keeps
//! both ways:
//!
//! - **Aligned** (exactly-once, and every savepoint): a channel that
//!   delivered the barrier is blocked (its later elements held) until every
//!   open channel has; then the task snapshots and forwards the barrier.
//! - **Unaligned**: at the *first* barrier (a priority copy that overtook
//!   the data) the task snapshots at once and its barrier overtakes its
//!   output buffers; the records still in flight on the other channels,
//!   up to each one's in-lane barrier, are stored with the snapshot, which
//!   is acknowledged when the last barrier is in.
//!
//! - **In**: barriers, records and ends of partition as the task reads
//!   them from the [`InputGate`] (whose channels it blocks, drains and holds).
//! - **Out**: what the task must do: take an aligned checkpoint (barrier and
//!   alignment time), start an unaligned one, or acknowledge a finished
//!   unaligned one (its id and snapshot).

use crate::ids::CheckpointId;
use crate::job_config::CheckpointMode;
use crate::jobmanager::checkpoint::snapshot::TaskSnapshot;
use crate::operators::Value;
use crate::rpc::{CheckpointBarrier, StreamElement};
use crate::taskmanager::network::input_gate::InputGate;
use std::collections::BTreeSet;

/// An unaligned checkpoint between the first barrier and the last.
#[derive(Debug)]
struct UnalignedCheckpoint {
    barrier: CheckpointBarrier,
    /// The snapshot taken at the first barrier (with the overtaken output),
    /// collecting the input in flight.
    snapshot: TaskSnapshot,
    /// Input channels whose barrier has not arrived yet.
    waiting: BTreeSet<usize>,
}

/// What an aligned barrier did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignedBarrier {
    /// Older than the checkpoint being aligned: ignored.
    Stale,
    /// Its channel is blocked, with the elements behind it held.
    Blocked,
}

/// What an unaligned barrier asks of the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnalignedBarrier {
    /// A copy of a barrier already acknowledged: nothing to do.
    Done,
    /// Part of the checkpoint in progress (or older): counted.
    Counted,
    /// The first barrier of a new checkpoint: snapshot now, then
    /// [`CheckpointBarrierHandler::start_unaligned`].
    Start,
}

/// The barrier state of one task's input.
#[derive(Debug)]
pub struct CheckpointBarrierHandler {
    mode: CheckpointMode,
    /// The checkpoint being aligned: its barrier and when alignment began.
    aligning: Option<(CheckpointBarrier, u64)>,
    /// The unaligned checkpoint in progress.
    unaligned: Option<UnalignedCheckpoint>,
    /// The last unaligned checkpoint acknowledged.
    unaligned_done: CheckpointId,
}

impl CheckpointBarrierHandler {
    /// A handler for the job's checkpoint mode, with nothing in progress.
    pub fn new(mode: CheckpointMode) -> Self {
        CheckpointBarrierHandler {
            mode,
            aligning: None,
            unaligned: None,
            unaligned_done: CheckpointId(0),
        }
    }

    /// Whether barrier `b` is handled unaligned (savepoints never are).
    pub fn is_unaligned(&self, b: &CheckpointBarrier) -> bool {
        self.mode == CheckpointMode::Unaligned && !b.savepoint
    }

    /// Whether an unaligned checkpoint is collecting in-flight input.
    pub fn unaligned_in_progress(&self) -> bool {
        self.unaligned.is_some()
    }

    // ANCHOR: in_flight
    /// A record read from channel `idx` (`stored`: already part of the
    /// snapshot). One that was in flight when the task snapshotted belongs
    /// to the unaligned checkpoint.
    #[inline]
    pub fn on_record(&mut self, idx: usize, v: &Value, stored: bool) {
        if !stored
            && let Some(u) = &mut self.unaligned
            && u.waiting.contains(&idx)
        {
            u.snapshot.input_channel_state.push(v.clone());
        }
    }
    // ANCHOR_END: in_flight

    /// An aligned barrier on channel `idx`, read at `now`; `rest` are the
    /// elements behind it in the same buffer, held until the alignment ends.
    pub fn on_aligned_barrier(
        &mut self,
        gate: &mut InputGate,
        idx: usize,
        b: CheckpointBarrier,
        now: u64,
        rest: &mut impl Iterator<Item = (StreamElement, bool)>,
    ) -> AlignedBarrier {
        let start = match self.aligning {
            Some((a, t)) if a.id == b.id => t,
            Some((a, _)) if a.id > b.id => return AlignedBarrier::Stale,
            _ => now,
        };
        self.aligning = Some((b, start));
        let c = &mut gate.channels[idx];
        c.blocked = true;
        // Records behind the barrier wait for the alignment.
        c.held = rest.collect();
        AlignedBarrier::Blocked
    }

    /// Channel `idx` ended: it no longer holds up any checkpoint.
    pub fn on_end_of_partition(&mut self, gate: &mut InputGate, idx: usize) {
        gate.channels[idx].ended = true;
        if let Some(u) = &mut self.unaligned {
            u.waiting.remove(&idx);
        }
    }

    // ANCHOR: complete_alignment
    /// When every open channel delivered the barrier being aligned: unblocks
    /// them and returns the barrier and the alignment time (ms) at `now`;
    /// the task then takes the checkpoint.
    pub fn try_complete_alignment(
        &mut self,
        gate: &mut InputGate,
        now: u64,
    ) -> Option<(CheckpointBarrier, u64)> {
        let (barrier, started) = self.aligning?;
        if !gate.channels.iter().all(|c| c.blocked || c.ended) {
            return None;
        }
        self.aligning = None;
        for c in gate.channels.iter_mut() {
            c.blocked = false;
        }
        Some((barrier, now - started))
    }
    // ANCHOR_END: complete_alignment

    /// An unaligned barrier on channel `idx`: a priority copy (`priority`)
    /// or the in-lane one, which marks where the channel's in-flight data
    /// ends.
    pub fn on_unaligned_barrier(
        &mut self,
        idx: usize,
        b: CheckpointBarrier,
        priority: bool,
    ) -> UnalignedBarrier {
        if b.id <= self.unaligned_done {
            // The other copy of a barrier already handled.
            return UnalignedBarrier::Done;
        }
        match &mut self.unaligned {
            Some(u) if u.barrier.id == b.id => {
                if !priority {
                    u.waiting.remove(&idx);
                }
                UnalignedBarrier::Counted
            }
            Some(u) if u.barrier.id > b.id => UnalignedBarrier::Counted,
            _ => UnalignedBarrier::Start,
        }
    }

    /// Starts the unaligned checkpoint of `b`, first seen on channel `idx`,
    /// from the task's `snapshot`: waits for the in-lane barrier of every
    /// other open channel (and of `idx` too if this was the priority copy),
    /// and stores what is queued on them now.
    pub fn start_unaligned(
        &mut self,
        gate: &mut InputGate,
        idx: usize,
        b: CheckpointBarrier,
        priority: bool,
        snapshot: TaskSnapshot,
    ) {
        let waiting = (0..gate.channels.len())
            .filter(|&i| (priority || i != idx) && !gate.channels[i].ended)
            .collect();
        // Records an earlier checkpoint stored that are still unprocessed
        // are in flight for this one too (a slow task may hold a backlog
        // across back-to-back checkpoints): store them again.
        for c in gate.channels.iter_mut() {
            for (_, stored) in c.held.iter_mut() {
                *stored = false;
            }
        }
        self.unaligned = Some(UnalignedCheckpoint {
            barrier: b,
            snapshot,
            waiting,
        });
        self.drain_in_flight(gate);
    }

    /// Moves what is queued on the channels still waiting for their in-lane
    /// barrier into memory, storing the records as in-flight state, so the
    /// checkpoint does not wait for them to be processed.
    pub fn drain_in_flight(&mut self, gate: &mut InputGate) {
        let Some(u) = &mut self.unaligned else {
            return;
        };
        let id = u.barrier.id;
        for (i, c) in gate.channels.iter_mut().enumerate() {
            if !u.waiting.contains(&i) {
                continue;
            }
            // What was read ahead earlier comes first.
            for (el, stored) in c.held.iter_mut() {
                if !u.waiting.contains(&i) {
                    break;
                }
                match el {
                    StreamElement::Record(v) if !*stored => {
                        u.snapshot.input_channel_state.push(v.clone());
                        *stored = true;
                    }
                    StreamElement::Barrier(b) if b.id == id => {
                        u.waiting.remove(&i);
                    }
                    StreamElement::EndOfPartition => {
                        u.waiting.remove(&i);
                    }
                    _ => {}
                }
            }
            while u.waiting.contains(&i) {
                let Ok(buf) = c.channel.try_recv() else {
                    break;
                };
                for el in buf {
                    let stored = if u.waiting.contains(&i) {
                        match &el {
                            StreamElement::Record(v) => {
                                u.snapshot.input_channel_state.push(v.clone());
                                true
                            }
                            StreamElement::Barrier(b) if b.id == id => {
                                u.waiting.remove(&i);
                                false
                            }
                            StreamElement::EndOfPartition => {
                                u.waiting.remove(&i);
                                false
                            }
                            StreamElement::Barrier(_) => false,
                        }
                    } else {
                        false
                    };
                    c.held.push((el, stored));
                }
            }
        }
    }

    /// When the last barrier of the unaligned checkpoint is in: its id and
    /// snapshot, for the task to acknowledge.
    pub fn try_complete_unaligned(&mut self) -> Option<(CheckpointId, TaskSnapshot)> {
        if !self
            .unaligned
            .as_ref()
            .is_some_and(|u| u.waiting.is_empty())
        {
            return None;
        }
        let u = self.unaligned.take()?;
        self.unaligned_done = u.barrier.id;
        Some((u.barrier.id, u.snapshot))
    }
}

#[cfg(test)]
mod tests;
