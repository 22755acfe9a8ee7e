//! The cluster view: who talks to whom in a running Flink cluster.
//!
//! Flink's figure "Flink cluster anatomy" (*Flink Architecture*): the
//! client submits a JobGraph to the JobManager's Dispatcher; the
//! JobManager's three roles are the Dispatcher, the ResourceManager (it
//! hands out TaskManagers' slots) and one JobMaster per running job; the
//! TaskManagers register at the ResourceManager, run the tasks the
//! JobMasters deploy, and stream data to each other directly, never through
//! the JobManager. With high availability the standby JobManagers are drawn
//! too, empty: they run none of the roles until they are elected.
//!
//! Control connections are dashed (client→Dispatcher, ResourceManager↔
//! TaskManager, JobMaster↔TaskManager in its job's colour); data
//! connections between TaskManagers are bold. Channels inside one
//! TaskManager stay in memory and are not drawn.
//!
//! Data enters as a [`Cluster`] and leaves as a graphviz-rust [`Graph`],
//! flowing left to right: client, JobManagers, TaskManagers. Ids come from
//! indices (`jm0_job1`, `tm2`), never from names.

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{Attribute, Graph, Id, Stmt};

use super::build::{edge, job_colors, label, node, snapshot_digraph, subgraph};
use crate::model::{Cluster, TaskManager};

/// What the control connections carry, written on the first of each kind.
const SUBMIT: &str = "submit job (JobGraph)";
const REGISTER: &str = "register, offer slots, heartbeats";
const DEPLOY: &str = "deploy tasks, task states, checkpoints";

/// The cluster view of `c` as a graph.
pub fn graph(c: &Cluster) -> Graph {
    let mut g = snapshot_digraph(
        "cluster",
        c,
        "cluster view (dashed: control connections, bold: data between TaskManagers)",
        "LR",
        vec![attr!("compound", "true"), attr!("ranksep", 1.0)],
    );
    g.add_stmt(node(
        "client".into(),
        vec![
            label(&["Client", "compiles the program to a JobGraph"]),
            attr!("fillcolor", esc "#fff7d6"),
        ],
    ));
    if c.jobmanagers.is_empty() {
        g.add_stmt(node(
            "no_jobmanager".into(),
            vec![label(&["no JobManager"]), attr!("shape", "plaintext")],
        ));
    }
    let ha = c.jobmanagers.len() > 1;
    let leader = c.jobmanagers.iter().position(|jm| jm.leader);
    for (mi, jm) in c.jobmanagers.iter().enumerate() {
        let role = match (Some(mi) == leader, ha) {
            (true, true) => " (leader)",
            (true, false) => "",
            (false, _) => " (standby)",
        };
        let mut stmts = vec![stmt!(label(&[format!("JobManager {}{role}", jm.name)]))];
        if Some(mi) == leader {
            stmts.push(stmt!(attr!("style", esc "rounded,filled")));
            stmts.push(stmt!(attr!("fillcolor", esc "#eef3fb")));
            stmts.push(stmt!(attr!("color", esc "#4a6fa5")));
            stmts.extend(leader_roles(c, mi));
        } else {
            stmts.push(stmt!(attr!("style", esc "rounded,dashed")));
            stmts.push(stmt!(attr!("color", "grey")));
            let waits = if leader.is_none() {
                "no leader: waits for an election"
            } else {
                "waits to be elected"
            };
            stmts.push(node(
                format!("jm{mi}"),
                vec![label(&[waits]), attr!("shape", "plaintext")],
            ));
        }
        g.add_stmt(subgraph(format!("cluster_jm{mi}"), stmts));
    }
    for (ti, tm) in c.taskmanagers.iter().enumerate() {
        g.add_stmt(taskmanager(c, ti, tm));
    }
    if let Some(mi) = leader {
        for stmt in control_edges(c, mi) {
            g.add_stmt(stmt);
        }
    }
    for d in &c.data_connections {
        let channels = if d.channels == 1 {
            "channel"
        } else {
            "channels"
        };
        let text = format!("data ({} {channels})", d.channels);
        let attrs = vec![
            label(&[text]),
            attr!("style", "bold"),
            attr!("penwidth", 2.5),
            attr!("color", esc "#333333"),
            // The TaskManagers stay in one column; data only crosses it.
            attr!("constraint", "false"),
        ];
        g.add_stmt(edge(format!("tm{}", d.from), format!("tm{}", d.to), attrs));
    }
    g
}

