//! Repository checks that reviewers should not have to make by hand.
//!
//! Run by `cargo test` (xtask is a default member, so a bare `cargo test` runs these
//! tests too) and by `cargo xtask tidy`:
//! - every Rust source file opens with a `//!` doc line;
//! - every crate under `crates/` obeys the dependency table in `ARCHITECTURE.md`, read
//!   on the graph cargo resolved (`cargo metadata`, all features, every target
//!   platform): its direct workspace dependencies are among the ones it may use, and
//!   no crate it "never" uses is reached through any chain of normal dependencies;
//! - every library crate can be published on its own: the `[package]` metadata
//!   crates.io shows, a README with an example and a licence line that its `lib.rs`
//!   runs as a doc test, no file included from outside its folder, and crate docs that
//!   do not send the reader to "the repository". Other packages say `publish = false`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Runs every check and returns one line per problem found.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let workspace = Workspace::load(root)?;
    let mut problems = doc_headers(root)?;
    problems.extend(dependency_rules(root, &workspace)?);
    problems.extend(publishable(root, &workspace)?);
    Ok(problems)
}

fn doc_headers(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "bench", "fuzz"] {
        collect_rust_files(&root.join(dir), &mut files)?;
    }
    let mut problems = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).with_context(|| format!("reading {file:?}"))?;
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            let shown = file.strip_prefix(root).unwrap_or(&file).display();
            problems.push(format!("{shown}: must open with a `//!` doc line"));
        }
    }
    Ok(problems)
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).with_context(|| format!("listing {dir:?}"))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !matches!(name, "target" | "corpus" | "artifacts" | "coverage") {
                collect_rust_files(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// A workspace member as `cargo metadata` describes it.
#[derive(Debug)]
struct Package {
    name: String,
    /// The folder holding its `Cargo.toml`.
    dir: PathBuf,
    manifest: Value,
    /// Whether it has a library target (a crate others can depend on).
    is_library: bool,
}

/// The workspace's members and its resolved graph of normal dependencies.
#[derive(Debug, Default)]
struct Workspace {
    members: Vec<Package>,
    /// Package name → the names of its normal (and build) dependencies, for every
    /// package in the graph, registry crates included.
    normal: BTreeMap<String, BTreeSet<String>>,
}

impl Workspace {
    fn load(root: &Path) -> Result<Self> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(root)
            .args(["metadata", "--format-version", "1", "--all-features"])
            .output()
            .context("running `cargo metadata`")?;
        if !output.status.success() {
            bail!(
                "`cargo metadata` failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).context("reading `cargo metadata`")?;
        Self::from_metadata(&metadata)
    }

    fn from_metadata(metadata: &Value) -> Result<Self> {
        let packages = metadata["packages"]
            .as_array()
            .context("`cargo metadata` lists no packages")?;
        let name_of: BTreeMap<&str, &str> = packages
            .iter()
            .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
            .collect();
        let member_ids: BTreeSet<&str> = metadata["workspace_members"]
            .as_array()
            .context("`cargo metadata` lists no workspace members")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut workspace = Workspace::default();
        for package in packages {
            let id = package["id"].as_str().unwrap_or("");
            if !member_ids.contains(id) {
                continue;
            }
            let manifest_path = package["manifest_path"]
                .as_str()
                .context("a package without a manifest path")?;
            workspace.members.push(Package {
                name: package["name"].as_str().unwrap_or("").to_owned(),
                dir: Path::new(manifest_path)
                    .parent()
                    .context("a manifest without a folder")?
                    .to_path_buf(),
                is_library: package["targets"].as_array().is_some_and(|targets| {
                    targets.iter().any(|t| {
                        t["kind"]
                            .as_array()
                            .is_some_and(|k| k.iter().any(|k| k == "lib"))
                    })
                }),
                manifest: package.clone(),
            });
        }
        for node in metadata["resolve"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(name) = node["id"].as_str().and_then(|id| name_of.get(id)) else {
                continue;
            };
            let deps = workspace.normal.entry((*name).to_owned()).or_default();
            for dep in node["deps"].as_array().into_iter().flatten() {
                // `kind` is null for a normal dependency, "build" for a build one and
                // "dev" for a test-only one; tests may use anything.
                let runs_in_the_crate = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null() || k["kind"] == "build");
                if let (true, Some(dep)) = (
                    runs_in_the_crate,
                    dep["pkg"].as_str().and_then(|id| name_of.get(id)),
                ) {
                    deps.insert((*dep).to_owned());
                }
            }
        }
        Ok(workspace)
    }

    /// Every package `name` reaches through normal dependencies, with the chain
    /// that first reaches it (`name → … → dep`).
    fn reachable(&self, name: &str) -> BTreeMap<String, String> {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = vec![(name.to_owned(), name.to_owned())];
        while let Some((package, chain)) = queue.pop() {
            for dep in self.normal.get(&package).into_iter().flatten() {
                if !seen.contains_key(dep) && dep != name {
                    let chain = format!("{chain} → {dep}");
                    seen.insert(dep.clone(), chain.clone());
                    queue.push((dep.clone(), chain));
                }
            }
        }
        seen
    }
}

/// One row of the dependency table in ARCHITECTURE.md.
#[derive(Debug)]
struct Rule {
    krate: String,
    allowed: BTreeSet<String>,
    /// Never reached, through any chain.
    forbidden: BTreeSet<String>,
    /// Never a direct dependency (reached only through a crate that owns it).
    not_directly: BTreeSet<String>,
}

const TABLE_START: &str = "<!-- dependency-table:start -->";
const TABLE_END: &str = "<!-- dependency-table:end -->";

fn parse_rules(architecture: &str) -> Result<Vec<Rule>> {
    let start = architecture
        .find(TABLE_START)
        .context("ARCHITECTURE.md has no dependency table start marker")?;
    let end = architecture
        .find(TABLE_END)
        .context("ARCHITECTURE.md has no dependency table end marker")?;
    let names = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_string())
            .filter(|s| !s.is_empty() && s != "—" && s != "-")
            .collect()
    };
    let mut rules = Vec::new();
    for line in architecture[start..end].lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        if !(3..=4).contains(&cells.len()) || !line.trim_start().starts_with('|') {
            continue;
        }
        let krate = cells[0].trim().trim_matches('`').to_string();
        if krate == "crate" || krate.starts_with("---") {
            continue;
        }
        rules.push(Rule {
            krate,
            allowed: names(cells[1]),
            forbidden: names(cells[2]),
            not_directly: cells.get(3).map(|c| names(c)).unwrap_or_default(),
        });
    }
    if rules.is_empty() {
        bail!("ARCHITECTURE.md's dependency table has no rows");
    }
    Ok(rules)
}

