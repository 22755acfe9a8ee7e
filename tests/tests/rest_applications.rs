//! Applications over REST with real processes (Flink 2.x's application
//! model: `GET /applications/overview` and `/applications/:id`):
//! - `mini-flink run-application` with `--rest-bind`: the program's `main`
//!   is ONE application listing every job it submitted, not one
//!   `SingleJobApplication` per job;
//! - an application file uploaded (`POST /jars/upload`) and run
//!   (`POST /jars/:id/run`) on a session cluster: its `main` runs on the
//!   JobManager and submits its jobs one after the other; the run answers
//!   with the first job (`jobid`, `applicationId`, `jobids`), and the
//!   application goes RUNNING → FINISHED with both jobs FINISHED, the second
//!   started after the first ended;
//! - a job of a sequential application cancelled over REST cancels the
//!   application (CANCELING → CANCELED) and `main` submits nothing more;
//!   on the way, a checkpoint triggered over REST is polled at
//!   `GET /jobs/:jid/checkpoints/:triggerid` until COMPLETED with its id.

mod real_tcp_support;
mod rest_client_support;

use real_tcp_support::{Cluster, workspace};
use rest_client_support::{get, http, poll, post_json, start, upload, wait_for_status};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

/// One cluster at a time: two on a small machine only make heartbeats late.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_cluster_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An inline job of an application file: a checkpointed keyed sum over a
/// generator of `count` records at 1 000 records/s.
fn inline_job(name: &str, count: u64) -> String {
    format!(
        r#"
[[jobs]]
[jobs.job]
name = "{name}"
parallelism = 1
[jobs.job.checkpointing]
interval_ms = 300
[[jobs.job.operators]]
id = "events"
kind = "generator"
args = {{ keys = 4, count = {count}, rate = 1000 }}
[[jobs.job.operators]]
id = "sum"
kind = "sum"
input = "events"
partition = "hash"
key = "f0"
[[jobs.job.operators]]
id = "collect"
kind = "collect"
input = "sum"
"#
    )
}

/// Uploads an application file and runs it; the run's answer.
fn upload_and_run(rest: &str, file: &str, text: &str) -> Value {
    let up = upload(rest, file, text.as_bytes());
    assert_eq!(up.status, 200, "{up:?}");
    let jar = up.json()["filename"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let r = post_json(rest, &format!("/jars/{jar}/run"), "{}");
    assert_eq!(r.status, 200, "{r:?}");
    r.json()
}

/// The applications of the overview named `name`.
fn named<'a>(overview: &'a Value, name: &str) -> Vec<&'a Value> {
    overview["applications"]
        .as_array()
        .map(|a| a.iter().filter(|x| x["name"] == name).collect())
        .unwrap_or_default()
}

