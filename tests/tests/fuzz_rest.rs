//! Fuzzing the REST request bodies under `cargo test` (issue 15): whatever
//! a client POSTs to a real JobManager on 127.0.0.1, the answer is a status
//! below 500 with a JSON body, and an error has Flink's `{"errors": [...]}`
//! shape; the connection is answered, never dropped, and the JobManager
//! still answers `GET /overview` after every target.
//!
//! The targets are every handler that reads a body: `POST /jobs` (a job
//! file or a JobGraph), `POST /jars/upload` (multipart), `POST
//! /jars/:id/run`, `POST /jobs/:jid/savepoints` and `POST /jobs/:jid/stop`.
//! Each gets its regression corpus (`tests/fuzz-corpus/rest/`, the file
//! name's first word says the target), arbitrary bytes, and valid bodies
//! mutated, with proptest. An HTTP request costs more than a parser call,
//! so the cases are bounded at 128 per property (`PROPTEST_CASES` sets
//! another number).

mod fuzz_support;
mod real_tcp_support;
mod rest_client_support;

use fuzz_support::{apply_bytes, apply_text, byte_edit, corpus, text_edit, toml_files};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use real_tcp_support::Cluster;
use rest_client_support::{Reply, get, http, start, upload};

/// The cases per property (fewer than the parsers' 1024: each is a request).
fn runner() -> TestRunner {
    fuzz_support::runner_with(128)
}

/// What every answer must be: below 500, JSON, and an error in Flink's shape.
fn check(what: &str, r: &Reply) -> Result<(), String> {
    if r.status >= 500 {
        return Err(format!("{what}: status {}: {:?}", r.status, r.text()));
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| {
        format!(
            "{what}: status {}, not JSON ({e}): {:?}",
            r.status,
            r.text()
        )
    })?;
    if r.status >= 400 {
        let ok = v["errors"].as_array().is_some_and(|errors| {
            !errors.is_empty() && errors.iter().all(serde_json::Value::is_string)
        });
        if !ok {
            return Err(format!(
                "{what}: status {} without Flink's errors: {v}",
                r.status
            ));
        }
    }
    Ok(())
}

trait Text {
    fn text(&self) -> String;
}
impl Text for Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One target: a way to send a body, and the valid bodies to mutate.
struct Target<'a> {
    name: &'a str,
    send: &'a dyn Fn(Vec<u8>) -> Reply,
    seeds: Vec<Vec<u8>>,
    /// Mutate as text (lines, tokens) rather than as bytes.
    text: bool,
}

/// Runs one target: its corpus, arbitrary bytes, mutated seeds; then the
/// JobManager must still answer.
fn fuzz(rest: &str, t: &Target<'_>) {
    let mut n = 0;
    for (path, body) in corpus("rest") {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
        if file.is_some_and(|f| f.starts_with(&format!("{}-", t.name))) {
            check(&path.display().to_string(), &(t.send)(body)).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n > 0, "no corpus for {} in tests/fuzz-corpus/rest", t.name);
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..600), |body| {
            check(t.name, &(t.send)(body.clone()))
                .map_err(|e| TestCaseError::fail(format!("{e}\n--- body: {body:?}")))
        })
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    let seeds = &t.seeds;
    if t.text {
        runner()
            .run(
                &(0..seeds.len(), proptest::collection::vec(text_edit(), 1..5)),
                |(i, edits)| {
                    let body = apply_text(&String::from_utf8_lossy(&seeds[i]), &edits);
                    check(t.name, &(t.send)(body.clone().into_bytes()))
                        .map_err(|e| TestCaseError::fail(format!("{e}\n--- body:\n{body}")))
                },
            )
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    } else {
        runner()
            .run(
                &(0..seeds.len(), proptest::collection::vec(byte_edit(), 1..5)),
                |(i, edits)| {
                    let body = apply_bytes(seeds[i].clone(), &edits);
                    check(t.name, &(t.send)(body.clone())).map_err(|e| {
                        TestCaseError::fail(format!(
                            "{e}\n--- body: {:?}",
                            String::from_utf8_lossy(&body)
                        ))
                    })
                },
            )
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
    let r = get(rest, "/overview");
    assert_eq!(r.status, 200, "after {}: {r:?}", t.name);
}

