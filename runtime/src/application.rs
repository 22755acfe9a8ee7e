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

use crate::events::EventKind;
use crate::graph::{JobGraph, StreamGraph};
use crate::jobfile::{self, JobFileError, RawJob, Source};
use crate::state::{ApplicationState, JobStatus};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

pub use crate::job_config::JobOrder;

/// How one job of `main` ended, as `main` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// The job ended with this status (FINISHED or not).
    Ended(JobStatus),
    /// `main` got to the job but did not submit it (nothing to resume from).
    NotSubmitted,
    /// Submitting the job, or waiting for it, failed: why.
    Error(String),
}

impl JobEnd {
    /// The status, for [`JobOrder::continues_after`].
    fn status(&self) -> Option<JobStatus> {
        match self {
            JobEnd::Ended(s) => Some(*s),
            JobEnd::NotSubmitted | JobEnd::Error(_) => None,
        }
    }
}

/// How `main` names a job in its failure cause: `job "NAME"`, or `job N`
/// (counted from 1) when its name is not known.
pub fn job_label(name: Option<&str>, index: usize) -> String {
    match name {
        Some(n) => format!("job \"{n}\""),
        None => format!("job {}", index + 1),
    }
}

/// The rules of a program's `main()` over its jobs, written once for every
/// place that runs one (the JobManager in application mode, the
/// simulator's client in session and job mode): jobs count as they
/// FINISH; a sequential `main` stops at the first job that does not
/// finish (its `execute()` throws), a parallel one waits for all and
/// keeps the first failure; the application SUCCEEDED when nothing
/// failed.
///
/// Feed it each job's [`JobEnd`] in `main`'s order with
/// [`MainRun::record`] until it says stop, then read the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainRun {
    order: JobOrder,
    jobs: usize,
    finished: usize,
    cause: Option<String>,
    /// How the job that failed the application ended (`None` while
    /// nothing failed it, or when `main` itself failed at a job).
    failed_by: Option<JobStatus>,
}

impl MainRun {
    /// A `main` in `order` with `jobs` jobs, before its first.
    pub fn new(order: JobOrder, jobs: usize) -> Self {
        MainRun {
            order,
            jobs,
            finished: 0,
            cause: None,
            failed_by: None,
        }
    }

    /// `main` learnt how `job` (named as [`job_label`] names it) ended;
    /// whether it goes on to its next job.
    pub fn record(&mut self, job: &str, outcome: JobEnd) -> bool {
        let status = outcome.status();
        let goes_on = self.order.continues_after(status);
        let what = match outcome {
            JobEnd::Ended(JobStatus::Finished) => {
                self.finished += 1;
                return goes_on;
            }
            JobEnd::Ended(status) => format!("{job} ended {status}"),
            JobEnd::NotSubmitted => format!("{job} was not submitted"),
            // Not an end of the job: `main` itself failed at it.
            JobEnd::Error(e) => {
                self.cause.get_or_insert(format!("{job}: {e}"));
                return goes_on;
            }
        };
        if goes_on {
            if self.cause.is_none() {
                self.cause = Some(what);
                self.failed_by = status;
            }
        } else {
            self.cause = Some(format!("{what}, so execute() threw"));
            self.failed_by = status;
        }
        goes_on
    }

    /// Whether the application succeeded: no job failed it.
    pub fn succeeded(&self) -> bool {
        self.cause.is_none()
    }

    /// The application's final status as Flink's `ApplicationState` names
    /// it: "SUCCEEDED" or "FAILED".
    pub fn status(&self) -> &'static str {
        if self.succeeded() {
            "SUCCEEDED"
        } else {
            "FAILED"
        }
    }

    /// The application's end as Flink's `ApplicationState` (FINISHED,
    /// CANCELED or FAILED), by [`ApplicationState::after_main`].
    pub fn end_state(&self) -> ApplicationState {
        ApplicationState::after_main(self.succeeded(), self.failed_by)
    }

    /// Why `main` failed, if it did.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The event that says `main` of application `name` returned.
    pub fn finished_event(&self, name: String) -> EventKind {
        EventKind::ApplicationFinished {
            name,
            finished: self.finished,
            jobs: self.jobs,
            cause: self.cause.clone(),
        }
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
    let raw: RawApplication = src.parse_toml()?;
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

    /// A sequential main() stops at the first job that does not finish;
    /// a parallel one goes on and keeps the first failure.
    #[test]
    fn main_stops_or_goes_on_by_its_order() {
        let mut seq = MainRun::new(JobOrder::Sequential, 3);
        assert!(seq.record("job \"a\"", JobEnd::Ended(JobStatus::Finished)));
        assert!(!seq.record("job \"b\"", JobEnd::Ended(JobStatus::Canceled)));
        assert_eq!(seq.status(), "FAILED");
        assert_eq!(
            seq.cause(),
            Some("job \"b\" ended CANCELED, so execute() threw")
        );
        let mut par = MainRun::new(JobOrder::Parallel, 3);
        assert!(par.record(&job_label(None, 0), JobEnd::NotSubmitted));
        assert!(par.record("job \"b\"", JobEnd::Ended(JobStatus::Failed)));
        assert!(par.record("job \"c\"", JobEnd::Ended(JobStatus::Finished)));
        assert_eq!(par.cause(), Some("job 1 was not submitted"));
        let ok = MainRun::new(JobOrder::Parallel, 0);
        assert!(ok.succeeded() && ok.status() == "SUCCEEDED");
    }

    /// The application's end state follows the job that failed it: a
    /// cancelled job cancels the application, a failed one (or a job
    /// `main` could not submit) fails it, and none finishes it.
    #[test]
    fn the_application_ends_as_the_job_that_failed_it() {
        let mut seq = MainRun::new(JobOrder::Sequential, 2);
        seq.record("job \"a\"", JobEnd::Ended(JobStatus::Finished));
        seq.record("job \"b\"", JobEnd::Ended(JobStatus::Canceled));
        assert_eq!(seq.end_state(), ApplicationState::Canceled);
        let mut par = MainRun::new(JobOrder::Parallel, 2);
        par.record("job \"a\"", JobEnd::Ended(JobStatus::Failed));
        par.record("job \"b\"", JobEnd::Ended(JobStatus::Canceled));
        assert_eq!(
            par.end_state(),
            ApplicationState::Failed,
            "the first failure counts"
        );
        let mut refused = MainRun::new(JobOrder::Parallel, 2);
        refused.record("job \"a\"", JobEnd::Error("refused".into()));
        refused.record("job \"b\"", JobEnd::Ended(JobStatus::Canceled));
        assert_eq!(refused.end_state(), ApplicationState::Failed);
        let mut ok = MainRun::new(JobOrder::Sequential, 1);
        ok.record("job \"a\"", JobEnd::Ended(JobStatus::Finished));
        assert_eq!(ok.end_state(), ApplicationState::Finished);
    }

    #[test]
    fn an_empty_application_is_refused() {
        let e = parse("name = \"x\"\njobs = []\n").unwrap_err();
        assert!(e.message.contains("without jobs"), "{e}");
    }
}
