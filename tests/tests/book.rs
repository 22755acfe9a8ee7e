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
        r.problems.is_empty(),
        "the book has broken links, includes or pictures:\n  {}",
        r.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}
