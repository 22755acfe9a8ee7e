//! Fault schedules drawn from a seed, with *swarm testing*.
//!
//! Swarm testing (Groce et al., ISSTA 2012) makes each test leave most
//! features out: a seed first picks which fault kinds it may use and how
//! dense its faults are, then draws them. A run with only TaskManager↔
//! TaskManager cuts and client partitions, or eight overlapping faults in
//! a few seconds, comes up often enough to be found, where one menu for
//! every seed would drown them in crashes.
//!
//! The kinds ([`FaultKind`]) cover every cluster mode: in job and
//! application mode the targets are the hosts of the job's or
//! application's own cluster (`job1-jobmanager`, `job1-taskmanager-1`).
//! A network fault never loses a segment of a live TCP stream: a
//! partition holds every message until the repair (delay, as TCP
//! retransmits), a slow link adds latency, and a crash breaks connections.

use super::reference::Reference;
use crate::scenario::{Fault, FaultAction, Mode, Scenario, Trigger, TriggerEvent};
use runtime::rng::SeededRng;

/// A kind of fault a campaign draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// A TaskManager crashes and is restarted later.
    TaskManagerCrash,
    /// A JobManager is cut off from a TaskManager, then the link heals.
    JobManagerTaskManagerPartition,
    /// A TaskManager↔TaskManager data link is cut, then heals.
    DataLinkPartition,
    /// A link (JobManager↔TaskManager or TaskManager↔TaskManager) is slow
    /// for a while.
    SlowLink,
    /// The client is cut off from the JobManager, then reconnects.
    ClientPartition,
    /// A JobManager crashes and is restarted (with HA any of them; in job
    /// and application mode the job's or application's own).
    JobManagerCrash,
    /// With HA, a JobManager is cut off from the coordinator.
    CoordinatorPartition,
    /// A TaskManager crashes while a checkpoint is being acknowledged.
    CrashDuringAck,
    /// A TaskManager crashes just after a checkpoint completed, while the
    /// two-phase-commit sink commits.
    CrashDuringCommit,
    /// Checkpoint storage fails: writes that error, or the newest
    /// checkpoint file torn or flipped (then the leader, perhaps, crashes).
    StorageFault,
}

impl FaultKind {
    /// Every kind, in the summary's order.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::TaskManagerCrash,
        FaultKind::JobManagerTaskManagerPartition,
        FaultKind::DataLinkPartition,
        FaultKind::SlowLink,
        FaultKind::ClientPartition,
        FaultKind::JobManagerCrash,
        FaultKind::CoordinatorPartition,
        FaultKind::CrashDuringAck,
        FaultKind::CrashDuringCommit,
        FaultKind::StorageFault,
    ];

    /// A short name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::TaskManagerCrash => "tm-crash",
            FaultKind::JobManagerTaskManagerPartition => "jm-tm-partition",
            FaultKind::DataLinkPartition => "tm-tm-partition",
            FaultKind::SlowLink => "slow-link",
            FaultKind::ClientPartition => "client-partition",
            FaultKind::JobManagerCrash => "jm-crash",
            FaultKind::CoordinatorPartition => "coordinator-partition",
            FaultKind::CrashDuringAck => "crash-during-ack",
            FaultKind::CrashDuringCommit => "crash-during-commit",
            FaultKind::StorageFault => "storage-fault",
        }
    }

    /// Whether the scenario has what this kind needs.
    pub fn applies(self, s: &Scenario) -> bool {
        match self {
            // A session cluster without HA loses its jobs with its only
            // JobManager (as Flink's does): nothing to recover there.
            FaultKind::JobManagerCrash => s.cluster.ha() || s.mode != Mode::Session,
            FaultKind::CoordinatorPartition => s.cluster.ha() && s.mode == Mode::Session,
            FaultKind::CrashDuringAck | FaultKind::CrashDuringCommit | FaultKind::StorageFault => s
                .jobs
                .iter()
                .any(|j| j.graph.checkpoint_interval_ms.is_some()),
            _ => true,
        }
    }
}

