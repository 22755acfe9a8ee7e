//! The scheduler: deploys and cancels a job's executions (Flink's
//! `DefaultScheduler` with its `ExecutionDeployer`, and the
//! `PipelinedRegionSchedulingStrategy` that deploys a streaming job's
//! regions all at once).
//!
//! Placement follows slot sharing: subtask `k` of every chain in a sharing
//! group goes to the group's slot `k` (from the [`SlotPool`](super::slot_pool)).
//! For each subtask the scheduler builds a `TaskDeploymentDescriptor`: the
//! chain, its input gates (which producer subtasks, where) and its result
//! partitions (which consumer subtasks, where), and the state to restore
//! from the latest completed checkpoint. A restart deploys new attempts of
//! the restarting regions' subtasks, so that late reports of the old
//! attempts are recognised as stale and dropped.
//!
//! In: the regions to deploy or cancel. Out: `SubmitTask` and `CancelTask`
//! to TaskManagers, execution state changes, `TaskDeployed` events.

use super::JobMaster;
use super::failover::RegionIdx;
use super::slot_pool::PoolSlot;
use crate::events::EventKind;
use crate::ids::{ExecutionVertexId, SubtaskIndex};
use crate::jobmanager::outbox::Outbox;
use crate::rpc::{
    ExecutionAttemptId, InputGateDescriptor, ResultPartitionDescriptor, TaskDeploymentDescriptor,
    ToTaskManager,
};
use crate::state::ExecutionState;
use std::collections::BTreeSet;

impl JobMaster {
    // ANCHOR: slot_of
    /// The slot a subtask runs in (by slot sharing).
    pub(super) fn slot_of(&self, id: ExecutionVertexId) -> Option<&PoolSlot> {
        let group = &self.job_graph.vertex(id.vertex_index()).slot_sharing_group;
        self.slot_pool.slot_for(group, id.subtask)
    }
    // ANCHOR_END: slot_of

    /// Deploys the subtasks of some regions into their sharing slots (`submitTask`).
    pub(super) fn deploy(&mut self, regions: &BTreeSet<RegionIdx>, out: &mut Outbox) {
        let jg = &self.job_graph;
        let eg = &self.execution_graph;
        let restore = self.checkpoints.latest.as_ref();
        let mut deployments = Vec::new();
        for (v, vertex) in jg.vertices().enumerate() {
            if !self.regions.contains(regions, v as u32) {
                continue;
            }
            for s in 0..vertex.parallelism {
                let id = ExecutionVertexId::new(v as u32, s);
                let Some(slot) = self.slot_of(id) else {
                    continue;
                };
                let attempt = self.executions[&id].attempt;
                let inputs = jg
                    .edges()
                    .enumerate()
                    .filter(|(_, e)| e.target == v)
                    .map(|(ei, e)| InputGateDescriptor {
                        edge: ei as u32,
                        channels: eg
                            .edge(ei)
                            .channels
                            .iter()
                            .filter(|c| c.to == s)
                            .filter_map(|c| {
                                self.slot_of(ExecutionVertexId::new(e.source as u32, c.from))
                                    .map(|p| (c.from, p.location()))
                            })
                            .collect(),
                    })
                    .collect();
                let outputs = jg
                    .edges()
                    .enumerate()
                    .filter(|(_, e)| e.source == v)
                    .map(|(ei, e)| ResultPartitionDescriptor {
                        edge: ei as u32,
                        partitioner: e.partitioner,
                        consumer_parallelism: jg.vertex(e.target).parallelism,
                        channels: eg
                            .edge(ei)
                            .channels
                            .iter()
                            .filter(|c| c.from == s)
                            .filter_map(|c| {
                                self.slot_of(ExecutionVertexId::new(e.target as u32, c.to))
                                    .map(|p| (c.to, p.location()))
                            })
                            .collect(),
                    })
                    .collect();
                let tdd = TaskDeploymentDescriptor {
                    attempt: ExecutionAttemptId::new(self.id, id, attempt),
                    allocation: slot.allocation,
                    job_graph: jg.clone(),
                    parallelism: vertex.parallelism,
                    inputs,
                    outputs,
                    checkpointing: jg.stream_graph.checkpoint_interval_ms.is_some(),
                    restore: restore.and_then(|c| c.states.get(&id).cloned()),
                };
                deployments.push((slot.resource_id.clone(), slot.slot, tdd));
            }
        }
        for (rid, slot, tdd) in deployments {
            let id = tdd.attempt.execution_vertex();
            if self.set_state(id, ExecutionState::Deploying, None) {
                self.ctx.emit(EventKind::TaskDeployed {
                    job: self.id,
                    vertex: self.vertex_name(id.vertex),
                    vertex_index: id.vertex,
                    subtask: id.subtask,
                    parallelism: tdd.parallelism,
                    attempt: tdd.attempt.attempt,
                    resource_id: rid.clone(),
                    slot,
                });
                out.to_tm(rid, ToTaskManager::SubmitTask(Box::new(tdd)));
            }
        }
    }

