//! Submission over REST: uploaded "jars", running them, and `POST /jobs`
//! (Flink's `JarUploadHandler`, `JarListHandler`, `JarRunHandler`,
//! `JarDeleteHandler` and `JobSubmitHandler`).
//!
//! Flink uploads a jar whose `main` builds the program; mini-flink's
//! program is a job file (or an application file) in TOML, so that is
//! what `POST /jars/upload` takes in the multipart field `jarfile`. It is
//! compiled on the JobManager exactly as `mini-flink run` compiles it on
//! the client (parsing, checks, operator chaining), once at upload (a
//! broken file is refused with 400 and the file's error, line and column)
//! and again at `POST /jars/:id/run`, which may set the default
//! `parallelism` and a `savepointPath` to resume from. Running an
//! application file starts its `main` on the JobManager, which submits its
//! jobs (one after the other, or all at once) as one application.
//!
//! `POST /jobs` submits without uploading. Its body is either
//! - a job file (TOML text, as `mini-flink run` reads), or
//! - our JobGraph as JSON (what `mini-flink plan --json` describes: the
//!   serde form of [`JobGraph`], whose `stream_graph` is the program). The
//!   StreamGraph is checked and chained again here, so a hand-written
//!   graph gets the same chaining rules as a compiled one.
//!
//! and the answer is Flink's 202 `{"jobUrl": "/jobs/<jid>"}`.
//!
//! In: uploaded files, run and submit bodies, the Dispatcher. Out: jobs
//! submitted through the Dispatcher as a client's `Submit` (or
//! `SubmitFromSavepoint`) would be; Flink's answers.

use super::control::json_body;
use super::roles::{Roles, UploadedJar};
use super::{Answer, RestReply};
use crate::application::ApplicationProgram;
use crate::graph::{ApplicationId, JobGraph, JobId, StreamGraph};
use crate::jobfile::{JobFileError, Source};
use crate::jobmanager::applications::ApplicationRecord;
use crate::jobmanager::outbox::Outbox;
use crate::rpc::{ClientRequest, ClientResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::Path;

/// A compiled upload: one job, or an application's jobs.
enum Program {
    /// A job file.
    Job(StreamGraph),
    /// An application file.
    Application(ApplicationProgram),
}

impl Program {
    /// The names `GET /jars` lists as the file's `entry`.
    fn entry(&self) -> Vec<String> {
        match self {
            Program::Job(g) => vec![g.job_name.clone()],
            Program::Application(a) => vec![a.name.clone()],
        }
    }
}

/// `POST /jars/:id/run`'s body (Flink's `JarRunRequestBody`; every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunBody {
    /// The job's default parallelism (a job file's top-level `parallelism`).
    parallelism: Option<u32>,
    /// A savepoint to resume from.
    savepoint_path: Option<String>,
    /// Accepted; mini-flink restores only savepoints whose state fits the
    /// job, so state that cannot be restored is always refused.
    #[serde(rename = "allowNonRestoredState")]
    _allow_non_restored_state: Option<bool>,
    /// Arguments for `main`: a job file takes none, so a non-empty list is refused.
    program_args_list: Option<Vec<String>>,
    /// Flink's entry class: the file has one program, so it is not used.
    #[serde(rename = "entryClass")]
    _entry_class: Option<String>,
}

