//! Located errors: [`JobFileError`] and the [`Source`] text it points into.
//!
//! Every mistake in a job, application or scenario file becomes one
//! `JobFileError` with the file, line and column (from TOML spans), the
//! source line and a help text, printed in the style of `rustc` (see the
//! [module map](super)). In: a byte span and a message, or a TOML/serde
//! error. Out: the error, ready to print.

use std::fmt;
use std::ops::Range;
use std::path::Path;

/// A problem in a job file, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFileError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it (may be empty).
    pub help: String,
    /// The offending source line and the length of the marked span.
    pub snippet: Option<(String, usize)>,
}

impl std::error::Error for JobFileError {}

impl fmt::Display for JobFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line == 0 {
            // Nothing in the file to point at (it could not be read).
            write!(f, " --> {}", self.file)?;
        } else {
            write!(f, " --> {}:{}:{}", self.file, self.line, self.column)?;
        }
        if let Some((src, len)) = &self.snippet {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            write!(
                f,
                "\n{pad} |\n{num} | {src}\n{pad} | {}{}",
                " ".repeat(self.column.saturating_sub(1)),
                "^".repeat((*len).max(1))
            )?;
        }
        if !self.help.is_empty() {
            let pad = " ".repeat(self.line.to_string().len());
            write!(f, "\n{pad} = help: {}", self.help)?;
        }
        Ok(())
    }
}

/// Where a piece of TOML text came from, for error messages and for
/// resolving relative paths (a `words` source's `file`).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// Name to print (usually the path as given).
    pub file: &'a str,
    /// The text.
    pub text: &'a str,
    /// Directory relative paths start from.
    pub base_dir: &'a Path,
}

impl Source<'_> {
    /// An error at a byte range of the text.
    pub fn error_at(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> JobFileError {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..start].chars().count() + 1;
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let src = self.text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let end = span.end.clamp(start, line_end.max(start));
        let len = self.text[start..end].chars().count();
        JobFileError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
            help: help.into(),
            snippet: Some((src, len)),
        }
    }

    /// Reads the text as TOML into `T` (one of the `Raw*` structs). Text
    /// that is not TOML at all and TOML that does not fit `T` are told
    /// apart by parsing twice: first as a plain table, then as `T`.
    pub fn parse_toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobFileError> {
        if let Err(e) = toml::from_str::<toml::Table>(self.text) {
            return Err(self.toml_error(&e, true));
        }
        toml::from_str(self.text).map_err(|e| self.toml_error(&e, false))
    }

    /// Turns a TOML/serde error into a located one.
    fn toml_error(&self, e: &toml::de::Error, syntax: bool) -> JobFileError {
        let message = e.message().trim().to_string();
        let help = toml_error_help(syntax, &message);
        match e.span() {
            Some(span) => self.error_at(span, message, help),
            None => JobFileError {
                file: self.file.to_string(),
                line: 1,
                column: 1,
                message,
                help,
                snippet: None,
            },
        }
    }
}

/// The help for a TOML error; `syntax` says whether the text is not TOML
/// at all (as opposed to TOML whose fields or values do not fit the
/// schema); see [`schema_help`].
fn toml_error_help(syntax: bool, message: &str) -> String {
    if syntax {
        SYNTAX_HELP.into()
    } else {
        schema_help(message)
    }
}

const SYNTAX_HELP: &str = "see TOML's syntax at https://toml.io";

/// The help for a TOML value that does not fit the schema.
///
/// Why this reads the message: `toml::de::Error` offers only `message()`
/// and `span()`, no kind. The kind exists one layer down, as the
/// `serde::de::Error` method the deserializer called (`unknown_field`,
/// `missing_field`, `invalid_type`, `invalid_value`), but toml turns each
/// call into text at once through serde's default implementations, whose
/// wording ("unknown field `x`, expected ...", "missing field `x`", "invalid
/// type: ...", "invalid value: ...") is serde's stable format. So whether the
/// text is TOML at all is decided structurally (it is first parsed as a plain
/// table, see [`Source::parse_toml`]), and only among schema errors is
/// serde's wording the one interface there is.
fn schema_help(message: &str) -> String {
    if message.starts_with("unknown field") {
        "remove it or fix its spelling; the fields it may be are listed above".into()
    } else if message.starts_with("missing field") {
        "add the field".into()
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "check the value's type: numbers unquoted, names in quotes".into()
    } else {
        SYNTAX_HELP.into()
    }
}
