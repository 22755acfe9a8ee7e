//! The layout rules of issue #9, checked on the source text.
//!
//! 1. **No module imports from a module that imports it back.** Shared types
//!    sit in leaf modules that the role modules import; two modules that use
//!    each other's items are one concept in two files (or two concepts
//!    tangled), and a student reading one must read the other first.
//! 2. **No file in `runtime/src` is longer than 600 lines**: one Flink
//!    concept per file, each short enough to read in one sitting.
//!
//! How the check works: every crate root (`lib.rs`, `main.rs`) is parsed with
//! `syn` and its `mod name;` declarations are followed to build the module
//! tree. Then every file is visited for the paths it names: `use` trees,
//! paths in code and types (`crate::graph::StreamGraph`, `super::Outbox`,
//! `child::helper()`), and `crate::`/`super::`/`self::` paths inside macro
//! calls. Each path is resolved to the deepest module it reaches, so
//! `crate::graph::ids::NodeId` is an import of `graph::ids` and
//! `crate::graph::StreamGraph` (a re-export) one of `graph`. A parent's
//! `pub mod child;` is a declaration, not an import; a child that uses its
//! parent's items imports the parent, and a parent that re-exports or calls
//! its child's items imports the child.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::{self, Visit};

/// The longest a file in `runtime/src` may be.
const MAX_RUNTIME_FILE_LINES: usize = 600;

/// A module path inside one crate (`[]` is the crate root).
type ModPath = Vec<String>;

/// One crate's module tree: the file of each module declared with
/// `mod name;`, and the modules written inline (`mod tests { .. }`), which
/// belong to the file they are written in.
#[derive(Default)]
struct Tree {
    files: BTreeMap<ModPath, PathBuf>,
    inline: BTreeSet<ModPath>,
}

impl Tree {
    fn is_module(&self, m: &[String]) -> bool {
        self.files.contains_key(m) || self.inline.contains(m)
    }

    /// The file module a (possibly inline) module is written in.
    fn file_module(&self, m: &[String]) -> ModPath {
        let mut m = m.to_vec();
        while !self.files.contains_key(&m) {
            m.pop();
        }
        m
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", file.display()))
}

/// The folder a module's `mod child;` files live in.
fn child_dir(file: &Path) -> PathBuf {
    let parent = file.parent().expect("a source file has a folder");
    match file.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs" | "main.rs") => parent.to_path_buf(),
        _ => file.with_extension(""),
    }
}

/// Builds the module tree of the crate rooted at `root`.
fn tree(root: &Path) -> Tree {
    fn declare(tree: &mut Tree, module: ModPath, items: &[syn::Item], dir: &Path) {
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            let mut path = module.clone();
            path.push(m.ident.to_string());
            match &m.content {
                Some((_, inner)) => {
                    let dir = dir.join(m.ident.to_string());
                    tree.inline.insert(path.clone());
                    declare(tree, path, inner, &dir);
                }
                None => {
                    let name = m.ident.to_string();
                    let flat = dir.join(format!("{name}.rs"));
                    let file = if flat.exists() {
                        flat
                    } else {
                        dir.join(&name).join("mod.rs")
                    };
                    add(tree, path, &file);
                }
            }
        }
    }
    fn add(tree: &mut Tree, module: ModPath, file: &Path) {
        tree.files.insert(module.clone(), file.to_path_buf());
        let parsed = parse(file);
        declare(tree, module, &parsed.items, &child_dir(file));
    }
    let mut t = Tree::default();
    add(&mut t, Vec::new(), root);
    t
}

/// Collects the modules one file names, resolved in its crate's tree.
struct Uses<'t> {
    tree: &'t Tree,
    /// The module being read: the file's, plus any inline `mod` around.
    scope: ModPath,
    /// Imported module → the first path that imports it.
    found: BTreeMap<ModPath, String>,
}

