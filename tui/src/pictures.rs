//! Pictures of a live cluster: the TUI's view of the cluster, drawn as
//! `viz`'s slots and cluster diagrams.
//!
//! Flink's documentation explains a running cluster with two figures: the
//! cluster's anatomy (client, JobManager with Dispatcher, ResourceManager
//! and JobMasters, TaskManagers) and operator chains sharing task slots.
//! Here both are drawn from the same place the screens are: the fold of the
//! event stream, [`ClusterView`]. [`picture`] is a pure function of it that
//! fills `viz`'s picture model ([`viz::Cluster`]); [`picture_at`] first
//! runs (or replays) an [`App`] to a virtual time, which is what
//! `cargo run -p tui -- scenarios/session.toml --dot slots --at 3000` does.
//!
//! In: a [`ClusterView`] (and the scenario's JobManager host names, to draw
//! the standbys of a highly available cluster). Out: a [`viz::Cluster`],
//! which [`viz::cluster_dot`] draws.

use std::collections::BTreeMap;

use sim::scenario::Scenario;

use crate::app::App;
use crate::cluster::{ClusterView, JobView, TaskManagerView, TmStatus};
use runtime::graph::JobId;
use runtime::state::ExecutionState;

/// The ExecutionStates in which a deployed subtask exchanges data.
const DEPLOYED: [ExecutionState; 3] = [
    ExecutionState::Deploying,
    ExecutionState::Initializing,
    ExecutionState::Running,
];

/// Why no picture could be drawn at the time asked for.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// The run (or the recording) ended before that time.
    #[error(
        "the scenario ended at {ended_ms} ms, before --at {at_ms}: \
         choose a time up to {ended_ms}"
    )]
    EndedBefore {
        /// The time asked for (ms).
        at_ms: u64,
        /// When the run ended (ms).
        ended_ms: u64,
    },
}

/// The cluster as `view` knows it, as `viz`'s picture model, titled `name`
/// and timed at the last folded event.
///
/// `jobmanagers` are the JobManager hosts the scenario starts (with high
/// availability, more than one); the one `view` knows as leader leads.
pub fn picture(view: &ClusterView, name: &str, jobmanagers: &[String]) -> viz::Cluster {
    let mut hosts: Vec<String> = jobmanagers.to_vec();
    if let Some(l) = &view.leader
        && !hosts.contains(l)
    {
        hosts.push(l.clone());
    }
    viz::Cluster {
        name: name.to_string(),
        at_ms: view.now_ms,
        jobmanagers: hosts
            .into_iter()
            .map(|h| viz::JobManager {
                leader: view.leader.as_deref() == Some(h.as_str()),
                name: h,
            })
            .collect(),
        jobs: view
            .jobs
            .iter()
            .map(|j| viz::Job {
                id: j.id.to_string(),
                name: j.name.clone(),
                status: j.status.to_string(),
                active: !j.status.is_terminal(),
            })
            .collect(),
        taskmanagers: view
            .taskmanagers
            .iter()
            .map(|t| taskmanager(view, t))
            .collect(),
        data_connections: data_connections(view),
    }
}

/// Runs (or replays) `app` to `at_ms` and pictures the cluster then.
pub fn picture_at(
    app: &mut App,
    scenario: &Scenario,
    at_ms: u64,
) -> Result<viz::Cluster, PictureError> {
    app.run_until(at_ms);
    if app.now_ms < at_ms {
        return Err(PictureError::EndedBefore {
            at_ms,
            ended_ms: app.now_ms,
        });
    }
    let mut c = picture(
        &app.view,
        &scenario.name,
        &scenario.cluster.jobmanager_hosts(),
    );
    c.at_ms = at_ms;
    Ok(c)
}

/// One TaskManager with its slots; a slot's job becomes an index into the
/// picture's jobs (the view's submission order).
fn taskmanager(view: &ClusterView, t: &TaskManagerView) -> viz::TaskManager {
    let job_index = |id: JobId| view.jobs.iter().position(|j| j.id == id);
    viz::TaskManager {
        name: t.name.clone(),
        status: t.status.label().to_string(),
        alive: matches!(t.status, TmStatus::Starting | TmStatus::Registered),
        // The ResourceManager still counts a crashed TaskManager until its
        // heartbeats time out.
        registered: matches!(t.status, TmStatus::Registered | TmStatus::Crashed { .. }),
        slots: t
            .slots
            .iter()
            .map(|s| viz::Slot {
                job: s.job.and_then(job_index),
                subtasks: s
                    .tasks
                    .iter()
                    .map(|x| viz::SlotSubtask {
                        vertex: x.vertex.clone(),
                        subtask: x.subtask,
                        parallelism: x.parallelism,
                        state: x.state.to_string(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// TaskManager pairs that exchange data: for every channel of a running
/// job whose producer and consumer subtasks are deployed on different
/// TaskManagers, one more channel between the two. Channels within one
/// TaskManager stay in memory and are not counted.
fn data_connections(view: &ClusterView) -> Vec<viz::DataConnection> {
    let tm_index = |name: &str| view.taskmanagers.iter().position(|t| t.name == name);
    let mut pairs: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    for job in view.jobs.iter().filter(|j| !j.status.is_terminal()) {
        let Some(df) = view.dataflow(job) else {
            continue;
        };
        for e in &df.vertex_edges {
            for &(p, q) in &e.channels {
                let from = deployed_at(job, df, e.from, p).and_then(tm_index);
                let to = deployed_at(job, df, e.to, q).and_then(tm_index);
                if let (Some(a), Some(b)) = (from, to)
                    && a != b
                {
                    *pairs.entry((a, b)).or_default() += 1;
                }
            }
        }
    }
    pairs
        .into_iter()
        .map(|((from, to), channels)| viz::DataConnection { from, to, channels })
        .collect()
}

/// The TaskManager running subtask `s` of the dataflow's vertex `v`, when
/// it is deployed and not finished.
fn deployed_at<'a>(job: &'a JobView, df: &viz::Dataflow, v: usize, s: u32) -> Option<&'a str> {
    let name = &df.vertices.get(v)?.name;
    let st = job
        .vertices
        .iter()
        .find(|x| &x.name == name)?
        .subtasks
        .get(s as usize)?;
    if !DEPLOYED.contains(&st.state) {
        return None;
    }
    st.location.as_ref().map(|(tm, _)| tm.as_str())
}
