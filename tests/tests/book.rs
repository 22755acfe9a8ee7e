//! The book cannot rot: its generated outputs, screens and pictures are
//! regenerated into a temporary folder and compared with the committed
//! copies in `book/src/generated/` (pictures as DOT text; every DOT file
//! must have its SVG beside it), and every exercise's answer must meet its
//! expectation while the unchanged exercise must not.

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
