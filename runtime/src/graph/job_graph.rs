//! The JobGraph: the StreamGraph after operator chaining, as the client submits it.
//!
//! Flink's `StreamingJobGraphGenerator` walks the StreamGraph from its
//! sources and fuses every edge that [`is_chainable`] into one `JobVertex`: a
//! chain of operators that runs as one task, in one thread, handing records
//! over by method call instead of through the network stack. Every other edge
//! becomes a `JobEdge` with a ship strategy. A job vertex is named by its
//! operators' names joined by ` -> ` (a fan-out inside a chain is written
//! `A -> (B, C)`), and its description is the tree Flink's web UI shows.

use super::ids::JobVertexId;
use super::stream_graph::{
    ChainingStrategy, DistributionPattern, NodeIdx, Partitioner, StreamEdge, StreamGraph,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Index of a vertex in [`JobGraph::vertices`].
pub type VertexIdx = usize;

/// One chain of operators: the unit that is deployed as a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobVertex {
    /// Stable id (hash of the chain's operator ids).
    pub id: JobVertexId,
    /// Operators' names joined by ` -> `.
    pub name: String,
    /// Flink's tree description (`Source: Seq<br/>+- Map<br/>`).
    pub description: String,
    /// Parallelism (the same for every operator in the chain).
    pub parallelism: u32,
    /// Slot sharing group of the chain.
    pub slot_sharing_group: String,
    /// The chained operators (StreamGraph node indices), head first, in the
    /// depth-first order records pass through them.
    pub operators: Vec<NodeIdx>,
    /// Chain-internal edges (StreamGraph edge indices).
    pub chained_edges: Vec<usize>,
}

/// A non-chained connection between two vertices, with the
/// `IntermediateDataSet` the upstream produces for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEdge {
    /// Producing vertex.
    pub source: VertexIdx,
    /// Consuming vertex.
    pub target: VertexIdx,
    /// The operator inside `source` that emits onto this edge.
    pub source_operator: NodeIdx,
    /// The operator inside `target` that reads from it (its head).
    pub target_operator: NodeIdx,
    /// The StreamGraph edge this job edge carries.
    pub stream_edge: usize,
    /// How records are distributed.
    pub partitioner: Partitioner,
    /// How subtasks are wired.
    pub distribution: DistributionPattern,
    /// Index among the target vertex's inputs (Flink's `num`).
    pub input_index: usize,
}

/// The optimised dataflow the client submits to the Dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobGraph {
    /// Job name.
    pub name: String,
    /// The program it was built from (operators, for running them).
    pub stream_graph: StreamGraph,
    /// Vertices in topological order (sources first).
    pub vertices: Vec<JobVertex>,
    /// Edges, grouped by target vertex in input order.
    pub edges: Vec<JobEdge>,
}

/// Flink 2.3's `StreamingJobGraphGenerator.isChainable`, rule by rule.
pub fn is_chainable(g: &StreamGraph, e: &StreamEdge) -> bool {
    let up = &g.nodes[e.source];
    let down = &g.nodes[e.target];
    g.chaining_enabled
        && g.in_edges(e.target).count() == 1
        && up.slot_sharing_group == down.slot_sharing_group
        && e.partitioner == Partitioner::Forward
        && up.parallelism == down.parallelism
        && up.chaining != ChainingStrategy::Disable
        && down.chaining == ChainingStrategy::Default
}

impl JobGraph {
    /// Chains a (validated) StreamGraph.
    pub fn from_stream_graph(g: &StreamGraph) -> JobGraph {
        let chainable: Vec<bool> = g.edges.iter().map(|e| is_chainable(g, e)).collect();
        let order = g
            .topological_order()
            .expect("a validated StreamGraph is acyclic");
        // A node heads a chain unless its single input edge is chainable.
        let is_head = |n: NodeIdx| !g.in_edges(n).any(|e| chainable[e]);
        let mut vertex_of: BTreeMap<NodeIdx, VertexIdx> = BTreeMap::new();
        let mut vertices = Vec::new();
        for &head in order.iter().filter(|&&n| is_head(n)) {
            let mut operators = Vec::new();
            let mut chained_edges = Vec::new();
            collect_chain(g, &chainable, head, &mut operators, &mut chained_edges);
            let vidx = vertices.len();
            for &op in &operators {
                vertex_of.insert(op, vidx);
            }
            let ids: Vec<&str> = operators.iter().map(|&n| g.nodes[n].id.as_str()).collect();
            let node = &g.nodes[head];
            vertices.push(JobVertex {
                id: JobVertexId::from_parts(&ids),
                name: chained_name(g, &chainable, head),
                description: chained_description(g, &chainable, head),
                parallelism: node.parallelism,
                slot_sharing_group: node.slot_sharing_group.clone(),
                operators,
                chained_edges,
            });
        }
        let mut edges = Vec::new();
        for (vidx, v) in vertices.iter().enumerate() {
            let head = v.operators[0];
            for (input_index, e) in g.in_edges(head).filter(|&e| !chainable[e]).enumerate() {
                let se = &g.edges[e];
                edges.push(JobEdge {
                    source: vertex_of[&se.source],
                    target: vidx,
                    source_operator: se.source,
                    target_operator: head,
                    stream_edge: e,
                    partitioner: se.partitioner,
                    distribution: se.partitioner.distribution(),
                    input_index,
                });
            }
        }
        JobGraph {
            name: g.job_name.clone(),
            stream_graph: g.clone(),
            vertices,
            edges,
        }
    }

