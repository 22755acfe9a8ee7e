//! Frames and connections: length-delimited, postcard-encoded messages.
//!
//! A frame is a 4-byte big-endian length and that many bytes of a postcard
//! message. Frames larger than [`MAX_FRAME`] are refused, so a corrupt or
//! hostile peer cannot make a host allocate without bound.
//!
//! Every connection starts with a handshake (Flink's RPC layer and its
//! Netty data plane check their peers too, with TLS when asked): the
//! accepting side sends its [`Hello`] with a fresh nonce; the connecting
//! side answers with its own [`Hello`] and, in the same write, a [`Proof`]
//! (an HMAC over both hellos, see [`super::auth`]); the acceptor checks it
//! before it reads anything else, and drops a peer that takes longer than
//! the handshake timeout. The acceptor's own proof goes out in front of its
//! first frame, and the connector checks it before its first frame is read.
//! So the handshake adds no round trip and no extra segment: a simulated
//! cluster's timing is the same with it as without. A peer speaking another
//! [`PROTOCOL_VERSION`] is refused with a clear error.

use super::BoxStream;
use super::auth::Auth;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io;
use tokio::io::{ReadHalf, WriteHalf};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

/// The wire protocol's version; bumped on any incompatible message change.
pub const PROTOCOL_VERSION: u32 = 2;

/// Largest frame accepted (16 MiB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// Largest frame accepted from a peer that has not proved itself yet (a
/// hello or a proof): an unauthenticated peer cannot make a host allocate
/// more than this.
pub const MAX_HANDSHAKE_FRAME: usize = 4 * 1024;

/// The first message on every connection, in both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Must equal [`PROTOCOL_VERSION`].
    pub version: u32,
    /// What the sender is ("taskmanager", "client", "jobmanager", "data").
    pub role: String,
    /// The sender's host or resource id, for logs and events.
    pub from: String,
    /// A fresh random nonce (empty when the sender runs `--insecure`).
    pub nonce: Vec<u8>,
    /// Whether the sender wants the secret's proof (false: `--insecure`).
    pub authenticated: bool,
}

/// The frame after a hello: the sender's proof that it knows the secret,
/// or the acceptor's refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Proof {
    /// HMAC-SHA256 of the side's label and the handshake's transcript.
    Mac(Vec<u8>),
    /// The acceptor refused the connector, and why.
    Refused(String),
}

/// The label of the connecting side's proof.
const CONNECTOR: &[u8] = b"mini-flink/2 connector";
/// The label of the accepting side's proof (a different label, so a proof
/// cannot be reflected back to its maker).
const ACCEPTOR: &[u8] = b"mini-flink/2 acceptor";

/// What both proofs are computed over: the acceptor's hello, then the
/// connector's, each length-prefixed (so both nonces, roles and names).
fn transcript(acceptor: &Hello, connector: &Hello) -> Vec<u8> {
    let mut t = Vec::new();
    for h in [acceptor, connector] {
        let b = encode(h);
        t.extend_from_slice(&(b.len() as u32).to_be_bytes());
        t.extend_from_slice(&b);
    }
    t
}

/// Errors of the wire.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection failed or closed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that are not a valid message.
    #[error("malformed frame ({len} bytes): {reason}")]
    Malformed {
        /// Frame length.
        len: usize,
        /// Decoder's complaint.
        reason: String,
    },
    /// The byte stream is not framed as expected (e.g. a length over
    /// [`MAX_FRAME`]): the peer is not a mini-flink process, or is broken.
    #[error("invalid frame: {0} (is the peer a mini-flink process?)")]
    BadFrame(String),
    /// The peer speaks another protocol version.
    #[error("protocol version mismatch: we speak {ours}, {peer} speaks {theirs}")]
    Version {
        /// Ours.
        ours: u32,
        /// Theirs.
        theirs: u32,
        /// Who.
        peer: String,
    },
    /// The peer closed the connection.
    #[error("connection closed by peer")]
    Closed,
    /// The peer refused our proof: our secret is not the cluster's.
    #[error(
        "authentication failed: the secret in {secret} does not match the cluster's ({peer} refused the handshake: {reason})"
    )]
    Refused {
        /// Where our secret came from.
        secret: String,
        /// Who refused.
        peer: String,
        /// What it said.
        reason: String,
    },
    /// The peer's proof is wrong: it does not know the cluster's secret.
    #[error("authentication failed: {peer} does not know the secret in {secret}")]
    BadProof {
        /// Where our secret came from.
        secret: String,
        /// Who failed.
        peer: String,
    },
    /// One side runs `--insecure`, the other wants the secret.
    #[error("authentication mismatch: {0}")]
    Mode(String),
    /// The peer did not finish the handshake in time.
    #[error("the peer did not finish the handshake within {0} ms")]
    Timeout(u128),
}

