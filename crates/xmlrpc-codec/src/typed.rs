//! Typed decoding: XML-RPC documents straight into Rust types through serde, without
//! building a [`Value`] tree first.
//!
//! The deserializer pulls the same xml-rs events, through the same parser (same
//! `ParserConfig`, same [`Limits`], same DOCTYPE refusal, same error messages and
//! positions) as the [`Decoder`]; arrays and structs are handed to the type's visitor
//! member by member as they are read. Scalars are read into a [`Value`] first and
//! deserialized by [`Value`]'s own deserializer, so every conversion (integer ranges,
//! dateTime as text or as [`DateTime`](crate::DateTime), base64 as bytes, nil as
//! `None`, enums) is exactly [`from_value`](crate::from_value)'s.
//!
//! Nothing is borrowed from the input: xml-rs hands out owned `String`s for text (it
//! unescapes and merges as it reads), so `&str` fields cannot point into the document.
//! Use `String` or `Cow<'_, str>` (which gets the owned text) in decoded types.

use std::marker::PhantomData;

use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::de::{KeyDeserializer, VALUE_TOKEN, check_consumed};
use crate::decode::{Content, Ev, Parser, Tag};
use crate::error::DecodeErrorKind as Kind;
use crate::{DecodeError, Decoder, Fault, Limits, SerdeError, Value};

/// Why a typed decode ([`from_response_slice`], [`from_value_slice`],
/// [`from_call_slice`] and their [`Decoder`] forms) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TypedError {
    /// The document is not XML-RPC, or breaks a [`Limits`] field: the same error,
    /// message and position as the [`Decoder`] gives.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The document is XML-RPC, but its content does not fit the Rust type: the same
    /// error (message and path) as [`from_value`](crate::from_value) /
    /// [`from_params`](crate::from_params) give.
    #[error(transparent)]
    Serde(#[from] SerdeError),
    /// The response is a fault.
    #[error("{0}")]
    Fault(Fault),
}

/// Decodes a `<methodResponse>` straight into `T`, with [`Limits::for_responses`];
/// a fault is [`TypedError::Fault`].
///
/// The same as [`decode_method_response`](crate::decode_method_response), then
/// [`MethodResponse::into_result`](crate::MethodResponse::into_result), then
/// [`from_value`](crate::from_value), without the [`Value`] tree in between:
///
/// ```
/// use xmlrpc_codec::{TypedError, from_response_slice};
///
/// #[derive(Debug, PartialEq, serde::Deserialize)]
/// struct Extension { id: u32, name: String, email: Option<String> }
///
/// let body = br#"<methodResponse><params><param><value><array><data>
///   <value><struct>
///     <member><name>id</name><value><int>1001</int></value></member>
///     <member><name>name</name><value>Alice &amp; Bob</value></member>
///   </struct></value>
/// </data></array></value></param></params></methodResponse>"#;
/// let extensions: Vec<Extension> = from_response_slice(body)?;
/// assert_eq!(extensions, [Extension { id: 1001, name: "Alice & Bob".into(), email: None }]);
///
/// let fault = br#"<methodResponse><fault><value><struct>
///   <member><name>faultCode</name><value><int>4</int></value></member>
///   <member><name>faultString</name><value>Too many params</value></member>
/// </struct></value></fault></methodResponse>"#;
/// let Err(TypedError::Fault(f)) = from_response_slice::<Vec<Extension>>(fault) else { panic!() };
/// assert_eq!(f.code, 4);
/// # Ok::<(), TypedError>(())
/// ```
///
/// A document that is well-formed and within the limits gives the same `Ok` or error
/// as the tree path, with one difference: a struct with a repeated member name is
/// handed to the type with every member (a derived struct refuses it as a duplicate
/// field; a map keeps the last), where the tree keeps only the last. And as the
/// document is read while the type is filled, a type error that comes before a
/// malformed part of the document is the error reported.
pub fn from_response_slice<T: DeserializeOwned>(input: &[u8]) -> Result<T, TypedError> {
    Decoder::new(Limits::for_responses()).response_as(input)
}

