//! The HTTP side of attaching: one blocking client for a JobManager's REST
//! API (Flink's `RestClient`, as its CLI and dashboard use it).
//!
//! A call names a path (`/jobs/overview`) and gets back JSON, or one
//! [`RestError`] that says where and why: nothing listens, the answer took
//! too long, the server answered an error (with the first line of Flink's
//! `{"errors": […]}`), or the body is not JSON. Every request carries the
//! cluster's bearer token when one was given (`--token`). An `https://`
//! address (a cluster started with `--tls-cert`) is checked against the
//! cluster's CA certificate (`--tls-ca`), with rustls.
//!
//! In: a base URL (`http://host:8081` or `https://…`), paths, JSON bodies.
//! Out: JSON values and errors; nothing here knows what the answers mean.

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use ureq::tls::TlsConfig;

/// How long one request may take before the poll counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a REST call gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// The URL given to `--attach` is not one to attach to.
    #[error(
        "`{url}` is not a JobManager's REST address: {why}\n  help: give the REST API's address, like http://127.0.0.1:8081"
    )]
    BadUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// No answer at all: nothing listens, the host is unknown, the
    /// connection broke or the answer took too long.
    #[error("{method} {url}: {why}")]
    Unreachable {
        /// GET, POST, PATCH.
        method: &'static str,
        /// The whole URL.
        url: String,
        /// What the network said.
        why: String,
    },
    /// The server answered with an error status.
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        /// GET, POST, PATCH.
        method: &'static str,
        /// The whole URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Flink's first error line, or the start of the body.
        message: String,
    },
    /// The body is not the JSON expected.
    #[error("{url}: the answer is not JSON ({why})")]
    NotJson {
        /// The whole URL.
        url: String,
        /// serde's complaint.
        why: String,
    },
    /// The CA certificate for an https address cannot be used.
    #[error("{why}")]
    BadCa {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The JSON is not in the shape of Flink's answer to this call.
    #[error(
        "{url}: not the answer of a Flink REST API ({why})\n  help: is this the JobManager's REST port (8081 by default)?"
    )]
    Shape {
        /// The whole URL.
        url: String,
        /// What is missing.
        why: String,
    },
}

impl RestError {
    /// Whether the server answered 404 (an unknown job, vertex or path).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RestError::Status { status: 404, .. })
    }
}

/// A blocking REST client for one JobManager.
#[derive(Clone)]
pub struct RestClient {
    base: String,
    token: Option<String>,
    tls: Option<TlsConfig>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of debug output.
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Checks and normalises the address given to `--attach`: `http://`,
/// `https://` (or no scheme: http), a host, an optional port, no trailing
/// slash.
pub fn normalise_url(url: &str) -> Result<String, RestError> {
    let bad = |why: &str| RestError::BadUrl {
        url: url.to_string(),
        why: why.to_string(),
    };
    let trimmed = url.trim().trim_end_matches('/');
    let (scheme, rest) = if let Some(r) = trimmed.strip_prefix("http://") {
        ("http", r)
    } else if let Some(r) = trimmed.strip_prefix("https://") {
        ("https", r)
    } else if trimmed.contains("://") {
        return Err(bad("only http:// and https:// addresses are supported"));
    } else {
        ("http", trimmed)
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(bad("there is no host in it"));
    }
    if let Some((_, port)) = authority.rsplit_once(':')
        && !authority.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(bad(&format!("`{port}` is not a port number")));
    }
    Ok(format!("{scheme}://{rest}"))
}

impl RestClient {
    /// A client for the REST API at `base` (see [`normalise_url`]); an
    /// https address needs `tls_ca`, the cluster's CA certificate.
    pub fn new(
        base: &str,
        token: Option<String>,
        tls_ca: Option<&Path>,
    ) -> Result<RestClient, RestError> {
        let base = normalise_url(base)?;
        let https = base.starts_with("https://");
        let tls = match tls_ca {
            Some(ca) if https => {
                Some(
                    runtime::net::tls::http_client_tls(ca).map_err(|e| RestError::BadCa {
                        path: ca.display().to_string(),
                        why: e.to_string(),
                    })?,
                )
            }
            Some(_) => {
                return Err(RestError::BadUrl {
                    url: base,
                    why: "--tls-ca goes with an https:// address".into(),
                });
            }
            None if https => {
                return Err(RestError::BadUrl {
                    url: base,
                    why: "an https address needs --tls-ca CA.pem, the cluster's CA certificate"
                        .into(),
                });
            }
            None => None,
        };
        let mut client = RestClient {
            base,
            token,
            tls,
            agent: ureq::Agent::new_with_defaults(),
        };
        client.agent = client.agent_with(Some(REQUEST_TIMEOUT), None);
        Ok(client)
    }

