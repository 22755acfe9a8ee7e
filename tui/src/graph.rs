//! Boxes and arrows on a character grid: how the dataflow views are drawn.
//!
//! A dataflow is a DAG whose nodes have a depth (the longest path from a
//! source). Nodes are laid out in columns by depth, stacked and centred
//! within their column; an edge leaves its producer's right side, runs to a
//! vertical "bus" in the gap after the producer's column, and enters the
//! consumer from the left with an arrow head. Channels of one job edge
//! share a bus, so an ALL_TO_ALL shuffle reads as a fan-out into a fan-in,
//! and a FORWARD edge as straight lines. Where lines meet, the right
//! box-drawing junction (`┬ ┴ ├ ┤ ┼`) is chosen from the directions that
//! meet in the cell. Pure: the same graph and area give the same cells.
//! The columns come from [`depths`], viz's longest-path layering over a
//! petgraph graph in its topological order.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

/// A box.
#[derive(Debug, Clone)]
pub struct Node {
    /// Column (depth in the DAG).
    pub col: usize,
    /// Text lines inside the box (the first one is kept when space is short).
    pub lines: Vec<Line<'static>>,
    /// Style of the border.
    pub border: Style,
}

/// A line from one box to another.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Producer node index.
    pub from: usize,
    /// Consumer node index.
    pub to: usize,
    /// Colour of the line.
    pub style: Style,
    /// Drawn with double lines (an edge fused by chaining).
    pub double: bool,
    /// Edges of one group share a bus and a label (the channels of one job edge).
    pub group: usize,
}

/// The text of an edge group: one line above the lines, one below.
#[derive(Debug, Clone)]
pub struct Label {
    /// Which group.
    pub group: usize,
    /// Above (partitioning).
    pub top: String,
    /// Below (records per second).
    pub bottom: String,
    /// Style of both.
    pub style: Style,
}

/// Edge labels are assumed at least this wide, so that the layout does
/// not jump when a rate label appears.
pub const MIN_LABEL: usize = 8;

const UP: u8 = 1;
const DOWN: u8 = 2;
const LEFT: u8 = 4;
const RIGHT: u8 = 8;

fn glyph(bits: u8, double: bool) -> &'static str {
    match (bits, double) {
        (b, true) if b == LEFT | RIGHT || b == LEFT || b == RIGHT => "═",
        (b, true) if b == UP | DOWN || b == UP || b == DOWN => "║",
        (b, _) if b == LEFT | RIGHT || b == LEFT || b == RIGHT => "─",
        (b, _) if b == UP | DOWN || b == UP || b == DOWN => "│",
        (b, _) if b == DOWN | RIGHT => "┌",
        (b, _) if b == DOWN | LEFT => "┐",
        (b, _) if b == UP | RIGHT => "└",
        (b, _) if b == UP | LEFT => "┘",
        (b, _) if b == UP | DOWN | RIGHT => "├",
        (b, _) if b == UP | DOWN | LEFT => "┤",
        (b, _) if b == LEFT | RIGHT | DOWN => "┬",
        (b, _) if b == LEFT | RIGHT | UP => "┴",
        _ => "┼",
    }
}

struct Grid {
    area: Rect,
    bits: Vec<u8>,
    style: Vec<Style>,
    double: Vec<bool>,
    taken: Vec<bool>,
}

