//! The book's link checker: every chapter, every `{{#include}}`, every
//! link and every picture resolves, offline.
//!
//! mdBook itself only logs an include it cannot resolve and goes on, and
//! renders a link to a missing page or picture as a dead link. This checks
//! what a reader would hit, on the sources, the way mdBook reads them:
//!
//! - `SUMMARY.md`'s chapters exist (a draft chapter, `[Title]()`, is
//!   reported apart: [`Report::drafts`]);
//! - every `{{#include PATH}}` (also `PATH:ANCHOR`, `PATH:N:M`, and
//!   `{{#rustdoc_include}}`) names a file that exists and, for an anchor, a
//!   file holding `ANCHOR: name` and `ANCHOR_END: name`; includes are
//!   expanded as mdBook expands them (text substitution, so an included
//!   file's links resolve from the chapter that includes it);
//! - every relative link and picture (Markdown or HTML `href`/`src`)
//!   points into `book/src/` (the built book holds nothing else), to a
//!   file that exists; a link to a page must be to a chapter of
//!   `SUMMARY.md`, and its `#fragment` to one of that page's headings
//!   (mdBook's heading ids). Web links are not fetched (CI has no
//!   network); they are only counted.
//!
//! Run by `tests/tests/book.rs` and by
//! `cargo run -p mini-flink-tests --bin book -- links`.

use pulldown_cmark::{Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// One thing a reader would hit: a missing file, anchor, page or heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (relative to the book's `src/`, or as given) and line.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Broken includes, links and pictures.
    pub problems: Vec<Problem>,
    /// Chapters listed in `SUMMARY.md` without a file yet.
    pub drafts: Vec<String>,
    /// Chapters checked.
    pub chapters: usize,
    /// Relative links and pictures checked.
    pub links: usize,
    /// Web links seen (not fetched).
    pub web_links: usize,
}

/// A chapter's text with includes expanded, and where each line came
/// from.
struct Expanded {
    text: String,
    /// Per line of `text`: its file and 1-based line there.
    origin: Vec<(PathBuf, usize)>,
}

impl Expanded {
    fn at(&self, offset: usize, src: &Path) -> String {
        let line = self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|b| *b == b'\n')
            .count();
        match self.origin.get(line) {
            Some((file, n)) => format!("{}:{n}", shown(file, src)),
            None => "?".into(),
        }
    }
}

