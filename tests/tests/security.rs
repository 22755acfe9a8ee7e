//! Nobody joins, drives or reads a cluster without its secret (issue #14),
//! on real `mini-flink` processes on 127.0.0.1: a TaskManager, a client
//! and a data connection with the wrong secret are refused; REST wants the
//! bearer token; a silent connection is dropped after the handshake
//! timeout while others are served; a recorded handshake replayed does not
//! authenticate (fresh nonces).
//!
//! The cluster's processes use the test user's default secret (see
//! `mini_flink_tests::real_process::secret`); the "wrong" secrets are files
//! made in each cluster's folder.

mod real_tcp_support;

use real_tcp_support::*;
use runtime::client::ClusterClient;
use runtime::net::auth::{Auth, Secret, load_or_create};
use runtime::net::frame::{Hello, Proof, connect_handshake, decode};
use runtime::net::{BoxStream, Listener, Network, NetworkRef, TcpNetwork};
use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A secret file that is not the cluster's, in the cluster's folder.
fn wrong_secret(cluster: &Cluster) -> PathBuf {
    let path = cluster.dir.join("wrong-secret");
    load_or_create(&path).expect("a second secret");
    path
}

/// A client's network with the secret in `path`.
fn network_with(path: &Path) -> NetworkRef {
    let secret = Secret::load(path).expect("the secret file");
    Arc::new(TcpNetwork::new(Auth::with_secret(secret)))
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

/// Waits (at most 10 s) until `name`'s standard error holds `needle`.
fn assert_logged(cluster: &Cluster, name: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cluster.read(&cluster.err_path(name)).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{name} never logged {needle:?}\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The ids in `/taskmanagers`.
fn taskmanager_ids(rest: &str) -> Vec<String> {
    let (status, body) = http_get(rest, "/taskmanagers").expect("GET /taskmanagers");
    assert_eq!(status, 200, "{body}");
    body["taskmanagers"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A TaskManager with the wrong secret stops with a clear error, the
/// JobManager logs the refusal, and it never appears in `/taskmanagers`;
/// one with the right secret does.
#[test]
fn taskmanager_with_the_wrong_secret_is_refused() {
    let mut cluster = Cluster::new("sec-tm");
    let (rpc, rest) = cluster.start_jobmanager_with_rest(&[]);
    let wrong = wrong_secret(&cluster);
    let wrong_arg = wrong.to_string_lossy().into_owned();
    let (status, _) = cluster.run(
        "tm-bad",
        &[
            "taskmanager",
            "--jobmanager",
            &rpc,
            "--id",
            "tm-bad",
            "--secret-file",
            &wrong_arg,
        ],
        Duration::from_secs(30),
    );
    let err = cluster.read(&cluster.err_path("tm-bad"));
    assert!(!status.success(), "{}", cluster.logs());
    assert!(
        err.contains(&format!(
            "authentication failed: the secret in {wrong_arg} does not match the cluster's"
        )),
        "{}",
        cluster.logs()
    );
    cluster.start_taskmanagers(&rpc, &["tm-1"], 1);
    assert_eq!(taskmanager_ids(&rest), vec!["tm-1".to_string()]);
    assert_logged(
        &cluster,
        "jobmanager",
        "refused a connection: its handshake failed",
    );
}

/// A client with the wrong secret can neither list, submit nor cancel:
/// each command fails with the authentication error, and the cluster's
/// one job is untouched.
#[test]
fn client_with_the_wrong_secret_cannot_list_submit_or_cancel() {
    let mut cluster = Cluster::new("sec-client");
    let (rpc, _rest, jid) = cluster.attach_scene();
    let wrong = wrong_secret(&cluster);
    let wrong = wrong.to_string_lossy().into_owned();
    let job = workspace().join("tests/data/tui_attach_job.toml");
    let job = job.to_string_lossy().into_owned();
    let attempts: [(&str, Vec<&str>); 3] = [
        ("list", vec!["list"]),
        ("submit", vec!["run", &job, "--detached"]),
        ("cancel", vec!["cancel", &jid]),
    ];
    for (name, args) in attempts {
        let mut all = args.clone();
        all.extend(["--jobmanager", &rpc, "--secret-file", &wrong]);
        let (status, out) = cluster.run(name, &all, Duration::from_secs(60));
        let err = cluster.read(&cluster.err_path(name));
        assert!(
            !status.success(),
            "{name} succeeded: {out}\n{}",
            cluster.logs()
        );
        assert!(
            err.contains("authentication failed"),
            "{name}: {err}\n{}",
            cluster.logs()
        );
    }
    let jobs = block_on(async {
        let mut c = ClusterClient::connect(&client_network(), &rpc, "sec-test")
            .await
            .expect("connect with the right secret");
        c.list().await.expect("list")
    });
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].id.to_string(), jid);
    assert_eq!(jobs[0].status.to_string(), "RUNNING", "{jobs:?}");
}

/// An HTTP agent that returns every status as it is and follows no redirect.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// REST without the token: 401 with Flink's error shape; with it (as a
/// bearer token, or as the cookie the printed `/?token=…` address sets): 200.
#[test]
fn rest_wants_the_token() {
    let mut cluster = Cluster::new("sec-rest");
    let (_rpc, rest) = cluster.start_jobmanager_with_rest(&[]);
    let token = rest_token();
    let agent = agent();
    let url = |p: &str| format!("http://{rest}{p}");

    let mut r = agent.get(url("/overview")).call().expect("an answer");
    assert_eq!(r.status().as_u16(), 401);
    let body: serde_json::Value = r.body_mut().read_json().expect("JSON");
    let errors = body["errors"]
        .as_array()
        .expect("Flink's {\"errors\": [...]}");
    assert!(
        errors[0].as_str().unwrap_or_default().contains("Bearer"),
        "{body}"
    );

    let r = agent
        .get(url("/overview"))
        .header("Authorization", "Bearer not-the-token")
        .call()
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 401);

    let mut r = agent
        .get(url("/overview"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.body_mut().read_json().expect("JSON");
    assert!(body["flink-version"].is_string(), "{body}");

    // The browser's way: the token page, then `/?token=…` sets a cookie.
    let mut r = agent.get(url("/")).call().expect("an answer");
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.body_mut()
            .read_to_string()
            .expect("text")
            .contains("token")
    );
    let out = cluster.read(&cluster.out_path("jobmanager"));
    let printed = format!("Open the web UI with its token: http://{rest}/?token={token}");
    assert!(out.contains(&printed), "{out}");
    let r = agent
        .get(url(&format!("/?token={token}")))
        .call()
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let r = agent
        .get(url("/jobs/overview"))
        .header("Cookie", &cookie)
        .call()
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 200);
}

/// Reads one frame (4-byte length, body) from a blocking stream.
fn read_frame(s: &mut std::net::TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body)?;
    Ok(body)
}