/// The leader's Dispatcher, ResourceManager and one JobMaster per job
/// that still runs, with the Dispatcher starting each JobMaster.
fn leader_roles(c: &Cluster, mi: usize) -> Vec<Stmt> {
    let registered = c.taskmanagers.iter().filter(|t| t.registered).count();
    let tms = if registered == 1 {
        "TaskManager"
    } else {
        "TaskManagers"
    };
    let mut stmts = vec![
        node(
            format!("jm{mi}_dispatcher"),
            vec![label(&["Dispatcher", "REST endpoint: accepts jobs"])],
        ),
        node(
            format!("jm{mi}_rm"),
            vec![label(&[
                "ResourceManager".to_string(),
                format!("slots of {registered} {tms}"),
            ])],
        ),
    ];
    for (j, job) in c.jobs.iter().enumerate().filter(|(_, j)| j.active) {
        let (border, fill) = job_colors(j);
        stmts.push(node(
            format!("jm{mi}_job{j}"),
            vec![
                label(&["JobMaster", job.name.as_str(), &job.status]),
                attr!("color", esc border),
                attr!("fillcolor", esc fill),
            ],
        ));
        stmts.push(edge(
            format!("jm{mi}_dispatcher"),
            format!("jm{mi}_job{j}"),
            vec![label(&["starts"]), attr!("style", "dotted")],
        ));
    }
    stmts
}

/// One TaskManager as a node listing its slots and what each holds.
fn taskmanager(c: &Cluster, ti: usize, tm: &TaskManager) -> Stmt {
    let mut text = vec![format!("TaskManager {}", tm.name), tm.status.clone()];
    for (si, slot) in tm.slots.iter().enumerate() {
        let holds = match slot.job {
            None if !tm.alive => "lost".to_string(),
            None => "free".to_string(),
            Some(j) => {
                let name = c.jobs.get(j).map_or("?", |x| x.name.as_str());
                match slot.subtasks.len() {
                    0 => format!("{name} (allocated)"),
                    1 => format!("{name}: 1 subtask"),
                    n => format!("{name}: {n} subtasks"),
                }
            }
        };
        text.push(format!("slot {si}: {holds}"));
    }
    let mut attrs = vec![label(&text), attr!("fillcolor", esc "#f4f4f4")];
    if !tm.alive {
        attrs.push(attr!("style", esc "rounded,dashed"));
        attrs.push(attr!("color", "grey"));
        attrs.push(attr!("fontcolor", "grey"));
    }
    node(format!("tm{ti}"), attrs)
}

/// Client→Dispatcher, ResourceManager↔TaskManager (each registered one;
/// an invisible edge to the others keeps them in the TaskManagers' column)
/// and JobMaster↔TaskManager (each TaskManager holding a slot of the job).
/// Each kind names what it carries once, on its first edge.
fn control_edges(c: &Cluster, mi: usize) -> Vec<Stmt> {
    let control = |text: Option<&str>, color: &str| {
        let mut attrs = vec![attr!("style", "dashed"), attr!("color", esc color)];
        if let Some(t) = text {
            attrs.insert(0, label(&[t]));
            attrs.push(attr!("fontcolor", esc color));
        }
        attrs
    };
    let mut out = vec![edge(
        "client".into(),
        format!("jm{mi}_dispatcher"),
        control(Some(SUBMIT), "#555555"),
    )];
    let mut first = true;
    for (ti, tm) in c.taskmanagers.iter().enumerate() {
        let attrs = if tm.registered {
            let mut attrs = control(first.then_some(REGISTER), "#555555");
            attrs.push(attr!("dir", "both"));
            first = false;
            attrs
        } else {
            // No connection, but the TaskManager stays in its column.
            vec![attr!("style", "invis")]
        };
        out.push(edge(format!("jm{mi}_rm"), format!("tm{ti}"), attrs));
    }
    for (j, _) in c.jobs.iter().enumerate().filter(|(_, j)| j.active) {
        let (border, _) = job_colors(j);
        let holding = c
            .taskmanagers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.slots.iter().any(|s| s.job == Some(j)));
        for (k, (ti, _)) in holding.enumerate() {
            let mut attrs = control((k == 0).then_some(DEPLOY), border);
            attrs.push(attr!("dir", "both"));
            out.push(edge(format!("jm{mi}_job{j}"), format!("tm{ti}"), attrs));
        }
    }
    out
}
