//! Every document under `fixtures/xmlrpc/{good,bad,encode}`, driven by one [`check`].
//!
//! - `good/<name>.xml` decodes; `<name>.expected` holds its rendering (see `render`).
//!   It must also survive encode → decode unchanged, and the strict (default)
//!   encoder must refuse it exactly when it holds an extension-only value.
//! - `bad/<name>.xml` fails to decode; the first line of `<name>.expected` is the
//!   error kind (written by hand: `UPDATE_EXPECT` never changes it), the rest is the
//!   position and message (rewritten by `UPDATE_EXPECT`).
//! - `encode/<name>.xml` is decoded then encoded with the default options (`ext-*`
//!   files with extensions allowed); the output must equal `<name>.expected.xml`,
//!   or the error must equal `<name>.expected.err`.
//!
//! Which decoder runs is read from the document: `methodCall` or `methodResponse`
//! when either tag appears (first one wins), a bare value otherwise.

use std::fs;
use std::path::{Path, PathBuf};

use xmlrpc_codec::{
    DecodeError, Decoder, EncodeError, EncodeOptions, Encoder, Limits, MethodCall, MethodResponse,
    Value,
};

use crate::{fixtures_dir, render, same_call, same_response, same_value};

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in ["good", "bad", "encode"] {
        for path in fixture_files(&fixtures_dir().join(dir)) {
            checked += 1;
            if let Err(why) = check(&path) {
                failures.push(format!("{}: {why}", shown(&path)));
            }
        }
    }
    assert!(
        checked > 80,
        "only {checked} fixtures found: wrong directory?"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Checks one fixture document according to the directory it sits in.
fn check(path: &Path) -> Result<(), String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let root = Root::sniff(&bytes);
    let dir = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    match dir {
        Some("good") => check_good(path, root, &bytes),
        Some("bad") => check_bad(path, root, &bytes),
        Some("encode") => check_encode(path, root, &bytes),
        _ => Err("fixture outside good/, bad/ and encode/".into()),
    }
}

fn check_good(path: &Path, root: Root, bytes: &[u8]) -> Result<(), String> {
    let doc = root
        .decode(bytes)
        .map_err(|e| format!("should decode, but: {}", describe(&e)))?;
    expect(&path.with_extension("expected"), &doc.render())?;

    let extended = doc
        .encode(crate::options(true))
        .map_err(|e| format!("encoding with extensions failed: {e:?}"))?;
    let again = root.decode(&extended).map_err(|e| {
        format!(
            "own output does not decode: {}\n{}",
            describe(&e),
            lossy(&extended)
        )
    })?;
    if !doc.same(&again) {
        return Err(format!(
            "encode → decode changed the document:\nbefore: {}after:  {}encoded: {}",
            doc.render(),
            again.render(),
            lossy(&extended)
        ));
    }

    let strict = doc.encode(EncodeOptions::default());
    match (doc.needs_extension(), strict) {
        (false, Ok(out)) if out == extended => Ok(()),
        (false, Ok(out)) => Err(format!(
            "strict and extended outputs differ without an extension value:\n{}\n{}",
            lossy(&out),
            lossy(&extended)
        )),
        (true, Err(EncodeError::ExtensionRequired { .. })) => Ok(()),
        (needs, result) => Err(format!(
            "strict encoding: extension needed = {needs}, but got {:?}",
            result.map(|out| lossy(&out))
        )),
    }
}

fn check_bad(path: &Path, root: Root, bytes: &[u8]) -> Result<(), String> {
    let err = match root.decode(bytes) {
        Ok(doc) => return Err(format!("should fail, but decoded:\n{}", doc.render())),
        Err(e) => e,
    };
    let expected_path = path.with_extension("expected");
    let kind = err.kind().name();
    let wanted = fs::read_to_string(&expected_path).ok();
    let wanted_kind = wanted
        .as_deref()
        .and_then(|t| t.lines().next())
        .map(str::trim);
    if wanted_kind.is_some_and(|w| w != kind) {
        return Err(format!(
            "error kind {kind}, expected {}: {}",
            wanted_kind.unwrap_or(""),
            describe(&err)
        ));
    }
    if err.line() == 0 || err.column() == 0 {
        return Err(format!("positions are 1-based, got {}", describe(&err)));
    }
    expect(
        &expected_path,
        &format!("{kind}\nat {}:{}\n{err}\n", err.line(), err.column()),
    )
}

fn check_encode(path: &Path, root: Root, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("");
    let options = crate::options(name.starts_with("ext-"));
    let doc = root
        .decode(bytes)
        .map_err(|e| format!("input should decode, but: {}", describe(&e)))?;
    let (ok_path, err_path) = (
        path.with_extension("expected.xml"),
        path.with_extension("expected.err"),
    );
    let (actual, stale) = match doc.encode(options) {
        Ok(out) => (
            (
                ok_path,
                String::from_utf8(out).map_err(|e| format!("output is not UTF-8: {e}"))?,
            ),
            err_path,
        ),
        Err(e) => ((err_path, format!("{e:?}\n")), ok_path),
    };
    if stale.exists() {
        if update() {
            fs::remove_file(&stale).map_err(|e| e.to_string())?;
        } else {
            return Err(format!("expected {} but got {}", shown(&stale), actual.1));
        }
    }
    expect(&actual.0, &actual.1)
}

