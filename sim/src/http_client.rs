//! An HTTP/1.1 client for the REST API, over any byte stream: turmoil's
//! `TcpStream` from a simulated client host, or tokio's on real TCP (hyper's
//! client connection with `hyper_util`'s tokio adapter).
//!
//! In: a connected stream, a method, a path and a body. Out: the status
//! and the body.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be built (a malformed path or method).
    #[error("bad request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The connection or the exchange failed.
    #[error("HTTP: {0}")]
    Hyper(#[from] hyper::Error),
}

/// `GET path` on a connected stream (one request per connection); `host`
/// is the `Host` header.
pub async fn get<S>(
    io: S,
    host: &str,
    token: Option<&str>,
    path: &str,
) -> Result<(u16, Vec<u8>), HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    request(io, host, token, hyper::Method::GET, path, None).await
}

/// `method path` on a connected stream (one request per connection), with
/// a JSON `body` if there is one (sent as `application/json`); `host` is
/// the `Host` header, `token` (if any) goes as `Authorization: Bearer`.
pub async fn request<S>(
    io: S,
    host: &str,
    token: Option<&str>,
    method: hyper::Method,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(u16, Vec<u8>), HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, host);
    if body.is_some() {
        req = req.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    if let Some(t) = token {
        req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req.body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes().to_vec();
    driver.abort();
    Ok((status, body))
}
