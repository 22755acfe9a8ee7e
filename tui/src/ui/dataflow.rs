//! The dataflow of a job, drawn as Flink's documentation draws it.
//!
//! Two pictures of one job ("Tasks and Operator Chains" in Flink's docs):
//!
//! - **condensed**: the operators as the program wrote them (the
//!   StreamGraph), one box each, edges labelled with their partitioning;
//!   an edge that chaining fused is drawn double (`═`) and carries no
//!   records over the network.
//! - **parallel**: what the JobMaster deploys (the ExecutionGraph): one box
//!   per subtask of each operator chain (job vertex), showing where it runs
//!   and its ExecutionState, and one line per channel; a shuffle
//!   (ALL_TO_ALL) fans out into every consumer.
//!
//! Edges carry the live records per second from the channel reports and
//! are coloured by the producer's back-pressure.

use super::common::{
    backpressure_color, fmt_rate, job_color, panel, short_chain, short_host, state_color, wrap,
};
use crate::app::{App, FlowView, Mode};
use crate::cluster::JobView;
use crate::graph::{self, Edge, Label, Node};
use crate::ui::jobs::vertex_backpressure;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use runtime::state::ExecutionState;

/// The dataflow screen: the selected job's graphs and a short event log.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let log_h = if area.height >= 30 {
        8
    } else if area.height >= 20 {
        6
    } else {
        0
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(log_h)]).areas(area);
    if log_h > 0 {
        super::log::render(app, bottom, buf);
    }
    let name = app.selected_job.clone().unwrap_or_default();
    let Some(df) = app.dataflows.iter().find(|d| d.name == name) else {
        let inner = panel(
            buf,
            top,
            Line::from(" Dataflow "),
            Style::default().fg(Color::Gray),
        );
        let msg = match app.mode {
            Mode::Attached if app.view.jobs.is_empty() => "no job on this cluster yet",
            Mode::Attached => "no plan of this job (GET /jobs/:id/plan gave none)",
            _ => "this scenario has no job",
        };
        buf.set_stringn(
            inner.x + 1,
            inner.y,
            msg,
            inner.width as usize,
            Style::default().fg(Color::DarkGray),
        );
        return;
    };
    let job = app.view.jobs.iter().rev().find(|j| j.name == name);
    let status = job.map_or("not submitted yet", |j| j.status.as_str());
    let status_color = job.map_or(Color::Yellow, |j| state_color(j.status));
    let color = job.map_or(Color::Gray, |j| job_color(j.color));
    let head = |view: &str, other: &str| {
        Line::from(vec![
            Span::raw(" "),
            Span::styled(
                name.clone(),
                Style::default().fg(color).add_modifier(Modifier::BOLD),
            ),
            Span::raw(" "),
            Span::styled(status, Style::default().fg(status_color)),
            Span::styled(format!(" · {view} "), Style::default().fg(Color::White)),
            Span::styled(other.to_string(), Style::default().fg(Color::DarkGray)),
        ])
    };
    let both = top.width >= 150;
    if both {
        let [l, r] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
        let inner = panel(
            buf,
            l,
            head("condensed (operators)", "o: next job "),
            Style::default().fg(Color::Gray),
        );
        condensed(app, df, job, inner, buf);
        let inner = panel(
            buf,
            r,
            head("parallel (subtasks, channels, chains)", ""),
            Style::default().fg(Color::Gray),
        );
        parallel(app, df, job, inner, buf);
    } else {
        match app.flow {
            FlowView::Condensed => {
                let inner = panel(
                    buf,
                    top,
                    head("condensed", "v: parallel · o: next job "),
                    Style::default().fg(Color::Gray),
                );
                condensed(app, df, job, inner, buf);
            }
            FlowView::Parallel => {
                let inner = panel(
                    buf,
                    top,
                    head("parallel", "v: condensed · o: next job "),
                    Style::default().fg(Color::Gray),
                );
                parallel(app, df, job, inner, buf);
            }
        }
    }
}

fn legend(area: Rect, buf: &mut Buffer) -> Rect {
    if area.height < 6 {
        return area;
    }
    let line = Line::from(vec![
        Span::styled(" back-pressure ", Style::default().fg(Color::DarkGray)),
        Span::styled("━ <10% ", Style::default().fg(Color::Green)),
        Span::styled("━ <50% ", Style::default().fg(Color::Yellow)),
        Span::styled("━ ≥50% ", Style::default().fg(Color::Red)),
        Span::styled("━ idle ", Style::default().fg(Color::DarkGray)),
        Span::styled(" ═ chained", Style::default().fg(Color::Cyan)),
    ]);
    buf.set_line(area.x, area.bottom() - 1, &line, area.width);
    Rect::new(area.x, area.y, area.width, area.height - 1)
}

