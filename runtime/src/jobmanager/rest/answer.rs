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
//! In: a [`RestRequest`]. Out: an [`Answer`] (a [`RestReply`], or for an
//! application run the promise of one); for control calls, what the
//! Dispatcher puts in the outbox.

use super::roles::Roles;
use super::{Answer, RestReply, RestRequest};
use crate::jobmanager::outbox::Outbox;

/// Answers one request.
pub fn answer(req: RestRequest, mut roles: Roles<'_>, out: &mut Outbox) -> Answer {
    match req {
        // Running an application file waits for its `main` (jars.rs).
        RestRequest::RunJar { id, body } => super::jars::run(&mut roles, &id, &body, out),
        req => Answer::Now(reply(req, roles, out)),
    }
}

/// Answers one request at once.
fn reply(req: RestRequest, mut roles: Roles<'_>, out: &mut Outbox) -> RestReply {
    use super::{control, jars};
    let r = &mut roles;
    match req {
        // Control and submission: through the Dispatcher and the
        // JobMasters, as a client's requests (control.rs, jars.rs).
        RestRequest::Cancel { jid } => control::cancel(r, &jid, out),
        RestRequest::TriggerSavepoint { jid, stop, body } => {
            control::trigger_savepoint(r, &jid, stop, &body)
        }
        RestRequest::SavepointStatus { jid, trigger } => {
            control::savepoint_status(r, &jid, &trigger)
        }
        RestRequest::TriggerCheckpoint { jid } => control::trigger_checkpoint(r, &jid),
        RestRequest::CheckpointStatus { jid, trigger } => {
            control::checkpoint_status(r, &jid, &trigger)
        }
        RestRequest::SubmitJob { body } => jars::submit_job(r, &body, out),
        RestRequest::UploadJar { filename, contents } => jars::upload(r, &filename, contents),
        RestRequest::Jars => jars::list(r),
        // Answered in `answer`, as it may wait for the application.
        RestRequest::RunJar { .. } => RestReply::error(500, "a run is answered apart"),
        RestRequest::DeleteJar { id } => jars::delete(r, &id),
        // Read-only answers.
        RestRequest::Config => super::cluster::config(&roles),
        RestRequest::Overview => super::cluster::overview(&roles),
        RestRequest::JobManagerConfig => super::cluster::jobmanager_config(&roles),
        RestRequest::JobManagerEnvironment => super::cluster::jobmanager_environment(),
        RestRequest::JobManagerMetrics { get } => super::cluster::jobmanager_metrics(&get, &roles),
        RestRequest::TaskManagers => super::cluster::taskmanagers(&roles),
        RestRequest::TaskManager { tm } => super::cluster::taskmanager(&tm, &roles),
        RestRequest::TaskManagerMetrics { tm, get } => {
            super::cluster::taskmanager_metrics(&tm, &get, &roles)
        }
        RestRequest::ApplicationsOverview => super::applications::overview(&roles),
        RestRequest::Application { id } => super::applications::details(&id, &roles),
        RestRequest::Jobs => super::jobs::ids(&roles),
        RestRequest::JobsOverview => super::jobs::overview(&roles),
        RestRequest::Job { jid, what } => match roles.job(&jid) {
            Ok(m) => super::jobs::view(m, &what, &roles),
            Err(e) => e,
        },
        RestRequest::Vertex { jid, vid, what } => match roles.job(&jid) {
            Ok(m) => super::vertices::view(m, &vid, &what, &roles),
            Err(e) => e,
        },
    }
}
