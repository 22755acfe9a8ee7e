//! Every URL of the REST API, as axum routes (Flink's `*Headers` classes:
//! one per URL and method, `JobsOverviewHeaders` for `GET /jobs/overview`).
//!
//! A route only parses: path parameters, the query (`get=a,b`, `agg=…`,
//! `mode=cancel`) and the body become one [`RestRequest`], which
//! [`ask`](super::http::ask) hands to the JobManager's event loop and whose [`RestReply`]
//! it turns into the HTTP answer. The web UI's files and the event stream
//! are served here directly: they do not read the roles' state.
//!
//! In: HTTP requests. Out: [`RestRequest`]s to the loop; HTTP answers.

use super::http::{ask, body_or_error, json, list, query_map};
use super::server::RestState;
use super::{JobView, RestReply, RestRequest, VertexView};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post};

/// The router of the REST API and the web UI.
pub fn router(state: RestState) -> Router {
    let limit = state.cfg.max_content_length;
    Router::new()
        .route(
            "/config",
            get(|s: State<RestState>| simple(s, RestRequest::Config)),
        )
        .route(
            "/overview",
            get(|s: State<RestState>| simple(s, RestRequest::Overview)),
        )
        .route(
            "/jobmanager/config",
            get(|s: State<RestState>| simple(s, RestRequest::JobManagerConfig)),
        )
        .route(
            "/jobmanager/environment",
            get(|s: State<RestState>| simple(s, RestRequest::JobManagerEnvironment)),
        )
        .route("/jobmanager/metrics", get(jobmanager_metrics))
        .route(
            "/taskmanagers",
            get(|s: State<RestState>| simple(s, RestRequest::TaskManagers)),
        )
        .route("/taskmanagers/{tmid}", get(taskmanager))
        .route("/taskmanagers/{tmid}/metrics", get(taskmanager_metrics))
        .route(
            "/applications/overview",
            get(|s: State<RestState>| simple(s, RestRequest::ApplicationsOverview)),
        )
        .route("/applications/{id}", get(application))
        .route(
            "/jobs",
            get(|s: State<RestState>| simple(s, RestRequest::Jobs)).post(submit_job),
        )
        .route(
            "/jobs/overview",
            get(|s: State<RestState>| simple(s, RestRequest::JobsOverview)),
        )
        .route("/jobs/{jid}", get(job_details).patch(job_patch))
        .route("/jobs/{jid}/{what}", get(job_view))
        .route(
            "/jobs/{jid}/checkpoints",
            get(job_checkpoints).post(trigger_checkpoint),
        )
        .route("/jobs/{jid}/checkpoints/config", get(checkpoint_config))
        .route("/jobs/{jid}/checkpoints/{trigger}", get(checkpoint_status))
        .route(
            "/jobs/{jid}/checkpoints/details/{cid}",
            get(checkpoint_details),
        )
        .route("/jobs/{jid}/savepoints", post(trigger_savepoint))
        .route("/jobs/{jid}/savepoints/{trigger}", get(savepoint_status))
        .route("/jobs/{jid}/stop", post(stop_with_savepoint))
        .route("/jobs/{jid}/vertices/{vid}", get(vertex_details))
        .route("/jobs/{jid}/vertices/{vid}/{what}", get(vertex_view))
        .route(
            "/jobs/{jid}/vertices/{vid}/subtasks/metrics",
            get(subtask_metrics),
        )
        .route(
            "/jars",
            get(|s: State<RestState>| simple(s, RestRequest::Jars)),
        )
        .route("/jars/upload", post(super::web::upload_jar))
        .route("/jars/{id}", axum::routing::delete(delete_jar))
        .route("/jars/{id}/run", post(run_jar))
        .route("/events", get(super::web::events))
        .route("/", get(super::web::index))
        .route("/web/{file}", get(super::web::asset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::http::redirect_standby,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::auth::require_token,
        ))
        .with_state(state)
}

async fn simple(State(state): State<RestState>, req: RestRequest) -> Response {
    ask(&state, req).await
}

async fn jobmanager_metrics(State(s): State<RestState>, RawQuery(q): RawQuery) -> Response {
    let get = list(&query_map(q.as_deref()), "get");
    ask(&s, RestRequest::JobManagerMetrics { get }).await
}

async fn taskmanager(State(s): State<RestState>, Path(tm): Path<String>) -> Response {
    ask(&s, RestRequest::TaskManager { tm }).await
}

async fn taskmanager_metrics(
    State(s): State<RestState>,
    Path(tm): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let get = list(&query_map(q.as_deref()), "get");
    ask(&s, RestRequest::TaskManagerMetrics { tm, get }).await
}

async fn application(State(s): State<RestState>, Path(id): Path<String>) -> Response {
    ask(&s, RestRequest::Application { id }).await
}

async fn submit_job(State(s): State<RestState>, body: Result<Bytes, BytesRejection>) -> Response {
    match body_or_error(body) {
        Ok(body) => ask(&s, RestRequest::SubmitJob { body }).await,
        Err(e) => json(e),
    }
}

