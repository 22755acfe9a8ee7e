//! Pictures of a real Flink's plans: `runtime::graph::flink_plan` and
//! `mini-flink plan --from-rest` / `mini-flink plan PLAN.json`.
//!
//! The plans are the answers a real Apache Flink 2.3.0 gave
//! (`shared/flink-reference/rest-samples/cases/*/plan.json`, with
//! `job.json` = `GET /jobs/:id`), checked against what the same runs
//! recorded in `chaining-cases.json` (the job vertices Flink built, the
//! ship strategies, the slots the job took). The CLI is run as the real
//! binary against a small HTTP server in this test that serves those
//! files. Without the reference folder, the tests that need it say so and
//! return.

mod real_tcp_support;

use real_tcp_support::{free_port, mini_flink_binary, workspace};
use runtime::graph::flink_plan::{dataflow_text, flink_job_dataflow, flink_plan_dataflow};
use runtime::graph::plan::{PlanResponse, preview_job_id};
use runtime::graph::{JobGraph, viz_model};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// The reference folder: `MINI_FLINK_REFERENCE`, the shared folder next
/// to the workspace, or the machine's shared folder.
fn reference_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MINI_FLINK_REFERENCE").map(PathBuf::from),
        Some(workspace().join("../shared/flink-reference")),
        Some(PathBuf::from("/work/shared/flink-reference")),
    ];
    let dir = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("rest-samples/cases").is_dir());
    if dir.is_none() {
        eprintln!(
            "skipping: Flink's recorded answers (shared/flink-reference/rest-samples) are not here"
        );
    }
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One recorded job: its folder's name, `plan.json` and `job.json`.
struct Case {
    name: String,
    plan: Value,
    job: Value,
}