impl WireError {
    /// Whether the handshake failed for want of the secret (retrying with
    /// the same secret cannot help).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            WireError::Refused { .. } | WireError::BadProof { .. } | WireError::Mode(_)
        )
    }
}

fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

/// Encodes a message into a frame body.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    postcard::to_allocvec(msg).expect("serializing into a Vec cannot fail")
}

/// Decodes a frame body.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    postcard::from_bytes(bytes).map_err(|e| WireError::Malformed {
        len: bytes.len(),
        reason: e.to_string(),
    })
}

/// The peer's proof still to check before the first frame is read.
struct Expected {
    auth: Auth,
    transcript: Vec<u8>,
    peer: String,
}

/// The receiving half of a connection.
pub struct FrameReader {
    inner: FramedRead<ReadHalf<BoxStream>, LengthDelimitedCodec>,
    /// On the connecting side: the acceptor's proof, checked on the first `recv`.
    expect: Option<Expected>,
}

/// The sending half of a connection.
pub struct FrameWriter {
    inner: FramedWrite<WriteHalf<BoxStream>, LengthDelimitedCodec>,
    /// On the accepting side: its proof, sent in front of the first frame.
    pending: Option<Vec<u8>>,
}

impl FrameReader {
    /// The next message, or `Closed` at end of stream.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<T, WireError> {
        if let Some(e) = self.expect.take() {
            match self.next_msg::<Proof>().await? {
                Proof::Mac(mac) => {
                    let ok = e
                        .auth
                        .secret()
                        .is_some_and(|s| s.verify(ACCEPTOR, &e.transcript, &mac));
                    if !ok {
                        return Err(bad_proof(&e.auth, &e.peer));
                    }
                }
                Proof::Refused(reason) => {
                    return Err(WireError::Refused {
                        secret: source_of(&e.auth),
                        peer: e.peer,
                        reason,
                    });
                }
            }
        }
        self.next_msg().await
    }

    async fn next_msg<T: DeserializeOwned>(&mut self) -> Result<T, WireError> {
        match self.inner.next().await {
            None => Err(WireError::Closed),
            Some(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                Err(WireError::BadFrame(e.to_string()))
            }
            Some(Err(e)) => Err(WireError::Io(e)),
            Some(Ok(bytes)) => decode(&bytes),
        }
    }
}

impl FrameWriter {
    /// Sends one message and flushes.
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), WireError> {
        self.send_raw(encode(msg)).await
    }

    /// Sends a pre-encoded frame body and flushes (after this side's
    /// proof, in the same write, if it is still pending).
    pub async fn send_raw(&mut self, body: Vec<u8>) -> Result<(), WireError> {
        self.feed_bytes(bytes::Bytes::from(body)).await?;
        SinkExt::<bytes::Bytes>::flush(&mut self.inner).await?;
        Ok(())
    }

    /// Queues one message without flushing: the data path writes every
    /// message waiting for a connection, then [`FrameWriter::flush`]es once,
    /// so they leave in one write (one segment) instead of one each.
    pub async fn feed<T: Serialize>(&mut self, msg: &T) -> Result<(), WireError> {
        self.feed_bytes(bytes::Bytes::from(encode(msg))).await
    }

    async fn feed_bytes(&mut self, body: bytes::Bytes) -> Result<(), WireError> {
        if let Some(proof) = self.pending.take() {
            self.inner.feed(bytes::Bytes::from(proof)).await?;
        }
        self.inner.feed(body).await?;
        Ok(())
    }

    /// Writes out everything fed so far.
    pub async fn flush(&mut self) -> Result<(), WireError> {
        SinkExt::<bytes::Bytes>::flush(&mut self.inner).await?;
        Ok(())
    }
}

fn source_of(auth: &Auth) -> String {
    auth.secret()
        .map_or_else(|| "(none: --insecure)".into(), |s| s.source().to_string())
}

fn bad_proof(auth: &Auth, peer: &str) -> WireError {
    WireError::BadProof {
        secret: source_of(auth),
        peer: peer.to_string(),
    }
}

