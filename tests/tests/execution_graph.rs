//! The parallel view: how the JobMaster wires subtasks for each partitioning.
//!
//! Flink's `EdgeManagerBuildUtil` connects POINTWISE edges (forward,
//! rescale) to contiguous ranges of subtasks and ALL_TO_ALL edges (rebalance,
//! shuffle, hash, broadcast) every producer to every consumer; mini-flink
//! wires a global edge only to consumer subtask 0, where all records go.
//! Each test builds a small program (builder API or job file), plans it, and
//! checks the channels of the one job edge it cares about.

use runtime::api::{DataStream, StreamEnv};
use runtime::graph::{
    DistributionPattern, ExecutionGraph, ExecutionVertexId, JobGraph, Partitioner,
};
use runtime::ids::SubtaskIndex;
use runtime::jobfile::{Source, load_job_file, parse_job};
use runtime::operators::{KeySelector, MapFn};
use std::path::{Path, PathBuf};

type Pairs = Vec<(u32, u32)>;

/// Source (p = `up`) --partition--> Map (p = `down`) -> sink; the Map
/// starts a new chain so even a forward edge stays a job edge.
fn two_stage(up: u32, down: u32, partition: fn(DataStream) -> DataStream) -> JobGraph {
    let env = StreamEnv::new("wiring").parallelism(down);
    let src = env.sequence(1, 100).name("Source: Seq").set_parallelism(up);
    partition(src)
        .map(MapFn::Identity)
        .name("Map")
        .set_parallelism(down)
        .start_new_chain()
        .discard()
        .name("Sink");
    JobGraph::from_stream_graph(&env.build().expect("valid program"))
}

/// The channels of the only job edge, after checking the graph's shape.
fn only_edge(jg: &JobGraph) -> (Partitioner, DistributionPattern, Pairs) {
    assert_eq!(jg.edge_count(), 1, "vertices: {:?}", names(jg));
    let eg = ExecutionGraph::from_job_graph(jg);
    assert_eq!(eg.edge_count(), 1);
    assert_eq!(eg.edge(0).job_edge, 0);
    let e = jg.edge(0);
    let pairs = eg.edge(0).channels.iter().map(|c| (c.from, c.to)).collect();
    (e.partitioner, e.distribution, pairs)
}

fn names(jg: &JobGraph) -> Vec<String> {
    jg.vertices().map(|v| v.name.clone()).collect()
}

/// The parallelism of each job vertex, in vertex order.
fn parallelisms(eg: &ExecutionGraph) -> Vec<u32> {
    eg.vertices().map(|v| v.parallelism).collect()
}

fn all_to_all(up: u32, down: u32) -> Pairs {
    (0..up)
        .flat_map(|f| (0..down).map(move |t| (f, t)))
        .collect()
}

/// Every channel's endpoints exist, and every consumer subtask has at least
/// one producer (no subtask left without input).
fn assert_well_formed(pairs: &Pairs, up: u32, down: u32, every_consumer_fed: bool) {
    for &(f, t) in pairs {
        assert!(f < up && t < down, "channel {f}->{t} outside {up}x{down}");
    }
    if every_consumer_fed {
        for t in 0..down {
            assert!(
                pairs.iter().any(|&(_, x)| x == t),
                "consumer {t} has no producer: {pairs:?}"
            );
        }
    }
    for f in 0..up {
        assert!(
            pairs.iter().any(|&(x, _)| x == f),
            "producer {f} feeds nobody: {pairs:?}"
        );
    }
}

#[test]
fn forward_two_to_two_is_one_to_one() {
    let jg = two_stage(2, 2, DataStream::forward);
    assert_eq!(names(&jg), ["Source: Seq", "Map -> Sink"]);
    let (p, d, pairs) = only_edge(&jg);
    assert_eq!(p, Partitioner::Forward);
    assert_eq!(d, DistributionPattern::Pointwise);
    assert_eq!(pairs, [(0, 0), (1, 1)]);
}

#[test]
fn rescale_one_to_two() {
    let (p, d, pairs) = only_edge(&two_stage(1, 2, DataStream::rescale));
    assert_eq!(p, Partitioner::Rescale);
    assert_eq!(d, DistributionPattern::Pointwise);
    assert_eq!(pairs, [(0, 0), (0, 1)]);
}

