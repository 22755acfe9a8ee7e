//! The JobManager loop's inputs: what its connections, timers, lease
//! keeper, the REST endpoint and the embedded application hand to the one event loop in
//! [`entrypoint`](super::entrypoint).
//!
//! A leaf: the connection tasks and the application's `main` send these;
//! only the loop receives them.

use super::outbox::ConnId;
use super::rest::{RestReply, RestRequest};
use crate::graph::ApplicationId;
use crate::rpc::{ClientRequest, ClientResponse, FromTaskManager};
use crate::state::ApplicationState;
use tokio::sync::{mpsc, oneshot};

/// One input of the JobManager's event loop.
pub enum Inbound {
    /// A connection passed its handshake.
    Opened {
        /// The connection.
        conn: ConnId,
        /// The peer's role ("taskmanager", "client").
        role: String,
        /// Who it is.
        peer: String,
        /// Where to write frames to it.
        writer: mpsc::UnboundedSender<Vec<u8>>,
    },
    /// A TaskManager's message.
    FromTm(ConnId, FromTaskManager),
    /// A client's request.
    FromClient(ConnId, ClientRequest),
    /// A request of an application's `main` running in this JobManager;
    /// the answer goes back on the oneshot.
    FromApplication(
        ApplicationId,
        ClientRequest,
        oneshot::Sender<ClientResponse>,
    ),
    /// An application's `main` returned: how the application ends, and
    /// why when it did not finish.
    ApplicationEnded(ApplicationId, ApplicationState, Option<String>),
    /// A REST call (from the REST endpoint's HTTP tasks); the answer goes
    /// back on the oneshot.
    Rest(RestRequest, oneshot::Sender<RestReply>),
    /// A connection closed, and why.
    Closed(ConnId, String),
    /// The leader lease could not be renewed, or a write was fenced.
    LeadershipLost(String),
}
