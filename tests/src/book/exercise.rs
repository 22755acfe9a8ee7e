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
//!
//! An exercise on a *run* edits a scenario instead, and says so with
//! `[scenario]` in place of `[plan]`. The check loads the file as
//! `sim run` does, runs it in the simulator (its own seed, so the same
//! run every time), and requires every line of the scenario's own
//! `[expect]` to hold; what a student predicts goes there. The rest of
//! `[scenario]` keeps the student to the question:
//!
//! ```toml
//! exercise = "scenario.toml"
//! answer = "answer.toml"
//! [scenario]
//! predict = ["wordcount", "sessions"] # [expect] must name these jobs
//! keep_faults = true                  # the exercise's [[faults]], unchanged
//! keep_jobs = true                    # the exercise's jobs (by name), no more, no fewer
//! taskmanagers = 3                    # the cluster's size, when fixed
//! slots = 2                           # slots per TaskManager, when fixed
//! provider = "standalone"             # the ResourceManager's provider, when fixed
//! mode = "session"                    # the execution mode, when fixed
//! own_taskmanager = ["Sum"]           # vertices whose TaskManagers run nothing else
//! fault_kinds = ["crash", "partition"] # [[faults]] must hold these actions
//! status = { counts = "FINISHED" }    # final statuses, whatever [expect] says
//! exactly_once = true                 # committed output = the fault-free run's
//! min_restarts = 1                    # the faults must hit: jobs restarted
//! [scenario.plan.wordcount]           # a job's plan, as [plan] above
//! slots = 4
//! ```

use super::BookError;
use runtime::graph::JobGraph;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
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
    /// What the plan of a right answer must be (an exercise on a job file).
    #[serde(default)]
    pub plan: Option<PlanExpect>,
    /// What the run of a right answer must show (an exercise on a
    /// scenario).
    #[serde(default)]
    pub scenario: Option<ScenarioExpect>,
}

/// What a scenario and its run must be; a field left out is not checked.
/// The scenario's own `[expect]` is always checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioExpect {
    /// Jobs the scenario's `[expect]` must name: a prediction for each.
    #[serde(default)]
    pub predict: Vec<String>,
    /// The `[[faults]]` must be the exercise's, unchanged.
    #[serde(default)]
    pub keep_faults: bool,
    /// The jobs (by name) must be the exercise's.
    #[serde(default)]
    pub keep_jobs: bool,
    /// TaskManagers of the session cluster.
    pub taskmanagers: Option<u32>,
    /// Slots per TaskManager.
    pub slots: Option<u32>,
    /// The ResourceManager's provider: "standalone" (TaskManagers are
    /// started by hand) or "active" (it starts them on demand).
    pub provider: Option<String>,
    /// The execution mode ("session", "job" or "application"): job and
    /// application clusters start their own TaskManagers, which would
    /// answer a question about a session cluster's slots for the wrong
    /// reason.
    pub mode: Option<String>,
    /// Vertices (by a part of their name, such as "Sum") whose subtasks
    /// must run on TaskManagers that run no other vertex's subtasks.
    #[serde(default)]
    pub own_taskmanager: Vec<String>,
    /// Per job name, what its plan must be.
    #[serde(default)]
    pub plan: BTreeMap<String, PlanExpect>,
    /// Fault actions (`crash`, `restart`, `start`, `partition`, `repair`,
    /// `delay`, `cancel`, `savepoint`, `stop`) the `[[faults]]` must use,
    /// each at least once.
    #[serde(default)]
    pub fault_kinds: Vec<String>,
    /// Per job name, the status the run must end it in (`FINISHED`),
    /// whatever the scenario's own `[expect]` predicts: the outcome the
    /// exercise asks for, not the student's prediction.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    /// Every job's committed output must equal, as a multiset, what the
    /// same scenario commits without its `[[faults]]`: nothing lost,
    /// nothing counted twice (exactly-once, as `sim check` judges it).
    #[serde(default)]
    pub exactly_once: bool,
    /// Restarts the run must show at least (`Restarted` events): the
    /// faults must hit a running job, not miss it.
    pub min_restarts: Option<u32>,
}

