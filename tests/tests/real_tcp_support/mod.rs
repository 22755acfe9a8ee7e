//! What the real-TCP tests share: the `mini-flink` binary, a [`Cluster`] of
//! its processes that are all killed when the test ends (also when it
//! fails), waits with deadlines, and readers of the processes' output and
//! `--events` lines.
//!
//! Every process writes to files in a temporary folder; the folder is
//! removed when a test passes and kept (its path printed) when it fails,
//! and failure messages include everything the processes printed.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use runtime::client::ClusterClient;
use runtime::graph::JobId;
use runtime::net::NetworkRef;
use runtime::rpc::JobResult;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// Each test crate uses a different part of this module.
#[allow(unused_imports)]
pub use mini_flink_tests::real_process::{wait_until, workspace};

/// The `mini-flink` binary, built when needed
/// ([`mini_flink_tests::real_process::mini_flink_binary`]).
pub fn mini_flink_binary() -> PathBuf {
    mini_flink_tests::real_process::mini_flink_binary().unwrap_or_else(|e| panic!("{e}"))
}

/// Clusters made by this test process, to give each its own folder.
static CLUSTERS: AtomicUsize = AtomicUsize::new(0);

/// A cluster of processes that are all killed when it is dropped.
pub struct Cluster {
    bin: PathBuf,
    /// The folder of the processes' output (and of anything else the test puts there).
    pub dir: PathBuf,
    children: Vec<(String, Child)>,
}

impl Cluster {
    /// A cluster without processes yet; `tag` names its folder.
    pub fn new(tag: &str) -> Cluster {
        let n = CLUSTERS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mini-flink-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        Cluster {
            bin: mini_flink_binary(),
            dir,
            children: Vec::new(),
        }
    }

