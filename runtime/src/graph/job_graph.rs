//! The JobGraph: the StreamGraph after operator chaining, as the client submits it.
//!
//! Flink's `StreamingJobGraphGenerator` walks the StreamGraph from its
//! sources and fuses every edge that [`is_chainable`] into one `JobVertex`: a
//! chain of operators that runs as one task, in one thread, handing records
//! over by method call instead of through the network stack. Every other edge
//! becomes a `JobEdge` with a ship strategy. A job vertex is named by its
//! operators' names joined by ` -> ` (a fan-out inside a chain is written
//! `A -> (B, C)`), and its description is the tree Flink's web UI shows.
//!
//! Chaining is a pure pass: a StreamGraph comes in, a JobGraph (vertices and
//! edges in a petgraph graph, [`OrderedGraph`], read with [`JobGraph::vertex`],
//! [`JobGraph::vertices`], [`JobGraph::edge`], [`JobGraph::inputs_of`] …) goes
//! out, and the StreamGraph travels inside it so the TaskManagers can run the
//! chained operators.

use super::ids::JobVertexId;
use super::ordered_graph::{Endpoints, OrderedGraph};
use super::stream_graph::{
    ChainingStrategy, DistributionPattern, NodeIdx, Partitioner, StreamEdge, StreamGraph,
};
use petgraph::Direction;
use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Index of a job vertex: its position in the order the chains were built
/// (petgraph's `NodeIndex::index()`).
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

impl Endpoints for JobEdge {
    fn endpoints(&self) -> (usize, usize) {
        (self.source, self.target)
    }
}

/// The optimised dataflow the client submits to the Dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobGraph {
    /// Job name.
    pub name: String,
    /// The program it was built from (operators, for running them).
    pub stream_graph: StreamGraph,
    /// Vertices in topological order (sources first); edges grouped by
    /// target vertex in input order.
    graph: OrderedGraph<JobVertex, JobEdge>,
}

// ANCHOR: is_chainable
/// Flink 2.3's `StreamingJobGraphGenerator.isChainable`, rule by rule.
pub fn is_chainable(g: &StreamGraph, e: &StreamEdge) -> bool {
    let up = g.node(e.source);
    let down = g.node(e.target);
    g.chaining_enabled
        && g.in_edges(e.target).count() == 1
        && up.slot_sharing_group == down.slot_sharing_group
        && e.partitioner == Partitioner::Forward
        && up.parallelism == down.parallelism
        && up.chaining != ChainingStrategy::Disable
        && down.chaining == ChainingStrategy::Default
}
// ANCHOR_END: is_chainable

