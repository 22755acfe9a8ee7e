//! The two pictures of a running cluster (slots, cluster) of small
//! hand-built snapshots: names that mean something to DOT stay text, an
//! empty cluster still draws, slot sharing and free slots show, control and
//! data connections are told apart, and (where Graphviz is installed) `dot`
//! accepts what we write.

use viz::{
    Cluster, ClusterDiagram, DataConnection, Job, JobManager, Slot, SlotSubtask, TaskManager,
};

fn subtask(vertex: &str, subtask: u32, parallelism: u32) -> SlotSubtask {
    SlotSubtask {
        vertex: vertex.into(),
        subtask,
        parallelism,
        state: "RUNNING".into(),
    }
}

fn tm(name: &str, slots: Vec<Slot>) -> TaskManager {
    TaskManager {
        name: name.into(),
        status: "REGISTERED".into(),
        alive: true,
        registered: true,
        slots,
    }
}

/// Two TaskManagers with two slots each: "pipeline" (p=2) shares a slot
/// per subtask index on taskmanager-1 and its shuffle crosses to
/// taskmanager-2, where one slot is only allocated and one is free.
fn two_taskmanagers() -> Cluster {
    let shared = |i| Slot {
        job: Some(0),
        subtasks: vec![subtask("Source: a -> Map", i, 2), subtask("Sink: b", i, 2)],
    };
    Cluster {
        name: "fixture".into(),
        at_ms: 3_000,
        jobmanagers: vec![JobManager {
            name: "jobmanager".into(),
            leader: true,
        }],
        jobs: vec![Job {
            id: "00000000000000000000000000000001".into(),
            name: "pipeline".into(),
            status: "RUNNING".into(),
            active: true,
        }],
        taskmanagers: vec![
            tm("taskmanager-1", vec![shared(0), shared(1)]),
            tm(
                "taskmanager-2",
                vec![
                    Slot {
                        job: Some(0),
                        subtasks: vec![],
                    },
                    Slot::default(),
                ],
            ),
        ],
        data_connections: vec![DataConnection {
            from: 0,
            to: 1,
            channels: 2,
        }],
    }
}

/// Quotes, `->`, backslashes and newlines in job, vertex and host names.
fn awkward_names() -> Cluster {
    let mut c = two_taskmanagers();
    c.name = "a \"quoted\"\nscenario".into();
    c.jobs[0].name = r#"job "x" \N"#.into();
    c.taskmanagers[0].name = "tm \"one\"".into();
    c.taskmanagers[0].slots[0].subtasks[0].vertex = "Source: \"in\" -> Map\nnext".into();
    c
}

/// Each diagram of the fixture, as committed in `tests/snapshots`.
#[test]
fn fixture_diagrams() {
    let c = two_taskmanagers();
    for d in ClusterDiagram::ALL {
        insta::assert_snapshot!(format!("fixture_{d}"), viz::cluster_dot(&c, d));
    }
}

