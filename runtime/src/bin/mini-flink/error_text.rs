//! How the CLI prints an error: its chain of causes on one line, each
//! cause once.
//!
//! A leaf of the binary: `main` prints a command's error with
//! [`error_text`], and the commands in [`crate::cli`] word a library error
//! they report with [`cause_text`]. In: an error and its sources. Out: one
//! line of text.

/// An error and its causes on one line, leaving out a cause its parent's
/// message already spells out (the runtime's errors embed their sources).
pub fn error_text(e: &anyhow::Error) -> String {
    chain_text(e.chain())
}

/// [`error_text`] of a library error that is not (yet) an `anyhow::Error`.
pub fn cause_text(e: &(dyn std::error::Error + 'static)) -> String {
    chain_text(anyhow::Chain::new(e))
}

/// Joins an error chain with ": ", dropping repeated causes.
fn chain_text(chain: anyhow::Chain<'_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in chain {
        let m = cause.to_string();
        if parts.last().is_some_and(|p| p.contains(&m)) {
            continue;
        }
        parts.push(m);
    }
    parts.join(": ")
}
