//! Flink's three execution modes, checked on what defines them: where a
//! program's `main` runs, who owns the TaskManagers, what one crash takes
//! down, what start-up costs, and what is left running afterwards.
//!
//! `sim compare scenarios/compare-modes.toml` is snapshot-tested (table and
//! JSON), and its numbers are checked for the properties of each mode; the
//! job.toml and application.toml scenarios are checked on their events.

use runtime::events::{Event, EventKind};
use runtime::state::JobStatus;
use sim::compare::{Comparison, ModeReport};
use std::collections::BTreeSet;
use std::path::Path;

fn scenario(name: &str) -> sim::Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/{name}.toml"));
    sim::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &sim::Scenario) -> sim::Outcome {
    let o = sim::Simulation::new(s, None)
        .run()
        .expect("simulation runs");
    assert!(
        o.failed_expectations.is_empty(),
        "{:?}",
        o.failed_expectations
    );
    o
}

fn mode<'a>(c: &'a Comparison, name: &str) -> &'a ModeReport {
    c.modes
        .iter()
        .find(|m| m.mode == name)
        .expect("mode compared")
}

fn hosts_of(events: &[Event], f: impl Fn(&EventKind) -> bool) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| f(&e.kind))
        .map(|e| e.host.clone())
        .collect()
}

/// The comparison of compare-modes.toml: its table and JSON are
/// snapshot-tested, and its numbers show what tells the modes apart.
#[test]
fn compare_modes_shows_what_sets_the_modes_apart() {
    let s = scenario("compare-modes");
    let c = sim::compare::compare(&s, None).expect("all three runs");
    insta::assert_snapshot!("compare_modes_table", sim::compare::table(&c));
    insta::assert_snapshot!(
        "compare_modes_json",
        serde_json::to_string_pretty(&c).expect("serialises")
    );
    assert_eq!(
        c.modes.iter().map(|m| m.mode.as_str()).collect::<Vec<_>>(),
        ["session", "job", "application"]
    );
    for m in &c.modes {
        assert!(
            m.all_finished,
            "{}: every job finishes despite the crash",
            m.mode
        );
        let k = m
            .crashes
            .first()
            .unwrap_or_else(|| panic!("{}: a TaskManager crashed", m.mode));
        // The blast radius, seen from its consequences: exactly the jobs
        // with slots on the crashed TaskManager restarted.
        for j in &m.jobs {
            assert_eq!(
                j.restarts > 0,
                k.jobs_hit.contains(&j.name),
                "{}: {} restarted {} times, hit: {:?}",
                m.mode,
                j.name,
                j.restarts,
                k.jobs_hit
            );
        }
    }
    let startup = s.cluster.jobmanager_startup_ms + s.cluster.taskmanager_startup_ms;

    // Session: one cluster, one set of TaskManagers for all jobs, up before
    // they come; fast starts; a crash hits several jobs of several programs;
    // the cluster outlives the jobs.
    let session = mode(&c, "session");
    assert_eq!(session.main_ran_on, "client");
    assert_eq!(session.main_hosts, ["client"]);
    assert_eq!(session.jobmanagers, ["jobmanager"]);
    assert_eq!(session.taskmanagers.len(), s.cluster.taskmanagers as usize);
    assert!(session.jobs.iter().all(|j| j.cluster == "session"));
    assert!(
        session.to_running_max_ms < 1_000,
        "{} ms",
        session.to_running_max_ms
    );
    let hit = &session.crashes[0];
    assert!(
        hit.jobs_hit.len() >= 2,
        "a session TaskManager crash hits several jobs: {hit:?}"
    );
    assert!(hit.programs_hit.len() >= 2, "of several programs: {hit:?}");
    assert!(
        session.held_after.iter().any(|h| h == "jobmanager"),
        "the session cluster keeps running: {:?}",
        session.held_after
    );

    // Job: a cluster per job (JobManager and TaskManagers), paid for at
    // every submission; a crash hits one job; nothing left afterwards.
    let job = mode(&c, "job");
    assert_eq!(job.main_ran_on, "client");
    assert_eq!(job.jobmanagers.len(), c.jobs);
    let clusters: BTreeSet<&str> = job.jobs.iter().map(|j| j.cluster.as_str()).collect();
    assert_eq!(clusters.len(), c.jobs, "one cluster per job");
    for j in &job.jobs {
        let tms: Vec<&String> = job
            .taskmanagers
            .iter()
            .filter(|t| t.starts_with(&format!("{}-", j.cluster)))
            .collect();
        assert!(
            !tms.is_empty(),
            "{}'s cluster started its own TaskManagers",
            j.name
        );
        assert!(
            j.to_running_ms.unwrap() >= startup,
            "{}: a job cluster starts its processes first",
            j.name
        );
    }
    assert_eq!(job.crashes[0].jobs_hit.len(), 1);
    assert!(
        job.held_after.is_empty(),
        "nothing left running: {:?}",
        job.held_after
    );

    // Application: main() on the JobManager of a cluster per program; a
    // crash stays within one program; nothing left afterwards.
    let app = mode(&c, "application");
    assert_eq!(app.main_ran_on, "JobManager");
    assert_eq!(app.main_hosts.len(), c.programs.len());
    assert!(
        app.main_hosts
            .iter()
            .all(|h| h.starts_with("app") && h.ends_with("-jobmanager"))
    );
    assert_eq!(
        app.jobmanagers, app.main_hosts,
        "main() ran on each cluster's JobManager"
    );
    assert_eq!(app.crashes[0].programs_hit.len(), 1);
    assert!(
        app.held_after.is_empty(),
        "nothing left running: {:?}",
        app.held_after
    );
    // A later job of a sequential application reuses its cluster.
    assert!(app.jobs.iter().any(|j| j.to_running_ms.unwrap() < 1_000));

    // The teacher's point: a session cluster starts jobs fastest and
    // isolates them least; an application cluster isolates programs (not
    // the jobs within one); a job cluster isolates every job.
    let radius = |m: &ModeReport| (m.crashes[0].jobs_hit.len(), m.crashes[0].programs_hit.len());
    assert!(radius(session) > radius(app) && radius(app) > radius(job));
    for other in [job, app] {
        assert!(session.to_running_mean_ms * 10 < other.to_running_mean_ms);
        assert!(session.crashes[0].programs_hit.len() > other.crashes[0].programs_hit.len());
    }
    assert!(job.to_running_mean_ms > app.to_running_mean_ms);
}

