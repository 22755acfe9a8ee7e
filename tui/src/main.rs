//! `tui`: watch and break a simulated Flink cluster.
//!
//! ```text
//! cargo run -p tui -- scenarios/session.toml [--seed N] [--speed X] [--paused]
//! cargo run -p tui -- scenarios/tm-crash.toml --replay trace.jsonl
//! cargo run -p tui -- scenarios/session.toml --dot slots --at 3000 [--svg FILE] [--png FILE]
//! cargo run -p tui -- --attach http://127.0.0.1:8081 [--refresh MS] [--token TOKEN]
//! ```
//!
//! With `--attach`, no simulator: the TUI polls a running JobManager's
//! REST API (mini-flink's, or a real Apache Flink 2.x's) every `--refresh`
//! ms (default: the cluster's `refresh-interval`) and shows the same
//! screens. An address where nothing answers is an error before the
//! terminal is touched (exit code 2); once attached, a failed poll only
//! marks the screen stale.
//!
//! With `--dot`, no terminal UI: the scenario runs (or replays) headless to
//! virtual time `--at` ms, and a picture of the cluster then (`slots` or
//! `cluster`, see `tui::pictures`) is printed as DOT, or written as SVG or
//! PNG with Graphviz.
//!
//! The log (`tracing`, filtered by `RUST_LOG`; warnings and errors by
//! default) is kept in memory while the terminal UI runs, its latest line
//! shown in the status line; with `--dot` it goes to stderr.
//!
//! Errors in the scenario (or the trace) are printed before the terminal
//! is touched (exit code 2). The terminal is restored on exit, on Ctrl-C
//! (a key in raw mode, handled as quit) and on panic (ratatui's hook).

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use tui::app::{App, secs};
use tui::term::{self, CrosstermInput};
use viz::ClusterDiagram;

#[derive(Parser)]
#[command(
    name = "tui",
    version,
    about = "Run a mini-flink scenario in the simulator and watch it live (or replay a trace), or attach to a running cluster's REST API (mini-flink or Apache Flink)"
)]
struct Cli {
    /// The scenario file (with --replay too: it gives the jobs' graphs).
    #[arg(required_unless_present = "attach")]
    scenario: Option<PathBuf>,
    /// Watch a running cluster instead: the REST address of its JobManager
    /// (mini-flink's or Apache Flink's), like http://127.0.0.1:8081.
    #[arg(long, value_name = "URL", conflicts_with_all = ["scenario", "replay", "dot", "seed", "paused"])]
    attach: Option<String>,
    /// With --attach: poll every MS milliseconds (default: the cluster's
    /// `refresh-interval` from GET /config, else 3000).
    #[arg(long, value_name = "MS", requires = "attach", value_parser = clap::value_parser!(u64).range(100..))]
    refresh: Option<u64>,
    /// With --attach: the bearer token of the cluster's REST API [default:
    /// the one derived from the cluster's secret file, if there is one]
    #[arg(long, value_name = "TOKEN", requires = "attach")]
    token: Option<String>,
    /// With --attach: the mini-flink cluster's secret file, for its token
    /// [default: $XDG_CONFIG_HOME/mini-flink/secret, else ~/.config/mini-flink/secret]
    #[arg(long, value_name = "PATH", requires = "attach", env = runtime::net::auth::SECRET_FILE_ENV)]
    secret_file: Option<PathBuf>,
    /// With an https:// --attach URL: the cluster's CA certificate (PEM),
    /// the file its processes' --tls-ca name
    #[arg(long, value_name = "CA.pem", requires = "attach")]
    tls_ca: Option<PathBuf>,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Virtual seconds per real second (1 = real time; 1/64 .. 64).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Play back a recorded trace (`sim run SCENARIO --trace TRACE`) instead of running.
    #[arg(long, value_name = "TRACE")]
    replay: Option<PathBuf>,
    /// Start paused.
    #[arg(long)]
    paused: bool,
    /// Print a picture of the cluster at --at as DOT and exit, without the
    /// terminal UI: `slots` (TaskManagers, slots, the subtasks sharing them)
    /// or `cluster` (client, JobManager roles, TaskManagers, connections).
    #[arg(long, value_name = "VIEW", value_parser = parse_diagram, requires = "at")]
    dot: Option<ClusterDiagram>,
    /// With --dot: the virtual time of the picture, in milliseconds.
    #[arg(long, value_name = "MS", requires = "dot")]
    at: Option<u64>,
    /// With --dot: write the picture as SVG to FILE instead of printing DOT
    /// (needs Graphviz's `dot` program).
    #[arg(long, value_name = "FILE", requires = "dot")]
    svg: Option<PathBuf>,
    /// With --dot: write the picture as PNG to FILE instead of printing DOT
    /// (needs Graphviz's `dot` program).
    #[arg(long, value_name = "FILE", requires = "dot")]
    png: Option<PathBuf>,
}

