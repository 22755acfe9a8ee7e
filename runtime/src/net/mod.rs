//! The seam between simulation and reality, and the wire above it.
//!
//! Every runtime component talks to others through [`Network`]: bind a
//! listener, accept, connect, each yielding a byte stream. [`TcpNetwork`]
//! implements it with `tokio::net` for real processes; the `sim` crate
//! implements it with `turmoil::net`, so the *same* JobManager and
//! TaskManager code runs on virtual hosts. Above the seam, [`frame`] turns
//! the byte stream into length-delimited frames carrying serde messages
//! (postcard), with a handshake that checks the protocol version and that
//! the peer knows the cluster's secret ([`auth`]), like Flink's RPC layer
//! (Pekko) and its Netty data plane do for their peers when security is
//! on. [`limits`] caps what one peer may hold (connections, frame sizes).
//!
//! Layers, mini-redis style: bytes → frame → [`frame::FrameReader`]/[`frame::FrameWriter`] → gateway
//! messages ([`crate::rpc`]) → component.

pub mod auth;
pub mod frame;
pub mod limits;
pub mod tls;

use futures::future::BoxFuture;
use std::io;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A bidirectional byte stream (a TCP connection, real or simulated).
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> ByteStream for T {}

/// A boxed byte stream: what the seam hands out.
pub type BoxStream = Box<dyn ByteStream>;

/// A bound listener.
pub trait Listener: Send {
    /// Waits for the next connection; returns it with the peer's address.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(BoxStream, String)>>;
}

/// The transport seam: how a host binds and connects.
pub trait Network: Send + Sync + 'static {
    /// Binds a listener on `addr` ("0.0.0.0:6123" or "127.0.0.1:0").
    fn bind(&self, addr: String) -> BoxFuture<'static, io::Result<(Box<dyn Listener>, String)>>;
    /// Connects to `addr` ("jobmanager:6123" in the simulator, "127.0.0.1:6123" for real).
    fn connect(&self, addr: String) -> BoxFuture<'static, io::Result<BoxStream>>;
    /// What this host's handshakes prove and check: the cluster's secret
    /// (or none, `--insecure`) and where nonces come from.
    fn auth(&self) -> &auth::Auth;
}

/// A shared handle to the network of a host.
pub type NetworkRef = Arc<dyn Network>;

/// The real network: `tokio::net` TCP, with this process's [`auth::Auth`]
/// and, when asked, TLS around every stream ([`tls`]).
#[derive(Debug, Clone)]
pub struct TcpNetwork {
    auth: auth::Auth,
    tls: Option<Arc<tls::Tls>>,
}

impl TcpNetwork {
    /// TCP whose handshakes use `auth`.
    pub fn new(auth: auth::Auth) -> TcpNetwork {
        TcpNetwork { auth, tls: None }
    }

    /// The same, with every stream inside TLS.
    pub fn with_tls(mut self, tls: tls::Tls) -> TcpNetwork {
        self.tls = Some(Arc::new(tls));
        self
    }

    /// TCP without authentication (`--insecure`; in-process tests).
    pub fn insecure() -> TcpNetwork {
        TcpNetwork::new(auth::Auth::insecure())
    }
}

struct TcpListenerBox(tokio::net::TcpListener, Option<Arc<tls::Tls>>);

impl Listener for TcpListenerBox {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(BoxStream, String)>> {
        Box::pin(async move {
            let (s, addr) = self.0.accept().await?;
            s.set_nodelay(true)?;
            let s = Box::new(s) as BoxStream;
            let s = match &self.1 {
                Some(tls) => Box::new(tls.accept(s)?) as BoxStream,
                None => s,
            };
            Ok((s, addr.to_string()))
        })
    }
}

impl Network for TcpNetwork {
    fn bind(&self, addr: String) -> BoxFuture<'static, io::Result<(Box<dyn Listener>, String)>> {
        let tls = self.tls.clone();
        Box::pin(async move {
            if let Some(t) = &tls
                && !t.accepts()
            {
                return Err(io::Error::other(format!(
                    "cannot serve TLS on {addr} without a certificate: pass --tls-cert and --tls-key"
                )));
            }
            let l = tokio::net::TcpListener::bind(&addr).await?;
            let local = l.local_addr()?.to_string();
            Ok((Box::new(TcpListenerBox(l, tls)) as Box<dyn Listener>, local))
        })
    }

    fn connect(&self, addr: String) -> BoxFuture<'static, io::Result<BoxStream>> {
        let tls = self.tls.clone();
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect(&addr).await?;
            s.set_nodelay(true)?;
            let s = Box::new(s) as BoxStream;
            match tls {
                Some(t) => Ok(Box::new(t.connect(&addr, s).await?) as BoxStream),
                None => Ok(s),
            }
        })
    }

    fn auth(&self) -> &auth::Auth {
        &self.auth
    }
}