/// job.toml: each job gets a cluster of its own after submission, the
/// crash of one job's TaskManager touches no other job, and every cluster
/// is torn down when its job ended.
#[test]
fn job_clusters_are_per_job_and_torn_down() {
    let s = scenario("job");
    assert_eq!(s.mode, sim::scenario::Mode::Job);
    let o = run(&s);
    let e = &o.events;
    assert!(
        !e.iter()
            .any(|ev| ev.t < s.jobs.iter().map(|j| j.at_ms).min().unwrap()
                && matches!(
                    ev.kind,
                    EventKind::HostStarted { .. } | EventKind::HostLaunching { .. }
                )),
        "nothing runs before the first submission"
    );
    let submitted_on = hosts_of(e, |k| matches!(k, EventKind::JobSubmitted { .. }));
    assert_eq!(
        submitted_on,
        ["job1-jobmanager", "job2-jobmanager"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    // JobManager start-up is paid after the client asked for the cluster.
    for (n, j) in s.jobs.iter().enumerate() {
        let jm = format!("job{}-jobmanager", n + 1);
        let started = e
            .iter()
            .find(|ev| ev.host == jm && matches!(ev.kind, EventKind::HostStarted { .. }))
            .expect("the job's JobManager starts");
        assert!(started.t >= j.at_ms + s.cluster.jobmanager_startup_ms);
    }
    let torn: Vec<&str> = e
        .iter()
        .filter_map(|ev| match &ev.kind {
            EventKind::ClusterTornDown { cluster, .. } => Some(cluster.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        torn,
        ["job2", "job1"],
        "each cluster goes when its job ends"
    );
    assert!(o.running_hosts.is_empty(), "{:?}", o.running_hosts);
    let by_name = |n: &str| {
        o.jobs
            .iter()
            .find(|j| j.name == n)
            .and_then(|j| j.result.clone())
            .unwrap()
    };
    assert_eq!(by_name("keyed-sum").restarts, 1, "the crash hit keyed-sum");
    assert_eq!(by_name("wordcount").restarts, 0, "and nothing else");
    assert!(
        e.iter().any(|ev| matches!(&ev.kind, EventKind::WorkerRequested { resource_id, .. } if resource_id == "job1-taskmanager-2")),
        "keyed-sum's own ResourceManager replaces the lost TaskManager"
    );
}

/// application.toml: main() runs on each application's JobManager, the
/// client submits nothing, jobs follow main()'s order, and the cluster
/// goes when main() returned.
#[test]
fn application_main_runs_on_the_jobmanager() {
    let s = scenario("application");
    let o = run(&s);
    let e = &o.events;
    let mains = hosts_of(e, |k| matches!(k, EventKind::ApplicationStarted { .. }));
    assert_eq!(
        mains,
        ["app1-jobmanager", "app2-jobmanager"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    assert!(
        !e.iter().any(|ev| ev.host == "client"
            && matches!(
                ev.kind,
                EventKind::JobSubmitted { .. } | EventKind::ApplicationStarted { .. }
            )),
        "the client only deploys and watches"
    );
    let submitted = |name: &str| {
        e.iter()
            .find(|ev| matches!(&ev.kind, EventKind::JobSubmitted { name: n, .. } if n == name))
            .unwrap_or_else(|| panic!("{name} submitted"))
    };
    let result = |name: &str| {
        o.jobs
            .iter()
            .find(|j| j.name == name)
            .and_then(|j| j.result.clone())
            .unwrap_or_else(|| panic!("{name} has a result"))
    };
    // Sequential: union after wordcount ended, on the same cluster and
    // TaskManager, fast; parallel: both dashboards jobs at once.
    assert!(submitted("union").t >= result("wordcount").ended_at.unwrap());
    assert_eq!(submitted("union").host, "app1-jobmanager");
    let union = result("union");
    assert!(union.running_at.unwrap() - union.submitted_at < 100);
    assert_eq!(submitted("page-views").t, submitted("revenue").t);
    for r in o.jobs.iter().filter_map(|j| j.result.as_ref()) {
        assert_eq!(r.status, JobStatus::Finished);
    }
    // main() returns first, then the cluster goes.
    for (app, cluster) in [("nightly", "app1"), ("dashboards", "app2")] {
        let returned = e
            .iter()
            .find(
                |ev| matches!(&ev.kind, EventKind::ApplicationFinished { name, .. } if name == app),
            )
            .expect("main returns");
        let torn = e
            .iter()
            .find(|ev| matches!(&ev.kind, EventKind::ClusterTornDown { cluster: c, .. } if c == cluster))
            .expect("the cluster is torn down");
        assert!(returned.t <= torn.t);
        if let EventKind::ApplicationFinished {
            finished,
            jobs,
            cause,
            ..
        } = &returned.kind
        {
            assert_eq!((finished, jobs, cause), (&2, &2, &None));
        }
    }
    assert!(o.running_hosts.is_empty(), "{:?}", o.running_hosts);
}

/// The same applications in a session cluster: main() runs on the client,
/// and a sequential main() stops at a job that did not finish.
#[test]
fn in_a_session_main_runs_on_the_client() {
    let mut s = scenario("application");
    s.mode = sim::scenario::Mode::Session;
    s.cluster.taskmanagers = 2;
    let o = run(&s);
    let mains = hosts_of(&o.events, |k| {
        matches!(k, EventKind::ApplicationStarted { .. })
    });
    assert_eq!(mains, ["client".to_string()].into_iter().collect());
    assert!(
        o.events
            .iter()
            .filter(|ev| matches!(ev.kind, EventKind::JobSubmitted { .. }))
            .all(|ev| ev.host == "jobmanager")
    );
    assert!(
        o.running_hosts.contains(&"jobmanager".to_string()),
        "the session cluster stays"
    );

    // Cancel wordcount: main() of "nightly" stops there, union never comes.
    let mut s = scenario("application");
    s.mode = sim::scenario::Mode::Session;
    s.cluster.taskmanagers = 2;
    s.cluster.jobmanager_startup_ms = 0;
    s.cluster.taskmanager_startup_ms = 0;
    s.jobs[0].graph = sim::scenario::parse(
        &runtime::jobfile::Source {
            file: "slow.toml",
            text: SLOW,
            base_dir: Path::new("."),
        },
        Path::new("slow.toml"),
    )
    .expect("parses")
    .jobs[0]
        .graph
        .clone();
    s.expect.clear();
    s.faults.push(sim::scenario::Fault::at(
        2_000,
        sim::scenario::FaultAction::CancelJob("slow".into()),
    ));
    let o = sim::Simulation::new(&s, None).run().expect("runs");
    assert!(
        o.jobs[1].result.is_none(),
        "union is never submitted after the first job was canceled"
    );
    let finished = o
        .events
        .iter()
        .find_map(|ev| match &ev.kind {
            EventKind::ApplicationFinished {
                name,
                finished,
                cause,
                ..
            } if name == "nightly" => Some((*finished, cause.clone())),
            _ => None,
        })
        .expect("main() of nightly returns");
    assert_eq!(finished.0, 0);
    assert!(
        finished.1.unwrap().contains("CANCELED"),
        "main() stops at the canceled job"
    );
}

const SLOW: &str = r#"
name = "x"
[cluster]
taskmanagers = 1
slots = 2
[[jobs]]
[jobs.job]
name = "slow"
parallelism = 1
[[jobs.job.operators]]
id = "src"
kind = "generator"
args = { keys = 2, count = 100000, rate = 1000 }
[[jobs.job.operators]]
id = "sink"
kind = "discard"
input = "src"
"#;

/// The crash rule picks the TaskManager holding slots of the most jobs.
#[test]
fn busiest_taskmanager_is_the_one_with_most_jobs() {
    let mut held = std::collections::BTreeMap::new();
    held.insert(
        runtime::ids::ResourceId::from("taskmanager-1"),
        [(runtime::graph::JobId::from_parts(&["a"]), 2)]
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    held.insert(
        runtime::ids::ResourceId::from("taskmanager-2"),
        [
            (runtime::graph::JobId::from_parts(&["b"]), 1),
            (runtime::graph::JobId::from_parts(&["c"]), 1),
        ]
        .into_iter()
        .collect(),
    );
    held.insert(
        runtime::ids::ResourceId::from("taskmanager-3"),
        [
            (runtime::graph::JobId::from_parts(&["d"]), 1),
            (runtime::graph::JobId::from_parts(&["e"]), 1),
        ]
        .into_iter()
        .collect(),
    );
    let none = BTreeSet::new();
    assert_eq!(
        sim::summary::busiest(&held, &none).as_deref(),
        Some("taskmanager-2")
    );
    let crashed: BTreeSet<String> = ["taskmanager-2".to_string()].into_iter().collect();
    assert_eq!(
        sim::summary::busiest(&held, &crashed).as_deref(),
        Some("taskmanager-3")
    );
}

/// Mistakes in the new scenario fields are named with their place.
#[test]
fn bad_mode_and_application_entries_are_reported() {
    let parse = |text: &str| {
        sim::scenario::parse(
            &runtime::jobfile::Source {
                file: "bad.toml",
                text,
                base_dir: Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../scenarios")
                    .as_path(),
            },
            Path::new("bad.toml"),
        )
    };
    let e = parse("name = \"x\"\nmode = \"per-job\"\n[cluster]\ntaskmanagers = 1\nslots = 1\n")
        .unwrap_err();
    assert!(e.message.contains("unknown mode `per-job`"), "{e}");
    assert_eq!(e.line, 2);
    let e = parse(
        "name = \"x\"\nmode = \"job\"\n[cluster]\ntaskmanagers = 1\nslots = 1\njobmanagers = 2\n",
    )
    .unwrap_err();
    assert!(
        e.message.contains("only simulated for a session cluster"),
        "{e}"
    );
    let e = parse(
        "name = \"x\"\n[cluster]\ntaskmanagers = 1\nslots = 1\n[[applications]]\nat_ms = 5\n",
    )
    .unwrap_err();
    assert!(e.message.contains("needs `file`"), "{e}");
    let e = parse(
        "name = \"x\"\n[cluster]\ntaskmanagers = 1\nslots = 1\n[[applications]]\nfile = \"apps/nope.toml\"\n",
    )
    .unwrap_err();
    assert!(e.message.contains("not found"), "{e}");
    let ok = parse(
        "name = \"x\"\nmode = \"application\"\n[cluster]\ntaskmanagers = 0\nslots = 2\n[[applications]]\nfile = \"apps/nightly.toml\"\n[[faults]]\nat_ms = 1\naction = \"crash\"\nhost = \"app1-taskmanager-2\"\n[[faults]]\nat_ms = 2\naction = \"crash\"\nhost = \"busiest-taskmanager\"\n",
    )
    .expect("an application file, and faults on its cluster's hosts");
    assert_eq!(ok.applications[0].name, "nightly");
    assert_eq!(ok.jobs.len(), 2);
    assert_eq!(
        ok.jobs[1].after,
        Some(0),
        "sequential: union waits for wordcount"
    );
    let e = parse(
        "name = \"x\"\nmode = \"job\"\n[cluster]\ntaskmanagers = 0\nslots = 2\n[[faults]]\nat_ms = 1\naction = \"crash\"\nhost = \"taskmanager-1\"\n",
    )
    .unwrap_err();
    assert!(e.message.contains("no host `taskmanager-1`"), "{e}");
}
