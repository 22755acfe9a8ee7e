//! Real-TCP smoke test: a whole session cluster as separate processes.
//!
//! What the simulator checks on virtual hosts, this checks once for real:
//! one `mini-flink jobmanager` process (on a free port), two
//! `mini-flink taskmanager` processes with two slots each, and
//! `mini-flink run` submitting a streaming word count whose keyed exchange
//! crosses the two TaskManagers over TCP. The result the client prints must
//! equal the word count computed right here from the same input lines.
//!
//! Every process is killed when the test ends, also when it fails (the
//! [`Cluster`] guard kills its children on drop), and every wait has a
//! deadline, so the test cannot hang. The processes' output goes to files
//! in a temporary folder and is shown when something goes wrong (see
//! `real_tcp_support`, shared with `real_tcp_failover.rs`).

mod real_tcp_support;

use real_tcp_support::{Cluster, printed_counts, workspace};
use runtime::graph::StreamGraph;
use runtime::jobfile::load_job_file;
use runtime::operators::{FlatMapFn, KindClass, MapFn, OperatorKind};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Whether a job is the word count this test can check: lines from a
/// `words` source, split by `tokenize`, counted by a keyed rolling sum or
/// count straight into `collect`, needing two to four slots (so that it can
/// spread over two TaskManagers of two slots each).
fn is_checkable_wordcount(g: &StreamGraph) -> bool {
    let jg = runtime::graph::JobGraph::from_stream_graph(g);
    let kinds: Vec<&OperatorKind> = g.nodes().map(|n| &n.kind).collect();
    let count = |f: &dyn Fn(&OperatorKind) -> bool| kinds.iter().filter(|k| f(k)).count();
    let sources = count(&|k| k.class() == KindClass::Source);
    let words = count(&|k| matches!(k, OperatorKind::Words { .. }));
    let tokenize = count(&|k| matches!(k, OperatorKind::FlatMap(FlatMapFn::Tokenize)));
    let flat_maps = count(&|k| matches!(k, OperatorKind::FlatMap(_)));
    let filters = count(&|k| matches!(k, OperatorKind::Filter(_)));
    let other_maps = count(
        &|k| matches!(k, OperatorKind::Map(m) if !matches!(m, MapFn::ToPair | MapFn::Identity)),
    );
    let keyed = count(&|k| k.class() == KindClass::Keyed);
    let rolling = count(&|k| matches!(k, OperatorKind::Sum | OperatorKind::Count));
    let collects: Vec<usize> = (0..g.node_count())
        .filter(|&i| matches!(g.node(i).kind, OperatorKind::Collect { .. }))
        .collect();
    let collect_fed_by_rolling = collects.len() == 1
        && g.edges().filter(|e| e.target == collects[0]).all(|e| {
            matches!(
                g.node(e.source).kind,
                OperatorKind::Sum | OperatorKind::Count
            )
        });
    sources == 1
        && words == 1
        && tokenize == 1
        && flat_maps == 1
        && filters == 0
        && other_maps == 0
        && keyed == 1
        && rolling == 1
        && collect_fed_by_rolling
        && (2..=4).contains(&jg.slots_needed())
}

/// The lines of the job's `words` source.
fn source_lines(g: &StreamGraph) -> Vec<String> {
    g.nodes()
        .find_map(|n| match &n.kind {
            OperatorKind::Words { lines } => Some(lines.clone()),
            _ => None,
        })
        .expect("the job has a words source")
}

/// The word count, computed here without the runtime: words are runs of
/// letters and digits, lower-cased (the `tokenize` function's definition).
fn expected_counts(lines: &[String]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for line in lines {
        for word in line
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *counts.entry(word.to_lowercase()).or_insert(0) += 1;
        }
    }
    counts
}

/// The jobs to run: this test's own word count (four slots, so every slot
/// of the cluster), then the scenario's `wordcount.toml` when it exists and
/// has the shape checked here (it runs on the slots the first job freed).
fn jobs() -> Vec<(PathBuf, StreamGraph)> {
    let own = workspace().join("tests/data/real_tcp_wordcount.toml");
    let g = load_job_file(&own).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        is_checkable_wordcount(&g),
        "{} is not a checkable word count",
        own.display()
    );
    let mut jobs = vec![(own, g)];
    let shared = workspace().join("scenarios/jobs/wordcount.toml");
    match load_job_file(&shared) {
        Ok(g) if is_checkable_wordcount(&g) => jobs.push((shared, g)),
        Ok(_) => eprintln!(
            "skipping {}: not a plain tokenize-and-sum word count on 2 to 4 slots",
            shared.display()
        ),
        Err(e) => eprintln!("skipping {}:\n{e}", shared.display()),
    }
    jobs
}

