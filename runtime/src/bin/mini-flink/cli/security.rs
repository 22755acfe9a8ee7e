//! The flags every command shares for the cluster's security: the secret
//! file, `--insecure`, TLS (`--tls-cert`, `--tls-key`, `--tls-ca`) and the
//! handshake timeout; and the one place a
//! process turns them into the transport seam's credentials
//! ([`network`]). See the README's "Security".

use anyhow::{Context, Result, bail};
use clap::Args;
use runtime::net::auth::{self, Auth, SECRET_FILE_ENV};
use runtime::net::{NetworkRef, TcpNetwork};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// `--secret-file`, `--insecure`, `--tls-*`: on every command.
#[derive(Debug, Clone, Args)]
pub struct SecurityArgs {
    /// The cluster's secret file; the first JobManager or coordinator
    /// creates it (mode 0600) [default: $XDG_CONFIG_HOME/mini-flink/secret,
    /// else ~/.config/mini-flink/secret]
    #[arg(long, global = true, value_name = "PATH", env = SECRET_FILE_ENV)]
    pub secret_file: Option<PathBuf>,
    /// No authentication at all: anyone who reaches a port can join, drive
    /// and read the cluster (for tools written for Flink). Warned about on
    /// every start
    #[arg(long, global = true)]
    pub insecure: bool,
    /// With --insecure: allow binding an address other machines can reach
    #[arg(long, global = true, requires = "insecure")]
    pub insecure_non_loopback: bool,
    /// How long an accepted connection may take to prove it knows the secret
    #[arg(long, global = true, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub handshake_timeout_ms: u64,
    /// TLS on every connection (RPC, data, REST): this process's
    /// certificate chain (PEM), for the ports it serves
    #[arg(long, global = true, value_name = "PEM", requires_all = ["tls_key", "tls_ca"])]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, global = true, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// TLS: the CA certificate (PEM) every server's certificate is checked
    /// against; alone (without --tls-cert), for clients
    #[arg(long, global = true, value_name = "PEM")]
    pub tls_ca: Option<PathBuf>,
}

static ARGS: OnceLock<SecurityArgs> = OnceLock::new();

/// Keeps the parsed flags for [`network`] (called once, by `main`).
pub fn init(args: SecurityArgs) {
    let _ = ARGS.set(args);
}

fn args() -> SecurityArgs {
    ARGS.get().cloned().unwrap_or(SecurityArgs {
        secret_file: None,
        insecure: false,
        insecure_non_loopback: false,
        handshake_timeout_ms: 10_000,
        tls_cert: None,
        tls_key: None,
        tls_ca: None,
    })
}

/// The CA certificate of `--tls-ca`, if given (clients of an https REST
/// API check the server against it).
pub fn tls_ca() -> Option<PathBuf> {
    args().tls_ca
}

/// `https` when this process serves TLS (`--tls-cert`), else `http`: the
/// scheme of its REST API's address.
pub fn rest_scheme() -> &'static str {
    if args().tls_cert.is_some() {
        "https"
    } else {
        "http"
    }
}

/// The TCP seam with `auth` and, if asked, TLS.
fn tcp(a: &SecurityArgs, auth: Auth) -> Result<NetworkRef> {
    let net = TcpNetwork::new(auth);
    let Some(ca) = &a.tls_ca else {
        return Ok(Arc::new(net));
    };
    let cert_key = a.tls_cert.as_deref().zip(a.tls_key.as_deref());
    let tls = runtime::net::tls::Tls::from_files(ca, cert_key)?;
    Ok(Arc::new(net.with_tls(tls)))
}

/// Which processes may create the secret when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// A JobManager or coordinator: the first one creates it.
    Creator,
    /// A TaskManager or client: it must exist.
    Member,
}

/// The secret file this process uses.
pub fn secret_path() -> Result<PathBuf> {
    Ok(auth::secret_path(args().secret_file.as_deref())?)
}

/// The transport seam of this process: TCP with the cluster's secret
/// (created if `who` may and there is none; said so on stdout), or
/// without any with `--insecure` (warned about on stderr).
pub fn network(who: Who) -> Result<NetworkRef> {
    let a = args();
    let timeout = Duration::from_millis(a.handshake_timeout_ms);
    if a.insecure {
        eprintln!(
            "WARNING: --insecure: no authentication. Anyone who can reach this process's ports \
             can join the cluster, drive it and read its data."
        );
        return tcp(&a, Auth::insecure().with_handshake_timeout(timeout));
    }
    let path = auth::secret_path(a.secret_file.as_deref())?;
    let secret = match who {
        Who::Creator => {
            let (secret, created) = auth::load_or_create(&path)?;
            if created {
                say!(
                    "Created the cluster secret {} (readable by you only); TaskManagers and \
                     clients of this user on this machine find it there, others need a copy \
                     (--secret-file)",
                    path.display()
                );
            }
            secret
        }
        Who::Member => auth::Secret::load(&path)?,
    };
    tcp(
        &a,
        Auth::with_secret(secret).with_handshake_timeout(timeout),
    )
}

/// The arguments a child `mini-flink` process needs to join this one's
/// cluster (the TaskManagers an active ResourceManager starts).
pub fn child_args() -> Result<Vec<String>> {
    let a = args();
    let mut v = vec![
        "--handshake-timeout-ms".to_string(),
        a.handshake_timeout_ms.to_string(),
    ];
    for (flag, path) in [
        ("--tls-cert", &a.tls_cert),
        ("--tls-key", &a.tls_key),
        ("--tls-ca", &a.tls_ca),
    ] {
        if let Some(p) = path {
            v.extend([flag.to_string(), p.display().to_string()]);
        }
    }
    if a.insecure {
        v.push("--insecure".to_string());
        if a.insecure_non_loopback {
            v.push("--insecure-non-loopback".into());
        }
        return Ok(v);
    }
    v.extend(["--secret-file".into(), secret_path()?.display().to_string()]);
    Ok(v)
}

/// Refuses `--insecure` on an address other machines can reach, unless
/// `--insecure-non-loopback` says so too. `flag` names the option.
pub fn check_bind(flag: &str, addr: &str) -> Result<()> {
    let a = args();
    if a.insecure && !a.insecure_non_loopback && !is_loopback(addr) {
        bail!(
            "{flag} {addr} can be reached from other machines, and --insecure lets anyone \
             there join and drive the cluster: bind 127.0.0.1, drop --insecure, or add \
             --insecure-non-loopback"
        );
    }
    Ok(())
}

/// Whether `addr` ("127.0.0.1:6123", "localhost:0", "[::1]:80") is loopback only.
fn is_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The REST token of this process's secret, for `mini-flink token`.
pub fn token() -> Result<String> {
    let path = secret_path()?;
    let secret = auth::Secret::load(&path)
        .with_context(|| "`mini-flink token` reads the secret a JobManager created")?;
    Ok(secret.rest_token())
}

/// The REST token if this process is secured (for the printed web UI address).
pub fn rest_token(net: &NetworkRef) -> Option<String> {
    net.auth().secret().map(|s| s.rest_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loopback addresses are told from others.
    #[test]
    fn loopback() {
        assert!(is_loopback("127.0.0.1:6123"));
        assert!(is_loopback("localhost:0"));
        assert!(is_loopback("[::1]:80"));
        assert!(!is_loopback("0.0.0.0:6123"));
        assert!(!is_loopback("10.0.0.1:6123"));
    }
}
