//! The REST API's control, submission and error answers on real processes
//! (`mini-flink` JobManagers and TaskManagers on 127.0.0.1), over HTTP as
//! Flink's CLI, dashboard and Kubernetes operator send it:
//!
//! - `POST /jobs` with a job file, `PATCH /jobs/:jid?mode=cancel` (and 409
//!   for a job already cancelled), `POST /jobs/:jid/checkpoints`;
//! - `GET /events`: a subscriber sees a submitted job's events, and one
//!   filtered by job sees only that job's;
//! - bad requests, each with its status and a Flink `{"errors": [...]}`
//!   body, the JobManager still answering `/overview` afterwards;
//! - stop-with-savepoint and resume: a job file uploaded (`/jars/upload`),
//!   run (`/jars/:id/run`), stopped with a savepoint (`/jobs/:jid/stop`,
//!   its status polled at `/jobs/:jid/savepoints/:triggerid`), run again
//!   with `savepointPath`: both runs together commit every update exactly once;
//! - high availability: a standby JobManager redirects (307) to the leader's REST address.
//!
//! HTTP is hyper's client over a loopback TCP stream, one connection per
//! request (`Connection: close`); server-sent events are read on a thread
//! of their own.

mod exactly_once_support;
mod real_tcp_support;
mod rest_client_support;

use bytes::Bytes;
use exactly_once_support::{check_exactly_once, expected_sums, generator_of};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use real_tcp_support::{Cluster, fetch_result, workspace};
use rest_client_support::{Reply, get, http, poll, post_json, start, upload, wait_for_status};
use runtime::operators::Value as Record;
use serde_json::Value;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One cluster at a time: two on a small machine only make heartbeats late.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_cluster_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A server-sent event stream read on its own thread; what arrives is
/// collected as text.
struct Sse {
    rx: mpsc::Receiver<String>,
    text: String,
}

impl Sse {
    /// Opens `GET path` and returns once the answer's head arrived (the
    /// subscription is in place from then on).
    fn open(addr: &str, path: &str) -> Sse {
        let (tx, rx) = mpsc::channel::<String>();
        let (addr, path) = (addr.to_string(), path.to_string());
        let auth = rest_client_support::bearer();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let Ok(stream) = tokio::net::TcpStream::connect(&addr).await else {
                    return;
                };
                let Ok((mut send, conn)) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
                else {
                    return;
                };
                tokio::spawn(conn);
                let req = hyper::Request::builder()
                    .uri(&path)
                    .header("host", &addr)
                    .header("authorization", &auth)
                    .body(Full::new(Bytes::new()))
                    .expect("a request");
                let Ok(resp) = send.send_request(req).await else {
                    return;
                };
                let _ = tx.send(format!("HTTP {}\n", resp.status().as_u16()));
                let mut body = resp.into_body();
                while let Some(Ok(frame)) = body.frame().await {
                    if let Ok(data) = frame.into_data()
                        && tx
                            .send(String::from_utf8_lossy(&data).into_owned())
                            .is_err()
                    {
                        return;
                    }
                }
            });
        });
        let head = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the event stream's answer");
        assert_eq!(head, "HTTP 200\n", "GET /events");
        Sse {
            rx,
            text: String::new(),
        }
    }

    /// Reads until `done` holds for the text so far, or `limit` passes;
    /// returns the text.
    fn read_until(&mut self, limit: Duration, done: impl Fn(&str) -> bool) -> &str {
        let deadline = Instant::now() + limit;
        while !done(&self.text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.text.push_str(&chunk),
                Err(_) => break,
            }
        }
        &self.text
    }

    /// The events received so far, as JSON (the `data:` lines).
    fn events(&self) -> Vec<Value> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    }
}

/// The test job: checkpointed, two sources of 1 000 records/s, 12 000 records.
fn job_file() -> std::path::PathBuf {
    workspace().join("tests/data/real_tcp_checkpointed.toml")
}

/// A job id from `POST /jobs`' `{"jobUrl": "/jobs/<jid>"}`.
fn submitted(r: &Reply) -> String {
    assert_eq!(r.status, 202, "POST /jobs: {r:?}");
    let v = r.json();
    let url = v["jobUrl"].as_str().unwrap_or_default();
    let jid = url.strip_prefix("/jobs/").unwrap_or_default().to_string();
    assert_eq!(jid.len(), 32, "{v}");
    jid
}

