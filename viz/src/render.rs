//! Turning DOT into SVG with Graphviz's `dot` program.
//!
//! No Flink concept lives here: this is the one place `viz` leaves pure
//! functions and runs a program. The DOT text goes in on `dot`'s stdin, the
//! SVG comes out in a file, and `dot`'s stderr comes back in the error when
//! it fails. Graphviz is an optional system package, so "not installed" is
//! its own error that tells the user how to install it.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Why [`render_svg`] produced no picture.
#[derive(Debug)]
pub enum RenderError {
    /// The `dot` program was not found on the `PATH`.
    DotNotInstalled,
    /// `dot` ran and failed, for example on invalid DOT or an unwritable
    /// output path.
    DotFailed {
        /// Its exit code, if it exited rather than being killed.
        code: Option<i32>,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// Starting `dot` or talking to it failed for another reason.
    Io(io::Error),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::DotNotInstalled => write!(
                f,
                "the `dot` program (graphviz) is not installed: install graphviz \
                 (e.g. `apt-get install graphviz` or `brew install graphviz`) \
                 to draw SVG, or use the DOT output as it is"
            ),
            RenderError::DotFailed { code, stderr } => {
                match code {
                    Some(c) => write!(f, "`dot` failed with exit code {c}")?,
                    None => write!(f, "`dot` was killed by a signal")?,
                }
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            RenderError::Io(e) => write!(f, "could not run `dot`: {e}"),
        }
    }
}

impl std::error::Error for RenderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RenderError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Renders `dot` to an SVG file at `out` by running `dot -Tsvg -o out`.
pub fn render_svg(dot: &str, out: &Path) -> Result<(), RenderError> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => RenderError::DotNotInstalled,
            _ => RenderError::Io(e),
        })?;
    // Feed stdin from another thread so that `dot` filling its stderr pipe
    // can never deadlock against us still writing its input.
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let input = dot.as_bytes();
    let (written, output) = std::thread::scope(|s| {
        let writer = s.spawn(move || stdin.write_all(input));
        let output = child.wait_with_output();
        (writer.join(), output)
    });
    let output = output.map_err(RenderError::Io)?;
    if !output.status.success() {
        return Err(RenderError::DotFailed {
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    // `dot` succeeded, so it read all of its input; a write error here would
    // mean it exited early, which the status above already reported.
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(RenderError::Io(e)),
        Err(_) => Err(RenderError::Io(io::Error::other("stdin writer panicked"))),
    }
}

/// Whether the `dot` program can be run (`dot -V` succeeds).
pub fn dot_available() -> bool {
    Command::new("dot")
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
