//! Frame render time for a big cluster: 32 TaskManagers × 4 slots, 16 jobs
//! of parallelism 8 (two chains each, so 256 subtasks), every slot busy,
//! one TaskManager crashed and one lost, into a 200×60 `TestBackend`.
//!
//! `cargo bench -p tui --bench render` prints the median time per frame of
//! each screen. The target is 16 ms (60 frames per second).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use runtime::events::{Event, EventKind, TaskCounters};
use runtime::events::{Fault, Role};
use runtime::graph::JobId;
use runtime::ids::{AllocationId, ResourceId};
use runtime::state::{ExecutionState, JobStatus};
use std::time::Instant;
use tui::{App, FlowView, Screen};

const TMS: u32 = 32;
const SLOTS: u32 = 4;
const JOBS: u32 = 16;
const P: u32 = 8;

const SCENARIO: &str = r#"
name = "bench"
[cluster]
taskmanagers = 32
slots = 4
[[jobs]]
[jobs.job]
name = "job"
parallelism = 8
[[jobs.job.operators]]
id = "src"
name = "Source: Gen"
kind = "generator"
args = { keys = 10, count = 1000, rate = 100 }
[[jobs.job.operators]]
id = "map"
name = "Map"
kind = "map"
fn = "to_pair"
input = "src"
[[jobs.job.operators]]
id = "sum"
name = "Sum"
kind = "sum"
input = "map"
partition = "hash"
key = "f0"
[[jobs.job.operators]]
id = "sink"
name = "Sink: Out"
kind = "discard"
input = "sum"
"#;

fn ev(t: u64, host: &str, kind: EventKind) -> Event {
    Event {
        t,
        host: host.into(),
        kind,
    }
}

fn events(vertices: &[String]) -> Vec<Event> {
    let mut out = vec![ev(
        0,
        "jobmanager",
        EventKind::HostStarted {
            role: Role::JobManager,
        },
    )];
    for i in 1..=TMS {
        out.push(ev(
            1,
            "jobmanager",
            EventKind::TaskManagerRegistered {
                resource_id: format!("taskmanager-{i}").into(),
                slots: SLOTS,
                data_addr: format!("taskmanager-{i}:6121"),
            },
        ));
    }
    for j in 0..JOBS {
        let job = JobId(j as u128);
        out.push(ev(
            10,
            "jobmanager",
            EventKind::JobSubmitted {
                job,
                name: "job".into(),
                vertices: 2,
                slots: P,
            },
        ));
        out.push(ev(
            10,
            "jobmanager",
            EventKind::JobStatusChanged {
                job,
                name: "job".into(),
                from: JobStatus::Created,
                to: JobStatus::Running,
                cause: None,
            },
        ));
        for s in 0..P {
            let k = j * P + s;
            let tm: ResourceId = format!("taskmanager-{}", k / SLOTS + 1).into();
            let slot = k % SLOTS;
            out.push(ev(
                11,
                "jobmanager",
                EventKind::SlotAllocated {
                    job,
                    allocation: AllocationId(k as u64),
                    resource_id: tm.clone(),
                    slot,
                },
            ));
            for (vi, v) in vertices.iter().enumerate() {
                out.push(ev(
                    12,
                    "jobmanager",
                    EventKind::TaskDeployed {
                        job,
                        vertex: v.clone(),
                        vertex_index: vi as u32,
                        subtask: runtime::ids::SubtaskIndex(s),
                        parallelism: P,
                        attempt: 0,
                        resource_id: tm.clone(),
                        slot,
                    },
                ));
                out.push(ev(
                    13,
                    "jobmanager",
                    EventKind::TaskStateChanged {
                        job,
                        vertex: v.clone(),
                        vertex_index: vi as u32,
                        subtask: runtime::ids::SubtaskIndex(s),
                        attempt: 0,
                        from: ExecutionState::Initializing,
                        to: ExecutionState::Running,
                        cause: None,
                    },
                ));
                out.push(ev(
                    1_013,
                    &tm,
                    EventKind::TaskMetrics {
                        job,
                        vertex: v.clone(),
                        vertex_index: vi as u32,
                        subtask: runtime::ids::SubtaskIndex(s),
                        counters: TaskCounters {
                            records_in: 5_000,
                            records_out: 5_000,
                            ..Default::default()
                        },
                        backpressure_permille: (k * 37 % 1000),
                    },
                ));
            }
            for to in 0..P {
                out.push(ev(
                    1_013,
                    &tm,
                    EventKind::ChannelTraffic {
                        job,
                        edge: 0,
                        from: s,
                        to,
                        records: 600,
                        bytes: 6_000,
                        remote: to / SLOTS != s / SLOTS,
                    },
                ));
            }
        }
    }
    out.push(ev(
        1_500,
        "sim",
        EventKind::FaultInjected {
            fault: Fault::Crash {
                host: "taskmanager-3".into(),
            },
        },
    ));
    out.push(ev(
        1_600,
        "jobmanager",
        EventKind::TaskManagerLost {
            resource_id: "taskmanager-7".into(),
            cause: "heartbeat timeout".into(),
        },
    ));
    out
}

fn median_ms(app: &App, term: &mut Terminal<TestBackend>, n: usize) -> f64 {
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            term.draw(|f| tui::render(app, f)).expect("draw");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[n / 2]
}

fn main() {
    let path = std::env::temp_dir().join(format!("mini-flink-bench-{}.toml", std::process::id()));
    std::fs::write(&path, SCENARIO).expect("write the scenario");
    let scenario = sim::load(&path).expect("bench scenario");
    let _ = std::fs::remove_file(&path);
    let vertices: Vec<String> = tui::app::dataflows(&scenario)[0]
        .vertices
        .iter()
        .map(|v| v.name.clone())
        .collect();
    let events = events(&vertices);
    let n_events = events.len();
    let mut app = App::replay(&scenario, events);
    app.run_until(2_000);
    app.selected_tm = Some("taskmanager-3".into());
    let mut term = Terminal::new(TestBackend::new(200, 60)).expect("backend");
    println!(
        "render benchmark: {TMS} TaskManagers x {SLOTS} slots, {JOBS} jobs x p{P} ({} subtasks), {n_events} events, 200x60",
        JOBS * P * 2
    );
    let n = 200;
    for (name, screen, flow) in [
        (
            "cluster (slots, jobs, log)",
            Screen::Cluster,
            FlowView::Condensed,
        ),
        (
            "dataflow, side by side",
            Screen::Dataflow,
            FlowView::Parallel,
        ),
        ("events", Screen::Events, FlowView::Condensed),
    ] {
        app.screen = screen;
        app.flow = flow;
        let ms = median_ms(&app, &mut term, n);
        println!("  {name:<28} median {ms:.3} ms per frame ({n} frames)");
        if std::env::var_os("SHOW_FRAMES").is_some() {
            println!("{}", term.backend());
        }
    }
    let mut term80 = Terminal::new(TestBackend::new(80, 24)).expect("backend");
    app.screen = Screen::Cluster;
    println!(
        "  {:<28} median {:.3} ms per frame",
        "cluster at 80x24",
        median_ms(&app, &mut term80, n)
    );
    // Time travel: one step back and forward again (re-fold from a snapshot).
    let t = Instant::now();
    for _ in 0..50 {
        app.update(tui::Action::StepBack);
        app.update(tui::Action::StepForward);
    }
    println!(
        "  time travel: {:.3} ms per step (re-fold)",
        t.elapsed().as_secs_f64() * 1000.0 / 100.0
    );
}