/// The frame reader and writer of a stream, before any [`Hello`]: what a
/// connection's first bytes meet (the fuzz tests feed it any bytes).
pub fn framed(stream: BoxStream) -> (FrameReader, FrameWriter) {
    split(stream)
}

/// The peer as a message names it: "the taskmanager tm-1", or its role.
fn peer_name(h: &Hello) -> String {
    if h.from.is_empty() {
        h.role.clone()
    } else {
        format!("the {} {}", h.role, h.from)
    }
}

fn split(stream: BoxStream) -> (FrameReader, FrameWriter) {
    let (r, w) = tokio::io::split(stream);
    (
        FrameReader {
            inner: FramedRead::new(r, codec()),
            expect: None,
        },
        FrameWriter {
            inner: FramedWrite::new(w, codec()),
            pending: None,
        },
    )
}

fn hello(auth: &Auth, role: &str, from: &str) -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        role: role.to_string(),
        from: from.to_string(),
        nonce: auth.nonce(),
        authenticated: auth.secret().is_some(),
    }
}

fn check_version(peer: &Hello) -> Result<(), WireError> {
    if peer.version != PROTOCOL_VERSION {
        return Err(WireError::Version {
            ours: PROTOCOL_VERSION,
            theirs: peer.version,
            peer: peer.from.clone(),
        });
    }
    Ok(())
}

/// The connecting side's handshake on a fresh `stream`: reads the
/// acceptor's hello, answers with its own and its proof in one write.
/// Returns the halves and the acceptor's hello; the acceptor's proof is
/// checked by the reader's first `recv` (a refusal then comes out as
/// [`WireError::Refused`]).
pub async fn connect_handshake(
    stream: BoxStream,
    auth: &Auth,
    role: &str,
    from: &str,
) -> Result<(FrameReader, FrameWriter, Hello), WireError> {
    let (mut reader, mut writer) = split(stream);
    let theirs: Hello = reader.next_msg().await?;
    check_version(&theirs)?;
    let peer = peer_name(&theirs);
    let ours = hello(auth, role, from);
    match (auth.secret(), theirs.authenticated) {
        (Some(secret), true) => {
            let t = transcript(&theirs, &ours);
            let proof = Proof::Mac(secret.proof(CONNECTOR, &t));
            writer.inner.feed(bytes::Bytes::from(encode(&ours))).await?;
            writer.send(&proof).await?;
            reader.expect = Some(Expected {
                auth: auth.clone(),
                transcript: t,
                peer,
            });
        }
        (None, false) => writer.send(&ours).await?,
        (Some(_), false) => {
            return Err(WireError::Mode(format!(
                "{peer} runs --insecure, and this process wants the cluster's secret; \
                 start both with the same secret, or both with --insecure"
            )));
        }
        (None, true) => {
            // Said anyway, so that the acceptor's log names the cause.
            let _ = writer.send(&ours).await;
            return Err(WireError::Mode(format!(
                "{peer} wants the cluster's secret, and this process runs --insecure; \
                 drop --insecure and pass --secret-file"
            )));
        }
    }
    Ok((reader, writer, theirs))
}

/// The accepting side's handshake on an accepted `stream`: sends its
/// hello, reads the connector's hello and proof, checks them, all within
/// the handshake timeout. A peer that fails is told so and gets an error
/// here (for the server's log line). Returns the halves and the
/// connector's hello; this side's proof goes out with its first frame.
pub async fn accept_handshake(
    stream: BoxStream,
    auth: &Auth,
    role: &str,
    from: &str,
) -> Result<(FrameReader, FrameWriter, Hello), WireError> {
    let limit = auth.handshake_timeout();
    match tokio::time::timeout(limit, accept_inner(stream, auth, role, from)).await {
        Ok(r) => r,
        Err(_) => Err(WireError::Timeout(limit.as_millis())),
    }
}