/// Word counts over a JobManager and two TaskManagers, all real processes
/// on localhost, give exactly the counts computed directly.
#[test]
fn wordcount_on_a_real_cluster() {
    let jobs = jobs();
    let mut cluster = Cluster::new("real-tcp");
    // --spread places the job's slots on both TaskManagers (Flink's
    // `cluster.evenly-spread-out-slots`), so the keyed exchange runs
    // between the two processes over TCP.
    cluster.spawn(
        "jobmanager",
        &[
            "jobmanager",
            "--bind",
            "127.0.0.1:0",
            "--heartbeat-interval-ms",
            "500",
            "--spread",
            "--events",
        ],
    );
    let addr = cluster.wait_for_line(
        "jobmanager",
        "JobManager listening on ",
        Duration::from_secs(15),
    );
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "the JobManager should print its real port, printed {addr:?}"
    );
    // ANCHOR: advertise
    // tm-2 listens for records on every interface, as a TaskManager on
    // its own machine would, and tells the others the one address to use
    // (Flink's `taskmanager.host`).
    for (name, data) in [
        ("tm-1", vec![]),
        (
            "tm-2",
            vec!["--data-bind", "0.0.0.0:0", "--data-advertise", "127.0.0.1"],
        ),
    ] {
        let mut args = vec![
            "taskmanager",
            "--jobmanager",
            &addr,
            "--slots",
            "2",
            "--id",
            name,
            "--events",
        ];
        args.extend(data);
        cluster.spawn(name, &args);
        cluster.wait_for_line(
            name,
            &format!("TaskManager {name} (2 slots) connecting to "),
            Duration::from_secs(15),
        );
    }
    // Submit only once both have registered, or the first one alone could
    // take every slot.
    cluster.wait_for_event(
        "jobmanager",
        "TaskManagerRegistered",
        2,
        Duration::from_secs(15),
    );
    // tm-2's data port is known by its advertised address.
    let tm2 = cluster
        .events("jobmanager")
        .into_iter()
        .find(|e| e["event"] == "TaskManagerRegistered" && e["resource_id"] == "tm-2")
        .expect("tm-2 registered");
    let data_addr = tm2["data_addr"].as_str().unwrap_or_default().to_string();
    assert!(
        data_addr.starts_with("127.0.0.1:") && !data_addr.ends_with(":0"),
        "tm-2 should advertise 127.0.0.1 with its bound port, registered {data_addr:?}"
    );
    // ANCHOR_END: advertise

    for (k, (job, graph)) in jobs.iter().enumerate() {
        let expected = expected_counts(&source_lines(graph));
        let total_words: i64 = expected.values().sum();
        assert!(
            !expected.is_empty(),
            "{}: the input has no words",
            job.display()
        );
        let job_arg = job.to_string_lossy().into_owned();
        let name = format!("run-{k}");
        let (status, stdout) = cluster.run(
            &name,
            &["run", &job_arg, "--jobmanager", &addr],
            Duration::from_secs(60),
        );
        assert!(
            status.success(),
            "`mini-flink run {job_arg}` failed ({status})\n{}",
            cluster.logs()
        );
        assert!(
            stdout.contains("Job has been submitted with JobID "),
            "{stdout}"
        );
        assert!(stdout.contains(") FINISHED"), "{stdout}");
        let printed = printed_counts(&stdout);
        assert_eq!(
            printed,
            expected,
            "{job_arg}: word counts differ\n{}",
            cluster.logs()
        );
        // Every word is one update of the rolling sum: none lost, none doubled.
        assert!(
            stdout.contains(&format!("({total_words} updates received)")),
            "{job_arg}: expected {total_words} updates\n{stdout}"
        );
    }

    // Both TaskManagers ran tasks (each offered slots), and records crossed
    // the network between them: a channel reported as remote in the
    // TaskManagers' traffic events (sent at the latest with the next
    // metrics report, a second after the tasks end).
    for name in ["tm-1", "tm-2"] {
        cluster.wait_for_event(name, "SlotOffered", 1, Duration::from_secs(5));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !["tm-1", "tm-2"].iter().any(|name| {
        cluster
            .read(&cluster.err_path(name))
            .lines()
            .any(|l| l.contains("\"event\":\"ChannelTraffic\"") && l.contains("\"remote\":true"))
    }) {
        assert!(
            Instant::now() < deadline,
            "no channel between the TaskManagers reported traffic\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // `list` shows every job FINISHED; `cancel` refuses a malformed id clearly.
    let (status, listing) = cluster.run(
        "list",
        &["list", "--jobmanager", &addr],
        Duration::from_secs(20),
    );
    assert!(
        status.success(),
        "`mini-flink list` failed\n{}",
        cluster.logs()
    );
    for (_, graph) in &jobs {
        assert!(
            listing
                .lines()
                .any(|l| l.contains(&graph.job_name) && l.ends_with("FINISHED")),
            "{listing}"
        );
    }
    let (status, _) = cluster.run(
        "cancel",
        &["cancel", "not-a-job-id", "--jobmanager", &addr],
        Duration::from_secs(20),
    );
    assert!(!status.success(), "cancelling a malformed id must fail");
    let err = cluster.read(&cluster.err_path("cancel"));
    assert!(err.contains("is not a job id"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