/// Compiles TOML text the way `mini-flink run` compiles a file: an
/// application file (it has `[[jobs]]`) or a job file, with `parallelism`
/// as the job's default when given. Relative paths in the file start at
/// the JobManager's working directory.
fn compile(file: &str, text: &str, parallelism: Option<u32>) -> Result<Program, RestReply> {
    let src = Source {
        file,
        text,
        base_dir: Path::new("."),
    };
    let is_application = toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("jobs"));
    let program = if is_application {
        crate::application::parse_application(&src).map(Program::Application)
    } else {
        crate::jobfile::parse_job(&src).map(Program::Job)
    }
    .map_err(|e| job_file_error(&e))?;
    match (program, parallelism) {
        (p, None) => Ok(p),
        (Program::Application(_), Some(_)) => Err(RestReply::error(
            400,
            "`parallelism` applies to a job file; an application file sets it in each of its jobs.",
        )),
        (Program::Job(_), Some(0)) => {
            Err(RestReply::error(400, "`parallelism` must be at least 1."))
        }
        (Program::Job(_), Some(n)) => {
            // The file compiled as it is: set its default parallelism, as
            // `flink run -p` does, and compile again.
            let mut table: toml::Table =
                toml::from_str(text).map_err(|e| RestReply::error(400, format!("{file}: {e}")))?;
            table.insert("parallelism".into(), toml::Value::Integer(i64::from(n)));
            let text = toml::to_string(&table)
                .map_err(|e| RestReply::error(500, format!("cannot set the parallelism: {e}")))?;
            let src = Source { text: &text, ..src };
            crate::jobfile::parse_job(&src)
                .map(Program::Job)
                .map_err(|e| job_file_error(&e))
        }
    }
}

/// A job file's error as Flink's error body: the `rustc`-style text,
/// with the file, line and column.
fn job_file_error(e: &JobFileError) -> RestReply {
    RestReply::error(400, e.to_string())
}

/// `POST /jars/upload`: checks the file compiles, keeps it.
pub fn upload(r: &mut Roles<'_>, filename: &str, contents: Vec<u8>) -> RestReply {
    let Ok(text) = std::str::from_utf8(&contents) else {
        return RestReply::error(
            400,
            format!(
                "{filename} is not a job file: it is not UTF-8 text (mini-flink runs job and application files in TOML, not jars)."
            ),
        );
    };
    let program = match compile(filename, text, None) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let name: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let id = format!("{}_{name}", r.store.next_id("jar", filename));
    r.store.jars.insert(
        id.clone(),
        UploadedJar {
            name: filename.to_string(),
            uploaded_ms: r.now_ms,
            entry: program.entry(),
            contents,
        },
    );
    RestReply::ok(json!({ "filename": id, "status": "success" }))
}

/// `GET /jars`, oldest upload first.
pub fn list(r: &Roles<'_>) -> RestReply {
    let mut jars: Vec<(&String, &UploadedJar)> = r.store.jars.iter().collect();
    jars.sort_by_key(|(id, j)| (j.uploaded_ms, *id));
    let files: Vec<Value> = jars
        .into_iter()
        .map(|(id, j)| {
            json!({
                "id": id,
                "name": j.name,
                "uploaded": r.epoch(j.uploaded_ms),
                "entry": j.entry.iter().map(|e| json!({ "name": e, "description": null })).collect::<Vec<_>>(),
            })
        })
        .collect();
    RestReply::ok(json!({ "address": format!("http://{}", r.cfg.bind), "files": files }))
}

/// `DELETE /jars/:id`.
pub fn delete(r: &mut Roles<'_>, id: &str) -> RestReply {
    match r.store.jars.remove(id) {
        Some(_) => RestReply::ok(json!({})),
        None => unknown_jar(id),
    }
}

/// `POST /jars/:id/run`: compiles the file and submits its job, answering
/// `{"jobid": …}`; or, for an application file, accepts the application
/// and starts its `main` on this JobManager (as application mode does, but
/// the cluster stays when it is done), answering once `main` has submitted
/// its first jobs ([`application_run`]).
pub fn run(r: &mut Roles<'_>, id: &str, body: &[u8], out: &mut Outbox) -> Answer {
    let body: RunBody = match json_body(body) {
        Ok(b) => b,
        Err(e) => return Answer::Now(e),
    };
    if body
        .program_args_list
        .as_ref()
        .is_some_and(|a| !a.is_empty())
    {
        return Answer::Now(RestReply::error(
            400,
            "A job file takes no program arguments (`programArgsList` must be empty).",
        ));
    }
    let Some(jar) = r.store.jars.get(id) else {
        return Answer::Now(unknown_jar(id));
    };
    let text = String::from_utf8_lossy(&jar.contents).into_owned();
    let name = jar.name.clone();
    match compile(&name, &text, body.parallelism) {
        Ok(Program::Job(g)) => Answer::Now(
            match submit(r, JobGraph::from_stream_graph(&g), body.savepoint_path, out) {
                Ok(job) => RestReply::ok(json!({ "jobid": job.to_string() })),
                Err(e) => e,
            },
        ),
        Ok(Program::Application(_)) if body.savepoint_path.is_some() => {
            Answer::Now(RestReply::error(
                400,
                format!(
                    "{name}: `savepointPath` applies to a job file; an application's main() submits each of its jobs afresh."
                ),
            ))
        }
        Ok(Program::Application(a)) => {
            Answer::AfterFirstJobs(r.dispatcher.submit_application(a.to_application(), false))
        }
        Err(e) => Answer::Now(e),
    }
}

