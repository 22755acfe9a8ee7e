//! The Dispatcher's REST API and web UI (Flink's `WebMonitorEndpoint` with
//! its `RestServerEndpoint` and the handlers of `flink-runtime-web`).
//!
//! | module | Flink | what it does |
//! |---|---|---|
//! | [`endpoint`] | `WebMonitorEndpoint.start` | binds the REST port, starts serving, tees events to `/events` |
//! | [`auth`] | (`security.ssl.rest.authentication-enabled`) | `Authorization: Bearer TOKEN` on every request; the web UI's token page and cookie |
//! | [`server`] | `RestServerEndpoint` (Netty) | HTTP/1.1 over the transport seam: one hyper connection per accepted stream, axum routes |
//! | [`routes`] | the `*Headers` classes (one per URL) | every URL and method → one [`RestRequest`] |
//! | [`http`] | `AbstractRestHandler` | a request to the loop and its reply back as HTTP; queries and bodies |
//! | [`answer`] | `JobsOverviewHandler`, `JobDetailsHandler`, … | a [`RestRequest`] answered from the roles' state, inside the event loop |
//! | [`roles`] | the handlers' `RestfulGateway` | what an answer may read and change |
//! | [`cluster`] | `ClusterOverviewHandler`, `DashboardConfigHandler`, `TaskManagersHandler` | cluster, JobManager and TaskManager answers |
//! | [`jobs`] | `JobDetailsHandler`, `JobPlanHandler`, `JobExceptionsHandler`, … | a job's answers |
//! | [`dataflow`] | the dashboard's job graph | a running job's picture, laid out in Rust, as SVG |
//! | [`vertices`] | `JobVertexDetailsHandler`, `JobVertexBackPressureHandler`, … | a job vertex's answers |
//! | [`checkpoints`] | `CheckpointingStatisticsHandler`, … | a job's checkpoint statistics |
//! | [`applications`] | `ApplicationsOverviewHandler`, `ApplicationDetailsHandler` | applications |
//! | [`executions`] | `JobVertexDetailsInfo`, `IOMetricsInfo` | executions as the answers describe them |
//! | [`metrics`] | `AggregatingMetricsHandler`, `StatsSummaryDto` | metric lists, aggregations, percentiles |
//! | [`control`] | `JobCancellationHandler`, `SavepointHandlers`, `StopWithSavepointHandler`, `CheckpointHandlers` | cancel, savepoints, stop, checkpoints on demand |
//! | [`jars`] | `JarUploadHandler`, `JarListHandler`, `JarRunHandler`, `JarDeleteHandler`, `JobSubmitHandler` | job files uploaded, run, deleted; `POST /jobs` |
//! | [`web`] | `flink-runtime-web`'s dashboard | the web UI's files, compiled into the binary |
//!
//! A request never touches the JobManager's state from the HTTP task: the
//! route turns it into a [`RestRequest`], hands it to the JobManager's one
//! event loop ([`crate::jobmanager::inbox::Inbound::Rest`]) and waits for
//! the [`RestReply`]. The loop answers it between two other inputs, from
//! the Dispatcher's, the JobMasters' and the ResourceManager's state, the
//! way any other input is handled. So REST is deterministic in the
//! simulator, and a request sees the cluster as one consistent moment.
//!
//! The JSON shapes are a real Flink 2.3's (`shared/flink-reference/rest-samples/`):
//! the same keys, nesting, casing and units, so Flink's dashboard, its CLI
//! in REST mode and the Kubernetes operator find what they read. Errors
//! are Flink's `{"errors": ["…"]}` with the status Flink would give.
//!
//! In: HTTP requests on the REST port (8081 by default, Flink's
//! `rest.port`). Out: JSON answers, the web UI's files, server-sent events
//! of the JobManager's event stream (`GET /events`), and control requests
//! (cancel, savepoint, stop, submit) handed to the Dispatcher.

pub mod answer;
pub mod applications;
pub mod auth;
pub mod checkpoints;
pub mod cluster;
pub mod control;
pub mod dataflow;
pub mod endpoint;
pub mod executions;
pub mod http;
pub mod jars;
pub mod jobs;
pub mod metrics;
pub mod roles;
pub mod routes;
pub mod server;
pub mod vertices;
pub mod web;

