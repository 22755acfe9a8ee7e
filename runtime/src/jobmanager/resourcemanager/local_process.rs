//! The local-process ResourceManager driver: TaskManagers as OS processes.
//!
//! Flink's active ResourceManagers hand the starting and stopping of
//! workers to a `ResourceManagerDriver` (`YarnResourceManagerDriver`,
//! `KubernetesResourceManagerDriver`): the ResourceManager decides *that* a
//! worker is needed, the driver knows *how* to get one in its environment.
//! [`LocalProcessDriver`] is such a driver for one machine: a worker is a
//! `mini-flink taskmanager` process, started by this driver and stopped by
//! it again.
//!
//! In: [`ResourceManagerDriver`] calls from the ResourceManager (start a worker
//! with N slots, stop a worker, the application is over), and
//! [`LocalProcessDriver::jobmanager_up`] from whoever started the
//! JobManager (workers asked for before then wait for its address).
//! Out: child processes, and a [`DriverEvent`] for each thing that
//! happened, on the channel [`LocalProcessDriver::new`] returns: the driver
//! itself prints nothing, its owner (the CLI) decides what to show.
//!
//! Every process it started is stopped by [`LocalProcessDriver::stop_all`]
//! at teardown, and killed when the driver is dropped, so that no
//! TaskManager outlives its cluster.

use crate::jobmanager::resourcemanager::driver::ResourceManagerDriver;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// What the driver did, for its owner to report.
#[derive(Debug)]
pub enum DriverEvent {
    /// A TaskManager process was started.
    WorkerStarted {
        /// The resource id it registers under.
        resource_id: String,
        /// Its process id.
        pid: u32,
        /// Its slots.
        slots: u32,
    },
    /// A TaskManager process could not be started.
    WorkerFailed {
        /// The resource id it would have had.
        resource_id: String,
        /// Why.
        error: LocalProcessError,
    },
    /// The application is over (Flink's `deregisterApplication`): the
    /// cluster may go.
    ApplicationDeregistered {
        /// "SUCCEEDED", "FAILED" or "CANCELED".
        status: String,
        /// Why, when it did not succeed.
        diagnostics: Option<String>,
    },
}

/// Why a worker process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LocalProcessError {
    /// The operating system refused to start the program.
    #[error("cannot start a TaskManager process ({program}): {source}")]
    Spawn {
        /// The program that was to run.
        program: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// What the driver's lock guards.
#[derive(Debug, Default)]
struct Workers {
    /// The JobManager's RPC address, once it is up.
    jobmanager: Option<String>,
    /// Workers asked for before the JobManager's address was known.
    waiting: Vec<(String, u32)>,
    /// The processes started and not yet stopped, by resource id.
    children: BTreeMap<String, Child>,
}

/// A ResourceManager driver that starts TaskManagers as processes of
/// `program taskmanager --jobmanager ADDR --slots N --id ID` on this
/// machine (the `mini-flink` binary), as YARN or Kubernetes would start
/// containers.
#[derive(Debug)]
pub struct LocalProcessDriver {
    /// The program to run (`mini-flink`).
    program: PathBuf,
    /// Arguments every started process gets too (the cluster's secret
    /// file, or `--insecure`), after the command.
    extra_args: Vec<String>,
    /// The processes and pending requests. A std mutex: it is held only
    /// for map updates and process calls that return at once, never across
    /// an `.await`.
    workers: Mutex<Workers>,
    /// Reports to the driver's owner, who holds the receiver. A closed
    /// receiver only means nobody listens: the driver goes on.
    events: mpsc::UnboundedSender<DriverEvent>,
}

impl LocalProcessDriver {
    /// A driver that starts `program` as TaskManagers, and the receiver of
    /// its reports.
    pub fn new(program: PathBuf) -> (Self, mpsc::UnboundedReceiver<DriverEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
        let driver = LocalProcessDriver {
            program,
            extra_args: Vec::new(),
            workers: Mutex::new(Workers::default()),
            events,
        };
        (driver, rx)
    }

    /// The same, giving every started process `args` too (how it finds
    /// the cluster's secret).
    pub fn with_args(mut self, args: Vec<String>) -> Self {
        self.extra_args = args;
        self
    }

    /// The JobManager is up at `addr`: start the workers asked for so far.
    pub fn jobmanager_up(&self, addr: &str) {
        let waiting = match self.workers.lock() {
            Ok(mut w) => {
                w.jobmanager = Some(addr.to_string());
                std::mem::take(&mut w.waiting)
            }
            Err(_) => return,
        };
        for (resource_id, slots) in waiting {
            self.start_worker(&resource_id, slots);
        }
    }

    /// Stops every process this driver started (the cluster's teardown).
    pub fn stop_all(&self) {
        let children = match self.workers.lock() {
            Ok(mut w) => std::mem::take(&mut w.children),
            Err(_) => return,
        };
        for (_, child) in children {
            stop(child);
        }
    }

    /// Starts one TaskManager process registering at `jobmanager`.
    fn spawn(
        &self,
        jobmanager: &str,
        resource_id: &str,
        slots: u32,
    ) -> Result<Child, LocalProcessError> {
        Command::new(&self.program)
            .args([
                "taskmanager",
                "--jobmanager",
                jobmanager,
                "--slots",
                &slots.to_string(),
                "--id",
                resource_id,
            ])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| LocalProcessError::Spawn {
                program: self.program.display().to_string(),
                source,
            })
    }

    /// Reports to the owner; nobody listening is not an error.
    fn report(&self, event: DriverEvent) {
        let _ = self.events.send(event);
    }
}

/// Kills a child process and reaps it, so that it leaves no zombie.
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl ResourceManagerDriver for LocalProcessDriver {
    fn is_active(&self) -> bool {
        true
    }

    fn start_worker(&self, resource_id: &str, slots: u32) {
        let jobmanager = match self.workers.lock() {
            Ok(mut w) => match w.jobmanager.clone() {
                Some(addr) => addr,
                None => {
                    w.waiting.push((resource_id.to_string(), slots));
                    return;
                }
            },
            Err(_) => return,
        };
        match self.spawn(&jobmanager, resource_id, slots) {
            Ok(child) => {
                let pid = child.id();
                if let Ok(mut w) = self.workers.lock() {
                    w.children.insert(resource_id.to_string(), child);
                }
                self.report(DriverEvent::WorkerStarted {
                    resource_id: resource_id.to_string(),
                    pid,
                    slots,
                });
            }
            Err(error) => {
                tracing::error!(%resource_id, %error, "cannot start a TaskManager process");
                self.report(DriverEvent::WorkerFailed {
                    resource_id: resource_id.to_string(),
                    error,
                });
            }
        }
    }

    fn stop_worker(&self, resource_id: &str) {
        let child = self
            .workers
            .lock()
            .ok()
            .and_then(|mut w| w.children.remove(resource_id));
        if let Some(child) = child {
            stop(child);
        }
    }

    fn deregister_application(&self, status: &str, diagnostics: Option<&str>) {
        self.report(DriverEvent::ApplicationDeregistered {
            status: status.to_string(),
            diagnostics: diagnostics.map(str::to_string),
        });
    }
}

impl Drop for LocalProcessDriver {
    /// No TaskManager outlives the driver that started it.
    fn drop(&mut self) {
        self.stop_all();
    }
}