/// Records per second on a job edge, from its channels' last reports.
pub fn edge_rate(app: &App, job: &JobView, edge: usize) -> u64 {
    let now = app.shown_ms();
    job.channels
        .range((edge, 0, 0)..(edge + 1, 0, 0))
        .filter(|(_, c)| c.at + app.fresh_ms() >= now)
        .map(|(_, c)| c.per_sec)
        .sum()
}

fn channel_rate(app: &App, job: &JobView, edge: usize, from: u32, to: u32) -> u64 {
    job.channels
        .get(&(edge, from, to))
        .filter(|c| c.at + app.fresh_ms() >= app.shown_ms())
        .map_or(0, |c| c.per_sec)
}

/// The state a vertex shows: a failure or cancellation of any subtask,
/// else RUNNING or FINISHED when all agree, else the first other state.
fn vertex_state(job: Option<&JobView>, name: &str) -> ExecutionState {
    use ExecutionState::{Canceled, Canceling, Created, Failed, Finished, Running};
    let Some(v) = job.and_then(|j| j.vertices.iter().find(|v| v.name == name)) else {
        return Created;
    };
    let states: Vec<ExecutionState> = v.subtasks.iter().map(|s| s.state).collect();
    for s in [Failed, Canceling, Canceled] {
        if states.contains(&s) {
            return s;
        }
    }
    if !states.is_empty() && states.iter().all(|s| *s == Running) {
        Running
    } else if !states.is_empty() && states.iter().all(|s| *s == Finished) {
        Finished
    } else {
        states
            .into_iter()
            .find(|s| *s != Running && *s != Finished)
            .unwrap_or(Running)
    }
}

fn idle_or(rate: u64, bp: u32) -> Style {
    if rate == 0 {
        Style::default().fg(Color::DarkGray)
    } else {
        Style::default().fg(backpressure_color(bp))
    }
}

/// How a dataflow view lays out its boxes: each node's column (its depth
/// in the graph), how much text fits in a box, and the job's colour.
struct Columns {
    /// The drawing area (below the legend).
    area: Rect,
    /// Each node's column.
    depth: Vec<usize>,
    /// Characters that fit inside a box.
    inner_w: usize,
    /// The job's colour (grey without a job).
    jc: Color,
}

impl Columns {
    /// The layout of `nodes` boxes joined by `edges` (from, to, the length
    /// of the edge's label) in `area`.
    fn of(
        area: Rect,
        nodes: usize,
        edges: impl Iterator<Item = (usize, usize, usize)>,
        job: Option<&JobView>,
    ) -> Columns {
        let mut pairs = Vec::new();
        let mut label_w = graph::MIN_LABEL;
        for (from, to, label) in edges {
            pairs.push((from, to));
            label_w = label_w.max(label);
        }
        let depth = graph::depths(nodes, &pairs);
        let ncols = depth.iter().max().map_or(1, |d| d + 1);
        let (box_w, _) = graph::widths(area.width, ncols, label_w);
        Columns {
            area,
            depth,
            inner_w: box_w.saturating_sub(2) as usize,
            jc: job.map_or(Color::Gray, |j| job_color(j.color)),
        }
    }
}

/// Operators and partitioning (the StreamGraph), chained edges double.
pub fn condensed(
    app: &App,
    df: &viz::Dataflow,
    job: Option<&JobView>,
    area: Rect,
    buf: &mut Buffer,
) {
    let edges = df
        .operator_edges
        .iter()
        .map(|e| (e.from, e.to, e.partitioning.len()));
    let cols = Columns::of(legend(area, buf), df.operators.len(), edges, job);
    let nodes: Vec<Node> = df
        .operators
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let vname = &df.vertices[op.vertex].name;
            let state = vertex_state(job, vname);
            let mut lines: Vec<Line> = wrap(&op.name, cols.inner_w, 2)
                .into_iter()
                .map(|l| {
                    Line::from(Span::styled(
                        l,
                        Style::default().fg(cols.jc).add_modifier(Modifier::BOLD),
                    ))
                })
                .collect();
            let full = format!("p{} {}", op.parallelism, op.kind);
            let text = if full.chars().count() <= cols.inner_w {
                full
            } else {
                format!("p{}", op.parallelism)
            };
            lines.push(Line::from(Span::styled(
                text,
                Style::default().fg(Color::Gray),
            )));
            Node {
                col: cols.depth[i],
                lines,
                border: Style::default().fg(if job.is_some() {
                    state_color(state)
                } else {
                    Color::DarkGray
                }),
            }
        })
        .collect();
    let mut edges = Vec::new();
    let mut labels = Vec::new();
    for (k, e) in df.operator_edges.iter().enumerate() {
        let (va, vb) = (df.operators[e.from].vertex, df.operators[e.to].vertex);
        let (style, bottom) = if e.chained {
            (Style::default().fg(Color::Cyan), "chained".to_string())
        } else {
            let rate = job
                .and_then(|j| {
                    df.vertex_edges
                        .iter()
                        .position(|ve| ve.from == va && ve.to == vb)
                        .map(|ei| edge_rate(app, j, ei))
                })
                .unwrap_or(0);
            let bp = job
                .and_then(|j| j.vertices.iter().find(|v| v.name == df.vertices[va].name))
                .map_or(0, |v| vertex_backpressure(app, v));
            (
                idle_or(rate, bp),
                if rate > 0 {
                    fmt_rate(rate)
                } else {
                    String::new()
                },
            )
        };
        edges.push(Edge {
            from: e.from,
            to: e.to,
            style,
            double: e.chained,
            group: k,
        });
        labels.push(Label {
            group: k,
            top: e.partitioning.clone(),
            bottom,
            style,
        });
    }
    graph::draw(buf, cols.area, &nodes, &edges, &labels);
}

