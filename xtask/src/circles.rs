//! `cargo run -p xtask -- circles`: fails when two modules of one crate
//! reference each other (a circle), so that each crate's modules stay a
//! one-way stack that can be read, and changed, from the bottom up.
//!
//! The module graph is read from the source text, without compiling: every
//! `crate::<module>` path, in `use` lines (with `{...}` groups, over several
//! lines) and inline in code, is an edge from the file's module to
//! `<module>`. A path to a name the crate root re-exports (`crate::Client`,
//! from `pub use client::{Client, ...}` in `lib.rs`) is an edge to the
//! module that defines it, so a re-export does not hide a circle. Comments
//! are skipped. Each `src/` holds flat files (one module per file), which
//! is what this reads; `lib.rs` and `main.rs` are crate roots, not modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crates whose modules must not import each other.
pub(crate) const CRATES: &[&str] = &["core/src", "emulator/src", "bindings-python/src", "bindings-node/src", "cli/src"];

/// Runs the check over [`CRATES`] under `root`; `Err` lists each circle.
/// With `print_graph`, prints each module's references first.
pub(crate) fn check(root: &Path, print_graph: bool) -> Result<String, String> {
    let mut circles = Vec::new();
    let mut edges_total = 0;
    for dir in CRATES {
        let files = read_dir(&root.join(dir))?;
        let graph = graph(&files);
        edges_total += graph.values().map(BTreeSet::len).sum::<usize>();
        if print_graph {
            for (module, targets) in &graph {
                let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
                println!("{dir}: {module} -> {}", targets.join(", "));
            }
        }
        for (a, b) in pairs(&graph) {
            circles.push(format!("{dir}: {a} <-> {b}"));
        }
    }
    if circles.is_empty() {
        Ok(format!(
            "xtask circles: no two modules import each other ({} crates, {edges_total} module edges)",
            CRATES.len()
        ))
    } else {
        Err(format!(
            "modules that reference each other (move the shared piece down into a module both can use):\n  {}",
            circles.join("\n  ")
        ))
    }
}

/// `(file stem, source text)` of every `.rs` file directly in `dir`.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|x| x == "rs") {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push((stem, text));
        }
    }
    files.sort();
    Ok(files)
}

/// Module -> the modules it references.
pub(crate) fn graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let is_root = |stem: &str| stem == "lib" || stem == "main";
    let modules: BTreeSet<&str> = files.iter().map(|(s, _)| s.as_str()).filter(|s| !is_root(s)).collect();
    let reexports: BTreeMap<String, String> = files
        .iter()
        .filter(|(s, _)| s == "lib")
        .flat_map(|(_, text)| root_reexports(&strip_comments(text), &modules))
        .collect();
    let mut graph = BTreeMap::new();
    for (stem, text) in files.iter().filter(|(s, _)| !is_root(s)) {
        let targets: BTreeSet<String> = crate_paths(&strip_comments(text))
            .into_iter()
            .filter_map(
                |first| if modules.contains(first.as_str()) { Some(first) } else { reexports.get(&first).cloned() },
            )
            .filter(|m| m != stem)
            .collect();
        graph.insert(stem.clone(), targets);
    }
    graph
}