    /// An agent for this cluster (its TLS, if any) with these timeouts:
    /// for the whole call (`global`), or for the answer's head (`head`).
    pub fn agent_with(&self, global: Option<Duration>, head: Option<Duration>) -> ureq::Agent {
        let mut b = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(global)
            .timeout_recv_response(head)
            .timeout_connect(Some(CONNECT_TIMEOUT));
        if let Some(tls) = &self.tls {
            b = b.tls_config(tls.clone());
        }
        ureq::Agent::new_with_config(b.build())
    }

    /// The base URL, `http://host:port`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The bearer token, when one was given.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `GET path`, as JSON.
    pub fn get(&self, path: &str) -> Result<Value, RestError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.get(&url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        answer("GET", &url, req.call())
    }

    /// `PATCH path` without a body (Flink's cancel), as JSON.
    pub fn patch(&self, path: &str) -> Result<Value, RestError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.patch(&url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        answer("PATCH", &url, req.send_empty())
    }

    /// `POST path` with a JSON body, as JSON.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, RestError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        answer("POST", &url, req.send(body.to_string()))
    }
}

/// The answer as JSON, or what went wrong.
fn answer(
    method: &'static str,
    url: &str,
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Value, RestError> {
    let mut resp = resp.map_err(|e| RestError::Unreachable {
        method,
        url: url.to_string(),
        why: network_words(&e),
    })?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| RestError::Unreachable {
            method,
            url: url.to_string(),
            why: format!("the answer broke off: {}", network_words(&e)),
        })?;
    if !(200..300).contains(&status) {
        return Err(RestError::Status {
            method,
            url: url.to_string(),
            status,
            message: error_message(&text),
        });
    }
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(&text).map_err(|e| RestError::NotJson {
        url: url.to_string(),
        why: e.to_string(),
    })
}

/// Flink's `{"errors": ["…"]}` as one line (the exception's first line:
/// Flink appends the stack trace), or the start of a body in another shape.
pub fn error_message(body: &str) -> String {
    let first = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v["errors"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let text = first.unwrap_or_else(|| body.trim().to_string());
    let line = text.lines().next().unwrap_or_default().trim();
    let mut s: String = line.chars().take(200).collect();
    if s.is_empty() {
        s = "no error message".into();
    }
    s
}

/// ureq's error in the words a user needs.
fn network_words(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens there (is the JobManager running, with its REST API on this port?)".into()
        }
        ureq::Error::Io(io) => format!("{io}"),
        ureq::Error::Timeout(t) => format!("no answer in time ({t})"),
        ureq::Error::HostNotFound => "the host name is unknown".into(),
        ureq::Error::ConnectionFailed => "the connection failed".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses are checked before anything is sent: https and a bad
    /// port are refused with the reason; a bare host:port gets http://.
    #[test]
    fn urls() {
        assert_eq!(
            normalise_url("127.0.0.1:8081/").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(normalise_url("http://jm:8081").unwrap(), "http://jm:8081");
        assert_eq!(
            normalise_url("https://jm:8081/").unwrap(),
            "https://jm:8081"
        );
        assert!(matches!(
            normalise_url("ftp://jm:8081"),
            Err(RestError::BadUrl { .. })
        ));
        let e = RestClient::new("https://jm:8081", None, None).unwrap_err();
        assert!(e.to_string().contains("needs --tls-ca"), "{e}");
        let e = RestClient::new("http://jm:8081", None, Some(Path::new("ca.pem"))).unwrap_err();
        assert!(e.to_string().contains("goes with an https"), "{e}");
        let e = RestClient::new("https://jm:8081", None, Some(Path::new("/nonexistent.pem")))
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read --tls-ca /nonexistent.pem"),
            "{e}"
        );
        let e = normalise_url("http://jm:80x").unwrap_err().to_string();
        assert!(e.contains("`80x` is not a port number"), "{e}");
        assert!(normalise_url("http://").is_err());
    }

    /// Flink's error body gives its first line; another body its start.
    #[test]
    fn error_lines() {
        let body = r#"{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job 00 not found\n\tat x"]}"#;
        assert_eq!(
            error_message(body),
            "org.apache.flink.runtime.rest.NotFoundException: Job 00 not found"
        );
        assert_eq!(error_message("Bad gateway\n"), "Bad gateway");
        assert_eq!(error_message(""), "no error message");
    }
}
