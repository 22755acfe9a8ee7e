//! Tests of the unaligned barrier handler on a gate of real local channels.

use super::*;
use crate::graph::JobId;
use crate::rpc::ChannelKey;
use crate::taskmanager::network::channel::{InputChannel, OutputChannel};
use crate::taskmanager::network::input_gate::GateChannel;
use crate::taskmanager::network::signal::ChannelSignal;
use tokio::sync::mpsc;

fn barrier(id: u64) -> CheckpointBarrier {
    CheckpointBarrier {
        id: CheckpointId(id),
        timestamp: id * 100,
        savepoint: false,
    }
}

fn rec(i: i64) -> StreamElement {
    StreamElement::Record(Value::Int(i))
}

/// A gate over `n` local channels, with their producer halves.
fn gate(n: u32) -> (InputGate, Vec<OutputChannel>) {
    let mut gate = InputGate::default();
    let mut senders = Vec::new();
    for from in 0..n {
        let (tx, rx) = mpsc::channel(16);
        let (ptx, prx) = mpsc::unbounded_channel();
        let signal = ChannelSignal::new();
        let key = ChannelKey {
            job: JobId(1),
            attempt: 0,
            edge: 0,
            from,
            to: 0,
        };
        let input = InputChannel::Local {
            rx,
            priority: prx,
            signal: signal.clone(),
        };
        gate.channels.push(GateChannel::new(key, input));
        senders.push(OutputChannel::new(tx, ptx, signal));
    }
    (gate, senders)
}

fn ints(values: &[Value]) -> Vec<i64> {
    values
        .iter()
        .map(|v| match v {
            Value::Int(i) => *i,
            other => panic!("not an int: {other:?}"),
        })
        .collect()
}

/// Seed 13 of the unaligned campaign: a slow task still holds, unprocessed,
/// the records checkpoint 1 stored as in flight when checkpoint 2's
/// priority barrier comes. They are in flight for checkpoint 2 as well, and
/// must be stored again, or a restore from 2 loses them.
#[test]
fn records_still_held_from_one_checkpoint_are_stored_in_the_next() {
    let (mut gate, tx) = gate(2);
    let mut h = CheckpointBarrierHandler::new(CheckpointMode::Unaligned);
    tx[0]
        .try_send(vec![StreamElement::Barrier(barrier(1))])
        .unwrap();
    tx[1]
        .try_send(vec![
            rec(1),
            rec(2),
            StreamElement::Barrier(barrier(1)),
            rec(3),
        ])
        .unwrap();

    // Checkpoint 1 starts at channel 0's priority barrier.
    assert_eq!(
        h.on_unaligned_barrier(0, barrier(1), true),
        UnalignedBarrier::Start
    );
    h.start_unaligned(&mut gate, 0, barrier(1), true, TaskSnapshot::default());
    let (id, snap) = h
        .try_complete_unaligned()
        .expect("every in-lane barrier is in");
    assert_eq!(id, CheckpointId(1));
    assert_eq!(ints(&snap.input_channel_state), [1, 2]);

    // Nothing was processed yet; checkpoint 2 comes, channel 1's barrier later.
    tx[0]
        .try_send(vec![StreamElement::Barrier(barrier(2))])
        .unwrap();
    assert_eq!(
        h.on_unaligned_barrier(0, barrier(2), true),
        UnalignedBarrier::Start
    );
    h.start_unaligned(&mut gate, 0, barrier(2), true, TaskSnapshot::default());
    assert!(
        h.try_complete_unaligned().is_none(),
        "channel 1's barrier 2 is still out"
    );
    tx[1]
        .try_send(vec![rec(4), StreamElement::Barrier(barrier(2)), rec(5)])
        .unwrap();
    h.drain_in_flight(&mut gate);
    let (id, snap) = h
        .try_complete_unaligned()
        .expect("every in-lane barrier is in");
    assert_eq!(id, CheckpointId(2));
    assert_eq!(ints(&snap.input_channel_state), [1, 2, 3, 4]);

    // Processing the held records afterwards adds none of them again.
    for (el, stored) in std::mem::take(&mut gate.channels[1].held) {
        if let StreamElement::Record(v) = el {
            h.on_record(1, &v, stored);
        }
    }
    assert!(!h.unaligned_in_progress());
}
