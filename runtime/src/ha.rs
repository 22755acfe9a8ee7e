//! High availability: leader election, leader retrieval and the stores that
//! let a standby JobManager take over (Flink's `HighAvailabilityServices`).
//!
//! Flink runs several JobManagers; ZooKeeper or Kubernetes elects one leader
//! and keeps, for the leader's successor, the submitted job graphs
//! (`JobGraphStore`), pointers to each job's latest completed checkpoint
//! (`CompletedCheckpointStore`) and finished jobs' results
//! (`JobResultStore`). Here that service is the *coordinator*, a small
//! process ([`run_coordinator`]) playing ZooKeeper:
//!
//! - **Leases**: a JobManager campaigns; the first one gets a lease and a
//!   *fencing token* (an epoch that grows with every new leader) and must
//!   renew the lease before it runs out. When it does not (it crashed, or it
//!   is cut off), the next candidate becomes leader with a higher token.
//! - **Fencing**: every write carries the writer's token, and the
//!   coordinator refuses writes from a token older than the current leader's
//!   (a deposed leader's late message). TaskManagers do the same with the
//!   JobManager messages they receive.
//! - **Retrieval**: TaskManagers and clients ask who leads and where.
//! - **A key-value store** for job graphs, checkpoint pointers and results.

use crate::events::{EventKind, HostCtx};
use crate::ids::FencingToken;
use crate::net::frame::{WireError, accept_handshake, connect_handshake};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The current leader as the coordinator knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderInfo {
    /// Fencing token (grows with every new leader).
    pub token: FencingToken,
    /// The leader's host name.
    pub leader: String,
    /// Its RPC address.
    pub addr: String,
    /// Its REST address (host:port), if it serves REST: where a standby
    /// JobManager sends REST clients.
    pub rest: Option<String>,
}

/// Requests to the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoordRequest {
    /// Become leader if nobody holds a valid lease.
    Campaign {
        /// The candidate's host name.
        candidate: String,
        /// Its RPC address.
        addr: String,
        /// Its REST address, if it serves REST.
        rest: Option<String>,
        /// Lease length (ms).
        lease_ms: u64,
    },
    /// Extend the lease.
    Renew {
        /// The leader's host name.
        candidate: String,
        /// Its token.
        token: FencingToken,
    },
    /// Who leads?
    GetLeader,
    /// Store a value (fenced by the writer's token).
    Put {
        /// Key.
        key: String,
        /// Value.
        value: Vec<u8>,
        /// Writer's token.
        token: FencingToken,
    },
    /// Remove a key (fenced).
    Delete {
        /// Key.
        key: String,
        /// Writer's token.
        token: FencingToken,
    },
    /// Read a value.
    Get {
        /// Key.
        key: String,
    },
    /// Keys with a prefix, in order.
    List {
        /// Prefix.
        prefix: String,
    },
}

/// Answers of the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoordResponse {
    /// The (possibly new) leader.
    Leader(Option<LeaderInfo>),
    /// Lease renewed / write done.
    Ok,
    /// The lease is gone, or the writer's token is stale: the request is refused.
    Fenced {
        /// The current leader's token.
        current: FencingToken,
    },
    /// A value.
    Value(Option<Vec<u8>>),
    /// Keys.
    Keys(Vec<String>),
}

#[derive(Debug, Default)]
struct CoordState {
    leader: Option<LeaderInfo>,
    lease_until: u64,
    /// The lease length the leader campaigned with (renewals extend by it).
    lease_len: u64,
    last_token: FencingToken,
    store: BTreeMap<String, Vec<u8>>,
}

/// Refuses a store write from a token older than the current leader's:
/// the refusal is an event, and the answer names the current token.
fn fence(
    ctx: &HostCtx,
    token: FencingToken,
    current: FencingToken,
    what: impl FnOnce() -> String,
) -> Option<CoordResponse> {
    if token >= current {
        return None;
    }
    ctx.emit(EventKind::FencedMessageRejected {
        at: ctx.host.clone(),
        token,
        current,
        what: what(),
    });
    Some(CoordResponse::Fenced { current })
}