/// The slots view names each subtask as Flink does, puts the subtasks of
/// one slot in the slot's box, and draws free and allocated-only slots.
#[test]
fn slots_view_shows_sharing_and_free_slots() {
    let out = viz::cluster_dot(&two_taskmanagers(), ClusterDiagram::Slots);
    assert!(out.contains("subgraph cluster_tm0_s1 {"), "{out}");
    assert!(
        out.contains(r#"tm0_s1_t0[label="Source: a -> Map (2/2)\nRUNNING""#),
        "{out}"
    );
    assert!(
        out.contains(r#"tm0_s1_t1[label="Sink: b (2/2)\nRUNNING""#),
        "{out}"
    );
    assert!(
        out.contains(r#"tm1_s0[label="allocated to\npipeline""#),
        "{out}"
    );
    assert!(out.contains(r#"tm1_s1[label="free""#), "{out}");
}

/// The cluster view has the JobManager's three roles, one JobMaster per
/// running job, control edges dashed and the data edge bold.
#[test]
fn cluster_view_tells_control_from_data() {
    let out = viz::cluster_dot(&two_taskmanagers(), ClusterDiagram::Cluster);
    for node in [
        "client[",
        "jm0_dispatcher[",
        "jm0_rm[",
        "jm0_job0[",
        "tm0[",
        "tm1[",
    ] {
        assert!(out.contains(node), "{node} in\n{out}");
    }
    let edges: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.split_once(" [")
                .is_some_and(|(ids, _)| ids.contains(" -> "))
        })
        .collect();
    let find = |ids: &str| {
        edges
            .iter()
            .find(|l| l.starts_with(ids))
            .unwrap_or_else(|| panic!("no edge {ids} in\n{out}"))
    };
    assert!(find("client -> jm0_dispatcher ").contains("style=dashed"));
    assert!(find("jm0_rm -> tm0 ").contains("style=dashed"));
    assert!(find("jm0_rm -> tm1 ").contains("style=dashed"));
    assert!(find("jm0_job0 -> tm0 ").contains("style=dashed"));
    assert!(find("jm0_job0 -> tm1 ").contains("style=dashed"));
    let data = find("tm0 -> tm1 ");
    assert!(data.contains("style=bold"), "{data}");
    assert!(data.contains(r#"label="data (2 channels)""#), "{data}");
}

/// Quotes, arrows, backslashes and newlines in names are escaped in both
/// diagrams and never become ids.
#[test]
fn odd_names_are_escaped() {
    let c = awkward_names();
    for d in ClusterDiagram::ALL {
        let out = viz::cluster_dot(&c, d);
        assert!(
            out.contains(r#"a \"quoted\"\nscenario at t=3.000s"#),
            "{d}:\n{out}"
        );
        assert!(out.contains(r#"job \"x\" \\N"#), "{d}:\n{out}");
        assert!(out.contains(r#"tm \"one\""#), "{d}:\n{out}");
        assert!(!out.contains("\"quoted\"\n"), "raw newline in {d}:\n{out}");
        assert!(!out.contains(" \"x\" "), "{d}:\n{out}");
        // An arrow inside a label is text, not an edge.
        assert_eq!(
            edge_count(&out),
            edge_count(&viz::cluster_dot(&two_taskmanagers(), d)),
            "{d}:\n{out}"
        );
    }
    let slots = viz::cluster_dot(&c, ClusterDiagram::Slots);
    assert!(
        slots.contains(r#"label="Source: \"in\" -> Map\nnext (1/2)\nRUNNING""#),
        "{slots}"
    );
}

/// How many edge statements a DOT text has (a node's label may hold ` -> `).
fn edge_count(dot: &str) -> usize {
    dot.lines()
        .filter(|l| {
            l.trim()
                .split_once(" [")
                .is_some_and(|(ids, _)| ids.contains(" -> "))
        })
        .count()
}

/// A cluster with nothing in it still draws both diagrams, saying so.
#[test]
fn empty_cluster_draws() {
    let empty = Cluster::default();
    let slots = viz::cluster_dot(&empty, ClusterDiagram::Slots);
    assert!(slots.contains("no TaskManager has registered"), "{slots}");
    assert!(!slots.contains("cluster_jobs"), "{slots}");
    let cluster = viz::cluster_dot(&empty, ClusterDiagram::Cluster);
    assert!(cluster.contains("client["), "{cluster}");
    assert!(cluster.contains("no JobManager"), "{cluster}");
    assert!(!cluster.contains(" -> "), "{cluster}");
}

/// With high availability the standby JobManager is drawn, empty, and
/// without a leader no role runs anywhere.
#[test]
fn standby_jobmanagers() {
    let mut c = two_taskmanagers();
    c.jobmanagers = vec![
        JobManager {
            name: "jobmanager-1".into(),
            leader: true,
        },
        JobManager {
            name: "jobmanager-2".into(),
            leader: false,
        },
    ];
    let out = viz::cluster_dot(&c, ClusterDiagram::Cluster);
    assert!(out.contains("JobManager jobmanager-1 (leader)"), "{out}");
    assert!(out.contains("JobManager jobmanager-2 (standby)"), "{out}");
    assert!(out.contains("jm1[label=\"waits to be elected\""), "{out}");
    c.jobmanagers[0].leader = false;
    let out = viz::cluster_dot(&c, ClusterDiagram::Cluster);
    assert!(!out.contains("_dispatcher"), "{out}");
    assert!(out.contains("no leader: waits for an election"), "{out}");
}

/// Same snapshot, same bytes.
#[test]
fn output_is_deterministic() {
    for c in [two_taskmanagers(), awkward_names(), Cluster::default()] {
        for d in ClusterDiagram::ALL {
            assert_eq!(viz::cluster_dot(&c, d), viz::cluster_dot(&c.clone(), d));
        }
    }
}

/// Every diagram of every fixture is accepted by Graphviz as SVG and PNG;
/// skipped with a note where Graphviz is not installed.
#[test]
fn renders_through_graphviz() {
    if !viz::dot_available() {
        eprintln!("skipped: the `dot` program (graphviz) is not installed");
        return;
    }
    for c in [two_taskmanagers(), awkward_names(), Cluster::default()] {
        for d in ClusterDiagram::ALL {
            let dot = viz::cluster_dot(&c, d);
            let svg = viz::render(&dot, viz::Format::Svg).unwrap_or_else(|e| panic!("{d}: {e}"));
            assert!(String::from_utf8_lossy(&svg).contains("<svg"), "{d}");
            let png = viz::render(&dot, viz::Format::Png).unwrap_or_else(|e| panic!("{d}: {e}"));
            assert!(png.starts_with(b"\x89PNG"), "{d}");
        }
    }
}
