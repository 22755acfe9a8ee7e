//! Failover: what restarts after a failure, and when (Flink's
//! `RestartBackoffTimeStrategy` implementations and its
//! `RestartPipelinedRegionFailoverStrategy` / `RestartAllFailoverStrategy`).
//!
//! Two questions, two answers:
//!
//! - **When** — the restart strategy ([`RestartStrategy`], set in the job),
//!   applied by a [`RestartTracker`] that remembers the job's failures:
//!   restart after a delay, or give up and fail the job.
//! - **What** — the failover strategy ([`FailoverStrategy`]): the whole job
//!   (`full`), or only the *pipelined regions* of the failed tasks
//!   (`region`, Flink's default). Every streaming exchange is pipelined, so
//!   a region is a connected part of the JobGraph ([`FailoverRegions`],
//!   computed with petgraph's union-find); separate pipelines of one job
//!   restart independently.
//!
//! In: failures reported by the JobMaster. Out: a delay (or none) and the set
//! of regions to cancel and redeploy.

use crate::graph::JobGraph;
use crate::job_config::{FailoverStrategy, RestartStrategy};
use petgraph::unionfind::UnionFind;
use std::collections::{BTreeMap, BTreeSet};

/// Index of a pipelined region in [`FailoverRegions`].
pub type RegionIdx = usize;

/// The pipelined regions of a job: which job vertices restart together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverRegions {
    /// The vertices of each region, regions ordered by their first vertex.
    regions: Vec<Vec<u32>>,
    /// The region of each vertex.
    region_of: Vec<RegionIdx>,
}

impl FailoverRegions {
    /// The pipelined regions of a streaming job: the connected components
    /// of its JobGraph.
    pub fn of(jg: &JobGraph) -> FailoverRegions {
        let n = jg.vertex_count();
        let mut sets = UnionFind::<usize>::new(n);
        for e in jg.edges() {
            sets.union(e.source, e.target);
        }
        let mut by_root: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for v in 0..n {
            by_root.entry(sets.find(v)).or_default().push(v as u32);
        }
        let mut regions: Vec<Vec<u32>> = by_root.into_values().collect();
        regions.sort_by_key(|r| r[0]);
        let mut region_of = vec![0; n];
        for (i, r) in regions.iter().enumerate() {
            for &v in r {
                region_of[v as usize] = i;
            }
        }
        FailoverRegions { regions, region_of }
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Whether the job has no vertices at all.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Every region.
    pub fn all(&self) -> BTreeSet<RegionIdx> {
        (0..self.regions.len()).collect()
    }

    /// The vertices of each region.
    pub fn regions(&self) -> &[Vec<u32>] {
        &self.regions
    }

    /// The region a job vertex belongs to.
    pub fn region_of(&self, vertex: u32) -> RegionIdx {
        self.region_of[vertex as usize]
    }

    /// Whether a job vertex is in one of `regions`.
    pub fn contains(&self, regions: &BTreeSet<RegionIdx>, vertex: u32) -> bool {
        regions.contains(&self.region_of(vertex))
    }

    /// The regions the failover strategy restarts when these vertices failed.
    pub fn to_restart(
        &self,
        strategy: FailoverStrategy,
        failed: impl IntoIterator<Item = u32>,
    ) -> BTreeSet<RegionIdx> {
        match strategy {
            FailoverStrategy::Full => self.all(),
            FailoverStrategy::Region => failed.into_iter().map(|v| self.region_of(v)).collect(),
        }
    }
}

/// A job's failure history, deciding each restart.
#[derive(Debug, Clone, Default)]
pub struct RestartTracker {
    failures: Vec<u64>,
    restarts: u32,
    backoff_ms: u64,
    last_failure: Option<u64>,
}

impl RestartTracker {
    /// A tracker that goes on from `restarts` (a new leader resuming a job
    /// its predecessor restarted that many times).
    pub fn resuming(restarts: u32) -> RestartTracker {
        RestartTracker {
            restarts,
            ..RestartTracker::default()
        }
    }

    /// Records a failure at `now`; returns the delay before restarting, or
    /// `None` when the strategy gives up.
    pub fn on_failure(&mut self, strategy: &RestartStrategy, now: u64) -> Option<u64> {
        self.failures.push(now);
        let since_last = self.last_failure.map(|t| now - t);
        self.last_failure = Some(now);
        let delay = match strategy {
            RestartStrategy::None => None,
            RestartStrategy::FixedDelay { attempts, delay_ms } => {
                (self.restarts < *attempts).then_some(*delay_ms)
            }
            RestartStrategy::ExponentialDelay {
                initial_ms,
                max_ms,
                multiplier,
                reset_after_ms,
            } => {
                if self.backoff_ms == 0 || since_last.is_some_and(|d| d >= *reset_after_ms) {
                    self.backoff_ms = *initial_ms;
                } else {
                    self.backoff_ms = ((self.backoff_ms as f64 * multiplier) as u64).min(*max_ms);
                }
                Some(self.backoff_ms)
            }
            RestartStrategy::FailureRate {
                max_failures,
                interval_ms,
                delay_ms,
            } => {
                let recent = self
                    .failures
                    .iter()
                    .filter(|&&t| now.saturating_sub(t) <= *interval_ms)
                    .count();
                (recent <= *max_failures as usize).then_some(*delay_ms)
            }
        };
        if delay.is_some() {
            self.restarts += 1;
        }
        delay
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Fixed delay allows exactly `attempts` restarts.
    #[test]
    fn fixed_delay_counts_attempts() {
        let s = RestartStrategy::FixedDelay {
            attempts: 2,
            delay_ms: 100,
        };
        let mut t = RestartTracker::default();
        assert_eq!(t.on_failure(&s, 0), Some(100));
        assert_eq!(t.on_failure(&s, 10), Some(100));
        assert_eq!(t.on_failure(&s, 20), None);
    }

    /// Exponential delay grows, caps, and resets after a quiet period.
    #[test]
    fn exponential_delay_grows_and_resets() {
        let s = RestartStrategy::ExponentialDelay {
            initial_ms: 100,
            max_ms: 250,
            multiplier: 2.0,
            reset_after_ms: 10_000,
        };
        let mut t = RestartTracker::default();
        assert_eq!(t.on_failure(&s, 0), Some(100));
        assert_eq!(t.on_failure(&s, 1), Some(200));
        assert_eq!(t.on_failure(&s, 2), Some(250));
        assert_eq!(t.on_failure(&s, 20_000), Some(100));
    }

    /// Failure rate gives up when failures crowd the interval.
    #[test]
    fn failure_rate_gives_up_when_too_many() {
        let s = RestartStrategy::FailureRate {
            max_failures: 1,
            interval_ms: 1000,
            delay_ms: 5,
        };
        let mut t = RestartTracker::default();
        assert_eq!(t.on_failure(&s, 0), Some(5));
        assert_eq!(t.on_failure(&s, 500), None);
        assert_eq!(t.on_failure(&s, 5000), Some(5));
    }
}
