//! [`Reply`], a handler's result still to be written; [`Answer`], a request's
//! result or fault still to be written; [`Outcome`], the written document; and
//! [`Faults`], how the router words the faults it makes itself.

use xmlrpc_codec::{
    DecodeError, EncodeError, Encoder, Fault, Value, ValueWriter, Written, encode_fault,
};

use crate::codes;
use crate::error::{Error, into_fault};

/// From this estimated size on, an [`Answer`] [`is_large`](Answer::is_large):
/// writing it takes long enough (a millisecond or more) to belong off an async
/// worker. 256 KiB.
pub const LARGE_ANSWER_BYTES: usize = 256 << 10;

/// A handler's successful result, still to be written into the answer.
///
/// A [`Value`] is one; an application whose results are long lists of records
/// implements it to write them straight into the document (no `Value` tree) and
/// to tell their size before writing, so that an answer too large for
/// [`Router::with_max_response_bytes`](crate::Router::with_max_response_bytes)
/// is refused before it is written. Register such a handler with
/// [`Router::method_raw`](crate::Router::method_raw).
pub trait Reply: Send + 'static {
    /// Writes the result's `<value>`.
    fn write(self: Box<Self>, w: ValueWriter<'_>) -> Result<Written, EncodeError>;

    /// No more bytes than the `<value>` takes once written (the text it carries
    /// and the least markup): cheap, called before writing.
    fn min_len(&self) -> usize;

    /// About how many bytes the `<value>` takes: a starting capacity for the
    /// document (only an estimate: the bytes written do not depend on it).
    fn size_hint(&self) -> usize {
        self.min_len()
    }

    /// The result as a value, for [`Router::call`](crate::Router::call).
    fn into_value(self: Box<Self>) -> Value;
}

impl Reply for Value {
    fn write(self: Box<Self>, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        w.value(&self)
    }

    /// Its encoded length, exactly (it is encoded once to tell), so that a
    /// multicall's results are bounded to the byte; a lower bound if it cannot
    /// be encoded with the default options.
    fn min_len(&self) -> usize {
        xmlrpc_codec::encode_value(self).map_or_else(|_| value_min_len(self), |text| text.len())
    }

    fn into_value(self: Box<Self>) -> Value {
        *self
    }
}

/// A lower bound of the bytes `value` takes as a `<value>`: its text (which
/// escaping only lengthens) and the least markup of each node.
fn value_min_len(value: &Value) -> usize {
    // `<value></value>`
    const VALUE: usize = 15;
    VALUE
        + match value {
            // `<int>0</int>`, `<boolean>0</boolean>`, `<double>0</double>`
            Value::Int(_) => 12,
            Value::Bool(_) => 20,
            Value::Double(_) => 18,
            // `<string></string>`
            Value::String(s) => 17 + s.len(),
            // `<base64></base64>`: four characters per three bytes.
            Value::Base64(bytes) => 17 + bytes.len().div_ceil(3) * 4,
            // `<array><data></data></array>`
            Value::Array(items) => items.iter().fold(28usize, |total, item| {
                total.saturating_add(value_min_len(item))
            }),
            // `<struct></struct>`, `<member><name></name></member>`
            Value::Struct(members) => members.iter().fold(17usize, |total, (name, item)| {
                total.saturating_add(30 + name.len() + value_min_len(item))
            }),
            // dateTime, nil and whatever else: at least a tag.
            _ => 6,
        }
}

/// How the router words the faults it makes itself (not those of handlers).
///
/// The default follows the fault code interoperability convention ([`codes`]).
/// An application with a fault table of its own (another code for internal
/// errors, its own words) sets its own functions:
///
/// ```
/// use xmlrpc_codec::Fault;
/// use xmlrpc_server::{Faults, Router};
///
/// let mut faults = Faults::default();
/// faults.internal = || Fault::new(1, "internal server error");
/// faults.too_large = |max| Fault::new(-4, format!("the answer would exceed {max} bytes"));
/// let router = Router::new().with_faults(faults);
/// # let _ = router;
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Faults {
    /// The request is not well-formed XML (default: [`codes::PARSE_ERROR`]).
    pub not_well_formed: fn(&DecodeError) -> Fault,
    /// Well-formed, but no valid `methodCall` (default: [`codes::INVALID_REQUEST`]).
    pub invalid_request: fn(&DecodeError) -> Fault,
    /// No method of that name (default: [`codes::METHOD_NOT_FOUND`], `no such method: NAME`).
    pub no_such_method: fn(&str) -> Fault,
    /// An internal error, whose detail goes to the log (default:
    /// [`codes::INTERNAL_ERROR`], [`codes::INTERNAL_MESSAGE`]).
    pub internal: fn() -> Fault,
    /// The answer would pass `max_response_bytes`, given (default:
    /// [`codes::RESPONSE_TOO_LARGE`]).
    pub too_large: fn(usize) -> Fault,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            not_well_formed: |e| Fault::new(codes::PARSE_ERROR, e.to_string()),
            invalid_request: |e| Fault::new(codes::INVALID_REQUEST, e.to_string()),
            no_such_method: |name| {
                Fault::new(codes::METHOD_NOT_FOUND, format!("no such method: {name}"))
            },
            internal: || Fault::new(codes::INTERNAL_ERROR, codes::INTERNAL_MESSAGE),
            too_large: |max| {
                Fault::new(
                    codes::RESPONSE_TOO_LARGE,
                    format!("the answer would exceed the server's limit of {max} bytes"),
                )
            },
        }
    }
}