/// `run-application` with REST: while `main` runs, the overview holds one
/// application, named after the program, with both of its (parallel) jobs;
/// neither job is an application of its own.
#[test]
fn run_application_shows_one_application_with_its_jobs() {
    let _one = one_cluster_at_a_time();
    let mut cluster = Cluster::new("rest-apps-mode");
    let slow = workspace().join("tests/data/real_tcp_checkpointed.toml");
    let quick = workspace().join("scenarios/jobs/wordcount.toml");
    let app = cluster.dir.join("both.toml");
    std::fs::write(
        &app,
        format!(
            "name = \"both\"\norder = \"parallel\"\n\n[[jobs]]\nfile = {:?}\n\n[[jobs]]\nfile = {:?}\n",
            slow.display().to_string(),
            quick.display().to_string()
        ),
    )
    .expect("write the application file");
    let app = app.to_string_lossy().into_owned();
    cluster.spawn(
        "jobmanager",
        &["run-application", &app, "--rest-bind", "127.0.0.1:0"],
    );
    let rest = cluster.wait_for_line(
        "jobmanager",
        "REST API and web UI on http://",
        Duration::from_secs(30),
    );
    let rest = rest.trim_end_matches('/').to_string();
    let overview = poll(
        &rest,
        "/applications/overview",
        Duration::from_secs(30),
        |v| {
            named(v, "both").first().is_some_and(|a| {
                a["jobs"]
                    .as_object()
                    .is_some_and(|j| j.values().filter_map(Value::as_u64).sum::<u64>() == 2)
            })
        },
    );
    let apps = overview["applications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        apps.len(),
        1,
        "one application, not one per job: {overview}"
    );
    assert_eq!(apps[0]["status"], "RUNNING", "{overview}");
    assert_eq!(apps[0]["end-time"], -1, "{overview}");
    let id = apps[0]["id"].as_str().unwrap_or_default().to_string();
    let details = get(&rest, &format!("/applications/{id}")).json();
    let jobs = details["jobs"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = jobs.iter().filter_map(|j| j["name"].as_str()).collect();
    assert_eq!(names, ["real-tcp-checkpointed", "wordcount"], "{details}");
    assert!(
        details["timestamps"]["RUNNING"].as_i64() > Some(0),
        "{details}"
    );
    assert_eq!(details["timestamps"]["FINISHED"], 0, "{details}");
    for j in &jobs {
        let jid = j["jid"].as_str().unwrap_or_default();
        get(&rest, &format!("/applications/{jid}")).assert_error(
            404,
            "a job of an application is not an application of its own",
        );
    }
    let (status, out) = cluster.wait_for_exit("jobmanager", Duration::from_secs(90));
    assert!(status.success(), "{out}\n{}", cluster.logs());
}

/// An application file run over REST on a session cluster: its `main`
/// submits the second job when the first FINISHED, and the application
/// ends FINISHED with both, in order.
#[test]
fn an_application_run_over_rest_runs_its_jobs_one_after_the_other() {
    let _one = one_cluster_at_a_time();
    let mut cluster = Cluster::new("rest-apps-seq");
    let (_rpc, rest) = start(&mut cluster, &[]);
    let text = format!(
        "name = \"nightly-rest\"\norder = \"sequential\"\n{}{}",
        inline_job("first", 1500),
        inline_job("second", 1500)
    );
    let run = upload_and_run(&rest, "nightly.toml", &text);
    let app = run["applicationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let first = run["jobid"].as_str().unwrap_or_default().to_string();
    assert_eq!(app.len(), 32, "{run}");
    assert_eq!(first.len(), 32, "{run}");
    assert_eq!(
        run["jobids"],
        serde_json::json!([first]),
        "a sequential main submitted one job: {run}"
    );
    let done = poll(
        &rest,
        &format!("/applications/{app}"),
        Duration::from_secs(60),
        |v| v["status"] != "RUNNING",
    );
    assert_eq!(done["status"], "FINISHED", "{done}");
    assert_eq!(done["name"], "nightly-rest", "{done}");
    let jobs = done["jobs"].as_array().cloned().unwrap_or_default();
    let states: Vec<(&str, &str)> = jobs
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap_or(""),
                j["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("first", "FINISHED"), ("second", "FINISHED")],
        "{done}"
    );
    assert_eq!(jobs[0]["jid"], first.as_str(), "{done}");
    assert!(
        jobs[1]["start-time"].as_i64() >= jobs[0]["end-time"].as_i64(),
        "the second job started after the first ended: {done}"
    );
    let t = &done["timestamps"];
    assert!(
        t["CREATED"].as_i64() > Some(0) && t["FINISHED"].as_i64() >= t["RUNNING"].as_i64(),
        "{done}"
    );
    assert_eq!(t["FAILED"], 0, "{done}");
    assert_eq!(done["end-time"], t["FINISHED"], "{done}");
    let overview = get(&rest, "/applications/overview").json();
    assert_eq!(named(&overview, "nightly-rest").len(), 1, "{overview}");
    assert_eq!(
        overview["applications"].as_array().map(Vec::len),
        Some(1),
        "the application's jobs are not SingleJobApplications: {overview}"
    );
    let counts = &named(&overview, "nightly-rest")[0]["jobs"];
    assert_eq!(counts, &serde_json::json!({ "FINISHED": 2 }), "{overview}");
}

/// A sequential application whose first job is cancelled ends CANCELED
/// (through CANCELING, as Flink moves) and its `main` submits nothing
/// more. Before the cancel, a checkpoint asked for over REST reports
/// COMPLETED with its id.
#[test]
fn a_cancelled_job_cancels_its_application() {
    let _one = one_cluster_at_a_time();
    let mut cluster = Cluster::new("rest-apps-cancel");
    let (_rpc, rest) = start(&mut cluster, &[]);
    let text = format!(
        "name = \"cancelled\"\norder = \"sequential\"\n{}{}",
        inline_job("long", 600_000),
        inline_job("never", 1500)
    );
    let run = upload_and_run(&rest, "cancelled.toml", &text);
    let app = run["applicationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let jid = run["jobid"].as_str().unwrap_or_default().to_string();
    wait_for_status(&rest, &jid, "RUNNING");
    let r = http(
        &rest,
        "POST",
        &format!("/jobs/{jid}/checkpoints"),
        None,
        Vec::new(),
    );
    assert_eq!(r.status, 202, "{r:?}");
    let trigger = r.json()["request-id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let status = poll(
        &rest,
        &format!("/jobs/{jid}/checkpoints/{trigger}"),
        Duration::from_secs(30),
        |v| v["status"]["id"] == "COMPLETED",
    );
    assert!(
        status["operation"]["checkpointId"].as_u64().is_some(),
        "a completed trigger names its checkpoint: {status}"
    );
    get(
        &rest,
        &format!("/jobs/{jid}/checkpoints/{}", "0".repeat(32)),
    )
    .assert_error(404, "an unknown checkpoint trigger");
    let r = http(
        &rest,
        "PATCH",
        &format!("/jobs/{jid}?mode=cancel"),
        None,
        Vec::new(),
    );
    assert_eq!(r.status, 202, "{r:?}");
    let done = poll(
        &rest,
        &format!("/applications/{app}"),
        Duration::from_secs(60),
        |v| v["status"] != "RUNNING",
    );
    assert_eq!(done["status"], "CANCELED", "{done}");
    let t = &done["timestamps"];
    assert!(
        t["CANCELING"].as_i64() > Some(0) && t["CANCELED"].as_i64() > Some(0),
        "{done}"
    );
    assert_eq!(t["FINISHED"], 0, "{done}");
    let jobs = done["jobs"].as_array().cloned().unwrap_or_default();
    assert_eq!(jobs.len(), 1, "main stopped at the cancelled job: {done}");
    assert_eq!(jobs[0]["state"], "CANCELED", "{done}");
    let overview = get(&rest, "/jobs/overview").json();
    assert_eq!(
        overview["jobs"].as_array().map(Vec::len),
        Some(1),
        "{overview}"
    );
}
