//! Every read-only REST answer of a real cluster, compared with a real
//! Flink 2.3's answer to the same call (`shared/flink-reference/rest-samples/`).
//!
//! A JobManager with REST and two TaskManagers, all `mini-flink`
//! processes on 127.0.0.1, run a checkpointed keyed count
//! (`tests/data/rest_shapes_job.toml`). Once it is RUNNING with completed
//! checkpoints, each endpoint's JSON must have every key of the sample,
//! with the same JSON type, recursively ([`assert_shape`]); extra keys are
//! allowed. After a cancel, `/execution-result` is compared too.

mod real_tcp_support;

use real_tcp_support::{Cluster, http_get, workspace};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the samples are: `MINI_FLINK_REST_SAMPLES`, or the shared
/// reference next to the workspace.
fn samples_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MINI_FLINK_REST_SAMPLES").map(PathBuf::from),
        Some(workspace().join("../shared/flink-reference/rest-samples")),
        Some(PathBuf::from("/work/shared/flink-reference/rest-samples")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("config.json").exists())
}

/// A sample's answer (some were captured as `{"status": 202, "body": …}`).
fn sample(dir: &std::path::Path, name: &str) -> Value {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match &v {
        Value::Object(o) if o.len() == 2 && o.contains_key("status") && o.contains_key("body") => {
            o["body"].clone()
        }
        _ => v,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Collects where `got` lacks what `want` (a sample) has: every key of an
/// object, recursively, with the same JSON type (a `null` in the sample
/// allows any type, as Flink writes `null` for "none yet"); array elements
/// are compared with the sample's first element, less the keys some of
/// the sample's elements lack (Flink leaves a source's plan node without
/// `inputs`: such a key is optional), and, for lists of several kinds
/// (`className`), only with ours of the same kind. Objects at the paths in
/// `maps` are keyed by ids (vertex ids differ between jobs): each of our
/// values is compared with the sample's first value.
fn shape_errors(want: &Value, got: &Value, path: &str, maps: &[&str], errors: &mut Vec<String>) {
    match (want, got) {
        (Value::Null, _) => {}
        (Value::Object(w), Value::Object(g)) if maps.contains(&path) => {
            if let Some(first) = w.values().next() {
                for (k, v) in g {
                    shape_errors(first, v, &format!("{path}.{k}"), maps, errors);
                }
            }
        }
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => shape_errors(wv, gv, &format!("{path}.{k}"), maps, errors),
                    None => errors.push(format!("{path}.{k} is missing (want {})", type_name(wv))),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if let Some(first) = w.first() {
                let common = match first {
                    Value::Object(f) => Value::Object(
                        f.iter()
                            .filter(|(k, _)| w.iter().all(|e| e.get(k.as_str()).is_some()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                // Flink's checkpoint lists mix kinds told apart by
                // `className` (completed, in_progress, failed), each with
                // its own keys: compare ours of the sample's kind.
                let kind = first.get("className");
                let same_kind = |gv: &Value| kind.is_none() || gv.get("className") == kind;
                for (i, gv) in g.iter().enumerate().filter(|(_, gv)| same_kind(gv)) {
                    shape_errors(&common, gv, &format!("{path}[{i}]"), maps, errors);
                }
            }
        }
        _ if type_name(want) == type_name(got) => {}
        _ => errors.push(format!(
            "{path} is {} (want {})",
            type_name(got),
            type_name(want)
        )),
    }
}

/// Asserts `got` has the sample's shape, naming every missing path.
fn assert_shape(what: &str, want: &Value, got: &Value, maps: &[&str]) {
    let mut errors = Vec::new();
    shape_errors(want, got, "$", maps, &mut errors);
    assert!(
        errors.is_empty(),
        "{what}: not Flink's shape:\n  {}\nanswer: {got}",
        errors.join("\n  ")
    );
}

#[test]
fn the_shape_check_names_what_is_missing() {
    let want = serde_json::json!({"a": {"b": 1, "c": [{"d": "x"}]}, "n": null});
    let got = serde_json::json!({"a": {"b": 2.5, "c": [{"d": 3}]}, "n": 7, "extra": true});
    let mut errors = Vec::new();
    shape_errors(&want, &got, "$", &[], &mut errors);
    assert_eq!(errors, vec!["$.a.c[0].d is number (want string)"]);
    let mut errors = Vec::new();
    shape_errors(&want, &serde_json::json!({"a": {}}), "$", &[], &mut errors);
    assert_eq!(
        errors,
        vec![
            "$.a.b is missing (want number)",
            "$.a.c is missing (want array)",
            "$.n is missing (want null)",
        ]
    );
}

/// GETs `path` and expects 200.
fn get_ok(rest: &str, path: &str, cluster: &Cluster) -> Value {
    match http_get(rest, path) {
        Ok((200, v)) => v,
        other => panic!("GET {path}: {other:?}\n{}", cluster.logs()),
    }
}

#[test]
fn every_read_only_answer_has_flinks_shape() {
    let Some(dir) = samples_dir() else {
        eprintln!(
            "skipping: Flink's REST samples (shared/flink-reference/rest-samples) are not here"
        );
        return;
    };
    let mut cluster = Cluster::new("rest-shapes");
    let (addr, rest) = cluster.start_jobmanager_with_rest(&["--spread"]);
    cluster.start_taskmanagers(&addr, &["tm-1", "tm-2"], 2);
    let job = workspace().join("tests/data/rest_shapes_job.toml");
    let job = job.to_string_lossy().into_owned();
    let (status, out) = cluster.run(
        "run",
        &["run", &job, "--jobmanager", &addr, "--detached"],
        Duration::from_secs(30),
    );
    assert!(status.success(), "{out}\n{}", cluster.logs());
    cluster.wait_for_event(
        "jobmanager",
        "CheckpointCompleted",
        3,
        Duration::from_secs(30),
    );
    // Two metric reports per subtask at least, for the rates.
    std::thread::sleep(Duration::from_millis(1500));

    let jobs = get_ok(&rest, "/jobs", &cluster);
    let jid = jobs["jobs"][0]["id"]
        .as_str()
        .expect("a job id")
        .to_string();
    let details = get_ok(&rest, &format!("/jobs/{jid}"), &cluster);
    assert_eq!(details["state"], "RUNNING", "{details}");
    let vid = details["vertices"][1]["id"]
        .as_str()
        .expect("a second vertex")
        .to_string();
    let tms = get_ok(&rest, "/taskmanagers", &cluster);
    let tm = tms["taskmanagers"][0]["id"]
        .as_str()
        .expect("a TaskManager")
        .to_string();
    let checkpoints = get_ok(&rest, &format!("/jobs/{jid}/checkpoints"), &cluster);
    let cid = checkpoints["latest"]["completed"]["id"]
        .as_u64()
        .expect("a completed checkpoint");

    let j = format!("/jobs/{jid}");
    let v = format!("{j}/vertices/{vid}");
    let agg = "get=numRecordsOut,numRecordsOutPerSecond,busyTimeMsPerSecond,backPressuredTimeMsPerSecond,idleTimeMsPerSecond&agg=min,max,avg,sum,skew";
    let cases: Vec<(String, &str, &[&str])> = vec![
        ("/config".into(), "config.json", &[]),
        ("/overview".into(), "overview.json", &[]),
        ("/jobmanager/config".into(), "jobmanager_config.json", &[]),
        ("/jobmanager/environment".into(), "more/jobmanager-environment.json", &[]),
        ("/jobmanager/metrics?get=taskSlotsTotal,taskSlotsAvailable,numRegisteredTaskManagers,numRunningJobs".into(), "more/jobmanager-metrics.json", &[]),
        ("/taskmanagers".into(), "taskmanagers.json", &[]),
        (format!("/taskmanagers/{tm}"), "taskmanager-detail.json", &[]),
        (format!("/taskmanagers/{tm}/metrics"), "more/taskmanager-metrics-list.json", &[]),
        (format!("/taskmanagers/{tm}/metrics?get=Status.JVM.Memory.Heap.Used,Status.Flink.Slots.Total"), "more/taskmanager-metrics-get.json", &[]),
        ("/applications/overview".into(), "more/applications-overview.json", &["$.applications[0].jobs"]),
        (format!("/applications/{jid}"), "more/application.json", &[]),
        ("/jobs".into(), "more/jobs.json", &[]),
        ("/jobs/overview".into(), "jobs_overview.json", &[]),
        (j.clone(), "checkpointing-c_keyby_sum/job.json", &[]),
        (format!("{j}/plan"), "checkpointing-c_keyby_sum/plan.json", &[]),
        (format!("{j}/status"), "more/job-status.json", &[]),
        (format!("{j}/config"), "more/job-config.json", &[]),
        (format!("{j}/exceptions?maxExceptions=10"), "checkpointing-c_keyby_sum/exceptions.json", &[]),
        (format!("{j}/metrics"), "more/job-metrics-list.json", &[]),
        (format!("{j}/checkpoints"), "checkpointing-c_keyby_sum/checkpoints.json", &[]),
        (format!("{j}/checkpoints"), "more/checkpoints-with-history.json", &[]),
        (format!("{j}/checkpoints/config"), "checkpointing-c_keyby_sum/checkpoints-config.json", &[]),
        (format!("{j}/checkpoints/details/{cid}"), "checkpointing-c_keyby_sum/checkpoint-details.json", &["$.tasks"]),
        (v.clone(), "checkpointing-c_keyby_sum/vertex-1.json", &[]),
        (format!("{v}/subtasktimes"), "checkpointing-c_keyby_sum/vertex-1-subtasktimes.json", &[]),
        (format!("{v}/taskmanagers"), "more/vertex-taskmanagers.json", &[]),
        (format!("{v}/watermarks"), "more/vertex-watermarks.json", &[]),
        (format!("{v}/backpressure"), "more/vertex-backpressure.json", &[]),
        (format!("{v}/metrics"), "more/vertex-metrics-list.json", &[]),
        (format!("{v}/subtasks/metrics"), "more/vertex-subtasks-metrics-list.json", &[]),
        (format!("{v}/subtasks/metrics?{agg}"), "more/vertex-subtasks-metrics-agg.json", &[]),
        (format!("{v}/subtasks/metrics?get=backPressuredTimeMsPerSecond,busyTimeMsPerSecond,numRecordsInPerSecond&agg=min,max,avg,sum,skew"), "more/vertex-subtasks-metrics-dashboard.json", &[]),
    ];
    for (path, file, maps) in &cases {
        let got = get_ok(&rest, path, &cluster);
        assert_shape(
            &format!("GET {path} vs {file}"),
            &sample(&dir, file),
            &got,
            maps,
        );
    }

    // Answers that must not pass by being empty.
    let jm = get_ok(
        &rest,
        "/jobmanager/metrics?get=taskSlotsTotal,numRegisteredTaskManagers",
        &cluster,
    );
    assert_eq!(
        jm,
        serde_json::json!([{"id": "taskSlotsTotal", "value": "4"}, {"id": "numRegisteredTaskManagers", "value": "2"}])
    );
    let aggs = get_ok(&rest, &format!("{v}/subtasks/metrics?{agg}"), &cluster);
    assert_eq!(aggs.as_array().map(Vec::len), Some(5), "{aggs}");
    let tm_detail = get_ok(&rest, &format!("/taskmanagers/{tm}"), &cluster);
    let slots = tm_detail["allocatedSlots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !slots.is_empty(),
        "a spread job uses slots on every TaskManager: {tm_detail}"
    );
    let tasks = slots[0]["tasks"].as_array().cloned().unwrap_or_default();
    assert!(
        tasks.len() >= 2,
        "a shared slot holds a subtask of each vertex: {tm_detail}"
    );
    for key in ["jobId", "vertexId", "name", "subtask", "attempt", "status"] {
        assert!(
            tasks[0].get(key).is_some(),
            "slot task lacks {key}: {tm_detail}"
        );
    }
    let vertex = get_ok(&rest, &v, &cluster);
    assert_eq!(
        vertex["subtasks"].as_array().map(Vec::len),
        Some(2),
        "{vertex}"
    );
    assert!(
        get_ok(&rest, &format!("{j}/checkpoints"), &cluster)["history"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
    );
    assert_eq!(
        http_get(&rest, "/jobs/00000000000000000000000000000000").map(|r| r.0),
        Ok(404)
    );
    assert_eq!(
        http_get(&rest, &format!("{j}/vertices/nope")).map(|r| r.0),
        Ok(404)
    );

    // The execution result, once the job has ended.
    let (status, out) = cluster.run(
        "cancel",
        &["cancel", &jid, "--jobmanager", &addr],
        Duration::from_secs(30),
    );
    assert!(status.success(), "{out}\n{}", cluster.logs());
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        let r = get_ok(&rest, &format!("{j}/execution-result"), &cluster);
        if r["status"]["id"] == "COMPLETED" {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the job did not end: {r}\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_shape(
        "execution-result",
        &sample(&dir, "more/execution-result.json"),
        &result,
        &[],
    );
    assert_eq!(
        result["job-execution-result"]["application-status"],
        "CANCELED"
    );
}
