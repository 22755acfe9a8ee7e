//! SVG pictures of a running job, laid out in Rust ([`crate::layout`]):
//! what the web UI shows on a job's page, on a JobManager with no Graphviz.
//!
//! Two views, as Flink's dashboard and documentation draw them: the job
//! graph of operator chains ([`SvgView::Chained`], one box per job vertex,
//! its operators listed inside) and the parallel dataflow
//! ([`SvgView::Parallel`], one box per subtask, one line per channel).
//! Live state comes in as one [`VertexLive`] per vertex: each box is
//! coloured by its status, each edge labelled with its ship strategy and
//! the records per second its producer sends, and coloured by the
//! producer's back-pressure (Flink's levels: OK up to 10 %, LOW up to 50 %,
//! HIGH above).
//!
//! In: a [`Dataflow`] and its live state. Out: an SVG document (text),
//! the same for the same input.

use crate::layout::{Spacing, place};
use crate::model::Dataflow;
use std::fmt::Write as _;

/// Which picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvgView {
    /// One box per operator chain (job vertex).
    Chained,
    /// One box per subtask, one line per channel.
    Parallel,
}

/// What is live about one job vertex.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VertexLive {
    /// The vertex's status ("RUNNING").
    pub status: String,
    /// Each subtask's status, by subtask index.
    pub subtasks: Vec<String>,
    /// Records per second it sends downstream.
    pub records_out_per_s: f64,
    /// Its highest subtask back-pressure ratio, 0 to 1.
    pub backpressure: f64,
    /// Its highest subtask busy ratio (neither idle nor back-pressured), 0 to 1.
    pub busy: f64,
}

/// Flink's back-pressure level of a ratio.
pub fn backpressure_level(ratio: f64) -> &'static str {
    if ratio > 0.5 {
        "HIGH"
    } else if ratio > 0.1 {
        "LOW"
    } else {
        "OK"
    }
}

