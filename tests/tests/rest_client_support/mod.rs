//! An HTTP client for the REST tests over real processes: one request per
//! connection (hyper's client over a `tokio` TCP stream), the answer's
//! status, `Location` and body, and Flink's error shape checked.
//!
//! Shared by `rest_control.rs` and `rest_applications.rs` (each includes it
//! as a module, so not every test uses every helper).
#![allow(dead_code)]

use super::real_tcp_support::Cluster;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::time::{Duration, Instant};

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header.
    pub location: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    /// Checks the status and Flink's error shape: `{"errors": ["…", …]}`.
    pub fn assert_error(&self, status: u16, what: &str) -> String {
        assert_eq!(self.status, status, "{what}: {self:?}");
        let v = self.json();
        let errors = v["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no `errors` array in {v}"));
        assert!(
            !errors.is_empty() && errors.iter().all(Value::is_string),
            "{what}: {v}"
        );
        errors[0].as_str().unwrap_or_default().to_string()
    }
}

/// `Bearer TOKEN` with the REST token of the test's real processes.
pub fn bearer() -> String {
    let token = mini_flink_tests::real_process::rest_token().unwrap_or_else(|e| panic!("{e}"));
    format!("Bearer {token}")
}

/// Sends one request to `addr` (host:port) with the REST token and reads
/// the whole answer.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
        tokio::spawn(conn);
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr)
            .header("connection", "close")
            .header("authorization", bearer());
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let req = req.body(Full::new(Bytes::from(body))).expect("a request");
        let resp = tokio::time::timeout(Duration::from_secs(30), send.send_request(req))
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: no answer in 30 s"))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        Reply {
            status,
            location,
            body,
        }
    })
}

pub fn get(addr: &str, path: &str) -> Reply {
    http(addr, "GET", path, None, Vec::new())
}

pub fn post_json(addr: &str, path: &str, body: &str) -> Reply {
    http(
        addr,
        "POST",
        path,
        Some("application/json"),
        body.as_bytes().to_vec(),
    )
}

/// `POST /jars/upload` with the file in the multipart field `jarfile`.
pub fn upload(addr: &str, filename: &str, contents: &[u8]) -> Reply {
    let boundary = "mini-flink-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(contents);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    http(addr, "POST", "/jars/upload", Some(&content_type), body)
}

/// Polls `GET path` until `done` holds for its JSON, or panics after `limit`.
pub fn poll(addr: &str, path: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let r = get(addr, path);
        let v = r.json();
        if r.status == 200 && done(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "GET {path}: still {v} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn wait_for_status(addr: &str, jid: &str, status: &str) {
    poll(
        addr,
        &format!("/jobs/{jid}/status"),
        Duration::from_secs(60),
        |v| v["status"] == status,
    );
}

/// Starts a JobManager with REST on a free port; (RPC address, REST address).
pub fn start(cluster: &mut Cluster, extra: &[&str]) -> (String, String) {
    let checkpoints = cluster
        .dir
        .join("checkpoints")
        .to_string_lossy()
        .into_owned();
    let mut args = vec![
        "--rest-bind",
        "127.0.0.1:0",
        "--checkpoint-dir",
        &checkpoints,
    ];
    args.extend_from_slice(extra);
    let rpc = cluster.start_jobmanager(&args);
    let rest = cluster.wait_for_line(
        "jobmanager",
        "REST API and web UI on http://",
        Duration::from_secs(10),
    );
    let rest = rest.trim_end_matches('/').to_string();
    cluster.start_taskmanagers(&rpc, &["tm-1", "tm-2"], 2);
    (rpc, rest)
}
