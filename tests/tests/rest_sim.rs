//! The REST API of a simulated JobManager, asked by a client host on
//! turmoil: snapshot-tested and deterministic.
//!
//! The scenario `tests/data/rest_sim.toml` runs a session cluster (one
//! JobManager serving REST on `jobmanager:8081`, two TaskManagers of two
//! slots) with the REST shape test's checkpointed keyed count. A client
//! host ([`ask_everything`]) asks at fixed virtual times: every read-only
//! endpoint of the issue while the job runs, a savepoint (trigger, then
//! its status until `COMPLETED`), a checkpoint on demand, bad requests, a
//! cancel (`PATCH`), and the job's answers once it is `CANCELED`. Every exchange (method, path,
//! status, body) is kept.
//!
//! - [`answers_match_their_snapshots`]: one snapshot per endpoint group,
//!   plus checks of the values that matter (slots, task counts, rates,
//!   checkpoints), so a wrong answer cannot pass by being snapshotted;
//! - [`same_seed_same_answers`]: two runs with the same seed give
//!   byte-identical answers and event traces; another seed runs the same
//!   requests to the same statuses, with another job id (drawn from the
//!   seed) in the answers and the trace.

use hyper::Method;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

/// Where the simulated JobManager serves REST (`sim::net::REST_PORT`).
const JM: &str = "jobmanager:8081";

/// One request and its answer, as the client host saw them.
#[derive(Debug, Clone, PartialEq)]
struct Exchange {
    /// The snapshot it belongs to.
    group: &'static str,
    /// Virtual time of the request (ms).
    at_ms: u64,
    method: Method,
    path: String,
    status: u16,
    /// The body, byte for byte.
    body: Vec<u8>,
}

impl Exchange {
    /// The body as JSON (a string for a body that is not JSON).
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }
}

/// The client host's side: asks, keeps what it got.
struct Asker {
    log: Rc<RefCell<Vec<Exchange>>>,
    /// The simulation's REST token (sent as `Authorization: Bearer`).
    token: String,
}

/// Virtual time now (ms), on a turmoil host.
fn now_ms() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| d.as_millis() as u64)
}

impl Asker {
    /// Sleeps until virtual time `t_ms`.
    async fn at(&self, t_ms: u64) {
        let now = now_ms();
        if now < t_ms {
            tokio::time::sleep(Duration::from_millis(t_ms - now)).await;
        }
    }

    /// One request on a new connection; kept in `group` if it has one.
    async fn ask(
        &self,
        group: Option<&'static str>,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> turmoil::Result<(u16, Value)> {
        let at_ms = now_ms();
        let stream = turmoil::net::TcpStream::connect(JM).await?;
        let (status, bytes) =
            sim::http_client::request(stream, JM, Some(&self.token), method.clone(), path, body)
                .await?;
        let e = Exchange {
            group: group.unwrap_or(""),
            at_ms,
            method,
            path: path.to_string(),
            status,
            body: bytes,
        };
        let v = e.json();
        if group.is_some() {
            self.log.borrow_mut().push(e);
        }
        Ok((status, v))
    }

    /// `GET path`, kept in `group`.
    async fn get(&self, group: &'static str, path: &str) -> turmoil::Result<Value> {
        Ok(self.ask(Some(group), Method::GET, path, None).await?.1)
    }
}

/// Why the client host stopped.
fn fail(what: String) -> Box<dyn std::error::Error> {
    what.into()
}

/// A string at `ptr` of `v`, or an error naming what is missing.
fn field(v: &Value, ptr: &str) -> turmoil::Result<String> {
    match v.pointer(ptr) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(fail(format!("no {ptr} in {v}"))),
    }
}

