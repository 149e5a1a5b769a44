//! Decoding: [`Decoder`] and the `decode_*` functions, a pull parser over xml-rs events.
//!
//! No tree is built: each event is looked at once, text is moved out of the event,
//! and containers are kept on an explicit stack (so nesting never recurses).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use xml::common::Position;
use xml::name::OwnedName;
use xml::reader::{ErrorKind as XmlErrorKind, EventReader, ParserConfig, XmlEvent};

use crate::error::DecodeErrorKind as Kind;
use crate::{DateTime, DecodeError, Fault, Limits, MethodCall, MethodResponse, Struct, Value};

/// Decodes XML-RPC documents under configurable [`Limits`].
///
/// A `Decoder` is cheap to clone and can be shared; [`decode_method_call`] and
/// [`decode_value`] use one with the default limits, [`decode_method_response`] one
/// with [`Limits::for_responses`].
///
/// `<nil/>` and `<i8>` (with any prefix, as `<ex:nil/>`) are always read. The other
/// types of Apache ws-xmlrpc's extensions are read only when
/// [`Decoder::allow_extensions`] is on: `<ex:i1>`, `<ex:i2>` and `<ex:biginteger>`
/// (within 64 bits) as [`Value::Int`], `<ex:float>` and `<ex:bigdecimal>` (the
/// nearest double) as [`Value::Double`], `<ex:dateTime>` as [`Value::DateTime`].
/// `<ex:serializable>` (a serialized Java object) is always refused, and never
/// deserialized.
///
/// ```
/// use xmlrpc_codec::{Decoder, Limits, Value};
///
/// let doc = br#"<value><ex:i2 xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">7</ex:i2></value>"#;
/// assert!(Decoder::default().value(doc).is_err());
/// let apache = Decoder::new(Limits::default()).allow_extensions(true);
/// assert_eq!(apache.value(doc)?, Value::Int(7));
/// # Ok::<(), xmlrpc_codec::DecodeError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    limits: Limits,
    extensions: bool,
}

impl Decoder {
    /// A decoder enforcing `limits`, with Apache's extension types off.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            extensions: false,
        }
    }

    /// Reads Apache ws-xmlrpc's extension types (`<ex:i1>`, `<ex:i2>`, `<ex:float>`,
    /// `<ex:biginteger>`, `<ex:bigdecimal>`, `<ex:dateTime>`) when `allow` is true;
    /// see [`Decoder`].
    pub fn allow_extensions(mut self, allow: bool) -> Self {
        self.extensions = allow;
        self
    }

    /// Whether Apache's extension types are read.
    pub fn extensions_allowed(&self) -> bool {
        self.extensions
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Decodes a `<methodCall>` document.
    pub fn method_call(&self, input: &[u8]) -> Result<MethodCall, DecodeError> {
        let mut p = Parser::new(input, &self.limits, self.extensions)?;
        p.root(Tag::MethodCall, "<methodCall>")?;
        p.expect_start(Tag::MethodName, "<methodName>")?;
        // Kept exactly, even empty: a server then reports no such method, and every
        // call the encoder writes reads back.
        let method_name = p.text(p.name_limit(), "a method name")?;
        let params = match p.next_tag()? {
            Ev::End => Vec::new(),
            Ev::Start(Tag::Params, _) => {
                let params = p.params()?;
                p.expect_end("</methodCall>")?;
                params
            }
            other => return Err(p.unexpected(&other, "<params> or </methodCall>")),
        };
        p.finish()?;
        Ok(MethodCall {
            method_name,
            params,
        })
    }

    /// Decodes a `<methodResponse>` document: exactly one param, or a fault.
    pub fn method_response(&self, input: &[u8]) -> Result<MethodResponse, DecodeError> {
        let mut p = Parser::new(input, &self.limits, self.extensions)?;
        p.root(Tag::MethodResponse, "<methodResponse>")?;
        let response = match p.next_tag()? {
            Ev::Start(Tag::Params, _) => {
                let at = p.pos();
                let mut params = p.params()?;
                match (params.pop(), params.is_empty()) {
                    (Some(value), true) => MethodResponse::Success(value),
                    (None, _) => {
                        return Err(DecodeError::new(
                            Kind::Structure,
                            at,
                            "a methodResponse must have exactly one <param>, found none",
                        ));
                    }
                    (Some(_), false) => {
                        return Err(DecodeError::new(
                            Kind::Structure,
                            at,
                            format!(
                                "a methodResponse must have exactly one <param>, found {}",
                                params.len() + 1
                            ),
                        ));
                    }
                }
            }
            Ev::Start(Tag::Fault, _) => {
                let at = p.pos();
                p.expect_start(Tag::Value, "<value>")?;
                let value = p.value()?;
                p.expect_end("</fault>")?;
                // Liberal, as Python: see `Fault`.
                MethodResponse::Fault(
                    Fault::try_from(value)
                        .map_err(|e| DecodeError::new(Kind::Structure, at, e.0))?,
                )
            }
            other => return Err(p.unexpected(&other, "<params> or <fault>")),
        };
        p.expect_end("</methodResponse>")?;
        p.finish()?;
        Ok(response)
    }

    /// Decodes a document whose root is one `<value>` element (no XML declaration
    /// needed), as written by [`Encoder::value`](crate::Encoder::value).
    pub fn value(&self, input: &[u8]) -> Result<Value, DecodeError> {
        let mut p = Parser::new(input, &self.limits, self.extensions)?;
        p.root(Tag::Value, "<value>")?;
        let value = p.value()?;
        p.finish()?;
        Ok(value)
    }
}

/// Decodes a `<methodCall>` with the default [`Limits`].
pub fn decode_method_call(input: &[u8]) -> Result<MethodCall, DecodeError> {
    Decoder::default().method_call(input)
}

/// Decodes a `<methodResponse>` with [`Limits::for_responses`] (a response comes
/// from a server the caller chose, and may be large).
pub fn decode_method_response(input: &[u8]) -> Result<MethodResponse, DecodeError> {
    Decoder::new(Limits::for_responses()).method_response(input)
}

/// Decodes a document whose root is one `<value>`, with the default [`Limits`].
pub fn decode_value(input: &[u8]) -> Result<Value, DecodeError> {
    Decoder::default().value(input)
}

/// The element names XML-RPC knows. Only the extension types (`nil`, `i8`) are
/// matched with any namespace prefix; everything else must be unprefixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    MethodCall,
    MethodResponse,
    MethodName,
    Params,
    Param,
    Fault,
    Value,
    Member,
    Name,
    Data,
    Int,
    I8,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Struct,
    Array,
    Nil,
    /// Apache ws-xmlrpc's extension types (prefixed), read when allowed.
    ExI1,
    ExI2,
    ExFloat,
    ExBigInteger,
    ExBigDecimal,
    ExDateTime,
    /// `<ex:serializable>`: never read.
    ExSerializable,
    Other,
}

