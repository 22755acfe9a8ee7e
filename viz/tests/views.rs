//! The three views of two small hand-built jobs, snapshot-tested, plus the
//! properties a snapshot alone would not catch: every channel is drawn,
//! output is deterministic, names cannot break the DOT, and (where Graphviz
//! is installed) `dot` accepts what we write.

use viz::{Dataflow, Operator, OperatorEdge, RenderError, Vertex, VertexEdge, View};

fn op(id: &str, name: &str, kind: &str, parallelism: u32, vertex: usize) -> Operator {
    Operator {
        id: id.into(),
        name: name.into(),
        kind: kind.into(),
        parallelism,
        slot_sharing_group: "default".into(),
        vertex,
    }
}

fn edge(from: usize, to: usize, partitioning: &str, chained: bool) -> OperatorEdge {
    OperatorEdge {
        from,
        to,
        partitioning: partitioning.into(),
        chained,
    }
}

fn vertex(name: &str, parallelism: u32, operators: Vec<usize>) -> Vertex {
    Vertex {
        name: name.into(),
        parallelism,
        slot_sharing_group: "default".into(),
        operators,
    }
}

fn job_edge(
    from: usize,
    to: usize,
    ship_strategy: &str,
    distribution: &str,
    channels: Vec<(u32, u32)>,
) -> VertexEdge {
    VertexEdge {
        from,
        to,
        ship_strategy: ship_strategy.into(),
        distribution: distribution.into(),
        channels,
    }
}

/// WordCount: `Source: words` (p=1) rebalances into the chain
/// `Split -> Pair` (p=2), which hashes by word into `Sum -> Sink: print` (p=2).
fn wordcount() -> Dataflow {
    Dataflow {
        name: "WordCount".into(),
        operators: vec![
            op("words", "Source: words", "sequence", 1, 0),
            op("split", "Split", "flat_map", 2, 1),
            op("pair", "Pair", "map", 2, 1),
            op("sum", "Sum", "sum", 2, 2),
            op("sink", "Sink: print", "print", 2, 2),
        ],
        operator_edges: vec![
            edge(0, 1, "REBALANCE", false),
            edge(1, 2, "FORWARD", true),
            edge(2, 3, "HASH(f0)", false),
            edge(3, 4, "FORWARD", true),
        ],
        vertices: vec![
            vertex("Source: words", 1, vec![0]),
            vertex("Split -> Pair", 2, vec![1, 2]),
            vertex("Sum -> Sink: print", 2, vec![3, 4]),
        ],
        vertex_edges: vec![
            job_edge(0, 1, "REBALANCE", "ALL_TO_ALL", vec![(0, 0), (0, 1)]),
            job_edge(
                1,
                2,
                "HASH",
                "ALL_TO_ALL",
                vec![(0, 0), (0, 1), (1, 0), (1, 1)],
            ),
        ],
    }
}

/// A union: `Source: a` (p=2) forwards and `Source: b` (p=1) rebalances into
/// the same chain `Map -> Sink: print` (p=2). An operator with two inputs
/// heads its own chain, so both sources are separate job vertices.
fn union() -> Dataflow {
    Dataflow {
        name: "Union".into(),
        operators: vec![
            op("a", "Source: a", "sequence", 2, 0),
            op("b", "Source: b", "sequence", 1, 1),
            op("map", "Map", "map", 2, 2),
            op("sink", "Sink: print", "print", 2, 2),
        ],
        operator_edges: vec![
            edge(0, 2, "FORWARD", false),
            edge(1, 2, "REBALANCE", false),
            edge(2, 3, "FORWARD", true),
        ],
        vertices: vec![
            vertex("Source: a", 2, vec![0]),
            vertex("Source: b", 1, vec![1]),
            vertex("Map -> Sink: print", 2, vec![2, 3]),
        ],
        vertex_edges: vec![
            job_edge(0, 2, "FORWARD", "POINTWISE", vec![(0, 0), (1, 1)]),
            job_edge(1, 2, "REBALANCE", "ALL_TO_ALL", vec![(0, 0), (0, 1)]),
        ],
    }
}

/// Names a user could type that mean something to DOT: quotes, a backslash
/// (`\N` would otherwise print the node id), braces and a newline.
fn awkward_names() -> Dataflow {
    let mut df = wordcount();
    df.name = r#"Job "quoted" \N {x}"#.into();
    df.operators[1].name = r#"Split "words" \ on spaces"#.into();
    df.operators[2].name = "Pair\nwith 1".into();
    df.vertices[1].name = r#"Split "words" \ on spaces -> Pair"#.into();
    df
}

/// Each view of WordCount, as committed in `tests/snapshots`.
#[test]
fn wordcount_views() {
    let df = wordcount();
    for view in View::ALL {
        insta::assert_snapshot!(format!("wordcount_{view}"), viz::dot(&df, view));
    }
}

/// Each view of the union, as committed in `tests/snapshots`.
#[test]
fn union_views() {
    let df = union();
    for view in View::ALL {
        insta::assert_snapshot!(format!("union_{view}"), viz::dot(&df, view));
    }
}

/// The parallel view draws every channel of every job edge exactly once,
/// and nothing else as an edge.
#[test]
fn parallel_view_draws_every_channel() {
    for df in [wordcount(), union()] {
        let out = viz::dot(&df, View::Parallel);
        let edges: Vec<&str> = out
            .lines()
            .map(str::trim)
            // An edge statement, not a node whose label holds an arrow.
            .filter(|l| {
                l.split_once(" [")
                    .is_some_and(|(ids, _)| ids.contains(" -> "))
            })
            .collect();
        let mut expected = 0;
        for e in &df.vertex_edges {
            for &(a, b) in &e.channels {
                let arrow = format!("v{}_s{a} -> v{}_s{b} ", e.from, e.to);
                let n = edges.iter().filter(|l| l.starts_with(&arrow)).count();
                assert_eq!(n, 1, "channel {arrow}in {}:\n{out}", df.name);
                expected += 1;
            }
        }
        assert_eq!(edges.len(), expected, "{out}");
    }
}

