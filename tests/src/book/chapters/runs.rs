//! Runs of scenarios as the chapters on the cluster (2, 3 and 5) show
//! them: what `sim run` and `sim compare` print, excerpts of it as `grep`
//! would cut them, and the REST answers of a simulated JobManager.
//!
//! Every text here comes from the library calls the binaries make:
//! [`sim_run`] prints [`sim::summary::summary`], as `sim run` does (with
//! `--brief`, up to the timeline); [`compare`] prints
//! [`sim::compare::table`], as `sim compare` does; [`rest`] runs the
//! scenario with one more client host on turmoil that asks the
//! JobManager's REST port ([`sim::net::REST_PORT`]) with
//! [`sim::http_client`], as the REST tests do.

use crate::book::{BookError, transcript};
use runtime::events::Clock as _;
use runtime::net::Network as _;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

/// Loads the scenario at `rel` (relative to the repository's root), as
/// `sim run` does.
pub fn load(root: &Path, rel: &str) -> Result<sim::Scenario, BookError> {
    let path = root.join(rel);
    sim::load(&path).map_err(|e| BookError::Scenario {
        path,
        message: e.to_string(),
    })
}

/// Runs a scenario to its end with its own seed.
pub fn run(s: &sim::Scenario) -> Result<sim::Outcome, BookError> {
    sim::Simulation::new(s, None)
        .run()
        .map_err(|e| BookError::Scenario {
            path: s.path.clone(),
            message: e.to_string(),
        })
}

/// What `sim run SCENARIO` prints for the run `o` of `s`; with `brief`,
/// what `sim run SCENARIO --brief` prints (the report without its
/// timeline).
pub fn summary(s: &sim::Scenario, o: &sim::Outcome, brief: bool) -> String {
    let mut text = sim::summary::summary(s, s.seed, o);
    if brief && let Some(i) = text.find("\nTimeline\n") {
        text.truncate(i + 1);
    }
    text
}

/// The command line that runs `sim` on `args`, as a reader types it.
pub fn sim_command(args: &str) -> String {
    format!("cargo run -q -p sim -- {args}")
}

/// `sim run REL [--brief]`, run and printed: the transcript, and the run
/// (for the chapter to draw more from).
pub fn sim_run(
    root: &Path,
    rel: &str,
    brief: bool,
) -> Result<(String, sim::Scenario, sim::Outcome), BookError> {
    let s = load(root, rel)?;
    let o = run(&s)?;
    let flag = if brief { " --brief" } else { "" };
    let text = transcript(
        &sim_command(&format!("run {rel}{flag}")),
        &summary(&s, &o, brief),
    );
    Ok((text, s, o))
}