/// The SVG of a job.
pub fn svg(df: &Dataflow, view: SvgView, live: &[VertexLive]) -> String {
    let none = VertexLive::default();
    let live_of = |v: usize| live.get(v).unwrap_or(&none);
    // Boxes: (vertex, subtask or None, text lines).
    let mut boxes: Vec<(usize, Option<u32>, Vec<String>)> = Vec::new();
    let mut first_box = Vec::with_capacity(df.vertices.len());
    for (vi, v) in df.vertices.iter().enumerate() {
        first_box.push(boxes.len());
        match view {
            SvgView::Chained => {
                let mut lines: Vec<String> = v
                    .operators
                    .iter()
                    .filter_map(|&o| df.operators.get(o).map(|o| o.name.clone()))
                    .collect();
                if lines.is_empty() {
                    lines.push(v.name.clone());
                }
                let l = live_of(vi);
                lines.push(format!("Parallelism: {} · {}", v.parallelism, l.status));
                lines.push(format!(
                    "Busy (max): {:.0}% · Back-pressured (max): {:.0}% {}",
                    l.busy * 100.0,
                    l.backpressure * 100.0,
                    backpressure_level(l.backpressure)
                ));
                boxes.push((vi, None, lines));
            }
            SvgView::Parallel => {
                let head = v.name.split(" -> ").next().unwrap_or(&v.name).to_string();
                for st in 0..v.parallelism {
                    let status = live_of(vi)
                        .subtasks
                        .get(st as usize)
                        .cloned()
                        .unwrap_or_default();
                    let lines = vec![format!("{head} [{st}]"), status];
                    boxes.push((vi, Some(st), lines));
                }
            }
        }
    }
    // Edges: (from box, to box, vertex edge index).
    let mut edges: Vec<(usize, usize, usize)> = Vec::new();
    for (ei, e) in df.vertex_edges.iter().enumerate() {
        match view {
            SvgView::Chained => edges.push((first_box[e.from], first_box[e.to], ei)),
            SvgView::Parallel => {
                for &(a, b) in &e.channels {
                    edges.push((
                        first_box[e.from] + a as usize,
                        first_box[e.to] + b as usize,
                        ei,
                    ));
                }
            }
        }
    }
    let max_lines = boxes.iter().map(|b| b.2.len()).max().unwrap_or(1);
    let max_chars = boxes
        .iter()
        .flat_map(|b| &b.2)
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(10);
    let spacing = Spacing {
        box_w: (max_chars as f64 * 7.2 + 20.0).clamp(120.0, 320.0),
        box_h: 12.0 + 16.0 * max_lines as f64,
        gap_x: 170.0,
        gap_y: if view == SvgView::Parallel {
            14.0
        } else {
            30.0
        },
        margin: 20.0,
    };
    let pairs: Vec<(usize, usize)> = edges.iter().map(|&(a, b, _)| (a, b)).collect();
    let (placed, width, height) = place(boxes.len(), &pairs, spacing);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="dataflow" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"##
    );
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>"##);
    let mut labelled = vec![false; df.vertex_edges.len()];
    for &(a, b, ei) in &edges {
        let (pa, pb) = (placed[a], placed[b]);
        let (x1, y1) = (pa.x + spacing.box_w, pa.y + spacing.box_h / 2.0);
        let (x2, y2) = (pb.x, pb.y + spacing.box_h / 2.0);
        let e = &df.vertex_edges[ei];
        let from = live_of(e.from);
        let level = backpressure_level(from.backpressure);
        let colour = match level {
            "HIGH" => "#d93025",
            "LOW" => "#e8a33d",
            _ => "#5b6b7a",
        };
        let mid = (x1 + x2) / 2.0;
        let _ = write!(
            s,
            r##"<path class="edge bp-{level}" d="M {x1:.1} {y1:.1} C {mid:.1} {y1:.1}, {mid:.1} {y2:.1}, {x2:.1} {y2:.1}" fill="none" stroke="{colour}" stroke-width="1.6" marker-end="url(#arrow)"/>"##
        );
        if !labelled[ei] {
            labelled[ei] = true;
            let (lx, ly) = (mid, (y1 + y2) / 2.0 - 6.0);
            let rate = format_rate(from.records_out_per_s);
            let _ = write!(
                s,
                r##"<text class="edge-label" x="{lx:.1}" y="{ly:.1}" text-anchor="middle" fill="#333">{}</text><text class="edge-rate" x="{lx:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="{colour}">{} rec/s</text>"##,
                escape(&e.ship_strategy),
                ly + 20.0,
                rate
            );
        }
    }
    for ((vi, st, lines), p) in boxes.iter().zip(&placed) {
        let status = match st {
            Some(i) => live_of(*vi).subtasks.get(*i as usize).cloned(),
            None => Some(live_of(*vi).status.clone()),
        }
        .unwrap_or_default();
        let (fill, stroke) = status_colours(&status);
        let _ = write!(
            s,
            r##"<g class="vertex" data-vertex="{vi}"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>"##,
            p.x, p.y, spacing.box_w, spacing.box_h
        );
        for (li, line) in lines.iter().enumerate() {
            let weight = if li == 0 { "bold" } else { "normal" };
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-weight="{weight}" fill="#1f2d3d">{}</text>"##,
                p.x + 10.0,
                p.y + 20.0 + 16.0 * li as f64,
                escape(line)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// Records per second, short ("1.2M", "350", "0").
fn format_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.1}M", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.0}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

/// Fill and border of a box in a status.
fn status_colours(status: &str) -> (&'static str, &'static str) {
    match status {
        "RUNNING" => ("#e6f4ea", "#34a853"),
        "FINISHED" => ("#e8eaed", "#5f6368"),
        "FAILED" | "FAILING" => ("#fce8e6", "#d93025"),
        "CANCELED" | "CANCELING" | "CANCELLING" => ("#fef7e0", "#b06000"),
        "" => ("#ffffff", "#5b6b7a"),
        _ => ("#e8f0fe", "#1a73e8"),
    }
}

/// Text made safe inside an SVG element.
fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Operator, Vertex, VertexEdge};

    fn two_vertices() -> Dataflow {
        let op = |id: &str, vertex| Operator {
            id: id.into(),
            name: format!("Op <{id}>"),
            kind: "map".into(),
            parallelism: 2,
            slot_sharing_group: "default".into(),
            vertex,
        };
        let v = |name: &str, ops| Vertex {
            name: name.into(),
            parallelism: 2,
            slot_sharing_group: "default".into(),
            operators: ops,
        };
        Dataflow {
            name: "j".into(),
            operators: vec![op("a", 0), op("b", 1)],
            operator_edges: vec![],
            vertices: vec![v("Op <a>", vec![0]), v("Op <b>", vec![1])],
            vertex_edges: vec![VertexEdge {
                from: 0,
                to: 1,
                ship_strategy: "HASH".into(),
                distribution: "ALL_TO_ALL".into(),
                channels: vec![(0, 0), (0, 1), (1, 0), (1, 1)],
            }],
        }
    }

    #[test]
    fn chained_view_has_a_box_per_vertex_and_labels_the_edge() {
        let live = vec![
            VertexLive {
                status: "RUNNING".into(),
                subtasks: vec!["RUNNING".into(); 2],
                records_out_per_s: 12_345.0,
                backpressure: 0.7,
                busy: 0.25,
            },
            VertexLive::default(),
        ];
        let s = svg(&two_vertices(), SvgView::Chained, &live);
        assert_eq!(s.matches("<g class=\"vertex\"").count(), 2);
        assert_eq!(s.matches("<path class=\"edge").count(), 1);
        assert!(s.contains("12k rec/s"), "{s}");
        assert!(s.contains("Back-pressured (max): 70% HIGH"), "{s}");
        assert!(s.contains("Busy (max): 25%"), "{s}");
        assert!(
            s.contains("bp-HIGH"),
            "the edge is coloured by its producer's back-pressure: {s}"
        );
        assert!(s.contains("Op &lt;a&gt;"), "names are escaped: {s}");
        assert!(!s.contains("Op <a>"));
    }

    #[test]
    fn parallel_view_has_a_box_per_subtask_and_a_line_per_channel() {
        let s = svg(&two_vertices(), SvgView::Parallel, &[]);
        assert_eq!(s.matches("<g class=\"vertex\"").count(), 4);
        assert_eq!(s.matches("<path class=\"edge").count(), 4);
        // One label per job edge, not per channel.
        assert_eq!(s.matches("class=\"edge-label\"").count(), 1);
        assert!(s.contains("[1]"));
    }

    #[test]
    fn levels_follow_flink() {
        assert_eq!(backpressure_level(0.05), "OK");
        assert_eq!(backpressure_level(0.3), "LOW");
        assert_eq!(backpressure_level(0.9), "HIGH");
    }
}
