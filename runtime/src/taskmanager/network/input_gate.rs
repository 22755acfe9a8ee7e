//! The input gate: every input channel of a task, read as one stream.
//!
//! Flink's `SingleInputGate` (one per input edge, joined by a
//! `UnionInputGate`) hands the task the next buffer of whichever channel has
//! data, and priority events (unaligned checkpoint barriers) before any
//! buffer. Here one [`InputGate`] spans the channels of all input edges,
//! reads them round-robin, and keeps per channel what the barrier handler
//! needs: whether it ended, whether it is blocked by an aligned barrier, and
//! the elements held back.
//!
//! - **In**: buffers and priority barriers from each [`InputChannel`].
//! - **Out**: [`GateEvent`]s to the task; blocking and held elements are set
//!   by the task's `barrier_handler`.

use super::channel::{Buffer, ChannelError, InputChannel};
use super::signal::GateWaker;
use crate::rpc::{ChannelKey, CheckpointBarrier, StreamElement};
use std::task::Poll;

/// One input channel with its alignment state.
#[derive(Debug)]
pub struct GateChannel {
    /// Which channel.
    pub key: ChannelKey,
    /// The consumer half.
    pub channel: InputChannel,
    /// EndOfPartition was read.
    pub ended: bool,
    /// Delivered the barrier of the checkpoint being aligned (aligned mode:
    /// not read until the alignment completes).
    pub blocked: bool,
    /// Elements read ahead (past an aligned barrier, or drained by an
    /// unaligned checkpoint), to be processed next; the flag says whether
    /// the record is already stored as in-flight state.
    pub held: Vec<(StreamElement, bool)>,
}

impl GateChannel {
    /// A channel that is open, unblocked, with nothing held.
    pub fn new(key: ChannelKey, channel: InputChannel) -> Self {
        GateChannel {
            key,
            channel,
            ended: false,
            blocked: false,
            held: Vec::new(),
        }
    }
}

/// What the input gate yields.
#[derive(Debug)]
pub enum GateEvent {
    /// Elements of channel `idx` (with their already-stored flags).
    Data(usize, Elements),
    /// A priority (unaligned) barrier on channel `idx`.
    Priority(usize, CheckpointBarrier),
}

/// The input side: all channels of all input edges (Flink's `InputGate`).
#[derive(Debug, Default)]
pub struct InputGate {
    /// The channels, in the order the deployment listed them.
    pub channels: Vec<GateChannel>,
    next: usize,
    /// The reading task's waker, woken by any channel it waits for.
    waker: std::sync::Arc<GateWaker>,
    /// How many of `channels` were linked to `waker` (see
    /// [`super::signal::ChannelSignal::link`]).
    linked: usize,
}

impl InputGate {
    /// Whether every channel delivered its `EndOfPartition`.
    pub fn all_ended(&self) -> bool {
        self.channels.iter().all(|c| c.ended)
    }

    /// The next event if one is ready: a priority barrier first, then held
    /// elements or a buffer of the next channel in turn.
    pub fn try_next(&mut self) -> Result<Option<GateEvent>, ChannelError> {
        if let Some((idx, b)) = self.try_priority() {
            return Ok(Some(GateEvent::Priority(idx, b)));
        }
        // No buffer and no closed end on any data lane: only held elements
        // can be found, so the lanes need no look.
        let quiet = !self.may_have_data();
        let n = self.channels.len();
        for i in 0..n {
            let idx = (self.next + i) % n;
            let c = &mut self.channels[idx];
            if c.ended || c.blocked {
                continue;
            }
            if !c.held.is_empty() {
                self.next = (idx + 1) % n;
                return Ok(Some(GateEvent::Data(
                    idx,
                    Elements::Held(std::mem::take(&mut c.held)),
                )));
            }
            if quiet {
                continue;
            }
            match c.channel.try_recv() {
                Ok(b) => {
                    self.next = (idx + 1) % n;
                    return Ok(Some(GateEvent::Data(idx, Elements::Fresh(b))));
                }
                Err(false) => {}
                Err(true) => return Err(ChannelError::ClosedBeforeEnd { from: c.key.from }),
            }
        }
        Ok(None)
    }

    /// A priority barrier on an open channel, if one arrived.
    pub fn try_priority(&mut self) -> Option<(usize, CheckpointBarrier)> {
        // No barrier on any lane: none would be found (a closed lane's end
        // is not one), so the lanes need no look.
        if !self.may_have_priority() {
            return None;
        }
        self.channels
            .iter_mut()
            .enumerate()
            .filter(|(_, c)| !c.ended)
            .find_map(|(i, c)| c.channel.try_priority().map(|b| (i, b)))
    }