/// The client host: every request of the test, at fixed virtual times.
async fn ask_everything(a: Asker) -> turmoil::Result {
    // 2.5 s: the job (submitted at 0.1 s) runs, has checkpoints (every
    // 300 ms) and two metric reports per subtask (every second).
    a.at(2_500).await;
    let jobs = a.get("jobs", "/jobs").await?;
    let jid = field(&jobs, "/jobs/0/id")?;
    let j = format!("/jobs/{jid}");
    let details = a.get("jobs", &j).await?;
    let vid = field(&details, "/vertices/1/id")?;
    let v = format!("{j}/vertices/{vid}");
    let tms = a.get("cluster", "/taskmanagers").await?;
    let tm = field(&tms, "/taskmanagers/0/id")?;

    for path in [
        "/config".to_string(),
        "/overview".into(),
        "/jobmanager/config".into(),
        "/jobmanager/environment".into(),
        "/jobmanager/metrics?get=taskSlotsTotal,taskSlotsAvailable,numRegisteredTaskManagers,numRunningJobs".into(),
        format!("/taskmanagers/{tm}"),
        format!("/taskmanagers/{tm}/metrics"),
        format!("/taskmanagers/{tm}/metrics?get=Status.Flink.Slots.Total,Status.Flink.Slots.Free"),
    ] {
        a.get("cluster", &path).await?;
    }
    for path in [
        "/applications/overview".to_string(),
        format!("/applications/{jid}"),
    ] {
        a.get("applications", &path).await?;
    }
    for path in [
        "/jobs/overview".to_string(),
        format!("{j}/plan"),
        format!("{j}/status"),
        format!("{j}/config"),
        format!("{j}/exceptions?maxExceptions=10"),
        format!("{j}/execution-result"),
        format!("{j}/metrics"),
    ] {
        a.get("jobs", &path).await?;
    }
    let metrics = "numRecordsIn,numRecordsOut,numRecordsInPerSecond,numRecordsOutPerSecond,busyTimeMsPerSecond,backPressuredTimeMsPerSecond,idleTimeMsPerSecond";
    for path in [
        v.clone(),
        format!("{v}/subtasktimes"),
        format!("{v}/taskmanagers"),
        format!("{v}/watermarks"),
        format!("{v}/backpressure"),
        format!("{v}/metrics"),
        format!("{v}/metrics?get=0.numRecordsIn,1.numRecordsIn"),
        format!("{v}/subtasks/metrics"),
        format!("{v}/subtasks/metrics?get={metrics}&agg=min,max,avg,sum,skew"),
    ] {
        a.get("vertices", &path).await?;
    }
    let checkpoints = a.get("checkpoints", &format!("{j}/checkpoints")).await?;
    let cid = field(&checkpoints, "/latest/completed/id")?;
    a.get("checkpoints", &format!("{j}/checkpoints/config"))
        .await?;
    a.get("checkpoints", &format!("{j}/checkpoints/details/{cid}"))
        .await?;

    // 2.8 s: a savepoint, polled every 20 ms until it is done; the first
    // and the last answer are kept.
    a.at(2_800).await;
    let (_, trigger) = a
        .ask(
            Some("control"),
            Method::POST,
            &format!("{j}/savepoints"),
            Some(br#"{"cancel-job": false}"#),
        )
        .await?;
    let trigger = field(&trigger, "/request-id")?;
    let status = format!("{j}/savepoints/{trigger}");
    a.get("control", &status).await?;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, s) = a.ask(None, Method::GET, &status, None).await?;
        if s.pointer("/status/id") == Some(&json!("COMPLETED")) {
            a.get("control", &status).await?;
            break;
        }
        if now_ms() > 10_000 {
            return Err(fail(format!("the savepoint did not complete: {s}")));
        }
    }

    // 3.2 s: a checkpoint on demand, ahead of the interval.
    a.at(3_200).await;
    a.ask(
        Some("control"),
        Method::POST,
        &format!("{j}/checkpoints"),
        None,
    )
    .await?;

    // 3.5 s: bad requests; each gets its status and an `errors` body.
    a.at(3_500).await;
    let unknown = "/jobs/00000000000000000000000000000000";
    let bad: [(Method, String, Option<&[u8]>); 11] = [
        (Method::GET, unknown.to_string(), None),
        (Method::GET, "/jobs/not-a-job-id".into(), None),
        (Method::PATCH, format!("{unknown}?mode=cancel"), None),
        (Method::GET, "/no/such/path".into(), None),
        (Method::GET, format!("{j}/vertices/nope"), None),
        (Method::GET, "/taskmanagers/nope".into(), None),
        (Method::GET, format!("{j}/checkpoints/details/999999"), None),
        (Method::GET, format!("{j}/savepoints/nope"), None),
        (Method::POST, format!("{j}/savepoints"), Some(b"{not json")),
        (Method::POST, "/jobs".into(), Some(b"{\"broken\": ")),
        (Method::PATCH, format!("{j}?mode=bogus"), None),
    ];
    for (method, path, body) in bad {
        a.ask(Some("errors"), method, &path, body).await?;
    }

    // 4 s: cancel, twice (the second finds the job ending).
    a.at(4_000).await;
    for _ in 0..2 {
        a.ask(
            Some("control"),
            Method::PATCH,
            &format!("{j}?mode=cancel"),
            None,
        )
        .await?;
    }
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, s) = a
            .ask(None, Method::GET, &format!("{j}/status"), None)
            .await?;
        if s["status"] == "CANCELED" {
            break;
        }
        if now_ms() > 10_000 {
            return Err(fail(format!("the job was not cancelled: {s}")));
        }
    }
    // 4.5 s: the ended job.
    a.at(4_500).await;
    for path in [
        j.clone(),
        format!("{j}/execution-result"),
        "/jobs/overview".into(),
        "/overview".into(),
        "/applications/overview".into(),
    ] {
        a.get("ended", &path).await?;
    }
    Ok(())
}