/// A `--dot` value that names no cluster picture.
#[derive(Debug, thiserror::Error)]
#[error("expected `slots` or `cluster`")]
struct UnknownDiagram;

/// The `--dot` spelling of a cluster picture.
fn parse_diagram(s: &str) -> Result<ClusterDiagram, UnknownDiagram> {
    ClusterDiagram::parse(s).ok_or(UnknownDiagram)
}

/// Draws the picture `--dot` asks for at `--at` and prints or writes it.
fn draw(
    cli: &Cli,
    app: &mut App,
    scenario: &sim::Scenario,
    diagram: ClusterDiagram,
    at: u64,
) -> ExitCode {
    let picture = match tui::pictures::picture_at(app, scenario, at) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let dot = viz::cluster_dot(&picture, diagram);
    let files = [(&cli.svg, viz::Format::Svg), (&cli.png, viz::Format::Png)];
    let mut wrote = false;
    for (file, format) in files {
        let Some(path) = file else { continue };
        if let Err(e) = viz::render_to(&dot, format, path) {
            eprintln!("error: cannot draw {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {}", path.display());
        wrote = true;
    }
    if !wrote {
        print!("{dot}");
    }
    ExitCode::SUCCESS
}

/// Runs the terminal UI on `app` until `q`, then says where it left.
fn run_terminal(mut app: App) -> ExitCode {
    // While the terminal is drawn, the log (`RUST_LOG`, warnings and errors
    // by default) goes into memory and shows in the status line: a line on
    // stderr would tear the screen.
    let log = sim::logging::LogBuffer::new();
    let filter =
        std::env::var("RUST_LOG").unwrap_or_else(|_| sim::logging::DEFAULT_FILTER.to_string());
    if tracing::subscriber::set_global_default(sim::logging::subscriber(&filter, log.clone()))
        .is_ok()
    {
        app.attach_log(log);
    }
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            eprintln!("error: cannot set up the terminal: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = term::run(&mut terminal, &mut app, &mut CrosstermInput);
    ratatui::restore();
    match result {
        Ok(()) => {
            println!(
                "mini-flink tui: left \"{}\" at t={} ({} events)",
                app.title,
                secs(app.now_ms),
                app.events.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--attach URL`: polls the cluster once before the terminal is set up,
/// so that a wrong address is one clear error (exit code 2).
fn attach(cli: &Cli, url: &str) -> ExitCode {
    // The token: --token, else the one of the secret file (one given
    // explicitly must be readable; a missing default means no token, as
    // for a real Flink).
    let token = match (&cli.token, &cli.secret_file) {
        (Some(t), _) => Some(t.clone()),
        (None, explicit) => {
            let path = runtime::net::auth::secret_path(explicit.as_deref());
            match path.map(|p| runtime::net::auth::Secret::load(&p)) {
                Ok(Ok(s)) => Some(s.rest_token()),
                Ok(Err(e)) if explicit.is_some() => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
                _ => None,
            }
        }
    };
    let opts = tui::attach::AttachOptions {
        url: url.to_string(),
        token,
        tls_ca: cli.tls_ca.clone(),
        refresh_ms: cli.refresh,
        clock: None,
    };
    let mut app = match App::attach(opts) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot attach to {url}: {e}");
            return ExitCode::from(2);
        }
    };
    app.speed = 1.0;
    run_terminal(app)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(url) = &cli.attach {
        return attach(&cli, url);
    }
    // (clap does not ask for --attach where it would conflict with the scenario.)
    if cli.refresh.is_some() || cli.token.is_some() {
        eprintln!(
            "error: --refresh and --token go with --attach URL (a scenario runs in virtual time, without REST)"
        );
        return ExitCode::from(2);
    }
    let Some(scenario_path) = &cli.scenario else {
        eprintln!("error: give a scenario file, or --attach URL");
        return ExitCode::from(2);
    };
    let scenario = match sim::load(scenario_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if !(cli.speed.is_finite() && cli.speed > 0.0) {
        eprintln!("error: --speed must be a positive number, like 0.5 or 4");
        return ExitCode::from(2);
    }
    let mut app = match &cli.replay {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read the trace {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            match tui::app::parse_trace(&text) {
                Ok(events) => App::replay(&scenario, events),
                Err(e) => {
                    eprintln!(
                        "error: {}: {e}\n  help: a trace is what `cargo run -p sim -- run SCENARIO --trace FILE` writes, one JSON event per line",
                        path.display()
                    );
                    return ExitCode::from(2);
                }
            }
        }
        None => App::live(&scenario, cli.seed),
    };
    if let (Some(diagram), Some(at)) = (cli.dot, cli.at) {
        // Headless: the log goes to stderr, as `sim`'s does.
        sim::logging::init();
        return draw(&cli, &mut app, &scenario, diagram, at);
    }
    app.speed = cli.speed.clamp(tui::app::SPEEDS.0, tui::app::SPEEDS.1);
    app.paused = cli.paused;
    run_terminal(app)
}
