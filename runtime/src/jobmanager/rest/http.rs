//! The HTTP side of a REST call: handing a request to the event loop and
//! its reply back as HTTP (Flink's `AbstractRestHandler` with its
//! `HandlerRequest` and the JSON it writes), and reading queries and bodies.
//!
//! In: a [`RestRequest`], a raw query or body. Out: an HTTP [`Response`]
//! with Flink's content type; errors as `{"errors": [...]}`.

use super::server::{Leadership, RestState};
use super::{RestReply, RestRequest};
use crate::jobmanager::inbox::Inbound;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use tokio::sync::oneshot;

/// Hands a request to the event loop and turns its reply into HTTP.
pub async fn ask(state: &RestState, req: RestRequest) -> Response {
    let leadership = state.leadership.borrow().clone();
    match leadership {
        Leadership::Leader(tx) => {
            let (reply, answer) = oneshot::channel();
            if tx.send(Inbound::Rest(req, reply)).is_err() {
                return json(RestReply::error(503, "the JobManager is stopping"));
            }
            match answer.await {
                Ok(r) => json(r),
                Err(_) => json(RestReply::error(503, "the JobManager is stopping")),
            }
        }
        Leadership::Standby { leader } => json(RestReply::error(
            503,
            match leader {
                Some(addr) => format!(
                    "This JobManager is not the leader. The leader's RPC address is {addr}."
                ),
                None => "This JobManager is not the leader, and no leader is known yet.".into(),
            },
        )),
        Leadership::None => json(RestReply::error(
            503,
            "The JobManager is not serving yet (no leader has been elected).",
        )),
    }
}

/// A [`RestReply`] as an HTTP answer, with Flink's content type.
pub fn json(reply: RestReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&reply.body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// `?a=1&b=x,y` as a map (percent-decoded; the last value of a repeated key wins).
pub fn query_map(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(percent_decode(k), percent_decode(v));
    }
    map
}

/// Decodes `%2C` and `+` (what browsers and curl send in queries); a
/// broken escape stays as it is.
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The comma-separated list under `key` (`get=a,b,c`).
pub fn list(q: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    q.get(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The body, or the error answer for one that is too big or unreadable.
pub fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Vec<u8>, RestReply> {
    match body {
        Ok(b) => Ok(b.to_vec()),
        Err(rejection) => {
            let status = rejection.status();
            Err(RestReply::error(
                status.as_u16(),
                format!("Bad request body: {}", rejection.body_text()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded_and_split() {
        let q = query_map(Some("get=numRecordsIn%2CnumRecordsOut&agg=max,sum&x"));
        assert_eq!(list(&q, "get"), ["numRecordsIn", "numRecordsOut"]);
        assert_eq!(list(&q, "agg"), ["max", "sum"]);
        assert_eq!(q.get("x").map(String::as_str), Some(""));
        assert!(list(&q, "missing").is_empty());
        // A broken escape is kept as text, never a panic.
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
        assert_eq!(percent_decode("a+b%21"), "a b!");
    }
}
