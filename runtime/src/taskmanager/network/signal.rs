//! Channel availability: how an input gate learns which of its channels
//! has data without polling every one of them.
//!
//! Flink's `SingleInputGate` keeps a queue of `inputChannelsWithData`: a
//! channel that receives a buffer notifies its gate (`notifyChannelNonEmpty`)
//! and the task takes the next buffer from a channel in that queue, instead
//! of asking every channel in turn. Here each channel carries a
//! [`ChannelSignal`] shared by its senders and its reader:
//!
//! - per lane (data, priority) a count of what is queued, so a look at an
//!   empty channel is one atomic load rather than a queue pop;
//! - per lane an *armed* flag, set when the reader found the lane empty and
//!   is about to wait: the next element pushed on an armed lane wakes the
//!   gate's one [`GateWaker`] (and disarms the lane), exactly as a waker
//!   registered on that lane alone would, so the task is woken at the same
//!   moments as before and the simulator's schedule does not change;
//! - a closed flag, set when the last sender is gone.
//!
//! The gate registers its task's waker once per poll in its [`GateWaker`]
//! rather than a copy of it in each of its channels.
//!
//! - **In**: pushes and closes from the senders ([`ChannelSignal::pushed`],
//!   [`CloseOnDrop`]); pops and waits from the reader.
//! - **Out**: wake-ups of the gate's task.

use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;

/// Which of a channel's two lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Buffers, in order.
    Data,
    /// Priority (unaligned) barriers.
    Priority,
}

#[derive(Debug, Default)]
struct LaneState {
    /// Pushed and not yet popped (a hint: the queue is the truth).
    queued: AtomicIsize,
    /// The reader waits for this lane.
    armed: AtomicBool,
}

/// The waker of the task reading one input gate, and what its channels
/// hold, summed over them.
#[derive(Debug, Default)]
pub struct GateWaker {
    waker: Mutex<Option<Waker>>,
    /// Priority barriers pushed and not yet popped on the channels linked
    /// to this gate (see [`ChannelSignal::link`]): never less than the
    /// truth, so at zero the gate need not look at any priority lane.
    priority: AtomicIsize,
    /// The same for buffers on the data lanes.
    data: AtomicIsize,
    /// Linked channels whose senders are all gone (never less than the
    /// truth either).
    closed: AtomicIsize,
}

impl GateWaker {
    /// Remembers the waker of the task polling the gate.
    pub fn register(&self, waker: &Waker) {
        let mut w = self.waker.lock().unwrap_or_else(|e| e.into_inner());
        match &*w {
            Some(old) if old.will_wake(waker) => {}
            _ => *w = Some(waker.clone()),
        }
    }

    fn wake(&self) {
        let w = self.waker.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = &*w {
            w.wake_by_ref();
        }
    }

    /// Whether a channel linked to this gate may hold a priority barrier.
    #[inline]
    pub fn may_have_priority(&self) -> bool {
        self.priority.load(SeqCst) > 0
    }

    /// Whether a look at the data lanes of the channels linked to this gate
    /// may find something: a buffer, or the end of a closed channel.
    #[inline]
    pub fn may_have_data(&self) -> bool {
        self.data.load(SeqCst) > 0 || self.closed.load(SeqCst) > 0
    }

    fn count(&self, lane: Lane) -> &AtomicIsize {
        match lane {
            Lane::Data => &self.data,
            Lane::Priority => &self.priority,
        }
    }
}

/// What a channel's senders and its reader share (see the module's text).
#[derive(Debug, Default)]
pub struct ChannelSignal {
    data: LaneState,
    priority: LaneState,
    closed: AtomicBool,
    gate: OnceLock<Arc<GateWaker>>,
}

impl ChannelSignal {
    /// A fresh signal for a new channel.
    pub fn new() -> Arc<Self> {
        Arc::new(ChannelSignal::default())
    }

    fn lane(&self, lane: Lane) -> &LaneState {
        match lane {
            Lane::Data => &self.data,
            Lane::Priority => &self.priority,
        }
    }

    /// A sender pushed one element on `lane`: wakes the gate if it waits
    /// for this lane.
    #[inline]
    pub fn pushed(&self, lane: Lane) {
        let l = self.lane(lane);
        l.queued.fetch_add(1, SeqCst);
        if let Some(g) = self.gate.get() {
            g.count(lane).fetch_add(1, SeqCst);
        }
        if l.armed.load(SeqCst) && l.armed.swap(false, SeqCst) {
            self.wake();
        }
    }

    /// The reader popped one element of `lane`.
    #[inline]
    pub fn popped(&self, lane: Lane) {
        self.lane(lane).queued.fetch_sub(1, SeqCst);
        if let Some(g) = self.gate.get() {
            g.count(lane).fetch_sub(1, SeqCst);
        }
    }