async fn job(s: &RestState, jid: String, what: JobView) -> Response {
    ask(s, RestRequest::Job { jid, what }).await
}

async fn job_details(State(s): State<RestState>, Path(jid): Path<String>) -> Response {
    job(&s, jid, JobView::Details).await
}

async fn job_patch(
    State(s): State<RestState>,
    Path(jid): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_map(q.as_deref());
    match q.get("mode").map(String::as_str) {
        None | Some("cancel") => ask(&s, RestRequest::Cancel { jid }).await,
        Some(other) => json(RestReply::error(
            400,
            format!("Unknown mode `{other}`: the only mode is `cancel`."),
        )),
    }
}

async fn job_view(
    State(s): State<RestState>,
    Path((jid, what)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    uri: Uri,
) -> Response {
    let q = query_map(q.as_deref());
    let what = match what.as_str() {
        "plan" => JobView::Plan,
        "status" => JobView::Status,
        "execution-result" => JobView::ExecutionResult,
        "config" => JobView::Config,
        "exceptions" => JobView::Exceptions {
            max: q.get("maxExceptions").and_then(|m| m.parse().ok()),
        },
        "metrics" => JobView::Metrics {
            get: list(&q, "get"),
        },
        "dataflow" => JobView::Dataflow {
            parallel: q.get("view").is_some_and(|v| v == "parallel"),
        },
        _ => return not_found(uri).await,
    };
    job(&s, jid, what).await
}

async fn job_checkpoints(State(s): State<RestState>, Path(jid): Path<String>) -> Response {
    job(&s, jid, JobView::Checkpoints).await
}

async fn checkpoint_config(State(s): State<RestState>, Path(jid): Path<String>) -> Response {
    job(&s, jid, JobView::CheckpointConfig).await
}

async fn checkpoint_details(
    State(s): State<RestState>,
    Path((jid, cid)): Path<(String, String)>,
) -> Response {
    job(&s, jid, JobView::CheckpointDetails { cid }).await
}

async fn trigger_checkpoint(State(s): State<RestState>, Path(jid): Path<String>) -> Response {
    ask(&s, RestRequest::TriggerCheckpoint { jid }).await
}

async fn trigger_savepoint(
    State(s): State<RestState>,
    Path(jid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    savepoint(&s, jid, false, body).await
}

async fn stop_with_savepoint(
    State(s): State<RestState>,
    Path(jid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    savepoint(&s, jid, true, body).await
}

async fn savepoint(
    s: &RestState,
    jid: String,
    stop: bool,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match body_or_error(body) {
        Ok(body) => ask(s, RestRequest::TriggerSavepoint { jid, stop, body }).await,
        Err(e) => json(e),
    }
}

async fn savepoint_status(
    State(s): State<RestState>,
    Path((jid, trigger)): Path<(String, String)>,
) -> Response {
    ask(&s, RestRequest::SavepointStatus { jid, trigger }).await
}

async fn checkpoint_status(
    State(s): State<RestState>,
    Path((jid, trigger)): Path<(String, String)>,
) -> Response {
    ask(&s, RestRequest::CheckpointStatus { jid, trigger }).await
}

async fn vertex(s: &RestState, jid: String, vid: String, what: VertexView) -> Response {
    ask(s, RestRequest::Vertex { jid, vid, what }).await
}

async fn vertex_details(
    State(s): State<RestState>,
    Path((jid, vid)): Path<(String, String)>,
) -> Response {
    vertex(&s, jid, vid, VertexView::Details).await
}

async fn vertex_view(
    State(s): State<RestState>,
    Path((jid, vid, what)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    uri: Uri,
) -> Response {
    let what = match what.as_str() {
        "subtasktimes" => VertexView::SubtaskTimes,
        "taskmanagers" => VertexView::TaskManagers,
        "watermarks" => VertexView::Watermarks,
        "backpressure" => VertexView::Backpressure,
        "metrics" => VertexView::Metrics {
            get: list(&query_map(q.as_deref()), "get"),
        },
        _ => return not_found(uri).await,
    };
    vertex(&s, jid, vid, what).await
}

async fn subtask_metrics(
    State(s): State<RestState>,
    Path((jid, vid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_map(q.as_deref());
    let what = VertexView::SubtaskMetrics {
        get: list(&q, "get"),
        agg: list(&q, "agg"),
    };
    vertex(&s, jid, vid, what).await
}

async fn delete_jar(State(s): State<RestState>, Path(id): Path<String>) -> Response {
    ask(&s, RestRequest::DeleteJar { id }).await
}

async fn run_jar(
    State(s): State<RestState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match body_or_error(body) {
        Ok(body) => ask(&s, RestRequest::RunJar { id, body }).await,
        Err(e) => json(e),
    }
}

/// Flink's answer to a URL it has no handler for.
async fn not_found(uri: Uri) -> Response {
    json(RestReply::error(404, format!("Not found: {}", uri.path())))
}
