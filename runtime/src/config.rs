//! Configuration of the JobManager and TaskManager processes.
//!
//! The subset of Flink's `flink-conf.yaml` that matters for teaching:
//! heartbeat interval and timeout (`heartbeat.interval`, `heartbeat.timeout`),
//! slot placement (`cluster.evenly-spread-out-slots`), slots per TaskManager
//! (`taskmanager.numberOfTaskSlots`) and the network buffers per channel
//! (`taskmanager.network.memory.buffers-per-channel`).

use crate::jobmanager::resourcemanager::driver::{ResourceManagerDriver, Standalone};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the SlotManager picks a free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Placement {
    /// Fill one TaskManager's slots before the next (Flink's default, as the
    /// reference runs show).
    #[default]
    Fill,
    /// Prefer the TaskManager with the most free slots
    /// (`cluster.evenly-spread-out-slots: true`).
    Spread,
}

/// High-availability settings of a JobManager or TaskManager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaConfig {
    /// The coordinator's address ("coordinator:2181").
    pub coordinator: String,
    /// Leader lease (ms): a leader that cannot renew for this long steps down.
    pub lease_ms: u64,
}

/// JobManager settings.
#[derive(Clone)]
pub struct JobManagerConfig {
    /// Address to listen on ("0.0.0.0:6123").
    pub bind: String,
    /// Heartbeat request interval, ms.
    pub heartbeat_interval_ms: u64,
    /// Heartbeat timeout, ms.
    pub heartbeat_timeout_ms: u64,
    /// Slot placement.
    pub placement: Placement,
    /// Starting TaskManagers on demand.
    pub provider: Arc<dyn ResourceManagerDriver>,
    /// Slots of a TaskManager the active provider starts.
    pub worker_slots: u32,
    /// Name prefix of started TaskManagers.
    pub worker_prefix: String,
    /// The active provider stops a TaskManager idle this long (ms); 0 never.
    pub idle_timeout_ms: u64,
    /// Where completed checkpoints and savepoints are written.
    pub storage: Arc<dyn crate::jobmanager::checkpoint::storage::CheckpointStorage>,
    /// High availability: campaign for leadership at this coordinator.
    pub ha: Option<HaConfig>,
    /// The RPC address others reach this JobManager at (published as the
    /// leader's address); `None` uses the bound address.
    pub advertise: Option<String>,
    /// Application mode: the program whose `main` this JobManager runs
    /// (Flink's `ApplicationDispatcherBootstrap`); `None` for a session or
    /// job cluster, whose jobs come from a client.
    pub application: Option<crate::application::Application>,
    /// The REST API and web UI (Flink's `rest.bind-address`/`rest.port`);
    /// `None` serves none.
    pub rest: Option<crate::jobmanager::rest::RestConfig>,
}

impl Default for JobManagerConfig {
    fn default() -> Self {
        JobManagerConfig {
            bind: "0.0.0.0:6123".into(),
            heartbeat_interval_ms: 1_000,
            heartbeat_timeout_ms: 5_000,
            placement: Placement::Fill,
            provider: Arc::new(Standalone),
            worker_slots: 2,
            worker_prefix: "taskmanager-".into(),
            idle_timeout_ms: 0,
            storage: Arc::new(crate::jobmanager::checkpoint::storage::MemoryStorage::new()),
            ha: None,
            advertise: None,
            application: None,
            rest: None,
        }
    }
}

impl std::fmt::Debug for JobManagerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobManagerConfig")
            .field("bind", &self.bind)
            .field("heartbeat_interval_ms", &self.heartbeat_interval_ms)
            .field("heartbeat_timeout_ms", &self.heartbeat_timeout_ms)
            .field("placement", &self.placement)
            .field("active", &self.provider.is_active())
            .field(
                "application",
                &self.application.as_ref().map(|a| a.name.as_str()),
            )
            .finish()
    }
}

