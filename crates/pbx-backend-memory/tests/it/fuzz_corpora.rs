//! The fuzz targets' bodies (`pbx_backend_memory::fuzzing`, run by `fuzz/`
//! under cargo-fuzz) on stable: over the fixture corpora and mangled variants
//! of them. Nothing may panic; every refusal names its problems at line:column
//! (the functions check that themselves).

use std::path::{Path, PathBuf};

use pbx_backend::PbxBackend as _;
use pbx_backend_memory::{DEMO_CONFIG, MemoryPbx, fuzzing};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The `.toml` files of `dir`, sorted, with their text.
fn corpus(dir: &str) -> Vec<(PathBuf, String)> {
    let dir = fixtures().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// Variants of `text` a fuzzer would soon find: cut short at each line, each
/// line left out or doubled, and TOML's punctuation dropped in at some places.
fn mangled(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        out.push(lines[..i].join("\n"));
        let mut without = lines.clone();
        without.remove(i);
        out.push(without.join("\n"));
        let mut doubled = lines.clone();
        doubled.insert(i, lines[i]);
        out.push(doubled.join("\n"));
    }
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let step = (boundaries.len() / 40).max(1);
    for (n, &at) in boundaries.iter().step_by(step).enumerate() {
        let insert = [
            "\"", "[", "]", "=", "\n", "0", "{", "\u{feff}", "-1", "1e999",
        ][n % 10];
        out.push(format!("{}{insert}{}", &text[..at], &text[at..]));
        let next = boundaries
            .get(boundaries.partition_point(|&b| b <= at))
            .copied();
        out.push(format!(
            "{}{}",
            &text[..at],
            &text[next.unwrap_or(text.len())..]
        ));
    }
    out
}

#[tokio::test]
async fn the_scenario_fuzz_target_accepts_the_good_corpus_and_locates_every_problem() {
    let pbx = MemoryPbx::demo();
    let acme = pbx.authenticate("203", "203").await.unwrap().unwrap();
    let good = corpus("scenarios");
    assert!(good.len() >= 4, "fixtures/scenarios");
    for (path, text) in &good {
        if let Err(e) = fuzzing::scenario(&pbx, &acme, text) {
            panic!("{}: {e}", path.display());
        }
    }
    let bad = corpus("scenarios/bad");
    assert!(bad.len() >= 5, "fixtures/scenarios/bad");
    for (path, text) in &bad {
        let error = fuzzing::scenario(&pbx, &acme, text).expect_err(&path.display().to_string());
        assert!(error.to_string().starts_with("scenario:"), "{error}");
    }
    // Another group's caller: the scenarios naming "Acme" are unknown names to it.
    let globex = pbx.authenticate("301", "301").await.unwrap().unwrap();
    let mut refused = 0;
    for (_, text) in good.iter().chain(&bad) {
        refused += usize::from(fuzzing::scenario(&pbx, &globex, text).is_err());
        for variant in mangled(text) {
            let _ = fuzzing::scenario(&pbx, &acme, &variant);
        }
    }
    assert!(
        refused >= good.len(),
        "every Acme scenario is refused to Globex"
    );
    for text in [
        "",
        "=",
        "[[step]]",
        "\0",
        "name = \"x\"\n[[step]]\nat = 1e999",
    ] {
        let _ = fuzzing::scenario(&pbx, &acme, text);
    }
}

#[test]
fn the_config_fuzz_target_accepts_the_demo_and_locates_every_problem() {
    fuzzing::config(DEMO_CONFIG).expect("the demo configuration");
    let bad = corpus("config/bad");
    assert!(bad.len() >= 15, "fixtures/config/bad");
    for (path, text) in &bad {
        let error = fuzzing::config(text).expect_err(&path.display().to_string());
        assert!(error.to_string().starts_with("config.toml:"), "{error}");
    }
    let mut refused = 0;
    let mut variants = 0;
    for text in std::iter::once(DEMO_CONFIG).chain(bad.iter().map(|(_, t)| t.as_str())) {
        for variant in mangled(text) {
            variants += 1;
            refused += usize::from(fuzzing::config(&variant).is_err());
        }
    }
    // The mangling must reach the checker's refusals, not only pass through.
    assert!(refused > variants / 4, "{refused} of {variants} refused");
    for text in ["", "=", "[[group]]", "\0", "[[group]]\nname = 1e999"] {
        let _ = fuzzing::config(text);
    }
}