/// Compares `actual` with the file, or rewrites the file under `UPDATE_EXPECT=1`.
fn expect(path: &Path, actual: &str) -> Result<(), String> {
    match fs::read_to_string(path) {
        Ok(wanted) if wanted == actual => Ok(()),
        _ if update() => {
            fs::write(path, actual).map_err(|e| format!("cannot write {}: {e}", shown(path)))
        }
        Ok(wanted) => Err(format!(
            "differs from {} (UPDATE_EXPECT=1 rewrites it):\n--- expected\n{wanted}+++ actual\n{actual}",
            shown(path)
        )),
        Err(_) => Err(format!(
            "{} is missing (UPDATE_EXPECT=1 writes it):\n{actual}",
            shown(path)
        )),
    }
}

fn update() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v != "0")
}

/// The `.xml` inputs of a directory, sorted; expected outputs are not inputs.
/// Fails if an expected file has lost its input, so stale files do not pile up.
fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    let mut orphans = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        if let Some(stem) = name.split_once(".expected").map(|(stem, _)| stem) {
            if !dir.join(format!("{stem}.xml")).exists() {
                orphans.push(name);
            }
        } else if name.ends_with(".xml") {
            inputs.push(path);
        }
    }
    assert!(
        orphans.is_empty(),
        "expected files without an input in {}: {orphans:?}",
        dir.display()
    );
    inputs.sort();
    inputs
}

#[derive(Clone, Copy)]
enum Root {
    Call,
    Response,
    Value,
}

enum Doc {
    Call(MethodCall),
    Response(MethodResponse),
    Value(Value),
}

impl Root {
    fn sniff(bytes: &[u8]) -> Root {
        // UTF-16 documents (with a byte-order mark) are sniffed on their ASCII bytes.
        let ascii: Vec<u8> = match bytes {
            [0xFF, 0xFE, rest @ ..] => rest.iter().step_by(2).copied().collect(),
            [0xFE, 0xFF, rest @ ..] => rest.iter().skip(1).step_by(2).copied().collect(),
            _ => bytes.to_vec(),
        };
        let find = |tag: &[u8]| ascii.windows(tag.len()).position(|w| w == tag);
        match (find(b"<methodCall"), find(b"<methodResponse")) {
            (Some(c), Some(r)) if r < c => Root::Response,
            (Some(_), _) => Root::Call,
            (None, Some(_)) => Root::Response,
            (None, None) => Root::Value,
        }
    }

    fn decode(self, bytes: &[u8]) -> Result<Doc, DecodeError> {
        let decoder = Decoder::new(Limits::default());
        Ok(match self {
            Root::Call => Doc::Call(decoder.method_call(bytes)?),
            Root::Response => Doc::Response(decoder.method_response(bytes)?),
            Root::Value => Doc::Value(decoder.value(bytes)?),
        })
    }
}

impl Doc {
    fn render(&self) -> String {
        match self {
            Doc::Call(c) => render::call(c),
            Doc::Response(r) => render::response(r),
            Doc::Value(v) => render::value(v),
        }
    }

    fn encode(&self, options: EncodeOptions) -> Result<Vec<u8>, EncodeError> {
        let encoder = Encoder::new(options);
        let mut out = Vec::new();
        match self {
            Doc::Call(c) => encoder.method_call(c, &mut out)?,
            Doc::Response(r) => encoder.method_response(r, &mut out)?,
            Doc::Value(v) => encoder.value(v, &mut out)?,
        }
        Ok(out)
    }

    fn same(&self, other: &Doc) -> bool {
        match (self, other) {
            (Doc::Call(a), Doc::Call(b)) => same_call(a, b),
            (Doc::Response(a), Doc::Response(b)) => same_response(a, b),
            (Doc::Value(a), Doc::Value(b)) => same_value(a, b),
            _ => false,
        }
    }

    fn needs_extension(&self) -> bool {
        match self {
            Doc::Call(c) => c.params.iter().any(needs_extension),
            Doc::Response(MethodResponse::Success(v)) | Doc::Value(v) => needs_extension(v),
            Doc::Response(MethodResponse::Fault(_)) => false,
        }
    }
}

/// Whether only the `nil`/`i8` extensions can carry `v` (or something inside it).
pub(crate) fn needs_extension(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Int(i) => i32::try_from(*i).is_err(),
        Value::Array(items) => items.iter().any(needs_extension),
        Value::Struct(s) => s.iter().any(|(_, m)| needs_extension(m)),
        _ => false,
    }
}

fn describe(e: &DecodeError) -> String {
    format!(
        "{} error at {}:{}: {e}",
        e.kind().name(),
        e.line(),
        e.column()
    )
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shown(path: &Path) -> String {
    let root = fixtures_dir();
    path.strip_prefix(&root)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}