    /// Where `<name>`'s standard output goes.
    pub fn out_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.out"))
    }

    /// Where `<name>`'s standard error goes.
    pub fn err_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.err"))
    }

    /// Starts `mini-flink ARGS`, its output going to `<name>.out` / `<name>.err`.
    pub fn spawn(&mut self, name: &str, args: &[&str]) -> &mut Child {
        assert!(
            self.children.iter().all(|(n, _)| n != name),
            "two processes named {name}"
        );
        let out = File::create(self.out_path(name)).expect("create stdout file");
        let err = File::create(self.err_path(name)).expect("create stderr file");
        let child = Command::new(&self.bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.children.push((name.to_string(), child));
        &mut self.children.last_mut().expect("just pushed").1
    }

    fn child(&mut self, name: &str) -> &mut Child {
        match self.children.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => c,
            None => panic!("no process named {name}"),
        }
    }

    /// Waits (at most `limit`) for the process `name` started with
    /// [`Cluster::spawn`] to end; returns its exit status and standard output.
    pub fn wait_for_exit(&mut self, name: &str, limit: Duration) -> (ExitStatus, String) {
        let status = wait_until(self.child(name), limit);
        let Some(status) = status else {
            panic!(
                "{name} did not finish within {} s\n{}",
                limit.as_secs(),
                self.logs()
            );
        };
        (status, self.read(&self.out_path(name)))
    }

    /// Runs `mini-flink ARGS` to completion (at most `limit`); returns its
    /// exit status and standard output.
    pub fn run(&mut self, name: &str, args: &[&str], limit: Duration) -> (ExitStatus, String) {
        self.spawn(name, args);
        self.wait_for_exit(name, limit)
    }

    /// Kills the process `name` with SIGKILL (`kill -9`: no goodbye to
    /// anyone) and reaps it.
    pub fn kill(&mut self, name: &str) {
        let child = self.child(name);
        child.kill().expect("kill the process");
        let _ = child.wait();
    }

    /// Sends SIGTERM to the process `name` (what `kill PID` and service
    /// managers send: a polite request to stop), without waiting for it.
    pub fn terminate(&mut self, name: &str) {
        let pid = self.child(name).id();
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid fits an i32"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
            .unwrap_or_else(|e| panic!("cannot send SIGTERM to {pid}: {e}"));
    }

    /// A file's text, or "" when it cannot be read.
    pub fn read(&self, path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// Waits until a line of `<name>.out` starts with `prefix`; returns the rest.
    pub fn wait_for_line(&self, name: &str, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let out = self.read(&self.out_path(name));
            if let Some(rest) = out.lines().find_map(|l| l.strip_prefix(prefix)) {
                return rest.trim().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{name} printed no line starting with {prefix:?} within {} s\n{}",
                limit.as_secs(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `<name>.err` holds `n` events of kind `event` (`--events` JSON lines).
    pub fn wait_for_event(&self, name: &str, event: &str, n: usize, limit: Duration) {
        self.wait_for_events(name, limit, &format!("{n} {event} events"), |evs| {
            evs.iter().filter(|e| e["event"] == event).count() >= n
        });
    }

    /// The `--events` JSON lines `<name>` wrote to standard error so far
    /// (other lines, and a last line still being written, are left out).
    pub fn events(&self, name: &str) -> Vec<serde_json::Value> {
        self.read(&self.err_path(name))
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until `done` holds for `<name>`'s events; `what` says what
    /// was waited for, in the failure message.
    pub fn wait_for_events(
        &self,
        name: &str,
        limit: Duration,
        what: &str,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        loop {
            let events = self.events(name);
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not report {what} within {} s\n{}",
                limit.as_secs(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts `mini-flink jobmanager --bind 127.0.0.1:0 --events ARGS`
    /// as process "jobmanager"; returns the address it listens on.
    pub fn start_jobmanager(&mut self, args: &[&str]) -> String {
        let mut all = vec!["jobmanager", "--bind", "127.0.0.1:0", "--events"];
        all.extend_from_slice(args);
        self.spawn("jobmanager", &all);
        let addr = self.wait_for_line(
            "jobmanager",
            "JobManager listening on ",
            Duration::from_secs(30),
        );
        assert!(
            addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
            "the JobManager should print its real port, printed {addr:?}"
        );
        addr
    }

    /// Starts TaskManagers named `names` (their `--id`s too) with `slots`
    /// slots each, and waits until the JobManager registered all of them.
    pub fn start_taskmanagers(&mut self, addr: &str, names: &[&str], slots: u32) {
        let before = self
            .events("jobmanager")
            .iter()
            .filter(|e| e["event"] == "TaskManagerRegistered")
            .count();
        let slots = slots.to_string();
        for name in names {
            self.spawn(
                name,
                &[
                    "taskmanager",
                    "--jobmanager",
                    addr,
                    "--slots",
                    &slots,
                    "--id",
                    name,
                    "--events",
                ],
            );
        }
        self.wait_for_event(
            "jobmanager",
            "TaskManagerRegistered",
            before + names.len(),
            Duration::from_secs(30),
        );
    }

    /// Waits for the client process `name` (`mini-flink run`) to end and
    /// checks its output exact: FINISHED, the sums of one fault-free run,
    /// and exactly `updates` updates (none lost, none twice). Returns its
    /// standard output.
    pub fn assert_run_exact(
        &mut self,
        name: &str,
        limit: Duration,
        expected: &BTreeMap<String, i64>,
        updates: u64,
    ) -> String {
        let (status, stdout) = self.wait_for_exit(name, limit);
        assert!(
            status.success(),
            "`mini-flink run` failed ({status})\n{}",
            self.logs()
        );
        assert!(stdout.contains(") FINISHED"), "{stdout}");
        assert_eq!(
            &printed_counts(&stdout),
            expected,
            "final sums differ\n{}",
            self.logs()
        );
        assert!(
            stdout.contains(&format!("({updates} updates received)")),
            "expected exactly {updates} updates: none lost, none twice\n{stdout}"
        );
        stdout
    }

    /// Everything the processes printed, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for (name, _) in &self.children {
            for (what, path) in [
                ("stdout", self.out_path(name)),
                ("stderr", self.err_path(name)),
            ] {
                let text = self.read(&path);
                if !text.trim().is_empty() {
                    s.push_str(&format!("----- {name} {what} -----\n{text}\n"));
                }
            }
        }
        s
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("process output kept in {}", self.dir.display());
        }
    }
}

/// The `(key,n)` lines `mini-flink run` prints under "Result:".
pub fn printed_counts(stdout: &str) -> BTreeMap<String, i64> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("Result:"))
        .skip(1)
        .filter_map(|l| {
            let inner = l.trim().strip_prefix('(')?.strip_suffix(')')?;
            let (key, n) = inner.rsplit_once(',')?;
            Some((key.to_string(), n.parse().ok()?))
        })
        .collect()
}

/// The job id in `mini-flink run`'s "Job has been submitted with JobID …" line.
pub fn submitted_job_id(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job has been submitted with JobID "))
        .map(|id| id.trim().to_string())
}

/// Asks the JobManager at `addr` for a job's result, as a client of its
/// own (the test's view of everything a collect sink committed).
pub fn fetch_result(addr: &str, job: &str) -> JobResult {
    let id = JobId::parse(job).unwrap_or_else(|| panic!("{job:?} is not a job id"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let net: NetworkRef = client_network();
        let ask = async {
            let mut client = ClusterClient::connect(&net, addr, "real-tcp-test").await?;
            client.result(id).await
        };
        match tokio::time::timeout(Duration::from_secs(30), ask).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => panic!("asking the JobManager at {addr} for job {job}: {e}"),
            Err(_) => panic!("the JobManager at {addr} did not answer within 30 s"),
        }
    })
}

/// The transport seam of a test's own client of real processes: TCP
/// with their secret ([`mini_flink_tests::real_process::client_network`]).
pub fn client_network() -> NetworkRef {
    mini_flink_tests::real_process::client_network().unwrap_or_else(|e| panic!("{e}"))
}

/// The REST token of real processes started by a test.
pub fn rest_token() -> String {
    mini_flink_tests::real_process::rest_token().unwrap_or_else(|e| panic!("{e}"))
}

/// A port on 127.0.0.1 that was free a moment ago (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS gives a free port on 127.0.0.1")
}

