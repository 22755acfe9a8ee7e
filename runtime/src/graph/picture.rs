//! Fills `viz`'s picture model from the graphs of a job.
//!
//! The three views a student compares (condensed, chained, parallel) are
//! drawn by the `viz` crate from a [`viz::Dataflow`]; this is the one place
//! that knows how StreamGraph, JobGraph and ExecutionGraph map onto it.

use super::execution_graph::ExecutionGraph;
use super::job_graph::JobGraph;

/// The picture model of a job.
pub fn viz_model(jg: &JobGraph) -> viz::Dataflow {
    let g = &jg.stream_graph;
    let eg = ExecutionGraph::from_job_graph(jg);
    let vertex_of = |n: usize| jg.vertex_of(n).expect("every operator is in a chain");
    viz::Dataflow {
        name: jg.name.clone(),
        operators: g
            .nodes()
            .enumerate()
            .map(|(i, n)| viz::Operator {
                id: n.id.clone(),
                name: n.name.clone(),
                kind: n.kind.kind_name().to_string(),
                parallelism: n.parallelism,
                slot_sharing_group: n.slot_sharing_group.clone(),
                vertex: vertex_of(i),
            })
            .collect(),
        operator_edges: g
            .edges()
            .enumerate()
            .map(|(i, e)| viz::OperatorEdge {
                from: e.source,
                to: e.target,
                partitioning: e.partitioner.to_string(),
                chained: jg.vertices().any(|v| v.chained_edges.contains(&i)),
            })
            .collect(),
        vertices: jg
            .vertices()
            .map(|v| viz::Vertex {
                name: v.name.clone(),
                parallelism: v.parallelism,
                slot_sharing_group: v.slot_sharing_group.clone(),
                operators: v.operators.clone(),
            })
            .collect(),
        vertex_edges: jg
            .edges()
            .zip(eg.edges())
            .map(|(e, x)| viz::VertexEdge {
                from: e.source,
                to: e.target,
                ship_strategy: e.partitioner.ship_strategy().to_string(),
                distribution: e.distribution.to_string(),
                channels: x.channels.iter().map(|c| (c.from, c.to)).collect(),
            })
            .collect(),
    }
}
