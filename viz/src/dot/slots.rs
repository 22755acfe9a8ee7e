//! The slots view: TaskManagers, their task slots, and the subtasks that
//! share each slot.
//!
//! Flink's figure "operator chains share task slots" (*Flink Architecture*,
//! "Task Slots and Resources"): a TaskManager is a process offering a fixed
//! number of task slots; with slot sharing one slot holds one subtask of
//! each operator chain of the same job, so a whole pipeline runs in one
//! slot. Each TaskManager is a box, each slot a box inside it, each subtask
//! a node inside its slot, named as Flink names it (`Source -> Map (1/2)`)
//! with its ExecutionState below. A slot and its subtasks take their job's
//! colour; a free slot is drawn dashed and empty; a TaskManager whose
//! process is gone is drawn grey and dashed. A legend names the jobs.
//!
//! Data enters as a [`Cluster`] and leaves as a graphviz-rust [`Graph`]; the
//! layout flows top to bottom, with the subtasks of a slot held in a column
//! by invisible edges. Ids come from indices (`tm0_s1_t2`), never from names.

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{Attribute, Graph, Id, Stmt};

use super::build::{edge, job_colors, label, node, snapshot_digraph, subgraph};
use crate::model::{Cluster, Slot, TaskManager};

/// The slots view of `c` as a graph.
pub fn graph(c: &Cluster) -> Graph {
    let mut g = snapshot_digraph(
        "slots",
        c,
        "slots view (TaskManagers, their task slots, the subtasks sharing each slot)",
        "TB",
        vec![],
    );
    if c.taskmanagers.is_empty() {
        g.add_stmt(node(
            "no_taskmanagers".into(),
            vec![
                label(&["no TaskManager has registered"]),
                attr!("shape", "plaintext"),
            ],
        ));
    }
    for (ti, tm) in c.taskmanagers.iter().enumerate() {
        g.add_stmt(taskmanager(c, ti, tm));
    }
    if !c.jobs.is_empty() {
        let mut legend = vec![stmt!(label(&["jobs"])), stmt!(attr!("style", "dashed"))];
        for (j, job) in c.jobs.iter().enumerate() {
            let (border, fill) = job_colors(j);
            legend.push(node(
                format!("job{j}"),
                vec![
                    label(&[job.name.as_str(), &job.status]),
                    attr!("color", esc border),
                    attr!("fillcolor", esc fill),
                ],
            ));
        }
        g.add_stmt(subgraph("cluster_jobs".into(), legend));
    }
    g
}

/// One TaskManager's box with a box per slot.
fn taskmanager(c: &Cluster, ti: usize, tm: &TaskManager) -> Stmt {
    let mut stmts = vec![stmt!(label(&[
        format!("TaskManager {}", tm.name),
        tm.status.clone()
    ]))];
    if tm.alive {
        stmts.push(stmt!(attr!("style", esc "rounded,filled")));
        stmts.push(stmt!(attr!("fillcolor", esc "#f4f4f4")));
    } else {
        stmts.push(stmt!(attr!("style", esc "rounded,dashed")));
        stmts.push(stmt!(attr!("color", "grey")));
        stmts.push(stmt!(attr!("fontcolor", "grey")));
    }
    if tm.slots.is_empty() {
        stmts.push(node(
            format!("tm{ti}"),
            vec![label(&["no slots offered"]), attr!("shape", "plaintext")],
        ));
    }
    // Graphviz places sibling boxes inside a box right to left in the order
    // they are written; written last first, slot 0 is drawn on the left.
    for (si, slot) in tm.slots.iter().enumerate().rev() {
        stmts.push(task_slot(c, ti, si, slot, tm.alive));
    }
    subgraph(format!("cluster_tm{ti}"), stmts)
}

/// One slot's box: its subtasks in a column, or a dashed placeholder
/// (`free`, `allocated to` a job, or `lost` with its TaskManager).
fn task_slot(c: &Cluster, ti: usize, si: usize, slot: &Slot, tm_alive: bool) -> Stmt {
    let id = format!("tm{ti}_s{si}");
    let job = slot.job.map(|j| (j, c.jobs.get(j)));
    let mut stmts = vec![stmt!(label(&[format!("slot {si}")]))];
    match job {
        Some((j, _)) => {
            let (border, _) = job_colors(j);
            stmts.push(stmt!(attr!("style", "rounded")));
            stmts.push(stmt!(attr!("color", esc border)));
        }
        None => {
            stmts.push(stmt!(attr!("style", esc "rounded,dashed")));
            stmts.push(stmt!(attr!("color", "grey")));
        }
    }
    let (border, fill) = match job {
        Some((j, _)) => job_colors(j),
        None => ("grey", "white"),
    };
    if slot.subtasks.is_empty() {
        let text = match job {
            None if !tm_alive => vec!["lost".to_string()],
            None => vec!["free".to_string()],
            Some((_, name)) => vec![
                "allocated to".to_string(),
                name.map_or("?".to_string(), |x| x.name.clone()),
            ],
        };
        stmts.push(node(
            id.clone(),
            vec![
                label(&text),
                attr!("style", esc "rounded,dashed"),
                attr!("color", esc border),
                attr!("fontcolor", "grey"),
            ],
        ));
    }
    for (k, t) in slot.subtasks.iter().enumerate() {
        stmts.push(node(
            format!("{id}_t{k}"),
            vec![
                label(&[t.task_name(), t.state.clone()]),
                attr!("color", esc border),
                attr!("fillcolor", esc fill),
            ],
        ));
        if k > 0 {
            // Keeps the slot's subtasks in one column.
            stmts.push(edge(
                format!("{id}_t{}", k - 1),
                format!("{id}_t{k}"),
                vec![attr!("style", "invis")],
            ));
        }
    }
    subgraph(format!("cluster_{id}"), stmts)
}
