//! The planner against a real Apache Flink 2.3.0.
//!
//! `chaining-cases.json` (from `shared/flink-reference/`, copied to
//! `tests/data/` so a clean clone of the repository has it) records what
//! Flink decided for a set of pipelines: job vertices (chained names and
//! parallelism), the ship strategy of every job edge, and how many slots the
//! running job took. Each case has a job file under
//! `scenarios/jobs/reference/`, named after the case with `:` and `.`
//! replaced by `_`. This test is driven by the JSON alone: a new case with a
//! job file is checked without new code, and a case without one fails.

use runtime::graph::JobGraph;
use runtime::graph::plan::{PlanResponse, preview_job_id};
use runtime::jobfile::load_job_file;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
struct Case {
    name: String,
    pipeline: String,
    job_name: Option<String>,
    flink_vertices: Vec<Vertex>,
    edges: Vec<Edge>,
    slots_used: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Vertex {
    name: String,
    parallelism: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    ship_strategy: String,
    exchange: Option<String>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The copy in the repository (what CI sees).
fn repo_copy() -> PathBuf {
    manifest_dir().join("data/chaining-cases.json")
}

/// The original next to the workspace (absent on a clean clone).
fn shared_original() -> PathBuf {
    manifest_dir().join("../../shared/flink-reference/chaining-cases.json")
}

fn reference_dir() -> PathBuf {
    manifest_dir().join("../scenarios/jobs/reference")
}

/// The text of chaining-cases.json: the repository copy first; when the
/// shared original exists too, it must be byte-identical to the copy.
fn cases_text() -> String {
    let copy = repo_copy();
    let shared = shared_original();
    let copy_text = std::fs::read_to_string(&copy).ok();
    let shared_text = std::fs::read_to_string(&shared).ok();
    match (copy_text, shared_text) {
        (Some(c), Some(s)) => {
            assert!(
                c == s,
                "{} differs from {}: copy the reference file again \
                 (cp {} {})",
                copy.display(),
                shared.display(),
                shared.display(),
                copy.display()
            );
            c
        }
        (Some(c), None) => c,
        (None, Some(_)) => panic!(
            "{} is missing but {} exists: copy it into the repository \
             (CI runs on a clean clone without ../shared)",
            copy.display(),
            shared.display()
        ),
        (None, None) => panic!(
            "the Flink reference cases are missing: neither {} nor {} exists",
            copy.display(),
            shared.display()
        ),
    }
}

fn cases() -> Vec<Case> {
    let text = cases_text();
    let cases: Vec<Case> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("chaining-cases.json does not parse: {e}"));
    assert!(!cases.is_empty(), "chaining-cases.json holds no cases");
    cases
}

/// `sql:keyed_count.sql` -> `sql_keyed_count_sql.toml`.
fn job_file_name(case: &str) -> String {
    format!("{}.toml", case.replace([':', '.'], "_"))
}

/// What our planner decided, in the shape the JSON records.
struct Ours {
    job_name: String,
    vertices: Vec<Vertex>,
    edges: Vec<Edge>,
    slots: u32,
}

fn ours(jg: &JobGraph) -> Ours {
    let mut vertices: Vec<Vertex> = jg
        .vertices()
        .map(|v| Vertex {
            name: v.name.clone(),
            parallelism: v.parallelism,
        })
        .collect();
    vertices.sort();
    // Edges as `GET /jobs/:id/plan` shows them: per node, its inputs (with
    // the exchange), resolved from vertex ids to names.
    let plan = PlanResponse::new(jg, preview_job_id(jg));
    let name_of = |id: &str| {
        plan.plan
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| panic!("plan input refers to unknown vertex {id}"))
    };
    let mut edges: Vec<Edge> = plan
        .plan
        .nodes
        .iter()
        .flat_map(|n| {
            n.inputs.iter().map(|i| Edge {
                from: name_of(&i.id),
                to: n.name.clone(),
                ship_strategy: i.ship_strategy.to_string(),
                exchange: Some(i.exchange.to_string()),
            })
        })
        .collect();
    edges.sort();
    // The plan and the JobGraph must tell the same story.
    let mut direct: Vec<(String, String, String)> = jg
        .edges()
        .map(|e| {
            (
                jg.vertex(e.source).name.clone(),
                jg.vertex(e.target).name.clone(),
                e.partitioner.ship_strategy().to_string(),
            )
        })
        .collect();
    direct.sort();
    let from_plan: Vec<(String, String, String)> = edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.ship_strategy.clone()))
        .collect();
    assert_eq!(
        direct, from_plan,
        "plan JSON and JobGraph disagree on edges"
    );
    assert_eq!(
        plan.slots,
        jg.slots_needed(),
        "plan JSON and JobGraph disagree on slots"
    );
    Ours {
        job_name: jg.name.clone(),
        vertices,
        edges,
        slots: jg.slots_needed(),
    }
}

