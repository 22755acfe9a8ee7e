//! A fixture JobManager for the attached TUI: an HTTP server (hyper) that
//! answers with a real Apache Flink 2.3.0's recorded answers from
//! `shared/flink-reference/rest-samples/`, read at test time, one file per
//! URL path; anything else gets Flink's 404 body. It remembers every
//! request, so a test can check what the TUI sent.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where the samples are: `MINI_FLINK_REST_SAMPLES`, or the shared
/// reference next to the workspace (or next to the folder of its
/// worktrees); `None` (the test says why and
/// skips) when neither exists.
pub fn samples_dir() -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [
        std::env::var_os("MINI_FLINK_REST_SAMPLES").map(PathBuf::from),
        Some(workspace.join("../shared/flink-reference/rest-samples")),
        // A git worktree of the workspace lives one folder deeper.
        Some(workspace.join("../../shared/flink-reference/rest-samples")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("config.json").exists());
    if found.is_none() {
        eprintln!(
            "skipped: no Flink REST samples (../shared/flink-reference/rest-samples next to the workspace, or MINI_FLINK_REST_SAMPLES)"
        );
    }
    found
}

/// One answer: status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

/// A sample file as an answer (some were captured as
/// `{"status": 202, "body": …}`: those give their status and body).
pub fn sample(dir: &Path, name: &str) -> Answer {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match &v {
        Value::Object(o) if o.len() == 2 && o.contains_key("status") && o.contains_key("body") => {
            Answer {
                status: o["status"].as_u64().unwrap_or(200) as u16,
                body: o["body"].to_string().into_bytes(),
            }
        }
        _ => Answer {
            status: 200,
            body: text.into_bytes(),
        },
    }
}

/// What the server answers: `(method, path)` → answer.
pub type Routes = BTreeMap<(String, String), Answer>;

/// Adds `GET path` → the sample `name`.
pub fn get(routes: &mut Routes, dir: &Path, path: &str, name: &str) {
    routes.insert(("GET".into(), path.into()), sample(dir, name));
}

/// Where requests are written down: `METHOD /path?query`, and the
/// `Authorization` header of each.
type RequestLog = (Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<Option<String>>>>);

/// A running fixture server.
pub struct Fixture {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Every request so far: `METHOD /path?query`.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// The `Authorization` header of each request (in the same order).
    pub auth: Arc<Mutex<Vec<Option<String>>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fixture {
    /// Serves `routes` on a free port of 127.0.0.1; unknown paths get
    /// `not_found` with status 404.
    pub fn start(routes: Routes, not_found: Answer) -> Fixture {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let url = format!(
            "http://{}",
            std_listener.local_addr().expect("local address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let auth = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let log = (requests.clone(), auth.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(serve(std_listener, routes, not_found, log, rx));
            // Drops every connection still open: the server is gone.
            rt.shutdown_background();
        });
        Fixture {
            url,
            requests,
            auth,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// Stops answering: the port closes, open connections drop.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The requests so far that start with `prefix`.
    pub fn requested(&self, prefix: &str) -> Vec<String> {
        self.requests
            .lock()
            .expect("request log")
            .iter()
            .filter(|r| r.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    listener: std::net::TcpListener,
    routes: Routes,
    not_found: Answer,
    log: RequestLog,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    let routes = Arc::new(routes);
    let not_found = Arc::new(not_found);
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(_) => continue,
            },
        };
        let (routes, not_found, log) = (routes.clone(), not_found.clone(), log.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let (routes, not_found, log) = (routes.clone(), not_found.clone(), log.clone());
                async move {
                    let method = req.method().to_string();
                    let path = req.uri().path().to_string();
                    let full = req
                        .uri()
                        .path_and_query()
                        .map_or(path.clone(), |p| p.to_string());
                    let authorization = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let _ = req.into_body().collect().await;
                    // One lock order (requests, then auth) keeps the two lists in step.
                    let mut requests = log.0.lock().expect("request log");
                    requests.push(format!("{method} {full}"));
                    log.1.lock().expect("auth log").push(authorization);
                    drop(requests);
                    let a = routes
                        .get(&(method, path))
                        .cloned()
                        .unwrap_or_else(|| Answer {
                            status: 404,
                            body: not_found.body.clone(),
                        });
                    let resp = Response::builder()
                        .status(a.status)
                        .header("content-type", "application/json; charset=UTF-8")
                        .body(Full::new(Bytes::from(a.body)))
                        .expect("a response");
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