    /// Slots the job needs: per slot sharing group its highest parallelism,
    /// summed over groups (what Flink's scheduler asks for).
    pub fn slots_needed(&self) -> u32 {
        self.slots_per_sharing_group().values().sum()
    }

    /// Slots each slot sharing group needs: its highest parallelism (slot
    /// `k` of a group holds subtask `k` of every chain in it), by group name.
    pub fn slots_per_sharing_group(&self) -> BTreeMap<String, u32> {
        let mut max: BTreeMap<String, u32> = BTreeMap::new();
        for v in &self.vertices {
            let m = max.entry(v.slot_sharing_group.clone()).or_default();
            *m = (*m).max(v.parallelism);
        }
        max
    }

    /// The vertex that holds an operator.
    pub fn vertex_of(&self, node: NodeIdx) -> Option<VertexIdx> {
        self.vertices
            .iter()
            .position(|v| v.operators.contains(&node))
    }

    /// Job edges that feed a vertex, in input order.
    pub fn inputs_of(&self, v: VertexIdx) -> impl Iterator<Item = &JobEdge> {
        self.edges.iter().filter(move |e| e.target == v)
    }

    /// Job edges that leave a vertex.
    pub fn outputs_of(&self, v: VertexIdx) -> impl Iterator<Item = &JobEdge> {
        self.edges.iter().filter(move |e| e.source == v)
    }
}

fn chained_outputs(g: &StreamGraph, chainable: &[bool], n: NodeIdx) -> Vec<usize> {
    g.out_edges(n).filter(|&e| chainable[e]).collect()
}

fn collect_chain(
    g: &StreamGraph,
    chainable: &[bool],
    n: NodeIdx,
    ops: &mut Vec<NodeIdx>,
    edges: &mut Vec<usize>,
) {
    ops.push(n);
    for e in chained_outputs(g, chainable, n) {
        edges.push(e);
        collect_chain(g, chainable, g.edges[e].target, ops, edges);
    }
}

/// Flink's `createChainedName`: `A -> B`, and `A -> (B, C)` for a fan-out.
fn chained_name(g: &StreamGraph, chainable: &[bool], n: NodeIdx) -> String {
    let outs = chained_outputs(g, chainable, n);
    let name = &g.nodes[n].name;
    match outs.len() {
        0 => name.clone(),
        1 => format!(
            "{name} -> {}",
            chained_name(g, chainable, g.edges[outs[0]].target)
        ),
        _ => {
            let inner: Vec<String> = outs
                .iter()
                .map(|&e| chained_name(g, chainable, g.edges[e].target))
                .collect();
            format!("{name} -> ({})", inner.join(", "))
        }
    }
}

/// Flink's tree-mode vertex description: the head, then each chained
/// operator as `+- name` indented three spaces per level, `<br/>` after each.
fn chained_description(g: &StreamGraph, chainable: &[bool], head: NodeIdx) -> String {
    fn walk(g: &StreamGraph, chainable: &[bool], n: NodeIdx, depth: usize, out: &mut String) {
        if depth > 0 {
            out.push_str(&"   ".repeat(depth - 1));
            out.push_str("+- ");
        }
        out.push_str(&g.nodes[n].name);
        out.push_str("<br/>");
        for e in chained_outputs(g, chainable, n) {
            walk(g, chainable, g.edges[e].target, depth + 1, out);
        }
    }
    let mut s = String::new();
    walk(g, chainable, head, 0, &mut s);
    s
}