/// Every difference between Flink's decision and ours.
fn compare(case: &Case, ours: &Ours) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(job_name) = &case.job_name
        && &ours.job_name != job_name
    {
        problems.push(format!(
            "job name: Flink `{job_name}`, ours `{}`",
            ours.job_name
        ));
    }
    let mut flink_vertices = case.flink_vertices.clone();
    flink_vertices.sort();
    if flink_vertices != ours.vertices {
        problems.push(format!(
            "vertices:\n      Flink {:?}\n      ours  {:?}",
            flink_vertices
                .iter()
                .map(|v| format!("{} (p={})", v.name, v.parallelism))
                .collect::<Vec<_>>(),
            ours.vertices
                .iter()
                .map(|v| format!("{} (p={})", v.name, v.parallelism))
                .collect::<Vec<_>>()
        ));
    }
    // The exchange is compared when the case records it for every edge.
    let mut flink_edges = case.edges.clone();
    let mut our_edges = ours.edges.clone();
    if flink_edges.iter().any(|e| e.exchange.is_none()) {
        for e in flink_edges.iter_mut().chain(our_edges.iter_mut()) {
            e.exchange = None;
        }
    }
    flink_edges.sort();
    our_edges.sort();
    if flink_edges != our_edges {
        let show = |es: &[Edge]| {
            es.iter()
                .map(|e| format!("{} =[{}]=> {}", e.from, e.ship_strategy, e.to))
                .collect::<Vec<_>>()
        };
        problems.push(format!(
            "edges:\n      Flink {:?}\n      ours  {:?}",
            show(&flink_edges),
            show(&our_edges)
        ));
    }
    if let Some(slots) = case.slots_used
        && slots != ours.slots
    {
        problems.push(format!(
            "slots: Flink used {slots}, ours needs {}",
            ours.slots
        ));
    }
    problems
}

fn check_case(case: &Case) -> Result<String, String> {
    let file = reference_dir().join(job_file_name(&case.name));
    if !file.exists() {
        return Err(format!(
            "no job file: create {} building `{}`",
            file.display(),
            case.pipeline
        ));
    }
    let graph = load_job_file(&file).map_err(|e| format!("job file does not load:\n{e}"))?;
    let jg = JobGraph::from_stream_graph(&graph);
    let ours = ours(&jg);
    let problems = compare(case, &ours);
    if problems.is_empty() {
        Ok(format!(
            "{} vertices, {} edges, slots {}",
            ours.vertices.len(),
            ours.edges.len(),
            match case.slots_used {
                Some(s) => s.to_string(),
                None => format!("{} (not compared: Flink's not sampled)", ours.slots),
            }
        ))
    } else {
        Err(problems.join("\n    "))
    }
}

/// Every case of the JSON: its job file plans exactly what Flink built.
#[test]
fn every_reference_case_matches_flink() {
    let cases = cases();
    let mut failed = Vec::new();
    for case in &cases {
        match check_case(case) {
            Ok(summary) => println!("PASS {}: {summary}", case.name),
            Err(why) => {
                println!("FAIL {}:\n    {why}", case.name);
                failed.push(case.name.clone());
            }
        }
    }
    println!(
        "{} of {} reference cases agree with Flink",
        cases.len() - failed.len(),
        cases.len()
    );
    assert!(
        failed.is_empty(),
        "cases that disagree with Flink: {failed:?}"
    );
}

