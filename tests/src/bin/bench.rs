//! `bench`: the data plane's speed in one table, beside Apache Flink 2.3's
//! figures measured on this machine (issue #13).
//!
//! ```sh
//! cargo build --release -p runtime --bin mini-flink
//! cargo run --release -p mini-flink-tests --bin bench -- [--records 100000000] [--sim-records 2000000]
//! ```
//!
//! Real processes: one `mini-flink jobmanager` and two `mini-flink
//! taskmanager --slots 2`, all three launched at once on 127.0.0.1 (as
//! Flink's reference cluster: 1 JobManager, 2 TaskManagers × 2 slots).
//!
//! - **keyed sum**: Flink's reference "DataStream keyed sum": a generator of
//!   `(key, 1)` over 1000 keys, `keyBy(f0).sum(1)`, a discarding sink, p=2;
//! - **stateless**: `sequence → map(double) → filter(is_even) → discard`, p=2
//!   (Flink's `a_chain_all`: source → map → filter → sink, one chain);
//!
//! both as records ÷ (FINISHED − RUNNING), as Flink's figures are defined.
//! Also: the time from launching the processes until both TaskManagers are
//! registered (polling `GET /taskmanagers`), from submitting until every
//! subtask is RUNNING (polling `GET /jobs/:id`), and the TaskManagers' peak
//! resident memory (`VmHWM` in `/proc/PID/status`).
//!
//! **hand-written baseline**: the same keyed sum written by hand, compiled
//! into this program: two producer threads hash `(key, 1)` records (same
//! generator, same key groups) into two consumer threads over bounded
//! channels of batches; the consumers sum per key in a hash map. It is the
//! limit our engine is measured against.
//!
//! **simulator**: the keyed sum on a simulated 1-TaskManager cluster, as the
//! ratio of virtual to wall time.

use runtime::client::ClusterClient;
use runtime::graph::JobGraph;
use runtime::net::NetworkRef;
use runtime::operators::{Key, Value, generator_record, key_group, operator_index_for_key_group};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Flink 2.3.0's figures on this machine (`../shared/flink-reference/README.md`,
/// section "Side by side").
mod flink {
    /// Keyed sum, 100M records, p=2, M rec/s.
    pub const KEYED_SUM: f64 = 8.89;
    /// Stateless source → map → filter → sink, 100M, p=2, M rec/s.
    pub const STATELESS: f64 = 40.5;
    /// Cluster start until 2 TaskManagers registered, ms.
    pub const START_MS: f64 = 13_650.0;
    /// Submit until all subtasks RUNNING (REST, warm), ms.
    pub const SUBMIT_MS: f64 = 312.0;
    /// TaskManager peak RSS during the keyed sum, MiB.
    pub const RSS_MIB: f64 = 568.0;
}

fn parse(file: &str, text: &str) -> runtime::graph::StreamGraph {
    runtime::jobfile::parse_job(&runtime::jobfile::Source {
        file,
        text,
        base_dir: std::path::Path::new("."),
    })
    .unwrap_or_else(|e| panic!("the bench job {file} compiles: {e}"))
}

fn keyed_sum(records: u64) -> runtime::graph::StreamGraph {
    parse(
        "keyed-sum.toml",
        &format!(
            r#"
name = "bench-keyed-sum"
parallelism = 2
[[operators]]
id = "src"
name = "Source: Generator"
kind = "generator"
args = {{ keys = 1000, count = {records} }}
[[operators]]
id = "sum"
name = "Sum"
kind = "sum"
input = "src"
partition = "hash"
key = "f0"
[[operators]]
id = "sink"
name = "Discard: Writer"
kind = "discard"
input = "sum"
"#
        ),
    )
}

fn stateless(records: u64) -> runtime::graph::StreamGraph {
    parse(
        "stateless.toml",
        &format!(
            r#"
name = "bench-stateless"
parallelism = 2
[[operators]]
id = "src"
name = "Source: Seq"
kind = "sequence"
args = {{ from = 1, to = {records} }}
[[operators]]
id = "map"
name = "Map"
kind = "map"
fn = "double"
input = "src"
[[operators]]
id = "filter"
name = "Filter"
kind = "filter"
fn = "is_even"
input = "map"
[[operators]]
id = "sink"
name = "Discard"
kind = "discard"
input = "filter"
"#
        ),
    )
}

