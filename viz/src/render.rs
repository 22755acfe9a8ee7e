//! Turning DOT into SVG or PNG with Graphviz's `dot` program.
//!
//! No Flink concept lives here: this is the one place `viz` leaves pure
//! functions and runs a program, through `graphviz_rust::exec_dot` (which
//! hands the DOT text to `dot` in a temporary file and returns what `dot`
//! printed). The picture comes back as bytes, or is written to a file;
//! `dot`'s complaint comes back in the error when it fails. Graphviz is an
//! optional system package, so "not installed" is its own error that tells
//! the user how to install it.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use graphviz_rust::cmd::{CommandArg, Format as DotFormat};

/// The picture formats `viz` asks `dot` for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics, for the book and browsers.
    Svg,
    /// A bitmap, for places that cannot show SVG.
    Png,
}

impl Format {
    fn arg(self) -> CommandArg {
        CommandArg::Format(match self {
            Format::Svg => DotFormat::Svg,
            Format::Png => DotFormat::Png,
        })
    }
}

/// Why no picture was produced.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The `dot` program was not found on the `PATH`.
    #[error(
        "the `dot` program (graphviz) is not installed: install graphviz \
         (e.g. `apt-get install graphviz` or `brew install graphviz`) \
         to draw SVG or PNG, or use the DOT output as it is"
    )]
    DotNotInstalled,
    /// `dot` ran and failed, for example on invalid DOT.
    #[error("`dot` failed{}", colon(stderr))]
    DotFailed {
        /// What it wrote to stderr.
        stderr: String,
    },
    /// Starting `dot` or talking to it failed for another reason.
    #[error("could not run `dot`: {0}")]
    Io(#[source] io::Error),
    /// The picture was drawn but could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// Where it was to go.
        path: PathBuf,
        /// Why it could not.
        source: io::Error,
    },
}

/// `": msg"` for a non-empty message, nothing otherwise.
fn colon(msg: &str) -> String {
    let msg = msg.trim();
    if msg.is_empty() {
        String::new()
    } else {
        format!(": {msg}")
    }
}

/// Draws `dot` in `format` and returns the picture's bytes.
pub fn render(dot: &str, format: Format) -> Result<Vec<u8>, RenderError> {
    graphviz_rust::exec_dot(dot.to_string(), vec![format.arg()]).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => RenderError::DotNotInstalled,
        // graphviz-rust reports a failed `dot` as `Other`, carrying its stderr.
        io::ErrorKind::Other => RenderError::DotFailed {
            stderr: e.to_string(),
        },
        _ => RenderError::Io(e),
    })
}

/// Draws `dot` in `format` into the file `out`.
pub fn render_to(dot: &str, format: Format, out: &Path) -> Result<(), RenderError> {
    let bytes = render(dot, format)?;
    std::fs::write(out, bytes).map_err(|source| RenderError::Write {
        path: out.to_path_buf(),
        source,
    })
}

/// Renders `dot` to an SVG file at `out`.
pub fn render_svg(dot: &str, out: &Path) -> Result<(), RenderError> {
    render_to(dot, Format::Svg, out)
}

/// Renders `dot` to a PNG file at `out`.
pub fn render_png(dot: &str, out: &Path) -> Result<(), RenderError> {
    render_to(dot, Format::Png, out)
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