impl Uses<'_> {
    fn resolve(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let (mut module, rest) = match first.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (self.scope.clone(), &segments[1..]),
            "super" => {
                let mut m = self.scope.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    m.pop();
                    rest = &rest[1..];
                }
                (m, rest)
            }
            child => {
                let mut m = self.scope.clone();
                m.push(child.to_string());
                if !self.tree.is_module(&m) {
                    return; // another crate, a type, a variant, a local
                }
                (self.scope.clone(), segments)
            }
        };
        for s in rest {
            module.push(s.clone());
            if !self.tree.is_module(&module) {
                module.pop();
                break;
            }
        }
        let target = self.tree.file_module(&module);
        let here = self.tree.file_module(&self.scope);
        if target != here {
            self.found
                .entry(target)
                .or_insert_with(|| segments.join("::"));
        }
    }

    /// Every path a `use` tree names (`a::{b, c::d}` → `a::b`, `a::c::d`).
    fn use_paths(prefix: &mut Vec<String>, tree: &syn::UseTree, out: &mut Vec<Vec<String>>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::use_paths(prefix, &p.tree, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) if n.ident == "self" => out.push(prefix.clone()),
            syn::UseTree::Name(n) => {
                let mut p = prefix.clone();
                p.push(n.ident.to_string());
                out.push(p);
            }
            syn::UseTree::Rename(r) => {
                let mut p = prefix.clone();
                p.push(r.ident.to_string());
                out.push(p);
            }
            syn::UseTree::Glob(_) => out.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    Self::use_paths(prefix, t, out);
                }
            }
        }
    }

    /// `crate::`, `super::` and `self::` paths in a macro call's tokens.
    fn macro_paths(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => self.macro_paths(g.stream()),
                TokenTree::Ident(id)
                    if matches!(id.to_string().as_str(), "crate" | "super" | "self") =>
                {
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(next)) =
                        (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        let TokenTree::Ident(next) = next else { break };
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.resolve(&segments);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // `mod child;` declares; only an inline module's body is read.
        if let Some((_, items)) = &m.content {
            self.scope.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if u.leading_colon.is_some() {
            return;
        }
        let mut paths = Vec::new();
        Self::use_paths(&mut Vec::new(), &u.tree, &mut paths);
        for p in paths {
            self.resolve(&p);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.resolve(&segments);
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.macro_paths(m.tokens.clone());
        visit::visit_macro(self, m);
    }
}

/// One crate of the workspace: a name to print and its root file.
struct CrateRoot {
    name: &'static str,
    root: &'static str,
}

const CRATES: &[CrateRoot] = &[
    CrateRoot {
        name: "runtime",
        root: "runtime/src/lib.rs",
    },
    CrateRoot {
        name: "mini-flink (bin)",
        root: "runtime/src/bin/mini-flink/main.rs",
    },
    CrateRoot {
        name: "sim",
        root: "sim/src/lib.rs",
    },
    CrateRoot {
        name: "sim (bin)",
        root: "sim/src/main.rs",
    },
    CrateRoot {
        name: "tui",
        root: "tui/src/lib.rs",
    },
    CrateRoot {
        name: "tui (bin)",
        root: "tui/src/main.rs",
    },
    CrateRoot {
        name: "viz",
        root: "viz/src/lib.rs",
    },
];

fn module_name(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// Which module imports which, in one crate (with the first path each time).
fn imports(tree: &Tree) -> BTreeMap<(ModPath, ModPath), String> {
    let mut edges = BTreeMap::new();
    for (module, file) in &tree.files {
        let mut uses = Uses {
            tree,
            scope: module.clone(),
            found: BTreeMap::new(),
        };
        uses.visit_file(&parse(file));
        for (target, path) in uses.found {
            edges.insert((module.clone(), target), path);
        }
    }
    edges
}

/// No two modules of a crate import each other.
#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let ws = workspace();
    let mut problems = Vec::new();
    for krate in CRATES {
        let tree = tree(&ws.join(krate.root));
        let edges = imports(&tree);
        for ((a, b), a_uses) in &edges {
            if a >= b {
                continue;
            }
            if let Some(b_uses) = edges.get(&(b.clone(), a.clone())) {
                let file = |m: &ModPath| {
                    tree.files[m]
                        .strip_prefix(&ws)
                        .unwrap_or(&tree.files[m])
                        .display()
                        .to_string()
                };
                problems.push(format!(
                    "{}: `{}` ↔ `{}`\n    {} uses `{a_uses}`\n    {} uses `{b_uses}`",
                    krate.name,
                    module_name(a),
                    module_name(b),
                    file(a),
                    file(b),
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "modules that import each other (move what both need into a leaf module):\n{}",
        problems.join("\n")
    );
}

/// The checker itself sees a cycle, a re-export, a child using its parent,
/// and ignores a parent's `mod` declaration and a test module's `super::*`.
#[test]
fn the_checker_finds_what_it_should() {
    let mut tree = Tree::default();
    for m in [&[][..], &["a"], &["a", "b"], &["c"]] {
        let m: ModPath = m.iter().map(|s: &&str| s.to_string()).collect();
        tree.files.insert(m, PathBuf::new());
    }
    tree.inline
        .insert(vec!["a".into(), "b".into(), "tests".into()]);
    let read = |scope: &[&str], code: &str| {
        let mut uses = Uses {
            tree: &tree,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            found: BTreeMap::new(),
        };
        uses.visit_file(&syn::parse_file(code).expect("test code parses"));
        uses.found
            .into_keys()
            .map(|m| module_name(&m))
            .collect::<Vec<_>>()
    };
    // A parent declaring and re-exporting its child.
    assert_eq!(read(&["a"], "pub mod b; pub use b::Thing;"), ["a::b"]);
    // A child using its parent's items, inline and in a macro.
    assert_eq!(read(&["a", "b"], "fn f() { super::helper(); }"), ["a"]);
    assert_eq!(read(&["a", "b"], "fn f() { g!(crate::c::X); }"), ["c"]);
    // A group, a sibling through `super`, another crate, a test module.
    assert_eq!(
        read(
            &["a", "b"],
            "use crate::{c::X, a::Y}; use std::fmt; use serde::Serialize;"
        ),
        ["a", "c"]
    );
    assert_eq!(
        read(&["a", "b"], "#[cfg(test)] mod tests { use super::*; }"),
        Vec::<String>::new()
    );
}

/// No file in `runtime/src` is longer than 600 lines.
#[test]
fn no_runtime_file_is_longer_than_600_lines() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let ws = workspace();
    let mut files = Vec::new();
    walk(&ws.join("runtime/src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_RUNTIME_FILE_LINES).then(|| {
                format!(
                    "{}: {lines} lines",
                    f.strip_prefix(&ws).unwrap_or(f).display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "files longer than {MAX_RUNTIME_FILE_LINES} lines (split them by concept):\n{}",
        long.join("\n")
    );
}