    /// Whether a channel may hold a priority barrier (`false`: surely
    /// none), linking the channels added since the last call first.
    fn may_have_priority(&mut self) -> bool {
        self.link();
        self.waker.may_have_priority()
    }

    /// Whether a data lane may hold a buffer or a closed end (`false`:
    /// surely none), linking the channels added since the last call first.
    fn may_have_data(&mut self) -> bool {
        self.link();
        self.waker.may_have_data()
    }

    fn link(&mut self) {
        if self.linked != self.channels.len() {
            for c in &self.channels {
                c.channel.signal().link(&self.waker);
            }
            self.linked = self.channels.len();
        }
    }

    /// Waits for the next event (priority barriers first).
    ///
    /// Every lane looked at costs what a tokio `poll_recv` on it would:
    /// nothing when it is empty, one unit of the task's budget when it
    /// yields (an element, or the end of a closed lane), and a wait when the
    /// budget is spent. The budget is read once, and again only after it
    /// was spent, rather than once per lane: the same outcome at the cost of
    /// one look for 2 x 64 lanes.
    pub async fn next(&mut self) -> Result<GateEvent, ChannelError> {
        std::future::poll_fn(|cx| {
            self.waker.register(cx.waker());
            let none_queued = !self.may_have_priority();
            let quiet = !self.may_have_data();
            let waker = &self.waker;
            let n = self.channels.len();
            // Whether the budget is known to allow one more lane.
            let mut allowed = false;
            for (idx, c) in self.channels.iter_mut().enumerate() {
                if c.ended {
                    continue;
                }
                if !allowed {
                    std::task::ready!(proceed(cx));
                    allowed = true;
                }
                match c.channel.poll_priority(waker, none_queued) {
                    Some(Some(b)) => {
                        spend(cx);
                        return Poll::Ready(Ok(GateEvent::Priority(idx, b)));
                    }
                    // A closed lane's end is read, and costs budget, but
                    // means nothing to the gate.
                    Some(None) => {
                        spend(cx);
                        allowed = false;
                    }
                    None => {}
                }
            }
            for i in 0..n {
                let idx = (self.next + i) % n;
                let c = &mut self.channels[idx];
                if c.ended || c.blocked {
                    continue;
                }
                if !allowed {
                    std::task::ready!(proceed(cx));
                    allowed = true;
                }
                match c.channel.poll_recv(waker, quiet) {
                    Some(Some(b)) => {
                        spend(cx);
                        self.next = (idx + 1) % n;
                        return Poll::Ready(Ok(GateEvent::Data(idx, Elements::Fresh(b))));
                    }
                    Some(None) => {
                        spend(cx);
                        return Poll::Ready(Err(ChannelError::ClosedBeforeEnd {
                            from: c.key.from,
                        }));
                    }
                    None => {}
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// Whether tokio's task budget allows looking at one more lane: `Pending`
/// (with the task woken to run again later) when it is spent, as
/// `poll_recv` answers then; nothing is spent.
fn proceed(cx: &mut std::task::Context<'_>) -> Poll<()> {
    tokio::task::coop::poll_proceed(cx).map(drop)
}

/// Spends one unit of the task's budget, as a `poll_recv` that yielded
/// does; called only after [`proceed`] allowed it.
fn spend(cx: &mut std::task::Context<'_>) {
    if let Poll::Ready(coop) = tokio::task::coop::poll_proceed(cx) {
        coop.made_progress();
    }
}

/// Elements of one channel for the task, each with whether it is already
/// stored as in-flight state: a buffer as it came from the channel (moved,
/// not copied: none is stored yet), or elements held back earlier.
#[derive(Debug)]
pub enum Elements {
    /// A buffer fresh from the channel.
    Fresh(Buffer),
    /// Elements held back, with their flags.
    Held(Vec<(StreamElement, bool)>),
}

/// The iterator over [`Elements`].
pub enum ElementsIter {
    /// Over a fresh buffer.
    Fresh(std::vec::IntoIter<StreamElement>),
    /// Over held elements.
    Held(std::vec::IntoIter<(StreamElement, bool)>),
}

impl IntoIterator for Elements {
    type Item = (StreamElement, bool);
    type IntoIter = ElementsIter;
    fn into_iter(self) -> ElementsIter {
        match self {
            Elements::Fresh(b) => ElementsIter::Fresh(b.into_iter()),
            Elements::Held(h) => ElementsIter::Held(h.into_iter()),
        }
    }
}

impl Iterator for ElementsIter {
    type Item = (StreamElement, bool);
    #[inline]
    fn next(&mut self) -> Option<(StreamElement, bool)> {
        match self {
            ElementsIter::Fresh(it) => it.next().map(|e| (e, false)),
            ElementsIter::Held(it) => it.next(),
        }
    }
}