use serde_json::Value;

/// Flink's version string in the answers that carry one: the API we
/// speak is Flink 2.3's.
pub const FLINK_VERSION: &str = "2.3.0";

/// How the REST endpoint is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// Where to listen ("0.0.0.0:8081"; "rest:8081" style in the simulator).
    pub bind: String,
    /// Wall-clock milliseconds since 1970 at the cluster's epoch: Flink's
    /// answers carry epoch timestamps, ours add this to the clock's
    /// milliseconds. The simulator sets a fixed value; real processes
    /// their start time.
    pub epoch_ms: u64,
    /// The largest request body accepted, in bytes (Flink's
    /// `rest.server.max-content-length`); bigger ones get 413.
    pub max_content_length: usize,
    /// The web UI's refresh interval in ms (`/config`'s `refresh-interval`,
    /// Flink's `web.refresh-interval`).
    pub refresh_interval_ms: u64,
    /// When the port cannot be bound, serve without REST (with a warning)
    /// instead of failing: for the default port, which a second JobManager
    /// on the same machine finds taken.
    pub optional: bool,
}

impl Default for RestConfig {
    fn default() -> Self {
        RestConfig {
            bind: "0.0.0.0:8081".into(),
            epoch_ms: 0,
            max_content_length: 10 * 1024 * 1024,
            refresh_interval_ms: 3_000,
            optional: false,
        }
    }
}

/// One REST call, parsed: what the event loop answers. Ids are still text
/// here; the answer checks them (a malformed or unknown id is a 404, as in
/// Flink).
#[derive(Debug, Clone, PartialEq)]
pub enum RestRequest {
    /// `GET /config`: the dashboard's configuration.
    Config,
    /// `GET /overview`: the cluster in numbers.
    Overview,
    /// `GET /jobmanager/config`.
    JobManagerConfig,
    /// `GET /jobmanager/environment`.
    JobManagerEnvironment,
    /// `GET /jobmanager/metrics?get=…`.
    JobManagerMetrics {
        /// The metric names asked for (empty: the list of names).
        get: Vec<String>,
    },
    /// `GET /taskmanagers`.
    TaskManagers,
    /// `GET /taskmanagers/:tmid`.
    TaskManager {
        /// Its resource id.
        tm: String,
    },
    /// `GET /taskmanagers/:tmid/metrics?get=…`.
    TaskManagerMetrics {
        /// Its resource id.
        tm: String,
        /// The metric names asked for (empty: the list of names).
        get: Vec<String>,
    },
    /// `GET /applications/overview`.
    ApplicationsOverview,
    /// `GET /applications/:id`.
    Application {
        /// The application id.
        id: String,
    },
    /// `GET /jobs`.
    Jobs,
    /// `GET /jobs/overview`.
    JobsOverview,
    /// `GET /jobs/:jid/<what>`: one of a job's read-only answers.
    Job {
        /// The job id as given.
        jid: String,
        /// Which answer.
        what: JobView,
    },
    /// `GET /jobs/:jid/vertices/:vid/<what>`.
    Vertex {
        /// The job id as given.
        jid: String,
        /// The vertex id as given.
        vid: String,
        /// Which answer.
        what: VertexView,
    },
    /// `PATCH /jobs/:jid?mode=cancel` (202).
    Cancel {
        /// The job id as given.
        jid: String,
    },
    /// `POST /jobs/:jid/savepoints` or `POST /jobs/:jid/stop`: answered
    /// with a `request-id`.
    TriggerSavepoint {
        /// The job id as given.
        jid: String,
        /// Stop the job after the savepoint (stop-with-savepoint).
        stop: bool,
        /// The request body (JSON: `targetDirectory`, `cancel-job`, `drain`).
        body: Vec<u8>,
    },
    /// `GET /jobs/:jid/savepoints/:triggerid`.
    SavepointStatus {
        /// The job id as given.
        jid: String,
        /// The trigger's request id.
        trigger: String,
    },
    /// `POST /jobs/:jid/checkpoints`: trigger a checkpoint now.
    TriggerCheckpoint {
        /// The job id as given.
        jid: String,
    },
    /// `GET /jobs/:jid/checkpoints/:triggerid`: how that checkpoint went.
    CheckpointStatus {
        /// The job id as given.
        jid: String,
        /// The trigger's request id.
        trigger: String,
    },
    /// `POST /jobs` with a job file or a JobGraph as JSON.
    SubmitJob {
        /// The request body.
        body: Vec<u8>,
    },
    /// `POST /jars/upload`: a job (or application) file.
    UploadJar {
        /// The uploaded file's name.
        filename: String,
        /// Its contents.
        contents: Vec<u8>,
    },
    /// `GET /jars`.
    Jars,
    /// `POST /jars/:id/run`.
    RunJar {
        /// The jar id.
        id: String,
        /// The request body (JSON: `parallelism`, `savepointPath`, …).
        body: Vec<u8>,
    },
    /// `DELETE /jars/:id`.
    DeleteJar {
        /// The jar id.
        id: String,
    },
}

