//! A TaskManager's registration at the ResourceManager (Flink's
//! `TaskExecutorToResourceManagerConnection` and its `RegistrationResponse`).
//!
//! Find the leader (through the HA coordinator, when there is one), connect
//! with retries, prove the cluster secret in the handshake, and send
//! `Register` with the data address and the slots. The answer comes on the
//! connection: `Registered` with the leader's token, or `Declined` with why
//! (Flink's `RegistrationResponse.Decline`: a cap was reached). A declined
//! TaskManager waits [`REFUSED_REGISTRATION_DELAY_MS`] before it tries again
//! (Flink's `cluster.registration.refused-registration-delay`).
//!
//! - **In**: the TaskManager's config and its data address.
//! - **Out**: a connection on which `Register` was sent, and the leader's
//!   token; or why none could be made.

use crate::config::TaskManagerConfig;
use crate::events::HostCtx;
use crate::ids::FencingToken;
use crate::net::frame::{FrameReader, FrameWriter, connect_handshake};
use crate::rpc::FromTaskManager;
use std::time::Duration;

/// How long a TaskManager whose registration was declined waits before it
/// registers again (Flink's `cluster.registration.refused-registration-delay`).
pub const REFUSED_REGISTRATION_DELAY_MS: u64 = 10_000;

/// Why no registration could be sent.
pub(super) enum NotRegistered {
    /// The JobManager cannot be reached now: try again.
    Lost(String),
    /// The handshake failed for want of the secret: stop.
    Refused(String),
}

/// A connection to the leader on which `Register` was sent.
pub(super) struct Registering {
    /// Reads the JobManager's messages.
    pub reader: FrameReader,
    /// Writes to the JobManager.
    pub writer: FrameWriter,
    /// The leader's fencing token (0 without high availability).
    pub leader_token: FencingToken,
}

/// Finds the leader, connects and sends `Register`.
pub(super) async fn register(
    ctx: &HostCtx,
    cfg: &TaskManagerConfig,
    data_addr: &str,
) -> Result<Registering, NotRegistered> {
    let (jobmanager, leader_token) = match &cfg.ha {
        None => (cfg.jobmanager.clone(), FencingToken::NONE),
        Some(ha) => {
            let mut client = crate::ha::HaClient::new(ctx.clone(), ha.coordinator.clone());
            let l = client.wait_for_leader().await;
            (l.addr, l.token)
        }
    };
    let mut retry_ms = cfg.connect_retry_ms.clamp(1, 500);
    let stream = loop {
        // A crashed host may never answer: give up after a second.
        let attempt = tokio::time::timeout(
            Duration::from_millis(1_000),
            ctx.net.connect(jobmanager.clone()),
        )
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            ))
        });
        match attempt {
            Ok(s) => break s,
            // With HA the leader we were told of may be gone: ask again.
            Err(e) if cfg.ha.is_some() => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Err(NotRegistered::Lost(format!(
                    "cannot reach the leader at {jobmanager}: {e}"
                )));
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(retry_ms)).await;
                retry_ms = (retry_ms * 2).min(500);
            }
        }
    };
    let (reader, mut writer, _hello) =
        match connect_handshake(stream, ctx.net.auth(), "taskmanager", &ctx.host).await {
            Ok(x) => x,
            Err(e) if e.is_auth() => return Err(NotRegistered::Refused(e.to_string())),
            Err(e) => return Err(NotRegistered::Lost(e.to_string())),
        };
    let register = FromTaskManager::Register {
        resource_id: ctx.host.as_str().into(),
        data_addr: data_addr.to_string(),
        slots: cfg.slots,
    };
    if let Err(e) = writer.send(&register).await {
        return Err(NotRegistered::Lost(e.to_string()));
    }
    Ok(Registering {
        reader,
        writer,
        leader_token,
    })
}
