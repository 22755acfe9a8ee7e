//! The one graph type under the StreamGraph, JobGraph and ExecutionGraph: a
//! petgraph [`DiGraph`] that keeps declaration order.
//!
//! Flink's graphs are lists in the order the program declared things: the
//! `StreamGraph`'s nodes, a node's inputs (`StreamNode.getInEdges()`), the
//! job vertices that `StreamingJobGraphGenerator` creates. Ids, vertex names
//! and the plan depend on that order, so the three graphs here sit on a
//! petgraph `DiGraph` that is only ever appended to: a node's index is its
//! position in declaration order, an edge's index likewise, and nothing is
//! removed. [`OrderedGraph`] adds what petgraph leaves to the caller:
//!
//! - plain `usize` indices ([`NodeIdx`](super::NodeIdx),
//!   [`VertexIdx`](super::VertexIdx)), so that a subtask or a deployment
//!   descriptor can name a vertex without petgraph's types;
//! - a node's in- and out-edges in declaration order (petgraph lists a
//!   node's edges newest first);
//! - a topological order that takes ready nodes in declaration order (Kahn's
//!   algorithm over petgraph's adjacency, as Flink's generator walks its
//!   sources in order), and, when there is none, every node of the cycle from
//!   petgraph's [`tarjan_scc`];
//! - serde as two lists, `nodes` then `edges`, so the wire format is the
//!   graph's declaration and an edge that names a missing node is a decode
//!   error, never a panic.
//!
//! Edge weights carry their own endpoints ([`Endpoints`]): a `JobEdge` read
//! alone (in a deployment descriptor) still says what it connects. They are
//! the single source of truth: [`OrderedGraph::add_edge`] wires the petgraph
//! edge from them, and there is no way to change an edge afterwards.

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An edge weight that knows the nodes it connects (by declaration index).
pub trait Endpoints {
    /// `(source, target)`.
    fn endpoints(&self) -> (usize, usize);
}

/// A decoded graph whose edge names a node it does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edge {edge} connects node {from} to node {to}, but the graph has {nodes} nodes")]
pub struct DanglingEdge {
    /// The edge's index.
    pub edge: usize,
    /// Its source.
    pub from: usize,
    /// Its target.
    pub to: usize,
    /// How many nodes there are.
    pub nodes: usize,
}

/// A directed graph whose node and edge indices are declaration positions.
#[derive(Debug, Clone)]
pub struct OrderedGraph<N, E> {
    graph: DiGraph<N, E>,
}

impl<N, E: Endpoints> OrderedGraph<N, E> {
    /// An empty graph.
    pub fn new() -> Self {
        OrderedGraph {
            graph: DiGraph::new(),
        }
    }

    /// Builds a graph from its two lists, or names the first edge whose
    /// endpoint is not a node.
    pub fn from_lists(nodes: Vec<N>, edges: Vec<E>) -> Result<Self, DanglingEdge> {
        let mut g = OrderedGraph::new();
        for n in nodes {
            g.add_node(n);
        }
        for (i, e) in edges.into_iter().enumerate() {
            let (from, to) = e.endpoints();
            if from >= g.node_count() || to >= g.node_count() {
                return Err(DanglingEdge {
                    edge: i,
                    from,
                    to,
                    nodes: g.node_count(),
                });
            }
            g.add_edge(e);
        }
        Ok(g)
    }

    /// Appends a node; returns its index.
    pub fn add_node(&mut self, weight: N) -> usize {
        self.graph.add_node(weight).index()
    }

    /// Appends an edge between the endpoints it names; returns its index.
    ///
    /// # Panics
    /// If an endpoint is not a node: callers add nodes before the edges
    /// between them.
    pub fn add_edge(&mut self, weight: E) -> usize {
        let (s, t) = weight.endpoints();
        self.graph
            .add_edge(NodeIndex::new(s), NodeIndex::new(t), weight)
            .index()
    }
}

impl<N, E: Endpoints> Default for OrderedGraph<N, E> {
    fn default() -> Self {
        OrderedGraph::new()
    }
}

impl<N, E> OrderedGraph<N, E> {
    /// The petgraph graph, for its algorithms (`NodeIndex::index()` is the
    /// declaration index).
    pub fn graph(&self) -> &DiGraph<N, E> {
        &self.graph
    }

    /// The node at declaration index `n`.
    pub fn node(&self, n: usize) -> &N {
        &self.graph[NodeIndex::new(n)]
    }

    /// The node at declaration index `n`, if there is one (for an index
    /// that came over the wire).
    pub fn get_node(&self, n: usize) -> Option<&N> {
        self.graph.node_weight(NodeIndex::new(n))
    }

    /// The node at declaration index `n`, to change its properties.
    pub fn node_mut(&mut self, n: usize) -> &mut N {
        &mut self.graph[NodeIndex::new(n)]
    }

