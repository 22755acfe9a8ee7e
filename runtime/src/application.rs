//! Applications: a program's `main`, which may submit several jobs.
//!
//! A Flink program is a `main` method. Each `execute()` (or
//! `executeAsync()`) in it compiles one dataflow into a JobGraph and submits
//! it, so one `main` may submit several jobs: one after another (each
//! `execute()` blocks until its job ends) or at once (`executeAsync()`).
//! *Where* that `main` runs is what tells Flink's execution modes apart:
//! on the client for session and job clusters, on the JobManager for an
//! application cluster (Flink's `ApplicationDispatcherBootstrap`, which runs
//! `main` inside the JobManager and submits through an embedded executor
//! straight to the Dispatcher).
//!
//! An application file is a program written down: a name, the order of its
//! jobs, and the jobs (job files, or inline, as in a scenario):
//!
//! ```toml
//! name = "reports"
//! order = "sequential"          # or "parallel" (executeAsync)
//!
//! [[jobs]]
//! file = "../jobs/wordcount.toml"
//!
//! [[jobs]]
//! [jobs.job]
//! name = "totals"
//! # ... the fields of a job file
//! ```
//!
//! [`Application`] is what a JobManager needs to run such a `main`
//! ([`crate::config::JobManagerConfig::application`]); the file is compiled
//! on the machine that reads it, as the client compiles a job file.

use crate::graph::{JobGraph, StreamGraph};
use crate::jobfile::{self, JobFileError, RawJob, Source};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// In which order `main` submits its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOrder {
    /// One after another: each `execute()` returns when its job ended, and
    /// a job that does not finish stops `main` (the exception it throws).
    #[default]
    Sequential,
    /// All at once (`executeAsync()` for each), then wait for all.
    Parallel,
}

impl JobOrder {
    /// "sequential" or "parallel".
    pub fn as_str(self) -> &'static str {
        match self {
            JobOrder::Sequential => "sequential",
            JobOrder::Parallel => "parallel",
        }
    }
}

impl std::fmt::Display for JobOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compiled program: what `main` submits, and in which order.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// The application's name.
    pub name: String,
    /// The jobs `main` submits, compiled (chained) already.
    pub jobs: Vec<JobGraph>,
    /// Their order.
    pub order: JobOrder,
}

/// An application as written, before its jobs are compiled.
#[derive(Debug, Clone)]
pub struct ApplicationProgram {
    /// The application's name.
    pub name: String,
    /// The order of its jobs.
    pub order: JobOrder,
    /// Its jobs, compiled into StreamGraphs.
    pub jobs: Vec<StreamGraph>,
}

impl ApplicationProgram {
    /// Builds the JobGraphs (operator chaining), as the client would.
    pub fn to_application(&self) -> Application {
        Application {
            name: self.name.clone(),
            jobs: self.jobs.iter().map(JobGraph::from_stream_graph).collect(),
            order: self.order,
        }
    }
}

/// One `[[jobs]]` entry of an application: a job file or an inline job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplicationJob {
    /// A job file, relative to the file that names it.
    pub file: Option<Spanned<String>>,
    /// An inline job.
    pub job: Option<Spanned<RawJob>>,
}

/// The top level of an application file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplication {
    /// Name.
    pub name: Spanned<String>,
    /// "sequential" (default) or "parallel".
    pub order: Option<Spanned<String>>,
    /// The jobs, in the order `main` submits them.
    pub jobs: Spanned<Vec<RawApplicationJob>>,
}

/// Reads `order = "..."`.
pub fn parse_order(
    src: &Source<'_>,
    order: Option<&Spanned<String>>,
) -> Result<JobOrder, JobFileError> {
    match order.map(|o| (o.get_ref().as_str(), o.span())) {
        None | Some(("sequential", _)) => Ok(JobOrder::Sequential),
        Some(("parallel", _)) => Ok(JobOrder::Parallel),
        Some((other, span)) => Err(src.error_at(
            span,
            format!("unknown order `{other}`"),
            "order is \"sequential\" (each job after the previous one ended, as execute()) \
             or \"parallel\" (all at once, as executeAsync())",
        )),
    }
}

