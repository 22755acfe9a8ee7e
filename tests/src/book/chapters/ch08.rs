//! Chapter 8, "Running it for real on a few machines": a real session
//! cluster of `mini-flink` processes over TCP (its transcript, with what
//! differs between runs masked), and the simulator's twin of it (a TUI
//! screen and the cluster's picture).

use super::{picture_at, runs, screen_text, select_job};
use crate::book::{BookError, Generated, transcript};
use crate::real_process::{mini_flink_binary, wait_until};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tui::App;

/// How long a process may take to say what it is expected to say.
const PATIENCE: Duration = Duration::from_secs(30);

/// The job the chapter runs, relative to the repository.
const JOB: &str = "scenarios/jobs/wordcount.toml";

/// Processes of one real cluster, with their output in a temporary folder;
/// all are killed (and the folder removed) when it is dropped.
struct Processes {
    bin: PathBuf,
    dir: PathBuf,
    children: Vec<(String, Child)>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A failure of the real cluster, with everything its processes printed.
fn failed(p: &Processes, what: &str) -> BookError {
    let mut logs = String::new();
    for (name, _) in &p.children {
        for ext in ["out", "err"] {
            let text =
                std::fs::read_to_string(p.dir.join(format!("{name}.{ext}"))).unwrap_or_default();
            if !text.is_empty() {
                logs.push_str(&format!("--- {name}.{ext}\n{text}"));
            }
        }
    }
    BookError::Scenario {
        path: "chapter 8's real cluster".into(),
        message: format!("{what}\n{logs}"),
    }
}

impl Processes {
    fn new() -> Result<Processes, BookError> {
        let bin = mini_flink_binary().map_err(|message| BookError::Scenario {
            path: "mini-flink".into(),
            message,
        })?;
        let dir = std::env::temp_dir().join(format!("mini-flink-book-ch08-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|source| BookError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Processes {
            bin,
            dir,
            children: Vec::new(),
        })
    }

    /// Starts `mini-flink ARGS` in `cwd` as `name`, its output to files.
    fn spawn(&mut self, name: &str, cwd: &Path, args: &[&str]) -> Result<(), BookError> {
        let file = |ext: &str| {
            let path = self.dir.join(format!("{name}.{ext}"));
            std::fs::File::create(&path).map_err(|source| BookError::Io { path, source })
        };
        let (out, err) = (file("out")?, file("err")?);
        let child = Command::new(&self.bin)
            .args(args)
            .env(
                runtime::net::auth::SECRET_FILE_ENV,
                self.dir.join(SECRET_FILE),
            )
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| BookError::Io {
                path: self.bin.clone(),
                source,
            })?;
        self.children.push((name.to_string(), child));
        Ok(())
    }

    /// What `name` has printed on stdout (`out`) or stderr (`err`) so far.
    fn read(&self, name: &str, ext: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.{ext}"))).unwrap_or_default()
    }