/// One line of the table.
struct Row {
    measure: String,
    flink: String,
    ours: String,
    to_flink: String,
    to_baseline: String,
}

impl Row {
    fn new(measure: &str, flink: String, ours: String) -> Row {
        Row {
            measure: measure.into(),
            flink,
            ours,
            to_flink: "—".into(),
            to_baseline: "—".into(),
        }
    }
}

fn rate(r: f64) -> String {
    format!("{r:.2} M rec/s")
}

fn ratio(ours: f64, theirs: f64) -> String {
    format!("{:.2}×", ours / theirs)
}

/// The simulator's wall-clock throughput for the keyed sum on 1
/// TaskManager. Its virtual duration is about 0 s (computing costs no
/// virtual time: only latency, timers and throttled sources or sinks do),
/// so a virtual ÷ wall ratio says nothing here; records per wall second do.
fn simulator(records: u64) -> Row {
    let scenario_text = "name = \"bench\"\nseed = 1\nduration_ms = 36000000\n[cluster]\ntaskmanagers = 1\nslots = 2\nbuffer_records = 256\nbuffers_per_channel = 4\n";
    let src = runtime::jobfile::Source {
        file: "bench-scenario.toml",
        text: scenario_text,
        base_dir: std::path::Path::new("."),
    };
    let mut s =
        sim::scenario::parse(&src, std::path::Path::new("bench-scenario.toml")).expect("scenario");
    s.jobs.push(sim::scenario::ScenarioJob {
        graph: keyed_sum(records),
        at_ms: 0,
        resume: None,
        application: None,
        after: None,
    });
    let t0 = Instant::now();
    let o = sim::Simulation::new(&s, None).run().expect("simulation");
    let wall = t0.elapsed().as_secs_f64();
    let r = o.jobs[0].result.as_ref().expect("result");
    Row::new(
        &format!(
            "simulator, 1 TM × 2 slots, keyed sum of {records} records: records per wall second (it takes no virtual time)"
        ),
        "—".into(),
        format!(
            "{:.2} M rec/s of wall time ({:.2} s, {})",
            records as f64 / wall / 1e6,
            wall,
            r.status
        ),
    )
}

// ANCHOR: bench_sim_hook
/// The simulator row on the 16-TaskManager scenario
/// (`scenarios/bench/sixteen-taskmanagers.toml`: 16 TMs × 4 slots, a keyed
/// sum at p=64 with sources at 200 records/s each, a checkpoint every
/// second): virtual ÷ wall time of the whole run. `None` (and a line on
/// stderr) when the scenario cannot be run.
fn simulator_16_tms() -> Option<Row> {
    let path = mini_flink_tests::real_process::workspace()
        .join("scenarios/bench/sixteen-taskmanagers.toml");
    let s = match sim::load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: the simulator row is left out: {e}");
            return None;
        }
    };
    let t0 = Instant::now();
    let o = match sim::Simulation::new(&s, None).run() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench: the simulator row is left out: {e}");
            return None;
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    let virt = o.end_ms as f64 / 1000.0;
    let status = o.jobs[0]
        .result
        .as_ref()
        .map_or("no result".to_string(), |r| r.status.to_string());
    Some(Row::new(
        "simulator, 16 TMs × 4 slots, keyed sum p=64, checkpoints every 1 s: virtual ÷ wall time",
        "—".into(),
        format!(
            "{:.1}× real time ({virt:.1} s virtual in {wall:.2} s, {status})",
            virt / wall
        ),
    ))
}
// ANCHOR_END: bench_sim_hook

