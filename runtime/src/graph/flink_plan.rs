//! A real Flink's plan (`GET /jobs/:id/plan`) as `viz`'s picture model.
//!
//! Apache Flink's JobManager answers `GET /jobs/:jobid/plan` with the
//! JobGraph its client built (`JsonPlanGenerator`): one node per
//! `JobVertex` (an operator chain) with its id, parallelism and a tree
//! `description` of the chained operators, head first
//! (`Source: Seq<br/>+- ToKeyOne<br/>`), and for each input the producing
//! vertex and the `ship_strategy` of the `JobEdge` (the partitioner's name).
//! This module reads that answer into a [`viz::Dataflow`], so a real
//! Flink's jobs are drawn by the same renderers as ours
//! ([`viz_model`](super::viz_model)):
//!
//! - the chained operators of a description become the condensed view's
//!   operators, joined by chained `FORWARD` edges, as our JobGraph chains
//!   them (`+-` nesting in the tree is a fan-out inside the chain);
//! - each input becomes a job edge, wired into subtask channels by the
//!   ExecutionGraph's own rule ([`wire`]): `FORWARD` and `RESCALE` are
//!   POINTWISE, the others ALL_TO_ALL;
//! - vertices come in topological order (Flink lists them sinks first).
//!
//! What the plan does not say: operator ids and kinds (ids here are
//! `VERTEX.k`, kinds the operator's role: source, operator, sink), the
//! operator inside a chain that feeds a job edge (here: the chain's last),
//! and slot sharing groups (`"default"`, unless `GET /jobs/:id` is given:
//! [`flink_job_dataflow`], or the answer *is* `GET /jobs/:id`).
//!
//! In: the JSON of `GET /jobs/:id/plan` (`{"plan": {...}}`), the bare plan
//! object, `GET /jobs/:id` (whose `plan` field is the same object), or
//! `mini-flink plan --json`'s output (the same shape, with node names).
//! Out: a [`viz::Dataflow`], or a [`FlinkPlanError`] naming what is missing
//! where.

use super::execution_graph::wire;
use super::ordered_graph::{Endpoints, OrderedGraph};
use super::stream_graph::Partitioner;
use crate::operators::KeySelector;
use serde_json::Value;
use std::collections::BTreeMap;

mod description;
mod text;

use description::{chain_operators, chained_name};
pub use text::dataflow_text;

