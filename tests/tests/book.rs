//! The book cannot rot: its generated outputs, screens and pictures are
//! regenerated into a temporary folder and compared with the committed
//! copies in `book/src/generated/` (pictures as DOT text; every DOT file
//! must have its SVG beside it), and every exercise's answer must meet its
//! expectation while the unchanged exercise must not; every chapter,
//! include, link and picture resolves.

use mini_flink_tests::book::{self, REFRESH, exercise};
use std::collections::BTreeSet;
use std::path::Path;

/// Every file under `dir`, relative to it, with `/` separators.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The committed generated files are what the project generates now, and
/// nothing else is there (an SVG beside each DOT file).
#[test]
fn generated_files_are_up_to_date() {
    let root = book::repo_root();
    let committed = book::generated_dir(&root);
    let files = book::generate(&root).unwrap_or_else(|e| panic!("{e}"));

    // Regenerate into a temporary folder (without SVG: Graphviz versions
    // draw differently) and compare file by file.
    let tmp = std::env::temp_dir().join(format!("mini-flink-book-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    book::write(&tmp, &files, false).unwrap_or_else(|e| panic!("{e}"));
    let mut stale = Vec::new();
    for f in &files {
        let fresh = std::fs::read_to_string(tmp.join(&f.path)).unwrap_or_default();
        match std::fs::read_to_string(committed.join(&f.path)) {
            Ok(old) if old == fresh => {}
            Ok(_) => stale.push(format!("{} differs", f.path)),
            Err(_) => stale.push(format!("{} is missing", f.path)),
        }
        if f.is_dot() {
            let svg = f.path.replace(".dot", ".svg");
            if !committed.join(&svg).is_file() {
                stale.push(format!("{svg} is missing (needs Graphviz)"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);

    let expected: BTreeSet<String> = files
        .iter()
        .flat_map(|f| {
            let mut v = vec![f.path.clone()];
            if f.is_dot() {
                v.push(f.path.replace(".dot", ".svg"));
            }
            v
        })
        .collect();
    for extra in files_under(&committed).difference(&expected) {
        stale.push(format!("{extra} is not generated any more: delete it"));
    }
    assert!(
        stale.is_empty(),
        "the book's generated files are out of date:\n  {}\nrefresh them with `{REFRESH}` (with Graphviz installed) and commit them",
        stale.join("\n  ")
    );
}

/// Every exercise's answer meets its expectation; the unchanged exercise
/// does not, so a student has something to do.
#[test]
fn exercises_answers_pass_and_exercises_do_not() {
    let root = book::repo_root();
    let all = exercise::all(&root).unwrap_or_else(|e| panic!("{e}"));
    assert!(!all.is_empty(), "no exercises under book/exercises/");
    for ex in all {
        let answer = ex
            .check(&ex.answer_file())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            answer.is_empty(),
            "{}: the answer misses: {answer:?}",
            ex.answer_file().display()
        );
        let unchanged = ex
            .check(&ex.exercise_file())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !unchanged.is_empty(),
            "{}: the exercise is already solved",
            ex.exercise_file().display()
        );
    }
}

/// Chapter 1's exercise says what is wrong in the plan's own numbers.
#[test]
fn the_four_slots_exercise_names_the_miss() {
    let root = book::repo_root();
    let ex = exercise::Exercise::load(&root.join("book/exercises/ch01-four-slots"))
        .unwrap_or_else(|e| panic!("{e}"));
    let misses = ex
        .check(&ex.exercise_file())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        misses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["slots: expected 4, the plan has 2"]
    );
}

/// Every chapter of SUMMARY.md exists, every include resolves (file and
/// anchor), every local link and picture points at a file of the built
/// book, every `#fragment` at a heading: what mdbook-linkcheck checks,
/// offline and without installing it.
#[test]
fn every_link_include_and_picture_resolves() {
    let src = book::repo_root().join("book/src");
    let r = book::links::check(&src);
    assert!(r.chapters >= 1 && r.links >= 1, "nothing checked: {r:?}");
    assert!(
        r.drafts.is_empty(),
        "SUMMARY.md lists chapters without a file: {:?}",
        r.drafts
    );
    assert!(
        r.problems.is_empty(),
        "the book has broken links, includes or pictures:\n  {}",
        r.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// Loads the exercise in `book/exercises/NAME`.
fn exercise_named(name: &str) -> exercise::Exercise {
    let root = book::repo_root();
    exercise::Exercise::load(&root.join("book/exercises").join(name))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The misses of `text` (a scenario with no job files of its own) checked
/// against exercise `name`, as lines; the text goes through a temporary
/// file called `file`.
fn misses_of_text(name: &str, file: &str, text: &str) -> Vec<String> {
    let ex = exercise_named(name);
    let path = std::env::temp_dir().join(format!(
        "mini-flink-book-{}-{name}-{file}",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let misses = ex.check(&path).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_file(&path);
    misses.iter().map(ToString::to_string).collect()
}

/// The exercise's own scenario, as text.
fn exercise_text(name: &str) -> String {
    let ex = exercise_named(name);
    std::fs::read_to_string(ex.exercise_file()).unwrap_or_else(|e| panic!("{e}"))
}

/// Chapter 2's exercise: the unchanged scenario adds no TaskManager;
/// scaling out by switching to an active ResourceManager instead of
/// starting a TaskManager is refused.
#[test]
fn the_scale_out_exercise_wants_a_registration() {
    let ex = exercise_named("ch02-scale-out");
    let unchanged: Vec<String> = ex
        .check(&ex.exercise_file())
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        unchanged,
        ["[[faults]]: expected a fault with action start, the file has none"]
    );
    let active = exercise_text("ch02-scale-out")
        .replace("provider = \"standalone\"", "provider = \"active\"");
    assert_eq!(
        misses_of_text("ch02-scale-out", "active.toml", &active),
        [
            "[[faults]]: expected a fault with action start, the file has none",
            "provider: expected standalone, the file has active"
        ]
    );
}

/// Chapter 3's exercise: a TaskManager started by hand is not the answer;
/// the ResourceManager must start it.
#[test]
fn the_active_rm_exercise_refuses_a_hand_started_taskmanager() {
    let by_hand = exercise_text("ch03-active-rm").replace(
        "[expect]",
        "[[faults]]\nat_ms = 1000\naction = \"start\"\nhost = \"taskmanager-3\"\n\n[expect]",
    );
    assert_eq!(
        misses_of_text("ch03-active-rm", "by-hand.toml", &by_hand),
        ["[[faults]]: expected the exercise's 0 fault(s), unchanged, the file has 1 changed"]
    );
}

/// Chapter 5's exercise: the unchanged file predicts nothing, and a wrong
/// prediction (only the jobs with a subtask in slot 0 of taskmanager-2)
/// is caught by the run.
#[test]
fn the_blast_radius_exercise_checks_every_prediction() {
    let ex = exercise_named("ch05-blast-radius");
    let unchanged: Vec<String> = ex
        .check(&ex.exercise_file())
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        unchanged,
        ["[expect]: expected a final status for alpha, beta, gamma, delta, the file has none"]
    );
    let wrong = exercise_text("ch05-blast-radius").replace(
        "[expect]\n",
        "[expect]\nalpha = \"FINISHED\"\nbeta = \"FAILED\"\ngamma = \"FINISHED\"\ndelta = \"FINISHED\"\n",
    );
    assert_eq!(
        misses_of_text("ch05-blast-radius", "wrong.toml", &wrong),
        ["job gamma: expected FINISHED, the run has FAILED"]
    );
}

/// What chapters 2 and 3 say of `book/scenarios/two-jobs.toml` holds: at
/// 1 s the only data connection is taskmanager-1 → taskmanager-2 (4
/// channels), and at 3 s one JobManager runs one JobMaster per job.
#[test]
fn the_two_jobs_cluster_is_as_the_book_describes_it() {
    let root = book::repo_root();
    let s = sim::load(&root.join("book/scenarios/two-jobs.toml")).unwrap_or_else(|e| panic!("{e}"));
    let mut app = tui::App::live(&s, None);
    let at_1s = tui::pictures::picture_at(&mut app, &s, 1_000).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = at_1s.taskmanagers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["taskmanager-1", "taskmanager-2", "taskmanager-3"]);
    let data: Vec<(usize, usize, u32)> = at_1s
        .data_connections
        .iter()
        .map(|d| (d.from, d.to, d.channels))
        .collect();
    assert_eq!(data, [(0, 1, 4)], "{:?}", at_1s.data_connections);
    let at_3s = tui::pictures::picture_at(&mut app, &s, 3_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(at_3s.jobmanagers.len(), 1);
    let running: Vec<&str> = at_3s
        .jobs
        .iter()
        .filter(|j| j.active)
        .map(|j| j.name.as_str())
        .collect();
    assert_eq!(running, ["counts", "clicks"]);
}

/// Chapter 4's exercise names the TaskManager that runs more than the Sum,
/// and what else it runs.
#[test]
fn the_own_taskmanager_exercise_names_the_miss() {
    let root = book::repo_root();
    let ex = exercise::Exercise::load(&root.join("book/exercises/ch04-own-taskmanager"))
        .unwrap_or_else(|e| panic!("{e}"));
    let misses = ex
        .check(&ex.exercise_file())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        misses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "Sum on taskmanager-1: expected taskmanager-1 to run only Sum, the run has taskmanager-1 also running Sink: Collect, Source: Events -> Map"
        ]
    );
}

/// Chapter 6's exercise, unchanged, fails the job and loses what the sink
/// had not committed; the check says all three.
#[test]
fn the_survive_crash_exercise_names_the_misses() {
    let root = book::repo_root();
    let ex = exercise::Exercise::load(&root.join("book/exercises/ch06-survive-crash"))
        .unwrap_or_else(|e| panic!("{e}"));
    let misses = ex
        .check(&ex.exercise_file())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        misses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "job counts: expected FINISHED, the run has FAILED",
            "restarts: expected at least 1, the run has 0",
            "job counts: committed output: expected the 40000 records of the run without faults, the run has 23168 records (16832 lost, 0 extra)",
        ]
    );
}

/// What chapter 6 says of its scenarios: after the crash, failover.toml and
/// failover-unaligned.toml commit exactly what they commit without it; the
/// aligned and the unaligned job of backpressure.toml commit the same; and
/// savepoint.toml's two runs together commit what one uninterrupted run
/// of the job does.
#[test]
fn chapter_6_claims_hold() {
    let root = book::repo_root();
    let load = |name: &str| {
        sim::load(&root.join("scenarios").join(name)).unwrap_or_else(|e| panic!("{e}"))
    };
    let committed = |s: &sim::Scenario| {
        let o = sim::Simulation::new(s, None)
            .run()
            .unwrap_or_else(|e| panic!("{e}"));
        sim::campaign::committed(&o)
    };
    for name in ["failover.toml", "failover-unaligned.toml"] {
        let s = load(name);
        let reference = sim::campaign::reference(&s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(committed(&s), reference, "{name}: not exactly once");
        assert_eq!(reference[0].len(), 40_000, "{name}: one update per record");
    }
    let b = committed(&load("backpressure.toml"));
    assert_eq!(b[0], b[1], "aligned and unaligned commit the same output");

    let s = load("savepoint.toml");
    let mut two: Vec<_> = committed(&s).concat();
    two.sort();
    let mut one = s.clone();
    one.faults.clear();
    one.jobs.truncate(1);
    assert_eq!(two, committed(&one)[0], "stop and resume = one run");
}
