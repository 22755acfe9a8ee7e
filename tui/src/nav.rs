//! k9s-style navigation: the `:` command line, the `/` filter, and the
//! drill-down path (jobs › job › vertex › subtask).
//!
//! Flink's web dashboard is a tree you click through: the job list, a
//! job's vertices (its JobGraph), a vertex's subtasks (its
//! ExecutionVertices and their current attempts), and beside them the
//! checkpoint and exception tabs. Here the same tree is walked with keys:
//! `:jobs` (or any alias, or a unique prefix) opens a screen, `Enter` goes
//! one level down, `Esc` one level up, `/` narrows the lists to what
//! contains a text. Everything here is pure data (a leaf: the screens are
//! named here): [`crate::app`] turns keys into changes of a [`Nav`],
//! [`crate::ui`] draws it.

/// The screen shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// TaskManagers and slots, jobs, the event log.
    Cluster,
    /// The dataflow of the selected job, as graphs.
    Dataflow,
    /// The event log, full screen, with explanations.
    Events,
    /// The jobs, and drilled into: a job's vertices, a vertex's subtasks.
    Jobs,
    /// Each job's checkpoint history.
    Checkpoints,
    /// Each job's failures and restarts.
    Exceptions,
}

/// What a command names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Show a screen (and go to its top level).
    Show(Screen),
    /// Open the help.
    Help,
    /// Leave.
    Quit,
}

/// Every command: its full name first, then its aliases.
pub const COMMANDS: &[(&[&str], Command)] = &[
    (&["jobs", "job", "j"], Command::Show(Screen::Jobs)),
    (
        &["cluster", "tm", "taskmanagers", "slots"],
        Command::Show(Screen::Cluster),
    ),
    (
        &["dataflow", "df", "graph"],
        Command::Show(Screen::Dataflow),
    ),
    (&["events", "ev", "log"], Command::Show(Screen::Events)),
    (
        &["checkpoints", "cp", "chk"],
        Command::Show(Screen::Checkpoints),
    ),
    (
        &["exceptions", "ex", "exc", "errors"],
        Command::Show(Screen::Exceptions),
    ),
    (&["help", "?"], Command::Help),
    (&["quit", "q", "q!"], Command::Quit),
];

/// Why a command line means nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Nothing typed.
    Empty,
    /// No command starts so.
    Unknown(String),
    /// Several commands start so: their full names.
    Ambiguous(String, Vec<&'static str>),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Empty => write!(f, "no command"),
            CommandError::Unknown(c) => write!(
                f,
                "unknown command :{c} (try :jobs :tm :dataflow :events :checkpoints :exceptions)"
            ),
            CommandError::Ambiguous(c, all) => {
                write!(f, ":{c} could be :{}", all.join(" :"))
            }
        }
    }
}

/// The full names of the commands some word of which starts with `prefix`.
pub fn candidates(prefix: &str) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter(|(words, _)| words.iter().any(|w| w.starts_with(prefix)))
        .map(|(words, _)| words[0])
        .collect()
}

/// What a command line asks for: an exact name or alias, else the one
/// command a word of which starts with it (case-insensitive; spaces
/// around are ignored).
pub fn parse(line: &str) -> Result<Command, CommandError> {
    let word = line.trim().to_lowercase();
    if word.is_empty() {
        return Err(CommandError::Empty);
    }
    if let Some((_, c)) = COMMANDS.iter().find(|(ws, _)| ws.contains(&word.as_str())) {
        return Ok(*c);
    }
    let found: Vec<(&'static str, Command)> = COMMANDS
        .iter()
        .filter(|(ws, _)| ws.iter().any(|w| w.starts_with(&word)))
        .map(|(ws, c)| (ws[0], *c))
        .collect();
    match found.as_slice() {
        [] => Err(CommandError::Unknown(word)),
        [(_, c)] => Ok(*c),
        many => Err(CommandError::Ambiguous(
            word,
            many.iter().map(|(n, _)| *n).collect(),
        )),
    }
}

/// Tab on the command line: the completed text (the one full name, or
/// the longest common prefix of several), and the candidates.
pub fn complete(line: &str) -> (String, Vec<&'static str>) {
    let word = line.trim().to_lowercase();
    let all = candidates(&word);
    let done = match all.as_slice() {
        [] => line.to_string(),
        [one] => one.to_string(),
        many => {
            let first = many[0];
            let n = (0..first.len())
                .take_while(|&i| {
                    many.iter()
                        .all(|m| m.as_bytes().get(i) == first.as_bytes().get(i))
                })
                .count();
            if n > word.len() && first.starts_with(&word) {
                first[..n].to_string()
            } else {
                line.to_string()
            }
        }
    };
    (done, all)
}

/// The line being typed at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// `:`, a command.
    Command(String),
    /// `/`, a filter (applied as it is typed).
    Filter,
}