/// A drawn fault: its kind and the one or two timeline entries it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// The kind.
    pub kind: FaultKind,
    /// Its entries (a crash and its restart, a cut and its repair...).
    pub faults: Vec<Fault>,
}

/// The hosts of one cluster faults can hit.
struct Targets {
    jobmanagers: Vec<String>,
    taskmanagers: Vec<String>,
}

fn targets(s: &Scenario) -> Vec<Targets> {
    match s.mode {
        Mode::Session => vec![Targets {
            jobmanagers: s.cluster.jobmanager_hosts(),
            taskmanagers: (1..=s.cluster.taskmanagers.max(1))
                .map(|i| format!("taskmanager-{i}"))
                .collect(),
        }],
        Mode::Job | Mode::Application => {
            let mut clusters: Vec<String> = (0..s.jobs.len())
                .filter_map(|i| s.cluster_of_job(i))
                .collect();
            clusters.dedup();
            clusters
                .into_iter()
                .map(|c| Targets {
                    jobmanagers: vec![format!("{c}-jobmanager")],
                    // An active ResourceManager starts them on demand; a
                    // fault on one not started (yet) does nothing.
                    taskmanagers: (1..=2).map(|k| format!("{c}-taskmanager-{k}")).collect(),
                })
                .collect()
        }
    }
}

fn pick<'a>(rng: &mut SeededRng, xs: &'a [String]) -> &'a String {
    &xs[rng.below(xs.len() as u64) as usize]
}

/// The kinds a seed uses and its number of faults (swarm testing).
pub fn swarm(s: &Scenario, rng: &mut SeededRng) -> (Vec<FaultKind>, u64) {
    // Storage faults are decided apart (in `draw`), so that adding them
    // left every other seed's schedule as it was.
    let possible: Vec<FaultKind> = FaultKind::ALL
        .into_iter()
        .filter(|k| k.applies(s) && *k != FaultKind::StorageFault)
        .collect();
    let mut kinds: Vec<FaultKind> = possible
        .iter()
        .copied()
        .filter(|_| rng.below(2) == 0)
        .collect();
    if kinds.is_empty() {
        kinds.push(possible[rng.below(possible.len() as u64) as usize]);
    }
    // Density: mostly one to three faults, sometimes up to eight.
    let n = if rng.below(4) == 0 {
        4 + rng.below(5)
    } else {
        1 + rng.below(3)
    };
    (kinds, n)
}

