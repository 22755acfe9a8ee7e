//! Job files: a Flink program written by hand in TOML, compiled on the client.
//!
//! A job file plays the part of a DataStream program's `main`: it declares
//! operators and how they connect, and the client turns it into a
//! [`StreamGraph`] (then a JobGraph) before anything is submitted. Every
//! mistake is reported once, with the file, line and column from TOML spans,
//! the source line, and how to fix it, in the style of `rustc`:
//!
//! ```text
//! error: unknown kind `mapp`
//!  --> jobs/bad.toml:7:8
//!   |
//! 7 | kind = "mapp"
//!   |        ^^^^^^
//!   = help: kinds are: sequence, words, generator, map, ...
//! ```
//!
//! The format itself is taught by the commented files in `scenarios/jobs/`;
//! each field is documented on [`RawJob`] and [`RawOperator`].
//!
//! | module | what it does |
//! |---|---|
//! | [`error`] | [`JobFileError`] and the [`Source`] text it points into; the `rustc`-style rendering |
//! | [`raw`] | the TOML structs ([`RawJob`], [`RawOperator`], ...) serde reads a file into |
//! | [`compile`](mod@compile) | raw job → [`StreamGraph`]: job settings, ids, parallelism, chaining, partitioning, and locating graph errors |
//! | [`kinds`] | operator kinds and their `fn` and `args` → [`OperatorKind`](crate::operators::OperatorKind) |
//!
//! In: a path or TOML text. Out: a [`StreamGraph`], or one [`JobFileError`].

pub mod compile;
pub mod error;
pub mod kinds;
pub mod raw;

pub use compile::compile;
pub use error::{JobFileError, Source};
pub use raw::{RawCheckpointing, RawJob, RawOperator, RawRestart};

use crate::graph::StreamGraph;
use std::path::Path;

/// Reads, parses and compiles a job file into a StreamGraph.
pub fn load_job_file(path: &Path) -> Result<StreamGraph, JobFileError> {
    with_file(path, "job file", parse_job)
}

/// Reads a TOML file (`what` names it in the error) and hands it to `parse`
/// as a [`Source`] whose relative paths start at the file's folder.
pub fn with_file<T>(
    path: &Path,
    what: &str,
    parse: impl FnOnce(&Source<'_>) -> Result<T, JobFileError>,
) -> Result<T, JobFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| JobFileError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the {what}: {e}"),
        help: "check the path".into(),
        snippet: None,
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    parse(&Source {
        file: &file,
        text: &text,
        base_dir,
    })
}

/// Parses and compiles job-file text.
pub fn parse_job(src: &Source<'_>) -> Result<StreamGraph, JobFileError> {
    let raw: RawJob = src.parse_toml()?;
    compile(src, &raw)
}