impl Tag {
    fn of(name: &OwnedName) -> Tag {
        let local = name.local_name.as_str();
        if name.prefix.is_some() {
            return match local {
                "nil" => Tag::Nil,
                "i8" => Tag::I8,
                "i1" => Tag::ExI1,
                "i2" => Tag::ExI2,
                "float" => Tag::ExFloat,
                "biginteger" => Tag::ExBigInteger,
                "bigdecimal" => Tag::ExBigDecimal,
                "dateTime" => Tag::ExDateTime,
                "serializable" => Tag::ExSerializable,
                _ => Tag::Other,
            };
        }
        match local {
            "value" => Tag::Value,
            "string" => Tag::String,
            "int" | "i4" => Tag::Int,
            "member" => Tag::Member,
            "name" => Tag::Name,
            "struct" => Tag::Struct,
            "array" => Tag::Array,
            "data" => Tag::Data,
            "boolean" => Tag::Boolean,
            "double" => Tag::Double,
            "dateTime.iso8601" => Tag::DateTime,
            "base64" => Tag::Base64,
            "i8" => Tag::I8,
            "nil" => Tag::Nil,
            "param" => Tag::Param,
            "params" => Tag::Params,
            "methodName" => Tag::MethodName,
            "methodCall" => Tag::MethodCall,
            "methodResponse" => Tag::MethodResponse,
            "fault" => Tag::Fault,
            _ => Tag::Other,
        }
    }
}

/// The events the decoder looks at; the parser drops the rest (comments, processing
/// instructions, the XML declaration).
pub(crate) enum Ev {
    Start(Tag, OwnedName),
    End,
    Text(String),
    Eof,
}

/// What a `<value>` holds, as far as [`Parser::value_content`] reads it.
pub(crate) enum Content {
    /// A scalar (or an empty `<array/>`), its `</value>` consumed.
    Scalar(Value),
    /// An array, read through `<data>`.
    Array,
    /// A struct, read through `<struct>`.
    Struct,
}

/// An array or struct being read.
enum Frame {
    Array(Vec<Value>),
    /// Members so far, and the name of the member whose value is being read.
    Struct(Vec<(String, Value)>, String),
}

pub(crate) struct Parser<'a> {
    reader: EventReader<&'a [u8]>,
    pub(crate) limits: &'a Limits,
    /// Whether Apache's extension types are read.
    extensions: bool,
    /// The whole input, to locate an invalid UTF-8 sequence (xml-rs reports where
    /// its buffer started, not where the bad byte is).
    input: &'a [u8],
    /// An event read ahead while merging text that a processing instruction split,
    /// with the position of the text it followed.
    pending: Option<(XmlEvent, xml::common::TextPosition)>,
}

fn is_xml_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// At most 40 characters of `s`, for error messages.
fn snippet(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(40) {
        None => Cow::Borrowed(s),
        Some((i, _)) => Cow::Owned(format!("{}…", s.get(..i).unwrap_or_default())),
    }
}

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The xml-rs parser options the decoder reads every document with, under `limits`:
/// comments skipped, CDATA and whitespace kept as text, no entity but the five
/// predefined ones, one root element, and xml-rs's own bounds on names, attributes
/// and text set from `limits`.
///
/// For a benchmark or another tool that must parse exactly as the codec does
/// (the decoder itself also reads an ASCII declaration as UTF-8 and refuses any
/// DOCTYPE before xml-rs sees it).
///
/// ```
/// let config = xmlrpc_codec::parser_config(&xmlrpc_codec::Limits::default());
/// let mut reader = config.create_reader(&b"<value><i4>1</i4></value>"[..]);
/// assert!(reader.next().is_ok());
/// ```
pub fn parser_config(limits: &Limits) -> ParserConfig {
    ParserConfig::new()
        .trim_whitespace(false)
        .whitespace_to_characters(true)
        .cdata_to_characters(true)
        .coalesce_characters(true)
        .ignore_comments(true)
        .ignore_end_of_stream(false)
        .replace_unknown_entity_references(false)
        .ignore_root_level_whitespace(true)
        .allow_multiple_root_elements(false)
        // Entities are only defined in a DTD, which is refused; keep any expansion
        // attempted while xml-rs skims a DOCTYPE tiny.
        .max_entity_expansion_depth(1)
        .max_entity_expansion_length(1024)
        .max_name_length(1024)
        .max_attributes(64)
        .max_attribute_length(4096)
        .max_data_length(limits.max_string_bytes.max(limits.max_name_bytes))
}

impl<'a> Parser<'a> {
    pub(crate) fn new(
        input: &'a [u8],
        limits: &'a Limits,
        extensions: bool,
    ) -> Result<Self, DecodeError> {
        if input.len() > limits.max_document_bytes {
            return Err(DecodeError::new(
                Kind::Limit,
                (1, 1),
                format!(
                    "document of {} bytes exceeds the limit of {} bytes (Limits::max_document_bytes)",
                    input.len(),
                    limits.max_document_bytes
                ),
            ));
        }
        let prolog = scan_prolog(input)?;
        let mut config = parser_config(limits);
        let mut input = input;
        if prolog.declares_ascii {
            // Perl's RPC::XML declares us-ascii and sends UTF-8: read it as UTF-8,
            // which is a superset of ASCII anyway.
            input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
            config = config
                .override_encoding(Some(xml::Encoding::Utf8))
                .ignore_invalid_encoding_declarations(true);
        }
        Ok(Self {
            reader: config.create_reader(input),
            limits,
            extensions,
            input,
            pending: None,
        })
    }

    pub(crate) fn name_limit(&self) -> (usize, &'static str) {
        (self.limits.max_name_bytes, "max_name_bytes")
    }

    /// The 1-based line and column of the last event.
    pub(crate) fn pos(&self) -> (u64, u64) {
        let p = match &self.pending {
            Some((_, text_at)) => *text_at,
            None => self.reader.position(),
        };
        (p.row + 1, p.column + 1)
    }

    /// The next raw event: the one read ahead, if any, else the parser's.
    fn pull(&mut self) -> Result<XmlEvent, DecodeError> {
        if let Some((event, _)) = self.pending.take() {
            return Ok(event);
        }
        self.reader.next().map_err(|e| match e.kind() {
            XmlErrorKind::Utf8(_) => utf8_error(self.input),
            _ => xml_error(&e),
        })
    }

    /// Appends to `text` every text event that follows, across processing
    /// instructions (comments are already dropped by xml-rs, which merges around
    /// them); stops at the first other event, which is kept for the next pull.
    fn merge_text(&mut self, text: &mut String) -> Result<(), DecodeError> {
        let text_at = self.reader.position();
        loop {
            match self.pull()? {
                XmlEvent::ProcessingInstruction { .. } | XmlEvent::Comment(_) => {}
                XmlEvent::Characters(s) | XmlEvent::Whitespace(s) | XmlEvent::CData(s) => {
                    text.push_str(&s);
                }
                other => {
                    self.pending = Some((other, text_at));
                    return Ok(());
                }
            }
        }
    }

    #[cold]
    pub(crate) fn err(&self, kind: Kind, message: impl Into<Cow<'static, str>>) -> DecodeError {
        DecodeError::new(kind, self.pos(), message)
    }

    #[cold]
    pub(crate) fn unexpected(&self, found: &Ev, wanted: &str) -> DecodeError {
        let found = match found {
            Ev::Start(_, name) => format!("<{name}>"),
            Ev::End => "an end tag".to_owned(),
            Ev::Text(t) => format!("text {:?}", snippet(t)),
            Ev::Eof => "the end of the document".to_owned(),
        };
        self.err(Kind::Structure, format!("expected {wanted}, found {found}"))
    }