/// What is wrong with a JSON document read as a Flink plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlinkPlanError {
    /// The document is Flink's error answer (`{"errors": [...]}`).
    #[error("an error answer of Flink's REST API, not a plan: {}", errors.join("; "))]
    FlinkErrors {
        /// Flink's messages.
        errors: Vec<String>,
    },
    /// Neither `plan` nor `nodes` at the top level.
    #[error(
        "not a Flink plan: expected `{{\"plan\": {{\"nodes\": [...]}}}}` (GET /jobs/:id/plan), \
         a bare plan with `nodes`, or GET /jobs/:id; found {found}"
    )]
    NotAPlan {
        /// What the document holds instead (its keys, or its type).
        found: String,
    },
    /// A required field is absent.
    #[error("{at}: missing field `{field}`")]
    Missing {
        /// Where (`plan.nodes[1]`).
        at: String,
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong type or an impossible value.
    #[error("{at}.{field}: expected {expected}, found {found}")]
    Invalid {
        /// Where (`plan.nodes[1]`).
        at: String,
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// Two nodes with one id.
    #[error("{at}: vertex id {id} is already the id of another node")]
    DuplicateVertex {
        /// Where the second one is.
        at: String,
        /// The id.
        id: String,
    },
    /// An input names a vertex the plan does not have.
    #[error("{at}: input from vertex {id}, which is not a node of the plan")]
    UnknownInput {
        /// Where the input is.
        at: String,
        /// The id it names.
        id: String,
    },
    /// The inputs form a cycle (Flink's streaming JobGraphs are acyclic).
    #[error("the plan's inputs form a cycle through the vertices {}", vertices.join(", "))]
    Cycle {
        /// Ids of the vertices on it.
        vertices: Vec<String>,
    },
}

/// Reads Flink's `GET /jobs/:id/plan` answer (or the bare plan, or
/// `GET /jobs/:id`, or `mini-flink plan --json`) into the picture model.
/// From `GET /jobs/:id` the vertices' names and slot sharing groups are
/// taken too.
pub fn flink_plan_dataflow(json: &Value) -> Result<viz::Dataflow, FlinkPlanError> {
    let (plan, at) = find_plan(json)?;
    let job = json.get("vertices").is_some().then_some(json);
    build(plan, &at, job)
}

/// Like [`flink_plan_dataflow`], with the answer of `GET /jobs/:id` for
/// what the plan lacks: each vertex's name and `slotSharingGroupId` (the
/// slot sharing group, by Flink's id).
pub fn flink_job_dataflow(plan: &Value, job: &Value) -> Result<viz::Dataflow, FlinkPlanError> {
    let (p, at) = find_plan(plan)?;
    build(p, &at, Some(job))
}

/// Finds the plan object in any of the accepted documents, with its path.
fn find_plan(json: &Value) -> Result<(&Value, String), FlinkPlanError> {
    if let Some(errors) = json.get("errors").and_then(Value::as_array) {
        return Err(FlinkPlanError::FlinkErrors {
            errors: errors.iter().map(display).collect(),
        });
    }
    if json.get("nodes").is_some() {
        return Ok((json, "plan".into()));
    }
    match json.get("plan") {
        Some(p) if p.is_object() => Ok((p, "plan".into())),
        Some(p) => Err(invalid("", "plan", "an object", p)),
        None => Err(FlinkPlanError::NotAPlan {
            found: match json.as_object() {
                Some(o) if o.is_empty() => "an empty object".into(),
                Some(o) => {
                    let keys: Vec<String> = o.keys().take(8).map(|k| format!("`{k}`")).collect();
                    format!("an object with {}", keys.join(", "))
                }
                None => type_name(json).into(),
            },
        }),
    }
}

/// One job vertex as read from the plan.
struct Node {
    id: String,
    parallelism: u32,
    name: String,
    group: String,
    /// Operator names, head first, with each one's parent in the chain.
    ops: Vec<(String, Option<usize>)>,
    inputs: Vec<Input>,
}

/// One input of a node.
struct Input {
    from: usize,
    num: u64,
    ship: String,
}

/// A job edge for the topological sort.
struct Link(usize, usize);

impl Endpoints for Link {
    fn endpoints(&self) -> (usize, usize) {
        (self.0, self.1)
    }
}

fn build(plan: &Value, at: &str, job: Option<&Value>) -> Result<viz::Dataflow, FlinkPlanError> {
    let name = match plan.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => return Err(invalid(at, "name", "a string", v)),
        None => String::new(),
    };
    let list = match plan.get("nodes") {
        Some(Value::Array(a)) => a,
        Some(v) => return Err(invalid(at, "nodes", "an array", v)),
        None => return Err(missing(at, "nodes")),
    };
    // Names and slot sharing groups from GET /jobs/:id, by vertex id.
    let mut detail: BTreeMap<&str, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for v in job
        .and_then(|j| j.get("vertices"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = v.get("id").and_then(Value::as_str) {
            let name = v.get("name").and_then(Value::as_str);
            let group = v.get("slotSharingGroupId").and_then(Value::as_str);
            detail.insert(id, (name, group));
        }
    }
    // First pass: ids, so that inputs can name any node.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, n) in list.iter().enumerate() {
        let here = format!("{at}.nodes[{i}]");
        let id = string(n, &here, "id")?;
        if index.insert(id.clone(), i).is_some() {
            return Err(FlinkPlanError::DuplicateVertex { at: here, id });
        }
    }
    let mut nodes = Vec::with_capacity(list.len());
    for (i, n) in list.iter().enumerate() {
        let here = format!("{at}.nodes[{i}]");
        let id = string(n, &here, "id")?;
        let parallelism = match n.get("parallelism") {
            None => return Err(missing(&here, "parallelism")),
            Some(v) => match v.as_u64().and_then(|p| u32::try_from(p).ok()) {
                Some(p) if p > 0 => p,
                _ => return Err(invalid(&here, "parallelism", "a positive integer", v)),
            },
        };
        let (job_name, job_group) = detail.get(id.as_str()).copied().unwrap_or((None, None));
        let given_name = match n.get("name") {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => job_name,
        };
        let description = match n.get("description") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            None | Some(Value::Null) | Some(Value::String(_)) => None,
            Some(v) => return Err(invalid(&here, "description", "a string", v)),
        };
        let Some(description) = description.or_else(|| given_name.map(str::to_string)) else {
            return Err(missing(&here, "description"));
        };
        let mut ops = chain_operators(&description, given_name);
        if ops.is_empty() {
            ops.push((given_name.unwrap_or(&id).to_string(), None));
        }
        let mut inputs = Vec::new();
        match n.get("inputs") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for (k, inp) in a.iter().enumerate() {
                    let there = format!("{here}.inputs[{k}]");
                    let from_id = string(inp, &there, "id")?;
                    let from =
                        *index
                            .get(&from_id)
                            .ok_or_else(|| FlinkPlanError::UnknownInput {
                                at: there.clone(),
                                id: from_id.clone(),
                            })?;
                    let num = match inp.get("num") {
                        None => k as u64,
                        Some(v) => v
                            .as_u64()
                            .ok_or_else(|| invalid(&there, "num", "an input index", v))?,
                    };
                    let ship = string(inp, &there, "ship_strategy")?;
                    inputs.push(Input { from, num, ship });
                }
                inputs.sort_by_key(|inp| inp.num);
            }
            Some(v) => return Err(invalid(&here, "inputs", "an array", v)),
        }
        nodes.push(Node {
            name: given_name
                .map(str::to_string)
                .unwrap_or_else(|| chained_name(&ops, 0)),
            id,
            parallelism,
            group: job_group.unwrap_or("default").to_string(),
            ops,
            inputs,
        });
    }
    let order = topological(&nodes)?;
    Ok(picture(name, &nodes, &order))
}

