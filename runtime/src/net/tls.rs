//! TLS for a cluster that spans machines (Flink's `security.ssl.internal.*`
//! and `security.ssl.rest.*`), with rustls.
//!
//! TLS lives in the transport seam: [`super::TcpNetwork`] with a [`Tls`]
//! wraps every stream it connects or accepts, RPC, data and REST alike, so
//! no component changes. The server side proves itself with its
//! certificate (`--tls-cert`, `--tls-key`), signed by the CA every process
//! trusts (`--tls-ca`); the connecting side is then authenticated by the
//! cluster secret's handshake, which runs inside TLS. A peer that does not
//! trust the CA (or presents no TLS at all) is refused in the TLS
//! handshake.
//!
//! An accepted stream does its TLS handshake lazily, on its first read or
//! write, inside the connection's own task and under the secret's
//! handshake timeout: a silent peer never blocks the accept loop.
//!
//! In: PEM files. Out: a [`Tls`] that wraps byte streams.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        /// "--tls-cert", …
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file holds no certificate or key in PEM.
    #[error("{what} {path} holds no {wanted} in PEM")]
    Empty {
        /// "--tls-cert", …
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// "certificate", "private key".
        wanted: &'static str,
    },
    /// rustls refused the configuration (a key that does not fit the certificate, …).
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// A CA certificate rustls cannot use.
    #[error("--tls-ca {path}: {reason}")]
    BadCa {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A process's TLS: how it connects (trusting the CA) and, if it has a
/// certificate, how it accepts.
#[derive(Clone)]
pub struct Tls {
    connector: tokio_rustls::TlsConnector,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("accepts", &self.acceptor.is_some())
            .finish()
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(what, path)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|source| TlsError::Read {
            what,
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: path.to_path_buf(),
            wanted: "certificate",
        });
    }
    Ok(certs)
}

/// TLS for an HTTP client (ureq) of an https REST API: trusts the CA
/// certificate(s) in the PEM file `ca`, with rustls on ring, as the
/// cluster's own connections do. For `mini-flink plan --from-rest` and the
/// TUI's `--attach`.
pub fn http_client_tls(ca: &Path) -> Result<ureq::tls::TlsConfig, TlsError> {
    let roots: Vec<ureq::tls::Certificate<'static>> = certs("--tls-ca", ca)?
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    Ok(ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(provider())
        .build())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Tls {
    /// TLS trusting the CA in `ca`; with `cert_key` (certificate chain
    /// and private key files) it also accepts.
    pub fn from_files(ca: &Path, cert_key: Option<(&Path, &Path)>) -> Result<Tls, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        for c in certs("--tls-ca", ca)? {
            roots.add(c).map_err(|e| TlsError::BadCa {
                path: ca.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let acceptor = match cert_key {
            None => None,
            Some((cert, key)) => {
                let chain = certs("--tls-cert", cert)?;
                let pem = read("--tls-key", key)?;
                let key_der: PrivateKeyDer<'static> =
                    rustls_pemfile::private_key(&mut pem.as_slice())
                        .map_err(|source| TlsError::Read {
                            what: "--tls-key",
                            path: key.to_path_buf(),
                            source,
                        })?
                        .ok_or_else(|| TlsError::Empty {
                            what: "--tls-key",
                            path: key.to_path_buf(),
                            wanted: "private key",
                        })?;
                let server = rustls::ServerConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()?
                    .with_no_client_auth()
                    .with_single_cert(chain, key_der)?;
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(server)))
            }
        };
        Ok(Tls {
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
            acceptor,
        })
    }

    /// Whether this process can accept (it has a certificate).
    pub fn accepts(&self) -> bool {
        self.acceptor.is_some()
    }

    /// The client side of TLS on `stream`, connected to `addr`
    /// ("host:port"; the host must be in the server's certificate).
    pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        addr: &str,
        stream: S,
    ) -> io::Result<tokio_rustls::client::TlsStream<S>> {
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string()).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("TLS: {host}: {e}"))
        })?;
        self.connector
            .connect(name, stream)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake with {addr} failed: {e}")))
    }

    /// The server side of TLS on an accepted `stream`, done on its first
    /// read or write (see the module's map).
    pub fn accept<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
    ) -> io::Result<LazyAccept<S>> {
        let acceptor = self.acceptor.clone().ok_or_else(|| {
            io::Error::other("this process has no TLS certificate (--tls-cert, --tls-key)")
        })?;
        Ok(LazyAccept::Handshaking(Box::pin(acceptor.accept(stream))))
    }
}

/// An accepted stream whose TLS handshake runs on first use.
pub enum LazyAccept<S> {
    /// The handshake is under way.
    Handshaking(Pin<Box<tokio_rustls::Accept<S>>>),
    /// TLS is up.
    Ready(Box<tokio_rustls::server::TlsStream<S>>),
    /// The handshake failed.
    Failed,
}

impl<S: AsyncRead + AsyncWrite + Unpin> LazyAccept<S> {
    /// Drives the handshake; `Ready(Ok)` once the TLS stream is there.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self {
                LazyAccept::Ready(_) => return Poll::Ready(Ok(())),
                LazyAccept::Failed => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the TLS handshake failed",
                    )));
                }
                LazyAccept::Handshaking(f) => match f.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(s)) => *self = LazyAccept::Ready(Box::new(s)),
                    Poll::Ready(Err(e)) => {
                        *self = LazyAccept::Failed;
                        return Poll::Ready(Err(io::Error::new(
                            e.kind(),
                            format!("TLS handshake failed: {e}"),
                        )));
                    }
                },
            }
        }
    }
}

macro_rules! ready_stream {
    ($self:ident, $cx:ident) => {{
        match $self.poll_ready($cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => match &mut *$self {
                LazyAccept::Ready(s) => Pin::new(&mut **s),
                _ => unreachable!("poll_ready returned Ok without a stream"),
            },
        }
    }};
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for LazyAccept<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready_stream!(this, cx).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for LazyAccept<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready_stream!(this, cx).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready_stream!(this, cx).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let LazyAccept::Handshaking(_) | LazyAccept::Failed = this {
            return Poll::Ready(Ok(()));
        }
        ready_stream!(this, cx).poll_shutdown(cx)
    }
}