impl Faults {
    /// The fault a handler's [`Error`] becomes (internal errors logged here).
    pub(crate) fn of_error(&self, method: &str, error: Error) -> Fault {
        match error {
            Error::Fault(fault) => fault,
            internal => {
                let _ = into_fault(method, internal);
                (self.internal)()
            }
        }
    }
}

/// A successful result still to be written.
pub(crate) enum Produced {
    Single(Box<dyn Reply>),
    /// Each call's result or fault, written in place.
    Multicall(Vec<Result<Box<dyn Reply>, Fault>>),
}

/// What [`Router::answer`](crate::Router::answer) produced: a result, or a
/// fault, still to be written by [`Answer::encode`]. Owns everything it needs
/// (`Send + 'static`), so that a server can write a large one on a blocking
/// thread ([`Answer::is_large`]).
#[non_exhaustive]
pub struct Answer {
    pub(crate) method: Option<String>,
    pub(crate) result: Result<Produced, Fault>,
    pub(crate) max_bytes: usize,
    pub(crate) encoder: Encoder,
    pub(crate) faults: Faults,
    /// Whether `result` is already the fault for an answer beyond the bound.
    pub(crate) too_large: bool,
}

/// Shows the method, the size and the fault code: never the result, which may
/// be a user's data.
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("method", &self.method)
            .field("estimated_len", &self.estimated_len())
            .field("fault_code", &self.result.as_ref().err().map(|f| f.code))
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// What [`Answer::encode`] wrote: the response document and what a server logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The complete XML `methodResponse`, success or fault; sent with HTTP 200.
    pub body: Vec<u8>,
    /// The method called, when the body was a methodCall (shortened to 64
    /// characters, control characters replaced by `?`: an unknown name is the
    /// client's text).
    pub method: Option<String>,
    /// The fault code, when the response is a fault (the faults of a
    /// `system.multicall`'s calls travel inside a successful response and are not
    /// shown here).
    pub fault_code: Option<i32>,
    /// Whether the answer is the fault for passing `max_response_bytes` (for a
    /// server's metrics).
    pub too_large: bool,
}

impl Answer {
    /// The declaration and `methodResponse` markup around a result: part of
    /// every answer's floor.
    pub(crate) const DOCUMENT: usize = 104;
    /// The markup around one multicall result (`<value><array><data>` ...
    /// `</data></array></value>`), also around the multicall's results together,
    /// and no more than around a fault's struct.
    pub(crate) const MULTICALL_ITEM: usize = 43;
    /// The most a starting capacity reserves ahead of the bytes written.
    const MAX_CAPACITY: usize = 16 << 20;

    /// The method called, when the body was a methodCall (as in [`Outcome::method`]).
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// About how many bytes the answer will take: no fewer than the text it
    /// carries (an estimate for the document's markup).
    pub fn estimated_len(&self) -> usize {
        match &self.result {
            Err(fault) => Self::DOCUMENT + fault.string.len(),
            Ok(Produced::Single(reply)) => {
                Self::DOCUMENT.saturating_add(reply.size_hint().max(reply.min_len()))
            }
            Ok(Produced::Multicall(results)) => {
                let floor = Self::DOCUMENT + Self::MULTICALL_ITEM;
                results.iter().fold(floor, |total, result| {
                    total.saturating_add(match result {
                        Ok(reply) => reply.min_len().saturating_add(Self::MULTICALL_ITEM),
                        Err(fault) => fault.string.len() + Self::MULTICALL_ITEM,
                    })
                })
            }
        }
    }

    /// Whether the answer is large enough ([`LARGE_ANSWER_BYTES`]) that writing
    /// it would hold an async worker for a while: a server writes it on a
    /// blocking thread. Small answers are not: no thread hop on the fast path.
    pub fn is_large(&self) -> bool {
        self.estimated_len() >= LARGE_ANSWER_BYTES
    }