/// The faults a seed draws, by kind, within the reference run's window.
pub fn draw(s: &Scenario, seed: u64, reference: &Reference) -> Vec<Drawn> {
    let mut rng = SeededRng::new(seed ^ 0x5EED_FA17);
    let (kinds, n) = swarm(s, &mut rng);
    let clusters = targets(s);
    let from = reference.from_ms;
    let span = reference.until_ms.saturating_sub(from).max(1_000);
    let base = s.cluster.latency_ms;
    let mut out = Vec::new();
    for _ in 0..n {
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        let c = &clusters[rng.below(clusters.len() as u64) as usize];
        let at = from + rng.below(span);
        let tm = pick(&mut rng, &c.taskmanagers).clone();
        let jm = pick(&mut rng, &c.jobmanagers).clone();
        let other_tm = c
            .taskmanagers
            .iter()
            .find(|t| **t != tm)
            .cloned()
            .unwrap_or_else(|| tm.clone());
        let pair =
            |a: FaultAction, da: u64, b: FaultAction| vec![Fault::at(at, a), Fault::at(at + da, b)];
        let faults = match kind {
            FaultKind::TaskManagerCrash => pair(
                FaultAction::Crash(tm.clone()),
                200 + rng.below(5_000),
                FaultAction::Restart(tm),
            ),
            FaultKind::JobManagerTaskManagerPartition => pair(
                FaultAction::Partition(jm.clone(), tm.clone()),
                500 + rng.below(8_000),
                FaultAction::Repair(jm, tm),
            ),
            FaultKind::DataLinkPartition if other_tm != tm => pair(
                FaultAction::Partition(tm.clone(), other_tm.clone()),
                200 + rng.below(6_000),
                FaultAction::Repair(tm, other_tm),
            ),
            FaultKind::SlowLink => {
                let other = if rng.below(2) == 0 || other_tm == tm {
                    jm
                } else {
                    other_tm
                };
                pair(
                    FaultAction::Delay(tm.clone(), other.clone(), 5 + rng.below(300)),
                    200 + rng.below(4_000),
                    FaultAction::Delay(tm, other, base),
                )
            }
            FaultKind::ClientPartition => pair(
                FaultAction::Partition("client".into(), jm.clone()),
                500 + rng.below(8_000),
                FaultAction::Repair("client".into(), jm),
            ),
            FaultKind::JobManagerCrash => pair(
                FaultAction::Crash(jm.clone()),
                200 + rng.below(5_000),
                FaultAction::Restart(jm),
            ),
            FaultKind::CoordinatorPartition => pair(
                FaultAction::Partition("coordinator".into(), jm.clone()),
                500 + rng.below(6_000),
                FaultAction::Repair("coordinator".into(), jm),
            ),
            FaultKind::CrashDuringAck | FaultKind::CrashDuringCommit => {
                let (event, delay) = if kind == FaultKind::CrashDuringAck {
                    (TriggerEvent::CheckpointAcknowledged, 0)
                } else {
                    // The commit notification is on the wire for one
                    // latency: crash before, during or just after it.
                    (TriggerEvent::CheckpointCompleted, rng.below(2 * base + 2))
                };
                let restart = 200 + rng.below(5_000);
                vec![
                    Fault {
                        at_ms: at,
                        action: FaultAction::Crash(tm.clone()),
                        after: Some(Trigger {
                            event,
                            delay_ms: delay,
                        }),
                    },
                    Fault {
                        at_ms: at,
                        action: FaultAction::Restart(tm),
                        after: Some(Trigger {
                            event,
                            delay_ms: delay + restart,
                        }),
                    },
                ]
            }
            // Drawn apart, below.
            FaultKind::StorageFault => continue,
            // A cluster with one TaskManager has no data link to cut.
            FaultKind::DataLinkPartition => continue,
        };
        out.push(Drawn { kind, faults });
    }
    // Storage faults (failed, slow and damaged writes), on a stream of
    // their own: one seed in three draws one or two.
    let mut rng = SeededRng::new(seed ^ 0x5707_A6E0);
    if FaultKind::StorageFault.applies(s) && rng.below(3) == 0 {
        for _ in 0..1 + rng.below(2) {
            let c = &clusters[rng.below(clusters.len() as u64) as usize];
            let jm = pick(&mut rng, &c.jobmanagers).clone();
            let at = from + rng.below(span);
            let faults = match rng.below(4) {
                0 => vec![Fault::at(
                    at,
                    FaultAction::FailStorageWrites(1 + rng.below(3) as u32),
                )],
                // Slow writes hold fully acknowledged checkpoints back; with
                // HA the leader may crash while one is being written.
                3 => {
                    let ms = 200 + rng.below(3_800);
                    let mut v = vec![Fault::at(
                        at,
                        FaultAction::SlowStorageWrites(1 + rng.below(3) as u32, ms),
                    )];
                    if s.cluster.ha() && rng.below(2) == 0 {
                        v.push(Fault::at(
                            at + 1 + rng.below(ms + 1_000),
                            FaultAction::Crash(jm.clone()),
                        ));
                        v.push(Fault::at(
                            at + 3_000 + rng.below(3_000),
                            FaultAction::Restart(jm),
                        ));
                    }
                    v
                }
                // A damaged file matters when a new leader reads it: with
                // HA, the leader crashes soon after.
                n => {
                    let mut v = vec![Fault::at(at, FaultAction::DamageLatestCheckpoint(n == 2))];
                    if s.cluster.ha() {
                        v.push(Fault::at(
                            at + 1 + rng.below(50),
                            FaultAction::Crash(jm.clone()),
                        ));
                        v.push(Fault::at(
                            at + 3_000 + rng.below(3_000),
                            FaultAction::Restart(jm),
                        ));
                    }
                    v
                }
            };
            out.push(Drawn {
                kind: FaultKind::StorageFault,
                faults,
            });
        }
    }
    out
}