/// Decodes a document whose root is one `<value>` straight into `T`, with the default
/// [`Limits`]: [`decode_value`](crate::decode_value) then
/// [`from_value`](crate::from_value) without the tree.
pub fn from_value_slice<T: DeserializeOwned>(input: &[u8]) -> Result<T, TypedError> {
    Decoder::default().value_as(input)
}

/// Decodes a `<methodCall>` into its method name and params `P`, with the default
/// [`Limits`], as [`from_params`](crate::from_params) reads params (positionally;
/// errors name the parameter).
///
/// A call's params are read into [`Value`]s first (they are few and the request
/// limits keep them small; reading them positionally needs their count), and then
/// converted; responses, where the size is, are streamed.
pub fn from_call_slice<P: DeserializeOwned>(input: &[u8]) -> Result<(String, P), TypedError> {
    Decoder::default().call_as(input)
}

impl Decoder {
    /// [`from_response_slice`] under this decoder's limits and extensions.
    pub fn response_as<T: DeserializeOwned>(&self, input: &[u8]) -> Result<T, TypedError> {
        let mut s = Stream::new(input, self)?;
        let p = &mut s.parser;
        p.root(Tag::MethodResponse, "<methodResponse>")?;
        let value = match p.next_tag()? {
            Ev::Start(Tag::Params, _) => {
                let at = p.pos();
                match p.next_tag()? {
                    Ev::Start(Tag::Param, _) => {
                        if p.limits.max_params == 0 {
                            return Err(p.too_many_params().into());
                        }
                        let value = match p.next_tag()? {
                            Ev::End => T::deserialize(Value::Nil)?,
                            Ev::Start(Tag::Value, _) => {
                                let result = T::deserialize(ValueDe::new(&mut s, 0));
                                let value = s.settle(result)?;
                                s.parser.expect_end("</param>")?;
                                value
                            }
                            other => {
                                return Err(p.unexpected(&other, "<value> or </param>").into());
                            }
                        };
                        let p = &mut s.parser;
                        let more = p.params_from(1)?;
                        if !more.is_empty() {
                            return Err(DecodeError::new(
                                Kind::Structure,
                                at,
                                format!(
                                    "a methodResponse must have exactly one <param>, found {}",
                                    more.len() + 1
                                ),
                            )
                            .into());
                        }
                        value
                    }
                    Ev::End => {
                        return Err(DecodeError::new(
                            Kind::Structure,
                            at,
                            "a methodResponse must have exactly one <param>, found none",
                        )
                        .into());
                    }
                    other => return Err(p.unexpected(&other, "<param> or </params>").into()),
                }
            }
            Ev::Start(Tag::Fault, _) => {
                let at = p.pos();
                p.expect_start(Tag::Value, "<value>")?;
                let value = p.value()?;
                p.expect_end("</fault>")?;
                let fault = Fault::try_from(value)
                    .map_err(|e| DecodeError::new(Kind::Structure, at, e.0))?;
                p.expect_end("</methodResponse>")?;
                p.finish()?;
                return Err(TypedError::Fault(fault));
            }
            other => return Err(p.unexpected(&other, "<params> or <fault>").into()),
        };
        let p = &mut s.parser;
        p.expect_end("</methodResponse>")?;
        p.finish()?;
        Ok(value)
    }

    /// [`from_value_slice`] under this decoder's limits and extensions.
    pub fn value_as<T: DeserializeOwned>(&self, input: &[u8]) -> Result<T, TypedError> {
        let mut s = Stream::new(input, self)?;
        s.parser.root(Tag::Value, "<value>")?;
        let result = T::deserialize(ValueDe::new(&mut s, 0));
        let value = s.settle(result)?;
        s.parser.finish()?;
        Ok(value)
    }

    /// [`from_call_slice`] under this decoder's limits and extensions.
    pub fn call_as<P: DeserializeOwned>(&self, input: &[u8]) -> Result<(String, P), TypedError> {
        let call = self.method_call(input)?;
        let params = crate::from_params(call.params)?;
        Ok((call.method_name, params))
    }
}

/// The parser, and the decode error that stopped it (serde's visitors only carry a
/// [`SerdeError`], so a decode error waits here while a stand-in travels up).
struct Stream<'a> {
    parser: Parser<'a>,
    failure: Option<DecodeError>,
}

