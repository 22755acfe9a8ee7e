//! What a campaign compares against: the fault-free run of the scenario
//! (each job's committed output, and the span in which faults are drawn).
//!
//! A leaf of [`crate::campaign`]: the schedule, the verdict and the
//! campaign itself read it; it imports none of them.

use crate::scenario::Scenario;
use crate::simulation::{Outcome, SimError, Simulation};
use runtime::events::EventKind;
use runtime::operators::Value;

/// What a campaign compares against: the fault-free run.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Each job's committed output, sorted.
    pub committed: Vec<Vec<Value>>,
    /// When the first task was deployed (ms): faults start from here.
    pub from_ms: u64,
    /// When the last job ended (ms): faults are drawn before it.
    pub until_ms: u64,
}

impl Reference {
    /// Runs the scenario without faults.
    pub fn run(s: &Scenario) -> Result<Reference, SimError> {
        let mut clean = s.clone();
        clean.faults.clear();
        let o = Simulation::new(&clean, None).run()?;
        let first = |f: fn(&EventKind) -> bool| o.events.iter().find(|e| f(&e.kind)).map(|e| e.t);
        let from_ms = first(|k| matches!(k, EventKind::TaskDeployed { .. })).unwrap_or(300);
        let until_ms = o
            .events
            .iter()
            .rev()
            .find(|e| matches!(&e.kind, EventKind::JobStatusChanged { to, .. } if to.is_terminal()))
            .map_or(o.end_ms, |e| e.t)
            .max(from_ms + 1_000);
        Ok(Reference {
            committed: committed(&o),
            from_ms,
            until_ms,
        })
    }
}

/// Each job's committed output, sorted (a multiset).
pub fn committed(o: &Outcome) -> Vec<Vec<Value>> {
    o.jobs
        .iter()
        .map(|j| {
            let mut v = j
                .result
                .as_ref()
                .map(|r| r.collected.clone())
                .unwrap_or_default();
            v.sort();
            v
        })
        .collect()
}