/// Compiles one job entry (a file relative to `src`, or inline).
pub fn compile_job(
    src: &Source<'_>,
    j: &RawApplicationJob,
    what: &str,
) -> Result<StreamGraph, JobFileError> {
    match (&j.file, &j.job) {
        (Some(f), None) => {
            let p = src.base_dir.join(f.get_ref());
            if !p.exists() {
                return Err(src.error_at(
                    f.span(),
                    format!("job file `{}` not found", p.display()),
                    format!("the path is relative to the folder of {}", src.file),
                ));
            }
            jobfile::load_job_file(&p)
        }
        (None, Some(inline)) => jobfile::compile(src, inline.get_ref()),
        (Some(f), Some(_)) => Err(src.error_at(
            f.span(),
            "a job has both `file` and `job`",
            "keep one of them",
        )),
        (None, None) => Err(src.error_at(
            0..0,
            format!("a {what} entry has neither `file` nor `job`"),
            "add file = \"jobs/wordcount.toml\" or an inline job table",
        )),
    }
}

/// Compiles a parsed application.
pub fn compile(src: &Source<'_>, raw: &RawApplication) -> Result<ApplicationProgram, JobFileError> {
    let order = parse_order(src, raw.order.as_ref())?;
    if raw.jobs.get_ref().is_empty() {
        return Err(src.error_at(
            raw.jobs.span(),
            "an application without jobs",
            "add at least one [[jobs]] entry: the jobs its main() submits",
        ));
    }
    let jobs = raw
        .jobs
        .get_ref()
        .iter()
        .map(|j| compile_job(src, j, "[[jobs]]"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApplicationProgram {
        name: raw.name.get_ref().clone(),
        order,
        jobs,
    })
}

/// Parses and compiles application-file text.
pub fn parse_application(src: &Source<'_>) -> Result<ApplicationProgram, JobFileError> {
    let raw: RawApplication = toml::from_str(src.text).map_err(|e| src.toml_error(&e))?;
    compile(src, &raw)
}

/// Reads, parses and compiles an application file.
pub fn load_application_file(path: &Path) -> Result<ApplicationProgram, JobFileError> {
    crate::jobfile::with_file(path, "application file", parse_application)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ApplicationProgram, JobFileError> {
        parse_application(&Source {
            file: "app.toml",
            text,
            base_dir: Path::new("."),
        })
    }

    const JOB: &str = r#"
[jobs.job]
name = "numbers"
[[jobs.job.operators]]
id = "src"
kind = "sequence"
args = { from = 1, to = 10 }
[[jobs.job.operators]]
id = "sink"
kind = "discard"
input = "src"
"#;

    #[test]
    fn an_application_lists_its_jobs_in_order() {
        let text = format!(
            "name = \"two\"\norder = \"parallel\"\n[[jobs]]{JOB}\n[[jobs]]{}",
            JOB.replace("numbers", "more")
        );
        let app = parse(&text).expect("parses");
        assert_eq!(app.name, "two");
        assert_eq!(app.order, JobOrder::Parallel);
        let names: Vec<&str> = app.jobs.iter().map(|j| j.job_name.as_str()).collect();
        assert_eq!(names, ["numbers", "more"]);
        let compiled = app.to_application();
        assert_eq!(compiled.jobs.len(), 2);
    }

    #[test]
    fn a_bad_order_is_named_with_its_place() {
        let text = format!("name = \"x\"\norder = \"random\"\n[[jobs]]{JOB}");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unknown order `random`"), "{e}");
    }

    #[test]
    fn an_empty_application_is_refused() {
        let e = parse("name = \"x\"\njobs = []\n").unwrap_err();
        assert!(e.message.contains("without jobs"), "{e}");
    }
}
