//! `tui --attach URL` where nothing answers: one clear error on stderr and
//! exit code 2, before the terminal is touched (no escape codes on stdout).

use std::net::TcpListener;
use std::process::Command;

/// A port on 127.0.0.1 where nothing listens (bound, then let go).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

/// Attaching to a closed port says which call failed and why, exit code 2.
#[test]
fn attach_to_a_closed_port_exits_2() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_tui"))
        .args(["--attach", &url])
        .output()
        .expect("run tui");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("error: cannot attach to {url}"))
            && stderr.contains("GET")
            && stderr.contains("/config")
            && stderr.contains("nothing listens"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "the terminal was not touched");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A URL that is not one (another scheme, https without the CA, a bad
/// port) is refused the same way.
#[test]
fn attach_to_a_bad_url_exits_2() {
    for (url, why) in [
        ("https://127.0.0.1:8081", "an https address needs --tls-ca"),
        ("ftp://127.0.0.1:8081", "only http:// and https://"),
        ("http://127.0.0.1:80x", "`80x` is not a port number"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tui"))
            .args(["--attach", url])
            .output()
            .expect("run tui");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains(why), "{url}: {stderr}");
    }
}

/// `--refresh` without `--attach`, or with a scenario, is a usage error.
#[test]
fn attach_flags_need_attach() {
    let out = Command::new(env!("CARGO_BIN_EXE_tui"))
        .args(["--refresh", "500", "x.toml"])
        .output()
        .expect("run tui");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--attach"), "{stderr}");
}