impl<'a> Stream<'a> {
    fn new(input: &'a [u8], decoder: &'a Decoder) -> Result<Self, DecodeError> {
        Ok(Self {
            parser: Parser::new(input, decoder.limits(), decoder.extensions_allowed())?,
            failure: None,
        })
    }

    /// Keeps `e` as the outcome and gives the stand-in that unwinds the visitors.
    #[cold]
    fn fail(&mut self, e: DecodeError) -> SerdeError {
        let stand_in = SerdeError::new(format!("decoding stopped: {e}"));
        self.failure.get_or_insert(e);
        stand_in
    }

    /// The outcome of a deserialization: the decode error if one happened (even if a
    /// visitor swallowed its stand-in), else the visitor's result.
    fn settle<T>(&mut self, result: Result<T, SerdeError>) -> Result<T, TypedError> {
        match self.failure.take() {
            Some(e) => Err(e.into()),
            None => Ok(result?),
        }
    }

    fn check<T>(&mut self, result: Result<T, DecodeError>) -> Result<T, SerdeError> {
        result.map_err(|e| self.fail(e))
    }
}

/// A value's deserializer, positioned just after its `<value>` start tag (or with its
/// content already read into `head`).
struct ValueDe<'s, 'a> {
    s: &'s mut Stream<'a>,
    /// Arrays and structs around the value, for [`Limits::max_depth`].
    depth: usize,
    head: Option<Content>,
}

impl<'s, 'a> ValueDe<'s, 'a> {
    fn new(s: &'s mut Stream<'a>, depth: usize) -> Self {
        Self {
            s,
            depth,
            head: None,
        }
    }

    fn head(&mut self) -> Result<Content, SerdeError> {
        match self.head.take() {
            Some(content) => Ok(content),
            None => {
                let result = self.s.parser.value_content(self.depth);
                self.s.check(result)
            }
        }
    }

    /// The rest of the value as a tree, for the hints whose answer needs all of it.
    fn tree(self, content: Content) -> Result<Value, SerdeError> {
        let result = self.s.parser.finish_value(content, self.depth);
        self.s.check(result)
    }

    /// Hands an array or struct to the visitor as it is read; afterwards reads what
    /// the visitor left, so that the parser is past the `</value>`.
    fn stream<'de, V: Visitor<'de>>(
        self,
        content: Content,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match content {
            Content::Scalar(value) => value.deserialize_any(visitor),
            Content::Array => {
                let mut seq = ArrayDe {
                    s: self.s,
                    depth: self.depth + 1,
                    index: 0,
                    done: false,
                };
                let out = visitor.visit_seq(&mut seq)?;
                let taken = seq.index;
                while seq.next_element_seed(PhantomData::<IgnoredAny>)?.is_some() {}
                check_consumed(seq.index, taken)?;
                Ok(out)
            }
            Content::Struct => {
                let mut map = StructDe {
                    s: self.s,
                    depth: self.depth + 1,
                    members: 0,
                    name: None,
                    done: false,
                };
                let out = visitor.visit_map(&mut map)?;
                while map.next_key_seed(PhantomData::<IgnoredAny>)?.is_some() {
                    map.next_value_seed(PhantomData::<IgnoredAny>)?;
                }
                Ok(out)
            }
        }
    }
}

