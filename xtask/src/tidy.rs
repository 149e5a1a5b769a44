//! Repository checks that reviewers should not have to make by hand.
//!
//! Run by `cargo test` (the tests at the bottom) and by `cargo xtask tidy`:
//! - every Rust source file opens with a `//!` doc line;
//! - every crate's normal dependencies obey the dependency table in `ARCHITECTURE.md`
//!   (which workspace crates it may use, and which crates it must never use);
//! - the crates others embed on their own ([`EMBEDDABLE`]) link none of their
//!   "never" crates, not even through their dependencies (`cargo tree -e normal`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Runs every check and returns one line per problem found.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let mut problems = doc_headers(root)?;
    problems.extend(dependency_direction(root)?);
    problems.extend(embeddable_closure(root)?);
    Ok(problems)
}

/// Crates others embed on their own (issue 13): their "never" column holds for
/// everything they link, not only for what their manifest names.
const EMBEDDABLE: &[&str] = &["pbx-user-data", "pbx-storage-sqlite"];

fn embeddable_closure(root: &Path) -> Result<Vec<String>> {
    let architecture =
        fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    let rules = parse_rules(&architecture)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut problems = Vec::new();
    for name in EMBEDDABLE {
        let Some(rule) = rules.iter().find(|r| r.krate == *name) else {
            problems.push(format!(
                "{name}: missing from ARCHITECTURE.md's dependency table"
            ));
            continue;
        };
        let out = std::process::Command::new(&cargo)
            .current_dir(root)
            .args(["tree", "-p", name, "-e", "normal", "--prefix", "none"])
            .args(["--format", "{p}"])
            .output()
            .with_context(|| format!("running cargo tree -p {name}"))?;
        if !out.status.success() {
            bail!(
                "cargo tree -p {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let linked: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_string)
            .collect();
        for dep in rule.forbidden.intersection(&linked) {
            problems.push(format!(
                "{name} links {dep} through its dependencies, which ARCHITECTURE.md forbids"
            ));
        }
    }
    Ok(problems)
}

fn doc_headers(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "fuzz"] {
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

/// One row of the dependency table in ARCHITECTURE.md.
#[derive(Debug)]
struct Rule {
    krate: String,
    allowed: BTreeSet<String>,
    forbidden: BTreeSet<String>,
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
        if cells.len() != 3 || !line.trim_start().starts_with('|') {
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
        });
    }
    if rules.is_empty() {
        bail!("ARCHITECTURE.md's dependency table has no rows");
    }
    Ok(rules)
}

/// The names of a manifest's normal and build dependencies (not dev-dependencies:
/// tests may use anything), including target-specific ones.
fn normal_dependencies(manifest: &toml::Table) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut add = |table: &toml::Table| {
        for key in ["dependencies", "build-dependencies"] {
            if let Some(toml::Value::Table(t)) = table.get(key) {
                for (name, spec) in t {
                    // `foo = { package = "bar" }` depends on bar.
                    let real = spec.get("package").and_then(|p| p.as_str()).unwrap_or(name);
                    deps.insert(real.to_string());
                }
            }
        }
    };
    add(manifest);
    if let Some(toml::Value::Table(targets)) = manifest.get("target") {
        for cfg in targets.values() {
            if let toml::Value::Table(t) = cfg {
                add(t);
            }
        }
    }
    deps
}

fn dependency_direction(root: &Path) -> Result<Vec<String>> {
    let architecture =
        fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    let rules = parse_rules(&architecture)?;
    let mut workspace_crates = BTreeSet::new();
    let mut manifests = Vec::new();
    for entry in fs::read_dir(root.join("crates"))? {
        let dir = entry?.path();
        let manifest_path = dir.join("Cargo.toml");
        if !manifest_path.exists() {
            continue;
        }
        let manifest: toml::Table = fs::read_to_string(&manifest_path)?
            .parse()
            .with_context(|| format!("parsing {manifest_path:?}"))?;
        let name = manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .with_context(|| format!("{manifest_path:?} has no package name"))?
            .to_string();
        let folder = dir.file_name().and_then(|f| f.to_str()).unwrap_or("");
        workspace_crates.insert(name.clone());
        manifests.push((name, folder.to_string(), manifest));
    }
    let mut problems = Vec::new();
    for (name, folder, manifest) in &manifests {
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
        for dep in normal_dependencies(manifest) {
            if rule.forbidden.contains(&dep) {
                problems.push(format!(
                    "{name} depends on {dep}, which ARCHITECTURE.md forbids"
                ));
            }
            if workspace_crates.contains(&dep) && !rule.allowed.contains(&dep) {
                problems.push(format!(
                    "{name} depends on workspace crate {dep}, which ARCHITECTURE.md does not allow"
                ));
            }
        }
    }
    for rule in &rules {
        if !workspace_crates.contains(&rule.krate) {
            problems.push(format!(
                "ARCHITECTURE.md's dependency table names {}, which is not a crate under crates/",
                rule.krate
            ));
        }
    }
    Ok(problems)
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
        let problems = dependency_direction(&root()).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn embeddable_crates_link_nothing_they_must_not() {
        let problems = embeddable_closure(&root()).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn dependency_rules_catch_a_forbidden_edge() {
        let doc = format!(
            "{TABLE_START}\n| crate | may depend on | never |\n|---|---|---|\n| `a` | — | `xml`, `axum` |\n{TABLE_END}"
        );
        let rules = parse_rules(&doc).unwrap();
        assert_eq!(rules.len(), 1);
        assert!(rules[0].allowed.is_empty());
        assert!(rules[0].forbidden.contains("axum"));
        let manifest: toml::Table =
            "[dependencies]\nfoo = { package = \"xml\", version = \"1\" }\n[target.'cfg(unix)'.dependencies]\nbar = \"1\"\n"
                .parse()
                .unwrap();
        let deps = normal_dependencies(&manifest);
        assert!(deps.contains("xml") && deps.contains("bar"), "{deps:?}");
    }
}
