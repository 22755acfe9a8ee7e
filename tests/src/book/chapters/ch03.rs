//! Chapter 3, "The JobManager's three roles": the ResourceManager
//! (standalone and active), the Dispatcher (its REST answers) and one
//! JobMaster per job.

use super::ch02::{TWO_JOBS, picture};
use super::runs::{RestAnswer, RestAsk, curl_jq, load, rest, sim_run, sim_run_grep};
use super::screen_text;
use crate::book::{BookError, Generated, transcript};
use std::path::Path;
use tui::App;

/// When the REST client asks the cluster of [`TWO_JOBS`], and when its
/// picture and screen are taken: both jobs run.
const BOTH_RUN_MS: u64 = 3_000;

/// Chapter 3's files: `active-rm.toml`'s ResourceManager starting and
/// stopping TaskManagers (timeline, screen), the Dispatcher's REST
/// answers about [`TWO_JOBS`], and that cluster with one JobMaster per
/// job (picture, screen).
pub fn three_roles(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut files = Vec::new();

    // The ResourceManager, active.
    let (_, s, o) = sim_run(root, "scenarios/active-rm.toml", false)?;
    files.push(Generated::new(
        "ch03/active-rm.console",
        sim_run_grep(
            "scenarios/active-rm.toml",
            &s,
            &o,
            &["ResourceManager", "waits", "job \"wide\" is"],
        ),
    ));
    let mut app = App::live(&s, None);
    app.run_until(110);
    files.push(Generated::new("ch03/active-rm.screen", screen_text(&app)));

    // The Dispatcher: REST answers while both jobs run.
    let s = load(root, TWO_JOBS)?;
    let answers = rest(
        &s,
        BOTH_RUN_MS,
        &[
            RestAsk("/overview"),
            RestAsk("/jobs/overview"),
            RestAsk("/taskmanagers"),
            RestAsk("/jobs/{job:clicks}/plan"),
        ],
    )?;
    let [overview, jobs, tms, plan] = answers.as_slice() else {
        return Err(BookError::Scenario {
            path: s.path.clone(),
            message: format!("expected 4 REST answers, got {}", answers.len()),
        });
    };
    files.push(Generated::new(
        "ch03/rest-overview.console",
        curl_jq(overview),
    ));
    files.push(Generated::new("ch03/rest-jobs.console", curl_jq(jobs)));
    files.push(Generated::new(
        "ch03/rest-taskmanagers.console",
        taskmanagers_jq(tms),
    ));
    files.push(Generated::new("ch03/rest-plan.console", curl_jq(plan)));

    // One JobMaster per job.
    let mut app = App::live(&s, None);
    files.push(Generated::new(
        "ch03/jobmasters.dot",
        picture(&mut app, &s, BOTH_RUN_MS)?,
    ));
    files.push(Generated::new("ch03/jobmasters.screen", screen_text(&app)));
    Ok(files)
}

/// The jq filter that reads one line per TaskManager out of
/// `GET /taskmanagers`.
const TASKMANAGERS_JQ: &str =
    r#".taskmanagers[] | "\(.id): \(.slotsNumber) slots, \(.freeSlots) free""#;

/// `curl -s …/taskmanagers | jq -r '…'`, and what jq prints: the
/// [`TASKMANAGERS_JQ`] line of each TaskManager.
fn taskmanagers_jq(a: &RestAnswer) -> String {
    let mut out = String::new();
    for tm in a.body["taskmanagers"].as_array().into_iter().flatten() {
        let field = |k: &str| match &tm[k] {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        out.push_str(&format!(
            "{}: {} slots, {} free\n",
            field("id"),
            field("slotsNumber"),
            field("freeSlots")
        ));
    }
    transcript(
        &format!(
            "curl -s http://localhost:8081{} | jq -r '{TASKMANAGERS_JQ}'",
            a.path
        ),
        &out,
    )
}
