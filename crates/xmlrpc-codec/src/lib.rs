//! A complete XML-RPC codec: reads what real peers write, writes what every peer reads.
//!
//! # Types
//!
//! | XML-RPC | Rust | Notes |
//! |---|---|---|
//! | `<i4>`, `<int>` | [`Value::Int`]`(i64)` | written as `<int>` when within 32 bits |
//! | `<i8>`, `<ex:i8>` (extension) | [`Value::Int`]`(i64)` | written only with [`EncodeOptions::allow_extensions`] |
//! | `<boolean>` | [`Value::Bool`]`(bool)` | `1`/`0` |
//! | `<string>`, or no type element | [`Value::String`]`(String)` | content kept exactly |
//! | `<double>` | [`Value::Double`]`(f64)` | finite only; written without exponent |
//! | `<dateTime.iso8601>` | [`Value::DateTime`]`(`[`DateTime`]`)` | no time zone unless the document has one |
//! | `<base64>` | [`Value::Base64`]`(Vec<u8>)` | |
//! | `<struct>` | [`Value::Struct`]`(`[`Struct`]`)` | member order kept; a repeated name keeps the last value |
//! | `<array>` | [`Value::Array`]`(Vec<Value>)` | |
//! | `<nil/>`, `<ex:nil/>` (extension) | [`Value::Nil`] | written only with [`EncodeOptions::allow_extensions`] |
//! | `<ex:i1>`, `<ex:i2>`, `<ex:biginteger>` (Apache) | [`Value::Int`]`(i64)` | read only with [`Decoder::allow_extensions`]; never written |
//! | `<ex:float>`, `<ex:bigdecimal>` (Apache) | [`Value::Double`]`(f64)` | the same; a bigdecimal is the nearest double |
//! | `<ex:dateTime>` (Apache) | [`Value::DateTime`] | the same |
//! | `<ex:serializable>` (Apache) | — | always refused: a serialized Java object is never read |
//! | `<methodCall>` | [`MethodCall`] | method name and params |
//! | `<methodResponse>` | [`MethodResponse`] | [`Success`](MethodResponse::Success)`(Value)` or [`Fault`](MethodResponse::Fault)`(`[`Fault`]`)`; [`MethodResponse::into_result`] |
//! | `<fault>` | [`Fault`] | `faultCode` + `faultString`, read leniently (a string code, extra members), written strictly |
//!
//! Next to the other XML-RPC implementations (measured here; docs/codec.md in the
//! repository has the full table, versions and method, docs/benchmarks.md the runs):
//!
//! | | this crate | dxr 0.9 | `xmlrpc` 0.15 | serde_xmlrpc 0.3 | Python `xmlrpc.client` |
//! |---|---|---|---|---|---|
//! | serde | yes, and typed decoding without a tree | own derive | no | yes, streaming | dynamic |
//! | writing without a value tree | [`ValueWriter`] | no | no | no | — |
//! | limits (size, depth, text, members, …) | all, configurable | none | none | none | none |
//! | 50,000 nested arrays | refused at 64 | error | stack overflow | stack overflow | accepted |
//! | DOCTYPE, internal entity | refused | refused | expanded | refused | expanded |
//! | decode a 1 MB response | 27 MB/s (xml-rs floor 28) | 99 MB/s | 24 MB/s | 288 MB/s | ≈ 20 MB/s |
//! | encode it | 3,332 MB/s | 166 MB/s | 1,315 MB/s | 500 MB/s | — |
//!
//! [`Value`] has `serde_json`-style accessors ([`Value::as_i32`], [`Value::as_str`],
//! [`Value::as_struct`], [`Value::get`], and indexing: `v["user"][0]`, which gives a
//! `Nil` where there is nothing) and `From` conversions from the Rust types above.
//! [`DateTime`] compares exactly (same text) and orders by instant: see its docs.
//!
//! This crate turns XML-RPC documents into Rust values and back, and nothing else: it
//! knows no HTTP and no application. Decoding pulls events from xml-rs (the `xml`
//! crate) without building a tree; encoding writes bytes directly.
//!
//! # Serde
//!
//! Plain Rust types convert to and from [`Value`] and params through serde:
//! [`to_value`], [`from_value`], [`to_params`], [`from_params`] (the mapping table is
//! on [`to_value`]). `to_params` takes the parameter *list*, a tuple or a `Vec`:
//!
//! ```
//! use xmlrpc_codec::{Positional, to_params};
//!
//! #[derive(serde::Serialize)]
//! struct BugGet { ids: Vec<i32> }
//! let query = BugGet { ids: vec![7] };
//!
//! let one_struct_param = to_params(&(&query,))?;         // [<struct>]
//! let its_fields = to_params(&Positional(&query))?;      // [<array>]: one param per field
//! let two_params = to_params(&("201", 30))?;             // [<string>, <int>]
//! assert!(to_params(&query).is_err()); // ambiguous: the error says how to write either
//! # let _ = (one_struct_param, its_fields, two_params);
//! # Ok::<(), xmlrpc_codec::SerdeError>(())
//! ```
//!
//! A `Vec<u8>` is a list of numbers to serde: send bytes as `<base64>` with [`Bytes`]
//! or `#[serde(with = "xmlrpc_codec::bytes")]`. A `None` field is left out; send it as
//! `<nil/>` with `#[serde(default, with = "xmlrpc_codec::nil")]`. The `chrono`,
//! `time` and `jiff` features add conversions and `with` modules for their date types.
//!
//! # Typed decoding
//!
//! [`from_response_slice`], [`from_value_slice`] and [`from_call_slice`] (and
//! [`Decoder::response_as`] and its siblings) decode straight into your types:
//! arrays and structs go to serde as xml-rs reads them, with no [`Value`] tree in
//! between, under the same [`Limits`] and with the same errors as the tree path
//! (`decode_*` then [`from_value`]). Nothing borrows from the input (xml-rs hands
//! out owned text): use `String` fields. See [`from_response_slice`] for the two
//! cases where the paths differ.
//!
//! # Read liberally, write strictly
//!
//! The [`Decoder`] accepts what widely used clients actually send: untyped and empty
//! values, `<params/>` or no `<params>` at all, `<param></param>` as nil, CDATA and
//! character references, `+` and leading zeros in integers, `<int>`s too large for 32
//! bits (kept, never wrapped), booleans `true`/`false`, base64 with line breaks,
//! doubles with exponents, three spellings of dateTime with optional fraction and
//! offset, ISO-8859-1 documents, `us-ascii` declarations on UTF-8 bodies, and faults
//! with a string `faultCode` or extra members (kept visible in [`Fault`]). It
//! refuses what is ambiguous: whitespace inside numbers, `inf` and `nan`.
//!
//! The [`Encoder`] writes only what every peer reads: a UTF-8 XML declaration,
//! explicit `<string>`, `<int>`, doubles as plain decimals, empty elements in full,
//! `\r` as `&#xD;` so that it survives; and by default no extension types, because
//! several popular clients crash on `<nil/>` and `<i8>`. What XML-RPC cannot carry
//! (NaN, a C0 control character) is an [`EncodeError`], never a broken document.
//! [`Encoder::method_response_with`] writes a response through a [`ValueWriter`]
//! straight from your own types, with the same rules and bytes but no [`Value`] tree
//! ([`Encoder::method_response_with_capacity`] when you can estimate a large
//! answer's size, to write it without regrowing the buffer); an item or member whose
//! write fails leaves nothing behind, so every `Ok` document is well-formed.
//!
//! The [`rules`] page lists every reading and writing rule with its reason.
//!
//! # Safety limits
//!
//! Any input gives `Ok` or a [`DecodeError`] with a line and column; decoding never
//! panics, and time and memory are linear in the input. A DOCTYPE is refused, so no
//! entity is ever defined or expanded. [`Limits`] bound the document size (1 MiB by
//! default, checked before parsing), nesting depth (64), text length, struct members,
//! array length, params and names, and each limit error names its field.
//! [`decode_method_call`] and [`decode_value`] use the defaults, sized for a server;
//! [`decode_method_response`] uses [`Limits::for_responses`] (64 MiB), sized for a
//! client reading a server it chose.
//!
//! # Example
//!
//! A server's round: decode a call, build a response, encode it.
//!
//! ```
//! use xmlrpc_codec::{MethodResponse, Struct, Value, decode_method_call, encode_method_response};
//!
//! let request = br#"<?xml version="1.0"?>
//! <methodCall>
//!   <methodName>examples.getStateName</methodName>
//!   <params><param><value><i4>41</i4></value></param></params>
//! </methodCall>"#;
//! let call = decode_method_call(request)?;
//! assert_eq!(call.method_name, "examples.getStateName");
//! assert_eq!(call.params, [Value::Int(41)]);
//!
//! let mut state = Struct::new();
//! state.insert("name", Value::String("South Dakota".into()));
//! state.insert("admitted", Value::Int(1889));
//! let response = MethodResponse::Success(Value::Struct(state));
//!
//! let body = encode_method_response(&response)?;
//! assert_eq!(
//!     String::from_utf8(body)?,
//!     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
//!      <methodResponse><params><param><value><struct>\
//!      <member><name>name</name><value><string>South Dakota</string></value></member>\
//!      <member><name>admitted</name><value><int>1889</int></value></member>\
//!      </struct></value></param></params></methodResponse>"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A failure becomes a fault; [`DecodeError::is_not_well_formed`] picks the code:
//!
//! ```
//! use xmlrpc_codec::{DecodeErrorKind, Fault, decode_method_call, encode_fault};
//!
//! let err = decode_method_call(b"<methodCall><methodName>x</methodName>").unwrap_err();
//! assert_eq!((err.kind(), err.line(), err.column()), (DecodeErrorKind::Xml, 1, 39));
//! let code = if err.is_not_well_formed() { -32700 } else { -32600 };
//! let body = encode_fault(&Fault::new(code, err.to_string()));
//! # assert!(body.starts_with(b"<?xml"));
//! ```

