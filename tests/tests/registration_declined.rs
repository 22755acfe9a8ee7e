//! A TaskManager over the ResourceManager's registration cap is told why
//! (Flink's `RegistrationResponse.Decline`), on real turmoil hosts: a real
//! JobManager, a TaskManager asking for more slots than a TaskManager may
//! have, and one within the cap. The first hears `Declined` at once, never
//! joins, and registers again only after the refused-registration delay
//! (10 s, Flink's `cluster.registration.refused-registration-delay`); the
//! second joins as usual.

use runtime::config::{JobManagerConfig, TaskManagerConfig};
use runtime::events::{EventKind, EventLog, EventSink, HostCtx};
use runtime::net::NetworkRef;
use runtime::net::limits::MAX_SLOTS_PER_TASKMANAGER;
use runtime::taskmanager::registration::REFUSED_REGISTRATION_DELAY_MS;
use sim::net::{SimClock, TurmoilNetwork};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

const SEED: u64 = 14;

fn ctx(host: &str, log: &EventLog, host_seed: u64) -> HostCtx {
    HostCtx {
        host: host.into(),
        net: Arc::new(TurmoilNetwork::new(SEED, host_seed)) as NetworkRef,
        events: Arc::new(log.clone()) as Arc<dyn EventSink>,
        clock: Arc::new(SimClock),
        seed: host_seed,
    }
}

fn taskmanager(sim: &mut turmoil::Sim<'_>, log: &EventLog, host: &'static str, slots: u32) {
    let log = log.clone();
    let host_seed = 100 + u64::from(slots);
    sim.host(host, move || {
        let cfg = TaskManagerConfig {
            jobmanager: "jobmanager:6123".into(),
            slots,
            data_bind: "0.0.0.0:6121".into(),
            data_advertise: Some(format!("{host}:6121")),
            ..TaskManagerConfig::default()
        };
        let ctx = ctx(host, &log, host_seed);
        async move {
            runtime::taskmanager::run_taskmanager(ctx, cfg, std::future::pending()).await?;
            Ok(())
        }
    });
}

#[test]
fn a_declined_taskmanager_hears_why_and_tries_again_later() -> turmoil::Result {
    let log = EventLog::new();
    let mut sim = turmoil::Builder::new()
        .rng_seed(SEED)
        .epoch(UNIX_EPOCH)
        .simulation_duration(Duration::from_secs(30))
        .build();
    let jm_log = log.clone();
    sim.host("jobmanager", move || {
        let ctx = ctx("jobmanager", &jm_log, 1);
        async move {
            let cfg = JobManagerConfig {
                bind: "0.0.0.0:6123".into(),
                ..JobManagerConfig::default()
            };
            runtime::jobmanager::run_jobmanager(ctx, cfg, None, std::future::pending()).await?;
            Ok(())
        }
    });
    taskmanager(&mut sim, &log, "tm-huge", MAX_SLOTS_PER_TASKMANAGER + 1);
    taskmanager(&mut sim, &log, "tm-1", 2);
    sim.client("observer", async {
        tokio::time::sleep(Duration::from_secs(25)).await;
        Ok(())
    });
    sim.run()?;

    let events = log.snapshot();
    let declined: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskManagerDeclined {
                resource_id,
                reason,
            } => {
                assert_eq!(resource_id.as_str(), "tm-huge");
                assert_eq!(
                    reason,
                    &format!(
                        "its number of slots is {}, over the cap of {MAX_SLOTS_PER_TASKMANAGER}",
                        MAX_SLOTS_PER_TASKMANAGER + 1
                    )
                );
                Some(e.t)
            }
            _ => None,
        })
        .collect();
    assert!(
        declined.len() >= 2,
        "declined at {declined:?}, want a first time and a retry"
    );
    assert!(declined[0] < 2_000, "first declined at {} ms", declined[0]);
    let gap = declined[1] - declined[0];
    assert!(
        (REFUSED_REGISTRATION_DELAY_MS..REFUSED_REGISTRATION_DELAY_MS + 1_000).contains(&gap),
        "registered again after {gap} ms, want the {REFUSED_REGISTRATION_DELAY_MS} ms delay"
    );
    let registered: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskManagerRegistered { resource_id, .. } => Some(resource_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(registered, vec!["tm-1"]);
    Ok(())
}