async fn accept_inner(
    stream: BoxStream,
    auth: &Auth,
    role: &str,
    from: &str,
) -> Result<(FrameReader, FrameWriter, Hello), WireError> {
    let (mut reader, mut writer) = split(stream);
    // Until the peer has proved itself, its frames are small.
    reader
        .inner
        .decoder_mut()
        .set_max_frame_length(MAX_HANDSHAKE_FRAME);
    let ours = hello(auth, role, from);
    writer.send(&ours).await?;
    let theirs: Hello = reader.next_msg().await?;
    check_version(&theirs)?;
    let peer = peer_name(&theirs);
    let Some(secret) = auth.secret() else {
        // The connector saw our hello and stops itself if it wants a secret.
        reader.inner.decoder_mut().set_max_frame_length(MAX_FRAME);
        return Ok((reader, writer, theirs));
    };
    if !theirs.authenticated {
        refuse(reader, writer, "this cluster requires its secret").await;
        return Err(WireError::Mode(format!(
            "{peer} runs --insecure; this cluster requires its secret"
        )));
    }
    let t = transcript(&ours, &theirs);
    match reader.next_msg::<Proof>().await? {
        Proof::Mac(mac) if secret.verify(CONNECTOR, &t, &mac) => {}
        _ => {
            refuse(reader, writer, "wrong proof of the cluster secret").await;
            return Err(bad_proof(auth, &peer));
        }
    }
    writer.pending = Some(encode(&Proof::Mac(secret.proof(ACCEPTOR, &t))));
    reader.inner.decoder_mut().set_max_frame_length(MAX_FRAME);
    Ok((reader, writer, theirs))
}

/// Tells a connector it is refused, then reads (and drops) what it sent
/// for a moment before closing, so that closing with unread data does not
/// reset the connection before the refusal is read.
async fn refuse(mut reader: FrameReader, mut writer: FrameWriter, why: &str) {
    if writer.send(&Proof::Refused(why.into())).await.is_err() {
        return;
    }
    let drain = async { while reader.inner.next().await.is_some() {} };
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::auth::Secret;

    fn auth(key: &[u8]) -> Auth {
        Auth::with_secret(Secret::from_bytes(key, "test-secret"))
    }

    /// Runs both sides over an in-memory pipe: the acceptor's result, and
    /// what the connector's first `recv` says after it sent one frame.
    async fn pair(
        acceptor: Auth,
        connector: Auth,
    ) -> (Result<u32, WireError>, Result<u32, WireError>) {
        let (a, c) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(async move {
            let (mut r, mut w, _) = accept_handshake(Box::new(a), &acceptor, "jm", "jm").await?;
            let n: u32 = r.recv().await?;
            w.send(&(n + 1)).await?;
            Ok::<u32, WireError>(n)
        });
        let client = async {
            let (mut r, mut w, _) =
                connect_handshake(Box::new(c), &connector, "client", "c").await?;
            w.send(&41u32).await?;
            r.recv::<u32>().await
        };
        let c = client.await;
        (server.await.expect("server task"), c)
    }

    /// The same secret: both sides pass and the frames flow.
    #[tokio::test]
    async fn same_secret_talks() {
        let (s, c) = pair(auth(b"0123456789abcdef"), auth(b"0123456789abcdef")).await;
        assert_eq!(s.expect("server"), 41);
        assert_eq!(c.expect("client"), 42);
    }

    /// Another secret: the acceptor reads no frame and refuses; the
    /// connector is told, naming its secret's file.
    #[tokio::test]
    async fn wrong_secret_is_refused_both_sides() {
        let (s, c) = pair(auth(b"0123456789abcdef"), auth(b"fedcba9876543210")).await;
        assert!(matches!(s, Err(WireError::BadProof { .. })), "{s:?}");
        let e = c.expect_err("refused").to_string();
        assert!(
            e.contains("authentication failed: the secret in test-secret does not match"),
            "{e}"
        );
    }

    /// `--insecure` on one side only: a clear mismatch on both.
    #[tokio::test]
    async fn insecure_meets_secure() {
        let (s, c) = pair(auth(b"0123456789abcdef"), Auth::insecure()).await;
        assert!(s.is_err_and_auth(), "{s:?}");
        assert!(c.is_err_and_auth(), "{c:?}");
        let (s, c) = pair(Auth::insecure(), Auth::insecure()).await;
        assert_eq!((s.expect("server"), c.expect("client")), (41, 42));
    }

    /// A peer that connects and says nothing is dropped after the timeout.
    #[tokio::test]
    async fn silent_peer_times_out() {
        let (a, _c) = tokio::io::duplex(1 << 16);
        let server =
            auth(b"0123456789abcdef").with_handshake_timeout(std::time::Duration::from_millis(200));
        let r = accept_handshake(Box::new(a), &server, "jm", "jm").await;
        assert!(matches!(r, Err(WireError::Timeout(200))), "{:?}", r.err());
    }

    trait AuthErr {
        fn is_err_and_auth(&self) -> bool;
    }
    impl<T> AuthErr for Result<T, WireError> {
        fn is_err_and_auth(&self) -> bool {
            self.as_ref().err().is_some_and(WireError::is_auth)
        }
    }
}