impl CoordState {
    fn handle(&mut self, req: CoordRequest, now: u64, ctx: &HostCtx) -> CoordResponse {
        let valid = self.leader.is_some() && now < self.lease_until;
        let current = self.leader.as_ref().map_or(FencingToken::NONE, |l| l.token);
        match req {
            CoordRequest::Campaign {
                candidate,
                addr,
                rest,
                lease_ms,
            } => {
                if !valid {
                    self.last_token = self.last_token.next();
                    let info = LeaderInfo {
                        token: self.last_token,
                        leader: candidate,
                        addr,
                        rest,
                    };
                    ctx.emit(EventKind::LeaderElected {
                        leader: info.leader.clone(),
                        token: info.token,
                    });
                    self.leader = Some(info);
                    self.lease_len = lease_ms;
                    self.lease_until = now + lease_ms;
                } else if self.leader.as_ref().is_some_and(|l| l.leader == candidate) {
                    self.lease_until = now + lease_ms;
                }
                CoordResponse::Leader(self.leader.clone())
            }
            CoordRequest::Renew { candidate, token } => match &self.leader {
                Some(l) if valid && l.leader == candidate && l.token == token => {
                    self.lease_until = now + self.lease_len;
                    CoordResponse::Ok
                }
                _ => CoordResponse::Fenced { current },
            },
            CoordRequest::GetLeader => {
                CoordResponse::Leader(if valid { self.leader.clone() } else { None })
            }
            CoordRequest::Put { key, value, token } => {
                if let Some(refused) = fence(ctx, token, current, || format!("write of {key}")) {
                    return refused;
                }
                self.store.insert(key, value);
                CoordResponse::Ok
            }
            CoordRequest::Delete { key, token } => {
                if let Some(refused) = fence(ctx, token, current, || format!("delete of {key}")) {
                    return refused;
                }
                self.store.remove(&key);
                CoordResponse::Ok
            }
            CoordRequest::Get { key } => CoordResponse::Value(self.store.get(&key).cloned()),
            CoordRequest::List { prefix } => CoordResponse::Keys(
                self.store
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect(),
            ),
        }
    }
}