pub mod bytes;
mod datetime;
mod datetime_interop;
mod datetime_serde;
mod de;
mod decode;
mod encode;
mod error;
mod limits;
mod message;
pub mod multicall;
pub mod nil;
#[doc = include_str!("../docs/codec.md")]
pub mod rules {}
mod ser;
mod serde_error;
#[cfg(test)]
mod serde_tests;
mod typed;
#[cfg(test)]
mod typed_tests;
mod value;
mod writer;

pub use bytes::Bytes;
pub use datetime::{DateTime, InvalidDateTime};
#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
pub use datetime_interop::with;
pub use de::{from_params, from_value};
pub use decode::{
    Decoder, decode_method_call, decode_method_response, decode_value, parser_config,
};
pub use encode::{
    EncodeOptions, Encoder, encode_fault, encode_method_call, encode_method_response, encode_value,
};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use limits::Limits;
pub use message::{Fault, InvalidFault, MethodCall, MethodResponse};
pub use ser::{Positional, to_params, to_value};
pub use serde_error::{PathSegment, SerdeError};
pub use typed::{TypedError, from_call_slice, from_response_slice, from_value_slice};
pub use value::{Struct, Value, ValueIndex};
pub use writer::{ArrayWriter, MemberName, StructWriter, ValueWriter, Written};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