/// Vertex positions in a topological order that takes ready vertices in
/// the order the plan lists them.
fn topological(nodes: &[Node]) -> Result<Vec<usize>, FlinkPlanError> {
    let mut g: OrderedGraph<(), Link> = OrderedGraph::new();
    for _ in nodes {
        g.add_node(());
    }
    for (i, n) in nodes.iter().enumerate() {
        for inp in &n.inputs {
            g.add_edge(Link(inp.from, i));
        }
    }
    g.topological_order()
        .map_err(|cycle| FlinkPlanError::Cycle {
            vertices: cycle.iter().map(|&i| nodes[i].id.clone()).collect(),
        })
}

/// Fills the picture model, vertices in `order`.
fn picture(name: String, nodes: &[Node], order: &[usize]) -> viz::Dataflow {
    let mut position = vec![0; nodes.len()];
    for (p, &i) in order.iter().enumerate() {
        position[i] = p;
    }
    let has_consumers: Vec<bool> = (0..nodes.len())
        .map(|i| {
            nodes
                .iter()
                .any(|n| n.inputs.iter().any(|inp| inp.from == i))
        })
        .collect();
    let mut df = viz::Dataflow {
        name,
        operators: Vec::new(),
        operator_edges: Vec::new(),
        vertices: Vec::new(),
        vertex_edges: Vec::new(),
    };
    // The first operator index of each vertex, by plan position.
    let mut first_op = vec![0; nodes.len()];
    for (vi, &i) in order.iter().enumerate() {
        let n = &nodes[i];
        let base = df.operators.len();
        first_op[i] = base;
        for (k, (op_name, parent)) in n.ops.iter().enumerate() {
            let is_leaf = !n.ops.iter().any(|(_, p)| *p == Some(k));
            let kind = if k == 0 && n.inputs.is_empty() {
                "source"
            } else if is_leaf && !has_consumers[i] {
                "sink"
            } else {
                "operator"
            };
            df.operators.push(viz::Operator {
                id: format!("{}.{k}", n.id),
                name: op_name.clone(),
                kind: kind.into(),
                parallelism: n.parallelism,
                slot_sharing_group: n.group.clone(),
                vertex: vi,
            });
            if let Some(p) = parent {
                df.operator_edges.push(viz::OperatorEdge {
                    from: base + p,
                    to: base + k,
                    partitioning: "FORWARD".into(),
                    chained: true,
                });
            }
        }
        df.vertices.push(viz::Vertex {
            name: n.name.clone(),
            parallelism: n.parallelism,
            slot_sharing_group: n.group.clone(),
            operators: (base..base + n.ops.len()).collect(),
        });
    }
    // Job edges grouped by consuming vertex, in input order, as our JobGraph.
    for &i in order {
        let n = &nodes[i];
        for inp in &n.inputs {
            let up = &nodes[inp.from];
            let partitioner = wiring(&inp.ship);
            df.operator_edges.push(viz::OperatorEdge {
                from: first_op[inp.from] + up.ops.len() - 1,
                to: first_op[i],
                partitioning: inp.ship.clone(),
                chained: false,
            });
            df.vertex_edges.push(viz::VertexEdge {
                from: position[inp.from],
                to: position[i],
                ship_strategy: inp.ship.clone(),
                distribution: partitioner.distribution().to_string(),
                channels: wire(partitioner, up.parallelism, n.parallelism)
                    .into_iter()
                    .map(|c| (c.from, c.to))
                    .collect(),
            });
        }
    }
    df
}

