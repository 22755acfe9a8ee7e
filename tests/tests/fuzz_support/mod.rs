//! What the fuzz targets share: the regression corpus, the workspace's
//! TOML files the mutations start from, byte and text mutations, and the
//! bounded runner (1024 cases per property; `PROPTEST_CASES` sets another
//! number). Used by `fuzz.rs` (frames, job files, scenarios) and
//! `fuzz_rest.rs` (REST request bodies); each includes it as a module.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};

// ---- inputs ---------------------------------------------------------------

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The regression corpus of one target.
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = workspace().join("tests/fuzz-corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, b)
        })
        .collect()
}

/// TOML files of the workspace the text mutations start from.
pub fn toml_files(dirs: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for d in dirs {
        let dir = workspace().join(d);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            if let Ok(t) = std::fs::read_to_string(&p) {
                out.push(t);
            }
        }
    }
    assert!(!out.is_empty(), "no TOML files in {dirs:?}");
    out
}

/// A byte-level mutation.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

pub fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| ByteEdit::Flip(i, x)),
        any::<usize>().prop_map(ByteEdit::Cut),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| ByteEdit::Remove(i, n)),
    ]
}

pub fn apply_bytes(mut b: Vec<u8>, edits: &[ByteEdit]) -> Vec<u8> {
    for e in edits {
        let n = b.len().max(1);
        match e {
            ByteEdit::Flip(i, x) => {
                if let Some(c) = b.get_mut(i % n) {
                    *c ^= x;
                }
            }
            ByteEdit::Cut(i) => b.truncate(i % n),
            ByteEdit::Insert(i, ins) => {
                let at = (i % n).min(b.len());
                b.splice(at..at, ins.iter().copied());
            }
            ByteEdit::Remove(i, k) => {
                let at = (i % n).min(b.len());
                let end = (at + k).min(b.len());
                b.drain(at..end);
            }
        }
    }
    b
}

/// A line- or token-level mutation of a text.
#[derive(Debug, Clone)]
pub enum TextEdit {
    DropLine(usize),
    DoubleLine(usize),
    SwapLines(usize, usize),
    /// Replace the n-th token (split at whitespace and `=`) by this.
    Token(usize, String),
    Byte(ByteEdit),
}

pub fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("99999999999".to_string()),
        Just("4294967296".to_string()),
        Just("\"\"".to_string()),
        Just("\"hash\"".to_string()),
        Just("\"forward\"".to_string()),
        Just("\"src\"".to_string()),
        Just("true".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[[operators]]".to_string()),
        Just("[[jobs]]".to_string()),
        Just("1.5".to_string()),
        "[a-z_]{1,12}",
        "\"[ -~]{0,12}\"",
    ]
}

pub fn text_edit() -> impl Strategy<Value = TextEdit> {
    prop_oneof![
        any::<usize>().prop_map(TextEdit::DropLine),
        any::<usize>().prop_map(TextEdit::DoubleLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| TextEdit::SwapLines(a, b)),
        (any::<usize>(), token()).prop_map(|(i, t)| TextEdit::Token(i, t)),
        byte_edit().prop_map(TextEdit::Byte),
    ]
}

pub fn apply_text(text: &str, edits: &[TextEdit]) -> String {
    let mut t = text.to_string();
    for e in edits {
        let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
        let n = lines.len().max(1);
        match e {
            TextEdit::DropLine(i) => {
                if !lines.is_empty() {
                    lines.remove(i % n);
                }
            }
            TextEdit::DoubleLine(i) => {
                if let Some(l) = lines.get(i % n).cloned() {
                    lines.insert(i % n, l);
                }
            }
            TextEdit::SwapLines(a, b) => {
                if !lines.is_empty() {
                    lines.swap(a % n, b % n);
                }
            }
            TextEdit::Token(i, tok) => {
                let words: Vec<&str> = t.split_inclusive([' ', '\n', '=']).collect();
                if !words.is_empty() {
                    let k = i % words.len();
                    let mut s = String::new();
                    for (j, w) in words.iter().enumerate() {
                        if j == k {
                            let sep = w.chars().last().filter(|c| [' ', '\n', '='].contains(c));
                            s.push_str(tok);
                            if let Some(c) = sep {
                                s.push(c);
                            }
                        } else {
                            s.push_str(w);
                        }
                    }
                    t = s;
                    continue;
                }
            }
            TextEdit::Byte(b) => {
                t = String::from_utf8_lossy(&apply_bytes(t.into_bytes(), std::slice::from_ref(b)))
                    .into_owned();
                continue;
            }
        }
        t = lines.join("\n");
    }
    t
}

/// The parsers' runner: 1024 cases per property unless `PROPTEST_CASES`
/// says otherwise.
pub fn runner() -> TestRunner {
    runner_with(1024)
}

/// A runner of `default` cases per property unless `PROPTEST_CASES` says
/// otherwise; no failure files (the corpus keeps what once failed).
pub fn runner_with(default: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}
