//! Leader election for the JobManager with high availability (Flink's
//! `LeaderElectionService` with its `DefaultLeaderElectionService`, and
//! the lease its ZooKeeper or Kubernetes driver keeps).
//!
//! A JobManager [`campaign`]s at the HA coordinator until it holds the
//! lease, with a fencing token that grows with every leader. While it
//! leads, [`keep_lease`] renews the lease, applies the leader's writes to
//! the HA stores (job graphs, checkpoint pointers, results) in order and
//! fenced by its token, and tells the event loop when the lease is lost,
//! before anyone else can be given it.
//!
//! In: the coordinator's answers; the loop's HA writes. Out: the token
//! on election; [`Inbound::LeadershipLost`] to the loop.

use super::inbox::Inbound;
use super::outbox::HaOp;
use crate::events::HostCtx;
use crate::ha::{CoordRequest, CoordResponse, HaClient};
use crate::ids::FencingToken;
use std::time::Duration;
use tokio::sync::mpsc;

/// Campaigns at the coordinator until this JobManager is elected; its token.
pub async fn campaign(
    ctx: &HostCtx,
    client: &mut HaClient,
    ha: &crate::config::HaConfig,
    advertise: &str,
) -> FencingToken {
    loop {
        let req = CoordRequest::Campaign {
            candidate: ctx.host.clone(),
            addr: advertise.to_string(),
            lease_ms: ha.lease_ms,
        };
        if let Ok(CoordResponse::Leader(Some(l))) = client.call(req, ha.lease_ms / 3).await
            && l.leader == ctx.host
        {
            return l.token;
        }
        tokio::time::sleep(Duration::from_millis((ha.lease_ms / 3).max(1))).await;
    }
}

/// Renews the leader lease and applies HA writes; reports a lost lease.
pub async fn keep_lease(
    ctx: HostCtx,
    ha: crate::config::HaConfig,
    token: FencingToken,
    mut ops: mpsc::UnboundedReceiver<HaOp>,
    inbox: mpsc::UnboundedSender<Inbound>,
) {
    let mut client = HaClient::new(ctx.clone(), ha.coordinator.clone());
    let period = (ha.lease_ms / 3).max(1);
    let mut last_ok = ctx.now_ms();
    let mut renew = tokio::time::interval(Duration::from_millis(period));
    loop {
        tokio::select! {
            biased;
            op = ops.recv() => {
                let Some(op) = op else { return };
                let req = match op {
                    HaOp::Put(key, value) => CoordRequest::Put { key, value, token },
                    HaOp::Delete(key) => CoordRequest::Delete { key, token },
                };
                if let Ok(CoordResponse::Fenced { current }) = client.call(req, period).await {
                    let _ = inbox.send(Inbound::LeadershipLost(format!("fenced by token {current}")));
                    return;
                }
            }
            _ = renew.tick() => {
                let started = ctx.now_ms();
                match client.call(CoordRequest::Renew { candidate: ctx.host.clone(), token }, period).await {
                    Ok(CoordResponse::Ok) => last_ok = started,
                    Ok(_) => {
                        let _ = inbox.send(Inbound::LeadershipLost("the lease was taken over".into()));
                        return;
                    }
                    Err(_) => {}
                }
                // Step down before the coordinator can hand the lease to
                // someone else: our lease started no later than `last_ok`.
                if ctx.now_ms() + period >= last_ok + ha.lease_ms {
                    let _ = inbox.send(Inbound::LeadershipLost("the lease could not be renewed".into()));
                    return;
                }
            }
        }
    }
}
