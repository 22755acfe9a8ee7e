//! The web UI's files and the live event stream (Flink's
//! `flink-runtime-web`: the dashboard and its static file handler).
//!
//! The dashboard is three files compiled into the binary with
//! `include_str!` (a classroom cluster may be offline: no CDN, nothing
//! fetched from the internet). The page reads the same REST API as any
//! other tool, refreshing at `/config`'s `refresh-interval`.
//!
//! `GET /events` streams the JobManager's typed events as server-sent
//! events, one JSON object per event (the trace's format), optionally
//! only those of one job (`?job=<jid>`): the stream DESIGN.md promises
//! for real clusters.
//!
//! `POST /jars/upload` takes the multipart field `jarfile` as Flink's does;
//! for mini-flink the file is a job or application TOML.
//!
//! In: HTTP requests; the JobManager's event broadcast. Out: files, event
//! streams, uploads handed to the loop.

use super::http::{ask, json};
use super::server::RestState;
use super::{RestReply, RestRequest};
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;

/// The dashboard's files: (name, content type, contents).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("web/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("web/style.css"),
    ),
];

/// `GET /`: the dashboard.
pub async fn index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("web/index.html"),
    )
        .into_response()
}

/// `GET /web/:file`: one of the dashboard's files.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => ([(header::CONTENT_TYPE, *kind)], *body).into_response(),
        None => json(RestReply::error(404, format!("Not found: /web/{file}"))),
    }
}

/// `POST /jars/upload` with the multipart field `jarfile`.
pub async fn upload_jar(
    State(s): State<RestState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => {
            return json(RestReply::error(
                e.status().as_u16(),
                format!(
                    "Expected a multipart upload with a `jarfile` field: {}",
                    e.body_text()
                ),
            ));
        }
    };
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                if field.name() != Some("jarfile") {
                    continue;
                }
                let filename = field.file_name().unwrap_or("job.toml").to_string();
                return match field.bytes().await {
                    Ok(contents) => {
                        let contents = contents.to_vec();
                        ask(&s, RestRequest::UploadJar { filename, contents }).await
                    }
                    Err(e) => json(RestReply::error(
                        e.status().as_u16(),
                        format!("Could not read the uploaded file: {}", e.body_text()),
                    )),
                };
            }
            Ok(None) => {
                return json(RestReply::error(
                    400,
                    "The upload has no `jarfile` field (send the job file as multipart field `jarfile`).",
                ));
            }
            Err(e) => {
                return json(RestReply::error(
                    e.status().as_u16(),
                    format!("Broken multipart upload: {}", e.body_text()),
                ));
            }
        }
    }
}

/// `GET /events[?job=<jid>]`: the JobManager's events as they happen.
pub async fn events(State(s): State<RestState>, RawQuery(q): RawQuery) -> Response {
    let job = super::http::query_map(q.as_deref()).remove("job");
    let rx = s.events.subscribe();
    let stream = futures::stream::unfold((rx, job), |(mut rx, job)| async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let Ok(value) = serde_json::to_value(&event) else {
                        continue;
                    };
                    if let Some(j) = &job
                        && value.get("job").and_then(|v| v.as_str()) != Some(j.as_str())
                    {
                        continue;
                    }
                    let name = value
                        .get("event")
                        .and_then(|v| v.as_str())
                        .unwrap_or("event")
                        .to_string();
                    let sse = SseEvent::default().event(name).data(value.to_string());
                    return Some((Ok::<_, Infallible>(sse), (rx, job)));
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let sse = SseEvent::default()
                        .comment(format!("{n} events were dropped: this reader was too slow"));
                    return Some((Ok(sse), (rx, job)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
