//! Limits against hostile or broken peers (Flink's `rest.server.max-content-length`,
//! `akka.framesize` and the connection limits of its Netty server).
//!
//! What one peer may ask of a host is bounded: the size of a frame
//! ([`super::frame::MAX_FRAME`]), of a REST body
//! ([`crate::jobmanager::rest::RestConfig::max_content_length`]), the time it
//! may take to prove itself ([`super::auth::Auth::handshake_timeout`]), and
//! here, how many connections one peer address may hold open at once
//! ([`PeerLimiter`]); and what a job or cluster may ask for at all
//! ([`MAX_PARALLELISM`], [`MAX_TASKMANAGERS`], [`MAX_SLOTS_PER_TASKMANAGER`]),
//! checked before anything starts.
//!
//! In: accepted connections' peer addresses. Out: a guard per admitted
//! connection, or a refusal the accept loop logs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The most connections one peer address may hold open on one port.
/// Generous, because every process of a one-machine cluster shares
/// 127.0.0.1; small enough that one client cannot exhaust the host.
pub const MAX_CONNECTIONS_PER_PEER: usize = 256;

/// The largest parallelism a job's operator may ask for (Flink's default
/// upper bound of `maxParallelism` is 32768; a teaching cluster is smaller).
pub const MAX_PARALLELISM: u32 = 1_024;

/// The most TaskManagers a cluster (or a scenario) may have.
pub const MAX_TASKMANAGERS: u32 = 1_000;

/// The most slots one TaskManager may offer.
pub const MAX_SLOTS_PER_TASKMANAGER: u32 = 256;

/// Counts open connections per peer address (its IP, without the port).
#[derive(Debug, Clone)]
pub struct PeerLimiter {
    cap: usize,
    open: Arc<Mutex<BTreeMap<String, usize>>>,
}

/// An admitted connection: dropping it frees its place.
#[derive(Debug)]
pub struct PeerGuard {
    peer: String,
    open: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl PeerLimiter {
    /// A limiter admitting `cap` connections per peer address.
    pub fn new(cap: usize) -> PeerLimiter {
        PeerLimiter {
            cap,
            open: Arc::default(),
        }
    }

    /// Admits a connection from `peer` ("10.0.0.7:50432"), or `None` when
    /// that address already holds `cap`.
    pub fn admit(&self, peer: &str) -> Option<PeerGuard> {
        let ip = peer_ip(peer).to_string();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip.clone()).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(PeerGuard {
            peer: ip,
            open: self.open.clone(),
        })
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

impl Default for PeerLimiter {
    fn default() -> Self {
        PeerLimiter::new(MAX_CONNECTIONS_PER_PEER)
    }
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

/// The address part of "ip:port" ("[::1]:80" → "[::1]").
fn peer_ip(peer: &str) -> &str {
    peer.rsplit_once(':').map_or(peer, |(ip, _)| ip)
}

/// Why a job or cluster asks for too much.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {asked}, over the cap of {cap}")]
pub struct OverCap {
    /// What ("the parallelism of operator `map`", "the number of TaskManagers").
    pub what: String,
    /// What was asked.
    pub asked: u64,
    /// The cap.
    pub cap: u64,
}

/// Checks `asked` against `cap`.
pub fn check_cap(what: impl Into<String>, asked: u64, cap: u64) -> Result<(), OverCap> {
    if asked > cap {
        return Err(OverCap {
            what: what.into(),
            asked,
            cap,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer address gets `cap` places; a closed one frees its place;
    /// other addresses are counted apart.
    #[test]
    fn per_peer_cap() {
        let l = PeerLimiter::new(2);
        let a = l.admit("10.0.0.1:1").expect("first");
        let _b = l.admit("10.0.0.1:2").expect("second");
        assert!(l.admit("10.0.0.1:3").is_none());
        assert!(l.admit("10.0.0.2:3").is_some());
        drop(a);
        assert!(l.admit("10.0.0.1:4").is_some());
        assert_eq!(
            check_cap("the slots", 5, 4).map_err(|e| e.to_string()),
            Err("the slots is 5, over the cap of 4".into())
        );
    }
}
