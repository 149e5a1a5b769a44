//! The `.rpc` script format of `fixtures/api`, and a literal syntax for values.
//!
//! A script is a sequence of steps run on a fresh demo PBX:
//!
//! ```text
//! # Comment lines; those before the first step describe the script.
//! @call 203 sim.call "+15550100" "201"     a call written in literal syntax
//! @advance 30                              the clock moves 30 seconds
//! @as 203                                  a request document, verbatim, as user 203:
//! <?xml version="1.0"?>                    every line up to the next step
//! <methodCall>…</methodCall>
//! ```
//!
//! Literals: `"text"` (with `\"`, `\\`, `\n` escapes), ints, doubles, `true`,
//! `false`, `nil`, `[a, b]`, `{name: value}` (commas optional).

use xmlrpc_codec::{MethodCall, Struct, Value};

/// A parsed script.
pub(crate) struct Script {
    /// The comment lines before the first step, without `# `.
    pub(crate) description: Vec<String>,
    pub(crate) steps: Vec<Step>,
}

pub(crate) enum Step {
    /// `@as USER` and a document sent verbatim.
    Request { user: String, body: String },
    /// `@call USER METHOD ARGS…`.
    Call { user: String, call: MethodCall },
    /// `@advance SECONDS`.
    Advance(u64),
}

impl Script {
    pub(crate) fn parse(text: &str) -> Result<Script, String> {
        let mut description = Vec::new();
        let mut steps: Vec<Step> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let at = |e: String| format!("line {}: {e}", n + 1);
            if let Some(directive) = line.strip_prefix('@') {
                let (word, rest) = directive.split_once(' ').unwrap_or((directive, ""));
                steps.push(match word {
                    "as" => Step::Request {
                        user: rest.trim().to_string(),
                        body: String::new(),
                    },
                    "call" => {
                        let mut words = rest.trim().splitn(3, ' ');
                        let user = words.next().unwrap_or_default().to_string();
                        let method = words
                            .next()
                            .ok_or_else(|| at("@call USER METHOD ARGS…".into()))?;
                        let params = parse_args(words.next().unwrap_or("")).map_err(at)?;
                        Step::Call {
                            user,
                            call: MethodCall::new(method, params),
                        }
                    }
                    "advance" => Step::Advance(
                        rest.trim()
                            .parse()
                            .map_err(|_| at("@advance SECONDS".into()))?,
                    ),
                    other => return Err(at(format!("unknown step @{other}"))),
                });
            } else if let Some(Step::Request { body, .. }) = steps.last_mut() {
                body.push_str(line);
                body.push('\n');
            } else if let Some(comment) = line.strip_prefix('#') {
                if steps.is_empty() {
                    description.push(comment.trim().to_string());
                }
            } else if !line.trim().is_empty() {
                return Err(at(format!("unexpected text outside a request: {line:?}")));
            }
        }
        Ok(Script { description, steps })
    }
}

/// Values separated by spaces or commas.
pub(crate) fn parse_args(text: &str) -> Result<Vec<Value>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip();
        if p.i >= p.s.len() {
            return Ok(out);
        }
        out.push(p.value()?);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b',')
        {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip();
        match self.s.get(self.i) {
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.skip();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    items.push(self.value()?);
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut members = Struct::new();
                loop {
                    self.skip();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Struct(members));
                    }
                    let name = if self.s.get(self.i) == Some(&b'"') {
                        self.string()?
                    } else {
                        self.word()
                    };
                    self.skip();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(format!("expected `:` after member {name:?}"));
                    }
                    self.i += 1;
                    let value = self.value()?;
                    members.insert(name, value);
                }
            }
            Some(_) => {
                let word = self.word();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "nil" => Ok(Value::Nil),
                    _ => word
                        .parse()
                        .map(Value::Int)
                        .or_else(|_| word.parse().map(Value::Double))
                        .map_err(|_| format!("not a literal: {word:?}")),
                }
            }
            None => Err("expected a value".into()),
        }
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !b",:]}".contains(c))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out).map_err(|e| e.to_string());
                }
                Some(b'\\') => {
                    let c = self.s.get(self.i + 1).copied().ok_or("dangling escape")?;
                    out.push(if c == b'n' { b'\n' } else { c });
                    self.i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

/// A value in the literal syntax (strings with Rust's escapes).
pub(crate) fn render(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Double(d) => format!("{d:?}"),
        Value::DateTime(dt) => format!("dateTime({dt})"),
        Value::Base64(bytes) => format!("base64({} bytes)", bytes.len()),
        Value::Struct(s) => {
            let members: Vec<String> = s
                .iter()
                .map(|(k, v)| format!("{k}: {}", render(v)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(render).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Nil => "nil".into(),
        _ => "?".into(),
    }
}

/// `method(arg, …)` in the literal syntax.
pub(crate) fn render_call(call: &MethodCall) -> String {
    let args: Vec<String> = call.params.iter().map(render).collect();
    format!("{}({})", call.method_name, args.join(", "))
}

#[test]
fn literals_round_trip() {
    let args = parse_args(r#""a\"b" -3 2.5 true nil [1, "x"] {slot: 1, "type": "queue"}"#).unwrap();
    assert_eq!(args.len(), 7);
    assert_eq!(
        args.iter().map(render).collect::<Vec<_>>().join(" "),
        r#""a\"b" -3 2.5 true nil [1, "x"] {slot: 1, type: "queue"}"#
    );
}
