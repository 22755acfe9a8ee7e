//! Bad job files: each class of mistake gets one clear error with the
//! file, the line and column of the offending text, and a fix.
//!
//! Every test parses inline TOML named `bad.toml` and asserts the message,
//! the place (1-based line and column) and the source line quoted back.

use runtime::jobfile::{JobFileError, Source, parse_job};
use std::path::Path;

/// The error the text must produce.
fn err(text: &str) -> JobFileError {
    match parse_job(&Source {
        file: "bad.toml",
        text,
        base_dir: Path::new("."),
    }) {
        Ok(g) => panic!(
            "expected an error, got a graph of {} operators for:\n{text}",
            g.node_count()
        ),
        Err(e) => e,
    }
}

/// Asserts where the error points: line, column, the quoted source line
/// and the width of the `^^^` marker.
fn assert_at(e: &JobFileError, line: usize, column: usize, source_line: &str, marked: usize) {
    assert_eq!(e.file, "bad.toml", "{e}");
    assert_eq!((e.line, e.column), (line, column), "wrong place for:\n{e}");
    let (src, len) = e.snippet.clone().expect("a snippet of the source line");
    assert_eq!(src, source_line, "{e}");
    assert_eq!(len, marked, "marker width for:\n{e}");
}

/// A source (lines 3-6) that the operators after it can read from.
const SEQ: &str = r#"name = "bad"

[[operators]]
id = "s"
kind = "sequence"
args = { from = 1, to = 10 }
"#;

/// The text of [`SEQ`] followed by more lines (the first of them is line 7).
fn after_seq(rest: &str) -> String {
    format!("{SEQ}{rest}")
}

#[test]
fn malformed_toml_unterminated_string() {
    let e = err("name = \"broken\nparallelism = 2\n");
    assert_eq!(e.message, "invalid basic string, expected `\"`");
    // An empty span at the end of the line; Display still draws one `^`.
    assert_at(&e, 1, 15, "name = \"broken", 0);
    assert!(e.to_string().contains("\n  |               ^\n"), "{e}");
    assert!(e.help.contains("https://toml.io"), "{}", e.help);
}

#[test]
fn malformed_toml_missing_value() {
    let e = err("name = \"x\"\nparallelism = \n");
    assert_eq!(
        e.message,
        "string values must be quoted, expected literal string"
    );
    assert_at(&e, 2, 15, "parallelism = ", 0);
}

#[test]
fn unknown_field_at_top_level() {
    let e = err(&after_seq("").replace("name = \"bad\"\n", "name = \"bad\"\nparalelism = 2\n"));
    assert!(
        e.message
            .starts_with("unknown field `paralelism`, expected one of `name`, `parallelism`"),
        "{}",
        e.message
    );
    assert_at(&e, 2, 1, "paralelism = 2", 10);
    assert!(
        e.help.starts_with("remove it or fix its spelling"),
        "{}",
        e.help
    );
}

#[test]
fn unknown_field_in_an_operator() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "sum"
kind = "sum"
input = "s"
partiton = "hash"
"#,
    ));
    assert!(
        e.message
            .starts_with("unknown field `partiton`, expected one of `id`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("`partition`"), "{}", e.message);
    assert_at(&e, 12, 1, "partiton = \"hash\"", 8);
}

#[test]
fn unknown_kind() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "m"
kind = "mapp"
input = "s"
"#,
    ));
    assert_eq!(e.message, "unknown kind `mapp`");
    // The marker covers the quoted value, quotes included.
    assert_at(&e, 10, 8, "kind = \"mapp\"", 6);
    assert!(
        e.help
            .starts_with("kinds are: sequence, words, generator, map,"),
        "{}",
        e.help
    );
}

#[test]
fn unknown_fn() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "m"
kind = "map"
fn = "tripple"
input = "s"
"#,
    ));
    assert_eq!(e.message, "unknown map function `tripple`");
    assert_at(&e, 11, 6, "fn = \"tripple\"", 9);
    assert_eq!(
        e.help,
        "map functions are: identity, key_mod, to_pair, double, upper"
    );
}

#[test]
fn duplicate_id() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "s"
kind = "discard"
input = "s"
"#,
    ));
    assert_eq!(e.message, "duplicate operator id `s`");
    // Points at the second one and names the line of the first.
    assert_at(&e, 9, 6, "id = \"s\"", 3);
    assert!(e.help.contains("operator on line 4"), "{}", e.help);
}

#[test]
fn missing_input() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "sink"
kind = "discard"
input = "nope"
"#,
    ));
    assert_eq!(
        e.message,
        "operator `sink` reads from `nope`, which is not defined"
    );
    assert_at(&e, 11, 9, "input = \"nope\"", 6);
    assert_eq!(e.help, "the defined ids are: s, sink");
}

