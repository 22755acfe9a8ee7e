//! Job files: a Flink program written by hand in TOML, compiled on the client.
//!
//! A job file plays the part of a DataStream program's `main`: it declares
//! operators and how they connect, and the client turns it into a
//! [`StreamGraph`] (then a JobGraph) before anything is submitted. Every
//! mistake is reported once, with the file, line and column from TOML spans,
//! the source line, and how to fix it, in the style of `rustc`:
//!
//! ```text
//! error: unknown kind `mapp`
//!  --> jobs/bad.toml:7:8
//!   |
//! 7 | kind = "mapp"
//!   |        ^^^^^^
//!   = help: kinds are: sequence, words, generator, map, ...
//! ```

use crate::api::{GraphBuilder, NodeSpec};
use crate::graph::{ChainingStrategy, GraphError, Partitioner, StreamGraph};
use crate::operators::{
    FILTER_FN_NAMES, FLAT_MAP_FN_NAMES, FilterFn, FlatMapFn, KIND_NAMES, KeySelector, MAP_FN_NAMES,
    MapFn, OperatorKind, REDUCE_FN_NAMES, ReduceFn,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A problem in a job file, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFileError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it (may be empty).
    pub help: String,
    /// The offending source line and the length of the marked span.
    pub snippet: Option<(String, usize)>,
}

impl std::error::Error for JobFileError {}

impl fmt::Display for JobFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line == 0 {
            // Nothing in the file to point at (it could not be read).
            write!(f, " --> {}", self.file)?;
        } else {
            write!(f, " --> {}:{}:{}", self.file, self.line, self.column)?;
        }
        if let Some((src, len)) = &self.snippet {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            write!(
                f,
                "\n{pad} |\n{num} | {src}\n{pad} | {}{}",
                " ".repeat(self.column.saturating_sub(1)),
                "^".repeat((*len).max(1))
            )?;
        }
        if !self.help.is_empty() {
            let pad = " ".repeat(self.line.to_string().len());
            write!(f, "\n{pad} = help: {}", self.help)?;
        }
        Ok(())
    }
}

/// Where a piece of TOML text came from, for error messages and for
/// resolving relative paths (a `words` source's `file`).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// Name to print (usually the path as given).
    pub file: &'a str,
    /// The text.
    pub text: &'a str,
    /// Directory relative paths start from.
    pub base_dir: &'a Path,
}

impl Source<'_> {
    /// An error at a byte range of the text.
    pub fn error_at(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> JobFileError {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..start].chars().count() + 1;
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let src = self.text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let end = span.end.clamp(start, line_end.max(start));
        let len = self.text[start..end].chars().count();
        JobFileError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
            help: help.into(),
            snippet: Some((src, len)),
        }
    }

    /// Turns a TOML/serde error into a located one.
    pub fn toml_error(&self, e: &toml::de::Error) -> JobFileError {
        let message = e.message().trim().to_string();
        let help = toml_help(&message);
        match e.span() {
            Some(span) => self.error_at(span, message, help),
            None => JobFileError {
                file: self.file.to_string(),
                line: 1,
                column: 1,
                message,
                help,
                snippet: None,
            },
        }
    }
}

fn toml_help(message: &str) -> String {
    if message.starts_with("unknown field") {
        "remove it or fix its spelling; the fields it may be are listed above".into()
    } else if message.starts_with("missing field") {
        "add the field".into()
    } else if message.contains("invalid type") || message.contains("invalid value") {
        "check the value's type: numbers unquoted, names in quotes".into()
    } else {
        "see TOML's syntax at https://toml.io".into()
    }
}

/// The top level of a job file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    /// Job name.
    pub name: Spanned<String>,
    /// Default parallelism.
    pub parallelism: Option<Spanned<i64>>,
    /// Job-level operator chaining.
    pub chaining: Option<bool>,
    /// Checkpointing settings.
    pub checkpointing: Option<RawCheckpointing>,
    /// Restart strategy.
    pub restart: Option<RawRestart>,
    /// Failover strategy: "region" or "full".
    pub failover: Option<Spanned<String>>,
    /// The operators.
    pub operators: Spanned<Vec<RawOperator>>,
}