/// The partitioner whose wiring a ship strategy has. Flink prints a
/// partitioner's name (`StreamPartitioner.toString`); a keyed one's key
/// is not in the plan and does not change the wiring. Names we do not
/// model (`CUSTOM`, …) are all-to-all, as in Flink.
fn wiring(ship: &str) -> Partitioner {
    match ship {
        "FORWARD" => Partitioner::Forward,
        "RESCALE" => Partitioner::Rescale,
        "GLOBAL" => Partitioner::Global,
        "SHUFFLE" => Partitioner::Shuffle,
        "BROADCAST" => Partitioner::Broadcast,
        "HASH" => Partitioner::Hash(KeySelector::Value),
        _ => Partitioner::Rebalance,
    }
}

fn string(v: &Value, at: &str, field: &'static str) -> Result<String, FlinkPlanError> {
    match v.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(invalid(at, field, "a string", other)),
        None => Err(missing(at, field)),
    }
}

fn missing(at: &str, field: &'static str) -> FlinkPlanError {
    FlinkPlanError::Missing {
        at: at.to_string(),
        field,
    }
}

fn invalid(at: &str, field: &'static str, expected: &'static str, v: &Value) -> FlinkPlanError {
    FlinkPlanError::Invalid {
        at: at.to_string(),
        field,
        expected,
        found: short(v),
    }
}

/// A value as an error message shows it: short.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!(
            "{}… ({})",
            s.chars().take(40).collect::<String>(),
            type_name(v)
        )
    } else {
        s
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value as text: strings without quotes.
fn display(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cycle is an error naming its vertices, not a hang or a panic.
    #[test]
    fn cycle_is_refused() {
        let plan = serde_json::json!({"nodes": [
            {"id": "a", "parallelism": 1, "description": "A", "inputs": [{"id": "b", "ship_strategy": "HASH"}]},
            {"id": "b", "parallelism": 1, "description": "B", "inputs": [{"id": "a", "ship_strategy": "HASH"}]},
        ]});
        assert_eq!(
            flink_plan_dataflow(&plan),
            Err(FlinkPlanError::Cycle {
                vertices: vec!["a".into(), "b".into()]
            })
        );
    }
}