impl Case {
    fn jid(&self) -> &str {
        self.plan["plan"]["jid"]
            .as_str()
            .expect("a recorded plan has a jid")
    }
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir.join("rest-samples/cases"))
        .expect("the cases folder reads")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.join("plan.json").exists())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no cases/*/plan.json under {}",
        dir.display()
    );
    dirs.iter()
        .map(|d| Case {
            name: d.file_name().expect("named").to_string_lossy().into_owned(),
            plan: read_json(&d.join("plan.json")),
            job: read_json(&d.join("job.json")),
        })
        .collect()
}

/// What chaining-cases.json recorded of a case, if it has it.
fn recorded(dir: &Path, name: &str) -> Option<Value> {
    let all = read_json(&dir.join("chaining-cases.json"));
    all.as_array()?.iter().find(|c| c["name"] == name).cloned()
}

fn vertices(df: &viz::Dataflow) -> BTreeSet<(String, u32)> {
    df.vertices
        .iter()
        .map(|v| (v.name.clone(), v.parallelism))
        .collect()
}

fn edges(df: &viz::Dataflow) -> BTreeSet<(String, String, String)> {
    df.vertex_edges
        .iter()
        .map(|e| {
            let name = |i: usize| df.vertices[i].name.clone();
            (name(e.from), name(e.to), e.ship_strategy.clone())
        })
        .collect()
}

/// Slots per Flink's rule: per slot sharing group its highest parallelism, summed.
fn slots(df: &viz::Dataflow) -> u32 {
    let mut groups = std::collections::BTreeMap::<&str, u32>::new();
    for v in &df.vertices {
        let p = groups.entry(&v.slot_sharing_group).or_default();
        *p = (*p).max(v.parallelism);
    }
    groups.values().sum()
}

/// Every recorded plan reads into the chains, parallelism and ship
/// strategies Flink built, with names rebuilt from the descriptions alone;
/// with `GET /jobs/:id` also the slot sharing groups, so the slots the job
/// needs come out as the running job took them.
#[test]
fn every_recorded_plan_reads_as_flink_built_it() {
    let Some(dir) = reference_dir() else { return };
    for case in cases(&dir) {
        let df = flink_plan_dataflow(&case.plan).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let with_job = flink_job_dataflow(&case.plan, &case.job)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let job_vertices: BTreeSet<(String, u32)> = case.job["vertices"]
            .as_array()
            .expect("GET /jobs/:id has vertices")
            .iter()
            .map(|v| {
                let name = v["name"].as_str().expect("named").to_string();
                (name, v["parallelism"].as_u64().expect("parallelism") as u32)
            })
            .collect();
        assert_eq!(
            vertices(&df),
            job_vertices,
            "{}: vertices vs job.json",
            case.name
        );
        assert_eq!(vertices(&with_job), job_vertices, "{}", case.name);
        // Topological order, every vertex's operators are its name's parts.
        for e in &df.vertex_edges {
            assert!(
                e.from < e.to,
                "{}: edge {} -> {} goes backwards",
                case.name,
                e.from,
                e.to
            );
            let (up, down) = (
                df.vertices[e.from].parallelism,
                df.vertices[e.to].parallelism,
            );
            match e.ship_strategy.as_str() {
                "FORWARD" | "RESCALE" => assert_eq!(e.distribution, "POINTWISE"),
                _ => {
                    assert_eq!(e.distribution, "ALL_TO_ALL", "{}", case.name);
                    assert_eq!(e.channels.len() as u32, up * down, "{}", case.name);
                }
            }
        }
        for v in &df.vertices {
            let ops: Vec<&str> = v
                .operators
                .iter()
                .map(|&o| df.operators[o].name.as_str())
                .collect();
            assert_eq!(ops.join(" -> "), v.name, "{}", case.name);
        }
        // The job detail gives groups; the plan alone leaves "default".
        assert!(
            df.vertices
                .iter()
                .all(|v| v.slot_sharing_group == "default")
        );
        for (v, j) in with_job.vertices.iter().zip(&df.vertices) {
            assert_eq!((&v.name, v.parallelism), (&j.name, j.parallelism));
            let id = case.job["vertices"]
                .as_array()
                .and_then(|vs| vs.iter().find(|x| x["name"] == v.name.as_str()))
                .and_then(|x| x["slotSharingGroupId"].as_str())
                .expect("job.json names each vertex's group");
            assert_eq!(v.slot_sharing_group, id, "{}", case.name);
        }
        // GET /jobs/:id alone (its `plan` field and its vertices) says the same.
        assert_eq!(
            flink_plan_dataflow(&case.job).as_ref(),
            Ok(&with_job),
            "{}",
            case.name
        );
        let Some(rec) = recorded(&dir, &case.name) else {
            eprintln!(
                "{}: not in chaining-cases.json; checked against job.json only",
                case.name
            );
            continue;
        };
        let rec_vertices: BTreeSet<(String, u32)> = rec["flink_vertices"]
            .as_array()
            .expect("flink_vertices")
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().expect("name").into(),
                    v["parallelism"].as_u64().expect("p") as u32,
                )
            })
            .collect();
        let rec_edges: BTreeSet<(String, String, String)> = rec["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().expect("a string").to_string();
                (s("from"), s("to"), s("ship_strategy"))
            })
            .collect();
        assert_eq!(
            vertices(&df),
            rec_vertices,
            "{}: vertices vs chaining-cases.json",
            case.name
        );
        assert_eq!(
            edges(&df),
            rec_edges,
            "{}: edges vs chaining-cases.json",
            case.name
        );
        if let Some(used) = rec["slots_used"].as_u64() {
            assert_eq!(u64::from(slots(&with_job)), used, "{}: slots", case.name);
        }
    }
}

/// `mini-flink plan --json`'s output reads back into the chains,
/// parallelism, operators and channels our own picture model has.
#[test]
fn our_plan_json_round_trips() {
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in ["scenarios/jobs", "scenarios/jobs/reference"] {
        for e in std::fs::read_dir(workspace().join(sub)).expect("job folder reads") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 5, "job files found: {files:?}");
    let mut checked = 0;
    for f in &files {
        let Ok(sg) = runtime::jobfile::load_job_file(f) else {
            continue; // a file meant to be refused
        };
        let jg = JobGraph::from_stream_graph(&sg);
        let json = serde_json::to_value(PlanResponse::new(&jg, preview_job_id(&jg))).expect("json");
        let ours = viz_model(&jg);
        let read = flink_plan_dataflow(&json).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let chains = |df: &viz::Dataflow| -> Vec<(String, u32, Vec<String>)> {
            df.vertices
                .iter()
                .map(|v| {
                    let ops = v
                        .operators
                        .iter()
                        .map(|&o| df.operators[o].name.clone())
                        .collect();
                    (v.name.clone(), v.parallelism, ops)
                })
                .collect()
        };
        assert_eq!(chains(&read), chains(&ours), "{}", f.display());
        assert_eq!(read.vertex_edges, ours.vertex_edges, "{}", f.display());
        let chained = |df: &viz::Dataflow| df.operator_edges.iter().filter(|e| e.chained).count();
        assert_eq!(chained(&read), chained(&ours), "{}", f.display());
        checked += 1;
    }
    assert!(checked > 5, "only {checked} job files compiled");
}

/// The chained and parallel DOT of a recorded PyFlink word count (a
/// source at parallelism 1, a rebalance, a keyed shuffle) are pinned.
#[test]
fn recorded_wordcount_dot() {
    let Some(dir) = reference_dir() else { return };
    let plan = read_json(&dir.join("rest-samples/cases/pyflink_ds_wordcount/plan.json"));
    let df = flink_plan_dataflow(&plan).expect("the recorded plan reads");
    insta::assert_snapshot!(
        "pyflink_wordcount_dot_chained",
        viz::dot(&df, viz::View::Chained)
    );
    insta::assert_snapshot!(
        "pyflink_wordcount_dot_parallel",
        viz::dot(&df, viz::View::Parallel)
    );
}

/// What the fixture server saw: each request's path and `Authorization`.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A tiny HTTP server on 127.0.0.1 that answers as the recorded Flink:
/// `/jobs/JID/plan` and `/jobs/JID` from the cases, `/jobs/overview`,
/// Flink's 404 body for anything else; under `/garbage/` a 200 that is
/// not JSON, under `/other/` JSON that is not a plan.
fn fixture_server(dir: &Path) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("address").to_string();
    let samples = dir.join("rest-samples");
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut auth = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("authorization")
                {
                    auth = Some(v.trim().to_string());
                }
            }
            log.lock().expect("log").push((path.clone(), auth));
            let (status, body) = answer(&samples, &path);
            let mut s = reader.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, seen)
}

fn answer(samples: &Path, path: &str) -> (&'static str, String) {
    let file = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    if path.starts_with("/garbage/") {
        return ("200 OK", "<html>Flink is not here</html>".into());
    }
    if path.starts_with("/other/") {
        return ("200 OK", file(samples.join("overview.json")));
    }
    let cases = samples.join("cases");
    for case in std::fs::read_dir(&cases).into_iter().flatten().flatten() {
        let jid = read_json(&case.path().join("plan.json"))["plan"]["jid"]
            .as_str()
            .map(String::from);
        let Some(jid) = jid else { continue };
        if path == format!("/jobs/{jid}/plan") {
            return ("200 OK", file(case.path().join("plan.json")));
        }
        if path == format!("/jobs/{jid}") {
            return ("200 OK", file(case.path().join("job.json")));
        }
    }
    if path == "/jobs/overview" {
        return ("200 OK", file(samples.join("jobs_overview.json")));
    }
    (
        "404 Not Found",
        file(samples.join("more/error-unknown-job.json")),
    )
}

fn mini_flink(args: &[&str]) -> Output {
    Command::new(mini_flink_binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("mini-flink runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `mini-flink plan --from-rest` against recorded answers: text, DOT and
/// JSON as the library reads the same files, the token sent, the job id
/// given either in the URL or with `--job`; a saved plan draws the same.
#[test]
fn from_rest_draws_the_recorded_plan() {
    let Some(dir) = reference_dir() else { return };
    let (addr, seen) = fixture_server(&dir);
    let case = cases(&dir)
        .into_iter()
        .find(|c| c.name == "e_slot_sharing_group")
        .expect("case e");
    let jid = case.jid().to_string();
    let df = flink_job_dataflow(&case.plan, &case.job).expect("reads");
    let url = format!("http://{addr}/jobs/{jid}");

    let out = mini_flink(&["plan", "--from-rest", &url, "--token", "s3cret"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&dataflow_text(&df)), "{stdout}");
    assert!(
        stdout.contains(&format!("Plan of job {jid}, read from {url}/plan")),
        "{stdout}"
    );
    let log = seen.lock().expect("log").clone();
    assert!(
        log.contains(&(format!("/jobs/{jid}/plan"), Some("Bearer s3cret".into()))),
        "{log:?}"
    );
    assert!(
        log.contains(&(format!("/jobs/{jid}"), Some("Bearer s3cret".into()))),
        "{log:?}"
    );

    for view in viz::View::ALL {
        let name = view.to_string();
        let out = mini_flink(&[
            "plan",
            "--from-rest",
            &format!("http://{addr}/"),
            "--job",
            &jid,
            "--dot",
            &name,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), viz::dot(&df, view), "--dot {name}");
    }

    let out = mini_flink(&[
        "plan",
        "--from-rest",
        &format!("{addr}/jobs/{jid}/plan"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(printed, case.plan);

    // The saved answers draw the same (GET /jobs/:id with its groups, too).
    let case_dir = dir.join("rest-samples/cases/e_slot_sharing_group");
    for (file, model) in [
        ("plan.json", flink_plan_dataflow(&case.plan).expect("reads")),
        ("job.json", df.clone()),
    ] {
        let path = case_dir.join(file).to_string_lossy().into_owned();
        let out = mini_flink(&["plan", &path, "--dot", "parallel"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            viz::dot(&model, viz::View::Parallel),
            "{file}"
        );
    }
    if viz::dot_available() {
        let svg = std::env::temp_dir().join(format!("flink-plan-{}.svg", std::process::id()));
        let path = svg.to_string_lossy().into_owned();
        let out = mini_flink(&["plan", "--from-rest", &url, "--svg", &path]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let drawn = std::fs::read_to_string(&svg).expect("the SVG was written");
        let _ = std::fs::remove_file(&svg);
        assert!(
            drawn.contains("<svg") && drawn.contains("Source: Seq"),
            "{drawn}"
        );
    } else {
        eprintln!("graphviz's `dot` is not installed: --svg not checked");
    }
}

/// Runs `mini-flink plan ARGS`, expects a failure, returns stderr.
fn fails(args: &[&str]) -> String {
    let out = mini_flink(args);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "{args:?} succeeded: {}",
        text(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

/// Each way of failing ends in one line saying where and why, and a
/// non-zero exit: nothing listening, Flink's 404 (its message shown), an
/// answer that is not JSON, JSON that is not a plan, a bad job id, a saved
/// file that is not JSON.
#[test]
fn from_rest_errors_say_where_and_why() {
    let port = free_port();
    let e = fails(&[
        "plan",
        "--from-rest",
        &format!("http://127.0.0.1:{port}/jobs/{}", "a".repeat(32)),
    ]);
    assert!(e.contains("nothing listens there"), "{e}");
    let e = fails(&["plan", "--from-rest", "http://127.0.0.1:1/jobs/not-a-job"]);
    assert!(e.contains("`not-a-job` is not a job id"), "{e}");

    let broken = std::env::temp_dir().join(format!("broken-plan-{}.json", std::process::id()));
    std::fs::write(&broken, "{\"plan\": {\"nodes\": [").expect("write a temp file");
    let path = broken.to_string_lossy().into_owned();
    let e = fails(&["plan", &path]);
    let _ = std::fs::remove_file(&broken);
    assert!(e.contains(&path) && e.contains("not JSON"), "{e}");

    let Some(dir) = reference_dir() else { return };
    let (addr, _) = fixture_server(&dir);
    let zeros = "0".repeat(32);
    let e = fails(&[
        "plan",
        "--from-rest",
        &format!("http://{addr}/jobs/{zeros}"),
    ]);
    assert!(e.contains("HTTP 404"), "{e}");
    assert!(
        e.contains(&format!("NotFoundException: Job {zeros} not found")),
        "{e}"
    );
    let jid = cases(&dir)[0].jid().to_string();
    let e = fails(&[
        "plan",
        "--from-rest",
        &format!("http://{addr}/garbage/jobs/{jid}"),
    ]);
    assert!(e.contains("not JSON"), "{e}");
    let e = fails(&[
        "plan",
        "--from-rest",
        &format!("http://{addr}/other"),
        "--job",
        &jid,
    ]);
    assert!(e.contains("not a Flink plan"), "{e}");
    let e = fails(&["plan", "--from-rest", &format!("http://{addr}")]);
    assert!(e.contains("which job?"), "{e}");
}