    /// Links this channel to the gate that reads it (once; later calls do
    /// nothing): from then on what it holds counts in the gate's sums. The
    /// gate is set before what is already queued (or closed) is counted, and
    /// a push (or the close) counts itself after its own mark, so one
    /// racing the link may count twice but never not at all.
    pub fn link(&self, gate: &Arc<GateWaker>) {
        if self.gate.get().is_some() {
            return;
        }
        let mut linked = false;
        self.gate.get_or_init(|| {
            linked = true;
            gate.clone()
        });
        if linked {
            gate.priority
                .fetch_add(self.priority.queued.load(SeqCst), SeqCst);
            gate.data.fetch_add(self.data.queued.load(SeqCst), SeqCst);
            if self.closed.load(SeqCst) {
                gate.closed.fetch_add(1, SeqCst);
            }
        }
    }

    /// Whether a pop on `lane` may find something (an element, or the end
    /// of a closed channel); `false` means the lane is surely empty.
    #[inline]
    pub fn may_have(&self, lane: Lane) -> bool {
        self.lane(lane).queued.load(SeqCst) > 0 || self.closed.load(SeqCst)
    }

    /// Whether the last sender is gone.
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// The reader found `lane` empty and will wait: the next push (or the
    /// close) wakes `gate`.
    #[inline]
    pub fn arm(&self, lane: Lane, gate: &Arc<GateWaker>) {
        self.link(gate);
        // A lane stays armed until a push disarms it: most are armed
        // already, and a load is cheaper than a store.
        let armed = &self.lane(lane).armed;
        if !armed.load(SeqCst) {
            armed.store(true, SeqCst);
        }
    }

    fn close(&self) {
        self.closed.store(true, SeqCst);
        if let Some(g) = self.gate.get() {
            g.closed.fetch_add(1, SeqCst);
        }
        let a = self.data.armed.swap(false, SeqCst);
        let b = self.priority.armed.swap(false, SeqCst);
        if a || b {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(g) = self.gate.get() {
            g.wake();
        }
    }
}

/// Marks its channel closed when dropped: held (behind an `Arc` where the
/// sender is cloned) beside a channel's senders, so it drops with the last.
#[derive(Debug)]
pub struct CloseOnDrop(pub Arc<ChannelSignal>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn an_armed_lane_wakes_once_and_an_unarmed_one_never() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let gate = Arc::new(GateWaker::default());
        gate.register(&waker);
        let s = ChannelSignal::new();
        assert!(!s.may_have(Lane::Data));
        s.pushed(Lane::Data);
        assert_eq!(count.0.load(SeqCst), 0, "not armed: no wake");
        assert!(s.may_have(Lane::Data));
        s.popped(Lane::Data);
        s.arm(Lane::Data, &gate);
        s.pushed(Lane::Priority);
        assert_eq!(count.0.load(SeqCst), 0, "the other lane is not armed");
        s.pushed(Lane::Data);
        s.pushed(Lane::Data);
        assert_eq!(count.0.load(SeqCst), 1, "one wake per arming");
        s.arm(Lane::Priority, &gate);
        drop(CloseOnDrop(s.clone()));
        assert_eq!(count.0.load(SeqCst), 2, "closing wakes an armed reader");
        let empty = ChannelSignal::new();
        drop(CloseOnDrop(empty.clone()));
        assert!(empty.may_have(Lane::Data), "a closed lane is worth a look");
    }

    #[test]
    fn the_gate_counts_the_priority_barriers_of_its_linked_channels() {
        let gate = Arc::new(GateWaker::default());
        let (early, late) = (ChannelSignal::new(), ChannelSignal::new());
        early.pushed(Lane::Priority);
        early.pushed(Lane::Data);
        assert!(!gate.may_have_priority(), "nothing linked yet");
        early.link(&gate);
        late.link(&gate);
        late.link(&gate);
        assert!(
            gate.may_have_priority(),
            "a barrier queued before the link counts"
        );
        early.popped(Lane::Priority);
        assert!(!gate.may_have_priority(), "data lanes do not count");
        late.pushed(Lane::Priority);
        assert!(gate.may_have_priority());
        late.arm(Lane::Priority, &gate);
        late.popped(Lane::Priority);
        assert!(
            !gate.may_have_priority(),
            "a second link or an arm counts nothing twice"
        );
        assert!(gate.may_have_data(), "the early buffer");
        early.popped(Lane::Data);
        assert!(!gate.may_have_data());
        drop(CloseOnDrop(late.clone()));
        assert!(
            gate.may_have_data(),
            "a closed channel's end is worth a look"
        );
        let gone = ChannelSignal::new();
        drop(CloseOnDrop(gone.clone()));
        let other = Arc::new(GateWaker::default());
        gone.link(&other);
        assert!(other.may_have_data(), "closed before the link counts too");
    }
}
