//! DOT for the three views of a Flink job, as Flink's documentation draws
//! them ("Tasks and Operator Chains" in *Flink Architecture*).
//!
//! | [`View`] | module | Flink graph it draws |
//! |---|---|---|
//! | [`View::Condensed`] | [`condensed`] | the StreamGraph: one node per operator |
//! | [`View::Chained`] | [`chained`] | the JobGraph: one box per JobVertex (operator chain) |
//! | [`View::Parallel`] | [`parallel`] | the ExecutionGraph: one node per ExecutionVertex (subtask), one edge per channel |
//!
//! Data enters as a [`Dataflow`] and leaves as a DOT `String`; nothing here
//! touches the file system (see [`crate::render`] for SVG). Output is a pure
//! function of the model: every loop walks the model's vectors in order and
//! every DOT id is made from indices (`op3`, `v1_s0`), never from names, so
//! the same job always gives byte-identical DOT and names cannot break it.

pub mod chained;
pub mod condensed;
pub mod parallel;

use std::fmt;

use crate::model::Dataflow;

/// Which picture of a job to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum View {
    /// The logical view: every operator its own node, edges labelled with
    /// their partitioning (Flink's StreamGraph; top of Flink's figure).
    Condensed,
    /// Operators grouped into chains, one box per JobVertex, job edges
    /// labelled with their ship strategy (Flink's JobGraph).
    Chained,
    /// Every subtask and every channel between subtasks (Flink's
    /// ExecutionGraph; bottom of Flink's figure).
    Parallel,
}

impl View {
    /// Every view, in the order a student meets them.
    pub const ALL: [View; 3] = [View::Condensed, View::Chained, View::Parallel];

    /// Parses the command-line spelling: `condensed`, `chained` or `parallel`.
    pub fn parse(s: &str) -> Option<View> {
        match s {
            "condensed" => Some(View::Condensed),
            "chained" => Some(View::Chained),
            "parallel" => Some(View::Parallel),
            _ => None,
        }
    }

    /// The command-line spelling, the inverse of [`View::parse`].
    pub fn as_str(self) -> &'static str {
        match self {
            View::Condensed => "condensed",
            View::Chained => "chained",
            View::Parallel => "parallel",
        }
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Draws `df` in `view` as a Graphviz DOT document.
///
/// The result is deterministic and always valid DOT, whatever the names in
/// the model contain; indices that point outside the model draw as extra
/// nodes instead of panicking.
pub fn dot(df: &Dataflow, view: View) -> String {
    match view {
        View::Condensed => condensed::render(df),
        View::Chained => chained::render(df),
        View::Parallel => parallel::render(df),
    }
}

/// How a box around a JobVertex looks, in the chained and parallel views
/// alike, so a student sees the same box expand into its subtasks.
pub(crate) const CLUSTER_STYLE: &str =
    "style=\"rounded,filled\"; fillcolor=\"#eef3fb\"; color=\"#4a6fa5\"; fontsize=12;";

/// A DOT document being written line by line with indentation.
///
/// Writing to a `String` cannot fail, so unlike `fmt::Write` nothing here
/// returns a `Result`.
pub(crate) struct DotWriter {
    out: String,
    depth: usize,
}

impl DotWriter {
    /// Opens `digraph <id> {` with the attributes every view shares: a title
    /// naming the job and the view, left-to-right flow as in Flink's figure,
    /// and one font.
    pub(crate) fn digraph(id: &str, df: &Dataflow, subtitle: &str, extra: &str) -> DotWriter {
        let mut w = DotWriter {
            out: String::new(),
            depth: 0,
        };
        w.open(&format!("digraph {id}"));
        w.line(&format!(
            "graph [label={}, labelloc=t, fontname=\"Helvetica\", fontsize=14, rankdir=LR{extra}];",
            quote_lines(&[&df.name, subtitle]),
        ));
        w.line("node [fontname=\"Helvetica\", fontsize=11];");
        w.line("edge [fontname=\"Helvetica\", fontsize=9];");
        w
    }

    /// Writes one line at the current indentation.
    pub(crate) fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Writes `header {` and indents what follows.
    pub(crate) fn open(&mut self, header: &str) {
        self.line(&format!("{header} {{"));
        self.depth += 1;
    }

    /// Closes the innermost `{`.
    pub(crate) fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }

    /// Closes every open brace and returns the document.
    pub(crate) fn finish(mut self) -> String {
        while self.depth > 0 {
            self.close();
        }
        self.out
    }
}

/// A DOT quoted string showing `s` literally.
///
/// Quotes and backslashes are escaped (a lone backslash would otherwise start
/// a Graphviz escape such as `\N`), and line breaks become `\n`.
pub(crate) fn quote(s: &str) -> String {
    quote_lines(&[s])
}

/// A DOT quoted string showing each of `lines` on its own centred line.
pub(crate) fn quote_lines<S: AsRef<str>>(lines: &[S]) -> String {
    let mut out = String::from("\"");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str("\\n");
        }
        for c in line.as_ref().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => {}
                c => out.push(c),
            }
        }
    }
    out.push('"');
    out
}

/// A name from the model, or a placeholder for an index outside it.
pub(crate) fn operator_name(df: &Dataflow, op: usize) -> &str {
    df.operators.get(op).map_or("?", |o| o.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quotes and backslashes in names cannot end the DOT string early.
    #[test]
    fn quote_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(quote(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(quote("two\nlines\r\n"), r#""two\nlines\n""#);
        assert_eq!(quote_lines(&["x", "p=2"]), r#""x\np=2""#);
    }

    /// `parse` and `as_str` are inverses over `ALL`, and nothing else parses.
    #[test]
    fn view_round_trips() {
        for v in View::ALL {
            assert_eq!(View::parse(v.as_str()), Some(v));
            assert_eq!(v.to_string(), v.as_str());
        }
        assert_eq!(View::parse("slots"), None);
        assert_eq!(View::parse("Condensed"), None);
    }
}