    /// New attempts of the restarting regions' subtasks, deployed.
    pub(super) fn redeploy(&mut self, regions: BTreeSet<RegionIdx>, out: &mut Outbox) {
        let mut names = Vec::new();
        let mut attempt = 0;
        let keys: Vec<ExecutionVertexId> = self.executions.keys().copied().collect();
        for id in keys {
            if !self.regions.contains(&regions, id.vertex) {
                continue;
            }
            if id.subtask == SubtaskIndex(0) {
                names.push(self.vertex_name(id.vertex));
            }
            let e = self.executions.get_mut(&id).expect("key exists");
            *e = e.next_attempt();
            attempt = attempt.max(e.attempt);
            self.set_state(id, ExecutionState::Scheduled, None);
        }
        if self.status == crate::state::JobStatus::Restarting {
            self.move_to(crate::state::JobStatus::Created, None);
            self.move_to(crate::state::JobStatus::Running, None);
        }
        self.ctx.emit(EventKind::Restarted {
            job: self.id,
            name: self.job_graph.name.clone(),
            vertices: names,
            attempt,
            from_checkpoint: self.checkpoints.latest.as_ref().map(|c| c.id),
        });
        self.deploy(&regions, out);
    }

    /// Cancels one execution at once (a restarting attempt does not wait for
    /// the TaskManager's answer: its reports are stale from now on).
    pub(super) fn cancel_execution(&mut self, id: ExecutionVertexId, out: &mut Outbox) {
        let state = self.executions[&id].state;
        self.send_cancel(id, out);
        if !state.is_terminal() {
            self.set_state(id, ExecutionState::Canceling, None);
            self.set_state(id, ExecutionState::Canceled, None);
        }
    }

    /// Cancels every execution; deployed ones become CANCELED when their
    /// TaskManager confirms.
    pub(super) fn cancel_executions(&mut self, out: &mut Outbox) {
        let keys: Vec<ExecutionVertexId> = self.executions.keys().copied().collect();
        for id in keys {
            let state = self.executions[&id].state;
            if state.is_terminal() {
                continue;
            }
            let deployed = self.send_cancel(id, out);
            self.set_state(id, ExecutionState::Canceling, None);
            if !deployed {
                self.set_state(id, ExecutionState::Canceled, None);
            }
        }
    }

    /// Tells the TaskManager running an execution to cancel it (`cancelTask`);
    /// false when it is not deployed anywhere.
    fn send_cancel(&mut self, id: ExecutionVertexId, out: &mut Outbox) -> bool {
        let e = &self.executions[&id];
        let (state, attempt) = (e.state, e.attempt);
        if !matches!(
            state,
            ExecutionState::Deploying | ExecutionState::Initializing | ExecutionState::Running
        ) {
            return false;
        }
        let Some(slot) = self.slot_of(id) else {
            return false;
        };
        out.to_tm(
            slot.resource_id.clone(),
            ToTaskManager::CancelTask {
                attempt: ExecutionAttemptId::new(self.id, id, attempt),
            },
        );
        true
    }
}