/// Case names map to distinct file names, and every job file in the
/// reference folder belongs to a case (a renamed case leaves no orphan).
#[test]
fn reference_folder_matches_the_cases() {
    let cases = cases();
    let expected: BTreeSet<String> = cases.iter().map(|c| job_file_name(&c.name)).collect();
    assert_eq!(
        expected.len(),
        cases.len(),
        "two cases map to the same file name"
    );
    let present: BTreeSet<String> = std::fs::read_dir(reference_dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", reference_dir().display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let orphans: Vec<_> = present.difference(&expected).collect();
    assert!(
        orphans.is_empty(),
        "job files without a case in chaining-cases.json: {orphans:?}"
    );
    assert_eq!(
        job_file_name("sql:keyed_count.sql"),
        "sql_keyed_count_sql.toml"
    );
}

/// Each reference job file starts with a comment quoting its case's pipeline.
#[test]
fn reference_job_files_quote_their_pipeline() {
    for case in cases() {
        let file = reference_dir().join(job_file_name(&case.name));
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // reported by every_reference_case_matches_flink
        };
        assert!(
            text.starts_with('#'),
            "{} must start with a comment",
            file.display()
        );
        // The pipeline may be wrapped over several comment lines.
        let comment: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            comment.contains(&case.pipeline),
            "{}: the leading comment does not quote the pipeline `{}`",
            file.display(),
            case.pipeline
        );
    }
}

/// The comparison is not vacuous: a case with a changed strategy, vertex,
/// slot count or job name is reported.
#[test]
fn comparison_catches_differences() {
    let cases = cases();
    let case = cases
        .iter()
        .find(|c| c.name == "c_keyby_sum")
        .expect("case c_keyby_sum");
    let graph = load_job_file(&reference_dir().join("c_keyby_sum.toml")).expect("loads");
    let ours = ours(&JobGraph::from_stream_graph(&graph));
    assert!(compare(case, &ours).is_empty());

    let mut wrong_strategy = case.clone();
    wrong_strategy.edges[0].ship_strategy = "REBALANCE".into();
    let p = compare(&wrong_strategy, &ours);
    assert!(p.len() == 1 && p[0].starts_with("edges:"), "{p:?}");

    let mut wrong_parallelism = case.clone();
    wrong_parallelism.flink_vertices[0].parallelism = 3;
    let p = compare(&wrong_parallelism, &ours);
    assert!(p.len() == 1 && p[0].starts_with("vertices:"), "{p:?}");

    let mut wrong_slots = case.clone();
    wrong_slots.slots_used = Some(4);
    let p = compare(&wrong_slots, &ours);
    assert!(p.len() == 1 && p[0].starts_with("slots:"), "{p:?}");

    let mut no_slots = case.clone();
    no_slots.slots_used = None;
    assert!(
        compare(&no_slots, &ours).is_empty(),
        "null slots_used is not checked"
    );

    let mut wrong_name = case.clone();
    wrong_name.job_name = Some("other".into());
    let p = compare(&wrong_name, &ours);
    assert!(p.len() == 1 && p[0].starts_with("job name:"), "{p:?}");
}

/// A case whose job file is missing fails, naming the file to create.
#[test]
fn missing_job_file_is_reported() {
    let case = Case {
        name: "zz:no_such.case".into(),
        pipeline: "fromSequence -> sink".into(),
        job_name: None,
        flink_vertices: vec![],
        edges: vec![],
        slots_used: None,
    };
    let err = check_case(&case).expect_err("a case without a job file must fail");
    assert!(err.contains("zz_no_such_case.toml"), "{err}");
    assert!(err.contains("no job file"), "{err}");
}

/// The repository copy is what the tests read; guard that it is the real
/// reference (a case count and a known decision), not an empty stand-in.
#[test]
fn repository_copy_is_the_reference() {
    let text = std::fs::read_to_string(repo_copy())
        .unwrap_or_else(|e| panic!("{} must be in the repository: {e}", repo_copy().display()));
    let cases: Vec<Case> = serde_json::from_str(&text).expect("parses");
    assert!(cases.len() >= 11, "only {} cases", cases.len());
    let e = cases
        .iter()
        .find(|c| c.name == "e_slot_sharing_group")
        .expect("case e_slot_sharing_group");
    assert_eq!(e.slots_used, Some(4));
}