    pub(crate) fn next(&mut self) -> Result<Ev, DecodeError> {
        loop {
            let event = self.pull()?;
            return Ok(match event {
                XmlEvent::StartElement { name, .. } => Ev::Start(Tag::of(&name), name),
                XmlEvent::EndElement { .. } => Ev::End,
                XmlEvent::Characters(mut s)
                | XmlEvent::Whitespace(mut s)
                | XmlEvent::CData(mut s) => {
                    self.merge_text(&mut s)?;
                    if s.len() > self.limits.max_string_bytes {
                        return Err(self.err(
                            Kind::Limit,
                            format!(
                                "text of {} bytes exceeds the limit of {} bytes (Limits::max_string_bytes)",
                                s.len(),
                                self.limits.max_string_bytes
                            ),
                        ));
                    }
                    Ev::Text(s)
                }
                XmlEvent::EndDocument => Ev::Eof,
                XmlEvent::Doctype { .. } => {
                    return Err(self.err(Kind::Doctype, "a DOCTYPE is not allowed"));
                }
                XmlEvent::StartDocument { .. }
                | XmlEvent::Comment(_)
                | XmlEvent::ProcessingInstruction { .. } => continue,
            });
        }
    }

    /// The next start tag, end tag or end of document, skipping whitespace; other
    /// text is a structure error.
    pub(crate) fn next_tag(&mut self) -> Result<Ev, DecodeError> {
        loop {
            match self.next()? {
                Ev::Text(t) if is_xml_space(&t) => continue,
                Ev::Text(t) => {
                    return Err(self.err(
                        Kind::Structure,
                        format!("unexpected text {:?} where elements belong", snippet(&t)),
                    ));
                }
                ev => return Ok(ev),
            }
        }
    }