/// `[checkpointing]` of a job file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheckpointing {
    /// Interval between checkpoints in milliseconds.
    pub interval_ms: Spanned<i64>,
    /// "aligned" (default) or "unaligned".
    pub mode: Option<Spanned<String>>,
}

/// `[restart]` of a job file (Flink's `restart-strategy.*`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRestart {
    /// "none", "fixed-delay", "exponential-delay" or "failure-rate".
    pub strategy: Spanned<String>,
    /// fixed-delay: restarts allowed.
    pub attempts: Option<u32>,
    /// fixed-delay / failure-rate: delay (ms).
    pub delay_ms: Option<u64>,
    /// exponential-delay: first delay (ms).
    pub initial_delay_ms: Option<u64>,
    /// exponential-delay: largest delay (ms).
    pub max_delay_ms: Option<u64>,
    /// exponential-delay: growth factor.
    pub multiplier: Option<f64>,
    /// exponential-delay: quiet time that resets the delay (ms).
    pub reset_after_ms: Option<u64>,
    /// failure-rate: failures tolerated per interval.
    pub max_failures: Option<u32>,
    /// failure-rate: the interval (ms).
    pub interval_ms: Option<u64>,
}

/// One `[[operators]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperator {
    /// Unique id.
    pub id: Spanned<String>,
    /// Display name.
    pub name: Option<String>,
    /// Operator kind.
    pub kind: Spanned<String>,
    /// Parallelism.
    pub parallelism: Option<Spanned<i64>>,
    /// Single input.
    pub input: Option<Spanned<String>>,
    /// Several inputs (a union).
    pub inputs: Option<Spanned<Vec<Spanned<String>>>>,
    /// Partitioning of the input edge(s).
    pub partition: Option<Spanned<String>>,
    /// Key for `hash` partitioning.
    pub key: Option<Spanned<String>>,
    /// Chaining request.
    pub chaining: Option<Spanned<String>>,
    /// Slot sharing group.
    pub slot_sharing_group: Option<Spanned<String>>,
    /// Named function.
    #[serde(rename = "fn")]
    pub func: Option<Spanned<String>>,
    /// Kind arguments.
    pub args: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
}

/// Reads, parses and compiles a job file into a StreamGraph.
pub fn load_job_file(path: &Path) -> Result<StreamGraph, JobFileError> {
    with_file(path, "job file", parse_job)
}

/// Reads a TOML file (`what` names it in the error) and hands it to `parse`
/// as a [`Source`] whose relative paths start at the file's folder.
pub fn with_file<T>(
    path: &Path,
    what: &str,
    parse: impl FnOnce(&Source<'_>) -> Result<T, JobFileError>,
) -> Result<T, JobFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| JobFileError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the {what}: {e}"),
        help: "check the path".into(),
        snippet: None,
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    parse(&Source {
        file: &file,
        text: &text,
        base_dir,
    })
}

/// Parses and compiles job-file text.
pub fn parse_job(src: &Source<'_>) -> Result<StreamGraph, JobFileError> {
    let raw: RawJob = toml::from_str(src.text).map_err(|e| src.toml_error(&e))?;
    compile(src, &raw)
}

fn positive(src: &Source<'_>, v: &Spanned<i64>, what: &str) -> Result<u32, JobFileError> {
    match u32::try_from(*v.get_ref()) {
        Ok(0) => Err(src.error_at(
            v.span(),
            format!("{what} is 0"),
            "parallelism must be at least 1",
        )),
        Ok(p) => Ok(p),
        Err(_) => Err(src.error_at(
            v.span(),
            format!("{what} {} is out of range", v.get_ref()),
            "parallelism must be between 1 and 4294967295",
        )),
    }
}

