//! The JobManager's internal messages: what a role hands back to the loop.
//!
//! In Flink the Dispatcher, ResourceManager and each JobMaster are RPC
//! endpoints that call each other through gateways
//! (`ResourceManagerGateway.requestSlot`, `JobMasterGateway.offerSlots`, …).
//! Here the three roles live in one event loop
//! ([`entrypoint`](super::entrypoint)), and a role never holds another:
//! it handles one input and writes what it wants done into an [`Outbox`]:
//! messages to TaskManagers and clients, messages to the ResourceManager
//! ([`ToResourceManager`]) and to JobMasters ([`ToJobMaster`]), HA writes.
//! The loop delivers them, in order, until nothing is left.
//!
//! This module is a leaf: every role imports it, it imports no role.

use crate::graph::JobId;
use crate::ids::FencingToken;
use crate::rpc::{AllocationId, ClientResponse, ResourceId, ToTaskManager};
use std::collections::VecDeque;

/// The JobManager's handle on a connection.
pub type ConnId = u64;

/// A slot sharing slot of a job: slot `index` of sharing group `group`
/// holds subtask `index` of every chain in that group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharingSlot {
    /// The slot sharing group.
    pub group: String,
    /// Which of the group's slots.
    pub index: u32,
}

/// What a JobMaster asks of the ResourceManager (Flink's
/// `ResourceManagerGateway`, as the JobMaster's SlotPool uses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToResourceManager {
    /// A slot for one sharing slot of a job (`requestSlot`). The
    /// ResourceManager answers with [`ToJobMaster::SlotRequestRegistered`].
    RequestSlot {
        /// The job.
        job: JobId,
        /// What the slot is for (echoed in the answer).
        sharing: SharingSlot,
    },
}

/// What the ResourceManager tells a JobMaster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToJobMaster {
    /// The request is registered under this allocation id; the slot will be
    /// offered by a TaskManager carrying it.
    SlotRequestRegistered {
        /// The allocation the slot will carry.
        allocation: AllocationId,
        /// The sharing slot it was asked for.
        sharing: SharingSlot,
    },
    /// An allocation went away with its TaskManager before the slot was
    /// offered.
    AllocationLost {
        /// The allocation.
        allocation: AllocationId,
    },
}

/// A write to the HA service's stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaOp {
    /// Store a value.
    Put(String, Vec<u8>),
    /// Remove a key.
    Delete(String),
}

/// What a role wants done after handling an input.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Messages to TaskManagers.
    pub to_tm: Vec<(ResourceId, ToTaskManager)>,
    /// Registrations declined, by connection (the TaskManager has no id
    /// here yet), with why.
    pub declined: Vec<(ConnId, String)>,
    /// Answers to clients.
    pub to_client: Vec<(ConnId, ClientResponse)>,
    /// Connections to close.
    pub close: Vec<ConnId>,
    /// Requests of JobMasters to the ResourceManager, oldest first.
    pub to_rm: VecDeque<ToResourceManager>,
    /// Messages of the ResourceManager to JobMasters, oldest first.
    pub to_jobmasters: VecDeque<(JobId, ToJobMaster)>,
    /// TaskManagers the ResourceManager lost (every JobMaster must hear of it).
    pub lost: Vec<(ResourceId, String)>,
    /// Jobs that reached a terminal status.
    pub ended: Vec<JobId>,
    /// Writes to the HA stores (job graphs, checkpoint pointers, results).
    pub ha: Vec<HaOp>,
    /// This leader's fencing token (0 without high availability).
    pub token: FencingToken,
}

impl Outbox {
    /// An empty outbox of the leader with this fencing token.
    pub fn new(token: FencingToken) -> Self {
        Outbox {
            token,
            ..Outbox::default()
        }
    }
    /// Queues a message to a TaskManager.
    pub fn to_tm(&mut self, rid: ResourceId, msg: ToTaskManager) {
        self.to_tm.push((rid, msg));
    }
    /// Takes the messages to TaskManagers, each with its connection
    /// (`conn_of` looks a registered one up), the declined registrations last.
    pub fn tm_messages(
        &mut self,
        conn_of: impl Fn(&ResourceId) -> Option<ConnId>,
    ) -> Vec<(Option<ConnId>, ToTaskManager)> {
        let to_tm = self.to_tm.drain(..).map(|(rid, m)| (conn_of(&rid), m));
        let declined = (self.declined.drain(..))
            .map(|(conn, reason)| (Some(conn), ToTaskManager::Declined { reason }));
        to_tm.chain(declined).collect()
    }
    /// Queues closing a connection.
    pub fn close(&mut self, conn: ConnId) {
        self.close.push(conn);
    }
    /// Queues a request to the ResourceManager.
    pub fn to_rm(&mut self, msg: ToResourceManager) {
        self.to_rm.push_back(msg);
    }
    /// Queues a message to a job's JobMaster.
    pub fn to_jobmaster(&mut self, job: JobId, msg: ToJobMaster) {
        self.to_jobmasters.push_back((job, msg));
    }
}
