//! The job file as TOML: the `Raw*` structs serde reads it into.
//!
//! Each field keeps its span (`toml::Spanned`) so that a mistake found
//! later, while compiling, can still point at the text. Unknown fields are
//! errors (`deny_unknown_fields`), so a misspelt field is never silently
//! ignored. In: TOML text (through serde). Out: a [`RawJob`], compiled by
//! [`super::compile()`].

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

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
    /// Completed checkpoints to keep (`state.checkpoints.num-retained`).
    pub num_retained: Option<Spanned<i64>>,
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