fn post(rest: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    http(rest, "POST", path, content_type, body)
}

/// A multipart upload of `file` with the given bytes, as one body.
fn multipart(file: &[u8]) -> Vec<u8> {
    let mut body = b"--fuzz-boundary\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"fuzz.toml\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--fuzz-boundary--\r\n");
    body
}

#[test]
fn rest_bodies_get_an_answer_never_a_crash() {
    let mut cluster = Cluster::new("fuzz-rest");
    let (_rpc, rest) = start(&mut cluster, &["--rest-max-content-length", "65536"]);
    let mut jobs = toml_files(&["scenarios/jobs"]);
    jobs.retain(|t| t.contains("[[operators]]") && !t.contains("[[jobs]]"));
    let job_seeds: Vec<Vec<u8>> = jobs.iter().map(|t| t.clone().into_bytes()).collect();

    // A job to aim the savepoint and stop bodies at, and a jar to run.
    let job =
        std::fs::read_to_string(fuzz_support::workspace().join("tests/data/rest_shapes_job.toml"))
            .expect("tests/data/rest_shapes_job.toml");
    let r = post(&rest, "/jobs", Some("text/plain"), job.clone().into_bytes());
    assert_eq!(r.status, 202, "{r:?}");
    let jid = r.json()["jobUrl"]
        .as_str()
        .and_then(|u| u.strip_prefix("/jobs/"))
        .expect("a job URL")
        .to_string();
    let r = upload(&rest, "counts.toml", job.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    let jar = r.json()["filename"]
        .as_str()
        .expect("an uploaded file's name")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();

    let submit = |b: Vec<u8>| post(&rest, "/jobs", Some("text/plain"), b);
    let submit_json = |b: Vec<u8>| post(&rest, "/jobs", Some("application/json"), b);
    let uploads = |b: Vec<u8>| {
        post(
            &rest,
            "/jars/upload",
            Some("multipart/form-data; boundary=fuzz-boundary"),
            b,
        )
    };
    let run_path = format!("/jars/{jar}/run");
    let run = |b: Vec<u8>| post(&rest, &run_path, Some("application/json"), b);
    let savepoint_path = format!("/jobs/{jid}/savepoints");
    let savepoint = |b: Vec<u8>| post(&rest, &savepoint_path, Some("application/json"), b);
    let stop_path = format!("/jobs/{jid}/stop");
    let stop = |b: Vec<u8>| post(&rest, &stop_path, Some("application/json"), b);

    let json = |s: &[&str]| s.iter().map(|t| t.as_bytes().to_vec()).collect::<Vec<_>>();
    let targets = [
        Target {
            name: "jobs",
            send: &submit,
            seeds: job_seeds.clone(),
            text: true,
        },
        Target {
            name: "jobgraph",
            send: &submit_json,
            seeds: json(&[r#"{"name": "x", "vertices": [], "edges": []}"#, "{}"]),
            text: false,
        },
        Target {
            name: "upload",
            send: &uploads,
            seeds: job_seeds.iter().map(|j| multipart(j)).collect(),
            text: false,
        },
        Target {
            name: "run",
            send: &run,
            seeds: json(&[
                r#"{"parallelism": 1}"#,
                r#"{"savepointPath": "/nonexistent/savepoint", "allowNonRestoredState": true}"#,
                r#"{"programArgsList": [], "entryClass": "Main"}"#,
                "{}",
            ]),
            text: false,
        },
        Target {
            name: "savepoint",
            send: &savepoint,
            seeds: json(&[
                r#"{"target-directory": "/tmp/mini-flink-fuzz", "cancel-job": false}"#,
                r#"{"formatType": "CANONICAL"}"#,
            ]),
            text: false,
        },
        Target {
            name: "stop",
            send: &stop,
            seeds: json(&[r#"{"targetDirectory": "/tmp/mini-flink-fuzz", "drain": false}"#]),
            text: false,
        },
    ];
    for t in &targets {
        let t0 = std::time::Instant::now();
        fuzz(&rest, t);
        eprintln!(
            "fuzz_rest: {} answered every body ({:.1?})",
            t.name,
            t0.elapsed()
        );
    }
}
