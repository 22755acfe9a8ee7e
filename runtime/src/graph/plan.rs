//! The plan of a job: readable text and the JSON of Flink's `GET /jobs/:id/plan`.
//!
//! Flink's `JsonPlanGenerator` prints one node per job vertex with its id,
//! parallelism, tree description and inputs (each with `ship_strategy` and
//! `exchange`). mini-flink prints the same shape, adds each node's `name`
//! (as `GET /jobs/:id` names vertices) and a top-level `slots`: what the job
//! needs from the cluster.

use super::execution_graph::ExecutionGraph;
use super::ids::JobId;
use super::job_graph::JobGraph;
use serde::Serialize;
use std::fmt::Write as _;

/// One input of a plan node.
#[derive(Debug, Clone, Serialize)]
pub struct PlanInput {
    /// Producing vertex id.
    pub id: String,
    /// Input index.
    pub num: usize,
    /// Flink's exchange mode for streaming jobs.
    pub exchange: &'static str,
    /// FORWARD, REBALANCE, RESCALE, SHUFFLE, HASH, BROADCAST or GLOBAL.
    pub ship_strategy: &'static str,
}

/// One job vertex in the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanNode {
    /// Vertex id.
    pub id: String,
    /// Chained operator names joined by ` -> `.
    pub name: String,
    /// Empty, as in Flink's streaming plans.
    pub operator: &'static str,
    /// Parallelism.
    pub parallelism: u32,
    /// Empty, as in Flink's streaming plans.
    pub operator_strategy: &'static str,
    /// Tree description.
    pub description: String,
    /// Empty object, as in Flink.
    pub optimizer_properties: serde_json::Map<String, serde_json::Value>,
    /// Inputs; absent for sources, as in Flink.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PlanInput>,
}

/// The `plan` object.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Job id.
    pub jid: String,
    /// Job name.
    pub name: String,
    /// Always STREAMING.
    #[serde(rename = "type")]
    pub job_type: &'static str,
    /// One per job vertex.
    pub nodes: Vec<PlanNode>,
}

/// The whole answer: `{"plan": {...}, "slots": n}`.
#[derive(Debug, Clone, Serialize)]
pub struct PlanResponse {
    /// The plan.
    pub plan: Plan,
    /// Slots the job needs.
    pub slots: u32,
}

impl PlanResponse {
    /// The plan of a job graph under a given job id.
    pub fn new(jg: &JobGraph, jid: JobId) -> PlanResponse {
        let nodes = jg
            .vertices
            .iter()
            .enumerate()
            .map(|(vi, v)| PlanNode {
                id: v.id.to_string(),
                name: v.name.clone(),
                operator: "",
                parallelism: v.parallelism,
                operator_strategy: "",
                description: v.description.clone(),
                optimizer_properties: serde_json::Map::new(),
                inputs: jg
                    .inputs_of(vi)
                    .map(|e| PlanInput {
                        id: jg.vertices[e.source].id.to_string(),
                        num: e.input_index,
                        exchange: "pipelined_bounded",
                        ship_strategy: e.partitioner.ship_strategy(),
                    })
                    .collect(),
            })
            .collect();
        PlanResponse {
            plan: Plan {
                jid: jid.to_string(),
                name: jg.name.clone(),
                job_type: "STREAMING",
                nodes,
            },
            slots: jg.slots_needed(),
        }
    }
}

/// The job id `mini-flink plan` shows before submission: a hash of the name
/// (a cluster assigns its own at submission).
pub fn preview_job_id(jg: &JobGraph) -> JobId {
    JobId::from_parts(&["plan", &jg.name])
}

/// The plan as text for people: chains, parallelism, ship strategies, slots.
pub fn plan_text(jg: &JobGraph) -> String {
    let g = &jg.stream_graph;
    let eg = ExecutionGraph::from_job_graph(jg);
    let mut s = String::new();
    let _ = writeln!(s, "Job \"{}\"", jg.name);
    let _ = writeln!(
        s,
        "  operator chaining: {}",
        if g.chaining_enabled {
            "on"
        } else {
            "off (disableOperatorChaining)"
        }
    );
    let _ = writeln!(
        s,
        "  {} operators -> {} job vertices (tasks), {} subtasks",
        g.nodes.len(),
        jg.vertices.len(),
        eg.subtask_count()
    );
    s.push('\n');
    for (i, v) in jg.vertices.iter().enumerate() {
        let _ = writeln!(
            s,
            "[{}] {}  (parallelism {}, slot sharing group \"{}\")",
            i + 1,
            v.name,
            v.parallelism,
            v.slot_sharing_group
        );
        for (k, &op) in v.operators.iter().enumerate() {
            let n = &g.nodes[op];
            let lead = if k == 0 { "chain:" } else { "      " };
            let _ = writeln!(
                s,
                "    {lead} {} ({}, id \"{}\")",
                n.name,
                n.kind.kind_name(),
                n.id
            );
        }
        for e in jg.inputs_of(i) {
            let _ = writeln!(
                s,
                "    input {}: from [{}] {} via {} ({})",
                e.input_index,
                e.source + 1,
                jg.vertices[e.source].name,
                e.partitioner,
                e.distribution
            );
        }
    }
    s.push('\n');
    let parts: Vec<String> = jg
        .slots_per_sharing_group()
        .iter()
        .map(|(g, p)| format!("\"{g}\": {p}"))
        .collect();
    let _ = writeln!(
        s,
        "Slots needed: {} (highest parallelism per slot sharing group: {})",
        jg.slots_needed(),
        parts.join(", ")
    );
    s
}