/// `GET path` on a REST endpoint at `addr` ("127.0.0.1:PORT"): the status
/// and the body as JSON (`Null` for a body that is not JSON), or why no
/// answer came.
pub fn http_get(addr: &str, path: &str) -> Result<(u16, serde_json::Value), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let stream = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        .map_err(|_| format!("connecting to {addr} timed out"))?
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
        let (status, body) = tokio::time::timeout(
            Duration::from_secs(10),
            sim::http_client::get(stream, addr, Some(&rest_token()), path),
        )
        .await
        .map_err(|_| format!("GET {path} timed out"))?
        .map_err(|e| format!("GET {path}: {e}"))?;
        Ok((
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        ))
    })
}

impl Cluster {
    /// The attached TUI's scene (tests/tests/tui_attach*.rs): a JobManager
    /// with REST (checkpoints in the cluster's folder), TaskManagers `tm-1`
    /// and `tm-2` of two slots, and `tests/data/tui_attach_job.toml` (a
    /// checkpointed job at parallelism 4 that runs until cancelled)
    /// submitted detached. Returns (RPC address, REST address, job id).
    pub fn attach_scene(&mut self) -> (String, String, String) {
        let checkpoints = self.dir.join("checkpoints").to_string_lossy().into_owned();
        let (rpc, rest) = self.start_jobmanager_with_rest(&["--checkpoint-dir", &checkpoints]);
        self.start_taskmanagers(&rpc, &["tm-1", "tm-2"], 2);
        let job = workspace().join("tests/data/tui_attach_job.toml");
        let job = job.to_string_lossy().into_owned();
        let (status, out) = self.run(
            "client",
            &["run", &job, "--jobmanager", &rpc, "--detached"],
            Duration::from_secs(60),
        );
        assert!(status.success(), "submit: {out}\n{}", self.logs());
        let jid = submitted_job_id(&out).expect("a job id");
        (rpc, rest, jid)
    }

    /// Starts the JobManager (as [`Cluster::start_jobmanager`]) serving
    /// REST on a free port of 127.0.0.1; returns its RPC address and its
    /// REST address once `/config` answers.
    pub fn start_jobmanager_with_rest(&mut self, args: &[&str]) -> (String, String) {
        let rest = format!("127.0.0.1:{}", free_port());
        let mut all = vec!["--rest-bind", rest.as_str()];
        all.extend_from_slice(args);
        let addr = self.start_jobmanager(&all);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match http_get(&rest, "/config") {
                Ok((200, _)) => return (addr, rest),
                other if Instant::now() > deadline => {
                    panic!("REST on {rest} does not answer: {other:?}\n{}", self.logs())
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}