/// The parallel view has one node per subtask, inside its vertex's box, and
/// names it like Flink's task name with a 1-based index.
#[test]
fn parallel_view_has_one_node_per_subtask() {
    let out = viz::dot(&wordcount(), View::Parallel);
    for (vi, p) in [(0, 1), (1, 2), (2, 2)] {
        assert!(out.contains(&format!("subgraph cluster_v{vi} {{")));
        for s in 0..p {
            assert!(out.contains(&format!("v{vi}_s{s}[label=")), "{out}");
        }
        assert!(!out.contains(&format!("v{vi}_s{p}[")), "{out}");
    }
    assert!(
        out.contains(r#"v1_s1[label="Split ->\nPair\n(2/2)"];"#),
        "{out}"
    );
}

/// The condensed view has every operator as its own node, even chained ones,
/// and draws chained edges bold; the chained view groups them in one box per
/// job vertex and labels job edges with the ship strategy.
#[test]
fn condensed_and_chained_views_show_chaining() {
    let df = wordcount();
    let condensed = viz::dot(&df, View::Condensed);
    for i in 0..df.operators.len() {
        assert!(condensed.contains(&format!("op{i}[label=")), "{condensed}");
    }
    assert!(!condensed.contains("subgraph"), "{condensed}");
    assert!(condensed.contains(r#"op1 -> op2 [label="FORWARD" style=bold];"#));
    assert!(condensed.contains(r#"op2 -> op3 [label="HASH(f0)"];"#));

    let chained = viz::dot(&df, View::Chained);
    assert_eq!(
        chained.matches("subgraph cluster_").count(),
        df.vertices.len()
    );
    assert!(
        chained.contains(r#"label="Split -> Pair\np=2";"#),
        "{chained}"
    );
    assert!(
        chained.contains(r#"op2 -> op3 [label="HASH" ltail=cluster_v1 lhead=cluster_v2];"#),
        "{chained}"
    );
}

/// Same model, same bytes: on two calls and on an equal clone.
#[test]
fn output_is_deterministic() {
    for df in [wordcount(), union(), awkward_names()] {
        for view in View::ALL {
            let first = viz::dot(&df, view);
            assert_eq!(first, viz::dot(&df, view));
            assert_eq!(first, viz::dot(&df.clone(), view));
        }
    }
}

/// Quotes, backslashes and newlines in names are escaped in every view, and
/// ids never come from names.
#[test]
fn labels_are_escaped() {
    let df = awkward_names();
    for view in View::ALL {
        let out = viz::dot(&df, view);
        assert!(out.contains(r#"Job \"quoted\" \\N {x}"#), "{view}:\n{out}");
        assert!(
            out.contains(r#"Split \"words\" \\ on spaces"#),
            "{view}:\n{out}"
        );
        assert!(out.contains(r#"Pair\nwith 1"#), "{view}:\n{out}");
        assert!(!out.contains(r#" "words" "#), "{view}:\n{out}");
        assert!(!out.contains("Pair\nwith"), "raw newline in {view}:\n{out}");
    }
}

/// Every view of every fixture is accepted by Graphviz and becomes an SVG;
/// skipped with a note where Graphviz is not installed.
#[test]
fn renders_svg_through_graphviz() {
    if !viz::dot_available() {
        eprintln!("skipped: the `dot` program (graphviz) is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("viz-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, df) in [
        ("wordcount", wordcount()),
        ("union", union()),
        ("awkward", awkward_names()),
    ] {
        for view in View::ALL {
            let out = dir.join(format!("{name}-{view}.svg"));
            viz::render_svg(&viz::dot(&df, view), &out)
                .unwrap_or_else(|e| panic!("{name} {view}: {e}"));
            let svg = std::fs::read_to_string(&out).unwrap();
            assert!(svg.starts_with("<?xml") || svg.contains("<svg"), "{svg}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Invalid DOT comes back as `DotFailed` carrying Graphviz's complaint;
/// skipped where Graphviz is not installed.
#[test]
fn dot_failure_reports_stderr() {
    if !viz::dot_available() {
        eprintln!("skipped: the `dot` program (graphviz) is not installed");
        return;
    }
    let out = std::env::temp_dir().join(format!("viz-bad-{}.svg", std::process::id()));
    let err = viz::render_svg("digraph { a -> }", &out).unwrap_err();
    let _ = std::fs::remove_file(&out);
    match &err {
        RenderError::DotFailed { stderr, .. } => assert!(!stderr.is_empty(), "{err}"),
        other => panic!("expected DotFailed, got {other:?}"),
    }
    assert!(err.to_string().starts_with("`dot` failed"), "{err}");
}

/// The "not installed" error tells the user what to install, and is what
/// `render_svg` returns where Graphviz is missing.
#[test]
fn not_installed_message_names_graphviz() {
    let msg = RenderError::DotNotInstalled.to_string();
    assert!(msg.contains("graphviz"), "{msg}");
    assert!(msg.contains("apt-get install graphviz"), "{msg}");
    if !viz::dot_available() {
        let out = std::env::temp_dir().join("viz-never-written.svg");
        let err = viz::render_svg("digraph {}", &out).unwrap_err();
        assert!(matches!(err, RenderError::DotNotInstalled), "{err:?}");
    }
}