fn is_request_id(v: &Value) -> bool {
    v["request-id"]
        .as_str()
        .is_some_and(|s| s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Submission, cancel, a checkpoint on demand, the event stream and its
/// filter; then every kind of bad request.
#[test]
fn cancel_events_and_bad_requests() {
    let _one = one_cluster_at_a_time();
    let mut cluster = Cluster::new("rest-control");
    let (_rpc, rest) = start(&mut cluster, &["--rest-max-content-length", "65536"]);
    let job_text = std::fs::read_to_string(job_file()).expect("the job file");

    // Job A: a job file as the body of POST /jobs.
    let a = submitted(&http(
        &rest,
        "POST",
        "/jobs",
        Some("text/plain"),
        job_text.clone().into_bytes(),
    ));
    wait_for_status(&rest, &a, "RUNNING");

    // Two subscribers: all events, and only job A's.
    let mut all = Sse::open(&rest, "/events");
    let mut only_a = Sse::open(&rest, &format!("/events?job={a}"));

    // Job B, without checkpoints: a checkpoint on demand is its first.
    let no_checkpoints = job_text.replace("[checkpointing]\ninterval_ms = 300\n", "");
    assert_ne!(no_checkpoints, job_text, "the job file changed shape");
    let b = submitted(&http(
        &rest,
        "POST",
        "/jobs",
        None,
        no_checkpoints.into_bytes(),
    ));
    let text = all.read_until(Duration::from_secs(10), |t| {
        t.contains("JobSubmitted") && t.contains(&b)
    });
    assert!(
        text.contains("event: JobSubmitted"),
        "the stream did not carry B's submission:\n{text}"
    );
    assert!(
        all.events()
            .iter()
            .any(|e| e["event"] == "JobSubmitted" && e["job"] == b.as_str()),
        "{}",
        all.text
    );
    wait_for_status(&rest, &b, "RUNNING");
    let r = http(
        &rest,
        "POST",
        &format!("/jobs/{b}/checkpoints"),
        None,
        Vec::new(),
    );
    assert_eq!(r.status, 202, "{r:?}");
    assert!(is_request_id(&r.json()), "{:?}", r.json());
    all.read_until(Duration::from_secs(20), |t| {
        t.lines()
            .any(|l| l.contains("CheckpointCompleted") && l.contains(&b))
    });
    assert!(
        all.events()
            .iter()
            .any(|e| e["event"] == "CheckpointCompleted" && e["job"] == b.as_str()),
        "B takes no checkpoints of its own, but the one asked for over REST did not complete:\n{}",
        all.text
    );

    // Cancel A: 202 `{}`, the job ends CANCELED; a second cancel is 409.
    let r = http(
        &rest,
        "PATCH",
        &format!("/jobs/{a}?mode=cancel"),
        None,
        Vec::new(),
    );
    assert_eq!((r.status, r.json()), (202, serde_json::json!({})), "{r:?}");
    wait_for_status(&rest, &a, "CANCELED");
    let again = http(
        &rest,
        "PATCH",
        &format!("/jobs/{a}?mode=cancel"),
        None,
        Vec::new(),
    );
    let why = again.assert_error(409, "cancelling a cancelled job");
    assert!(why.contains("CANCELED"), "{why}");
    only_a.read_until(Duration::from_secs(10), |t| {
        t.lines()
            .any(|l| l.contains("\"JobStatusChanged\"") && l.contains("\"to\":\"CANCELED\""))
    });
    let a_events = only_a.events();
    assert!(
        a_events
            .iter()
            .any(|e| e["event"] == "JobStatusChanged" && e["to"] == "CANCELED"),
        "the filtered stream missed A's cancellation:\n{}",
        only_a.text
    );
    assert!(
        a_events.iter().all(|e| e["job"] == a.as_str()),
        "the stream filtered by job {a} carried other events:\n{}",
        only_a.text
    );
    let r = http(
        &rest,
        "PATCH",
        &format!("/jobs/{b}?mode=cancel"),
        None,
        Vec::new(),
    );
    assert_eq!(r.status, 202, "{r:?}");

    // Bad requests: each its status and Flink's error body, and the
    // JobManager goes on answering.
    let zero = "00000000000000000000000000000000";
    let overview_ok = |after: &str| {
        let r = get(&rest, "/overview");
        assert_eq!(r.status, 200, "GET /overview after {after}: {r:?}");
        assert!(r.json()["taskmanagers"].is_number(), "{:?}", r.json());
    };
    let why = get(&rest, &format!("/jobs/{zero}")).assert_error(404, "an unknown job");
    assert_eq!(
        why,
        format!("org.apache.flink.runtime.rest.NotFoundException: Job {zero} not found")
    );
    overview_ok("an unknown job");
    get(&rest, "/jobs/not-a-job-id/status").assert_error(404, "a malformed job id");
    http(
        &rest,
        "PATCH",
        &format!("/jobs/{zero}?mode=cancel"),
        None,
        Vec::new(),
    )
    .assert_error(404, "cancelling an unknown job");
    get(&rest, &format!("/jobs/{a}/savepoints/{zero}")).assert_error(404, "an unknown trigger");
    overview_ok("an unknown trigger");
    let why = post_json(
        &rest,
        &format!("/jobs/{a}/savepoints"),
        "{\"targetDirectory\": ",
    )
    .assert_error(400, "a malformed JSON body");
    assert!(why.contains("JSON"), "{why}");
    post_json(&rest, "/jars/nope/run", "[1, 2").assert_error(400, "a malformed run body");
    post_json(&rest, "/jobs", "{\"name\": 3}").assert_error(400, "a JSON body that is no JobGraph");
    overview_ok("a malformed JSON body");
    let broken = "name = \"broken\"\n\n[[operators]]\nid = \"src\"\nkind = \"mapp\"\n";
    let why =
        upload(&rest, "broken.toml", broken.as_bytes()).assert_error(400, "a broken job file");
    assert!(
        why.contains("unknown kind `mapp`") && why.contains("broken.toml:5:8"),
        "the error should carry the job file's message and position: {why}"
    );
    let r = http(
        &rest,
        "POST",
        "/jobs",
        None,
        b"name = \"x\"\noperators = 3\n".to_vec(),
    );
    let why = r.assert_error(400, "a broken job file as POST /jobs");
    assert!(why.contains("request body:2:"), "{why}");
    overview_ok("a broken job file");
    let big = vec![b'#'; 70_000];
    http(&rest, "POST", "/jobs", None, big.clone()).assert_error(413, "a body over the cap");
    upload(&rest, "big.toml", &big).assert_error(413, "an upload over the cap");
    overview_ok("a body over the cap");
    let why = get(&rest, "/no/such/path").assert_error(404, "a path that does not exist");
    assert!(why.contains("/no/such/path"), "{why}");
    get(&rest, "/jars/x/nothing").assert_error(404, "no such jar route");
    http(&rest, "DELETE", "/jars/nope", None, Vec::new()).assert_error(404, "an unknown jar");
    overview_ok("a path that does not exist");
}

/// A job file uploaded and run over REST, stopped with a savepoint, and
/// run again from it: both runs together commit every update exactly once.
#[test]
fn stop_with_savepoint_and_resume_over_rest() {
    let _one = one_cluster_at_a_time();
    let job = job_file();
    let (keys, count) = generator_of(&job);
    let expected = expected_sums(keys, count);
    let mut cluster = Cluster::new("rest-savepoint");
    let (rpc, rest) = start(&mut cluster, &[]);

    let r = upload(
        &rest,
        "checkpointed.toml",
        &std::fs::read(&job).expect("the job file"),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    assert_eq!(v["status"], "success", "{v}");
    let jar = v["filename"].as_str().unwrap_or_default().to_string();
    let jars = get(&rest, "/jars").json();
    assert_eq!(jars["address"], format!("http://{rest}"), "{jars}");
    let files = jars["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 1, "{jars}");
    assert_eq!(files[0]["id"], jar.as_str());
    assert_eq!(files[0]["name"], "checkpointed.toml");
    assert!(
        files[0]["uploaded"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000),
        "{jars}"
    );
    assert_eq!(
        files[0]["entry"][0]["name"], "real-tcp-checkpointed",
        "{jars}"
    );

    let r = post_json(&rest, &format!("/jars/{jar}/run"), "{\"parallelism\": 0}");
    r.assert_error(400, "parallelism 0");
    let r = post_json(
        &rest,
        &format!("/jars/{jar}/run"),
        "{\"programArgsList\": []}",
    );
    assert_eq!(r.status, 200, "{r:?}");
    let job1 = r.json()["jobid"].as_str().unwrap_or_default().to_string();
    assert_eq!(job1.len(), 32, "{r:?}");
    wait_for_status(&rest, &job1, "RUNNING");
    cluster.wait_for_events(
        "jobmanager",
        Duration::from_secs(60),
        "two checkpoints",
        |evs| {
            evs.iter()
                .filter(|e| e["event"] == "CheckpointCompleted" && e["job"] == job1.as_str())
                .count()
                >= 2
        },
    );

    // Stop with a savepoint: a request id, IN_PROGRESS, then COMPLETED with the location.
    let r = post_json(&rest, &format!("/jobs/{job1}/stop"), "{\"drain\": false}");
    assert_eq!(r.status, 202, "{r:?}");
    let trigger = r.json();
    assert!(is_request_id(&trigger), "{trigger}");
    let trigger = trigger["request-id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let again = post_json(&rest, &format!("/jobs/{job1}/savepoints"), "");
    again.assert_error(409, "a second savepoint while one is under way");
    let status_path = format!("/jobs/{job1}/savepoints/{trigger}");
    let first = get(&rest, &status_path).json();
    assert!(
        first["status"]["id"] == "IN_PROGRESS" || first["status"]["id"] == "COMPLETED",
        "{first}"
    );
    let done = poll(&rest, &status_path, Duration::from_secs(60), |v| {
        v["status"]["id"] == "COMPLETED"
    });
    let location = done["operation"]["location"]
        .as_str()
        .unwrap_or_else(|| panic!("no location in {done}"))
        .to_string();
    let r1 = fetch_result(&rpc, &job1);
    assert_eq!(r1.status.as_str(), "FINISHED", "the stop ends the job");
    assert_eq!(r1.savepoints.last(), Some(&location));
    assert!(
        (r1.collected.len() as u64) < count,
        "the job should be stopped before its end: {} of {count} updates",
        r1.collected.len()
    );
    // The finished job takes no savepoint, and cancels no more.
    post_json(&rest, &format!("/jobs/{job1}/savepoints"), "{}")
        .assert_error(409, "a savepoint of a finished job");

    // Run the upload again from the savepoint.
    let body = serde_json::json!({ "savepointPath": location, "allowNonRestoredState": false });
    let r = post_json(&rest, &format!("/jars/{jar}/run"), &body.to_string());
    assert_eq!(r.status, 200, "{r:?}");
    let job2 = r.json()["jobid"].as_str().unwrap_or_default().to_string();
    assert_ne!(job1, job2);
    wait_for_status(&rest, &job2, "FINISHED");
    let r2 = fetch_result(&rpc, &job2);
    assert_eq!(r2.restored_from.as_deref(), Some(location.as_str()));
    let both: Vec<Record> = r1.collected.iter().chain(&r2.collected).cloned().collect();
    if let Err(e) = check_exactly_once(&both, &expected) {
        panic!(
            "the two runs together are not exactly-once: {e}\n{}",
            cluster.logs()
        );
    }
    // A savepoint that does not exist is a clean 400.
    let body = serde_json::json!({ "savepointPath": "/no/such/savepoint" });
    let why = post_json(&rest, &format!("/jars/{jar}/run"), &body.to_string())
        .assert_error(400, "a missing savepoint");
    assert!(why.contains("cannot read the savepoint"), "{why}");
    let r = http(&rest, "DELETE", &format!("/jars/{jar}"), None, Vec::new());
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(get(&rest, "/jars").json()["files"], serde_json::json!([]));
}

/// With high availability, the standby JobManager redirects REST clients
/// to the leader's REST address.
#[test]
fn standby_redirects_to_the_leader() {
    let _one = one_cluster_at_a_time();
    let mut cluster = Cluster::new("rest-ha");
    let coordinator = "127.0.0.1:17530";
    cluster.spawn("coordinator", &["coordinator", "--bind", coordinator]);
    cluster.wait_for_line(
        "coordinator",
        "Coordinator listening on ",
        Duration::from_secs(30),
    );
    let rest = ["127.0.0.1:17531", "127.0.0.1:17532"];
    for (i, (rpc, rest)) in [("127.0.0.1:17533", rest[0]), ("127.0.0.1:17534", rest[1])]
        .into_iter()
        .enumerate()
    {
        let name = format!("jobmanager-{}", i + 1);
        cluster.spawn(
            &name,
            &[
                "jobmanager",
                "--bind",
                rpc,
                "--rest-bind",
                rest,
                "--ha",
                coordinator,
                "--lease-ms",
                "1500",
            ],
        );
        if i == 0 {
            cluster.wait_for_line(&name, "JobManager listening on ", Duration::from_secs(30));
        }
    }
    // The first leads; the second, once it campaigned, knows where.
    let r = get(rest[0], "/overview");
    assert_eq!(r.status, 200, "the leader answers itself: {r:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let standby = loop {
        let r = std::panic::catch_unwind(|| get(rest[1], "/jobs/overview?x=1"));
        match r {
            Ok(r) if r.status == 307 => break r,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            other => panic!(
                "the standby never redirected: {other:?}\n{}",
                cluster.logs()
            ),
        }
    };
    assert_eq!(
        standby.location.as_deref(),
        Some("http://127.0.0.1:17531/jobs/overview?x=1"),
        "{standby:?}"
    );
    let why = standby.assert_error(307, "the standby's answer");
    assert!(
        why.contains("not the leader") && why.contains("127.0.0.1:17531"),
        "{why}"
    );
}
