//! The ResourceManager's driver: how workers are started and stopped in an
//! environment (Flink's `ResourceManagerDriver`, with its
//! `YarnResourceManagerDriver` and `KubernetesResourceManagerDriver`).
//!
//! The ResourceManager decides *that* a TaskManager is needed (slot
//! requests wait) or idle; the driver knows *how* to get or drop one. A
//! *standalone* cluster has a driver that can do neither ([`Standalone`]):
//! TaskManagers are started by hand and requests wait for them. Active
//! drivers: the simulator's (simulated hosts, in `sim`) and
//! [`LocalProcessDriver`](super::local_process::LocalProcessDriver)
//! (TaskManager processes on this machine).
//!
//! In: start, stop and deregister calls from the ResourceManager's loop. Out:
//! workers in the environment, which then register like any TaskManager.

/// Who can start TaskManagers: the ResourceManager's driver (Flink's
/// `ResourceManagerDriver`). The ResourceManager decides that a worker is
/// needed or idle; the driver knows how to get or drop one in its
/// environment. Implementations: [`Standalone`] (cannot start any), the
/// simulator's provider (simulated hosts), and
/// [`crate::jobmanager::resourcemanager::local_process::LocalProcessDriver`]
/// (TaskManager processes on this machine). Calls come from the
/// JobManager's event loop and must return at once: a provider reports
/// what became of a request through its own channel, never by blocking.
pub trait ResourceManagerDriver: Send + Sync + 'static {
    /// Whether this provider can start TaskManagers at all.
    fn is_active(&self) -> bool;
    /// Asks the environment to start a TaskManager named `resource_id`
    /// with `slots` slots (YARN container, Kubernetes pod, simulated host).
    fn start_worker(&self, resource_id: &str, slots: u32);
    /// Asks the environment to stop a TaskManager it started.
    fn stop_worker(&self, resource_id: &str);
    /// Application mode: the application is done (`status` is "SUCCEEDED",
    /// "FAILED" or "CANCELED"), so the environment may stop the whole
    /// cluster (Flink's `ResourceManagerDriver.deregisterApplication`). A
    /// standalone cluster is stopped by hand: nothing happens.
    fn deregister_application(&self, status: &str, diagnostics: Option<&str>) {
        let _ = (status, diagnostics);
    }
}

// ANCHOR: standalone
/// The standalone provider: TaskManagers are started by hand; pending
/// requests wait until one registers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Standalone;

impl ResourceManagerDriver for Standalone {
    fn is_active(&self) -> bool {
        false
    }
    fn start_worker(&self, _resource_id: &str, _slots: u32) {}
    fn stop_worker(&self, _resource_id: &str) {}
}
// ANCHOR_END: standalone