/// The lines of `text` that hold any of `patterns`, as `grep -F -e P1 -e
/// P2 ...` prints them.
pub fn grep(text: &str, patterns: &[&str]) -> String {
    let mut out = String::new();
    for line in text
        .lines()
        .filter(|l| patterns.iter().any(|p| l.contains(p)))
    {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// ` | grep -F -e 'P1' -e 'P2' ...`: the shell spelling of [`grep`].
pub fn grep_command(patterns: &[&str]) -> String {
    let mut s = " | grep -F".to_string();
    for p in patterns {
        // Patterns are the chapters' own constants; none holds a quote.
        debug_assert!(!p.contains('\''), "a grep pattern with a quote: {p}");
        s.push_str(&format!(" -e '{p}'"));
    }
    s
}

/// `sim run REL | grep -F -e ...`: the run's report cut to the lines
/// that hold one of `patterns`.
pub fn sim_run_grep(rel: &str, s: &sim::Scenario, o: &sim::Outcome, patterns: &[&str]) -> String {
    transcript(
        &format!(
            "{}{}",
            sim_command(&format!("run {rel}")),
            grep_command(patterns)
        ),
        &grep(&summary(s, o, false), patterns),
    )
}

/// `sim compare REL`, run and printed.
pub fn compare(root: &Path, rel: &str) -> Result<String, BookError> {
    let s = load(root, rel)?;
    let c = sim::compare::compare(&s, None).map_err(|e| BookError::Scenario {
        path: s.path.clone(),
        message: e.to_string(),
    })?;
    Ok(transcript(
        &sim_command(&format!("compare {rel}")),
        &sim::compare::table(&c),
    ))
}

/// One answer of the REST API.
#[derive(Debug, Clone)]
pub struct RestAnswer {
    /// The path asked for, with the job ids filled in.
    pub path: String,
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON (a string for a body that is not JSON).
    pub body: serde_json::Value,
}

/// A path to ask the REST API for; `{job:NAME}` stands for the id of the
/// job named NAME, as `GET /jobs/overview` lists it.
#[derive(Debug, Clone)]
pub struct RestAsk(pub &'static str);

/// Runs `s` with a client host that, at virtual time `at_ms`, asks the
/// JobManager's REST port for each of `asks` (one connection each, one
/// after the other), and returns the answers in order. The JobManager is
/// the session cluster's (`jobmanager:8081`).
pub fn rest(s: &sim::Scenario, at_ms: u64, asks: &[RestAsk]) -> Result<Vec<RestAnswer>, BookError> {
    let answers: Rc<RefCell<Vec<RestAnswer>>> = Rc::new(RefCell::new(Vec::new()));
    let mut simulation = sim::Simulation::new(s, None);
    let wanted = asks.len();
    let asks = asks.to_vec();
    let log = answers.clone();
    let token = sim::net::rest_token(simulation.seed());
    simulation.client_host("rest-client", async move {
        let now = sim::net::SimClock.now_ms();
        if now < at_ms {
            tokio::time::sleep(Duration::from_millis(at_ms - now)).await;
        }
        for ask in asks {
            let path = fill_job_ids(ask.0, &log.borrow())?;
            let answer = get(&token, &path).await?;
            log.borrow_mut().push(answer);
        }
        Ok(())
    });
    simulation.run().map_err(|e| BookError::Scenario {
        path: s.path.clone(),
        message: e.to_string(),
    })?;
    let out = answers.borrow().clone();
    if out.len() != wanted {
        return Err(BookError::Scenario {
            path: s.path.clone(),
            message: format!(
                "the REST client got {} of {wanted} answers: the run ended before {at_ms} ms",
                out.len()
            ),
        });
    }
    Ok(out)
}

/// The REST address of the simulated session cluster's JobManager.
const REST_ADDR: &str = "jobmanager:8081";

/// `GET path` from the client host, with the simulation's REST `token`.
async fn get(token: &str, path: &str) -> Result<RestAnswer, Box<dyn std::error::Error>> {
    let stream = sim::net::TurmoilNetwork::new(0, 0)
        .connect(REST_ADDR.to_string())
        .await?;
    let (status, bytes) = sim::http_client::get(stream, REST_ADDR, Some(token), path).await?;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
    Ok(RestAnswer {
        path: path.to_string(),
        status,
        body,
    })
}

/// `template` with each `{job:NAME}` replaced by that job's id, looked up
/// in the answers so far to `/jobs/overview`.
fn fill_job_ids(
    template: &str,
    so_far: &[RestAnswer],
) -> Result<String, Box<dyn std::error::Error>> {
    let mut out = template.to_string();
    while let Some(start) = out.find("{job:") {
        let end = out[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| format!("an unclosed {{job:...}} in {template}"))?;
        let name = &out[start + 5..end];
        let id = so_far
            .iter()
            .filter(|a| a.path == "/jobs/overview")
            .flat_map(|a| a.body["jobs"].as_array().cloned().unwrap_or_default())
            .find(|j| j["name"] == name)
            .and_then(|j| j["jid"].as_str().map(str::to_string))
            .ok_or_else(|| format!("no job named {name} in an earlier GET /jobs/overview"))?;
        out.replace_range(start..=end, &id);
    }
    Ok(out)
}

/// `curl -s http://localhost:8081PATH | jq .`, and what it prints: the
/// body pretty-printed (the JobManager's JSON has its keys in order, so
/// jq prints them as they came).
pub fn curl_jq(a: &RestAnswer) -> String {
    // A serde_json Value always serialises.
    let json = serde_json::to_string_pretty(&a.body).expect("JSON prints");
    transcript(
        &format!("curl -s http://localhost:8081{} | jq .", a.path),
        &format!("{json}\n"),
    )
}