/// Runs the coordinator (the HA service) on `bind` until the process stops.
pub async fn run_coordinator(ctx: HostCtx, bind: String) -> std::io::Result<()> {
    ctx.emit(EventKind::HostStarted {
        role: crate::events::Role::Coordinator,
    });
    let (mut listener, _) = ctx.net.bind(bind).await?;
    let state = Arc::new(Mutex::new(CoordState::default()));
    let limiter = crate::net::limits::PeerLimiter::default();
    loop {
        let (stream, peer) = listener.accept().await?;
        let Some(guard) = limiter.admit(&peer) else {
            tracing::warn!(%peer, cap = limiter.cap(), "refused a connection: too many from this peer");
            continue;
        };
        let state = state.clone();
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let auth = ctx.net.auth().clone();
            let (mut r, mut w, _) =
                match accept_handshake(stream, &auth, "coordinator", &ctx.host).await {
                    Ok(x) => x,
                    Err(error) => {
                        tracing::warn!(%peer, %error, "refused a connection: its handshake failed");
                        return;
                    }
                };
            while let Ok(req) = r.recv::<CoordRequest>().await {
                let now = ctx.now_ms();
                let resp = match state.lock() {
                    Ok(mut s) => s.handle(req, now, &ctx),
                    Err(_) => break,
                };
                if w.send(&resp).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// A connection to the coordinator, re-established on failure.
pub struct HaClient {
    ctx: HostCtx,
    addr: String,
    conn: Option<(
        crate::net::frame::FrameReader,
        crate::net::frame::FrameWriter,
    )>,
}

impl HaClient {
    /// A client of the coordinator at `addr` (connects lazily).
    pub fn new(ctx: HostCtx, addr: String) -> Self {
        HaClient {
            ctx,
            addr,
            conn: None,
        }
    }

    /// One request; `Err` when the coordinator cannot be reached within `timeout_ms`.
    pub async fn call(
        &mut self,
        req: CoordRequest,
        timeout_ms: u64,
    ) -> Result<CoordResponse, WireError> {
        let fut = async {
            if self.conn.is_none() {
                let stream = self.ctx.net.connect(self.addr.clone()).await?;
                let auth = self.ctx.net.auth().clone();
                let (r, w, _) =
                    connect_handshake(stream, &auth, "ha-client", &self.ctx.host).await?;
                self.conn = Some((r, w));
            }
            let (r, w) = self.conn.as_mut().ok_or(WireError::Closed)?;
            w.send(&req).await?;
            r.recv::<CoordResponse>().await
        };
        match tokio::time::timeout(Duration::from_millis(timeout_ms.max(1)), fut).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => {
                self.conn = None;
                Err(e)
            }
            Err(_) => {
                self.conn = None;
                Err(WireError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the coordinator did not answer in time",
                )))
            }
        }
    }

    /// The current leader, if any.
    pub async fn leader(&mut self) -> Option<LeaderInfo> {
        match self.call(CoordRequest::GetLeader, 1_000).await {
            Ok(CoordResponse::Leader(l)) => l,
            _ => None,
        }
    }

    /// Waits until some JobManager leads; returns it.
    pub async fn wait_for_leader(&mut self) -> LeaderInfo {
        loop {
            if let Some(l) = self.leader().await {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventLog, NoEvents};

    fn ctx(events: Arc<dyn crate::events::EventSink>) -> HostCtx {
        HostCtx {
            host: "coordinator".into(),
            net: Arc::new(crate::net::TcpNetwork::insecure()),
            events,
            clock: Arc::new(crate::events::TokioClock::start()),
            seed: 0,
        }
    }

    fn campaign(s: &mut CoordState, who: &str, now: u64, c: &HostCtx) -> Option<LeaderInfo> {
        match s.handle(
            CoordRequest::Campaign {
                candidate: who.into(),
                addr: format!("{who}:6123"),
                rest: Some(format!("{who}:8081")),
                lease_ms: 1_000,
            },
            now,
            c,
        ) {
            CoordResponse::Leader(l) => l,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// One leader at a time; a lease that is not renewed passes to the next
    /// candidate with a higher fencing token.
    #[test]
    fn leases_elect_one_leader_with_growing_tokens() {
        let c = ctx(Arc::new(NoEvents));
        let mut s = CoordState::default();
        let a = campaign(&mut s, "jm-1", 0, &c).unwrap();
        assert_eq!((a.leader.as_str(), a.token), ("jm-1", FencingToken(1)));
        let b = campaign(&mut s, "jm-2", 500, &c).unwrap();
        assert_eq!(b.leader, "jm-1", "jm-1 still holds the lease");
        let renew = |s: &mut CoordState, now| {
            s.handle(
                CoordRequest::Renew {
                    candidate: "jm-1".into(),
                    token: FencingToken(1),
                },
                now,
                &c,
            )
        };
        assert_eq!(renew(&mut s, 900), CoordResponse::Ok);
        assert_eq!(campaign(&mut s, "jm-2", 1_800, &c).unwrap().leader, "jm-1");
        let b = campaign(&mut s, "jm-2", 2_000, &c).unwrap();
        assert_eq!((b.leader.as_str(), b.token), ("jm-2", FencingToken(2)));
        assert_eq!(
            renew(&mut s, 2_001),
            CoordResponse::Fenced {
                current: FencingToken(2)
            }
        );
    }

    /// A deposed leader's late write is refused, and the refusal is an event.
    #[test]
    fn deposed_leader_writes_are_fenced() {
        let log = EventLog::new();
        let c = ctx(Arc::new(log.clone()));
        let mut s = CoordState::default();
        campaign(&mut s, "jm-1", 0, &c);
        let put = |s: &mut CoordState, token: u64, now| {
            s.handle(
                CoordRequest::Put {
                    key: "checkpoints/j".into(),
                    value: vec![token as u8],
                    token: FencingToken(token),
                },
                now,
                &c,
            )
        };
        assert_eq!(put(&mut s, 1, 10), CoordResponse::Ok);
        campaign(&mut s, "jm-2", 5_000, &c);
        assert_eq!(
            put(&mut s, 1, 5_001),
            CoordResponse::Fenced {
                current: FencingToken(2)
            }
        );
        assert_eq!(put(&mut s, 2, 5_002), CoordResponse::Ok);
        assert_eq!(
            s.handle(
                CoordRequest::Get {
                    key: "checkpoints/j".into()
                },
                5_003,
                &c
            ),
            CoordResponse::Value(Some(vec![2]))
        );
        assert!(log.snapshot().iter().any(|e| matches!(
            &e.kind,
            EventKind::FencedMessageRejected {
                token: FencingToken(1),
                current: FencingToken(2),
                ..
            }
        )));
    }
}
