//! `bench`: throughput of a keyed sum, in the simulator and over real TCP.
//!
//! ```sh
//! cargo build --release -p runtime --bin mini-flink
//! cargo run --release -p mini-flink-tests --bin bench -- [--records 10000000]
//! ```
//!
//! 1. Simulator: the job runs on a simulated cluster (1 JobManager, 1
//!    TaskManager with 2 slots); reported are the virtual time the job took,
//!    the wall time the simulation took, their ratio, and records per wall
//!    second.
//! 2. Real TCP: one `mini-flink jobmanager` and one `mini-flink taskmanager`
//!    process on 127.0.0.1 (2 slots, as in the Flink reference run); the
//!    figure is records divided by the time from RUNNING to FINISHED, as the
//!    reference measured Flink.
//!
//! The job is Flink's reference "DataStream keyed sum": a generator of
//! `(key, 1)` over 1000 keys, `keyBy(f0).sum(1)`, a discarding sink, at
//! parallelism 2.

use runtime::client::ClusterClient;
use runtime::graph::JobGraph;
use runtime::net::NetworkRef;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn job(records: u64) -> runtime::graph::StreamGraph {
    let text = format!(
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
    );
    runtime::jobfile::parse_job(&runtime::jobfile::Source {
        file: "bench.toml",
        text: &text,
        base_dir: std::path::Path::new("."),
    })
    .expect("the bench job compiles")
}

fn simulator(records: u64) {
    let scenario_text = "name = \"bench\"\nseed = 1\nduration_ms = 36000000\n[cluster]\ntaskmanagers = 1\nslots = 2\nbuffer_records = 256\nbuffers_per_channel = 4\n";
    let src = runtime::jobfile::Source {
        file: "bench-scenario.toml",
        text: scenario_text,
        base_dir: std::path::Path::new("."),
    };
    let mut s =
        sim::scenario::parse(&src, std::path::Path::new("bench-scenario.toml")).expect("scenario");
    s.jobs.push(sim::scenario::ScenarioJob {
        graph: job(records),
        at_ms: 0,
        resume: None,
        application: None,
        after: None,
    });
    let t0 = Instant::now();
    let o = sim::Simulation::new(&s, None).run().expect("simulation");
    let wall = t0.elapsed().as_secs_f64();
    let r = o.jobs[0].result.as_ref().expect("result");
    let virt = (r.ended_at.unwrap_or(0) - r.running_at.unwrap_or(0)) as f64 / 1000.0;
    println!(
        "simulator: {records} records, {} virtual, {:.2} s wall, virtual/wall = {:.2}, {:.2} M records per wall second ({})",
        format_args!("{virt:.3} s"),
        wall,
        virt / wall,
        records as f64 / wall / 1e6,
        r.status
    );
}

struct Kill(Vec<Child>);
impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn real(records: u64) {
    let exe = std::env::current_exe().expect("own path");
    let bin = exe.parent().expect("dir").join("mini-flink");
    if !bin.exists() {
        eprintln!(
            "real TCP: {} not found; build it first: cargo build --release -p runtime --bin mini-flink",
            bin.display()
        );
        return;
    }
    let mut jm = Command::new(&bin)
        .args(["jobmanager", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start jobmanager");
    let mut line = String::new();
    BufReader::new(jm.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("jobmanager prints its address");
    let addr = line
        .split_whitespace()
        .last()
        .expect("an address")
        .to_string();
    let tm = Command::new(&bin)
        .args(["taskmanager", "--jobmanager", &addr, "--slots", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start taskmanager");
    let _guard = Kill(vec![jm, tm]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let net: NetworkRef =
            mini_flink_tests::real_process::client_network().expect("the cluster's secret");
        let mut c = ClusterClient::connect_retrying(&net, &addr, "bench", 50)
            .await
            .expect("connect");
        // Let the TaskManager register first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let id = c
            .submit(JobGraph::from_stream_graph(&job(records)))
            .await
            .expect("submit");
        let r = c.wait(id, 50).await.expect("result");
        let secs = (r.ended_at.unwrap_or(0) - r.running_at.unwrap_or(0)) as f64 / 1000.0;
        println!(
            "real TCP (2 processes): {records} records in {secs:.3} s from RUNNING to FINISHED: {:.2} M records/s ({})",
            records as f64 / secs / 1e6,
            r.status
        );
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut records = 10_000_000u64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => {
                records = args.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| {
                    eprintln!("--records needs a number");
                    std::process::exit(2)
                })
            }
            "--help" | "-h" => {
                println!(
                    "bench [--records N]: keyed sum throughput in the simulator and over real TCP"
                );
                return;
            }
            other => {
                eprintln!("unknown argument `{other}`; try --help");
                std::process::exit(2)
            }
        }
    }
    simulator(records);
    real(records);
}