/// Runs the scenario with a client host asking the REST API: every kept
/// exchange and the event trace.
fn run(seed: Option<u64>) -> (Vec<Exchange>, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/rest_sim.toml");
    let scenario = sim::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut simulation = sim::Simulation::new(&scenario, seed);
    let log = Rc::new(RefCell::new(Vec::new()));
    let token = sim::net::rest_token(simulation.seed());
    simulation.client_host(
        "rest-client",
        ask_everything(Asker {
            log: log.clone(),
            token,
        }),
    );
    let outcome = simulation
        .run()
        .unwrap_or_else(|e| panic!("the simulation failed: {e}"));
    assert!(!outcome.timed_out, "the scenario hit its duration");
    assert!(
        outcome.failed_expectations.is_empty(),
        "{:?}",
        outcome.failed_expectations
    );
    let exchanges = log.borrow().clone();
    (exchanges, sim::summary::trace_jsonl(&outcome.events))
}

/// A group's exchanges as the snapshot shows them; what depends on the
/// build machine (the CPU architecture) is masked.
fn rendered(exchanges: &[Exchange], group: &str) -> String {
    let list: Vec<Value> = exchanges
        .iter()
        .filter(|e| e.group == group)
        .map(|e| {
            let mut body = e.json();
            if let Some(arch) = body.pointer_mut("/jvm/arch") {
                *arch = json!("[arch]");
            }
            json!({
                "at_ms": e.at_ms,
                "request": format!("{} {}", e.method, e.path),
                "status": e.status,
                "body": body,
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default()
}

/// The status and body of the first `method path` kept in `group`.
fn answer(exchanges: &[Exchange], group: &str, method: Method, path: &str) -> (u16, Value) {
    exchanges
        .iter()
        .find(|e| e.group == group && e.method == method && e.path == path)
        .map(|e| (e.status, e.json()))
        .unwrap_or_else(|| panic!("no {method} {path} in {group}"))
}

#[test]
fn answers_match_their_snapshots() {
    let (ex, _) = run(None);
    for group in [
        "cluster",
        "applications",
        "jobs",
        "vertices",
        "checkpoints",
        "control",
        "errors",
        "ended",
    ] {
        insta::assert_snapshot!(format!("rest_sim-{group}"), rendered(&ex, group));
    }

    // Every read while the job ran answered 200.
    for e in ex.iter().filter(|e| {
        ["cluster", "applications", "jobs", "vertices", "checkpoints"].contains(&e.group)
    }) {
        assert_eq!(e.status, 200, "{} {}: {}", e.method, e.path, e.json());
    }

    // The cluster: 2 TaskManagers of 2 slots; the job (p=2, its vertices
    // sharing slots) holds 2.
    let (_, overview) = answer(&ex, "cluster", Method::GET, "/overview");
    assert_eq!(overview["taskmanagers"], 2, "{overview}");
    assert_eq!(overview["slots-total"], 4, "{overview}");
    assert_eq!(overview["slots-available"], 2, "{overview}");
    assert_eq!(overview["jobs-running"], 1, "{overview}");

    // The job: two vertices (the Sum and the sink are chained) of
    // parallelism 2, every task RUNNING.
    let (_, jobs) = answer(&ex, "jobs", Method::GET, "/jobs");
    let jid = jobs["jobs"][0]["id"]
        .as_str()
        .expect("a job id")
        .to_string();
    let j = format!("/jobs/{jid}");
    let (_, details) = answer(&ex, "jobs", Method::GET, &j);
    assert_eq!(details["state"], "RUNNING", "{details}");
    let vertices = details["vertices"].as_array().expect("vertices");
    assert_eq!(vertices.len(), 2, "{details}");
    for v in vertices {
        assert_eq!(v["parallelism"], 2, "{v}");
        assert_eq!(v["tasks"]["RUNNING"], 2, "{v}");
    }
    let source = &vertices[0];
    // Two sources of 500 records/s: at 2.5 s, over 1000 records out.
    let out = source["metrics"]["write-records"].as_u64().unwrap_or(0);
    assert!(out >= 1_000, "source wrote {out} records: {source}");

    // The Sum's rates: 500 records/s into each subtask (±20 %).
    let vid = vertices[1]["id"].as_str().expect("a vertex id");
    let agg = answer(
        &ex,
        "vertices",
        Method::GET,
        &format!("{j}/vertices/{vid}/subtasks/metrics?get=numRecordsIn,numRecordsOut,numRecordsInPerSecond,numRecordsOutPerSecond,busyTimeMsPerSecond,backPressuredTimeMsPerSecond,idleTimeMsPerSecond&agg=min,max,avg,sum,skew"),
    )
    .1;
    let rate = agg
        .as_array()
        .and_then(|a| a.iter().find(|m| m["id"] == "numRecordsInPerSecond"))
        .unwrap_or_else(|| panic!("no numRecordsInPerSecond in {agg}"));
    let sum = rate["sum"].as_f64().unwrap_or(0.0);
    assert!((800.0..=1_200.0).contains(&sum), "{rate}");

    // Checkpoints completed, none failed.
    let (_, cps) = answer(&ex, "checkpoints", Method::GET, &format!("{j}/checkpoints"));
    assert!(
        cps["counts"]["completed"].as_u64().unwrap_or(0) >= 3,
        "{cps}"
    );
    assert_eq!(cps["counts"]["failed"], 0, "{cps}");

    // The savepoint: 202 with a request id, IN_PROGRESS, then COMPLETED
    // with its location.
    let control: Vec<&Exchange> = ex.iter().filter(|e| e.group == "control").collect();
    let statuses: Vec<u16> = control.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [202, 200, 200, 202, 202, 409],
        "{}",
        rendered(&ex, "control")
    );
    assert_eq!(control[1].json()["status"]["id"], "IN_PROGRESS");
    let done = control[2].json();
    assert_eq!(done["status"]["id"], "COMPLETED", "{done}");
    assert!(done["operation"]["location"].is_string(), "{done}");
    // The checkpoint on demand: 202 with a request id.
    assert!(
        control[3].json()["request-id"].is_string(),
        "{}",
        control[3].json()
    );

    // Bad requests: Flink's statuses, each with an `errors` list.
    let errors: Vec<&Exchange> = ex.iter().filter(|e| e.group == "errors").collect();
    let statuses: Vec<u16> = errors.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [404, 404, 404, 404, 404, 404, 404, 404, 400, 400, 400],
        "{}",
        rendered(&ex, "errors")
    );
    for e in &errors {
        assert!(
            e.json()["errors"].as_array().is_some_and(|l| !l.is_empty()),
            "{} {}: {}",
            e.method,
            e.path,
            e.json()
        );
    }

    // After the cancel: CANCELED, its slots free again.
    let (_, ended) = answer(&ex, "ended", Method::GET, &j);
    assert_eq!(ended["state"], "CANCELED", "{ended}");
    let (_, result) = answer(&ex, "ended", Method::GET, &format!("{j}/execution-result"));
    assert_eq!(
        result["job-execution-result"]["application-status"], "CANCELED",
        "{result}"
    );
    let (_, overview) = answer(&ex, "ended", Method::GET, "/overview");
    assert_eq!(overview["slots-available"], 4, "{overview}");
    assert_eq!(overview["jobs-cancelled"], 1, "{overview}");
}

#[test]
fn same_seed_same_answers() {
    let (a, trace_a) = run(None);
    let (b, trace_b) = run(None);
    assert!(!a.is_empty());
    assert_eq!(trace_a, trace_b, "the event trace is not deterministic");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x,
            y,
            "{} {} answered differently:\n{}\n{}",
            x.method,
            x.path,
            String::from_utf8_lossy(&x.body),
            String::from_utf8_lossy(&y.body)
        );
    }

    // Another seed: the same requests, answered with the same statuses.
    let (c, trace_c) = run(Some(1));
    // The job id is drawn from the seed: the answers that name it change.
    assert_ne!(trace_a, trace_c, "another seed should change the trace");
    assert_ne!(
        a[0].body, c[0].body,
        "another seed should change the job id in GET /jobs"
    );
    let shape = |ex: &[Exchange]| -> Vec<(&'static str, Method, u16)> {
        ex.iter()
            .map(|e| (e.group, e.method.clone(), e.status))
            .collect()
    };
    assert_eq!(shape(&a), shape(&c));
}
