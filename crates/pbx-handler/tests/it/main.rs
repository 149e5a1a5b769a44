//! The server side's one integration-test binary, on the demo PBX with a manual clock.
//!
//! - `api`: every script under `fixtures/api/*.rpc` through one `check()`, its
//!   responses compared with `*.expected` (`UPDATE_EXPECT=1` rewrites them).
//! - `docs`: `docs/api.md` is generated from the method table and those scripts;
//!   fails when the file is not current (`cargo xtask codegen` rewrites it).
//! - `handler`: what scripts cannot express: simulation absent or switched off,
//!   internal faults, limits, the serialized round trip of every type, visibility.
//! - `isolation`: random operations by users of both demo groups; no answer
//!   shows another group's or user's data.
//! - `script`: the `.rpc` script format and a small literal syntax for values.

mod answer_size;
mod api;
mod docs;
mod handler;
mod isolation;
mod script;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pbx_backend::{Caller, PbxBackend};
use pbx_backend_memory::{ManualClock, MemoryPbx};
use pbx_handler::Handler;
use xmlrpc_codec::{
    EncodeOptions, Encoder, Fault, MethodCall, MethodResponse, Value, decode_method_response,
};

/// Wednesday 2024-01-31 10:00 in the demo PBX's zone (America/Vancouver, UTC-8):
/// inside the Acme main menu's activity period, so the docs show it online.
const DEMO_START: u64 = 1_706_724_000;

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether expected files are to be rewritten rather than compared.
fn update_expect() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v != "0" && !v.is_empty())
}

/// The demo PBX behind a handler with simulation, and the clock it reads.
struct Demo {
    handler: Handler,
    pbx: Arc<MemoryPbx>,
    clock: Arc<ManualClock>,
}

impl Demo {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(DEMO_START),
        ));
        let pbx = Arc::new(MemoryPbx::demo().with_clock(clock.clone()));
        let player = Arc::new(pbx_backend_memory::Player::new(pbx.clone()));
        let handler = Handler::new(pbx.clone()).with_simulator(player);
        Demo {
            handler,
            pbx,
            clock,
        }
    }

    /// The demo user `number` (whose password is the number).
    async fn user(&self, number: &str) -> Caller {
        match self.pbx.authenticate(number, number).await {
            Ok(Some(caller)) => caller,
            other => panic!("demo user {number} does not log in: {other:?}"),
        }
    }

    /// Calls `method` as `user` through the whole handler (encode, handle, decode).
    async fn call(&self, user: &str, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        let caller = self.user(user).await;
        call_bytes(&self.handler, &caller, &MethodCall::new(method, params)).await
    }
}

/// Sends `call` through `handler` as bytes and decodes the answer. The call is
/// written with the `nil` and `i8` extensions allowed, as some clients send them.
async fn call_bytes(handler: &Handler, caller: &Caller, call: &MethodCall) -> Result<Value, Fault> {
    let mut options = EncodeOptions::default();
    options.allow_extensions = true;
    let mut body = Vec::new();
    Encoder::new(options)
        .method_call(call, &mut body)
        .expect("test calls encode");
    let outcome = handler.handle(caller, &body).await;
    match decode_method_response(&outcome.body).expect("the handler writes valid responses") {
        MethodResponse::Success(value) => {
            assert_eq!(outcome.fault_code, None);
            Ok(value)
        }
        MethodResponse::Fault(fault) => {
            assert_eq!(outcome.fault_code, Some(fault.code));
            Err(fault)
        }
    }
}

/// Whitespace between tags, for reading. An element holding no `<struct>` or
/// `<array>` stays on one line (`<member><name>id</name><value><int>1</int></value></member>`),
/// except the document's frame (`methodCall`, `params`, `param`, `fault`, …). Text is
/// never touched; whitespace-only text between tags is dropped.
fn pretty(xml: &str) -> String {
    let (declaration, rest) = match xml.find("?>") {
        Some(end) if xml.starts_with("<?xml") => (&xml[..end + 2], &xml[end + 2..]),
        _ => ("", xml),
    };
    // Tokens: tags and text runs.
    let mut tokens = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        let end = if rest.starts_with('<') {
            rest.find('>').map_or(rest.len(), |i| i + 1)
        } else {
            rest.find('<').unwrap_or(rest.len())
        };
        let (token, tail) = rest.split_at(end);
        if token.starts_with('<') || !token.trim().is_empty() {
            tokens.push(token);
        }
        rest = tail;
    }
    // A tree of nodes: (open tag, children, close tag) or text.
    enum Node<'a> {
        Element(&'a str, Vec<Node<'a>>, &'a str),
        Leaf(&'a str),
    }
    fn parse<'a>(tokens: &[&'a str], i: &mut usize) -> Vec<Node<'a>> {
        let mut out = Vec::new();
        while let Some(&t) = tokens.get(*i) {
            *i += 1;
            if t.starts_with("</") {
                *i -= 1;
                break;
            } else if t.starts_with('<') && !t.ends_with("/>") && !t.starts_with("<!") {
                let children = parse(tokens, i);
                let close = tokens.get(*i).copied().unwrap_or("");
                *i += 1;
                out.push(Node::Element(t, children, close));
            } else {
                out.push(Node::Leaf(t));
            }
        }
        out
    }
    fn inline(node: &Node<'_>) -> String {
        match node {
            Node::Leaf(t) => t.to_string(),
            Node::Element(open, children, close) => {
                format!(
                    "{open}{}{close}",
                    children.iter().map(inline).collect::<String>()
                )
            }
        }
    }
    fn complex(node: &Node<'_>) -> bool {
        const FRAME: &[&str] = &[
            "<methodCall>",
            "<methodResponse>",
            "<params>",
            "<param>",
            "<fault>",
        ];
        match node {
            Node::Leaf(_) => false,
            Node::Element(open, children, _) => {
                (FRAME.contains(open) && !children.is_empty())
                    || *open == "<struct>"
                    || *open == "<array>"
                    || children.iter().any(complex)
            }
        }
    }
    fn render(nodes: &[Node<'_>], depth: usize, out: &mut String) {
        for node in nodes {
            let indent = "  ".repeat(depth);
            match node {
                Node::Element(open, children, close) if complex(node) => {
                    out.push_str(&format!("{indent}{open}\n"));
                    render(children, depth + 1, out);
                    out.push_str(&format!("{indent}{close}\n"));
                }
                _ => out.push_str(&format!("{indent}{}\n", inline(node))),
            }
        }
    }
    let mut i = 0;
    let mut nodes = Vec::new();
    while i < tokens.len() {
        nodes.extend(parse(&tokens, &mut i));
        if i < tokens.len() {
            // A stray closing tag: show it as it is.
            nodes.push(Node::Leaf(tokens[i]));
            i += 1;
        }
    }
    let mut out = String::new();
    if !declaration.is_empty() {
        out.push_str(declaration);
        out.push('\n');
    }
    render(&nodes, 0, &mut out);
    out
}

#[test]
fn pretty_printing_keeps_text() {
    let xml = "<?xml version=\"1.0\"?>\n<params><param><value><struct><member><name>a</name>\
               <value><string> x </string></value></member></struct></value></param></params>";
    assert_eq!(
        pretty(xml),
        "<?xml version=\"1.0\"?>\n<params>\n  <param>\n    <value>\n      <struct>\n        \
         <member><name>a</name><value><string> x </string></value></member>\n      </struct>\n    \
         </value>\n  </param>\n</params>\n"
    );
}