#[test]
fn rescale_two_to_six_feeds_three_consecutive_each() {
    let (_, d, pairs) = only_edge(&two_stage(2, 6, DataStream::rescale));
    assert_eq!(d, DistributionPattern::Pointwise);
    assert_eq!(pairs, [(0, 0), (0, 1), (0, 2), (1, 3), (1, 4), (1, 5)]);
    assert_well_formed(&pairs, 2, 6, true);
}

#[test]
fn rescale_six_to_two_reads_three_consecutive_each() {
    let (_, d, pairs) = only_edge(&two_stage(6, 2, DataStream::rescale));
    assert_eq!(d, DistributionPattern::Pointwise);
    assert_eq!(pairs, [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]);
    assert_well_formed(&pairs, 6, 2, true);
}

/// Uneven ratios follow Flink's formulas: with fewer producers, producer i
/// feeds consumers ceil(i*down/up)..ceil((i+1)*down/up); with fewer
/// consumers, consumer j reads producers j*up/down..(j+1)*up/down.
#[test]
fn rescale_uneven_ratios() {
    let (_, _, pairs) = only_edge(&two_stage(2, 3, DataStream::rescale));
    assert_eq!(pairs, [(0, 0), (0, 1), (1, 2)]);
    let (_, _, pairs) = only_edge(&two_stage(3, 2, DataStream::rescale));
    assert_eq!(pairs, [(0, 0), (1, 1), (2, 1)]);
    // Each consumer reads exactly one contiguous range either way.
    for (up, down) in [(2, 3), (3, 2), (3, 7), (7, 3), (4, 4)] {
        let (_, _, pairs) = only_edge(&two_stage(up, down, DataStream::rescale));
        assert_well_formed(&pairs, up, down, true);
        if up >= down {
            // every producer feeds exactly one consumer
            for f in 0..up {
                assert_eq!(
                    pairs.iter().filter(|&&(x, _)| x == f).count(),
                    1,
                    "{up}->{down}"
                );
            }
        } else {
            // every consumer reads exactly one producer
            for t in 0..down {
                assert_eq!(
                    pairs.iter().filter(|&&(_, x)| x == t).count(),
                    1,
                    "{up}->{down}"
                );
            }
        }
    }
}

#[test]
fn rebalance_is_all_to_all() {
    let (p, d, pairs) = only_edge(&two_stage(2, 3, DataStream::rebalance));
    assert_eq!(p, Partitioner::Rebalance);
    assert_eq!(d, DistributionPattern::AllToAll);
    assert_eq!(pairs, all_to_all(2, 3));
    assert_eq!(pairs.len(), 6);
}

#[test]
fn shuffle_is_all_to_all() {
    let (p, d, pairs) = only_edge(&two_stage(3, 2, DataStream::shuffle));
    assert_eq!(p, Partitioner::Shuffle);
    assert_eq!(d, DistributionPattern::AllToAll);
    assert_eq!(pairs, all_to_all(3, 2));
}

#[test]
fn broadcast_is_all_to_all() {
    let (p, d, pairs) = only_edge(&two_stage(2, 2, DataStream::broadcast));
    assert_eq!(p, Partitioner::Broadcast);
    assert_eq!(d, DistributionPattern::AllToAll);
    assert_eq!(pairs, [(0, 0), (0, 1), (1, 0), (1, 1)]);
}

#[test]
fn hash_is_all_to_all() {
    let env = StreamEnv::new("keyed").parallelism(2);
    env.sequence(1, 100)
        .name("Source: Seq")
        .map(MapFn::KeyMod { modulus: 10 })
        .name("ToKeyOne")
        .key_by(KeySelector::F0)
        .sum()
        .name("Sum")
        .set_parallelism(3)
        .discard()
        .name("Sink")
        .set_parallelism(3);
    let jg = JobGraph::from_stream_graph(&env.build().expect("valid"));
    assert_eq!(names(&jg), ["Source: Seq -> ToKeyOne", "Sum -> Sink"]);
    let (p, d, pairs) = only_edge(&jg);
    assert_eq!(p, Partitioner::Hash(KeySelector::F0));
    assert_eq!(d, DistributionPattern::AllToAll);
    assert_eq!(pairs, all_to_all(2, 3));
}

#[test]
fn global_sends_everything_to_subtask_zero() {
    let (p, d, pairs) = only_edge(&two_stage(3, 2, DataStream::global));
    assert_eq!(p, Partitioner::Global);
    assert_eq!(d, DistributionPattern::AllToAll);
    assert_eq!(pairs, [(0, 0), (1, 0), (2, 0)]);
    // Subtask 1 of the consumer exists but gets no channel.
    assert_well_formed(&pairs, 3, 2, false);
    assert!(!pairs.iter().any(|&(_, t)| t == 1));
}