/// The scenario-file keyword of a fault's action (`action = "crash"`).
fn action_keyword(a: &sim::scenario::FaultAction) -> &'static str {
    use sim::scenario::FaultAction as A;
    match a {
        A::Crash(_) | A::CrashBusiest => "crash",
        A::Restart(_) => "restart",
        A::StartTaskManager(_) => "start",
        A::Partition(..) => "partition",
        A::Repair(..) => "repair",
        A::Delay(..) => "delay",
        A::CancelJob(_) => "cancel",
        A::Savepoint(_) => "savepoint",
        A::StopWithSavepoint(_) => "stop",
        A::FailStorageWrites(_) => "fail-writes",
        A::SlowStorageWrites(..) => "slow-writes",
        A::DamageLatestCheckpoint(_) => "damage-checkpoint",
    }
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
        let expect: Expect = toml::from_str(&text).map_err(|e| BookError::Expect {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if expect.plan.is_some() == expect.scenario.is_some() {
            return Err(BookError::Expect {
                path,
                message: "give exactly one of [plan] (a job file) and [scenario] (a scenario)"
                    .into(),
            });
        }
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

    /// Checks `file` (a job file, or a scenario for an exercise on a run)
    /// against the expectation: the list of what it misses, empty for a
    /// right answer.
    pub fn check(&self, file: &Path) -> Result<Vec<Miss>, BookError> {
        if let Some(want) = &self.expect.scenario {
            let exercise = load_scenario(&self.exercise_file())?;
            let s = load_scenario(file)?;
            return check_scenario(want, &exercise, &s);
        }
        let sg = runtime::jobfile::load_job_file(file).map_err(|e| BookError::JobFile {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        let jg = JobGraph::from_stream_graph(&sg);
        let want = self.expect.plan.clone().unwrap_or_default();
        Ok(check_plan(&want, &jg))
    }
}

/// Loads a scenario as `sim run` does.
fn load_scenario(path: &Path) -> Result<sim::Scenario, BookError> {
    sim::load(path).map_err(|e| BookError::Scenario {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The names of a scenario's jobs.
fn job_names(s: &sim::Scenario) -> BTreeSet<String> {
    s.jobs.iter().map(|j| j.graph.job_name.clone()).collect()
}

/// Every expectation of `want` that the scenario `s` (a student's edit of
/// `exercise`) or its run misses. The static checks come first; the run
/// only when they pass, so a student learns the cheap things first.
pub fn check_scenario(
    want: &ScenarioExpect,
    exercise: &sim::Scenario,
    s: &sim::Scenario,
) -> Result<Vec<Miss>, BookError> {
    let mut misses = Vec::new();
    let missing: Vec<&str> = want
        .predict
        .iter()
        .filter(|j| !s.expect.contains_key(*j))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        misses.push(Miss::file(
            "[expect]",
            format!("a final status for {}", missing.join(", ")),
            if s.expect.is_empty() {
                "none".to_string()
            } else {
                s.expect.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        ));
    }
    if want.keep_faults && s.faults != exercise.faults {
        misses.push(Miss::file(
            "[[faults]]",
            format!(
                "the exercise's {} fault(s), unchanged",
                exercise.faults.len()
            ),
            format!("{} changed", s.faults.len()),
        ));
    }
    if want.keep_jobs && job_names(s) != job_names(exercise) {
        let names = |s: &sim::Scenario| job_names(s).into_iter().collect::<Vec<_>>().join(", ");
        misses.push(Miss::file("jobs", names(exercise), names(s)));
    }
    for (what, expected, got) in [
        ("taskmanagers", want.taskmanagers, s.cluster.taskmanagers),
        ("slots", want.slots, s.cluster.slots),
    ] {
        if let Some(e) = expected.filter(|e| *e != got) {
            misses.push(Miss::file(what, e.to_string(), got.to_string()));
        }
    }
    let used: BTreeSet<&str> = s.faults.iter().map(|f| action_keyword(&f.action)).collect();
    let absent: Vec<&str> = want
        .fault_kinds
        .iter()
        .map(String::as_str)
        .filter(|k| !used.contains(k))
        .collect();
    if !absent.is_empty() {
        misses.push(Miss::file(
            "[[faults]]",
            format!("a fault with action {}", absent.join(", ")),
            if used.is_empty() {
                "none".to_string()
            } else {
                used.into_iter().collect::<Vec<_>>().join(", ")
            },
        ));
    }
    if let Some(m) = want.mode.as_deref().filter(|m| *m != s.mode.as_str()) {
        misses.push(Miss::file("mode", m, s.mode.as_str()));
    }
    if let Some(p) = &want.provider {
        let got = match s.cluster.provider {
            sim::scenario::Provider::Standalone => "standalone",
            sim::scenario::Provider::Active => "active",
        };
        if p != got {
            misses.push(Miss::file("provider", p.clone(), got));
        }
    }
    for (job, plan) in &want.plan {
        let Some(j) = s.jobs.iter().find(|j| &j.graph.job_name == job) else {
            misses.push(Miss::file("jobs", format!("a job named {job}"), "none"));
            continue;
        };
        let jg = JobGraph::from_stream_graph(&j.graph);
        for mut m in check_plan(plan, &jg) {
            m.what = format!("{job}: {}", m.what);
            misses.push(m);
        }
    }
    if !misses.is_empty() {
        return Ok(misses);
    }

    let outcome = sim::Simulation::new(s, None)
        .run()
        .map_err(|e| BookError::Scenario {
            path: s.path.clone(),
            message: e.to_string(),
        })?;
    if s.expect.is_empty() {
        misses.push(Miss::run("[expect]", "a prediction", "none"));
    }
    for f in &outcome.failed_expectations {
        // "job NAME: expected WANT, got GOT", from the simulator.
        let (what, rest) = f.split_once(": expected ").unwrap_or((f.as_str(), ""));
        let (expected, got) = rest.split_once(", got ").unwrap_or((rest, ""));
        misses.push(Miss::run(what, expected, got));
    }
    misses.extend(check_own_taskmanager(
        &want.own_taskmanager,
        &outcome.events,
    ));
    // A status the scenario's own [expect] already missed is said once.
    for m in check_status(&want.status, &outcome) {
        if !misses.contains(&m) {
            misses.push(m);
        }
    }
    if let Some(min) = want.min_restarts {
        let restarts = outcome
            .events
            .iter()
            .filter(|e| matches!(e.kind, runtime::events::EventKind::Restarted { .. }))
            .count();
        if restarts < min as usize {
            misses.push(Miss::run(
                "restarts",
                format!("at least {min}"),
                restarts.to_string(),
            ));
        }
    }
    if want.exactly_once {
        let reference = sim::campaign::reference(s).map_err(|e| BookError::Scenario {
            path: s.path.clone(),
            message: format!("the run without faults: {e}"),
        })?;
        misses.extend(check_exactly_once(
            &outcome,
            &sim::campaign::committed(&outcome),
            &reference,
        ));
    }
    Ok(misses)
}

/// For each job named in `want`: its final status in the run.
fn check_status(want: &BTreeMap<String, String>, outcome: &sim::Outcome) -> Vec<Miss> {
    want.iter()
        .filter_map(|(job, status)| {
            let got = outcome
                .jobs
                .iter()
                .rev()
                .find(|j| &j.name == job)
                .and_then(|j| j.result.as_ref())
                .map_or("no result".to_string(), |r| r.status.to_string());
            (&got != status).then(|| Miss::run(format!("job {job}"), status.clone(), got))
        })
        .collect()
}

/// For each job: its committed records (`have`, sorted) against the
/// fault-free run's (`want`, sorted), as records lost and records extra.
fn check_exactly_once(
    outcome: &sim::Outcome,
    have: &[Vec<runtime::operators::Value>],
    want: &[Vec<runtime::operators::Value>],
) -> Vec<Miss> {
    let mut misses = Vec::new();
    for ((j, have), want) in outcome.jobs.iter().zip(have).zip(want) {
        if have == want {
            continue;
        }
        let mut count: BTreeMap<&runtime::operators::Value, i64> = BTreeMap::new();
        for v in want {
            *count.entry(v).or_default() += 1;
        }
        for v in have {
            *count.entry(v).or_default() -= 1;
        }
        let lost: i64 = count.values().filter(|n| **n > 0).sum();
        let extra: i64 = -count.values().filter(|n| **n < 0).sum::<i64>();
        misses.push(Miss::run(
            format!("job {}: committed output", j.name),
            format!("the {} records of the run without faults", want.len()),
            format!("{} records ({lost} lost, {extra} extra)", have.len()),
        ));
    }
    misses
}

/// For each name part in `vertices`: every TaskManager that ran a subtask
/// of a vertex whose name holds it ran no other vertex's subtask.
fn check_own_taskmanager(vertices: &[String], events: &[runtime::events::Event]) -> Vec<Miss> {
    use runtime::events::EventKind;
    // TaskManager → the vertices (job, name) deployed on it in the run.
    let mut on: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in events {
        if let EventKind::TaskDeployed {
            vertex,
            resource_id,
            ..
        } = &e.kind
        {
            on.entry(resource_id.to_string())
                .or_default()
                .insert(vertex.clone());
        }
    }
    let mut misses = Vec::new();
    for part in vertices {
        let tms: Vec<(&String, &BTreeSet<String>)> = on
            .iter()
            .filter(|(_, vs)| vs.iter().any(|v| v.contains(part.as_str())))
            .collect();
        if tms.is_empty() {
            misses.push(Miss::run(
                format!("{part}'s TaskManager"),
                "a deployed subtask",
                "none",
            ));
        }
        for (tm, vs) in tms {
            let others: Vec<&str> = vs
                .iter()
                .filter(|v| !v.contains(part.as_str()))
                .map(String::as_str)
                .collect();
            if !others.is_empty() {
                misses.push(Miss::run(
                    format!("{part} on {tm}"),
                    format!("{tm} to run only {part}"),
                    format!("{tm} also running {}", others.join(", ")),
                ));
            }
        }
    }
    misses
}

/// One expectation a file misses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// What was expected (e.g. "slots", "job wordcount").
    pub what: String,
    /// The expected value.
    pub expected: String,
    /// What there is instead.
    pub got: String,
    /// Where `got` comes from: "the plan", "the file" or "the run".
    pub of: &'static str,
}

impl Miss {
    fn new(
        of: &'static str,
        what: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Miss {
        Miss {
            what: what.into(),
            expected: expected.into(),
            got: got.into(),
            of,
        }
    }

    /// A miss in the file itself (what the student wrote).
    fn file(what: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Miss {
        Miss::new("the file", what, expected, got)
    }

    /// A miss in what the run did.
    fn run(what: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Miss {
        Miss::new("the run", what, expected, got)
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, {} has {}",
            self.what, self.expected, self.of, self.got
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
            (expected != got)
                .then(|| Miss::new("the plan", what, expected.to_string(), got.to_string()))
        })
        .collect()
}

/// What `book check` prints for `file` and its misses: `FILE: right, …`
/// or `FILE: not yet` and one line per miss.
pub fn report(file: &str, misses: &[Miss]) -> String {
    if misses.is_empty() {
        return format!("{file}: right, it meets every expectation\n");
    }
    let mut out = format!("{file}: not yet\n");
    for m in misses {
        out.push_str(&format!("  {m}\n"));
    }
    out
}

/// The command that checks `file` against the exercise in folder `dir`
/// (both relative to the repository).
pub fn check_command(dir: &str, file: &str) -> String {
    format!("cargo run -p mini-flink-tests --bin book -- check {dir} {file}")
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