/// The members under `crates/`: the project's crates, as opposed to its tools.
fn crates<'a>(root: &Path, workspace: &'a Workspace) -> impl Iterator<Item = &'a Package> {
    let crates_dir = root.join("crates");
    workspace
        .members
        .iter()
        .filter(move |p| p.dir.parent() == Some(crates_dir.as_path()))
}

fn dependency_rules(root: &Path, workspace: &Workspace) -> Result<Vec<String>> {
    let architecture =
        fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    let rules = parse_rules(&architecture)?;
    Ok(check_rules(root, workspace, &rules))
}

fn check_rules(root: &Path, workspace: &Workspace, rules: &[Rule]) -> Vec<String> {
    let members: BTreeSet<&str> = workspace.members.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();
    for package in crates(root, workspace) {
        let name = &package.name;
        let folder = package
            .dir
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("");
        if name != folder {
            problems.push(format!(
                "crates/{folder}: package is named {name}; folder and package names must match"
            ));
        }
        let Some(rule) = rules.iter().find(|r| &r.krate == name) else {
            problems.push(format!(
                "{name}: missing from ARCHITECTURE.md's dependency table"
            ));
            continue;
        };
        for dep in workspace.normal.get(name).into_iter().flatten() {
            if members.contains(dep.as_str()) && !rule.allowed.contains(dep) {
                problems.push(format!(
                    "{name} depends on workspace crate {dep}, which ARCHITECTURE.md does not allow"
                ));
            }
            if rule.not_directly.contains(dep) {
                problems.push(format!(
                    "{name} depends on {dep} directly, which ARCHITECTURE.md forbids (reach it only through the crate that owns it)"
                ));
            }
        }
        for (dep, chain) in workspace.reachable(name) {
            if rule.forbidden.contains(&dep) {
                problems.push(format!(
                    "{name} reaches {dep} ({chain}), which ARCHITECTURE.md forbids"
                ));
            }
        }
    }
    for rule in rules {
        if !crates(root, workspace).any(|p| p.name == rule.krate) {
            problems.push(format!(
                "ARCHITECTURE.md's dependency table names {}, which is not a crate under crates/",
                rule.krate
            ));
        }
    }
    problems
}

