//! REST authentication: `Authorization: Bearer TOKEN` on every request
//! (Flink has no token of its own; its closest is
//! `security.ssl.rest.authentication-enabled`, mutual TLS on the REST port).
//!
//! The token is derived from the cluster's secret
//! ([`crate::net::auth::Secret::rest_token`]). Scripts send it as a bearer
//! token; the web UI asks for it once (a small page at `/`), and keeps it
//! in a cookie; `mini-flink jobmanager` prints the UI's address with
//! `?token=…`, as Jupyter does, which sets the cookie and redirects to `/`.
//! Without it, an API request gets Flink's error shape with 401:
//! `{"errors": ["…"]}`. With `--insecure` there is no token and every
//! request is served.
//!
//! In: every HTTP request, before the routes. Out: the request, or a 401.

use super::server::RestState;
use crate::net::auth::constant_time_eq;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The cookie's name for a token: one per cluster, since cookies do not
/// tell ports apart and two clusters on one machine must not clobber
/// each other's.
pub fn cookie_name(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    format!(
        "mini-flink-token-{}",
        crate::net::auth::hex(&d.as_ref()[..4])
    )
}

/// The token a request carries: its bearer token, its cookie, or (for
/// `GET /?token=…`) its query.
fn presented<'a>(req: &'a Request, cookie: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for v in req.headers().get_all(header::AUTHORIZATION) {
        if let Some(t) = v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            found.push(t.trim());
        }
    }
    for v in req.headers().get_all(header::COOKIE) {
        for pair in v.to_str().unwrap_or_default().split(';') {
            if let Some((k, t)) = pair.trim().split_once('=')
                && k == cookie
            {
                found.push(t);
            }
        }
    }
    found
}

/// `?token=…` of a query.
fn query_token(req: &Request) -> Option<String> {
    let q = req.uri().query()?;
    super::http::query_map(Some(q)).remove("token")
}

/// Middleware before every route: lets the request on when it carries the
/// cluster's token (or when there is none, `--insecure`); answers 401
/// otherwise, with the token page for a browser asking for `/`.
pub async fn require_token(State(s): State<RestState>, req: Request, next: Next) -> Response {
    let Some(token) = s.token.as_deref() else {
        return next.run(req).await;
    };
    let cookie = cookie_name(token);
    let ok = |t: &str| constant_time_eq(t.as_bytes(), token.as_bytes());
    if presented(&req, &cookie).into_iter().any(ok) {
        return next.run(req).await;
    }
    if let Some(t) = query_token(&req)
        && ok(&t)
    {
        {
            // The address printed at start: keep the token in a cookie and
            // go to the page without it in the address bar.
            let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            let set =
                format!("{cookie}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000");
            if let Ok(v) = HeaderValue::from_str(&set) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            return resp;
        }
    }
    let page = req.uri().path() == "/";
    let mut resp = if page {
        (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            TOKEN_PAGE,
        )
            .into_response()
    } else {
        super::http::json(super::RestReply::error(
            401,
            "Unauthorized: this cluster wants `Authorization: Bearer TOKEN`. The token is \
             printed by `mini-flink jobmanager` at start, and by `mini-flink token`.",
        ))
    };
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"mini-flink\""),
    );
    resp
}

/// The page a browser without the token gets at `/`: one field; sending
/// it comes back as `/?token=…`, which sets the cookie.
const TOKEN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mini-flink: token</title>
<style>body{font-family:sans-serif;margin:4em auto;max-width:32em}input{width:100%;font-family:monospace}</style>
</head><body>
<h1>mini-flink</h1>
<p>This cluster wants its token. <code>mini-flink jobmanager</code> printed the
web UI's address with it when it started; <code>mini-flink token</code> prints it
too (with the same secret file).</p>
<form method="get" action="/"><label>Token <input name="token" autofocus autocomplete="off"></label>
<p><button type="submit">Open the web UI</button></p></form>
</body></html>
"#;
