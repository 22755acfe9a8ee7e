//! The web UI in a real headless browser (Debian's `chromium`, driven
//! through the DevTools protocol), against a real cluster of processes:
//! a JobManager serving REST, two TaskManagers with two slots each, and a
//! checkpointed keyed job running.
//!
//! The overview page must show both TaskManagers and their four slots,
//! with the job's subtasks in the slots they share; the job's page must
//! draw its dataflow (an SVG laid out by the JobManager, with no Graphviz
//! involved) in both views; clicking "Cancel job" must cancel the job,
//! which is checked over REST.
//!
//! Skips with a printed reason when `chromium` is not installed
//! (`.ci/run` installs it). With `MINI_FLINK_SCREENSHOT=DIR` it also saves
//! screenshots of the overview and the job page (the README's pictures).

mod real_tcp_support;

use real_tcp_support::{Cluster, rest_token};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

/// The browser, if installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on loopback")
}

/// `GET url` with the cluster's REST token.
fn get_json(url: &str) -> Value {
    let mut resp = ureq::get(url)
        .header("Authorization", &format!("Bearer {}", rest_token()))
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    resp.body_mut()
        .read_json()
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// A headless chromium with the DevTools protocol on one page.
struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<std::net::TcpStream>>,
    next_id: u64,
    _profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._profile);
    }
}