#[test]
fn cycle() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "a"
kind = "map"
fn = "identity"
inputs = ["s", "b"]

[[operators]]
id = "b"
kind = "map"
fn = "identity"
input = "a"
"#,
    ));
    // Issue #9: the error names every operator on the cycle (it named `a` only).
    assert_eq!(e.message, "the dataflow has a cycle through `a` and `b`");
    assert_at(&e, 12, 10, "inputs = [\"s\", \"b\"]", 10);
    assert!(e.help.contains("acyclic"), "{}", e.help);
}

/// A cycle of three operators fed by a source: the error names all three
/// (and not the source, which is only in front of the loop), points at the
/// inputs of the first of them in the file, and lists the inputs that close
/// the loop so the user can pick the one to remove.
#[test]
fn cycle_names_every_operator_on_it() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "a"
kind = "map"
fn = "identity"
inputs = ["s", "c"]

[[operators]]
id = "b"
kind = "map"
fn = "identity"
input = "a"

[[operators]]
id = "c"
kind = "map"
fn = "identity"
input = "b"

[[operators]]
id = "sink"
kind = "discard"
input = "c"
"#,
    ));
    assert_eq!(
        e.message,
        "the dataflow has a cycle through `a`, `b` and `c`"
    );
    assert_at(&e, 12, 10, "inputs = [\"s\", \"c\"]", 10);
    assert_eq!(
        e.help,
        "a dataflow must be acyclic: `a` reads from `c`, `b` reads from `a`, \
         `c` reads from `b`; remove one of these inputs"
    );
    let text = e.to_string();
    assert!(
        text.starts_with(
            "error: the dataflow has a cycle through `a`, `b` and `c`\n --> bad.toml:12:10"
        ),
        "{text}"
    );
}

#[test]
fn operator_parallelism_zero() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "sink"
kind = "discard"
input = "s"
parallelism = 0
"#,
    ));
    assert_eq!(e.message, "operator `sink`'s parallelism is 0");
    assert_at(&e, 12, 15, "parallelism = 0", 1);
    assert_eq!(e.help, "parallelism must be at least 1");
}

#[test]
fn job_parallelism_zero() {
    let e = err(&after_seq("").replace("name = \"bad\"\n", "name = \"bad\"\nparallelism = 0\n"));
    assert_eq!(e.message, "the job's parallelism is 0");
    assert_at(&e, 2, 15, "parallelism = 0", 1);
    assert_eq!(e.help, "parallelism must be at least 1");
}

#[test]
fn forward_across_a_parallelism_change() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "m"
kind = "map"
fn = "identity"
input = "s"
parallelism = 2
partition = "forward"
"#,
    ));
    assert!(
        e.message
            .contains("Forward partitioning does not allow change of parallelism"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("`s` has parallelism 1, `m` has 2"),
        "{}",
        e.message
    );
    assert_at(&e, 14, 13, "partition = \"forward\"", 9);
    assert!(e.help.contains("rebalance"), "{}", e.help);
}

#[test]
fn hash_without_a_key() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "k"
kind = "map"
fn = "key_mod"
args = { modulus = 10 }
input = "s"

[[operators]]
id = "sum"
kind = "sum"
input = "k"
partition = "hash"
"#,
    ));
    assert_eq!(
        e.message,
        "operator `sum` is hash-partitioned without a key"
    );
    assert_at(&e, 19, 13, "partition = \"hash\"", 6);
    assert!(e.help.contains("key = \"f0\""), "{}", e.help);
}

#[test]
fn keyed_operator_without_hash_partition() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "k"
kind = "map"
fn = "key_mod"
args = { modulus = 10 }
input = "s"

[[operators]]
id = "sum"
kind = "sum"
input = "k"
"#,
    ));
    assert_eq!(
        e.message,
        "`sum` is a keyed operator (sum) but its input is not keyed"
    );
    assert_at(&e, 17, 8, "kind = \"sum\"", 5);
    assert!(e.help.contains("partition = \"hash\""), "{}", e.help);
}

#[test]
fn key_without_hash_partition() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "sink"
kind = "discard"
input = "s"
key = "f0"
"#,
    ));
    assert_eq!(
        e.message,
        "`key` is set but the operator is not hash-partitioned"
    );
    assert_at(&e, 12, 7, "key = \"f0\"", 4);
}

