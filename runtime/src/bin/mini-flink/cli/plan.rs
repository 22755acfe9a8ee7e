//! `mini-flink plan`: the plan of a job, ours before it is submitted, or a
//! real Flink's.
//!
//! Flink's client compiles a program into a JobGraph (chaining operators)
//! before it submits anything; its web UI and `GET /jobs/:id/plan` then
//! show that plan. This command compiles a job file the same way and shows
//! the plan: as text, as the JSON of `GET /jobs/:id/plan`, as Graphviz DOT
//! of one view (condensed StreamGraph, chained JobGraph, parallel
//! ExecutionGraph), or drawn as SVG.
//!
//! It also shows the plan of a job that runs on a real Apache Flink (or a
//! mini-flink) cluster, read from its REST API (`--from-rest
//! URL/jobs/JID`: `GET /jobs/JID/plan`, and `GET /jobs/JID` for the slot
//! sharing groups) or from a saved answer (`PLAN.json`), through
//! [`runtime::graph::flink_plan`]: the same views, drawn by the same code.
//! In: a job file, a saved plan or a URL. Out: standard output or an SVG
//! file.

use super::compile;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use runtime::graph::flink_plan::{dataflow_text, flink_job_dataflow, flink_plan_dataflow};
use runtime::graph::plan::{PlanResponse, plan_text, preview_job_id};
use runtime::graph::viz_model;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `mini-flink plan`.
#[derive(Debug, Args)]
#[command(
    after_help = "A real Flink's job (or a mini-flink cluster's), over REST or saved:\n  \
    mini-flink plan --from-rest http://127.0.0.1:8081/jobs/JID\n  \
    mini-flink plan --from-rest http://127.0.0.1:8081 --job JID --dot parallel\n  \
    curl http://127.0.0.1:8081/jobs/JID/plan > plan.json && mini-flink plan plan.json --svg plan.svg"
)]
pub struct PlanArgs {
    /// A job file (TOML), or a saved answer of Flink's `GET /jobs/:id/plan`
    /// or `GET /jobs/:id` (JSON: a `.json` file, or one starting with `{`).
    #[arg(
        value_name = "JOB.toml|PLAN.json",
        required_unless_present = "from_rest",
        conflicts_with = "from_rest"
    )]
    file: Option<PathBuf>,
    /// Read the plan of a running job from a Flink REST endpoint:
    /// `http://HOST:8081/jobs/JID` (or the base URL with --job JID).
    #[arg(long, value_name = "URL")]
    from_rest: Option<String>,
    /// With --from-rest and a base URL: the job's id (32 hex digits; Flink's
    /// `GET /jobs/overview` lists them).
    #[arg(long, value_name = "JID", requires = "from_rest")]
    job: Option<String>,
    /// With --from-rest: send `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN", requires = "from_rest")]
    token: Option<String>,

    /// Print the plan as the JSON of Flink's `GET /jobs/:id/plan` (for a job
    /// file, plus `name` and `slots`; from a cluster, its answer as is).
    #[arg(long, conflicts_with_all = ["dot", "svg"])]
    json: bool,
    /// Print Graphviz DOT of a view: condensed (StreamGraph), chained (JobGraph)
    /// or parallel (ExecutionGraph). With --svg: the view to draw.
    #[arg(long, value_name = "VIEW", value_parser = parse_view)]
    dot: Option<viz::View>,
    /// Draw the view (default: chained) as SVG into FILE with Graphviz's `dot` program.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// A `--dot` value that names no view.
#[derive(Debug, thiserror::Error)]
#[error("unknown view `{0}`: the views are condensed, chained and parallel")]
struct UnknownView(String);

/// Parses `--dot`'s view name.
fn parse_view(s: &str) -> Result<viz::View, UnknownView> {
    viz::View::parse(s).ok_or_else(|| UnknownView(s.to_string()))
}

/// A plan in the three forms the command prints.
struct Shown {
    /// The picture model.
    dataflow: viz::Dataflow,
    /// The text for people.
    text: String,
    /// The JSON of `GET /jobs/:id/plan`, pretty-printed.
    json: String,
}