/// How a library crate's README must end: the licence, as the workspace declares it.
const LICENCE_HEADING: &str = "## Licence";

fn publishable(root: &Path, workspace: &Workspace) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let crates: Vec<&Package> = crates(root, workspace).collect();
    for package in &workspace.members {
        let name = &package.name;
        let publish_false = package.manifest["publish"]
            .as_array()
            .is_some_and(Vec::is_empty);
        if !crates.iter().any(|c| c.name == *name) {
            if !publish_false {
                problems.push(format!(
                    "{name}: a tool, not a crate under crates/: it must say `publish = false`"
                ));
            }
            continue;
        }
        problems.extend(files_inside(package)?);
        if package.is_library {
            problems.extend(library_metadata(package, publish_false));
            problems.extend(library_files(package)?);
        }
    }
    Ok(problems)
}

/// The `[package]` fields crates.io shows, on a library crate.
fn library_metadata(package: &Package, publish_false: bool) -> Vec<String> {
    let name = &package.name;
    let manifest = &package.manifest;
    let mut problems = Vec::new();
    if publish_false {
        problems.push(format!(
            "{name}: a library crate must be publishable (no `publish = false`)"
        ));
    }
    for field in ["description", "license", "repository", "readme"] {
        if manifest[field].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: Cargo.toml's [package] needs `{field}`"));
        }
    }
    if manifest["repository"]
        .as_str()
        .is_some_and(|r| r.contains(".invalid") || !r.starts_with("https://"))
    {
        problems.push(format!(
            "{name}: `repository` must be an https URL crates.io can link to"
        ));
    }
    for (field, max) in [("keywords", 5), ("categories", usize::MAX)] {
        let count = manifest[field].as_array().map_or(0, Vec::len);
        if count == 0 || count > max {
            problems.push(format!(
                "{name}: Cargo.toml's [package] needs `{field}` (1 to {})",
                if max == usize::MAX {
                    "any number".to_owned()
                } else {
                    max.to_string()
                }
            ));
        }
    }
    if manifest["readme"]
        .as_str()
        .is_some_and(|r| r != "README.md")
    {
        problems.push(format!(
            "{name}: `readme` must be the crate's own README.md"
        ));
    }
    problems
}