/// Which of a job's answers a [`RestRequest::Job`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobView {
    /// `GET /jobs/:jid`.
    Details,
    /// `GET /jobs/:jid/plan`.
    Plan,
    /// `GET /jobs/:jid/status`.
    Status,
    /// `GET /jobs/:jid/execution-result`.
    ExecutionResult,
    /// `GET /jobs/:jid/config`.
    Config,
    /// `GET /jobs/:jid/exceptions?maxExceptions=n`.
    Exceptions {
        /// At most this many entries.
        max: Option<usize>,
    },
    /// `GET /jobs/:jid/metrics?get=…`.
    Metrics {
        /// The metric names asked for (empty: the list of names).
        get: Vec<String>,
    },
    /// `GET /jobs/:jid/dataflow?view=chained|parallel`: mini-flink's own
    /// picture of the running job (SVG laid out in Rust), for the web UI.
    Dataflow {
        /// The parallel view (one box per subtask) instead of the chains.
        parallel: bool,
    },
    /// `GET /jobs/:jid/checkpoints`.
    Checkpoints,
    /// `GET /jobs/:jid/checkpoints/config`.
    CheckpointConfig,
    /// `GET /jobs/:jid/checkpoints/details/:cid`.
    CheckpointDetails {
        /// The checkpoint id as given.
        cid: String,
    },
}

/// Which of a vertex's answers a [`RestRequest::Vertex`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VertexView {
    /// `GET /jobs/:jid/vertices/:vid`.
    Details,
    /// `.../subtasktimes`.
    SubtaskTimes,
    /// `.../taskmanagers`.
    TaskManagers,
    /// `.../watermarks`.
    Watermarks,
    /// `.../backpressure`.
    Backpressure,
    /// `.../metrics?get=…` (the vertex's metrics).
    Metrics {
        /// The metric names asked for (empty: the list of names).
        get: Vec<String>,
    },
    /// `.../subtasks/metrics?get=…&agg=…`: aggregated over subtasks.
    SubtaskMetrics {
        /// The metric names asked for (empty: the list of names).
        get: Vec<String>,
        /// The aggregations asked for (`min`, `max`, `avg`, `sum`, `skew`).
        agg: Vec<String>,
    },
}

/// The loop's answer: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct RestReply {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

impl RestReply {
    /// 200 with this body.
    pub fn ok(body: Value) -> Self {
        RestReply { status: 200, body }
    }
    /// 202 Accepted with this body (Flink's answer to cancel and triggers).
    pub fn accepted(body: Value) -> Self {
        RestReply { status: 202, body }
    }
    /// An error in Flink's shape: `{"errors": [message]}`.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        RestReply {
            status,
            body: serde_json::json!({ "errors": [message.into()] }),
        }
    }
    /// 404 for a job id that names no job (Flink's text, which tools match).
    pub fn unknown_job(jid: &str) -> Self {
        RestReply::error(
            404,
            format!("org.apache.flink.runtime.rest.NotFoundException: Job {jid} not found"),
        )
    }
}

/// What [`answer::answer`] gives the loop: a reply now, or one once
/// application `.0`'s `main` has submitted its first jobs (`POST
/// /jars/:id/run` of an application file, which Flink answers with the id
/// of the job `main` submitted).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Send this reply.
    Now(RestReply),
    /// Reply when the application's first jobs are submitted (or it ended):
    /// [`jars::application_run`].
    AfterFirstJobs(crate::graph::ApplicationId),
}