/// Shows the plan of a job file, a saved plan or a job on a cluster.
pub fn plan(a: PlanArgs) -> Result<ExitCode> {
    let shown = match (&a.from_rest, &a.file) {
        (Some(url), _) => from_rest(
            url,
            a.job.as_deref(),
            a.token.as_deref(),
            super::security::tls_ca().as_deref(),
        )?,
        (None, Some(path)) if is_json(path) => saved_plan(path)?,
        (None, Some(path)) => {
            let jg = compile(path)?;
            Shown {
                dataflow: viz_model(&jg),
                text: plan_text(&jg),
                json: serde_json::to_string_pretty(&PlanResponse::new(&jg, preview_job_id(&jg)))?,
            }
        }
        (None, None) => bail!("give a job file, a saved plan (JSON) or --from-rest URL"),
    };
    if a.json {
        say!("{}", shown.json);
    } else if let Some(out) = &a.svg {
        let view = a.dot.unwrap_or(viz::View::Chained);
        if !viz::dot_available() {
            bail!(
                "cannot draw {}: the `dot` program (graphviz) is not installed or not on PATH; \
                 install graphviz (e.g. `apt-get install graphviz`), or print the DOT text \
                 with `--dot {}` and render it elsewhere",
                out.display(),
                view
            );
        }
        let dot = viz::dot(&shown.dataflow, view);
        viz::render_svg(&dot, out).map_err(|e| anyhow!("cannot draw {}: {e}", out.display()))?;
        say!(
            "wrote the {view} view of job \"{}\" to {}",
            shown.dataflow.name,
            out.display()
        );
    } else if let Some(view) = a.dot {
        say_raw!("{}", viz::dot(&shown.dataflow, view));
    } else {
        say_raw!("{}", shown.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a file is a saved plan: named `.json`, or starting with `{`
/// (which no TOML file does). A file that cannot be read goes the job
/// file's way, whose error names it.
fn is_json(path: &Path) -> bool {
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    named
        || std::fs::read(path)
            .is_ok_and(|b| b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{'))
}

/// A saved answer of `GET /jobs/:id/plan` or `GET /jobs/:id`.
fn saved_plan(path: &Path) -> Result<Shown> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the saved plan {}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{}: not JSON: {e}", path.display()))?;
    let dataflow = flink_plan_dataflow(&json).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let groups_known = json.get("vertices").is_some();
    Ok(flink_shown(
        dataflow,
        &json,
        &path.display().to_string(),
        groups_known,
    ))
}

/// The text and JSON of a Flink plan read from `source`.
fn flink_shown(dataflow: viz::Dataflow, json: &Value, source: &str, groups: bool) -> Shown {
    let plan = json.get("plan").unwrap_or(json);
    let jid = plan.get("jid").and_then(Value::as_str).unwrap_or("?");
    let mut text = format!("Plan of job {jid}, read from {source}\n");
    text.push_str(&dataflow_text(&dataflow));
    if !groups {
        text.push_str(
            "  (slot sharing groups are not in a plan: all shown as \"default\"; \
             GET /jobs/:id has them)\n",
        );
    }
    Shown {
        dataflow,
        text,
        json: serde_json::to_string_pretty(&serde_json::json!({ "plan": plan }))
            .unwrap_or_default(),
    }
}

/// The client of one cluster's REST API: its agent (timeouts, TLS) and token.
struct Rest<'a> {
    agent: ureq::Agent,
    token: Option<&'a str>,
}

/// How long a REST call may take in all, and to connect.
const REST_TIMEOUT: Duration = Duration::from_secs(30);
const REST_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Fetches `GET URL/jobs/JID/plan`, and `GET URL/jobs/JID` for the
/// vertices' names and slot sharing groups.
fn from_rest(
    url: &str,
    job: Option<&str>,
    token: Option<&str>,
    tls_ca: Option<&Path>,
) -> Result<Shown> {
    let (base, jid) = rest_target(url, job)?;
    let https = base.starts_with("https://");
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REST_TIMEOUT))
        .timeout_connect(Some(REST_CONNECT_TIMEOUT));
    match tls_ca {
        Some(ca) if https => {
            config = config.tls_config(runtime::net::tls::http_client_tls(ca)?);
        }
        Some(_) => bail!("--from-rest {url}: --tls-ca goes with an https:// URL"),
        None if https => bail!(
            "--from-rest {url}: an https URL needs --tls-ca CA.pem, the cluster's CA certificate"
        ),
        None => {}
    }
    let rest = Rest {
        agent: config.build().into(),
        token,
    };
    let Some(jid) = jid else {
        bail!("{}", which_job(&rest, &base));
    };
    let plan_url = format!("{base}/jobs/{jid}/plan");
    let plan = get_json(&rest, &plan_url)?;
    let mut dataflow = flink_plan_dataflow(&plan).map_err(|e| anyhow!("GET {plan_url}: {e}"))?;
    let detail_url = format!("{base}/jobs/{jid}");
    let mut groups = false;
    match get_json(&rest, &detail_url) {
        Ok(detail) => match flink_job_dataflow(&plan, &detail) {
            Ok(d) => {
                dataflow = d;
                groups = true;
            }
            Err(e) => eprintln!("note: GET {detail_url}: {e}; slot sharing groups not shown"),
        },
        Err(e) => eprintln!("note: {e:#}; slot sharing groups not shown"),
    }
    Ok(flink_shown(dataflow, &plan, &plan_url, groups))
}

/// The REST base URL and the job id of `--from-rest URL [--job JID]`.
fn rest_target(url: &str, job: Option<&str>) -> Result<(String, Option<String>)> {
    let given = url.trim();
    let mut u = if given.contains("://") {
        if !given.starts_with("http://") && !given.starts_with("https://") {
            bail!("--from-rest {given}: not an http:// or https:// URL");
        }
        given.to_string()
    } else {
        format!("http://{given}")
    };
    while u.ends_with('/') {
        u.pop();
    }
    if let Some(s) = u.strip_suffix("/plan") {
        u = s.to_string();
    }
    let (base, from_url) = match u.rfind("/jobs/") {
        Some(i) => (
            u[..i].to_string(),
            Some(u[i + "/jobs/".len()..].to_string()),
        ),
        None => (u.strip_suffix("/jobs").unwrap_or(&u).to_string(), None),
    };
    if base
        .split_once("://")
        .is_none_or(|(_, host)| host.is_empty())
    {
        bail!("--from-rest {given}: no host in the URL (expected http://HOST:PORT/jobs/JID)");
    }
    let jid = match (from_url, job) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b.trim()) => {
            bail!("--from-rest {given} names job {a} but --job says {b}: give the job once")
        }
        (Some(a), _) => Some(a),
        (None, b) => b.map(|b| b.trim().to_string()),
    };
    if let Some(j) = &jid
        && (j.len() != 32 || !j.chars().all(|c| c.is_ascii_hexdigit()))
    {
        bail!(
            "--from-rest {given}: `{j}` is not a job id (32 hex digits, as \
             {base}/jobs/overview lists them; expected URL/jobs/JID)"
        );
    }
    Ok((base, jid))
}

