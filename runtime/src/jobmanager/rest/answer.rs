//! Answering a [`RestRequest`] inside the JobManager's event loop (the
//! body of each of Flink's REST handlers, which in Flink ask the
//! Dispatcher's gateway and here read the roles directly, one input at a
//! time).
//!
//! [`answer`] sees the roles through [`Roles`]: the Dispatcher (with its
//! JobMasters), the ResourceManager and the REST endpoint's own state
//! ([`RestStore`](super::roles::RestStore): uploaded job files and savepoint triggers). Read-only
//! calls borrow; control calls (cancel, savepoint, submit) go through the
//! Dispatcher as a client's request would, writing into the same
//! [`Outbox`].
//!
//! In: a [`RestRequest`]. Out: a [`RestReply`]; for control calls, what
//! the Dispatcher puts in the outbox.

use super::roles::Roles;
use super::{RestReply, RestRequest};
use crate::jobmanager::outbox::Outbox;

/// Answers one request.
pub fn answer(req: RestRequest, mut roles: Roles<'_>, out: &mut Outbox) -> RestReply {
    let _ = &mut roles;
    let _ = out;
    match req {
        RestRequest::Config => super::cluster::config(&roles),
        RestRequest::Overview => super::cluster::overview(&roles),
        RestRequest::TaskManagers => super::cluster::taskmanagers(&roles),
        RestRequest::JobsOverview => super::jobs::overview(&roles),
        RestRequest::Job {
            jid,
            what: super::JobView::Dataflow { parallel },
        } => match roles.job(&jid) {
            Ok(m) => super::dataflow::picture(m, parallel, roles.now_ms),
            Err(e) => e,
        },
        RestRequest::Job { jid, what } => match roles.job(&jid) {
            Ok(m) => super::jobs::view(m, &what, &roles),
            Err(e) => e,
        },
        other => RestReply::error(501, format!("not implemented yet: {other:?}")),
    }
}
