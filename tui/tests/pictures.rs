//! The slots and cluster pictures of live scenario runs, pinned as DOT
//! with insta: the session cluster at the moment both of its jobs run
//! (slot sharing on two TaskManagers, one TaskManager free), and the
//! tm-crash scenario after its TaskManager was declared lost. Plus the
//! headless command line (`--dot VIEW --at MS`), its errors, and (where
//! Graphviz is installed) SVG rendering of both pictures.

use std::path::PathBuf;
use std::process::{Command, Output};

use tui::App;
use viz::ClusterDiagram;

fn scenario(name: &str) -> sim::Scenario {
    let path = scenario_path(name);
    sim::load(&path).expect("scenario loads")
}

fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

/// The picture of `name` at `at_ms` of a live run with the scenario's seed.
fn picture(name: &str, at_ms: u64) -> viz::Cluster {
    let s = scenario(name);
    let mut app = App::live(&s, None);
    tui::pictures::picture_at(&mut app, &s, at_ms).expect("the run reaches the time")
}

/// At 1.528 s "keyed-sum" runs two subtasks in each slot of taskmanager-1
/// and "wordcount", just deployed, shares the slots of taskmanager-2
/// (three subtasks in slot 0: one of each of its chains); taskmanager-3 is
/// free. Both JobMasters run.
const BOTH_JOBS_MS: u64 = 1_528;

/// The session cluster while both jobs run, in both diagrams.
#[test]
fn session_while_both_jobs_run() {
    let c = picture("session.toml", BOTH_JOBS_MS);
    assert_eq!(c.jobs.len(), 2);
    assert!(c.jobs.iter().all(|j| j.status == "RUNNING"), "{:?}", c.jobs);
    let shared = &c.taskmanagers[1].slots[0];
    assert_eq!(shared.subtasks.len(), 3, "{shared:?}");
    for d in ClusterDiagram::ALL {
        insta::assert_snapshot!(
            format!("session_{d}_at_{BOTH_JOBS_MS}"),
            viz::cluster_dot(&c, d)
        );
    }
    let slots = viz::cluster_dot(&c, ClusterDiagram::Slots);
    assert!(
        slots.contains(r#"label="Split -> Pair (2/2)\nDEPLOYING""#),
        "{slots}"
    );
    assert!(
        slots.contains(r#"label="Source: Numbers (1/2)\nRUNNING""#),
        "{slots}"
    );
    let cluster = viz::cluster_dot(&c, ClusterDiagram::Cluster);
    assert_eq!(
        cluster.matches("[label=\"JobMaster\\n").count(),
        2,
        "{cluster}"
    );
}

/// tm-crash after the ResourceManager declared taskmanager-1 lost (crash
/// at 2 s + 5 s heartbeat timeout): the job FAILED, so no JobMaster runs,
/// taskmanager-1 is drawn lost and has no connection, taskmanager-2 is
/// still registered with its free slots.
#[test]
fn tm_crash_after_the_taskmanager_is_lost() {
    let c = picture("tm-crash.toml", 8_000);
    assert_eq!(c.taskmanagers[0].status, "LOST");
    assert!(!c.taskmanagers[0].alive && !c.taskmanagers[0].registered);
    assert_eq!(c.jobs[0].status, "FAILED");
    for d in ClusterDiagram::ALL {
        insta::assert_snapshot!(format!("tm_crash_{d}_at_8000"), viz::cluster_dot(&c, d));
    }
    let cluster = viz::cluster_dot(&c, ClusterDiagram::Cluster);
    assert!(!cluster.contains("JobMaster"), "{cluster}");
    assert!(
        cluster.contains("jm0_rm -> tm0 [style=invis];"),
        "{cluster}"
    );
}

/// Runs the `tui` binary on the scenario `name` with `args`.
fn run_tui(name: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tui"))
        .arg(scenario_path(name))
        .args(args)
        .output()
        .expect("tui runs")
}

/// Runs the `tui` binary and expects it to succeed.
fn run_tui_ok(name: &str, args: &[&str]) -> Output {
    let out = run_tui(name, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    out
}

/// The headless command prints the same DOT as the library, and refuses
/// bad values with a clear error.
#[test]
fn command_line_prints_the_picture() {
    let at = BOTH_JOBS_MS.to_string();
    let out = run_tui_ok("session.toml", &["--dot", "slots", "--at", &at]);
    let expected = viz::cluster_dot(
        &picture("session.toml", BOTH_JOBS_MS),
        ClusterDiagram::Slots,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);

    for (args, says) in [
        (
            vec!["--dot", "gantt", "--at", "10"],
            "expected `slots` or `cluster`",
        ),
        (vec!["--dot", "slots"], "--at <MS>"),
        (
            vec!["--dot", "slots", "--at", "soon"],
            "invalid value 'soon' for '--at <MS>'",
        ),
        (vec!["--at", "10"], "--dot <VIEW>"),
        (
            vec!["--dot", "cluster", "--at", "99999999"],
            "the scenario ended at",
        ),
    ] {
        let out = run_tui("tm-crash.toml", &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed DOT");
    }
}

/// Where Graphviz is installed, both pictures of both scenarios render to
/// SVG, also through `--svg FILE`; skipped with a note elsewhere.
#[test]
fn pictures_render_to_svg() {
    if !viz::dot_available() {
        eprintln!("skipped: the `dot` program (graphviz) is not installed");
        return;
    }
    for c in [
        picture("session.toml", BOTH_JOBS_MS),
        picture("tm-crash.toml", 8_000),
    ] {
        for d in ClusterDiagram::ALL {
            let svg = viz::render(&viz::cluster_dot(&c, d), viz::Format::Svg)
                .unwrap_or_else(|e| panic!("{} {d}: {e}", c.name));
            assert!(
                String::from_utf8_lossy(&svg).contains("<svg"),
                "{} {d}",
                c.name
            );
        }
    }
    let file = std::env::temp_dir().join(format!("tui-cluster-{}.svg", std::process::id()));
    let path = file.to_string_lossy().into_owned();
    let out = run_tui_ok(
        "session.toml",
        &["--dot", "cluster", "--at", "3000", "--svg", &path],
    );
    assert!(out.stdout.is_empty(), "printed DOT as well");
    let svg = std::fs::read_to_string(&file).expect("svg written");
    assert!(svg.contains("<svg"));
    let _ = std::fs::remove_file(&file);
}