/// The README, and docs that stand on their own.
fn library_files(package: &Package) -> Result<Vec<String>> {
    let name = &package.name;
    let mut problems = Vec::new();
    match fs::read_to_string(package.dir.join("README.md")) {
        Ok(readme) => {
            if !readme.contains("```rust") {
                problems.push(format!(
                    "{name}: README.md needs an example (a ```rust block)"
                ));
            }
            if !readme.contains(LICENCE_HEADING) {
                problems.push(format!(
                    "{name}: README.md needs a `{LICENCE_HEADING}` section"
                ));
            }
        }
        Err(_) => problems.push(format!("{name}: has no README.md")),
    }
    let lib = fs::read_to_string(package.dir.join("src/lib.rs")).unwrap_or_default();
    if !lib.contains("include_str!(\"../README.md\")") {
        problems.push(format!(
            "{name}: src/lib.rs must run the README's examples as doc tests (`#[doc = include_str!(\"../README.md\")]` on a `#[cfg(doctest)]` item)"
        ));
    }
    let mut files = Vec::new();
    collect_rust_files(&package.dir.join("src"), &mut files)?;
    for file in files {
        let text = fs::read_to_string(&file).with_context(|| format!("reading {file:?}"))?;
        let shown = file.strip_prefix(&package.dir).unwrap_or(&file).display();
        for line in text.lines().map(str::trim_start) {
            if line.starts_with("//!") && line.contains("in the repository") {
                problems.push(format!(
                    "{name}: {shown}: crate docs must not send the reader to \"the repository\"; ship the text as docs"
                ));
            }
        }
    }
    Ok(problems)
}

/// Every file a crate's sources include lies inside the crate's folder, so that its
/// package builds.
fn files_inside(package: &Package) -> Result<Vec<String>> {
    let name = &package.name;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    collect_rust_files(&package.dir.join("src"), &mut files)?;
    for file in files {
        let text = fs::read_to_string(&file).with_context(|| format!("reading {file:?}"))?;
        let shown = file.strip_prefix(&package.dir).unwrap_or(&file).display();
        for included in included_paths(&text) {
            if !stays_inside(&file, &included, &package.dir) {
                problems.push(format!(
                    "{name}: {shown} includes {included}, outside the crate's folder: the published crate would not build (put the file, or a link to it, inside the crate)"
                ));
            }
        }
    }
    Ok(problems)
}

/// The literal paths of every `include_str!`, `include_bytes!` and `#[path]` in `text`.
fn included_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for marker in ["include_str!(", "include_bytes!(", "#[path = "] {
        for (at, _) in text.match_indices(marker) {
            let rest = text[at + marker.len()..].trim_start();
            if let Some(rest) = rest.strip_prefix('"')
                && let Some(end) = rest.find('"')
            {
                paths.push(rest[..end].to_owned());
            }
        }
    }
    paths
}

