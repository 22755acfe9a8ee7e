//! An exercise of the book and its check.
//!
//! Each exercise is a folder under `book/exercises/` with three files:
//! the file a student edits (`exercise`), the answer (`answer`), and
//! `expect.toml`, which names both and says what the plan of a right
//! answer must be:
//!
//! ```toml
//! exercise = "job.toml"
//! answer = "answer.toml"
//! [plan]
//! slots = 4       # slots the job needs (JobGraph::slots_needed)
//! operators = 5   # still the same program: five operators
//! ```
//!
//! [`check`] compiles a job file as the client does (`mini-flink plan`)
//! and lists every expectation it misses. The suite checks that the answer
//! meets them all and that the unchanged exercise does not (so the
//! exercise is not already solved); a teacher checks a student's file with
//! `cargo run -p mini-flink-tests --bin book -- check book/exercises/NAME STUDENT.toml`.

use super::BookError;
use runtime::graph::JobGraph;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// An exercise's `expect.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The file the student edits, relative to the exercise's folder.
    pub exercise: String,
    /// The answer, relative to the exercise's folder.
    pub answer: String,
    /// What the plan of a right answer must be.
    pub plan: PlanExpect,
}

/// What the plan (the JobGraph the client builds) must be; a field left
/// out is not checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanExpect {
    /// Slots the job needs: per slot sharing group its highest parallelism,
    /// summed.
    pub slots: Option<u32>,
    /// Operators in the program (StreamNodes).
    pub operators: Option<usize>,
    /// Job vertices (tasks: chains of operators).
    pub job_vertices: Option<usize>,
    /// Subtasks: the job vertices' parallelisms, summed.
    pub subtasks: Option<u32>,
}

/// One exercise: its folder and its expectation.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// The exercise's folder.
    pub dir: PathBuf,
    /// Its `expect.toml`.
    pub expect: Expect,
}

impl Exercise {
    /// Reads the exercise in `dir` (its `expect.toml`).
    pub fn load(dir: &Path) -> Result<Exercise, BookError> {
        let path = dir.join("expect.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| BookError::Io {
            path: path.clone(),
            source,
        })?;
        let expect = toml::from_str(&text).map_err(|e| BookError::Expect {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Exercise {
            dir: dir.to_path_buf(),
            expect,
        })
    }

    /// The file the student edits.
    pub fn exercise_file(&self) -> PathBuf {
        self.dir.join(&self.expect.exercise)
    }

    /// The answer.
    pub fn answer_file(&self) -> PathBuf {
        self.dir.join(&self.expect.answer)
    }

    /// Checks the job file `job` against the expectation: the list of what
    /// it misses, empty for a right answer.
    pub fn check(&self, job: &Path) -> Result<Vec<Miss>, BookError> {
        let sg = runtime::jobfile::load_job_file(job).map_err(|e| BookError::JobFile {
            path: job.to_path_buf(),
            message: e.to_string(),
        })?;
        let jg = JobGraph::from_stream_graph(&sg);
        Ok(check_plan(&self.expect.plan, &jg))
    }
}

/// One expectation a job file misses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// What was expected of the plan (e.g. "slots").
    pub what: &'static str,
    /// The expected value.
    pub expected: String,
    /// The plan's value.
    pub got: String,
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, the plan has {}",
            self.what, self.expected, self.got
        )
    }
}

/// Every expectation of `want` that the plan `jg` misses.
pub fn check_plan(want: &PlanExpect, jg: &JobGraph) -> Vec<Miss> {
    let subtasks: u32 = jg.vertices().map(|v| v.parallelism).sum();
    let got: [(&'static str, Option<u64>, u64); 4] = [
        (
            "slots",
            want.slots.map(u64::from),
            u64::from(jg.slots_needed()),
        ),
        (
            "operators",
            want.operators.map(|n| n as u64),
            jg.stream_graph.node_count() as u64,
        ),
        (
            "job vertices",
            want.job_vertices.map(|n| n as u64),
            jg.vertex_count() as u64,
        ),
        (
            "subtasks",
            want.subtasks.map(u64::from),
            u64::from(subtasks),
        ),
    ];
    got.into_iter()
        .filter_map(|(what, expected, got)| {
            let expected = expected?;
            (expected != got).then(|| Miss {
                what,
                expected: expected.to_string(),
                got: got.to_string(),
            })
        })
        .collect()
}

/// Every exercise under `book/exercises/`, by folder name.
pub fn all(root: &Path) -> Result<Vec<Exercise>, BookError> {
    let dir = root.join("book/exercises");
    let entries = std::fs::read_dir(&dir).map_err(|source| BookError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect.toml").is_file())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| Exercise::load(d)).collect()
}
