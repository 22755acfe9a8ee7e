//! The plans of the two teaching job files, as text and as the JSON of
//! Flink's `GET /jobs/:id/plan`, pinned with insta snapshots
//! (`tests/tests/snapshots/`). A change to chaining, naming, ids or the
//! plan's shape shows up here as a diff to review.

use runtime::graph::JobGraph;
use runtime::graph::plan::{PlanResponse, plan_text, preview_job_id};
use runtime::jobfile::load_job_file;
use std::path::Path;

fn job(file: &str) -> JobGraph {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/jobs")
        .join(file);
    let graph = load_job_file(&path).unwrap_or_else(|e| panic!("{e}"));
    JobGraph::from_stream_graph(&graph)
}

fn vertex_summary(jg: &JobGraph) -> Vec<(String, u32)> {
    jg.vertices()
        .map(|v| (v.name.clone(), v.parallelism))
        .collect()
}

/// What `mini-flink plan --json` prints: fields in Flink's order.
fn plan_json_text(jg: &JobGraph) -> String {
    serde_json::to_string_pretty(&PlanResponse::new(jg, preview_job_id(jg))).expect("serializes")
}

fn plan_json(jg: &JobGraph) -> serde_json::Value {
    serde_json::from_str(&plan_json_text(jg)).expect("valid JSON")
}

#[test]
fn wordcount_plan() {
    let jg = job("wordcount.toml");
    // The chaining decisions the file's comments explain.
    assert_eq!(
        vertex_summary(&jg),
        [
            ("Source: Words".to_string(), 1),
            ("Split -> Pair".to_string(), 2),
            ("Sum -> Sink: Collect".to_string(), 2),
        ]
    );
    assert_eq!(jg.slots_needed(), 2);
    let json = plan_json(&jg);
    assert_eq!(json["slots"], 2);
    assert_eq!(
        json["plan"]["nodes"][1]["inputs"][0]["ship_strategy"],
        "REBALANCE"
    );
    assert_eq!(
        json["plan"]["nodes"][2]["inputs"][0]["ship_strategy"],
        "HASH"
    );
    insta::assert_snapshot!("wordcount_plan_text", plan_text(&jg));
    insta::assert_snapshot!("wordcount_plan_json", plan_json_text(&jg));
}

#[test]
fn union_plan() {
    let jg = job("union.toml");
    assert_eq!(
        vertex_summary(&jg),
        [
            ("Source: Numbers A".to_string(), 1),
            ("Source: Numbers B".to_string(), 2),
            ("Last Digit".to_string(), 2),
            ("Sum -> Sink: Print".to_string(), 2),
        ]
    );
    assert_eq!(jg.slots_needed(), 2);
    let json = plan_json(&jg);
    let strategies: Vec<&str> = json["plan"]["nodes"][2]["inputs"]
        .as_array()
        .expect("the union has inputs")
        .iter()
        .map(|i| i["ship_strategy"].as_str().expect("a strategy"))
        .collect();
    assert_eq!(strategies, ["REBALANCE", "FORWARD"]);
    insta::assert_snapshot!("union_plan_text", plan_text(&jg));
    insta::assert_snapshot!("union_plan_json", plan_json_text(&jg));
}

/// The preview job id depends only on the job's name, so snapshots are
/// stable across runs and machines.
#[test]
fn plan_ids_are_stable() {
    let a = plan_json(&job("wordcount.toml"));
    let b = plan_json(&job("wordcount.toml"));
    assert_eq!(a, b);
    let jid = a["plan"]["jid"].as_str().expect("jid");
    assert_eq!(jid.len(), 32);
    assert!(jid.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(
        a["plan"]["jid"],
        plan_json(&job("union.toml"))["plan"]["jid"]
    );
}

/// The three pictures of both teaching jobs, as `mini-flink plan --dot`
/// prints them (condensed, chained, parallel), pinned as DOT text; and,
/// where graphviz is installed, each renders to SVG.
#[test]
fn dot_views_of_the_teaching_jobs() {
    for file in ["wordcount.toml", "union.toml"] {
        let jg = job(file);
        let model = runtime::graph::viz_model(&jg);
        let stem = file.trim_end_matches(".toml");
        for view in viz::View::ALL {
            let dot = viz::dot(&model, view);
            assert!(dot.starts_with("digraph"), "{stem} {view}: {dot}");
            assert_eq!(dot, viz::dot(&model, view), "deterministic");
            insta::assert_snapshot!(format!("{stem}_dot_{view}"), dot);
            if viz::dot_available() {
                let out = std::env::temp_dir().join(format!(
                    "mini-flink-{stem}-{view}-{}.svg",
                    std::process::id()
                ));
                viz::render_svg(&dot, &out).expect("graphviz renders our DOT");
                let svg = std::fs::read_to_string(&out).expect("svg written");
                assert!(svg.contains("<svg"));
                let _ = std::fs::remove_file(out);
            } else {
                eprintln!(
                    "skipping the SVG rendering of {stem} {view}: graphviz's `dot` is not installed"
                );
            }
        }
        // Every channel of the parallel view is an edge.
        let parallel = viz::dot(&model, viz::View::Parallel);
        let channels: usize = model.vertex_edges.iter().map(|e| e.channels.len()).sum();
        assert!(parallel.matches("->").count() >= channels, "{stem}");
    }
}