#[test]
fn type_mismatch_is_even_on_words() {
    let e = err(r#"name = "bad"

[[operators]]
id = "w"
kind = "words"
args = { lines = ["to be or not to be"] }

[[operators]]
id = "even"
kind = "filter"
fn = "is_even"
input = "w"
"#);
    assert_eq!(
        e.message,
        "operator `even`: filter fn needs numbers but its input carries text"
    );
    assert_at(&e, 11, 6, "fn = \"is_even\"", 9);
    assert!(e.help.contains("change `fn`"), "{}", e.help);
}

/// The rendered error reads like rustc's: message, ` --> file:line:col`,
/// the numbered source line, a `^` marker under the mistake, a help line.
#[test]
fn display_has_arrow_snippet_and_help() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "m"
kind = "mapp"
input = "s"
"#,
    ));
    let shown = e.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], "error: unknown kind `mapp`", "{shown}");
    assert_eq!(lines[1], " --> bad.toml:10:8", "{shown}");
    assert_eq!(lines[2], "   |", "{shown}");
    assert_eq!(lines[3], "10 | kind = \"mapp\"", "{shown}");
    assert_eq!(lines[4], "   |        ^^^^^^", "{shown}");
    assert!(
        lines[5].starts_with("   = help: kinds are: sequence"),
        "{shown}"
    );
    assert_eq!(lines.len(), 6, "{shown}");
}

/// A file that cannot be read is an error too, not a panic.
#[test]
fn unreadable_file() {
    let e = runtime::jobfile::load_job_file(Path::new("/nonexistent/dir/job.toml"))
        .expect_err("no such file");
    assert!(
        e.message.starts_with("cannot read the job file"),
        "{}",
        e.message
    );
    assert!(
        e.to_string().contains(" --> /nonexistent/dir/job.toml"),
        "{e}"
    );
}

/// The good version of the inputs above does compile: the errors come from
/// the mistakes, not from the prelude.
#[test]
fn the_prelude_alone_is_valid_with_a_sink() {
    let text = after_seq(
        r#"
[[operators]]
id = "sink"
kind = "discard"
input = "s"
"#,
    );
    let g = parse_job(&Source {
        file: "good.toml",
        text: &text,
        base_dir: Path::new("."),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.node_count(), 2);
}

/// A parallelism over the cap is refused before anything starts, with
/// the cap in the message.
#[test]
fn operator_parallelism_over_the_cap() {
    let e = err(&after_seq(
        r#"
[[operators]]
id = "sink"
kind = "discard"
input = "s"
parallelism = 100000
"#,
    ));
    assert!(e.message.contains("over the cap of 1024"), "{e}");
    assert_at(&e, 12, 15, "parallelism = 100000", 6);
}

/// Parses scenario `text` as the file `file`.
fn parse_scenario(file: &str, text: &str) -> Result<sim::Scenario, runtime::jobfile::JobFileError> {
    sim::scenario::parse(
        &Source {
            file,
            text,
            base_dir: Path::new("."),
        },
        Path::new(file),
    )
}

/// A scenario asking for 100,000 TaskManagers of 1,000 slots fails at once
/// with the cap in the message (it used to hang `sim run`); so does one
/// asking for too many slots per TaskManager.
#[test]
fn scenario_over_the_caps() {
    let scenario = |tms: u32, slots: u32| {
        format!(
            "name = \"huge\"\nseed = 1\nduration_ms = 1000\n\n[cluster]\ntaskmanagers = {tms}\nslots = {slots}\n"
        )
    };
    let parse = |text: &str| parse_scenario("huge.toml", text);
    let started = std::time::Instant::now();
    let e = parse(&scenario(100_000, 1_000)).expect_err("over the cap");
    assert!(
        e.message.contains("over the cap of 1000 TaskManagers"),
        "{e}"
    );
    assert_eq!(e.line, 6, "{e}");
    let e = parse(&scenario(2, 1_000)).expect_err("over the cap");
    assert!(e.message.contains("over the cap of 256 slots"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A storage fault in a scenario: `slow-writes` without how slow is one
/// positioned error with a hint; with `delay_ms` it parses.
#[test]
fn slow_writes_need_delay_ms() {
    let scenario = |extra: &str| {
        format!(
            "name = \"slow\"\nseed = 1\nduration_ms = 1000\n\n[cluster]\ntaskmanagers = 1\nslots = 1\n\n[[faults]]\nat_ms = 10\naction = \"slow-writes\"\nwrites = 2\n{extra}"
        )
    };
    let parse = |text: &str| parse_scenario("slow.toml", text);
    let e = parse(&scenario("")).expect_err("no delay_ms");
    assert!(e.message.contains("`slow-writes` needs delay_ms"), "{e}");
    assert_eq!(e.line, 11, "{e}");
    assert!(e.to_string().contains("delay_ms = 2000"), "the hint: {e}");
    let s = parse(&scenario("delay_ms = 1500\n")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.faults[0].action,
        sim::scenario::FaultAction::SlowStorageWrites(2, 1500)
    );
}