/// Without `start_new_chain` a forward edge is chained away: no job edge,
/// so no channels at all, only one vertex of two subtasks.
#[test]
fn chained_forward_has_no_channels() {
    let env = StreamEnv::new("chained").parallelism(2);
    env.sequence(1, 10)
        .name("Source: Seq")
        .map(MapFn::Identity)
        .name("Map")
        .discard()
        .name("Sink");
    let jg = JobGraph::from_stream_graph(&env.build().expect("valid"));
    assert_eq!(names(&jg), ["Source: Seq -> Map -> Sink"]);
    let eg = ExecutionGraph::from_job_graph(&jg);
    assert_eq!(eg.edge_count(), 0);
    assert_eq!(parallelisms(&eg), [2]);
    assert_eq!(eg.subtask_count(), 2);
}

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/jobs/reference")
        .join(name)
}

/// Through a job file: the union case mixes REBALANCE (1 -> 2), FORWARD
/// (2 -> 2, not chained because of the union) and HASH.
#[test]
fn union_job_file_wiring() {
    let jg = JobGraph::from_stream_graph(
        &load_job_file(&reference("j_union_p_mix.toml")).expect("loads"),
    );
    let eg = ExecutionGraph::from_job_graph(&jg);
    assert_eq!(
        names(&jg),
        [
            "Source: SeqA",
            "Source: SeqB",
            "ToKeyOne",
            "Sum -> Discard: Writer"
        ]
    );
    assert_eq!(parallelisms(&eg), [1, 2, 2, 2]);
    assert_eq!(eg.subtask_count(), 7);
    let vertices: Vec<ExecutionVertexId> = eg.execution_vertices().collect();
    assert_eq!(vertices.len(), 7);
    assert_eq!(
        vertices[0],
        ExecutionVertexId {
            vertex: 0,
            subtask: SubtaskIndex(0)
        }
    );
    assert_eq!(
        vertices[6],
        ExecutionVertexId {
            vertex: 3,
            subtask: SubtaskIndex(1)
        }
    );
    let mut seen = Vec::new();
    for ee in eg.edges() {
        let je = jg.edge(ee.job_edge);
        let pairs: Pairs = ee.channels.iter().map(|c| (c.from, c.to)).collect();
        seen.push((
            jg.vertex(je.source).name.as_str(),
            jg.vertex(je.target).name.as_str(),
            je.partitioner.ship_strategy(),
            pairs,
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "Source: SeqA",
                "ToKeyOne",
                "REBALANCE",
                vec![(0, 0), (0, 1)]
            ),
            ("Source: SeqB", "ToKeyOne", "FORWARD", vec![(0, 0), (1, 1)]),
            (
                "ToKeyOne",
                "Sum -> Discard: Writer",
                "HASH",
                vec![(0, 0), (0, 1), (1, 0), (1, 1)]
            ),
        ]
    );
}

/// Through inline job-file text: rescale 2 -> 6 and then rescale 6 -> 2.
#[test]
fn rescale_chain_from_job_text() {
    let text = r#"name = "rescale"

[[operators]]
id = "s"
name = "Source: Seq"
kind = "sequence"
parallelism = 2
args = { from = 1, to = 600 }

[[operators]]
id = "wide"
name = "Wide"
kind = "map"
fn = "double"
parallelism = 6
input = "s"
partition = "rescale"

[[operators]]
id = "narrow"
name = "Sink: Narrow"
kind = "discard"
parallelism = 2
input = "wide"
partition = "rescale"
"#;
    let g = parse_job(&Source {
        file: "rescale.toml",
        text,
        base_dir: Path::new("."),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let jg = JobGraph::from_stream_graph(&g);
    let eg = ExecutionGraph::from_job_graph(&jg);
    assert_eq!(parallelisms(&eg), [2, 6, 2]);
    let pairs: Vec<Pairs> = eg
        .edges()
        .map(|e| e.channels.iter().map(|c| (c.from, c.to)).collect())
        .collect();
    assert_eq!(
        pairs,
        [
            vec![(0, 0), (0, 1), (0, 2), (1, 3), (1, 4), (1, 5)],
            vec![(0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)],
        ]
    );
}
