//! Operator kinds and their arguments: `kind`, `fn` and `args` of one
//! `[[operators]]` entry, read into an [`OperatorKind`].
//!
//! In: a [`RawOperator`]. Out: its [`OperatorKind`] (Flink's built-in
//! sources, transformations and sinks as this project offers them), or one
//! [`JobFileError`] naming the argument that is missing, unknown or of the
//! wrong type, and the kinds or functions there are.

use super::error::{JobFileError, Source};
use super::raw::RawOperator;
use crate::operators::{
    FILTER_FN_NAMES, FLAT_MAP_FN_NAMES, FilterFn, FlatMapFn, KIND_NAMES, MAP_FN_NAMES, MapFn,
    OperatorKind, REDUCE_FN_NAMES, ReduceFn,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

fn one_of(names: &[&str]) -> String {
    names.join(", ")
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

/// Reads one operator's `kind`, `fn` and `args` into its [`OperatorKind`].
pub(super) fn parse_kind(src: &Source<'_>, op: &RawOperator) -> Result<OperatorKind, JobFileError> {
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