/// Everything a blocking stream sends until it closes (or `limit` passes).
fn read_to_end(s: &mut std::net::TcpStream, limit: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(limit)).expect("a timeout");
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    all
}

/// What an unauthenticated peer got after the hello: nothing, or the
/// refusal, and never a record.
fn assert_only_refused(rest: &[u8]) {
    if rest.is_empty() {
        return;
    }
    let len = u32::from_be_bytes(rest[..4].try_into().expect("a length")) as usize;
    let proof: Proof = decode(&rest[4..4 + len]).expect("a Proof frame");
    assert!(matches!(proof, Proof::Refused(_)), "{proof:?}");
    assert_eq!(rest.len(), 4 + len, "frames after the refusal");
}

/// A data connection to a TaskManager of a running job: with the wrong
/// secret it is refused at its first read; without any (`--insecure`) it
/// cannot even start; a raw peer gets the hello and nothing after it.
#[test]
fn data_connection_without_the_secret_gets_no_records() {
    let mut cluster = Cluster::new("sec-data");
    let (_rpc, rest, _jid) = cluster.attach_scene();
    let (status, body) = http_get(&rest, "/taskmanagers").expect("GET /taskmanagers");
    assert_eq!(status, 200);
    let port = body["taskmanagers"][0]["dataPort"]
        .as_u64()
        .expect("a data port");
    let data = format!("127.0.0.1:{port}");
    let wrong = network_with(&wrong_secret(&cluster));
    block_on(async {
        let stream = wrong.connect(data.clone()).await.expect("connect");
        let (mut r, mut w, hello) = connect_handshake(stream, wrong.auth(), "data", "intruder")
            .await
            .expect("the hello exchange");
        assert_eq!(hello.role, "data");
        let _ = w.send(&0u32).await;
        let e = r
            .recv::<runtime::rpc::DataMessage>()
            .await
            .expect_err("refused");
        assert!(e.to_string().contains("authentication failed"), "{e}");

        let insecure: NetworkRef = Arc::new(TcpNetwork::insecure());
        let stream = insecure.connect(data.clone()).await.expect("connect");
        let e = connect_handshake(stream, insecure.auth(), "data", "intruder")
            .await
            .err()
            .expect("refused");
        assert!(e.is_auth(), "{e}");
    });
    let mut raw = std::net::TcpStream::connect(&data).expect("connect");
    let hello: Hello = decode(&read_frame(&mut raw).expect("the hello")).expect("a Hello");
    assert!(hello.authenticated);
    raw.write_all(b"\x00\x00\x00\x04GET ").expect("write");
    assert_only_refused(&read_to_end(&mut raw, Duration::from_secs(15)));
    // The TaskManager logs the refusal as it closes the connection: wait
    // for the line (a loaded machine may show the close first).
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = |name: &str| {
        cluster
            .read(&cluster.err_path(name))
            .contains("refused a data connection")
    };
    while !(refused("tm-1") || refused("tm-2")) {
        assert!(
            Instant::now() < deadline,
            "no TaskManager logged the refusal\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A client that connects and says nothing is dropped after the handshake
/// timeout; meanwhile another client is served.
#[test]
fn silent_client_is_dropped_after_the_handshake_timeout() {
    let mut cluster = Cluster::new("sec-silent");
    let rpc = cluster.start_jobmanager(&["--handshake-timeout-ms", "3000"]);
    let started = Instant::now();
    let mut silent = std::net::TcpStream::connect(&rpc).expect("connect");
    let _hello = read_frame(&mut silent).expect("the JobManager's hello");
    let (status, out) = cluster.run(
        "list",
        &["list", "--jobmanager", &rpc],
        Duration::from_secs(30),
    );
    assert!(status.success(), "{out}\n{}", cluster.logs());
    let served = started.elapsed();
    assert!(
        served < Duration::from_millis(3000),
        "served only after {served:?}"
    );
    let rest = read_to_end(&mut silent, Duration::from_secs(20));
    let waited = started.elapsed();
    assert!(
        rest.is_empty(),
        "sent {} bytes to a silent peer",
        rest.len()
    );
    assert!(
        waited >= Duration::from_millis(2900) && waited < Duration::from_secs(15),
        "dropped after {waited:?}"
    );
    assert_logged(
        &cluster,
        "jobmanager",
        "did not finish the handshake within 3000 ms",
    );
}

/// A TaskManager over the registration cap (here its slots, as a client
/// that bypasses the CLI's own check would ask) is told so: the
/// ResourceManager answers `Declined` with the cap, logs it, and the
/// TaskManager never appears in `/taskmanagers`.
#[test]
fn registration_over_the_cap_is_declined_with_why() {
    use runtime::net::limits::MAX_SLOTS_PER_TASKMANAGER;
    use runtime::rpc::{Fenced, FromTaskManager, ToTaskManager};
    let mut cluster = Cluster::new("sec-cap");
    let (rpc, rest) = cluster.start_jobmanager_with_rest(&[]);
    let net = mini_flink_tests::real_process::client_network().expect("the test secret");
    let answer = block_on(async {
        let stream = net.connect(rpc.clone()).await.expect("connect");
        let (mut r, mut w, _) = connect_handshake(stream, net.auth(), "taskmanager", "tm-huge")
            .await
            .expect("the handshake");
        let register = FromTaskManager::Register {
            resource_id: "tm-huge".into(),
            data_addr: "127.0.0.1:1".into(),
            slots: MAX_SLOTS_PER_TASKMANAGER + 1,
        };
        w.send(&register).await.expect("send Register");
        tokio::time::timeout(Duration::from_secs(10), r.recv::<Fenced>())
            .await
            .expect("an answer within 10 s")
            .expect("a frame")
    });
    let ToTaskManager::Declined { reason } = answer.msg else {
        panic!("expected Declined, got {answer:?}");
    };
    assert_eq!(
        reason,
        format!(
            "its number of slots is {}, over the cap of {MAX_SLOTS_PER_TASKMANAGER}",
            MAX_SLOTS_PER_TASKMANAGER + 1
        )
    );
    assert!(taskmanager_ids(&rest).is_empty());
    assert_logged(
        &cluster,
        "jobmanager",
        "declined a TaskManager's registration",
    );
}

/// TCP whose streams record every byte this side writes.
struct Recording {
    inner: TcpNetwork,
    log: Arc<Mutex<Vec<u8>>>,
}

struct Recorded {
    inner: BoxStream,
    log: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Recorded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recorded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.log.lock().expect("log").extend_from_slice(&buf[..*n]);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Network for Recording {
    fn bind(
        &self,
        addr: String,
    ) -> BoxFuture<'static, std::io::Result<(Box<dyn Listener>, String)>> {
        self.inner.bind(addr)
    }
    fn connect(&self, addr: String) -> BoxFuture<'static, std::io::Result<BoxStream>> {
        let connect = self.inner.connect(addr);
        let log = self.log.clone();
        Box::pin(async move {
            let inner = connect.await?;
            Ok(Box::new(Recorded { inner, log }) as BoxStream)
        })
    }
    fn auth(&self) -> &Auth {
        self.inner.auth()
    }
}

/// A client's whole conversation (hello, proof, a `list` request),
/// recorded and replayed byte for byte on a new connection, is refused:
/// the JobManager's fresh nonce makes the old proof worthless.
#[test]
fn replayed_handshake_does_not_authenticate() {
    let mut cluster = Cluster::new("sec-replay");
    let rpc = cluster.start_jobmanager(&[]);
    let log = Arc::new(Mutex::new(Vec::new()));
    let recording: NetworkRef = Arc::new(Recording {
        inner: TcpNetwork::new(Auth::with_secret(
            mini_flink_tests::real_process::secret().expect("the secret"),
        )),
        log: log.clone(),
    });
    let jobs = block_on(async {
        let mut c = ClusterClient::connect(&recording, &rpc, "recorded")
            .await
            .expect("connect");
        c.list().await.expect("the recorded client is served")
    });
    assert!(jobs.is_empty());
    let recorded = log.lock().expect("log").clone();
    assert!(recorded.len() > 40, "recorded {} bytes", recorded.len());

    let mut replay = std::net::TcpStream::connect(&rpc).expect("connect");
    let hello: Hello = decode(&read_frame(&mut replay).expect("a hello")).expect("a Hello");
    assert!(hello.authenticated);
    replay.write_all(&recorded).expect("replay");
    assert_only_refused(&read_to_end(&mut replay, Duration::from_secs(15)));
    assert_logged(&cluster, "jobmanager", "does not know the secret");
}

/// A CA made for the test, and a server certificate it signed for
/// 127.0.0.1 and localhost; written as `NAME-ca.pem`, `NAME-cert.pem` and
/// `NAME-key.pem` in `dir`. Returns the three paths.
fn test_ca(dir: &Path, name: &str) -> [String; 3] {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("mini-flink test CA {name}"),
    );
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
        .expect("server params");
    let key = rcgen::KeyPair::generate().expect("a server key");
    let cert = server
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("the server certificate");
    let paths = ["ca", "cert", "key"].map(|what| {
        dir.join(format!("{name}-{what}.pem"))
            .to_string_lossy()
            .into_owned()
    });
    std::fs::write(&paths[0], ca_cert.pem()).expect("write the CA");
    std::fs::write(&paths[1], cert.pem()).expect("write the certificate");
    std::fs::write(&paths[2], key.serialize_pem()).expect("write the key");
    paths
}

/// TLS with a self-signed CA made here: a JobManager and two TaskManagers
/// (RPC, data and REST inside TLS, the secret's handshake inside that)
/// run the word count to completion; a client that trusts another CA is
/// refused in the TLS handshake.
#[test]
fn tls_cluster_runs_a_job_and_refuses_an_untrusting_client() {
    let mut cluster = Cluster::new("sec-tls");
    let [ca, cert, key] = test_ca(&cluster.dir, "cluster");
    let [other_ca, _, _] = test_ca(&cluster.dir, "other");
    let tls = ["--tls-cert", &cert, "--tls-key", &key, "--tls-ca", &ca];
    let mut jm = vec!["--spread", "--rest-bind", "127.0.0.1:0"];
    jm.extend(tls);
    let rpc = cluster.start_jobmanager(&jm);
    for name in ["tm-1", "tm-2"] {
        let mut args = vec![
            "taskmanager",
            "--jobmanager",
            &rpc,
            "--slots",
            "2",
            "--id",
            name,
            "--events",
        ];
        args.extend(tls);
        cluster.spawn(name, &args);
    }
    cluster.wait_for_event(
        "jobmanager",
        "TaskManagerRegistered",
        2,
        Duration::from_secs(30),
    );
    let job = workspace().join("tests/data/real_tcp_wordcount.toml");
    let job = job.to_string_lossy().into_owned();
    let (status, out) = cluster.run(
        "run",
        &["run", &job, "--jobmanager", &rpc, "--tls-ca", &ca],
        Duration::from_secs(120),
    );
    assert!(status.success(), "{out}\n{}", cluster.logs());
    let counts = printed_counts(&out);
    assert!(counts.get("to").is_some_and(|n| *n > 0), "{out}");

    let (status, _) = cluster.run(
        "untrusting",
        &["list", "--jobmanager", &rpc, "--tls-ca", &other_ca],
        Duration::from_secs(60),
    );
    let err = cluster.read(&cluster.err_path("untrusting"));
    assert!(!status.success(), "{}", cluster.logs());
    assert!(err.contains("TLS handshake"), "{err}");
    assert!(
        err.contains("UnknownIssuer") || err.contains("invalid peer certificate"),
        "{err}"
    );

    // The REST API is https; `plan --from-rest` and the TUI's client reach
    // it with the CA, and not without it.
    let rest = cluster.wait_for_line(
        "jobmanager",
        "REST API and web UI on https://",
        Duration::from_secs(10),
    );
    let base = format!("https://{}", rest.trim_end_matches('/'));
    let token = rest_token();
    // `mini-flink plan --from-rest URL [--job JID] --token T [--tls-ca CA]`:
    // whether it succeeded, its stdout and its stderr.
    let mut plan = |name: &str, url: &str, job: Option<&str>, ca: Option<&str>| {
        let mut args = vec!["plan", "--from-rest", url, "--token", &token];
        args.extend(job.map(|j| ["--job", j]).into_iter().flatten());
        args.extend(ca.map(|c| ["--tls-ca", c]).into_iter().flatten());
        let (status, out) = cluster.run(name, &args, Duration::from_secs(60));
        (status.success(), out, cluster.read(&cluster.err_path(name)))
    };
    let (ok, _, err) = plan("plan-which", &base, None, Some(&ca));
    assert!(!ok, "no job given");
    let jid = err
        .split("the cluster's jobs: ")
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("the jobs, read over https: {err}"))
        .to_string();
    let (ok, out, err) = plan("plan", &format!("{base}/jobs/{jid}"), None, Some(&ca));
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Plan of job {jid}")), "{out}");
    let (ok, _, err) = plan("plan-untrusting", &base, Some(&jid), Some(&other_ca));
    assert!(!ok, "{err}");
    assert!(
        err.contains("UnknownIssuer") || err.contains("certificate"),
        "{err}"
    );
    let (ok, _, err) = plan("plan-no-ca", &base, Some(&jid), None);
    assert!(!ok && err.contains("needs --tls-ca"), "{err}");

    let client = tui::attach::RestClient::new(&base, Some(token.clone()), Some(Path::new(&ca)))
        .expect("a client");
    let overview = client.get("/overview").expect("GET /overview over https");
    assert_eq!(overview["taskmanagers"], 2, "{overview}");
    let untrusting = tui::attach::RestClient::new(&base, Some(token), Some(Path::new(&other_ca)))
        .expect("a client");
    let e = untrusting.get("/overview").expect_err("another CA");
    assert!(
        e.to_string().contains("certificate") || e.to_string().contains("UnknownIssuer"),
        "{e}"
    );
}
