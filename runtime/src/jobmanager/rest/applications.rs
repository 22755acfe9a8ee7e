//! Applications, as Flink 2.x shows them: `/applications/overview` and
//! `/applications/:id` (Flink's `ApplicationsOverviewHandler` and
//! `ApplicationDetailsHandler`).
//!
//! Two kinds, as in Flink:
//! - a job submitted on its own (a client, `POST /jobs`, a job file run
//!   over REST) is its own application, `SingleJobApplication(<name>)`,
//!   with the job's id; its state follows its job
//!   ([`ApplicationState::of_single_job`]), RUNNING from its submission;
//! - an application's `main` running on the JobManager (application mode,
//!   or an application file run over REST) is one application with every
//!   job it submitted, in the state the Dispatcher recorded
//!   ([`ApplicationRecord`]).
//!
//! A leaf: imports [`roles`](super::roles) and [`jobs`](super::jobs). In:
//! the Dispatcher's applications and JobMasters. Out: JSON in Flink 2.3's
//! shapes.

use super::RestReply;
use super::jobs;
use super::roles::Roles;
use crate::graph::{ApplicationId, JobId};
use crate::jobmanager::applications::ApplicationRecord;
use crate::jobmanager::jobmaster::JobMaster;
use crate::state::{ApplicationState, Lifecycle};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One application, of either kind, as the answers read it.
struct AppView<'a> {
    id: String,
    name: String,
    state: ApplicationState,
    /// When it entered each state (cluster ms).
    status_at: BTreeMap<ApplicationState, u64>,
    /// Its jobs, in submission order.
    jobs: Vec<&'a JobMaster>,
}

impl<'a> AppView<'a> {
    /// A job submitted on its own: CREATED and RUNNING at its submission,
    /// then its end (through FAILING or CANCELING) when it ended.
    fn single(m: &'a JobMaster) -> Self {
        let state = ApplicationState::of_single_job(m.status());
        let mut status_at = BTreeMap::from([
            (ApplicationState::Created, m.submitted_at),
            (ApplicationState::Running, m.submitted_at),
        ]);
        if let Some(ended) = m.ended_at {
            for &s in ApplicationState::path_to(state) {
                status_at.insert(s, ended);
            }
        }
        AppView {
            id: m.id.to_string(),
            name: format!("SingleJobApplication({})", m.job_graph.name),
            state,
            status_at,
            jobs: vec![m],
        }
    }

    /// An application's `main`, as the Dispatcher recorded it.
    fn of_record(a: &ApplicationRecord, r: &'a Roles<'_>) -> Self {
        AppView {
            id: a.id.to_string(),
            name: a.name.clone(),
            state: a.state,
            status_at: a.status_at.clone(),
            jobs: a
                .jobs
                .iter()
                .filter_map(|j| r.dispatcher.jobs.get(j))
                .collect(),
        }
    }

    fn at(&self, s: ApplicationState) -> Option<u64> {
        self.status_at.get(&s).copied()
    }

    fn created(&self) -> u64 {
        self.at(ApplicationState::Created).unwrap_or_default()
    }

    fn ended(&self) -> Option<u64> {
        self.state
            .is_terminal()
            .then(|| self.at(self.state))
            .flatten()
    }

    /// The overview's entry; `start` is when it counts as started.
    fn summary(&self, start: u64, r: &Roles<'_>) -> Value {
        let mut counts = serde_json::Map::new();
        for m in &self.jobs {
            let n = counts
                .entry(m.status().as_str())
                .or_insert_with(|| json!(0));
            *n = json!(n.as_u64().unwrap_or(0) + 1);
        }
        let until = self.ended().unwrap_or(r.now_ms);
        json!({
            "id": self.id,
            "name": self.name,
            "start-time": r.epoch(start),
            "end-time": r.epoch_or_minus_one(self.ended()),
            "duration": until.saturating_sub(start),
            "status": self.state.as_str(),
            "jobs": counts,
        })
    }
}

/// Every application, newest first (ties in the Dispatcher's order).
fn all<'a>(r: &'a Roles<'_>) -> Vec<AppView<'a>> {
    let d = &*r.dispatcher;
    let mut apps: Vec<AppView<'a>> = d
        .applications
        .values()
        .map(|a| AppView::of_record(a, r))
        .collect();
    apps.extend(
        d.order
            .iter()
            .filter(|id| !d.application_of.contains_key(id))
            .filter_map(|id| d.jobs.get(id))
            .map(AppView::single),
    );
    apps.sort_by_key(|a| std::cmp::Reverse(a.created()));
    apps
}

/// `GET /applications/overview`: newest first.
pub fn overview(r: &Roles<'_>) -> RestReply {
    let apps: Vec<Value> = all(r).iter().map(|a| a.summary(a.created(), r)).collect();
    RestReply::ok(json!({ "applications": apps }))
}

/// `GET /applications/:id`: the application with its state's timestamps
/// (epoch ms, 0: never) and its jobs.
pub fn details(id: &str, r: &Roles<'_>) -> RestReply {
    let d = &*r.dispatcher;
    let found = ApplicationId::parse(id).and_then(|app| {
        if let Some(a) = d.applications.get(&app) {
            return Some(AppView::of_record(a, r));
        }
        let job = JobId(app.0);
        (!d.application_of.contains_key(&job))
            .then(|| d.jobs.get(&job).map(AppView::single))
            .flatten()
    });
    let Some(a) = found else {
        return RestReply::error(404, format!("Application {id} not found"));
    };
    // Flink's details start when the application went RUNNING (the
    // overview's when it was CREATED), as the samples show.
    let start = a.at(ApplicationState::Running).unwrap_or(a.created());
    let mut o = a.summary(start, r);
    let timestamps: serde_json::Map<String, Value> = ApplicationState::ALL
        .iter()
        .map(|&s| {
            (
                s.as_str().to_string(),
                json!(a.at(s).map_or(0, |t| r.epoch(t))),
            )
        })
        .collect();
    if let Value::Object(map) = &mut o {
        map.insert("timestamps".into(), Value::Object(timestamps));
        map.insert(
            "jobs".into(),
            Value::Array(a.jobs.iter().map(|m| jobs::job_summary(m, r)).collect()),
        );
    }
    RestReply::ok(o)
}