/// The answer to `POST /jars/:id/run` of an application file, once its
/// `main` has submitted its first jobs: Flink's `jobid` (the first job),
/// and `applicationId` and every `jobids` so far. An application that
/// ended without a job is refused with `main`'s cause.
pub fn application_run(app: ApplicationId, record: Option<&ApplicationRecord>) -> RestReply {
    let Some(record) = record else {
        return RestReply::error(500, format!("application {app} is gone"));
    };
    let ids: Vec<String> = record.jobs.iter().map(ToString::to_string).collect();
    match ids.first() {
        Some(first) => RestReply::ok(json!({
            "jobid": first,
            "applicationId": app.to_string(),
            "jobids": ids,
        })),
        None => RestReply::error(
            400,
            format!(
                "application `{}` submitted no job: {}",
                record.name,
                record.cause.as_deref().unwrap_or("its main() returned")
            ),
        ),
    }
}

/// `POST /jobs` with a job file or a JobGraph as JSON: 202 `{"jobUrl": …}`.
pub fn submit_job(r: &mut Roles<'_>, body: &[u8], out: &mut Outbox) -> RestReply {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return RestReply::error(
            400,
            "The request body is empty: send a job file (TOML) or a JobGraph as JSON.",
        );
    }
    let jg = if trimmed.starts_with(b"{") {
        let jg: JobGraph = match serde_json::from_slice(body) {
            Ok(jg) => jg,
            Err(e) => {
                return RestReply::error(400, format!("The body is not a JobGraph in JSON: {e}"));
            }
        };
        if let Err(e) = jg.stream_graph.validate() {
            return RestReply::error(400, format!("The JobGraph's program is not valid: {e}"));
        }
        JobGraph::from_stream_graph(&jg.stream_graph)
    } else {
        let Ok(text) = std::str::from_utf8(body) else {
            return RestReply::error(
                400,
                "The body is neither JSON nor a job file in UTF-8 TOML.",
            );
        };
        match compile("request body", text, None) {
            Ok(Program::Job(g)) => JobGraph::from_stream_graph(&g),
            Ok(Program::Application(_)) => {
                return RestReply::error(
                    400,
                    "POST /jobs takes one job; upload an application file with POST /jars/upload and run it.",
                );
            }
            Err(e) => return e,
        }
    };
    match submit(r, jg, None, out) {
        Ok(id) => RestReply::accepted(json!({ "jobUrl": format!("/jobs/{id}") })),
        Err(e) => e,
    }
}

/// Submits through the Dispatcher, as a client's request would.
fn submit(
    r: &mut Roles<'_>,
    jg: JobGraph,
    savepoint: Option<String>,
    out: &mut Outbox,
) -> Result<JobId, RestReply> {
    let req = match savepoint {
        Some(path) => ClientRequest::SubmitFromSavepoint(Box::new(jg), path),
        None => ClientRequest::Submit(Box::new(jg)),
    };
    match r.dispatcher.handle(req, out) {
        ClientResponse::Submitted(id) => Ok(id),
        ClientResponse::Error(e) => Err(RestReply::error(400, e)),
        other => Err(RestReply::error(
            500,
            format!("unexpected answer: {other:?}"),
        )),
    }
}

/// 404 for a jar id that names no upload.
fn unknown_jar(id: &str) -> RestReply {
    RestReply::error(
        404,
        format!("org.apache.flink.runtime.rest.NotFoundException: Jar file {id} does not exist"),
    )
}