/// Each pair of modules that reference each other, once, in name order.
pub(crate) fn pairs(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (a, targets) in graph {
        for b in targets {
            if a < b && graph.get(b).is_some_and(|t| t.contains(a)) {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

/// The source with `//` comments (doc comments too) and `/* */` comments
/// blanked, so that a comment that mentions `crate::x` is no reference.
/// String literals are read past (a `//` in a URL opens no comment) and
/// kept: they can hold paths, as serde's `deserialize_with = "crate::..."`.
fn strip_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            b'r' if raw_string_hashes(b, i).is_some() => {
                let start = i;
                let (hashes, body) = raw_string_hashes(b, i).unwrap_or((0, i));
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                i = body;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i = (i + close.len()).min(b.len());
                out.push_str(&text[start..i]);
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.push_str(&text[start..i]);
            }
            // A char literal such as '"' (not a lifetime such as 'a): skip it
            // whole so that its quote does not open a string.
            b'\'' if b.get(i + 1) == Some(&b'\\') || b.get(i + 2) == Some(&b'\'') => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.push_str(&text[start..i]);
            }
            _ => {
                // Copy one whole UTF-8 character.
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// At `r"` / `r#"` (not inside an identifier): the number of `#` and where
/// the body starts.
fn raw_string_hashes(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((j - i - 1, j + 1))
}

/// The first segment after every `crate::` (each item of a `crate::{...}`
/// group).
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::").map(|i| from + i) {
        from = at + "crate::".len();
        // `$crate::` in a macro, or `mycrate::`: not this crate's path.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = code[from..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            out.extend(group_heads(group));
        } else {
            out.push(ident(rest).to_string());
        }
    }
    out
}

/// The first segment of each top-level item of a `{...}` group (`group`
/// starts after its `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    let mut i = 0;
    while i < group.len() {
        let c = group[i..].chars().next().unwrap_or(' ');
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect_item = true,
            c if expect_item && depth == 0 && (c.is_alphabetic() || c == '_') => {
                let name = ident(&group[i..]);
                out.push(name.to_string());
                expect_item = false;
                i += name.len();
                continue;
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The crate root's `pub use <module>::...` items: each re-exported name
/// (or its `as` alias) -> the module that defines it.
fn root_reexports(code: &str, modules: &BTreeSet<&str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let Some(path) = stmt.strip_prefix("pub use ").or_else(|| stmt.strip_prefix("pub(crate) use ")) else {
            continue;
        };
        let path = path.trim().trim_start_matches("self::").trim_start_matches("crate::");
        let module = ident(path);
        if !modules.contains(module) {
            continue;
        }
        let rest = &path[module.len()..];
        // The last name of each leaf: `a::{B, c::D as E}` -> B, E.
        let leaves: Vec<&str> = rest.split([',', '{', '}']).map(str::trim).filter(|s| !s.is_empty()).collect();
        for leaf in leaves {
            let name = match leaf.rsplit_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => leaf.rsplit("::").next().unwrap_or(leaf).trim(),
            };
            if !name.is_empty() && name != "self" && name != "*" {
                out.push((name.to_string(), module.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn finds_a_circle_through_use_groups_inline_paths_and_reexports() {
        let g = graph(&files(&[
            ("lib", "mod a; mod b; mod c; mod d;\npub use d::{\n    Thing,\n    other::Deep as Alias,\n};"),
            ("a", "use crate::{\n    b::{self, X},\n    c::Y,\n};"),
            ("b", "fn f() { crate::a::g() }"),
            (
                "c",
                "// use crate::a;\n/* crate::a */ const S: &str = \"https://x//\";\nfn f() -> crate::Alias { todo!() }",
            ),
            ("d", "fn f(_: crate::c::Y) {}"),
        ]));
        assert_eq!(pairs(&g), vec![("a".to_string(), "b".to_string()), ("c".to_string(), "d".to_string())]);
    }

    #[test]
    fn a_one_way_stack_has_no_circle() {
        let g = graph(&files(&[
            ("lib", "mod a; mod b; mod c;"),
            ("a", "use crate::b::X; use crate::Root; fn f() { $crate::a::x(); let c = '\"'; }"),
            ("b", "#[serde(deserialize_with = \"crate::c::de\")] struct S; const U: &str = r#\"//\"#; use crate::c;"),
            ("c", ""),
        ]));
        assert!(pairs(&g).is_empty(), "{g:?}");
        assert_eq!(g["a"].iter().collect::<Vec<_>>(), vec!["b"]);
        // A path in a string (serde's deserialize_with) counts; `//` inside a
        // string opens no comment, so the `use` after it counts too.
        assert_eq!(g["b"].iter().collect::<Vec<_>>(), vec!["c"]);
    }
}