    /// Writes the answer: the `methodResponse`, result or fault. An answer that
    /// passes `max_response_bytes` as it is written is the router's too-large
    /// fault instead, its partial bytes dropped.
    pub fn encode(self) -> Outcome {
        if tracing::enabled!(tracing::Level::DEBUG) && self.is_large() {
            tracing::debug!(
                method = self.method.as_deref(),
                estimated_bytes = self.estimated_len(),
                "writing a large answer"
            );
        }
        let Answer {
            method,
            result,
            max_bytes: max,
            encoder,
            faults,
            too_large,
        } = self;
        let name = method.as_deref().unwrap_or("-");
        let written = match result {
            Err(fault) => Err((fault, too_large)),
            Ok(Produced::Single(reply)) => {
                let capacity = reply.size_hint().max(reply.min_len()) + Self::DOCUMENT;
                encoder
                    .method_response_within(capacity.min(Self::MAX_CAPACITY), max, |w| {
                        reply.write(w)
                    })
                    .map_err(|e| encode_failure(&faults, name, &e, max))
            }
            Ok(Produced::Multicall(results)) => {
                let capacity = results.len().saturating_mul(256).min(Self::MAX_CAPACITY);
                encoder
                    .method_response_within(capacity, max, |w| {
                        write_multicall(&faults, name, results, w)
                    })
                    .map_err(|e| encode_failure(&faults, name, &e, max))
            }
        };
        let (body, fault_code, too_large) = match written {
            Ok(body) => (body, None, false),
            Err((fault, too_large)) => {
                let body = encode_fault(&fault);
                // A fault's string (a handler's) is bounded like any answer.
                if body.len() > max {
                    let fault = (faults.too_large)(max);
                    (encode_fault(&fault), Some(fault.code), true)
                } else {
                    (body, Some(fault.code), too_large)
                }
            }
        };
        Outcome {
            body,
            method,
            fault_code,
            too_large,
        }
    }
}

/// A multicall's results: an array of one-item arrays and fault structs. A
/// result that cannot be written (a NaN) is an internal fault in its place.
fn write_multicall(
    faults: &Faults,
    method: &str,
    results: Vec<Result<Box<dyn Reply>, Fault>>,
    w: ValueWriter<'_>,
) -> Result<Written, EncodeError> {
    w.array(|a| {
        for result in results {
            match result {
                Ok(reply) => match a.item(|w| w.array(|one| one.item(|w| reply.write(w)))) {
                    Err(e @ EncodeError::TooLarge { .. }) => return Err(e),
                    Err(e) => {
                        tracing::error!(method, error = %e, "cannot encode a result");
                        a.item(|w| w.value(&sanitized((faults.internal)()).to_value()))?;
                    }
                    Ok(()) => {}
                },
                Err(fault) => a.item(|w| w.value(&sanitized(fault).to_value()))?,
            }
        }
        Ok(())
    })
}

/// `fault` with the characters XML cannot carry replaced, as `encode_fault`
/// does, so that writing it cannot fail.
fn sanitized(fault: Fault) -> Fault {
    let string: String = fault
        .string
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect();
    Fault::new(fault.code, string)
}

/// The fault for an answer that could not be written, and whether it is the
/// too-large one.
fn encode_failure(faults: &Faults, method: &str, error: &EncodeError, max: usize) -> (Fault, bool) {
    match error {
        EncodeError::TooLarge { .. } => {
            tracing::debug!(
                method,
                max_bytes = max,
                "an answer passed max_response_bytes"
            );
            ((faults.too_large)(max), true)
        }
        _ => {
            tracing::error!(method, %error, "cannot encode a result");
            ((faults.internal)(), false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmlrpc_codec::{DateTime, Struct, encode_value};

    #[test]
    fn a_value_takes_no_fewer_bytes_than_its_estimate() {
        let values = [
            Value::Int(0),
            Value::Bool(true),
            Value::Double(0.5),
            Value::String(String::new()),
            Value::String("a<b&c".into()),
            Value::Base64(vec![1, 2, 3, 4]),
            Value::Array(vec![]),
            Value::Array(vec![Value::Int(1), Value::String("x".into())]),
            Value::Struct(Struct::from_iter([("k", Value::Int(1))])),
            Value::DateTime("20240131T10:00:00".parse::<DateTime>().unwrap()),
        ];
        for value in values {
            let text = encode_value(&value).unwrap();
            assert!(
                value_min_len(&value) <= text.len(),
                "{value:?}: estimate {} > {}",
                value_min_len(&value),
                text.len()
            );
        }
    }
}