    /// Waits until `name`'s output `ext` satisfies `ready`; returns its
    /// stdout then.
    fn wait_for(
        &self,
        name: &str,
        ext: &str,
        what: &str,
        ready: impl Fn(&str) -> bool,
    ) -> Result<String, BookError> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if ready(&self.read(name, ext)) {
                return Ok(self.read(name, "out"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(failed(
            self,
            &format!("{name} did not {what} within {PATIENCE:?}"),
        ))
    }

    /// Runs `mini-flink ARGS` in `cwd` to its end; its stdout.
    fn run(&mut self, name: &str, cwd: &Path, args: &[&str]) -> Result<String, BookError> {
        self.spawn(name, cwd, args)?;
        let Some((_, child)) = self.children.last_mut() else {
            return Err(failed(self, "no process"));
        };
        match wait_until(child, PATIENCE) {
            Some(s) if s.success() => Ok(self.read(name, "out")),
            Some(s) => Err(failed(
                self,
                &format!("`mini-flink {}` failed ({s})", args.join(" ")),
            )),
            None => Err(failed(
                self,
                &format!("`mini-flink {}` did not end", args.join(" ")),
            )),
        }
    }
}

/// The text after `prefix` on the first line that starts with it.
fn after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(str::trim)
}

/// The chapter's cluster secret file, in its folder (so that the
/// JobManager creates it, and says so, on every run).
const SECRET_FILE: &str = "secret";

/// A GET of `path` from the HTTP server at `addr` with the REST `token`,
/// as `curl -s` prints it: the body.
fn http_get(addr: &str, path: &str, token: &str) -> Result<String, String> {
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    s.set_read_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{addr}: {e}"))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .map_err(|e| format!("{addr}: {e}"))?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{addr}{path}: not an HTTP answer"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "{addr}{path}: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    Ok(body.to_string())
}

/// What a masked job id reads: as wide as a job id, so that tables stay
/// aligned.
pub const JOB_ID: &str = "<------------job-id------------>";

/// Replaces what differs from run to run: the cluster's folder (`dir`,
/// as `<cwd>`), the ports the cluster picked (`ports`, each by its name),
/// 32-digit job ids ([`JOB_ID`]), and durations (`in 0.005 s`).
pub fn mask(text: &str, dir: &str, ports: &[(&str, &str)]) -> String {
    let mut s = text.replace(dir, "<cwd>");
    for (port, name) in ports {
        s = s.replace(&format!(":{port}"), &format!(":<{name}>"));
    }
    // Job ids: 32 hexadecimal digits.
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.len() == 32 && word.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str(JOB_ID);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    // Durations: "in 0.005 s".
    let mut masked = String::new();
    for line in out.split_inclusive('\n') {
        match line.find(" in ").map(|i| (i, &line[i + 4..])) {
            Some((i, rest))
                if rest
                    .split_once(" s")
                    .is_some_and(|(n, _)| !n.is_empty() && n.parse::<f64>().is_ok()) =>
            {
                let (_, tail) = rest.split_once(" s").unwrap_or(("", ""));
                masked.push_str(&format!("{} in <seconds> s{tail}", &line[..i]));
            }
            _ => masked.push_str(line),
        }
    }
    masked
}

/// A console transcript of a real session cluster: a JobManager, two
/// TaskManagers, WordCount submitted and listed, and the REST overview.
fn real_cluster(root: &Path) -> Result<String, BookError> {
    let mut p = Processes::new()?;
    let dir = p.dir.clone();
    let jm_args = [
        "jobmanager",
        "--bind",
        "127.0.0.1:0",
        "--rest-bind",
        "127.0.0.1:0",
        "--spread",
        "--checkpoint-dir",
        "checkpoints",
        "--events",
    ];
    p.spawn("jobmanager", &dir, &jm_args)?;
    let jm_out = p.wait_for("jobmanager", "out", "print its addresses", |t| {
        t.contains("Checkpoints and savepoints go to ")
    })?;
    let rpc = after(&jm_out, "JobManager listening on ")
        .ok_or_else(|| failed(&p, "the JobManager printed no address"))?
        .to_string();
    let rest = after(&jm_out, "REST API and web UI on http://")
        .map(|r| r.trim_end_matches('/').to_string())
        .ok_or_else(|| failed(&p, "the JobManager printed no REST address"))?;
    let port = |addr: &str| {
        addr.rsplit_once(':')
            .map_or(String::new(), |(_, p)| p.to_string())
    };
    let (rpc_port, rest_port) = (port(&rpc), port(&rest));
    let mut out = transcript(
        &format!("mini-flink {} &", jm_args[..jm_args.len() - 1].join(" ")),
        &jm_out,
    );

    for (n, name) in ["taskmanager-1", "taskmanager-2"].iter().enumerate() {
        let args = [
            "taskmanager",
            "--jobmanager",
            &rpc,
            "--slots",
            "2",
            "--id",
            name,
        ];
        p.spawn(name, &dir, &args)?;
        let printed = p.wait_for(name, "out", "start", |t| t.contains("connecting to"))?;
        // The JobManager's events say when it has registered.
        p.wait_for("jobmanager", "err", "register the TaskManager", |t| {
            t.matches("\"TaskManagerRegistered\"").count() > n
        })?;
        out.push_str(&transcript(
            &format!("mini-flink {} &", args.join(" ")),
            &printed,
        ));
    }

    // How many "Job status:" lines `run` prints depends on when its polls
    // fall; the transcript filters them, and shows the first keys of the
    // result only, as its command line says.
    let run = p.run("run", root, &["run", JOB, "--jobmanager", &rpc])?;
    let run: String = run
        .lines()
        .filter(|l| !l.starts_with("Job status"))
        .take(14)
        .map(|l| format!("{l}\n"))
        .collect();
    out.push_str(&transcript(
        &format!("mini-flink run {JOB} --jobmanager {rpc} | grep -v '^Job status' | head -14"),
        &run,
    ));
    let list = p.run("list", root, &["list", "--jobmanager", &rpc])?;
    out.push_str(&transcript(
        &format!("mini-flink list --jobmanager {rpc}"),
        &list,
    ));
    let secret = dir.join(SECRET_FILE);
    let token = runtime::net::auth::Secret::load(&secret)
        .map_err(|e| failed(&p, &e.to_string()))?
        .rest_token();
    let overview = http_get(&rest, "/overview", &token).map_err(|e| failed(&p, &e))?;
    out.push_str(&transcript(
        &format!("curl -s -H \"Authorization: Bearer $(mini-flink token)\" http://{rest}/overview"),
        &format!("{overview}\n"),
    ));
    // What a reader sees on their machine: the default secret file, and
    // a token of their own.
    let out = out
        .replace(
            &secret.to_string_lossy().into_owned(),
            "~/.config/mini-flink/secret",
        )
        .replace(&token, "<token>");
    Ok(mask(
        &out,
        &dir.to_string_lossy(),
        &[(&rpc_port, "rpc-port"), (&rest_port, "rest-port")],
    ))
}

/// Chapter 8's files.
pub fn running_for_real(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut files = vec![Generated::new(
        "ch08/real-cluster.console",
        real_cluster(root)?,
    )];

    // The simulator's twin: the same cluster and job.
    let s = runs::load(root, "book/scenarios/two-machines.toml")?;
    let mut app = App::live(&s, None);
    app.run_until(207);
    select_job(&mut app, "wordcount")?;
    files.push(Generated::new("ch08/twin.screen", screen_text(&app)));
    let mut app = App::live(&s, None);
    let c = picture_at(&mut app, &s, 207)?;
    files.push(Generated::new(
        "ch08/twin-cluster.dot",
        viz::cluster_dot(&c, viz::ClusterDiagram::Cluster),
    ));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn what_differs_between_runs_is_masked() {
        let text = "JobManager listening on 127.0.0.1:40123\n\
                    Checkpoints go to /tmp/x-1/checkpoints\n\
                    Job 5d93cdbea07f9b04e71469048d8e0072 (\"wordcount\") FINISHED in 0.005 s\n\
                    (to,11) in 3 keys\n";
        assert_eq!(
            mask(text, "/tmp/x-1", &[("40123", "rpc-port")]),
            "JobManager listening on 127.0.0.1:<rpc-port>\n\
             Checkpoints go to <cwd>/checkpoints\n\
             Job <------------job-id------------> (\"wordcount\") FINISHED in <seconds> s\n\
             (to,11) in 3 keys\n"
        );
        assert_eq!(super::JOB_ID.len(), 32);
    }
}