/// `path` relative to `src` when it is inside, as given otherwise.
fn shown(path: &Path, src: &Path) -> String {
    path.strip_prefix(src)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Removes `.` and `..` without touching the disk.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// mdBook's id for a heading: lower-case letters and digits, `-` and `_`
/// kept, white space to `-`, the rest dropped.
pub fn heading_id(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Checks the book whose sources are in `src` (`book/src`).
pub fn check(src: &Path) -> Report {
    let mut report = Report::default();
    let summary = src.join("SUMMARY.md");
    let text = match std::fs::read_to_string(&summary) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(Problem {
                at: "SUMMARY.md".into(),
                message: format!("cannot read: {e}"),
            });
            return report;
        }
    };
    // The chapters, in order.
    let mut chapters: Vec<PathBuf> = Vec::new();
    let mut title = String::new();
    let mut dest: Option<String> = None;
    for ev in Parser::new(&text) {
        match ev {
            Event::Start(Tag::Link { dest_url, .. }) => {
                dest = Some(dest_url.to_string());
                title.clear();
            }
            Event::Text(t) if dest.is_some() => title.push_str(&t),
            Event::End(TagEnd::Link) => {
                if let Some(d) = dest.take() {
                    if d.is_empty() {
                        report.drafts.push(title.clone());
                    } else {
                        let p = normalize(&src.join(&d));
                        if !p.is_file() {
                            report.problems.push(Problem {
                                at: "SUMMARY.md".into(),
                                message: format!("chapter \"{title}\": {d} does not exist"),
                            });
                        } else {
                            chapters.push(p);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    report.chapters = chapters.len();

    // Each chapter expanded, then its headings' ids (for #fragments).
    let mut pages: BTreeMap<PathBuf, Expanded> = BTreeMap::new();
    for ch in &chapters {
        let mut exp = Expanded {
            text: String::new(),
            origin: Vec::new(),
        };
        expand(ch, ch, src, 0, &mut exp, &mut report.problems);
        pages.insert(ch.clone(), exp);
    }
    let ids: BTreeMap<&PathBuf, BTreeSet<String>> =
        pages.iter().map(|(p, e)| (p, headings(&e.text))).collect();

    for (page, exp) in &pages {
        let dir = page.parent().unwrap_or(src);
        for (target, offset) in links(&exp.text) {
            if target.contains("://") || target.starts_with("mailto:") {
                report.web_links += 1;
                continue;
            }
            report.links += 1;
            let at = exp.at(offset, src);
            let (file, fragment) = match target.split_once('#') {
                Some((f, frag)) => (f, Some(frag)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                page.clone()
            } else {
                normalize(&dir.join(file))
            };
            let problem = if !resolved.starts_with(src) {
                Some(format!(
                    "{target} is outside the book's src/ (the built book will not hold it)"
                ))
            } else if !resolved.is_file() {
                Some(format!("{target} does not exist"))
            } else if resolved.extension().is_some_and(|e| e == "md") {
                match (ids.get(&resolved), fragment) {
                    (None, _) => Some(format!("{target} is not a chapter of SUMMARY.md")),
                    (Some(ids), Some(frag)) if !ids.contains(frag) => Some(format!(
                        "{target}: no heading with id `{frag}` on that page"
                    )),
                    _ => None,
                }
            } else {
                None
            };
            if let Some(message) = problem {
                report.problems.push(Problem { at, message });
            }
        }
    }
    report
}

/// Appends `file`'s lines to `out`, expanding its includes (paths relative
/// to the folder of the file that holds the include, as mdBook does).
fn expand(
    file: &Path,
    chapter: &Path,
    src: &Path,
    depth: usize,
    out: &mut Expanded,
    problems: &mut Vec<Problem>,
) {
    match std::fs::read_to_string(file) {
        Ok(text) => expand_text(&text, 1, file, src, depth, out, problems),
        Err(e) => problems.push(Problem {
            at: shown(chapter, src),
            message: format!("cannot read {}: {e}", shown(file, src)),
        }),
    }
}

/// Appends `text` (lines of `file` from line `first`) to `out`, expanding
/// its includes; included Markdown is expanded in turn.
fn expand_text(
    text: &str,
    first: usize,
    file: &Path,
    src: &Path,
    depth: usize,
    out: &mut Expanded,
    problems: &mut Vec<Problem>,
) {
    let dir = file.parent().unwrap_or(src).to_path_buf();
    for (i, line) in text.lines().enumerate() {
        let n = first + i;
        let at = format!("{}:{n}", shown(file, src));
        let mut rest = line;
        let mut done = String::new();
        while let Some(start) = rest.find("{{#") {
            let escaped = start > 0 && rest.as_bytes()[start - 1] == b'\\';
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            let directive = &rest[start + 3..start + len];
            done.push_str(&rest[..start]);
            rest = &rest[start + len + 2..];
            let (name, arg) = directive.split_once(' ').unwrap_or((directive, ""));
            if escaped || !matches!(name, "include" | "rustdoc_include") {
                done.push_str("{{#");
                done.push_str(directive);
                done.push_str("}}");
                continue;
            }
            match included(&dir, arg.trim()) {
                Err(message) => problems.push(Problem {
                    at: at.clone(),
                    message,
                }),
                Ok((path, body, from)) => {
                    if depth < 8 && path.extension().is_some_and(|e| e == "md") {
                        // Markdown: its own includes, its own lines.
                        flush(out, &done, file, n);
                        done.clear();
                        expand_text(&body, from, &path, src, depth + 1, out, problems);
                    } else {
                        done.push_str(&body);
                    }
                }
            }
        }
        done.push_str(rest);
        flush(out, &done, file, n);
    }
}

/// Adds `text` (perhaps several lines) to `out`, every line from `file`'s
/// line `n`.
fn flush(out: &mut Expanded, text: &str, file: &Path, n: usize) {
    for l in text.split('\n') {
        out.text.push_str(l);
        out.text.push('\n');
        out.origin.push((file.to_path_buf(), n));
    }
}

/// Resolves an include's argument (`PATH`, `PATH:ANCHOR`, `PATH:N`,
/// `PATH:N:M`, `PATH::M`) relative to `dir`: the file and the included
/// text, and the line of the file it starts on.
fn included(dir: &Path, arg: &str) -> Result<(PathBuf, String, usize), String> {
    let (path, sel) = match arg.split_once(':') {
        Some((p, s)) => (p, Some(s)),
        None => (arg, None),
    };
    let full = normalize(&dir.join(path));
    let text = std::fs::read_to_string(&full)
        .map_err(|e| format!("{{{{#include {arg}}}}}: {path}: {e}"))?;
    let Some(sel) = sel else {
        return Ok((full, text, 1));
    };
    let lines: Vec<&str> = text.lines().collect();
    let is_range = sel
        .split(':')
        .all(|p| p.is_empty() || p.chars().all(|c| c.is_ascii_digit()));
    if is_range {
        let mut parts = sel.split(':');
        let from = parts
            .next()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1);
        let to = parts
            .next()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(lines.len());
        if from == 0 || from > lines.len() {
            return Err(format!(
                "{{{{#include {arg}}}}}: {path} has {} lines",
                lines.len()
            ));
        }
        return Ok((full, lines[from - 1..to.min(lines.len())].join("\n"), from));
    }
    let start = lines
        .iter()
        .position(|l| anchor_of(l, "ANCHOR:") == Some(sel));
    let end = lines
        .iter()
        .position(|l| anchor_of(l, "ANCHOR_END:") == Some(sel));
    match (start, end) {
        (Some(s), Some(e)) if s < e => Ok((
            full,
            lines[s + 1..e]
                .iter()
                .filter(|l| {
                    anchor_of(l, "ANCHOR:").is_none() && anchor_of(l, "ANCHOR_END:").is_none()
                })
                .copied()
                .collect::<Vec<_>>()
                .join("\n"),
            s + 2,
        )),
        (None, _) => Err(format!(
            "{{{{#include {arg}}}}}: {path} has no `ANCHOR: {sel}`"
        )),
        _ => Err(format!(
            "{{{{#include {arg}}}}}: {path} has no `ANCHOR_END: {sel}` after `ANCHOR: {sel}`"
        )),
    }
}

/// The anchor name on a line holding `marker` (`ANCHOR:` or
/// `ANCHOR_END:`), as mdBook reads it.
fn anchor_of<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let i = line.find(marker)?;
    let rest = line[i + marker.len()..].trim_start();
    let name: &str = rest
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .next()
        .unwrap_or("");
    (!name.is_empty()).then_some(name)
}

/// The ids of a page's headings, as mdBook gives them (a repeated id gets
/// `-1`, `-2`, …).
fn headings(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut current: Option<(HeadingLevel, String)> = None;
    for ev in Parser::new_ext(text, Options::all()) {
        match ev {
            Event::Start(Tag::Heading { level, id, .. }) => {
                if let Some(id) = id {
                    ids.insert(id.to_string());
                }
                current = Some((level, String::new()));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, s)) = current.as_mut() {
                    s.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((_, s)) = current.take() {
                    let id = heading_id(&s);
                    let n = seen.entry(id.clone()).or_insert(0);
                    ids.insert(if *n == 0 {
                        id.clone()
                    } else {
                        format!("{id}-{n}")
                    });
                    *n += 1;
                }
            }
            _ => {}
        }
    }
    ids
}

/// Every link and picture target in `text` with its byte offset:
/// Markdown links and images, and `href`/`src` attributes in raw HTML.
fn links(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (ev, range) in Parser::new_ext(text, Options::all()).into_offset_iter() {
        match ev {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) if !matches!(link_type, LinkType::Email) => {
                out.push((dest_url.to_string(), range.start));
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                out.push((dest_url.to_string(), range.start));
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                for attr in ["href=\"", "src=\""] {
                    let mut rest: &str = &h;
                    while let Some(i) = rest.find(attr) {
                        rest = &rest[i + attr.len()..];
                        if let Some(end) = rest.find('"') {
                            out.push((rest[..end].to_string(), range.start));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_ids_are_mdbooks() {
        assert_eq!(
            heading_id("Exercise: make this job need four slots"),
            "exercise-make-this-job-need-four-slots"
        );
        assert_eq!(
            heading_id("Glossary: English / 中文"),
            "glossary-english--中文"
        );
    }

    #[test]
    fn anchors_are_found_by_name() {
        assert_eq!(
            anchor_of("    // ANCHOR: is_chainable", "ANCHOR:"),
            Some("is_chainable")
        );
        assert_eq!(
            anchor_of("<!-- ANCHOR_END: flink-names -->", "ANCHOR_END:"),
            Some("flink-names")
        );
        assert_eq!(anchor_of("no anchor here", "ANCHOR:"), None);
    }

    #[test]
    fn a_broken_book_is_reported() {
        let dir = std::env::temp_dir().join(format!("mini-flink-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.join(name), text).expect("a temporary file");
        };
        write(
            "SUMMARY.md",
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n- [Draft]()\n",
        );
        write(
            "one.md",
            "# One\n\n## A part\n\n[ok](#a-part) [bad](#nope) [two](two.md) [gone](gone.md)\n\n\
             ![pic](pic.svg)\n\n{{#include code.rs:here}}\n{{#include code.rs:there}}\n\
             \\{{#include not-a-directive.md}}\n[web](https://flink.apache.org)\n",
        );
        write(
            "code.rs",
            "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n",
        );
        let r = check(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let got: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "SUMMARY.md: chapter \"Two\": two.md does not exist",
                "one.md:10: {{#include code.rs:there}}: code.rs has no `ANCHOR: there`",
                "one.md:5: #nope: no heading with id `nope` on that page",
                "one.md:5: two.md does not exist",
                "one.md:5: gone.md does not exist",
                "one.md:7: pic.svg does not exist",
            ]
        );
        assert_eq!(r.drafts, ["Draft"]);
        assert_eq!(r.chapters, 1);
        assert_eq!(r.web_links, 1);
    }
}