/// Kills the cluster's processes however the bench ends.
struct Kill(Vec<Child>);
impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A `GET` of the REST API as JSON; `None` while it does not answer.
fn get(rest: &str, path: &str) -> Option<serde_json::Value> {
    let token = mini_flink_tests::real_process::rest_token().ok()?;
    let body = ureq::get(&format!("http://{rest}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    serde_json::from_str(&body).ok()
}

/// Peak resident memory of a process, MiB (`VmHWM`).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// What one job on the real cluster measured.
struct JobRun {
    rate: f64,
    submit_ms: f64,
    status: String,
}

/// Submits a job, times it to all subtasks RUNNING, waits for its end.
async fn run_job(
    c: &mut ClusterClient,
    rest: &str,
    graph: runtime::graph::StreamGraph,
    records: u64,
) -> JobRun {
    let jg = JobGraph::from_stream_graph(&graph);
    let t0 = Instant::now();
    let id = c.submit(jg).await.expect("submit");
    let path = format!("/jobs/{id}");
    let mut submit_ms = f64::NAN;
    while t0.elapsed() < Duration::from_secs(30) {
        let running = get(rest, &path).and_then(|j| {
            let vs = j["vertices"].as_array()?.clone();
            Some(!vs.is_empty() && vs.iter().all(|v| v["status"] == "RUNNING"))
        });
        if running == Some(true) {
            submit_ms = t0.elapsed().as_secs_f64() * 1000.0;
            break;
        }
        if c.result(id).await.is_ok_and(|r| r.ended_at.is_some()) {
            break; // ended before we saw it RUNNING (a tiny job)
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let r = c.wait(id, 20).await.expect("result");
    let secs = (r.ended_at.unwrap_or(0) - r.running_at.unwrap_or(0)).max(1) as f64 / 1000.0;
    JobRun {
        rate: records as f64 / secs / 1e6,
        submit_ms,
        status: r.status.to_string(),
    }
}

/// The real-process rows: start, submit, both jobs, peak memory.
fn real(records: u64) -> Option<(Vec<Row>, f64, f64)> {
    let exe = std::env::current_exe().expect("own path");
    let bin = exe.parent().expect("dir").join("mini-flink");
    if !bin.exists() {
        eprintln!(
            "real processes: {} not found; build it first: cargo build --release -p runtime --bin mini-flink",
            bin.display()
        );
        return None;
    }
    let jm_addr = format!("127.0.0.1:{}", free_port());
    let rest = format!("127.0.0.1:{}", free_port());
    let t0 = Instant::now();
    let spawn = |args: &[&str]| {
        Command::new(&bin)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a mini-flink process")
    };
    let jm = spawn(&["jobmanager", "--bind", &jm_addr, "--rest-bind", &rest]);
    let tm_args = ["taskmanager", "--jobmanager", &jm_addr, "--slots", "2"];
    let cluster = vec![jm, spawn(&tm_args), spawn(&tm_args)];
    let tm_pids: Vec<u32> = cluster[1..].iter().map(Child::id).collect();
    let _guard = Kill(cluster);
    let registered = loop {
        let n = get(&rest, "/taskmanagers")
            .and_then(|j| j["taskmanagers"].as_array().map(Vec::len))
            .unwrap_or(0);
        if n >= 2 {
            break t0.elapsed().as_secs_f64() * 1000.0;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            eprintln!("real processes: the TaskManagers did not register within 20 s");
            return None;
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (keyed, stateless_run) = rt.block_on(async {
        let net: NetworkRef =
            mini_flink_tests::real_process::client_network().expect("the cluster's secret");
        let mut c = ClusterClient::connect_retrying(&net, &jm_addr, "bench", 50)
            .await
            .expect("connect");
        let keyed = run_job(&mut c, &rest, keyed_sum(records), records).await;
        let stateless_run = run_job(&mut c, &rest, stateless(records), records).await;
        (keyed, stateless_run)
    });
    let rss = tm_pids
        .iter()
        .filter_map(|&p| peak_rss_mib(p))
        .fold(0.0, f64::max);
    let mut rows = Vec::new();
    let mut r = Row::new(
        &format!(
            "keyed sum, {records} records, 1000 keys, p=2 ({})",
            keyed.status
        ),
        rate(flink::KEYED_SUM),
        rate(keyed.rate),
    );
    r.to_flink = ratio(keyed.rate, flink::KEYED_SUM);
    rows.push(r);
    let mut r = Row::new(
        &format!(
            "stateless source → map → filter → sink, {records} records, p=2 ({})",
            stateless_run.status
        ),
        rate(flink::STATELESS),
        rate(stateless_run.rate),
    );
    r.to_flink = ratio(stateless_run.rate, flink::STATELESS);
    rows.push(r);
    let mut r = Row::new(
        "cluster start until 2 TaskManagers registered (3 processes launched at once)",
        format!("{:.2} s", flink::START_MS / 1000.0),
        format!("{registered:.1} ms"),
    );
    r.to_flink = format!("{:.4}×", registered / flink::START_MS);
    rows.push(r);
    let mut r = Row::new(
        "submit until all subtasks RUNNING (first job; second job)",
        format!("{} ms (REST, warm)", flink::SUBMIT_MS),
        format!(
            "{:.1} ms; {:.1} ms",
            keyed.submit_ms, stateless_run.submit_ms
        ),
    );
    r.to_flink = format!("{:.4}×", stateless_run.submit_ms / flink::SUBMIT_MS);
    rows.push(r);
    let mut r = Row::new(
        "TaskManager peak RSS (VmHWM, the larger of the two)",
        format!("{} MiB", flink::RSS_MIB),
        format!("{rss:.1} MiB"),
    );
    r.to_flink = format!("{:.3}×", rss / flink::RSS_MIB);
    rows.push(r);
    Some((rows, keyed.rate, stateless_run.rate))
}

// ANCHOR: baseline
/// The hand-written keyed sum: 2 producer threads route `(key, 1)` records
/// by key group into per-consumer batches sent over bounded channels to 2
/// consumer threads, which sum per key. Returns M records/s.
fn baseline(records: u64) -> f64 {
    const BATCH: usize = 1024;
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..2)
        .map(|_| std::sync::mpsc::sync_channel::<Vec<(i64, i64)>>(4))
        .unzip();
    let t0 = Instant::now();
    let consumers: Vec<_> = rxs
        .into_iter()
        .map(|rx| {
            std::thread::spawn(move || {
                let mut sums: HashMap<i64, i64> = HashMap::new();
                for batch in rx {
                    for (k, n) in batch {
                        *sums.entry(k).or_insert(0) += n;
                    }
                }
                sums.len()
            })
        })
        .collect();
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let txs = txs.clone();
            std::thread::spawn(move || {
                let mut batches = vec![Vec::with_capacity(BATCH), Vec::with_capacity(BATCH)];
                for i in p * records / 2..(p + 1) * records / 2 {
                    let Value::Pair(Key::Int(k), n) = generator_record(i, 1000) else {
                        unreachable!("the generator makes (number, 1) pairs")
                    };
                    let to = operator_index_for_key_group(key_group(&Key::Int(k)), 2) as usize;
                    batches[to].push((k, n));
                    if batches[to].len() == BATCH {
                        let full = std::mem::replace(&mut batches[to], Vec::with_capacity(BATCH));
                        txs[to].send(full).expect("consumer alive");
                    }
                }
                for (to, b) in batches.into_iter().enumerate() {
                    txs[to].send(b).expect("consumer alive");
                }
            })
        })
        .collect();
    drop(txs);
    for p in producers {
        p.join().expect("producer");
    }
    let keys: usize = consumers
        .into_iter()
        .map(|c| c.join().expect("consumer"))
        .sum();
    assert_eq!(keys, 1000, "every key summed");
    records as f64 / t0.elapsed().as_secs_f64() / 1e6
}
// ANCHOR_END: baseline

fn main() {
    let mut args = std::env::args().skip(1);
    let mut records = 100_000_000u64;
    let mut sim_records = 2_000_000u64;
    let number = |a: Option<String>, flag: &str| -> u64 {
        a.and_then(|n| n.parse().ok()).unwrap_or_else(|| {
            eprintln!("{flag} needs a number");
            std::process::exit(2)
        })
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => records = number(args.next(), "--records"),
            "--sim-records" => sim_records = number(args.next(), "--sim-records"),
            "--help" | "-h" => {
                println!(
                    "bench [--records N] [--sim-records N]: the data plane's speed beside Flink 2.3's"
                );
                return;
            }
            other => {
                eprintln!("unknown argument `{other}`; try --help");
                std::process::exit(2)
            }
        }
    }
    let base = baseline(records);
    let mut rows = Vec::new();
    if let Some((real_rows, keyed, stateless)) = real(records) {
        rows.extend(real_rows);
        rows[0].to_baseline = format!("{:.0}%", keyed / base * 100.0);
        rows[1].to_baseline = format!("{:.0}%", stateless / base * 100.0);
    }
    let mut r = Row::new(
        &format!("hand-written baseline, keyed sum, {records} records, 2 → 2 threads"),
        "—".into(),
        rate(base),
    );
    r.to_baseline = "100%".into();
    rows.push(r);
    rows.push(simulator(sim_records));
    rows.extend(simulator_16_tms());
    println!("| measure | Apache Flink 2.3 | mini-flink | ratio to Flink | of the baseline |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.measure, r.flink, r.ours, r.to_flink, r.to_baseline
        );
    }
}
