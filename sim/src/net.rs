//! The simulated side of the transport seam: `turmoil::net` behind
//! `runtime::net::Network`, and turmoil's virtual clock behind `Clock`.
//!
//! Everything the runtime does on the network goes through these two
//! types, so a JobManager host in the simulator runs exactly the code a
//! real `mini-flink jobmanager` process runs. The well-known addresses of
//! the simulated hosts sit here too, for the hosts and the client alike.

use futures::future::BoxFuture;
use runtime::events::Clock;
use runtime::net::auth::{Auth, Secret};
use runtime::net::{BoxStream, Listener, Network};
use std::io;
use std::sync::Arc;

/// The JobManager's RPC address inside the simulator (the session
/// cluster's, without HA).
pub const JOBMANAGER_ADDR: &str = "jobmanager:6123";
/// The HA coordinator's address inside the simulator.
pub const COORDINATOR_ADDR: &str = "coordinator:2181";
/// Every TaskManager's data port.
pub const DATA_PORT: u16 = 6121;
/// The REST port of every simulated JobManager (Flink's `rest.port`).
pub const REST_PORT: u16 = 8081;
/// The simulated cluster's wall clock at virtual time zero (turmoil's
/// `epoch`; also the REST answers' epoch): 2026-11-24.
pub const SIM_EPOCH_MS: u64 = 1_795_500_000_000;

/// `turmoil::net` TCP, with the host's handshake credentials: the
/// simulation's secret (drawn from its seed) and nonces from the host's
/// seeded generator, so the real handshake runs, deterministically.
#[derive(Debug, Clone)]
pub struct TurmoilNetwork {
    auth: Auth,
}

impl TurmoilNetwork {
    /// The network of a host whose seed is `host_seed`, in a simulation
    /// whose seed is `seed`.
    pub fn new(seed: u64, host_seed: u64) -> TurmoilNetwork {
        TurmoilNetwork {
            auth: Auth::simulated(Arc::new(Secret::from_seed(seed)), host_seed),
        }
    }
}

/// The REST token of a simulation whose seed is `seed` (what a simulated
/// REST client sends as `Authorization: Bearer`).
pub fn rest_token(seed: u64) -> String {
    Secret::from_seed(seed).rest_token()
}

struct TurmoilListener(turmoil::net::TcpListener);

impl Listener for TurmoilListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(BoxStream, String)>> {
        Box::pin(async move {
            let (s, addr) = self.0.accept().await?;
            Ok((Box::new(s) as BoxStream, addr.to_string()))
        })
    }
}

impl Network for TurmoilNetwork {
    fn bind(&self, addr: String) -> BoxFuture<'static, io::Result<(Box<dyn Listener>, String)>> {
        Box::pin(async move {
            let l = turmoil::net::TcpListener::bind(addr.as_str()).await?;
            let local = l.local_addr()?.to_string();
            Ok((Box::new(TurmoilListener(l)) as Box<dyn Listener>, local))
        })
    }

    fn connect(&self, addr: String) -> BoxFuture<'static, io::Result<BoxStream>> {
        Box::pin(async move {
            let s = turmoil::net::TcpStream::connect(addr.as_str()).await?;
            Ok(Box::new(s) as BoxStream)
        })
    }

    fn auth(&self) -> &Auth {
        &self.auth
    }
}

/// Turmoil's simulation time: the same clock on every host.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimClock;

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        turmoil::sim_elapsed().map_or(0, |d| d.as_millis() as u64)
    }
}