/// The error for a URL without a job: which jobs the cluster has, when it
/// says.
fn which_job(rest: &Rest<'_>, base: &str) -> String {
    let mut s = format!("--from-rest {base}: which job? Give {base}/jobs/JID, or --job JID");
    if let Ok(v) = get_json(rest, &format!("{base}/jobs/overview"))
        && let Some(jobs) = v.get("jobs").and_then(Value::as_array)
    {
        let field =
            |j: &Value, k: &str| j.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
        let list: Vec<String> = jobs
            .iter()
            .map(|j| {
                format!(
                    "{} \"{}\" ({})",
                    field(j, "jid"),
                    field(j, "name"),
                    field(j, "state")
                )
            })
            .collect();
        if list.is_empty() {
            s.push_str(" (the cluster has no jobs)");
        } else {
            s.push_str(&format!("; the cluster's jobs: {}", list.join(", ")));
        }
    }
    s
}

/// `GET url` as JSON; an answer other than 200 is an error that shows
/// Flink's `{"errors": [...]}`.
fn get_json(rest: &Rest<'_>, url: &str) -> Result<Value> {
    let mut req = rest.agent.get(url).header("Accept", "application/json");
    if let Some(t) = rest.token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = req.call().map_err(|e| unreachable_error(url, e))?;
    let status = resp.status();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .map_err(|e| anyhow!("GET {url}: cannot read the answer: {e}"))?;
    let json: Option<Value> = serde_json::from_str(&body).ok();
    if status.as_u16() != 200 {
        let reason = status.canonical_reason().unwrap_or("");
        let errors = json
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(Value::as_array)
            .map(|es| {
                es.iter()
                    .map(|e| {
                        e.as_str()
                            .unwrap_or("")
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_else(|| excerpt(&body));
        let hint = match status.as_u16() {
            401 | 403 => "; the cluster wants a token: pass --token TOKEN",
            404 => "; is the job id right, and is this a Flink REST endpoint?",
            _ => "",
        };
        bail!(
            "GET {url}: HTTP {} {reason}: {errors}{hint}",
            status.as_u16()
        );
    }
    json.ok_or_else(|| {
        anyhow!(
            "GET {url}: the answer is not JSON (is this a Flink REST endpoint?): {}",
            excerpt(&body)
        )
    })
}

/// The first line of a body, cut short.
fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return "(empty body)".into();
    }
    let cut: String = line.chars().take(80).collect();
    if cut.len() < line.len() {
        format!("`{cut}…`")
    } else {
        format!("`{cut}`")
    }
}

/// Why a request got no answer, in words.
fn unreachable_error(url: &str, e: ureq::Error) -> anyhow::Error {
    match &e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => anyhow!(
            "GET {url}: nothing listens there (connection refused); is the cluster's \
             REST endpoint (port 8081 by default) running?"
        ),
        ureq::Error::HostNotFound => anyhow!("GET {url}: no such host"),
        ureq::Error::Timeout(_) => anyhow!("GET {url}: no answer in time ({e})"),
        _ => anyhow!("GET {url}: {e}"),
    }
}