/// Whether `included`, relative to `file`'s folder, names a file inside `dir`,
/// judged on the path as written (a link inside the crate counts as inside: cargo
/// packages the file it points to).
fn stays_inside(file: &Path, included: &str, dir: &Path) -> bool {
    let mut path: Vec<Component<'_>> = file.parent().unwrap_or(file).components().collect();
    for part in Path::new(included).components() {
        match part {
            Component::ParentDir => {
                path.pop();
            }
            Component::CurDir => {}
            other => path.push(other),
        }
    }
    path.iter().collect::<PathBuf>().starts_with(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        crate::project_root()
    }

    #[test]
    fn every_source_file_opens_with_a_doc_line() {
        let problems = doc_headers(&root()).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn crate_dependencies_follow_architecture_md() {
        let workspace = Workspace::load(&root()).unwrap();
        let problems = dependency_rules(&root(), &workspace).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_library_crate_is_publishable() {
        let workspace = Workspace::load(&root()).unwrap();
        assert!(
            workspace.members.iter().filter(|p| p.is_library).count() >= 8,
            "{:?}",
            workspace.members
        );
        let problems = publishable(&root(), &workspace).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// A `cargo metadata` answer: `a` (a library under crates/) uses `b`, which uses
    /// the registry crate `xml`; `b` uses `c` only in its tests.
    fn metadata(root: &Path) -> Value {
        let package = |name: &str, dir: &str| {
            serde_json::json!({
                "id": format!("{name}-id"),
                "name": name,
                "manifest_path": root.join(dir).join("Cargo.toml"),
                "targets": [{ "kind": ["lib"] }],
                "description": "A crate.",
                "license": "MIT",
                "repository": "https://example.invalid/x",
                "readme": "README.md",
                "keywords": [],
                "categories": ["encoding"],
                "publish": null,
            })
        };
        let edge = |to: &str, kind: Value| serde_json::json!({ "pkg": format!("{to}-id"), "dep_kinds": [{ "kind": kind }] });
        serde_json::json!({
            "packages": [
                package("a", "crates/a"),
                package("b", "crates/b"),
                package("c", "crates/c"),
                package("xml", "/registry/xml"),
            ],
            "workspace_members": ["a-id", "b-id", "c-id"],
            "resolve": { "nodes": [
                { "id": "a-id", "deps": [edge("b", Value::Null)] },
                { "id": "b-id", "deps": [edge("xml", Value::Null), edge("c", "dev".into())] },
                { "id": "c-id", "deps": [] },
                { "id": "xml-id", "deps": [] },
            ] },
        })
    }

    fn rules(table: &str) -> Vec<Rule> {
        parse_rules(&format!(
            "{TABLE_START}\n| crate | may depend on | never |\n|---|---|---|\n{table}{TABLE_END}"
        ))
        .unwrap()
    }

    #[test]
    fn a_forbidden_crate_reached_through_another_is_caught_with_its_chain() {
        let root = Path::new("/ws");
        let workspace = Workspace::from_metadata(&metadata(root)).unwrap();
        let problems = check_rules(
            root,
            &workspace,
            &rules("| `a` | `b` | `xml`, `c` |\n| `b` | — | — |\n| `c` | — | — |\n"),
        );
        assert_eq!(
            problems,
            ["a reaches xml (a → b → xml), which ARCHITECTURE.md forbids"],
            "a test-only edge (b → c) is no edge"
        );
    }

    #[test]
    fn a_crate_used_without_leave_or_directly_against_the_table_is_caught() {
        let root = Path::new("/ws");
        let workspace = Workspace::from_metadata(&metadata(root)).unwrap();
        let problems = check_rules(
            root,
            &workspace,
            &rules(
                "| `a` | — | — | `xml` |\n| `b` | — | — | `xml` |\n| `c` | — | — |\n| `d` | — | — |\n",
            ),
        );
        assert_eq!(
            problems,
            [
                "a depends on workspace crate b, which ARCHITECTURE.md does not allow",
                "b depends on xml directly, which ARCHITECTURE.md forbids (reach it only through the crate that owns it)",
                "ARCHITECTURE.md's dependency table names d, which is not a crate under crates/",
            ]
        );
    }

    #[test]
    fn a_library_without_its_metadata_is_named_field_by_field() {
        let root = Path::new("/ws");
        let workspace = Workspace::from_metadata(&metadata(root)).unwrap();
        let problems = library_metadata(&workspace.members[0], true);
        assert_eq!(
            problems,
            [
                "a: a library crate must be publishable (no `publish = false`)",
                "a: `repository` must be an https URL crates.io can link to",
                "a: Cargo.toml's [package] needs `keywords` (1 to 5)",
            ]
        );
    }

    #[test]
    fn an_include_from_outside_the_crate_is_caught() {
        let dir = Path::new("/ws/crates/a");
        let file = dir.join("src/scenario/mod.rs");
        let text = "const A: &str = include_str!( \"../../../../fixtures/x.toml\");\nconst B: &[u8] = include_bytes!(\"../../fixtures/y.bin\");\n#[path = \"../other.rs\"]\nmod other;";
        let paths = included_paths(text);
        assert_eq!(
            paths,
            [
                "../../../../fixtures/x.toml",
                "../../fixtures/y.bin",
                "../other.rs"
            ]
        );
        let inside: Vec<bool> = paths.iter().map(|p| stays_inside(&file, p, dir)).collect();
        assert_eq!(inside, [false, true, true]);
    }
}