impl Browser {
    fn open(program: &PathBuf, url: &str, dir: &std::path::Path) -> Browser {
        let port = free_port();
        let profile = dir.join("chromium-profile");
        let child = Command::new(program)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=1400,1000",
                &format!("--remote-debugging-port={port}"),
                &format!("--user-data-dir={}", profile.display()),
                url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // The page's DevTools WebSocket, once the browser listens.
        let deadline = Instant::now() + Duration::from_secs(30);
        let ws_url = loop {
            let targets = ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok());
            if let Some(t) = targets.as_ref().and_then(|t| t.as_array()).and_then(|a| {
                a.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_string))
            }) {
                break t;
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not open its DevTools port"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        let (ws, _) = tungstenite::connect(ws_url.as_str()).expect("DevTools WebSocket");
        Browser {
            child,
            ws,
            next_id: 1,
            _profile: profile,
        }
    }

    /// One DevTools command; its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to DevTools");
        loop {
            let reply = self.ws.read().expect("read from DevTools");
            let Message::Text(text) = reply else { continue };
            let v: Value = serde_json::from_str(text.as_str()).expect("DevTools speaks JSON");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates JavaScript in the page; its value.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    fn wait_for(&mut self, what: &str, expression: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.eval(expression) == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body.innerText");
                panic!("the page never showed {what} ({expression}); it shows:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Saves a PNG of the page when screenshots are asked for.
    fn screenshot(&mut self, name: &str) {
        let Ok(dir) = std::env::var("MINI_FLINK_SCREENSHOT") else {
            return;
        };
        let r = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        let data = r["data"].as_str().expect("a screenshot");
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64 PNG");
        let path = PathBuf::from(dir).join(name);
        std::fs::write(&path, png).expect("write the screenshot");
        println!("screenshot: {}", path.display());
    }
}

#[test]
fn the_dashboard_shows_the_cluster_and_cancels_a_job() {
    let Some(program) = chromium() else {
        println!("skipped: no chromium installed (apt-get install chromium; .ci/run does)");
        return;
    };
    let mut cluster = Cluster::new("web-ui");
    let rest_port = free_port();
    let rest = format!("127.0.0.1:{rest_port}");
    let addr = cluster.start_jobmanager(&[
        "--rest-bind",
        &rest,
        "--checkpoint-dir",
        &cluster.dir.join("cp").to_string_lossy(),
    ]);
    cluster.start_taskmanagers(&addr, &["tm-1", "tm-2"], 2);
    // A keyed job that runs until cancelled.
    let job = cluster.dir.join("endless.toml");
    std::fs::write(
        &job,
        r#"name = "web-ui-keyed"
parallelism = 2
[checkpointing]
interval_ms = 500
[[operators]]
id = "events"
name = "Source: Generator"
kind = "generator"
args = { keys = 16, count = 100000000, rate = 200 }
[[operators]]
id = "sum"
name = "Sum"
kind = "sum"
input = "events"
partition = "hash"
key = "f0"
[[operators]]
id = "sink"
name = "Sink: Discard"
kind = "discard"
input = "sum"
"#,
    )
    .expect("write the job file");
    let job_arg = job.to_string_lossy().into_owned();
    cluster.spawn(
        "run",
        &["run", &job_arg, "--jobmanager", &addr, "--detached"],
    );
    let base = format!("http://{rest}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let jid = loop {
        let jobs = get_json(&format!("{base}/jobs/overview"));
        if let Some(j) = jobs["jobs"].as_array().and_then(|a| {
            a.iter()
                .find(|j| j["state"] == "RUNNING" && j["tasks"]["running"] == 4)
        }) {
            break j["jid"].as_str().expect("a job id").to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the job never ran\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    // The address `mini-flink jobmanager` prints: the token, kept in a
    // cookie, then the page.
    let mut browser = Browser::open(
        &program,
        &format!("{base}/?token={}", rest_token()),
        &cluster.dir,
    );
    let limit = Duration::from_secs(30);
    browser.wait_for(
        "both TaskManagers",
        "document.querySelectorAll('#taskmanagers .taskmanager').length === 2",
        limit,
    );
    browser.wait_for(
        "four slots",
        "document.querySelectorAll('#taskmanagers .slot').length === 4",
        limit,
    );
    browser.wait_for(
        "the job's subtasks sharing slots",
        "document.querySelectorAll('#taskmanagers .slot.used').length >= 2 && \
         document.querySelectorAll('#taskmanagers .slot .task').length === 4",
        limit,
    );
    browser.wait_for(
        "the running job",
        "document.querySelector('#running-jobs').innerText.includes('web-ui-keyed')",
        limit,
    );
    browser.screenshot("web-ui-overview.png");

    browser.eval(&format!("location.hash = '#/job/{jid}'"));
    browser.wait_for(
        "the job graph",
        "document.querySelectorAll('#dataflow svg g.vertex').length === 2",
        limit,
    );
    if std::env::var_os("MINI_FLINK_SCREENSHOT").is_some() {
        // For the picture: wait until the producer's rate is reported.
        browser.wait_for(
            "records flowing",
            "!/(^|[^0-9.])0 rec\\/s/.test(document.querySelector('#dataflow svg').textContent)",
            limit,
        );
    }
    browser.screenshot("web-ui-job.png");
    browser.eval("setView('parallel')");
    browser.wait_for(
        "the parallel dataflow",
        "document.querySelectorAll('#dataflow svg g.vertex').length === 4 && \
         document.querySelectorAll('#dataflow svg path.edge').length === 4",
        limit,
    );

    browser.eval("document.getElementById('cancel').click()");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = get_json(&format!("{base}/jobs/{jid}/status"));
        if status["status"] == "CANCELED" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "clicking cancel did not cancel the job: {status}\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    browser.wait_for(
        "the cancelled job",
        "document.body.innerText.includes('CANCELED')",
        limit,
    );

    // Submit the same job file from the page: upload it, run it.
    browser.eval("location.hash = '#/submit'");
    browser.wait_for(
        "the upload form",
        "!!document.querySelector('#upload input[name=jarfile]')",
        limit,
    );
    let root = browser.call("DOM.getDocument", json!({}))["root"]["nodeId"].clone();
    let input = browser.call(
        "DOM.querySelector",
        json!({ "nodeId": root, "selector": "#upload input[name=jarfile]" }),
    )["nodeId"]
        .clone();
    browser.call(
        "DOM.setFileInputFiles",
        json!({ "nodeId": input, "files": [job_arg] }),
    );
    browser.eval("document.querySelector('#upload button').click()");
    browser.wait_for(
        "the uploaded job file",
        "document.querySelector('#jars').innerText.includes('endless.toml')",
        limit,
    );
    browser.eval("document.querySelector('#jars form button.primary').click()");
    browser.wait_for(
        "the new job's page",
        &format!("location.hash.startsWith('#/job/') && !location.hash.includes('{jid}')"),
        limit,
    );
    let hash = browser.eval("location.hash");
    let second = hash
        .as_str()
        .and_then(|h| h.strip_prefix("#/job/"))
        .expect("the page shows the submitted job")
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_json(&format!("{base}/jobs/{second}"))["vertices"]
        .as_array()
        .is_none_or(|v| v.iter().any(|v| v["status"] != "RUNNING"))
    {
        assert!(
            Instant::now() < deadline,
            "the job submitted from the page never ran\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Stop it with a savepoint from the page: the job finishes, the page
    // reports where the savepoint is.
    browser.wait_for(
        "the stop button",
        "!!document.getElementById('stop') && !document.getElementById('stop').disabled",
        limit,
    );
    browser.eval("document.getElementById('stop').click()");
    browser.wait_for(
        "the completed savepoint",
        "document.getElementById('flash').innerText.includes('Savepoint completed: ')",
        Duration::from_secs(60),
    );
    let status = get_json(&format!("{base}/jobs/{second}/status"));
    assert_eq!(
        status["status"], "FINISHED",
        "stop-with-savepoint ends the job FINISHED"
    );
}
