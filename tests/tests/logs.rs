//! The simulator's logs are as deterministic as its event trace: every
//! line carries the virtual time and the simulated host (not the wall
//! clock), so two runs of a scenario with the same seed, logging at
//! `debug`, write byte-identical log text.

use std::path::Path;

/// Runs a scenario with the simulator's subscriber at `debug` installed
/// for this thread only, and returns what it logged.
fn logged_run(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    let s = sim::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let log = sim::logging::LogBuffer::new();
    let subscriber = sim::logging::subscriber("debug", log.clone());
    tracing::subscriber::with_default(subscriber, || {
        sim::Simulation::new(&s, None)
            .run()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    });
    log.text()
}

/// A TaskManager crash and a JobManager failover, each logged twice at
/// `debug`: the same text, byte for byte, with the virtual time and the
/// host on the lines that say what an operator wants to know.
#[test]
fn same_seed_same_log() {
    for (name, host, what) in [
        ("tm-crash.toml", "host{name=jobmanager}", "TaskManager lost"),
        ("ha.toml", "host{name=jobmanager-2}", "gained leadership"),
    ] {
        let a = logged_run(name);
        let b = logged_run(name);
        assert!(a == b, "{name}: two runs logged differently");
        let line = a
            .lines()
            .find(|l| l.contains(what) && l.contains(host))
            .unwrap_or_else(|| panic!("{name}: no `{what}` from {host} in\n{a}"));
        // Virtual time first, e.g. `   4.680s  INFO host{...}`.
        let time = line.split_whitespace().next().unwrap_or_default();
        assert!(
            time.ends_with('s') && time.trim_end_matches('s').parse::<f64>().is_ok(),
            "{name}: {line}"
        );
    }
}
