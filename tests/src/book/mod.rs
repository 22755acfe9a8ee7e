//! The book's generated material and its exercises' checks.
//!
//! Nothing in `book/src/generated/` is typed by hand: [`generate`] runs
//! what each chapter shows (a `mini-flink` command, a scenario in the
//! simulator, the TUI at a fixed size, a picture from `viz`) and returns
//! the files; [`write`] puts them on disk. The same calls back the
//! `book` binary (`cargo run -p mini-flink-tests --bin book`) and the test
//! `tests/tests/book.rs`, which regenerates into a temporary folder and
//! fails when the committed copies differ. Everything is deterministic:
//! job files compile the same way every time, and scenarios run in the
//! simulator with the scenario's fixed seed.
//!
//! | module | what |
//! |---|---|
//! | [`chapters`] | what each chapter shows, one function per chapter |
//! | [`exercise`] | an exercise's expectation (`expect.toml`) and its check |
//! | [`links`] | the link checker: chapters, includes, links and pictures resolve |
//!
//! Pictures are Graphviz DOT text; an SVG is drawn next to each DOT file
//! only where Graphviz's `dot` program is installed (SVG output differs
//! between Graphviz versions, so only the DOT text is compared).

pub mod chapters;
pub mod exercise;
pub mod links;

use std::path::{Path, PathBuf};

/// The command that refreshes the committed generated files.
pub const REFRESH: &str = "cargo run -p mini-flink-tests --bin book -- generate";

/// One generated file: where it goes under `book/src/generated/`, and what
/// it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Path relative to `book/src/generated/`, with `/` separators.
    pub path: String,
    /// The file's text.
    pub text: String,
}

impl Generated {
    /// A file at `path` (relative to `generated/`) with `text`.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Generated {
        Generated {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Whether this is a picture in DOT, which gets an SVG beside it.
    pub fn is_dot(&self) -> bool {
        self.path.ends_with(".dot")
    }
}

/// Why the book's material could not be generated or checked.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// A job file did not load (its own error says where and why).
    #[error("{path}: {message}")]
    JobFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A scenario did not load or run.
    #[error("{path}: {message}")]
    Scenario {
        /// The scenario file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An exercise's `expect.toml` is not what [`exercise::Expect`] reads.
    #[error("{path}: {message}")]
    Expect {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Graphviz could not draw a picture.
    #[error("cannot draw {path}: {message}")]
    Picture {
        /// The SVG file.
        path: PathBuf,
        /// Graphviz's complaint.
        message: String,
    },
}

/// The repository's root (the folder holding `scenarios/` and `book/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository root")
        .to_path_buf()
}

/// The folder the book includes generated files from.
pub fn generated_dir(root: &Path) -> PathBuf {
    root.join("book/src/generated")
}

/// Every chapter's generated files, in chapter order.
pub fn generate(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut out = Vec::new();
    out.extend(chapters::ch01::client_and_cluster(root)?);
    out.extend(chapters::ch02::jobmanager_and_taskmanagers(root)?);
    out.extend(chapters::ch03::three_roles(root)?);
    out.extend(chapters::ch04::views_of_a_dataflow(root)?);
    out.extend(chapters::ch05::execution_modes(root)?);
    out.extend(chapters::ch06::checkpoints(root)?);
    out.extend(chapters::ch07::breaking_it(root)?);
    out.extend(chapters::ch08::running_for_real(root)?);
    out.extend(unchanged_exercises(root)?);
    Ok(out)
}

/// What `book check` says of every exercise's unchanged file, as
/// `generated/exercises/NAME.console`, for the chapters to show what a
/// student sees first.
pub fn unchanged_exercises(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut out = Vec::new();
    for ex in exercise::all(root)? {
        let name = ex
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = format!("book/exercises/{name}");
        let file = format!("{dir}/{}", ex.expect.exercise);
        let misses = ex.check(&ex.exercise_file())?;
        out.push(Generated::new(
            format!("exercises/{name}.console"),
            transcript(
                &exercise::check_command(&dir, &file),
                &exercise::report(&file, &misses),
            ),
        ));
    }
    Ok(out)
}

/// Writes `files` under `dir`, and for each DOT file an SVG beside it when
/// `svg` is set (the caller checks that Graphviz is installed).
pub fn write(dir: &Path, files: &[Generated], svg: bool) -> Result<(), BookError> {
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| BookError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, &f.text).map_err(|source| BookError::Io {
            path: path.clone(),
            source,
        })?;
        if svg && f.is_dot() {
            let out = path.with_extension("svg");
            viz::render_svg(&f.text, &out).map_err(|e| BookError::Picture {
                path: out.clone(),
                message: e.to_string(),
            })?;
        }
    }
    Ok(())
}

/// A command line and what it printed, as a console transcript: `$ ` and
/// the command, then its output (ending in a newline).
pub fn transcript(command: &str, output: &str) -> String {
    let mut s = format!("$ {command}\n{output}");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