/// TaskManager settings.
#[derive(Debug, Clone)]
pub struct TaskManagerConfig {
    /// The JobManager's address ("jobmanager:6123").
    pub jobmanager: String,
    /// Number of task slots.
    pub slots: u32,
    /// Address the data port binds ("0.0.0.0:6121", or port 0 for any).
    pub data_bind: String,
    /// Address other TaskManagers use to reach the data port (Flink's
    /// `taskmanager.host`): "host:port", or a host alone for the bound
    /// port; `None` uses the bound address. The simulator passes
    /// "host:port"; on real machines it is needed when the data port
    /// binds every interface (0.0.0.0).
    pub data_advertise: Option<String>,
    /// Without any message from the JobManager for this long (ms), the
    /// TaskManager considers it lost and registers anew.
    pub jobmanager_timeout_ms: u64,
    /// Records per network buffer (at most).
    pub buffer_records: usize,
    /// Bytes of records per network buffer, at most (Flink's 32 KiB
    /// memory segment): a buffer is full at whichever limit comes first.
    pub buffer_bytes: u64,
    /// Longest a record waits in a partly filled output buffer before the
    /// buffer is sent anyway, ms (Flink's `execution.buffer-timeout`,
    /// 100 ms by default).
    pub buffer_timeout_ms: u64,
    /// First wait before dialling an unreachable JobManager again, ms;
    /// it doubles up to 500 ms. Real processes start at 5 ms so a
    /// TaskManager launched with its JobManager registers within
    /// milliseconds; the simulator keeps a flat 500 ms.
    pub connect_retry_ms: u64,
    /// Buffers per channel (the credit a consumer grants).
    pub buffers_per_channel: u32,
    /// Interval of task metrics reports, ms.
    pub metrics_interval_ms: u64,
    /// Whether `print` sinks write to standard output.
    pub print_to_stdout: bool,
    /// Artificial time per record in sinks, µs (to demonstrate back-pressure).
    pub sink_delay_us: u64,
    /// High availability: find the leading JobManager through this coordinator
    /// (then `jobmanager` is ignored).
    pub ha: Option<HaConfig>,
}

impl TaskManagerConfig {
    /// The data port's address as other TaskManagers reach it, once it is
    /// bound at `bound` ("ip:port").
    pub fn data_address(&self, bound: String) -> String {
        match &self.data_advertise {
            None => bound,
            Some(a) if a.contains(':') => a.clone(),
            Some(host) => {
                let port = bound.rsplit_once(':').map_or("0", |(_, p)| p);
                format!("{host}:{port}")
            }
        }
    }
}

impl Default for TaskManagerConfig {
    fn default() -> Self {
        TaskManagerConfig {
            jobmanager: "jobmanager:6123".into(),
            slots: 2,
            data_bind: "0.0.0.0:6121".into(),
            data_advertise: None,
            jobmanager_timeout_ms: 5_000,
            buffer_records: 256,
            buffer_bytes: crate::taskmanager::network::result_partition::SEGMENT_SIZE,
            buffer_timeout_ms: 100,
            connect_retry_ms: 500,
            buffers_per_channel: 2,
            metrics_interval_ms: 1_000,
            print_to_stdout: false,
            sink_delay_us: 0,
            ha: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TaskManagerConfig;

    #[test]
    fn the_data_address_is_the_advertised_one_with_the_bound_port() {
        let mut cfg = TaskManagerConfig::default();
        assert_eq!(cfg.data_address("0.0.0.0:4711".into()), "0.0.0.0:4711");
        cfg.data_advertise = Some("10.0.0.12".into());
        assert_eq!(cfg.data_address("0.0.0.0:4711".into()), "10.0.0.12:4711");
        cfg.data_advertise = Some("tm-2.example:6121".into());
        assert_eq!(cfg.data_address("0.0.0.0:4711".into()), "tm-2.example:6121");
    }
}
