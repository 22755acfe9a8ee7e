//! Layered layout of a dataflow, computed in Rust (no Graphviz needed):
//! the columns of a left-to-right drawing and each box's place.
//!
//! A dataflow is a DAG; each node's column is its depth (the longest path
//! from a node without inputs), and the nodes of a column are stacked in
//! their given order (declaration order, so a drawing never reshuffles),
//! each column centred on the tallest. The TUI uses [`depths`] for its
//! character-grid drawing, the web UI's pictures ([`crate::svg`]) use
//! [`place`] for pixels.
//!
//! In: a node count and edges by index. Out: depths, or placed boxes.

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};

/// Depth of each node: the longest path from a node without inputs (the
/// layering of a layered drawing). Edges naming a node past `n` are
/// ignored. Nodes are relaxed in petgraph's topological order; a cycle
/// (which a validated dataflow never has) leaves every node at depth 0.
pub fn depths(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut g: DiGraph<(), ()> = DiGraph::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    for &(a, b) in edges.iter().filter(|&&(a, b)| a < n && b < n) {
        g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
    }
    let mut d = vec![0; n];
    for v in toposort(&g, None).unwrap_or_default() {
        for w in g.neighbors(v) {
            d[w.index()] = d[w.index()].max(d[v.index()] + 1);
        }
    }
    d
}

/// Sizes of a layered drawing, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    /// Width of a box.
    pub box_w: f64,
    /// Height of a box.
    pub box_h: f64,
    /// Horizontal gap between columns (where edges run).
    pub gap_x: f64,
    /// Vertical gap between boxes of a column.
    pub gap_y: f64,
    /// Margin around the drawing.
    pub margin: f64,
}

/// One placed box: its top-left corner and its column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Its column (depth).
    pub col: usize,
}

/// The boxes of `n` nodes placed in layers, and the drawing's size.
pub fn place(n: usize, edges: &[(usize, usize)], s: Spacing) -> (Vec<Placed>, f64, f64) {
    let depth = depths(n, edges);
    let cols = depth.iter().max().map_or(0, |d| d + 1);
    let mut per_col = vec![0usize; cols];
    for &d in &depth {
        per_col[d] += 1;
    }
    let tallest = per_col.iter().copied().max().unwrap_or(0);
    let column_h = |k: usize| k as f64 * s.box_h + k.saturating_sub(1) as f64 * s.gap_y;
    let height = column_h(tallest) + 2.0 * s.margin;
    let width = cols as f64 * s.box_w + cols.saturating_sub(1) as f64 * s.gap_x + 2.0 * s.margin;
    let mut row = vec![0usize; cols];
    let placed = depth
        .iter()
        .map(|&col| {
            let top = s.margin + (column_h(tallest) - column_h(per_col[col])) / 2.0;
            let y = top + row[col] as f64 * (s.box_h + s.gap_y);
            row[col] += 1;
            Placed {
                x: s.margin + col as f64 * (s.box_w + s.gap_x),
                y,
                col,
            }
        })
        .collect();
    (placed, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_longest_path() {
        assert_eq!(
            depths(4, &[(0, 1), (1, 2), (0, 2), (3, 2)]),
            vec![0, 1, 2, 0]
        );
    }

    #[test]
    fn columns_are_centred_and_ordered() {
        let s = Spacing {
            box_w: 10.0,
            box_h: 10.0,
            gap_x: 5.0,
            gap_y: 2.0,
            margin: 1.0,
        };
        // Two sources into one sink: the sink sits between them.
        let (p, w, h) = place(3, &[(0, 2), (1, 2)], s);
        assert_eq!((w, h), (27.0, 24.0));
        assert_eq!((p[0].x, p[0].y), (1.0, 1.0));
        assert_eq!((p[1].x, p[1].y), (1.0, 13.0));
        assert_eq!((p[2].x, p[2].y, p[2].col), (16.0, 7.0, 1));
    }
}