    pub(crate) fn expect_start(&mut self, tag: Tag, what: &str) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Ev::Start(t, _) if t == tag => Ok(()),
            other => Err(self.unexpected(&other, what)),
        }
    }

    pub(crate) fn expect_end(&mut self, what: &str) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Ev::End => Ok(()),
            other => Err(self.unexpected(&other, what)),
        }
    }

    pub(crate) fn root(&mut self, tag: Tag, what: &str) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Ev::Start(t, _) if t == tag => Ok(()),
            other => Err(self.unexpected(&other, &format!("the root element {what}"))),
        }
    }

    /// After the root element's end tag: nothing but the end of the document.
    pub(crate) fn finish(&mut self) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Ev::Eof => Ok(()),
            other => Err(self.unexpected(&other, "the end of the document")),
        }
    }

    /// The text content of the element just opened, through its end tag.
    /// `limit` is the value of the [`Limits`] field `field`, named in the error.
    pub(crate) fn text(
        &mut self,
        (limit, field): (usize, &str),
        what: &str,
    ) -> Result<String, DecodeError> {
        let text = match self.next()? {
            Ev::End => return Ok(String::new()),
            Ev::Text(t) => t,
            other => return Err(self.unexpected(&other, what)),
        };
        if text.len() > limit {
            return Err(self.err(
                Kind::Limit,
                format!(
                    "{what} of {} bytes exceeds the limit of {limit} bytes (Limits::{field})",
                    text.len()
                ),
            ));
        }
        match self.next()? {
            Ev::End => Ok(text),
            other => Err(self.unexpected(&other, "an end tag")),
        }
    }

    /// The params after `<params>`, through `</params>`; `<param/>` is nil.
    fn params(&mut self) -> Result<Vec<Value>, DecodeError> {
        self.params_from(0)
    }

    /// [`Parser::params`] after `already` params were read by someone else.
    pub(crate) fn params_from(&mut self, already: usize) -> Result<Vec<Value>, DecodeError> {
        let mut params = Vec::new();
        loop {
            match self.next_tag()? {
                Ev::End => return Ok(params),
                Ev::Start(Tag::Param, _) => {
                    if already + params.len() >= self.limits.max_params {
                        return Err(self.too_many_params());
                    }
                    let value = match self.next_tag()? {
                        Ev::End => Value::Nil,
                        Ev::Start(Tag::Value, _) => {
                            let value = self.value()?;
                            self.expect_end("</param>")?;
                            value
                        }
                        other => return Err(self.unexpected(&other, "<value> or </param>")),
                    };
                    params.push(value);
                }
                other => return Err(self.unexpected(&other, "<param> or </params>")),
            }
        }
    }

    #[cold]
    pub(crate) fn array_too_long(&self) -> DecodeError {
        self.err(
            Kind::Limit,
            format!(
                "an array longer than {} elements (Limits::max_array_len)",
                self.limits.max_array_len
            ),
        )
    }

    #[cold]
    pub(crate) fn too_many_members(&self) -> DecodeError {
        self.err(
            Kind::Limit,
            format!(
                "a struct with more than {} members (Limits::max_struct_members)",
                self.limits.max_struct_members
            ),
        )
    }

    #[cold]
    pub(crate) fn too_many_params(&self) -> DecodeError {
        self.err(
            Kind::Limit,
            format!(
                "more than {} params (Limits::max_params)",
                self.limits.max_params
            ),
        )
    }

    /// The value after `<value>`, through `</value>`.
    pub(crate) fn value(&mut self) -> Result<Value, DecodeError> {
        let content = self.value_content(0)?;
        self.finish_value(content, 0)
    }

    /// The rest of a value whose content (`value_content`'s answer) has been read,
    /// through its `</value>`; `depth` is the number of arrays and structs around it.
    pub(crate) fn finish_value(
        &mut self,
        content: Content,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut first = Some(content);
        'value: loop {
            // Just after a <value> start tag.
            let content = match first.take() {
                Some(content) => content,
                None => self.value_content(depth + stack.len())?,
            };
            let mut done = match content {
                Content::Scalar(value) => Some(value),
                Content::Array => {
                    stack.push(Frame::Array(Vec::new()));
                    None
                }
                Content::Struct => {
                    stack.push(Frame::Struct(Vec::new(), String::new()));
                    None
                }
            };
            loop {
                if let Some(value) = done.take() {
                    match stack.last_mut() {
                        None => return Ok(value),
                        Some(Frame::Array(items)) => {
                            if items.len() >= self.limits.max_array_len {
                                return Err(self.array_too_long());
                            }
                            items.push(value);
                        }
                        Some(Frame::Struct(members, name)) => {
                            self.expect_end("</member>")?;
                            if members.len() >= self.limits.max_struct_members {
                                return Err(self.too_many_members());
                            }
                            members.push((std::mem::take(name), value));
                        }
                    }
                }
                // Inside an open array or struct: the next element, or its end.
                let ev = self.next_tag()?;
                match (stack.last_mut(), ev) {
                    (Some(Frame::Array(_)), Ev::Start(Tag::Value, _)) => continue 'value,
                    (Some(Frame::Array(_)), Ev::End) => {
                        self.expect_end("</array>")?;
                        self.expect_end("</value>")?;
                        if let Some(Frame::Array(items)) = stack.pop() {
                            done = Some(Value::Array(items));
                        }
                    }
                    (Some(Frame::Struct(_, name)), Ev::Start(Tag::Member, _)) => {
                        self.expect_start(Tag::Name, "<name>")?;
                        *name = self.text(self.name_limit(), "a member name")?;
                        self.expect_start(Tag::Value, "<value>")?;
                        continue 'value;
                    }
                    (Some(Frame::Struct(..)), Ev::End) => {
                        self.expect_end("</value>")?;
                        if let Some(Frame::Struct(members, _)) = stack.pop() {
                            done = Some(Value::Struct(Struct::from_members(members)));
                        }
                    }
                    (Some(Frame::Array(_)), other) => {
                        return Err(self.unexpected(&other, "<value> or </data>"));
                    }
                    (Some(Frame::Struct(..)), other) => {
                        return Err(self.unexpected(&other, "<member> or </struct>"));
                    }
                    (None, other) => return Err(self.unexpected(&other, "</value>")),
                }
            }
        }
    }

    /// What follows `<value>`: a scalar (with `</value>` consumed), or the start of
    /// an array (through `<data>`) or struct. `depth` is the number of arrays and
    /// structs around the value.
    pub(crate) fn value_content(&mut self, depth: usize) -> Result<Content, DecodeError> {
        match self.next()? {
            Ev::End => Ok(Content::Scalar(Value::String(String::new()))),
            Ev::Start(tag, name) => self.typed(tag, &name, depth),
            Ev::Text(text) => match self.next()? {
                // An untyped value is a string, whitespace and all.
                Ev::End => Ok(Content::Scalar(Value::String(text))),
                Ev::Start(tag, name) if is_xml_space(&text) => self.typed(tag, &name, depth),
                Ev::Start(_, name) => Err(self.err(
                    Kind::Structure,
                    format!("text {:?} before <{name}> in a <value>", snippet(&text)),
                )),
                other => Err(self.unexpected(&other, "</value>")),
            },
            Ev::Eof => Err(self.unexpected(&Ev::Eof, "a value")),
        }
    }

    /// The value of type element `tag`, just opened.
    fn typed(&mut self, tag: Tag, name: &OwnedName, depth: usize) -> Result<Content, DecodeError> {
        let limit = (self.limits.max_string_bytes, "max_string_bytes");
        let value = match tag {
            Tag::String => Value::String(self.text(limit, "a string")?),
            Tag::Int | Tag::I8 => {
                let at = self.pos();
                let text = self.text(limit, "an integer")?;
                Value::Int(parse_int(&text).ok_or_else(|| {
                    DecodeError::new(
                        Kind::Int,
                        at,
                        format!("invalid integer {:?}", snippet(&text)),
                    )
                })?)
            }
            Tag::Boolean => {
                let at = self.pos();
                let text = self.text(limit, "a boolean")?;
                Value::Bool(match text.as_str() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => {
                        return Err(DecodeError::new(
                            Kind::Bool,
                            at,
                            format!("invalid boolean {:?} (expected 0 or 1)", snippet(&text)),
                        ));
                    }
                })
            }
            Tag::Double => {
                let at = self.pos();
                let text = self.text(limit, "a double")?;
                Value::Double(parse_double(&text).ok_or_else(|| {
                    DecodeError::new(
                        Kind::Double,
                        at,
                        format!("invalid or non-finite double {:?}", snippet(&text)),
                    )
                })?)
            }
            Tag::DateTime => {
                let at = self.pos();
                let text = self.text(limit, "a dateTime.iso8601")?;
                Value::DateTime(text.parse::<DateTime>().map_err(|e| {
                    DecodeError::new(
                        Kind::DateTime,
                        at,
                        format!("invalid dateTime.iso8601 {:?}: {e}", snippet(&text)),
                    )
                })?)
            }
            Tag::Base64 => {
                let at = self.pos();
                let text = self.text(limit, "base64 text")?;
                Value::Base64(
                    decode_base64(&text)
                        .ok_or_else(|| DecodeError::new(Kind::Base64, at, "invalid base64"))?,
                )
            }
            Tag::Nil => match self.next()? {
                Ev::End => Value::Nil,
                Ev::Text(t) if is_xml_space(&t) => {
                    self.expect_end("</nil>")?;
                    Value::Nil
                }
                other => return Err(self.unexpected(&other, "</nil>")),
            },
            Tag::Array | Tag::Struct => {
                if depth >= self.limits.max_depth {
                    return Err(self.err(
                        Kind::Limit,
                        format!(
                            "arrays and structs nested deeper than {} (Limits::max_depth)",
                            self.limits.max_depth
                        ),
                    ));
                }
                if tag == Tag::Struct {
                    return Ok(Content::Struct);
                }
                match self.next_tag()? {
                    Ev::Start(Tag::Data, _) => return Ok(Content::Array),
                    // Liberal: `<array/>` is an empty array.
                    Ev::End => Value::Array(Vec::new()),
                    other => return Err(self.unexpected(&other, "<data>")),
                }
            }
            Tag::ExI1 | Tag::ExI2 | Tag::ExBigInteger if self.extensions => {
                let at = self.pos();
                let text = self.text(limit, "an integer")?;
                let (min, max) = match tag {
                    Tag::ExI1 => (i64::from(i8::MIN), i64::from(i8::MAX)),
                    Tag::ExI2 => (i64::from(i16::MIN), i64::from(i16::MAX)),
                    _ => (i64::MIN, i64::MAX),
                };
                match parse_int(&text) {
                    Some(n) if (min..=max).contains(&n) => Value::Int(n),
                    _ => {
                        return Err(DecodeError::new(
                            Kind::Int,
                            at,
                            format!("invalid or out-of-range <{name}> {:?}", snippet(&text)),
                        ));
                    }
                }
            }
            Tag::ExFloat | Tag::ExBigDecimal if self.extensions => {
                let at = self.pos();
                let text = self.text(limit, "a number")?;
                Value::Double(parse_double(&text).ok_or_else(|| {
                    DecodeError::new(
                        Kind::Double,
                        at,
                        format!("invalid or non-finite <{name}> {:?}", snippet(&text)),
                    )
                })?)
            }
            Tag::ExDateTime if self.extensions => {
                let at = self.pos();
                let text = self.text(limit, "a dateTime")?;
                Value::DateTime(text.parse::<DateTime>().map_err(|e| {
                    DecodeError::new(
                        Kind::DateTime,
                        at,
                        format!("invalid <{name}> {:?}: {e}", snippet(&text)),
                    )
                })?)
            }
            Tag::ExI1
            | Tag::ExI2
            | Tag::ExFloat
            | Tag::ExBigInteger
            | Tag::ExBigDecimal
            | Tag::ExDateTime => {
                return Err(self.err(
                    Kind::UnknownType,
                    format!(
                        "<{name}> is an Apache ws-xmlrpc extension type, not read unless \
                         extensions are allowed (Decoder::allow_extensions)"
                    ),
                ));
            }
            Tag::ExSerializable => {
                return Err(self.err(
                    Kind::UnknownType,
                    format!(
                        "<{name}> (a serialized Java object) is never read: deserializing \
                         it would let the peer choose what to instantiate"
                    ),
                ));
            }
            Tag::Other => {
                return Err(self.err(Kind::UnknownType, format!("unknown value type <{name}>")));
            }
            _ => {
                return Err(self.err(
                    Kind::Structure,
                    format!("<{name}> where a value type belongs"),
                ));
            }
        };
        self.expect_end("</value>")?;
        Ok(Content::Scalar(value))
    }
}

/// `[+-]?[0-9]+` as an i64, without wrapping; no whitespace.
fn parse_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, s.as_bytes()),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        // Accumulating negatively reaches i64::MIN.
        n = n.checked_mul(10)?;
        n = if negative {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

/// A finite decimal number, exponent allowed (Python writes `1e+300`); no `inf`,
/// `nan`, hex or whitespace.
fn parse_double(s: &str) -> Option<f64> {
    let mut any_digit = false;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => any_digit = true,
            b'+' | b'-' | b'.' | b'e' | b'E' => {}
            _ => return None,
        }
    }
    if !any_digit {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Base64 with any whitespace (Python wraps lines), padding optional.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.iter().any(u8::is_ascii_whitespace) {
        let compact: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        BASE64.decode(compact).ok()
    } else {
        BASE64.decode(bytes).ok()
    }
}

