//! Frames and connections: length-delimited, postcard-encoded messages.
//!
//! A frame is a 4-byte big-endian length and that many bytes of a postcard
//! message. Frames larger than [`MAX_FRAME`] are refused, so a corrupt or
//! hostile peer cannot make a host allocate without bound. Every connection
//! starts with a [`Hello`] from each side carrying [`PROTOCOL_VERSION`]; a
//! peer speaking another version is refused with a clear error.

use super::BoxStream;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io;
use tokio::io::{ReadHalf, WriteHalf};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

/// The wire protocol's version; bumped on any incompatible message change.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame accepted (16 MiB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The first message on every connection, in both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Must equal [`PROTOCOL_VERSION`].
    pub version: u32,
    /// What the sender is ("taskmanager", "client", "jobmanager", "data").
    pub role: String,
    /// The sender's host or resource id, for logs and events.
    pub from: String,
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

/// The receiving half of a connection.
pub struct FrameReader {
    inner: FramedRead<ReadHalf<BoxStream>, LengthDelimitedCodec>,
}

/// The sending half of a connection.
pub struct FrameWriter {
    inner: FramedWrite<WriteHalf<BoxStream>, LengthDelimitedCodec>,
}

impl FrameReader {
    /// The next message, or `Closed` at end of stream.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<T, WireError> {
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
        self.inner.send(bytes::Bytes::from(encode(msg))).await?;
        Ok(())
    }

    /// Sends a pre-encoded frame body and flushes.
    pub async fn send_raw(&mut self, body: Vec<u8>) -> Result<(), WireError> {
        self.inner.send(bytes::Bytes::from(body)).await?;
        Ok(())
    }
}

/// Splits a stream into framed halves and exchanges [`Hello`]s.
/// Returns the halves and the peer's hello.
pub async fn handshake(
    stream: BoxStream,
    role: &str,
    from: &str,
) -> Result<(FrameReader, FrameWriter, Hello), WireError> {
    let (r, w) = tokio::io::split(stream);
    let mut reader = FrameReader {
        inner: FramedRead::new(r, codec()),
    };
    let mut writer = FrameWriter {
        inner: FramedWrite::new(w, codec()),
    };
    writer
        .send(&Hello {
            version: PROTOCOL_VERSION,
            role: role.to_string(),
            from: from.to_string(),
        })
        .await?;
    let hello: Hello = reader.recv().await?;
    if hello.version != PROTOCOL_VERSION {
        return Err(WireError::Version {
            ours: PROTOCOL_VERSION,
            theirs: hello.version,
            peer: hello.from,
        });
    }
    Ok((reader, writer, hello))
}

/// The frame reader and writer of a stream, before any [`Hello`]: what a
/// connection's first bytes meet (the fuzz tests feed it any bytes).
pub fn framed(stream: BoxStream) -> (FrameReader, FrameWriter) {
    let (r, w) = tokio::io::split(stream);
    (
        FrameReader {
            inner: FramedRead::new(r, codec()),
        },
        FrameWriter {
            inner: FramedWrite::new(w, codec()),
        },
    )
}