/// The hints for which an array or struct goes to the visitor as a sequence or map
/// (what [`Value`]'s deserializer does for them too), and a scalar to [`Value`]'s
/// deserializer.
macro_rules! streamed_hints {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(
            mut self,
            $($arg: $ty,)*
            visitor: V,
        ) -> Result<V::Value, SerdeError> {
            match self.head()? {
                Content::Scalar(value) => value.$method($($arg,)* visitor),
                content => self.stream(content, visitor),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for ValueDe<'_, '_> {
    type Error = SerdeError;

    streamed_hints! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_identifier();
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.head()? {
            Content::Scalar(value) => value.deserialize_option(visitor),
            content => {
                self.head = Some(content);
                visitor.visit_some(self)
            }
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.head()? {
            Content::Scalar(value) => value.deserialize_unit(visitor),
            content => self.tree(content)?.deserialize_unit(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.head()? {
            Content::Scalar(value) => value.deserialize_newtype_struct(name, visitor),
            // `Value` itself: the tree is what is wanted.
            content if name == VALUE_TOKEN => self
                .tree(content)?
                .deserialize_newtype_struct(name, visitor),
            content => {
                self.head = Some(content);
                visitor.visit_newtype_struct(self)
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.head()? {
            Content::Scalar(value) => value.deserialize_enum(name, variants, visitor),
            // A one-member struct: small, and its checks are the tree's.
            content => self
                .tree(content)?
                .deserialize_enum(name, variants, visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        mut self,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        // Read (and check) the value all the same, to stay in step with the document.
        match self.head()? {
            Content::Scalar(_) => {}
            content => drop(self.tree(content)?),
        }
        visitor.visit_unit()
    }
}

/// An array's elements, after `<data>`.
struct ArrayDe<'s, 'a> {
    s: &'s mut Stream<'a>,
    depth: usize,
    index: usize,
    done: bool,
}

impl<'de> SeqAccess<'de> for ArrayDe<'_, '_> {
    type Error = SerdeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        if self.done {
            return Ok(None);
        }
        let result = self.s.parser.next_tag();
        match self.s.check(result)? {
            Ev::Start(Tag::Value, _) => {
                let index = self.index;
                let element = seed
                    .deserialize(ValueDe::new(self.s, self.depth))
                    .map_err(|e| e.at_index(index))?;
                if index >= self.s.parser.limits.max_array_len {
                    let e = self.s.parser.array_too_long();
                    return Err(self.s.fail(e));
                }
                self.index += 1;
                Ok(Some(element))
            }
            Ev::End => {
                self.done = true;
                let p = &mut self.s.parser;
                let result = p
                    .expect_end("</array>")
                    .and_then(|()| p.expect_end("</value>"));
                self.s.check(result)?;
                Ok(None)
            }
            other => {
                let e = self.s.parser.unexpected(&other, "<value> or </data>");
                Err(self.s.fail(e))
            }
        }
    }
}

/// A struct's members, after `<struct>`.
struct StructDe<'s, 'a> {
    s: &'s mut Stream<'a>,
    depth: usize,
    members: usize,
    /// The member whose name was handed out and whose value is next.
    name: Option<String>,
    done: bool,
}

impl<'de> MapAccess<'de> for StructDe<'_, '_> {
    type Error = SerdeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        if self.name.is_some() {
            // The visitor skipped a value: read past it.
            self.next_value_seed(PhantomData::<IgnoredAny>)?;
        }
        if self.done {
            return Ok(None);
        }
        let p = &mut self.s.parser;
        let result = match p.next_tag() {
            Ok(Ev::Start(Tag::Member, _)) => p
                .expect_start(Tag::Name, "<name>")
                .and_then(|()| p.text(p.name_limit(), "a member name"))
                .and_then(|name| p.expect_start(Tag::Value, "<value>").map(|()| Some(name))),
            Ok(Ev::End) => p.expect_end("</value>").map(|()| None),
            Ok(other) => Err(p.unexpected(&other, "<member> or </struct>")),
            Err(e) => Err(e),
        };
        match self.s.check(result)? {
            Some(name) => {
                let key = seed.deserialize(KeyDeserializer::Transient(&name))?;
                self.name = Some(name);
                Ok(Some(key))
            }
            None => {
                self.done = true;
                Ok(None)
            }
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let name = self
            .name
            .take()
            .ok_or_else(|| SerdeError::new("struct member value asked for before its name"))?;
        let value = seed
            .deserialize(ValueDe::new(self.s, self.depth))
            .map_err(|e| e.at_member(&name))?;
        let p = &mut self.s.parser;
        let result = p.expect_end("</member>").and_then(|()| {
            if self.members >= p.limits.max_struct_members {
                Err(p.too_many_members())
            } else {
                Ok(())
            }
        });
        self.s.check(result)?;
        self.members += 1;
        Ok(value)
    }
}