fn one_of(names: &[&str]) -> String {
    names.join(", ")
}

/// Compiles a parsed job into a StreamGraph.
pub fn compile(src: &Source<'_>, raw: &RawJob) -> Result<StreamGraph, JobFileError> {
    let mut b = GraphBuilder::new(raw.name.get_ref().clone());
    if let Some(p) = &raw.parallelism {
        b.parallelism = positive(src, p, "the job's parallelism")?;
    }
    b.chaining_enabled = raw.chaining.unwrap_or(true);
    if let Some(c) = &raw.checkpointing {
        let ms = *c.interval_ms.get_ref();
        if ms <= 0 {
            return Err(src.error_at(
                c.interval_ms.span(),
                "checkpoint interval must be positive",
                "give the interval in milliseconds, e.g. interval_ms = 1000",
            ));
        }
        b.checkpoint_interval_ms = Some(ms as u64);
        b.checkpoint_mode = match c.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
            None | Some(("aligned", _)) => crate::job_config::CheckpointMode::Aligned,
            Some(("unaligned", _)) => crate::job_config::CheckpointMode::Unaligned,
            Some((other, span)) => {
                return Err(src.error_at(
                    span,
                    format!("unknown checkpoint mode `{other}`"),
                    "mode is \"aligned\" or \"unaligned\"",
                ));
            }
        };
    }
    if let Some(f) = &raw.failover {
        b.failover = match f.get_ref().as_str() {
            "region" => crate::job_config::FailoverStrategy::Region,
            "full" => crate::job_config::FailoverStrategy::Full,
            other => {
                return Err(src.error_at(
                    f.span(),
                    format!("unknown failover strategy `{other}`"),
                    "failover is \"region\" (restart only the failed pipelined region) or \"full\"",
                ));
            }
        };
    }
    if let Some(r) = &raw.restart {
        use crate::job_config::RestartStrategy as R;
        b.restart = Some(match r.strategy.get_ref().as_str() {
            "none" => R::None,
            "fixed-delay" => R::FixedDelay {
                attempts: r.attempts.unwrap_or(3),
                delay_ms: r.delay_ms.unwrap_or(1_000),
            },
            "exponential-delay" => R::ExponentialDelay {
                initial_ms: r.initial_delay_ms.unwrap_or(1_000),
                max_ms: r.max_delay_ms.unwrap_or(60_000),
                multiplier: r.multiplier.unwrap_or(1.5).max(1.0),
                reset_after_ms: r.reset_after_ms.unwrap_or(3_600_000),
            },
            "failure-rate" => R::FailureRate {
                max_failures: r.max_failures.unwrap_or(1),
                interval_ms: r.interval_ms.unwrap_or(60_000),
                delay_ms: r.delay_ms.unwrap_or(1_000),
            },
            other => {
                return Err(src.error_at(
                    r.strategy.span(),
                    format!("unknown restart strategy `{other}`"),
                    "strategy is one of: none, fixed-delay, exponential-delay, failure-rate",
                ));
            }
        });
    }
    let ops = raw.operators.get_ref();
    if ops.is_empty() {
        return Err(src.error_at(
            raw.operators.span(),
            "the job has no operators",
            "add [[operators]] entries: at least a source and a sink",
        ));
    }
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let id = op.id.get_ref().as_str();
        if id.is_empty() {
            return Err(src.error_at(op.id.span(), "an operator id is empty", "give it a name"));
        }
        if let Some(&first) = index.get(id) {
            let (line, _) = line_col(src.text, ops[first].id.span().start);
            return Err(src.error_at(
                op.id.span(),
                format!("duplicate operator id `{id}`"),
                format!(
                    "`{id}` is already the id of the operator on line {line}; ids must be unique"
                ),
            ));
        }
        index.insert(id, i);
    }
    // Where each StreamGraph edge came from, for locating graph errors.
    let mut edge_spans: Vec<Range<usize>> = Vec::new();
    for op in ops {
        let kind = parse_kind(src, op)?;
        let parallelism = op
            .parallelism
            .as_ref()
            .map(|p| {
                positive(
                    src,
                    p,
                    &format!("operator `{}`'s parallelism", op.id.get_ref()),
                )
            })
            .transpose()?;
        let chaining = match &op.chaining {
            None => ChainingStrategy::Default,
            Some(c) => match c.get_ref().as_str() {
                "default" => ChainingStrategy::Default,
                "start_new_chain" => ChainingStrategy::StartNewChain,
                "disable" => ChainingStrategy::Disable,
                other => {
                    return Err(src.error_at(
                        c.span(),
                        format!("unknown chaining `{other}`"),
                        "chaining is one of: default, start_new_chain, disable",
                    ));
                }
            },
        };
        b.nodes.push(NodeSpec {
            id: op.id.get_ref().clone(),
            name: op.name.clone(),
            kind,
            parallelism,
            chaining,
            slot_sharing_group: op.slot_sharing_group.as_ref().map(|s| s.get_ref().clone()),
        });
    }
    for (target, op) in ops.iter().enumerate() {
        let partitioner = parse_partition(src, op)?;
        let inputs: Vec<&Spanned<String>> =
            match (&op.input, &op.inputs) {
                (Some(_), Some(list)) => {
                    return Err(src.error_at(
                    list.span(),
                    format!("operator `{}` has both `input` and `inputs`", op.id.get_ref()),
                    "use `input = \"a\"` for one input or `inputs = [\"a\", \"b\"]` for a union",
                ));
                }
                (Some(one), None) => vec![one],
                (None, Some(list)) => list.get_ref().iter().collect(),
                (None, None) => vec![],
            };
        for input in inputs {
            let Some(&source) = index.get(input.get_ref().as_str()) else {
                return Err(src.error_at(
                    input.span(),
                    format!(
                        "operator `{}` reads from `{}`, which is not defined",
                        op.id.get_ref(),
                        input.get_ref()
                    ),
                    format!(
                        "the defined ids are: {}",
                        index.keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            b.edges.push((source, target, partitioner));
            edge_spans.push(input.span());
        }
    }
    b.build().map_err(|e| locate(src, raw, &b, &edge_spans, e))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

/// Points a graph-level error at the job-file text it comes from: the
/// message and help are the error's own, the place is the field of the
/// operator (or the `input` of the edge) it is about. A cycle points at the
/// inputs of its first operator in the file and names every one on it.
fn locate(
    src: &Source<'_>,
    raw: &RawJob,
    b: &GraphBuilder,
    edge_spans: &[Range<usize>],
    e: GraphError,
) -> JobFileError {
    let ops = raw.operators.get_ref();
    let inputs_or_id = |node: usize| {
        ops[node]
            .input
            .as_ref()
            .map(|i| i.span())
            .or_else(|| ops[node].inputs.as_ref().map(|i| i.span()))
            .unwrap_or_else(|| ops[node].id.span())
    };
    let span = match &e {
        GraphError::ZeroParallelism { node, .. } => ops[*node]
            .parallelism
            .as_ref()
            .map(|p| p.span())
            .or_else(|| raw.parallelism.as_ref().map(|p| p.span()))
            .unwrap_or_else(|| ops[*node].id.span()),
        GraphError::ForwardParallelismChange { edge, .. } => ops[b.edges[*edge].1]
            .partition
            .as_ref()
            .map(|p| p.span())
            .unwrap_or_else(|| edge_spans[*edge].clone()),
        GraphError::NotKeyed { node, .. } => ops[*node].kind.span(),
        GraphError::SourceWithInputs { node, .. } | GraphError::NoInputs { node, .. } => {
            inputs_or_id(*node)
        }
        GraphError::SinkWithOutput { edge, .. } => edge_spans[*edge].clone(),
        GraphError::Cycle { nodes, .. } => match nodes.first() {
            Some(&first) => inputs_or_id(first),
            None => raw.operators.span(),
        },
        GraphError::Type { node, .. } | GraphError::KeyNeedsPairs { node, .. } => ops[*node]
            .func
            .as_ref()
            .map(|f| f.span())
            .unwrap_or_else(|| ops[*node].kind.span()),
    };
    src.error_at(span, e.to_string(), e.help())
}

fn parse_partition(
    src: &Source<'_>,
    op: &RawOperator,
) -> Result<Option<Partitioner>, JobFileError> {
    let key = match &op.key {
        None => None,
        Some(k) => Some(KeySelector::parse(k.get_ref()).ok_or_else(|| {
            src.error_at(
                k.span(),
                format!("unknown key `{}`", k.get_ref()),
                "key is \"f0\" (the first field of a (key, count) pair) or \"value\" (the whole record)",
            )
        })?),
    };
    let Some(p) = &op.partition else {
        if let Some(k) = &op.key {
            return Err(src.error_at(
                k.span(),
                "`key` is set but the operator is not hash-partitioned",
                "add partition = \"hash\" (Flink's keyBy) or remove `key`",
            ));
        }
        return Ok(None);
    };
    let part = match p.get_ref().as_str() {
        "forward" => Partitioner::Forward,
        "rebalance" => Partitioner::Rebalance,
        "rescale" => Partitioner::Rescale,
        "shuffle" => Partitioner::Shuffle,
        "broadcast" => Partitioner::Broadcast,
        "global" => Partitioner::Global,
        "hash" => match key {
            Some(k) => Partitioner::Hash(k),
            None => {
                return Err(src.error_at(
                    p.span(),
                    format!("operator `{}` is hash-partitioned without a key", op.id.get_ref()),
                    "add key = \"f0\" (first field of a pair) or key = \"value\" (the whole record)",
                ));
            }
        },
        other => {
            return Err(src.error_at(
                p.span(),
                format!("unknown partition `{other}`"),
                "partition is one of: forward, rebalance, rescale, shuffle, hash, broadcast, global",
            ));
        }
    };
    if key.is_some() && !matches!(part, Partitioner::Hash(_)) {
        let k = op
            .key
            .as_ref()
            .map(|k| k.span())
            .unwrap_or_else(|| p.span());
        return Err(src.error_at(
            k,
            format!(
                "`key` only applies to hash partitioning, not `{}`",
                p.get_ref()
            ),
            "remove `key` or use partition = \"hash\"",
        ));
    }
    Ok(Some(part))
}

/// Arguments of one operator, consumed as they are read so that leftovers
/// can be reported as unknown.
struct Args<'a> {
    src: &'a Source<'a>,
    op: &'a RawOperator,
    left: BTreeMap<String, &'a Spanned<toml::Value>>,
}

impl<'a> Args<'a> {
    fn new(src: &'a Source<'a>, op: &'a RawOperator) -> Self {
        let left = op
            .args
            .iter()
            .flat_map(|a| a.get_ref().iter())
            .map(|(k, v)| (k.get_ref().clone(), v))
            .collect();
        Args { src, op, left }
    }

    fn missing(&self, name: &str, example: &str) -> JobFileError {
        let span = self
            .op
            .args
            .as_ref()
            .map(|a| a.span())
            .unwrap_or_else(|| self.op.kind.span());
        self.src.error_at(
            span,
            format!(
                "operator `{}` ({}) needs the argument `{name}`",
                self.op.id.get_ref(),
                self.op.kind.get_ref()
            ),
            format!("add args = {{ {example} }}"),
        )
    }

    fn int(&mut self, name: &str, example: &str) -> Result<i64, JobFileError> {
        self.opt_int(name)?
            .ok_or_else(|| self.missing(name, example))
    }

    fn opt_int(&mut self, name: &str) -> Result<Option<i64>, JobFileError> {
        match self.left.remove(name) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                toml::Value::Integer(i) => Ok(Some(*i)),
                other => Err(self.src.error_at(
                    v.span(),
                    format!(
                        "argument `{name}` must be a whole number, not {}",
                        other.type_str()
                    ),
                    "write the number without quotes",
                )),
            },
        }
    }

    fn non_negative(&mut self, name: &str, example: &str) -> Result<u64, JobFileError> {
        let span = self.left.get(name).map(|v| v.span());
        let v = self.int(name, example)?;
        u64::try_from(v).map_err(|_| {
            self.src.error_at(
                span.unwrap_or_else(|| self.op.kind.span()),
                format!("argument `{name}` must not be negative"),
                format!("e.g. args = {{ {example} }}"),
            )
        })
    }

    fn finish(self) -> Result<(), JobFileError> {
        if let Some((name, v)) = self.left.iter().next() {
            let expected = match self.op.kind.get_ref().as_str() {
                "sequence" => "from, to",
                "words" => "lines or file",
                "generator" => "keys, count, rate",
                "map" => "modulus (for fn = \"key_mod\")",
                "window_count" => "size_ms",
                "discard" | "print" | "collect" => "rate (records per second per subtask)",
                _ => "none",
            };
            return Err(self.src.error_at(
                v.span(),
                format!(
                    "unknown argument `{name}` for kind `{}`",
                    self.op.kind.get_ref()
                ),
                format!("arguments of this kind: {expected}"),
            ));
        }
        Ok(())
    }
}

fn parse_kind(src: &Source<'_>, op: &RawOperator) -> Result<OperatorKind, JobFileError> {
    let kind_name = op.kind.get_ref().as_str();
    let func = |names: &[&str]| -> Result<&Spanned<String>, JobFileError> {
        let f = op.func.as_ref().ok_or_else(|| {
            src.error_at(
                op.kind.span(),
                format!(
                    "operator `{}` ({kind_name}) needs a function",
                    op.id.get_ref()
                ),
                format!("add fn = \"...\", one of: {}", one_of(names)),
            )
        })?;
        if names.contains(&f.get_ref().as_str()) {
            Ok(f)
        } else {
            Err(src.error_at(
                f.span(),
                format!("unknown {kind_name} function `{}`", f.get_ref()),
                format!("{kind_name} functions are: {}", one_of(names)),
            ))
        }
    };
    if let Some(f) = &op.func
        && !matches!(kind_name, "map" | "filter" | "flat_map" | "reduce")
        && KIND_NAMES.contains(&kind_name)
    {
        return Err(src.error_at(
            f.span(),
            format!("kind `{kind_name}` takes no `fn`"),
            "only map, filter, flat_map and reduce take a function; remove `fn`",
        ));
    }
    let mut args = Args::new(src, op);
    let kind = match kind_name {
        "sequence" => {
            let from = args.int("from", "from = 1, to = 1000")?;
            let to = args.int("to", "from = 1, to = 1000")?;
            OperatorKind::Sequence { from, to }
        }
        "words" => {
            let lines_v = args.left.remove("lines");
            let file_v = args.left.remove("file");
            let lines = match (lines_v, file_v) {
                (Some(l), None) => match l.get_ref() {
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            src.error_at(
                                l.span(),
                                "`lines` must be a list of strings",
                                "e.g. lines = [\"to be\", \"or not\"]",
                            )
                        })?,
                    toml::Value::String(s) => s.lines().map(str::to_string).collect(),
                    _ => {
                        return Err(src.error_at(
                            l.span(),
                            "`lines` must be a list of strings",
                            "e.g. lines = [\"to be\", \"or not\"]",
                        ));
                    }
                },
                (None, Some(f)) => {
                    let Some(name) = f.get_ref().as_str() else {
                        return Err(src.error_at(
                            f.span(),
                            "`file` must be a path in quotes",
                            "e.g. file = \"hamlet.txt\"",
                        ));
                    };
                    let path: PathBuf = src.base_dir.join(name);
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        src.error_at(
                            f.span(),
                            format!("cannot read `{}`: {e}", path.display()),
                            "the path is relative to the job file's folder",
                        )
                    })?;
                    text.lines().map(str::to_string).collect()
                }
                (Some(_), Some(f)) => {
                    return Err(src.error_at(
                        f.span(),
                        "give `lines` or `file`, not both",
                        "remove one of them",
                    ));
                }
                (None, None) => {
                    return Err(args.missing("lines", "lines = [\"to be or not to be\"]"));
                }
            };
            OperatorKind::Words { lines }
        }
        "generator" => {
            let keys = args.non_negative("keys", "keys = 1000, count = 100000, rate = 0")?;
            let count = args.non_negative("count", "keys = 1000, count = 100000, rate = 0")?;
            let rate = args.opt_int("rate")?.unwrap_or(0).max(0) as u64;
            if keys == 0 {
                return Err(src.error_at(
                    op.kind.span(),
                    "a generator needs at least one key",
                    "set keys >= 1",
                ));
            }
            OperatorKind::Generator { keys, count, rate }
        }
        "map" => {
            let f = func(MAP_FN_NAMES)?;
            OperatorKind::Map(match f.get_ref().as_str() {
                "identity" => MapFn::Identity,
                "key_mod" => {
                    let modulus = args.int("modulus", "modulus = 1000")?;
                    if modulus <= 0 {
                        return Err(src.error_at(
                            f.span(),
                            "key_mod needs a positive modulus",
                            "e.g. args = { modulus = 1000 }",
                        ));
                    }
                    MapFn::KeyMod { modulus }
                }
                "to_pair" => MapFn::ToPair,
                "double" => MapFn::Double,
                _ => MapFn::Upper,
            })
        }
        "filter" => OperatorKind::Filter(match func(FILTER_FN_NAMES)?.get_ref().as_str() {
            "is_even" => FilterFn::IsEven,
            "is_odd" => FilterFn::IsOdd,
            _ => FilterFn::NonEmpty,
        }),
        "flat_map" => OperatorKind::FlatMap(match func(FLAT_MAP_FN_NAMES)?.get_ref().as_str() {
            "tokenize" => FlatMapFn::Tokenize,
            _ => FlatMapFn::SplitWhitespace,
        }),
        "reduce" => OperatorKind::Reduce(match func(REDUCE_FN_NAMES)?.get_ref().as_str() {
            "sum" => ReduceFn::Sum,
            "min" => ReduceFn::Min,
            _ => ReduceFn::Max,
        }),
        "sum" => OperatorKind::Sum,
        "count" => OperatorKind::Count,
        "window_count" => {
            let size_ms = args.non_negative("size_ms", "size_ms = 1000")?;
            if size_ms == 0 {
                return Err(src.error_at(op.kind.span(), "a window of 0 ms", "set size_ms >= 1"));
            }
            OperatorKind::WindowCount { size_ms }
        }
        "discard" => OperatorKind::Discard {
            rate: args.opt_int("rate")?.unwrap_or(0).max(0) as u64,
        },
        "print" => OperatorKind::Print {
            rate: args.opt_int("rate")?.unwrap_or(0).max(0) as u64,
        },
        "collect" => OperatorKind::Collect {
            rate: args.opt_int("rate")?.unwrap_or(0).max(0) as u64,
        },
        other => {
            return Err(src.error_at(
                op.kind.span(),
                format!("unknown kind `{other}`"),
                format!("kinds are: {}", one_of(KIND_NAMES)),
            ));
        }
    };
    args.finish()?;
    Ok(kind)
}
