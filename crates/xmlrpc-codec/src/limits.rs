//! [`Limits`]: what a decoder accepts from an untrusted peer.

/// Bounds on what a [`Decoder`](crate::Decoder) accepts; exceeding any of them is a
/// [`DecodeErrorKind::Limit`](crate::DecodeErrorKind::Limit) error whose message
/// names the field (`… exceeds the limit of 1048576 bytes (Limits::max_string_bytes)`).
///
/// The defaults ([`Limits::default`]) suit a server facing the internet, reading
/// calls from anyone. A client reads responses from a server it chose, which may
/// well answer with megabytes: [`Limits::for_responses`] has room for that. The struct is `#[non_exhaustive]`
/// so that limits can be added; change fields on a default value:
///
/// ```
/// use xmlrpc_codec::{Decoder, Limits};
///
/// let mut limits = Limits::default();
/// limits.max_depth = 10;
/// limits.max_document_bytes = 64 * 1024;
/// let decoder = Decoder::new(limits);
/// # let _ = decoder;
/// ```
///
/// Memory use is bounded by `max_document_bytes` times a small factor whatever the
/// other limits say; they exist to refuse absurd shapes early and cheaply. Keep
/// `max_depth` modest: a decoded value is dropped recursively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// How deeply arrays and structs may nest: a value that is an array holding a
    /// struct has depth 2; scalars have depth 0. Default 64, as xmlrpc-c.
    pub max_depth: usize,
    /// The largest document, in bytes, checked before parsing starts. Default 1 MiB
    /// (xmlrpc-c uses 512 KiB).
    pub max_document_bytes: usize,
    /// The longest text of one element, in bytes of UTF-8: a string, or the base64
    /// text of a `<base64>` before decoding. Default 1 MiB.
    pub max_string_bytes: usize,
    /// The most members one struct may have (duplicates counted). Default 65,536.
    pub max_struct_members: usize,
    /// The most elements one array may have. Default 1,048,576.
    pub max_array_len: usize,
    /// The most params a call or response may have. Default 4,096.
    pub max_params: usize,
    /// The longest method name or struct member name, in bytes. Default 4,096.
    pub max_name_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_document_bytes: 1 << 20,
            max_string_bytes: 1 << 20,
            max_struct_members: 1 << 16,
            max_array_len: 1 << 20,
            max_params: 4096,
            max_name_bytes: 4096,
        }
    }
}

impl Limits {
    /// Limits for a client reading responses from a server it chose to call: 64 MiB
    /// documents and strings (a `<base64>` file, a long log), 16,777,216 array
    /// elements, 1,048,576 struct members; depth, params and names as the default.
    /// [`decode_method_response`](crate::decode_method_response) uses these.
    ///
    /// ```
    /// use xmlrpc_codec::{Decoder, Limits, MethodResponse, Value};
    ///
    /// let big = format!(
    ///     "<methodResponse><params><param><value>{}</value></param></params></methodResponse>",
    ///     "x".repeat(1_200_000),
    /// );
    /// let err = Decoder::new(Limits::default()).method_response(big.as_bytes()).unwrap_err();
    /// assert!(err.message().contains("Limits::max_document_bytes"), "{err}");
    /// let ok = Decoder::new(Limits::for_responses()).method_response(big.as_bytes())?;
    /// assert!(matches!(ok, MethodResponse::Success(Value::String(s)) if s.len() == 1_200_000));
    /// # Ok::<(), xmlrpc_codec::DecodeError>(())
    /// ```
    pub fn for_responses() -> Self {
        Self {
            max_document_bytes: 64 << 20,
            max_string_bytes: 64 << 20,
            max_array_len: 1 << 24,
            max_struct_members: 1 << 20,
            ..Self::default()
        }
    }
}