/// An invalid UTF-8 error at the first invalid byte of `input`.
#[cold]
fn utf8_error(input: &[u8]) -> DecodeError {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let valid = match std::str::from_utf8(input) {
        Ok(_) => input.len(),
        Err(e) => e.valid_up_to(),
    };
    let before = String::from_utf8_lossy(input.get(..valid).unwrap_or_default());
    let line = before.bytes().filter(|&b| b == b'\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() as u64 + 1;
    DecodeError::new(
        Kind::Encoding,
        (line, column),
        format!("invalid UTF-8 at byte {valid}"),
    )
}

/// Classifies an xml-rs error. xml-rs does not expose its syntax error kinds, so the
/// few we distinguish are recognised by their (stable, tested) messages.
#[cold]
fn xml_error(e: &xml::reader::Error) -> DecodeError {
    let p = e.position();
    let at = (p.row + 1, p.column + 1);
    match e.kind() {
        XmlErrorKind::Syntax(msg) => {
            let kind = if msg.contains("<!DOCTYPE")
                || msg.contains("Entity too big")
                || msg.starts_with("Unknown markup declaration")
            {
                Kind::Doctype
            } else if msg.contains("than allowed by the parser's configuration") {
                // xml-rs does not say which of its limits was hit: name them all.
                // Its text limit is set from `Limits`; the others are fixed.
                return DecodeError::new(
                    Kind::Limit,
                    at,
                    "the document exceeds a parser limit: a text longer than \
                     Limits::max_string_bytes (or Limits::max_name_bytes, if larger), or \
                     an element name over 1,024 bytes, more than 64 attributes, or an \
                     attribute value over 4 KiB",
                );
            } else if msg.starts_with("Unsupported encoding")
                || msg.starts_with("Declared encoding")
            {
                Kind::Encoding
            } else {
                Kind::Xml
            };
            // xml-rs capitalises its messages; ours are lower case.
            let mut message = msg.to_string();
            if let Some(first) = message.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            DecodeError::new(kind, at, message)
        }
        XmlErrorKind::Utf8(err) => {
            DecodeError::new(Kind::Encoding, at, format!("invalid UTF-8: {err}"))
        }
        // The source is a byte slice: the only I/O error is a byte the encoding forbids.
        XmlErrorKind::Io(err) => {
            DecodeError::new(Kind::Encoding, at, format!("invalid input: {err}"))
        }
        XmlErrorKind::UnexpectedEof => {
            DecodeError::new(Kind::Xml, at, "unexpected end of document")
        }
        _ => DecodeError::new(Kind::Xml, at, e.to_string()),
    }
}

/// What the decoder needs to know before xml-rs starts.
struct Prolog {
    /// The XML declaration says `us-ascii` (or `ascii`).
    declares_ascii: bool,
}

/// Looks at the prolog (declaration, comments, processing instructions) of an
/// ASCII-compatible document: refuses a DOCTYPE before xml-rs would process its
/// internal subset, and notes an `us-ascii` declaration.
fn scan_prolog(input: &[u8]) -> Result<Prolog, DecodeError> {
    let mut rest = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut declares_ascii = false;
    if rest.starts_with(b"<?xml")
        && let Some(end) = find(rest, b"?>")
    {
        let decl = rest.get(..end).unwrap_or_default();
        declares_ascii = declared_encoding(decl).is_some_and(|e| {
            e.eq_ignore_ascii_case(b"us-ascii") || e.eq_ignore_ascii_case(b"ascii")
        });
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    loop {
        rest = rest.trim_ascii_start();
        let skip_to = if rest.starts_with(b"<!--") {
            b"-->".as_slice()
        } else if rest.starts_with(b"<?") {
            b"?>".as_slice()
        } else if rest.starts_with(b"<!DOCTYPE") {
            let offset = input.len() - rest.len();
            return Err(DecodeError::new(
                Kind::Doctype,
                line_column(input, offset),
                "a DOCTYPE is not allowed",
            ));
        } else {
            break;
        };
        match find(rest, skip_to) {
            Some(end) => rest = rest.get(end + skip_to.len()..).unwrap_or_default(),
            None => break,
        }
    }
    Ok(Prolog { declares_ascii })
}

/// The value of `encoding="…"` in an XML declaration.
fn declared_encoding(decl: &[u8]) -> Option<&[u8]> {
    let at = find(decl, b"encoding")?;
    let rest = decl.get(at + b"encoding".len()..)?.trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let (&quote, rest) = rest.split_first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let end = rest.iter().position(|&b| b == quote)?;
    rest.get(..end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// 1-based line and column (in characters) of byte `offset`.
#[cold]
fn line_column(input: &[u8], offset: usize) -> (u64, u64) {
    let before = input.get(..offset).unwrap_or(input);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let column = before
        .get(line_start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count() as u64
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(xml: &str) -> Result<Value, DecodeError> {
        decode_value(xml.as_bytes())
    }

    fn kind(xml: &str) -> Kind {
        value(xml).expect_err(xml).kind()
    }

    fn call(xml: &str) -> Result<MethodCall, DecodeError> {
        decode_method_call(xml.as_bytes())
    }

    fn string(s: &str) -> Value {
        Value::String(s.to_owned())
    }

    #[test]
    fn integers_every_spelling_no_wrapping() {
        for (xml, n) in [
            ("<value><i4>42</i4></value>", 42),
            ("<value><int>-42</int></value>", -42),
            ("<value><int>+007</int></value>", 7),
            ("<value><i8>9223372036854775807</i8></value>", i64::MAX),
            ("<value><i8>-9223372036854775808</i8></value>", i64::MIN),
            ("<value><int>1099511627776</int></value>", 1 << 40),
            (
                r#"<value><ex:i8 xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">5</ex:i8></value>"#,
                5,
            ),
        ] {
            assert_eq!(value(xml), Ok(Value::Int(n)), "{xml}");
        }
        for xml in [
            "<value><i4> 1</i4></value>",
            "<value><i4>1 </i4></value>",
            "<value><i4>1.5</i4></value>",
            "<value><i4></i4></value>",
            "<value><i4>-</i4></value>",
            "<value><i4>+-1</i4></value>",
            "<value><i4>0x10</i4></value>",
            "<value><i8>9223372036854775808</i8></value>",
            "<value><i8>-9223372036854775809</i8></value>",
            "<value><int>١</int></value>",
        ] {
            assert_eq!(kind(xml), Kind::Int, "{xml}");
        }
    }

    #[test]
    fn booleans_doubles() {
        assert_eq!(
            value("<value><boolean>1</boolean></value>"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            value("<value><boolean>0</boolean></value>"),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            value("<value><boolean>true</boolean></value>"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            value("<value><boolean>false</boolean></value>"),
            Ok(Value::Bool(false))
        );
        for bad in ["2", " 1", "TRUE", "yes", ""] {
            assert_eq!(
                kind(&format!("<value><boolean>{bad}</boolean></value>")),
                Kind::Bool
            );
        }
        for (text, d) in [
            ("1.5", 1.5),
            ("-0.25", -0.25),
            ("1e+300", 1e300),
            ("2E-3", 2e-3),
            (".5", 0.5),
            ("+3", 3.0),
        ] {
            assert_eq!(
                value(&format!("<value><double>{text}</double></value>")),
                Ok(Value::Double(d))
            );
        }
        for bad in [
            "inf", "-inf", "nan", "NaN", "infinity", "1e400", "", " 1", "0x1p3", "1e", "e5", "1,5",
        ] {
            assert_eq!(
                kind(&format!("<value><double>{bad}</double></value>")),
                Kind::Double,
                "{bad}"
            );
        }
    }

    #[test]
    fn strings_untyped_empty_and_exact() {
        assert_eq!(value("<value>hello</value>"), Ok(string("hello")));
        assert_eq!(value("<value/>"), Ok(string("")));
        assert_eq!(value("<value></value>"), Ok(string("")));
        assert_eq!(value("<value><string/></value>"), Ok(string("")));
        assert_eq!(value("<value>   </value>"), Ok(string("   ")));
        assert_eq!(
            value("<value><string>  a\n b  </string></value>"),
            Ok(string("  a\n b  "))
        );
        assert_eq!(value("<value><string> </string></value>"), Ok(string(" ")));
        assert_eq!(
            value("<value><string>a&#xD;&#10;b\r\nc</string></value>"),
            Ok(string("a\r\nb\nc"))
        );
        assert_eq!(
            value("<value><string><![CDATA[<&>]]> &lt;&amp;&#233;&#x1F600;</string></value>"),
            Ok(string("<&> <&é😀"))
        );
        assert_eq!(
            value("<value>\n  <string>x</string>\n</value>"),
            Ok(string("x"))
        );
        assert_eq!(
            value("<value><string>a<!-- c -->b</string></value>"),
            Ok(string("ab"))
        );
        assert_eq!(kind("<value>x<string>y</string></value>"), Kind::Structure);
        assert_eq!(
            kind("<value><string>x<b/></string></value>"),
            Kind::Structure
        );
        assert_eq!(kind("<value><string>x</string>y</value>"), Kind::Structure);
    }

    #[test]
    fn nil_extension_with_any_prefix() {
        assert_eq!(value("<value><nil/></value>"), Ok(Value::Nil));
        assert_eq!(value("<value><nil></nil></value>"), Ok(Value::Nil));
        assert_eq!(
            value(r#"<value xmlns:ex="urn:x"><ex:nil/></value>"#),
            Ok(Value::Nil)
        );
        assert_eq!(
            value(r#"<value xmlns:foo="urn:x"><foo:nil/></value>"#),
            Ok(Value::Nil)
        );
        assert_eq!(
            kind(r#"<value xmlns:ex="urn:x"><ex:string>a</ex:string></value>"#),
            Kind::UnknownType
        );
        assert_eq!(kind("<value><nil>x</nil></value>"), Kind::Structure);
        // Namespaces still have to be well-formed.
        assert_eq!(kind("<value><ex:nil/></value>"), Kind::Xml);
    }

    #[test]
    fn base64_with_whitespace_and_without_padding() {
        assert_eq!(
            value("<value><base64>aGVs\n bG8=\r\n</base64></value>"),
            Ok(Value::Base64(b"hello".to_vec()))
        );
        assert_eq!(
            value("<value><base64>aGVsbG8</base64></value>"),
            Ok(Value::Base64(b"hello".to_vec()))
        );
        assert_eq!(
            value("<value><base64/></value>"),
            Ok(Value::Base64(Vec::new()))
        );
        assert_eq!(kind("<value><base64>a*b=</base64></value>"), Kind::Base64);
        assert_eq!(kind("<value><base64>a</base64></value>"), Kind::Base64);
    }

    #[test]
    fn date_times() {
        let want = Value::DateTime(DateTime::new(2024, 1, 31, 12, 34, 56).unwrap());
        for text in [
            "20240131T12:34:56",
            "20240131T123456",
            "2024-01-31T12:34:56",
        ] {
            assert_eq!(
                value(&format!(
                    "<value><dateTime.iso8601>{text}</dateTime.iso8601></value>"
                )),
                Ok(want.clone())
            );
        }
        assert_eq!(kind("<value><dateTime.iso8601/></value>"), Kind::DateTime);
        assert_eq!(
            kind("<value><dateTime.iso8601>20240230T00:00:00</dateTime.iso8601></value>"),
            Kind::DateTime
        );
    }

    #[test]
    fn arrays_and_structs() {
        let v = value(
            "<value><array><data>\n<value><int>1</int></value>\n<value>two</value>\
             <value><array><data/></array></value><value><array/></value>\
             <value><struct><member><name>a</name><value><int>1</int></value></member>\
             <member><name>b</name><value/></member><member><name>a</name><value><int>3</int></value></member>\
             </struct></value><value><struct/></value></data></array></value>",
        )
        .unwrap();
        let inner: Struct = [("a", Value::Int(3)), ("b", string(""))]
            .into_iter()
            .collect();
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Int(1),
                string("two"),
                Value::Array(vec![]),
                Value::Array(vec![]),
                Value::Struct(inner),
                Value::Struct(Struct::new()),
            ])
        );
        assert_eq!(
            kind("<value><array><value/></array></value>"),
            Kind::Structure
        );
        assert_eq!(
            kind("<value><struct><member><value/></member></struct></value>"),
            Kind::Structure
        );
        assert_eq!(
            kind("<value><struct><member><name>a</name></member></struct></value>"),
            Kind::Structure
        );
        assert_eq!(kind("<value><struct>x</struct></value>"), Kind::Structure);
        assert_eq!(kind("<value><foo>1</foo></value>"), Kind::UnknownType);
        assert_eq!(kind("<value><value>1</value></value>"), Kind::Structure);
    }

    #[test]
    fn calls_liberal_shapes() {
        let want = |params: Vec<Value>| Ok(MethodCall::new("m.x", params));
        let head = "<?xml version=\"1.0\"?><methodCall><methodName>m.x</methodName>";
        assert_eq!(call(&format!("{head}</methodCall>")), want(vec![]));
        assert_eq!(call(&format!("{head}<params/></methodCall>")), want(vec![]));
        assert_eq!(
            call(&format!("{head}<params></params></methodCall>")),
            want(vec![])
        );
        assert_eq!(
            call(&format!(
                "{head}<params><param></param><param/></params></methodCall>"
            )),
            want(vec![Value::Nil, Value::Nil])
        );
        assert_eq!(
            call(&format!(
                "{head}\n <params>\n  <param>\n   <value>a</value>\n  </param>\n </params>\n</methodCall>\n"
            )),
            want(vec![string("a")])
        );
        let no_decl = "<methodCall><methodName>m.x</methodName></methodCall>";
        assert_eq!(call(no_decl), want(vec![]));
        let err = |xml: &str| call(xml).expect_err(xml).kind();
        assert_eq!(err("<methodCall></methodCall>"), Kind::Structure);
        assert_eq!(
            call("<methodCall><methodName></methodName></methodCall>"),
            Ok(MethodCall::new("", vec![]))
        );
        assert_eq!(
            err("<methodCall><methodName>a<b/></methodName></methodCall>"),
            Kind::Structure
        );
        assert_eq!(err("<methodResponse/>"), Kind::Structure);
        assert_eq!(
            err(&format!("{head}<params><value/></params></methodCall>")),
            Kind::Structure
        );
        assert_eq!(
            err(&format!(
                "{head}<params><param><value/><value/></param></params></methodCall>"
            )),
            Kind::Structure
        );
        assert_eq!(err(&format!("{head}<foo/></methodCall>")), Kind::Structure);
    }

    #[test]
    fn responses_and_faults() {
        let ok = decode_method_response(b"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>");
        assert_eq!(ok, Ok(MethodResponse::Success(Value::Int(1))));
        let fault = |members: &str| {
            decode_method_response(
                format!("<methodResponse><fault><value><struct>{members}</struct></value></fault></methodResponse>").as_bytes(),
            )
        };
        let code = "<member><name>faultCode</name><value><int>4</int></value></member>";
        let text =
            "<member><name>faultString</name><value><string>Too many</string></value></member>";
        let want = Ok(MethodResponse::Fault(Fault::new(4, "Too many")));
        assert_eq!(fault(&format!("{code}{text}")), want);
        assert_eq!(fault(&format!("{text}{code}")), want);
        let untyped = "<member><name>faultString</name><value>Too many</value></member>";
        assert_eq!(fault(&format!("{code}{untyped}")), want);
        for bad in [
            code.to_owned(),
            text.to_owned(),
            format!("{code}{code}"),
            format!("{code}<member><name>faultString</name><value><int>1</int></value></member>"),
        ] {
            assert_eq!(fault(&bad).unwrap_err().kind(), Kind::Structure, "{bad}");
        }
        let r = |xml: &str| decode_method_response(xml.as_bytes()).unwrap_err().kind();
        assert_eq!(
            r("<methodResponse><fault><value><int>1</int></value></fault></methodResponse>"),
            Kind::Structure
        );
        assert_eq!(
            r("<methodResponse><params/></methodResponse>"),
            Kind::Structure
        );
        assert_eq!(
            r(
                "<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>"
            ),
            Kind::Structure
        );
        assert_eq!(r("<methodResponse></methodResponse>"), Kind::Structure);
    }

    #[test]
    fn a_string_fault_code_or_extra_members_no_longer_lose_the_fault() {
        let fault = |members: &str| {
            match decode_method_response(
                format!("<methodResponse><fault><value><struct>{members}</struct></value></fault></methodResponse>").as_bytes(),
            ) {
                Ok(MethodResponse::Fault(f)) => f,
                other => panic!("{members}: {other:?}"),
            }
        };
        let text =
            "<member><name>faultString</name><value><string>Traceback</string></value></member>";
        // Odoo's legacy endpoint: the code is the exception's message.
        let odoo = fault(&format!(
            "<member><name>faultCode</name><value><string>warning -- Access Denied</string></value></member>{text}"
        ));
        assert_eq!(odoo.code, 0);
        assert_eq!(odoo.string, "Traceback");
        assert_eq!(
            odoo.raw_code,
            Some(Value::String("warning -- Access Denied".into()))
        );
        assert!(!odoo.is_conforming());
        assert_eq!(
            odoo.to_string(),
            "fault \"warning -- Access Denied\": Traceback"
        );
        let numeric = fault(&format!(
            "{text}<member><name>faultCode</name><value><string> 4 </string></value></member>"
        ));
        assert_eq!(
            (numeric.code, numeric.raw_code),
            (4, Some(Value::String(" 4 ".into())))
        );
        let wide = fault(&format!(
            "{text}<member><name>faultCode</name><value><i8>4294967296</i8></value></member>"
        ));
        assert_eq!((wide.code, wide.raw_code), (0, Some(Value::Int(1 << 32))));
        let extra = fault(&format!(
            "<member><name>faultCode</name><value><int>4</int></value></member>{text}\
             <member><name>detail</name><value><string>x</string></value></member>"
        ));
        assert_eq!((extra.code, extra.raw_code.clone()), (4, None));
        assert_eq!(extra.extra.get("detail"), Some(&string("x")));
        assert!(!extra.is_conforming());
        // The writer stays strict: only faultCode and faultString.
        let written = crate::encode_method_response(&MethodResponse::Fault(extra)).unwrap();
        assert_eq!(
            decode_method_response(&written),
            Ok(MethodResponse::Fault(Fault::new(4, "Traceback")))
        );
    }

    #[test]
    fn apache_extension_types_are_read_only_when_extensions_are_on() {
        let ns = r#"xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions""#;
        let apache = Decoder::default().allow_extensions(true);
        let dt = DateTime::new(2024, 1, 31, 12, 34, 56)
            .unwrap()
            .with_nanosecond(789_000_000)
            .unwrap()
            .with_offset_minutes(Some(60))
            .unwrap();
        for (xml, want) in [
            ("<ex:i1>-128</ex:i1>", Value::Int(-128)),
            ("<ex:i2>32767</ex:i2>", Value::Int(32767)),
            ("<ex:float>1.5</ex:float>", Value::Double(1.5)),
            (
                "<ex:biginteger>9223372036854775807</ex:biginteger>",
                Value::Int(i64::MAX),
            ),
            (
                "<ex:bigdecimal>-12.25</ex:bigdecimal>",
                Value::Double(-12.25),
            ),
            (
                "<ex:dateTime>2024-01-31T12:34:56.789+01:00</ex:dateTime>",
                Value::DateTime(dt),
            ),
        ] {
            let doc = format!("<value {ns}>{xml}</value>");
            assert_eq!(apache.value(doc.as_bytes()), Ok(want), "{xml}");
            let off = decode_value(doc.as_bytes()).unwrap_err();
            assert_eq!(off.kind(), Kind::UnknownType, "{xml}");
            assert!(off.message().contains("Decoder::allow_extensions"), "{off}");
        }
        for (xml, kind) in [
            ("<ex:i1>128</ex:i1>", Kind::Int),
            ("<ex:i2>-32769</ex:i2>", Kind::Int),
            (
                "<ex:biginteger>9223372036854775808</ex:biginteger>",
                Kind::Int,
            ),
            ("<ex:float>nan</ex:float>", Kind::Double),
            ("<ex:dateTime>yesterday</ex:dateTime>", Kind::DateTime),
        ] {
            let doc = format!("<value {ns}>{xml}</value>");
            assert_eq!(
                apache.value(doc.as_bytes()).unwrap_err().kind(),
                kind,
                "{xml}"
            );
        }
    }

    #[test]
    fn ex_serializable_is_refused_and_never_read() {
        let doc = r#"<value><ex:serializable xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA==</ex:serializable></value>"#;
        for decoder in [
            Decoder::default(),
            Decoder::default().allow_extensions(true),
        ] {
            let e = decoder.value(doc.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), Kind::UnknownType);
            assert!(e.message().contains("serialized Java object"), "{e}");
            assert!(e.message().contains("never read"), "{e}");
        }
    }

    #[test]
    fn not_well_formed() {
        for xml in [
            "",
            "<value>",
            "<value><int>1</value>",
            "<value><int>1</int>",
            "<value/><value/>",
            "<value/>trailing",
            "<value>&bogus;</value>",
            "<value>&#0;</value>",
            "<value>\u{1}</value>",
            "junk<value/>",
        ] {
            let e = value(xml).expect_err(xml);
            assert_eq!(e.kind(), Kind::Xml, "{xml}: {e}");
            assert!(e.is_not_well_formed());
        }
        let e = decode_value(b"<value>caf\xE9</value>").unwrap_err();
        assert_eq!(e.kind(), Kind::Encoding, "{e}");
        let e = decode_value(b"<?xml version=\"1.0\" encoding=\"EBCDIC\"?><value/>").unwrap_err();
        assert_eq!(e.kind(), Kind::Encoding, "{e}");
        // Comments and processing instructions after the root are well-formed.
        assert_eq!(value("<value/><!-- c --><?pi x?>\n"), Ok(string("")));
    }

    #[test]
    fn doctype_anywhere_is_refused() {
        for xml in [
            "<!DOCTYPE value><value/>",
            "<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE value [<!ENTITY x \"y\">]><value>&x;</value>",
            "<!DOCTYPE value [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><value>&b;</value>",
            "<!DOCTYPE value SYSTEM \"file:///etc/passwd\"><value/>",
            "<value><!DOCTYPE value></value>",
            "<value/><!DOCTYPE value>",
        ] {
            let e = value(xml).expect_err(xml);
            assert_eq!(e.kind(), Kind::Doctype, "{xml}: {e}");
            assert!(!e.is_not_well_formed());
        }
        // UTF-16 escapes the byte-level prolog scan; xml-rs's Doctype event catches it.
        let utf16: Vec<u8> = "\u{FEFF}<!DOCTYPE value><value/>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode_value(&utf16).unwrap_err().kind(), Kind::Doctype);
        assert_eq!(line_column(b"ab\ncd\xC3\xA9x", 7), (2, 4));
    }

    #[test]
    fn encodings() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><value>caf\xE9</value>";
        assert_eq!(decode_value(latin1), Ok(string("café")));
        let ascii_but_utf8 = "<?xml version=\"1.0\" encoding=\"us-ascii\"?><value>café</value>";
        assert_eq!(value(ascii_but_utf8), Ok(string("café")));
        let with_bom = "\u{FEFF}<?xml version='1.0' encoding='US-ASCII' ?><value>ü</value>";
        assert_eq!(value(with_bom), Ok(string("ü")));
        let bom_utf8 = "\u{FEFF}<?xml version='1.0' encoding='utf-8'?><value>ü</value>";
        assert_eq!(value(bom_utf8), Ok(string("ü")));
    }

    #[test]
    fn limits_are_enforced() {
        let with = |f: fn(&mut Limits)| {
            let mut l = Limits::default();
            f(&mut l);
            Decoder::new(l)
        };
        let nested = |n: usize| {
            format!(
                "{}{}",
                "<value><array><data>".repeat(n),
                "</data></array></value>".repeat(n)
            )
        };
        let d = with(|l| l.max_depth = 3);
        assert!(d.value(nested(3).as_bytes()).is_ok());
        assert_eq!(
            d.value(nested(4).as_bytes()).unwrap_err().kind(),
            Kind::Limit
        );
        // The default depth, 64, holds against a deep hostile document.
        assert!(decode_value(nested(64).as_bytes()).is_ok());
        assert_eq!(
            decode_value(nested(10_000).as_bytes()).unwrap_err().kind(),
            Kind::Limit
        );

        let d = with(|l| l.max_document_bytes = 10);
        let e = d.value(b"<value>01234</value>").unwrap_err();
        assert_eq!((e.kind(), e.line(), e.column()), (Kind::Limit, 1, 1));

        let d = with(|l| l.max_string_bytes = 4);
        assert!(d.value(b"<value>0123</value>").is_ok());
        assert_eq!(
            d.value(b"<value>01234</value>").unwrap_err().kind(),
            Kind::Limit
        );
        assert_eq!(
            d.value(b"<value><string>01234</string></value>")
                .unwrap_err()
                .kind(),
            Kind::Limit
        );

        let d = with(|l| l.max_array_len = 2);
        assert!(
            d.value(b"<value><array><data><value/><value/></data></array></value>")
                .is_ok()
        );
        assert_eq!(
            d.value(b"<value><array><data><value/><value/><value/></data></array></value>")
                .unwrap_err()
                .kind(),
            Kind::Limit
        );

        let member = "<member><name>a</name><value/></member>";
        let d = with(|l| l.max_struct_members = 2);
        assert!(
            d.value(format!("<value><struct>{}</struct></value>", member.repeat(2)).as_bytes())
                .is_ok()
        );
        assert_eq!(
            d.value(format!("<value><struct>{}</struct></value>", member.repeat(3)).as_bytes())
                .unwrap_err()
                .kind(),
            Kind::Limit
        );

        let d = with(|l| l.max_params = 1);
        let params = |n: usize| {
            format!(
                "<methodCall><methodName>m</methodName><params>{}</params></methodCall>",
                "<param><value/></param>".repeat(n)
            )
        };
        assert!(d.method_call(params(1).as_bytes()).is_ok());
        assert_eq!(
            d.method_call(params(2).as_bytes()).unwrap_err().kind(),
            Kind::Limit
        );

        let d = with(|l| l.max_name_bytes = 3);
        assert!(
            d.method_call(b"<methodCall><methodName>abc</methodName></methodCall>")
                .is_ok()
        );
        assert_eq!(
            d.method_call(b"<methodCall><methodName>abcd</methodName></methodCall>")
                .unwrap_err()
                .kind(),
            Kind::Limit
        );
        assert_eq!(
            d.value(b"<value><struct><member><name>abcd</name><value/></member></struct></value>")
                .unwrap_err()
                .kind(),
            Kind::Limit
        );
    }

    #[test]
    fn huge_struct_decodes_in_linear_time() {
        let n = 200_000;
        let mut xml = String::from("<value><struct>");
        for i in 0..n {
            xml.push_str(&format!(
                "<member><name>m{}</name><value><int>{i}</int></value></member>",
                i % (n / 2)
            ));
        }
        xml.push_str("</struct></value>");
        let l = Limits {
            max_document_bytes: usize::MAX,
            max_struct_members: usize::MAX,
            ..Limits::default()
        };
        // No wall-clock bound (the machine's load is not the code's): a quadratic
        // duplicate check on 200,000 members would be 2·10¹⁰ comparisons, which no
        // test run survives, while the hashed one finishes in a blink.
        let Ok(Value::Struct(s)) = Decoder::new(l).value(xml.as_bytes()) else {
            panic!()
        };
        assert_eq!(s.len(), n / 2);
        assert_eq!(s.iter().next(), Some(("m0", &Value::Int(n as i64 / 2))));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = value("<value>\n  <int>x</int>\n</value>").unwrap_err();
        assert_eq!((e.kind(), e.line(), e.column()), (Kind::Int, 2, 3));
        assert_eq!(e.to_string(), "line 2, column 3: invalid integer \"x\"");
        let e = value("<value>\n<foo/></value>").unwrap_err();
        assert_eq!((e.kind(), e.line(), e.column()), (Kind::UnknownType, 2, 1));
        let e = value("<value>\n  <int>1</int>\n</valve>").unwrap_err();
        assert_eq!((e.kind(), e.line()), (Kind::Xml, 3));
        assert_eq!(Kind::DateTime.name(), "date_time");
        assert_eq!(Kind::UnknownType.name(), "unknown_type");
    }

    #[test]
    fn processing_instructions_inside_text_do_not_split_it() {
        assert_eq!(
            value("<value><string>a<?pi x?>b</string></value>"),
            Ok(string("ab"))
        );
        assert_eq!(
            value("<value>a<?pi?>b<!-- c -->d</value>"),
            Ok(string("abd"))
        );
        assert_eq!(
            value("<value><i4>1<?pi?>2</i4></value>"),
            Ok(Value::Int(12))
        );
    }

    #[test]
    fn invalid_utf8_is_reported_where_it_is() {
        let e = decode_value(b"<value>\n  <string>caf\xe9</string></value>").unwrap_err();
        assert_eq!(e.kind(), Kind::Encoding);
        assert_eq!((e.line(), e.column()), (2, 14), "{e}");
    }
}