/// Subtasks, channels and chains (the ExecutionGraph), where each runs.
pub fn parallel(
    app: &App,
    df: &viz::Dataflow,
    job: Option<&JobView>,
    area: Rect,
    buf: &mut Buffer,
) {
    let edges = df
        .vertex_edges
        .iter()
        .map(|e| (e.from, e.to, e.ship_strategy.len()));
    let cols = Columns::of(legend(area, buf), df.vertices.len(), edges, job);
    let mut nodes = Vec::new();
    let mut node_of: Vec<Vec<usize>> = Vec::new();
    for (vi, v) in df.vertices.iter().enumerate() {
        let view = job.and_then(|j| j.vertices.iter().find(|x| x.name == v.name));
        let mut ids = Vec::new();
        for s in 0..v.parallelism {
            let idx = format!(" {}/{}", s + 1, v.parallelism);
            let name = if v.name.chars().count() + idx.len() <= cols.inner_w {
                v.name.clone()
            } else {
                short_chain(&v.name)
            };
            let st = view.and_then(|x| x.subtasks.get(s as usize));
            let state = st.map_or(ExecutionState::Created, |x| x.state);
            let place = st
                .and_then(|x| x.location.as_ref())
                .map_or("-".to_string(), |(tm, slot)| {
                    format!("{}/{}", short_host(tm), slot)
                });
            let bp = st.map_or(0, |x| x.backpressure_permille);
            let mut second = vec![
                Span::styled(format!("{place} "), Style::default().fg(Color::Gray)),
                Span::styled(state.as_str(), Style::default().fg(state_color(state))),
            ];
            if bp >= 100 && state == ExecutionState::Running {
                second.push(Span::styled(
                    format!(" bp{}%", bp / 10),
                    Style::default().fg(backpressure_color(bp)),
                ));
            }
            ids.push(nodes.len());
            nodes.push(Node {
                col: cols.depth[vi],
                lines: vec![
                    Line::from(vec![
                        Span::styled(
                            name,
                            Style::default().fg(cols.jc).add_modifier(Modifier::BOLD),
                        ),
                        Span::styled(idx, Style::default().fg(Color::White)),
                    ]),
                    Line::from(second),
                ],
                border: Style::default().fg(if job.is_some() {
                    state_color(state)
                } else {
                    Color::DarkGray
                }),
            });
        }
        node_of.push(ids);
    }
    let mut edges = Vec::new();
    let mut labels = Vec::new();
    for (ei, e) in df.vertex_edges.iter().enumerate() {
        let producer = job.and_then(|j| {
            j.vertices
                .iter()
                .find(|v| v.name == df.vertices[e.from].name)
        });
        for &(a, b) in &e.channels {
            let (Some(&from), Some(&to)) = (
                node_of[e.from].get(a as usize),
                node_of[e.to].get(b as usize),
            ) else {
                continue;
            };
            let rate = job.map_or(0, |j| channel_rate(app, j, ei, a, b));
            let bp = producer
                .and_then(|v| v.subtasks.get(a as usize))
                .map_or(0, |s| s.backpressure_permille);
            edges.push(Edge {
                from,
                to,
                style: idle_or(rate, bp),
                double: false,
                group: ei,
            });
        }
        let rate = job.map_or(0, |j| edge_rate(app, j, ei));
        let bp = producer.map_or(0, |v| vertex_backpressure(app, v));
        labels.push(Label {
            group: ei,
            top: e.ship_strategy.clone(),
            bottom: if rate > 0 {
                fmt_rate(rate)
            } else {
                String::new()
            },
            style: idle_or(rate, bp),
        });
    }
    graph::draw(buf, cols.area, &nodes, &edges, &labels);
}