/// The `start_new_chain` in the SQL stateless job file is what reproduces
/// Flink's decision there: without it the sink would chain to Calc[9].
#[test]
fn sql_stateless_needs_its_chaining_setting() {
    let cases = cases();
    let case = cases
        .iter()
        .find(|c| c.name == "sql:stateless.sql")
        .expect("case sql:stateless.sql");
    let path = reference_dir().join("sql_stateless_sql.toml");
    let text = std::fs::read_to_string(&path).expect("job file");
    let setting = "chaining = \"start_new_chain\"\n";
    assert!(
        text.contains(setting),
        "the sink's chaining setting is gone"
    );
    let without = text.replace(setting, "");
    let graph = runtime::jobfile::parse_job(&runtime::jobfile::Source {
        file: "sql_stateless_sql.toml",
        text: &without,
        base_dir: &reference_dir(),
    })
    .expect("still a valid job");
    let ours = ours(&JobGraph::from_stream_graph(&graph));
    assert_eq!(
        ours.vertices,
        [Vertex {
            name: "Source: src[8] -> Calc[9] -> snk[10]: Writer".into(),
            parallelism: 2
        }]
    );
    assert!(!compare(case, &ours).is_empty());
}

/// One plan node reduced to what both plans can agree on (ids differ:
/// Flink hashes its StreamGraph, we hash operator ids): the tree
/// description, the parallelism, and each input as (num, producer's
/// description, ship strategy, exchange).
type PlanShape = Vec<(String, u64, Vec<(u64, String, String, String)>)>;

fn plan_shape(plan: &serde_json::Value) -> PlanShape {
    let nodes = plan["plan"]["nodes"].as_array().expect("plan.nodes");
    let description_of = |id: &str| {
        nodes
            .iter()
            .find(|n| n["id"] == id)
            .and_then(|n| n["description"].as_str())
            .unwrap_or_else(|| panic!("input from unknown node {id}"))
            .to_string()
    };
    let mut shape: PlanShape = nodes
        .iter()
        .map(|n| {
            let mut inputs: Vec<_> = n["inputs"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|i| {
                    (
                        i["num"].as_u64().expect("num"),
                        description_of(i["id"].as_str().expect("input id")),
                        i["ship_strategy"]
                            .as_str()
                            .expect("ship_strategy")
                            .to_string(),
                        i["exchange"].as_str().expect("exchange").to_string(),
                    )
                })
                .collect();
            inputs.sort();
            (
                n["description"].as_str().expect("description").to_string(),
                n["parallelism"].as_u64().expect("parallelism"),
                inputs,
            )
        })
        .collect();
    shape.sort();
    shape
}

/// Where Flink's `GET /jobs/:id/plan` answer was recorded
/// (`rest-samples/cases/<case>/plan.json`, copied to `tests/data/flink-plans/`),
/// our plan JSON has the same tree descriptions, parallelism and inputs.
#[test]
fn plan_json_matches_flinks_recorded_plans() {
    let copies = manifest_dir().join("data/flink-plans");
    let shared = manifest_dir().join("../../shared/flink-reference/rest-samples/cases");
    let mut checked = 0;
    for case in cases() {
        let copy = copies.join(format!("{}.json", case.name));
        let original = shared.join(&case.name).join("plan.json");
        let Ok(text) = std::fs::read_to_string(&copy) else {
            assert!(
                !original.exists(),
                "{} exists but its copy {} does not: copy it into the repository",
                original.display(),
                copy.display()
            );
            continue; // Flink's plan was not recorded for this case
        };
        if let Ok(orig) = std::fs::read_to_string(&original) {
            assert!(
                orig == text,
                "{} differs from {}",
                copy.display(),
                original.display()
            );
        }
        let flink: serde_json::Value = serde_json::from_str(&text).expect("Flink's plan parses");
        let graph = load_job_file(&reference_dir().join(job_file_name(&case.name)))
            .unwrap_or_else(|e| panic!("{e}"));
        let jg = JobGraph::from_stream_graph(&graph);
        let ours = serde_json::to_value(PlanResponse::new(&jg, preview_job_id(&jg))).expect("json");
        assert_eq!(ours["plan"]["name"], flink["plan"]["name"], "{}", case.name);
        assert_eq!(ours["plan"]["type"], flink["plan"]["type"], "{}", case.name);
        assert_eq!(
            plan_shape(&ours),
            plan_shape(&flink),
            "plan of {}",
            case.name
        );
        println!("plan of {} matches Flink's", case.name);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} recorded plans compared");
}