    /// Nodes in declaration order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &N> + '_ {
        self.graph.raw_nodes().iter().map(|n| &n.weight)
    }

    /// Nodes in declaration order, to change their properties.
    pub fn nodes_mut(&mut self) -> impl Iterator<Item = &mut N> + '_ {
        self.graph.node_weights_mut()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The edge at declaration index `e`.
    pub fn edge(&self, e: usize) -> &E {
        &self.graph[EdgeIndex::new(e)]
    }

    /// Edges in declaration order.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = &E> + '_ {
        self.graph.raw_edges().iter().map(|e| &e.weight)
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Indices of the edges into (`Incoming`) or out of (`Outgoing`) node
    /// `n`, in declaration order.
    pub fn edges_of(&self, n: usize, dir: Direction) -> impl Iterator<Item = usize> + use<N, E> {
        let mut ids: Vec<usize> = self
            .graph
            .edges_directed(NodeIndex::new(n), dir)
            .map(|e| e.id().index())
            .collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// Nodes in a topological order that takes ready nodes in declaration
    /// order (Kahn's algorithm), or every node of a cycle, in declaration
    /// order, when there is none.
    pub fn topological_order(&self) -> Result<Vec<usize>, Vec<usize>> {
        let g = &self.graph;
        let mut indegree: Vec<usize> = g
            .node_indices()
            .map(|n| g.edges_directed(n, Direction::Incoming).count())
            .collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..indegree.len())
            .filter(|&n| indegree[n] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(indegree.len());
        while let Some(Reverse(n)) = ready.pop() {
            order.push(n);
            for e in g.edges_directed(NodeIndex::new(n), Direction::Outgoing) {
                let t = e.target().index();
                indegree[t] -= 1;
                if indegree[t] == 0 {
                    ready.push(Reverse(t));
                }
            }
        }
        if order.len() == indegree.len() {
            return Ok(order);
        }
        // Kahn's leftovers include nodes merely downstream of a cycle; the
        // strongly connected components say which nodes are on one. Of the
        // cycles, report the one declared first.
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(g)
            .into_iter()
            .filter(|scc| scc.len() > 1 || g.contains_edge(scc[0], scc[0]))
            .map(|scc| {
                let mut nodes: Vec<usize> = scc.into_iter().map(NodeIndex::index).collect();
                nodes.sort_unstable();
                nodes
            })
            .collect();
        cycles.sort();
        Err(cycles.into_iter().next().unwrap_or_default())
    }
}

impl<N: PartialEq, E: PartialEq> PartialEq for OrderedGraph<N, E> {
    /// Same nodes and same edges, in the same order (edges carry their
    /// endpoints).
    fn eq(&self, other: &Self) -> bool {
        self.nodes().eq(other.nodes()) && self.edges().eq(other.edges())
    }
}

impl<N: Serialize, E: Serialize> Serialize for OrderedGraph<N, E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let nodes: Vec<&N> = self.nodes().collect();
        let edges: Vec<&E> = self.edges().collect();
        let mut st = s.serialize_struct("OrderedGraph", 2)?;
        st.serialize_field("nodes", &nodes)?;
        st.serialize_field("edges", &edges)?;
        st.end()
    }
}

impl<'de, N: Deserialize<'de>, E: Deserialize<'de> + Endpoints> Deserialize<'de>
    for OrderedGraph<N, E>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename = "OrderedGraph")]
        struct Lists<N, E> {
            nodes: Vec<N>,
            edges: Vec<E>,
        }
        let l = Lists::<N, E>::deserialize(d)?;
        OrderedGraph::from_lists(l.nodes, l.edges).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct E(usize, usize);
    impl Endpoints for E {
        fn endpoints(&self) -> (usize, usize) {
            (self.0, self.1)
        }
    }

    fn graph(n: usize, edges: &[(usize, usize)]) -> OrderedGraph<(), E> {
        OrderedGraph::from_lists(vec![(); n], edges.iter().map(|&(a, b)| E(a, b)).collect())
            .expect("valid")
    }

    /// Ready nodes are taken in declaration order, not petgraph's.
    #[test]
    fn topological_order_keeps_declaration_order() {
        let g = graph(4, &[(3, 1), (0, 2), (2, 1)]);
        assert_eq!(g.topological_order(), Ok(vec![0, 2, 3, 1]));
    }

    /// A cycle is reported whole, without the nodes merely behind it.
    #[test]
    fn cycle_names_every_node_on_it() {
        let g = graph(5, &[(0, 1), (1, 2), (2, 3), (3, 1), (3, 4)]);
        assert_eq!(g.topological_order(), Err(vec![1, 2, 3]));
        assert_eq!(graph(2, &[(1, 1)]).topological_order(), Err(vec![1]));
    }

    /// In-edges come in declaration order, and the lists round-trip.
    #[test]
    fn edges_in_declaration_order_and_serde() {
        let g = graph(3, &[(0, 2), (1, 2), (0, 1)]);
        assert_eq!(
            g.edges_of(2, Direction::Incoming).collect::<Vec<_>>(),
            [0, 1]
        );
        let bytes = postcard::to_allocvec(&g).expect("encode");
        let back: OrderedGraph<(), E> = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(back, g);
        let bad = postcard::to_allocvec(&(vec![(); 1], vec![E(0, 3)])).expect("encode");
        assert!(postcard::from_bytes::<OrderedGraph<(), E>>(&bad).is_err());
    }
}