/// One level below the job list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Crumb {
    /// A job (by name): its vertices.
    Job(String),
    /// A job vertex (by name): its subtasks.
    Vertex(String),
    /// One subtask (0-based index): its details.
    Subtask(u32),
}

/// Where the user is and what they typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nav {
    /// The line open at the bottom, if any.
    pub prompt: Option<Prompt>,
    /// The filter in force (empty: none).
    pub filter: String,
    /// The drill-down path on the Jobs screen, from the top.
    pub path: Vec<Crumb>,
    /// The highlighted row of the list shown at the current level.
    pub row: usize,
}

impl Nav {
    /// Whether `text` passes the filter (case-insensitive containment).
    pub fn matches(&self, text: &str) -> bool {
        self.filter.is_empty() || text.to_lowercase().contains(&self.filter.to_lowercase())
    }

    /// The job the path is in.
    pub fn job(&self) -> Option<&str> {
        self.path.iter().find_map(|c| match c {
            Crumb::Job(j) => Some(j.as_str()),
            _ => None,
        })
    }

    /// The vertex the path is in.
    pub fn vertex(&self) -> Option<&str> {
        self.path.iter().find_map(|c| match c {
            Crumb::Vertex(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// The subtask the path is at.
    pub fn subtask(&self) -> Option<u32> {
        self.path.iter().find_map(|c| match c {
            Crumb::Subtask(i) => Some(*i),
            _ => None,
        })
    }

    /// ` /text` for a panel's title when a filter is in force.
    pub fn filter_tag(&self) -> String {
        if self.filter.is_empty() {
            String::new()
        } else {
            format!(" /{}", self.filter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_prefixes_and_unknown() {
        assert_eq!(parse("jobs"), Ok(Command::Show(Screen::Jobs)));
        assert_eq!(parse(" TM "), Ok(Command::Show(Screen::Cluster)));
        assert_eq!(parse("cp"), Ok(Command::Show(Screen::Checkpoints)));
        assert_eq!(parse("che"), Ok(Command::Show(Screen::Checkpoints)));
        assert_eq!(parse("exc"), Ok(Command::Show(Screen::Exceptions)));
        assert_eq!(parse("data"), Ok(Command::Show(Screen::Dataflow)));
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert_eq!(
            parse("c"),
            Err(CommandError::Ambiguous(
                "c".into(),
                vec!["cluster", "checkpoints"]
            ))
        );
        assert_eq!(parse("zzz"), Err(CommandError::Unknown("zzz".into())));
        assert_eq!(parse(""), Err(CommandError::Empty));
    }

    #[test]
    fn tab_completes() {
        assert_eq!(complete("chec").0, "checkpoints");
        assert_eq!(complete("ev").0, "events");
        // "e" starts events, exceptions and errors (an alias of exceptions).
        let (done, all) = complete("e");
        assert_eq!(done, "e");
        assert_eq!(all, ["events", "exceptions"]);
        assert_eq!(complete("xyz").0, "xyz");
    }

    #[test]
    fn filter_is_case_insensitive() {
        let nav = Nav {
            filter: "CrAsH".into(),
            ..Nav::default()
        };
        assert!(nav.matches("taskmanager-1 crashed"));
        assert!(!nav.matches("checkpoint 3 completed"));
        assert!(Nav::default().matches("anything"));
    }
}