impl Grid {
    fn new(area: Rect) -> Grid {
        let n = area.width as usize * area.height as usize;
        Grid {
            area,
            bits: vec![0; n],
            style: vec![Style::default(); n],
            double: vec![false; n],
            taken: vec![false; n],
        }
    }
    fn idx(&self, x: i32, y: i32) -> Option<usize> {
        let a = self.area;
        if x < a.x as i32 || y < a.y as i32 || x >= a.right() as i32 || y >= a.bottom() as i32 {
            return None;
        }
        Some((y - a.y as i32) as usize * a.width as usize + (x - a.x as i32) as usize)
    }
    fn set(&mut self, x: i32, y: i32, bit: u8, style: Style, double: bool) {
        if let Some(i) = self.idx(x, y) {
            self.bits[i] |= bit;
            self.style[i] = style;
            self.double[i] |= double;
        }
    }
    fn hline(&mut self, x1: i32, x2: i32, y: i32, style: Style, double: bool) {
        let (a, b) = if x1 <= x2 { (x1, x2) } else { (x2, x1) };
        if a == b {
            return;
        }
        for x in a..=b {
            let mut bits = 0;
            if x > a {
                bits |= LEFT;
            }
            if x < b {
                bits |= RIGHT;
            }
            self.set(x, y, bits, style, double);
        }
    }
    fn vline(&mut self, x: i32, y1: i32, y2: i32, style: Style, double: bool) {
        let (a, b) = if y1 <= y2 { (y1, y2) } else { (y2, y1) };
        if a == b {
            return;
        }
        for y in a..=b {
            let mut bits = 0;
            if y > a {
                bits |= UP;
            }
            if y < b {
                bits |= DOWN;
            }
            self.set(x, y, bits, style, double);
        }
    }
    fn clear(&self, x: i32, y: i32, w: i32) -> bool {
        (x..x + w).all(|x| {
            self.idx(x, y)
                .is_some_and(|i| self.bits[i] == 0 && !self.taken[i])
        })
    }
    fn take(&mut self, x: i32, y: i32, w: i32) {
        for x in x..x + w {
            if let Some(i) = self.idx(x, y) {
                self.taken[i] = true;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Placed {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    visible: bool,
}

impl Placed {
    fn mid(&self) -> i32 {
        self.y + (self.h - 1) / 2
    }
}

/// Draws the graph into `area` of `buf`.
pub fn draw(buf: &mut Buffer, area: Rect, nodes: &[Node], edges: &[Edge], labels: &[Label]) {
    if nodes.is_empty() || area.width < 8 || area.height < 3 {
        return;
    }
    let ncols = nodes.iter().map(|n| n.col).max().unwrap_or(0) + 1;
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); ncols];
    for (i, n) in nodes.iter().enumerate() {
        cols[n.col].push(i);
    }
    // Heights: full boxes, then boxes with one line, then one-row tags.
    let lines_max = nodes
        .iter()
        .map(|n| n.lines.len())
        .max()
        .unwrap_or(1)
        .max(1) as i32;
    let height = area.height as i32;
    let fits = |h: i32, gap: i32| {
        cols.iter()
            .all(|c| c.len() as i32 * (h + gap) - gap <= height)
    };
    let (node_h, vgap) = [
        (lines_max + 2, 1),
        (lines_max + 2, 0),
        (3, 1),
        (3, 0),
        (1, 0),
    ]
    .into_iter()
    .find(|&(h, g)| fits(h, g))
    .unwrap_or((1, 0));
    // Widths: a gap wide enough for the labels, boxes share the rest.
    let label_w = labels
        .iter()
        .map(|l| l.top.chars().count().max(l.bottom.chars().count()))
        .max()
        .unwrap_or(0)
        .max(MIN_LABEL) as i32;
    let width = area.width as i32;
    let n = ncols as i32;
    let (box_w, gap) = widths(area.width, ncols, label_w as usize);
    let (box_w, gap) = (box_w as i32, gap as i32);
    let used = n * box_w + (n - 1) * gap;
    let x0 = area.x as i32 + ((width - used) / 2).max(0);

    let mut placed = vec![
        Placed {
            x: 0,
            y: 0,
            w: 0,
            h: 0,
            visible: false
        };
        nodes.len()
    ];
    let mut hidden: Vec<(usize, usize)> = Vec::new();
    for (c, members) in cols.iter().enumerate() {
        let total = members.len() as i32 * (node_h + vgap) - vgap;
        let y0 = area.y as i32 + ((height - total) / 2).max(0);
        let x = x0 + c as i32 * (box_w + gap);
        let room = if total > height {
            (height - 1) / (node_h + vgap)
        } else {
            members.len() as i32
        };
        for (k, &i) in members.iter().enumerate() {
            let visible = (k as i32) < room;
            placed[i] = Placed {
                x,
                y: y0 + k as i32 * (node_h + vgap),
                w: box_w,
                h: node_h,
                visible,
            };
        }
        if (room as usize) < members.len() {
            hidden.push((c, members.len() - room as usize));
        }
    }

    // Lines first, boxes over them.
    let mut grid = Grid::new(area);
    let mut group_bus: Vec<(usize, i32)> = Vec::new();
    let mut gap_count: Vec<i32> = vec![0; ncols];
    let max_groups = edges.iter().map(|e| e.group).max().map_or(0, |g| g + 1);
    for g in 0..max_groups {
        let Some(first) = edges.iter().find(|e| e.group == g) else {
            continue;
        };
        let c = nodes[first.from].col;
        let slots = ((gap - 4) / 2).max(1);
        let k = gap_count[c] % slots;
        gap_count[c] += 1;
        let a = placed[first.from];
        group_bus.push((g, a.x + a.w + 1 + 2 * k));
    }
    let bus_of = |g: usize| group_bus.iter().find(|(x, _)| *x == g).map(|(_, b)| *b);
    let mut heads: Vec<(i32, i32, Style)> = Vec::new();
    for e in edges {
        let (a, b) = (placed[e.from], placed[e.to]);
        if !a.visible || !b.visible || b.x <= a.x {
            continue;
        }
        let bus = bus_of(e.group).unwrap_or(a.x + a.w + 1).min(b.x - 2);
        let (sx, sy, ex, ey) = (a.x + a.w, a.mid(), b.x - 1, b.mid());
        grid.hline(sx, bus, sy, e.style, e.double);
        grid.vline(bus, sy, ey, e.style, e.double);
        grid.hline(bus, ex, ey, e.style, e.double);
        if sx == bus && sy != ey {
            grid.set(sx, sy, RIGHT, e.style, e.double);
        }
        heads.push((ex, ey, e.style));
    }
    let a = area;
    for y in 0..a.height as i32 {
        for x in 0..a.width as i32 {
            let i = y as usize * a.width as usize + x as usize;
            if grid.bits[i] != 0
                && let Some(cell) = buf.cell_mut((a.x + x as u16, a.y + y as u16))
            {
                cell.set_symbol(glyph(grid.bits[i], grid.double[i]));
                cell.set_style(grid.style[i]);
            }
        }
    }
    for (x, y, style) in heads {
        if grid.idx(x, y).is_some()
            && let Some(cell) = buf.cell_mut((x as u16, y as u16))
        {
            cell.set_symbol("▶");
            cell.set_style(style);
        }
    }

    // Labels: in the gap, above the topmost line and below the lowest one;
    // when the gap is too narrow, above or below the boxes, centred on the gap.
    for l in labels {
        let group: Vec<&Edge> = edges
            .iter()
            .filter(|e| e.group == l.group && placed[e.from].visible && placed[e.to].visible)
            .collect();
        let Some(e0) = group.first() else { continue };
        let Some(bus) = bus_of(l.group) else { continue };
        let (a, b) = (placed[e0.from], placed[e0.to]);
        let (gx0, gx1) = (bus + 1, b.x - 2);
        let gw = gx1 - gx0 + 1;
        let centre = (a.x + a.w + b.x) / 2;
        let top_y = group
            .iter()
            .map(|e| placed[e.to].mid().min(placed[e.from].mid()))
            .min()
            .unwrap_or(0);
        let bot_y = group
            .iter()
            .map(|e| placed[e.to].mid().max(placed[e.from].mid()))
            .max()
            .unwrap_or(0);
        let in_cols = |c: usize| {
            placed
                .iter()
                .zip(nodes)
                .filter(move |(p, n)| p.visible && (n.col == c))
        };
        let (ca, cb) = (nodes[e0.from].col, nodes[e0.to].col);
        let boxes_top = in_cols(ca)
            .chain(in_cols(cb))
            .map(|(p, _)| p.y)
            .min()
            .unwrap_or(top_y);
        let boxes_bot = in_cols(ca)
            .chain(in_cols(cb))
            .map(|(p, _)| p.y + p.h - 1)
            .max()
            .unwrap_or(bot_y);
        for (text, above) in [(&l.top, true), (&l.bottom, false)] {
            if text.is_empty() {
                continue;
            }
            let tw = text.chars().count() as i32;
            let mut spots: Vec<(i32, i32)> = Vec::new();
            let line_y = if above { top_y } else { bot_y };
            let dir = if above { -1 } else { 1 };
            if tw <= gw {
                let x = gx0 + (gw - tw) / 2;
                spots.extend([(x, line_y + dir), (x, line_y + 2 * dir)]);
            }
            let edge_y = if above { boxes_top } else { boxes_bot };
            let x = (centre - tw / 2)
                .clamp(area.x as i32, (area.right() as i32 - tw).max(area.x as i32));
            spots.extend((1..=3).map(|k| (x, edge_y + k * dir)));
            if let Some(&(x, y)) = spots.iter().find(|&&(x, y)| grid.clear(x, y, tw)) {
                grid.take(x, y, tw);
                buf.set_string(x as u16, y as u16, text, l.style);
            } else if gw >= 3 {
                let t: String = text.chars().take(gw as usize).collect();
                let n = t.chars().count() as i32;
                if grid.clear(gx0, line_y + dir, n) {
                    grid.take(gx0, line_y + dir, n);
                    buf.set_string(gx0 as u16, (line_y + dir) as u16, &t, l.style);
                }
            }
        }
    }

    for (i, node) in nodes.iter().enumerate() {
        let p = placed[i];
        if p.visible {
            draw_box(buf, area, p, node);
        }
    }
    for (c, more) in hidden {
        let x = x0 + c as i32 * (box_w + gap);
        let y = area.bottom() as i32 - 1;
        let text = format!("… +{more} more");
        if x >= 0 && y >= 0 {
            buf.set_stringn(
                x as u16,
                y as u16,
                &text,
                box_w as usize,
                Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::ITALIC),
            );
        }
    }
}

fn draw_box(buf: &mut Buffer, area: Rect, p: Placed, node: &Node) {
    let inside = |x: i32, y: i32| {
        x >= area.x as i32
            && y >= area.y as i32
            && x < area.right() as i32
            && y < area.bottom() as i32
    };
    let put = |buf: &mut Buffer, x: i32, y: i32, s: &str, style: Style| {
        if inside(x, y)
            && let Some(c) = buf.cell_mut((x as u16, y as u16))
        {
            c.set_symbol(s);
            c.set_style(style);
        }
    };
    if p.h == 1 {
        put(buf, p.x, p.y, "[", node.border);
        put(buf, p.x + p.w - 1, p.y, "]", node.border);
        for x in p.x + 1..p.x + p.w - 1 {
            put(buf, x, p.y, " ", Style::default());
        }
        if let Some(line) = node.lines.first()
            && inside(p.x + 1, p.y)
        {
            buf.set_line((p.x + 1) as u16, p.y as u16, line, (p.w - 2).max(0) as u16);
        }
        return;
    }
    let (r, b) = (p.x + p.w - 1, p.y + p.h - 1);
    for y in p.y..=b {
        for x in p.x..=r {
            let s = match (x == p.x, x == r, y == p.y, y == b) {
                (true, _, true, _) => "┌",
                (_, true, true, _) => "┐",
                (true, _, _, true) => "└",
                (_, true, _, true) => "┘",
                (_, _, true, _) | (_, _, _, true) => "─",
                (true, _, _, _) | (_, true, _, _) => "│",
                _ => " ",
            };
            let style = if s == " " {
                Style::default()
            } else {
                node.border
            };
            put(buf, x, y, s, style);
        }
    }
    for (k, line) in node.lines.iter().take((p.h - 2) as usize).enumerate() {
        let y = p.y + 1 + k as i32;
        if inside(p.x + 1, y) {
            buf.set_line((p.x + 1) as u16, y as u16, line, (p.w - 2) as u16);
        }
    }
}

/// Width of the boxes and of the gaps between columns, for `ncols`
/// columns in `width` cells with edge labels `label_w` wide.
pub fn widths(width: u16, ncols: usize, label_w: usize) -> (u16, u16) {
    let width = width as i32;
    let n = ncols.max(1) as i32;
    let mut gap = if n > 1 {
        (label_w as i32 + 4).clamp(6, 20)
    } else {
        0
    };
    let mut box_w = ((width - (n - 1) * gap) / n).min(32);
    while box_w < 12 && gap > 4 {
        gap -= 1;
        box_w = ((width - (n - 1) * gap) / n).min(32);
    }
    if n > 1 && box_w == 32 {
        gap = ((width - n * box_w) / (n - 1)).clamp(gap, 24);
    }
    (box_w.max(3) as u16, gap as u16)
}

/// Depth of each node: the longest path from a node without inputs
/// (viz's layered layout, shared with the web UI's pictures).
pub use viz::layout::depths;

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &Buffer) -> String {
        let a = buf.area;
        (0..a.height)
            .map(|y| {
                (0..a.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One producer, two consumers of a shuffle: a bus with junctions.
    #[test]
    fn fan_out_uses_junctions() {
        let area = Rect::new(0, 0, 40, 9);
        let mut buf = Buffer::empty(area);
        let node = |col, s: &str| Node {
            col,
            lines: vec![Line::from(s.to_string())],
            border: Style::default(),
        };
        let nodes = vec![node(0, "src"), node(1, "a"), node(1, "b")];
        let edges = vec![
            Edge {
                from: 0,
                to: 1,
                style: Style::default(),
                double: false,
                group: 0,
            },
            Edge {
                from: 0,
                to: 2,
                style: Style::default(),
                double: false,
                group: 0,
            },
        ];
        let labels = vec![Label {
            group: 0,
            top: "HASH".into(),
            bottom: "5/s".into(),
            style: Style::default(),
        }];
        draw(&mut buf, area, &nodes, &edges, &labels);
        let t = text(&buf);
        assert!(t.contains('▶'), "{t}");
        assert!(
            t.contains('┤') || t.contains('┬') || t.contains('├') || t.contains('┼'),
            "{t}"
        );
        assert!(t.contains("HASH"), "{t}");
        assert!(t.contains("5/s"), "{t}");
    }
}