impl JobGraph {
    /// Chains a (validated) StreamGraph: a pure pass over it, as Flink's
    /// `StreamingJobGraphGenerator`. Chains are built from the heads in the
    /// StreamGraph's topological order, so vertex indices (and the plan)
    /// follow declaration order.
    pub fn from_stream_graph(g: &StreamGraph) -> JobGraph {
        let chainable: Vec<bool> = g.edges().map(|e| is_chainable(g, e)).collect();
        let order = g
            .topological_order()
            .expect("a validated StreamGraph is acyclic");
        // A node heads a chain unless its single input edge is chainable.
        let is_head = |n: NodeIdx| !g.in_edges(n).any(|e| chainable[e]);
        let mut vertex_of: BTreeMap<NodeIdx, VertexIdx> = BTreeMap::new();
        let mut graph = OrderedGraph::new();
        for &head in order.iter().filter(|&&n| is_head(n)) {
            let mut operators = Vec::new();
            let mut chained_edges = Vec::new();
            collect_chain(g, &chainable, head, &mut operators, &mut chained_edges);
            let vidx = graph.node_count();
            for &op in &operators {
                vertex_of.insert(op, vidx);
            }
            let ids: Vec<&str> = operators.iter().map(|&n| g.node(n).id.as_str()).collect();
            let node = g.node(head);
            graph.add_node(JobVertex {
                id: JobVertexId::from_parts(&ids),
                name: chained_name(g, &chainable, head),
                description: chained_description(g, &chainable, head),
                parallelism: node.parallelism,
                slot_sharing_group: node.slot_sharing_group.clone(),
                operators,
                chained_edges,
            });
        }
        let heads: Vec<NodeIdx> = graph.nodes().map(|v| v.operators[0]).collect();
        for (vidx, head) in heads.into_iter().enumerate() {
            for (input_index, e) in g.in_edges(head).filter(|&e| !chainable[e]).enumerate() {
                let se = g.edge(e);
                graph.add_edge(JobEdge {
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
            graph,
        }
    }

    /// The job vertex at index `v`.
    pub fn vertex(&self, v: VertexIdx) -> &JobVertex {
        self.graph.node(v)
    }

    /// The job vertex at index `v`, if there is one (for an index that came
    /// over the wire).
    pub fn get_vertex(&self, v: VertexIdx) -> Option<&JobVertex> {
        self.graph.get_node(v)
    }

    /// Job vertices in index order (topological, sources first).
    pub fn vertices(&self) -> impl ExactSizeIterator<Item = &JobVertex> + '_ {
        self.graph.nodes()
    }

    /// Number of job vertices.
    pub fn vertex_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The job edge at index `e`.
    pub fn edge(&self, e: usize) -> &JobEdge {
        self.graph.edge(e)
    }

    /// Job edges in index order (grouped by target vertex, in input order).
    pub fn edges(&self) -> impl ExactSizeIterator<Item = &JobEdge> + '_ {
        self.graph.edges()
    }

    /// Number of job edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The petgraph graph, for its algorithms (pipelined regions, layouts).
    pub fn graph(&self) -> &DiGraph<JobVertex, JobEdge> {
        self.graph.graph()
    }

    // ANCHOR: slots_needed
    /// Slots the job needs: per slot sharing group its highest parallelism,
    /// summed over groups (what Flink's scheduler asks for).
    pub fn slots_needed(&self) -> u32 {
        self.slots_per_group().values().sum()
    }

    /// Per slot sharing group, the highest parallelism of its vertices: the
    /// slots that group needs, since one slot holds one subtask of each.
    pub fn slots_per_group(&self) -> BTreeMap<&str, u32> {
        let mut max: BTreeMap<&str, u32> = BTreeMap::new();
        for v in self.vertices() {
            let m = max.entry(v.slot_sharing_group.as_str()).or_default();
            *m = (*m).max(v.parallelism);
        }
        max
    }
    // ANCHOR_END: slots_needed

    /// The vertex that holds an operator.
    pub fn vertex_of(&self, node: NodeIdx) -> Option<VertexIdx> {
        self.vertices().position(|v| v.operators.contains(&node))
    }

    /// Job edges that feed a vertex, in input order.
    pub fn inputs_of(&self, v: VertexIdx) -> impl Iterator<Item = &JobEdge> + '_ {
        self.graph
            .edges_of(v, Direction::Incoming)
            .map(|e| self.graph.edge(e))
    }

    /// Job edges that leave a vertex, in index order.
    pub fn outputs_of(&self, v: VertexIdx) -> impl Iterator<Item = &JobEdge> + '_ {
        self.graph
            .edges_of(v, Direction::Outgoing)
            .map(|e| self.graph.edge(e))
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
        collect_chain(g, chainable, g.edge(e).target, ops, edges);
    }
}

/// Flink's `createChainedName`: `A -> B`, and `A -> (B, C)` for a fan-out.
fn chained_name(g: &StreamGraph, chainable: &[bool], n: NodeIdx) -> String {
    let outs = chained_outputs(g, chainable, n);
    let name = &g.node(n).name;
    match outs.len() {
        0 => name.clone(),
        1 => format!(
            "{name} -> {}",
            chained_name(g, chainable, g.edge(outs[0]).target)
        ),
        _ => {
            let inner: Vec<String> = outs
                .iter()
                .map(|&e| chained_name(g, chainable, g.edge(e).target))
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
        out.push_str(&g.node(n).name);
        out.push_str("<br/>");
        for e in chained_outputs(g, chainable, n) {
            walk(g, chainable, g.edge(e).target, depth + 1, out);
        }
    }
    let mut s = String::new();
    walk(g, chainable, head, 0, &mut s);
    s
}
