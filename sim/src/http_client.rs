//! An HTTP/1.1 client for the REST API, over any byte stream: turmoil's
//! `TcpStream` from a simulated client host, or tokio's on real TCP (hyper's
//! client connection with `hyper_util`'s tokio adapter).
//!
//! In: a connected stream, a path. Out: the status and the body.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be built (a malformed path).
    #[error("bad request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The connection or the exchange failed.
    #[error("HTTP: {0}")]
    Hyper(#[from] hyper::Error),
}

/// `GET path` on a connected stream (one request per connection); `host`
/// is the `Host` header.
pub async fn get<S>(io: S, host: &str, path: &str) -> Result<(u16, Vec<u8>), HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, host)
        .body(Empty::<Bytes>::new())?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes().to_vec();
    driver.abort();
    Ok((status, body))
}
