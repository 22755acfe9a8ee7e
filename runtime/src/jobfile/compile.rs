//! Compiling a parsed job file into a [`StreamGraph`]: the client-side
//! half of Flink's `StreamExecutionEnvironment.getStreamGraph()`.
//!
//! In: a [`RawJob`] and its [`Source`]. Out: a StreamGraph built through the
//! same [`GraphBuilder`] the Rust API uses, or one [`JobFileError`]. Job-level
//! settings (checkpointing, restart and failover strategy), operator ids,
//! parallelism, chaining and the partitioning of each input edge are checked
//! here; each operator's kind and arguments in [`super::kinds`]; whole-graph
//! rules (cycles, forward edges across a parallelism change, ...) by the
//! graph builder, whose errors `locate` points back at the text.

use super::error::{JobFileError, Source};
use super::kinds::parse_kind;
use super::raw::{RawJob, RawOperator};
use crate::api::{GraphBuilder, NodeSpec};
use crate::graph::{ChainingStrategy, GraphError, Partitioner, StreamGraph};
use crate::operators::KeySelector;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

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
        if let Some(n) = &c.num_retained {
            let v = *n.get_ref();
            if !(1..=1000).contains(&v) {
                return Err(src.error_at(
                    n.span(),
                    format!("cannot retain {v} checkpoints"),
                    "num_retained is how many completed checkpoints to keep, 1 to 1000 (Flink's state.checkpoints.num-retained, default 1)",
                ));
            }
            b.checkpoints_retained = Some(v as u32);
        }
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
