//! Typed requests: each API method as a [`TypedRequest`], the binding's [`Request`]
//! paired with the binding's reader of its result.
//!
//! Every method of [`Client`] is one of these sent on its own;
//! [`Batch`](crate::Batch) sends several in one `system.multicall`. The
//! functions here and the `Client`'s methods are generated from the method
//! table (`pbx_xmlrpc::pbx_methods!`): names, arguments, result types and
//! readers all come from there; nothing about a method is written here.
//!
//! ```
//! use pbx_client::requests;
//! use pbx_model::CallId;
//!
//! let park = requests::park(&CallId::new("c1"), Some(3));
//! assert_eq!(park.method().name(), "park");
//! assert_eq!(park.to_call().params.len(), 2);
//! ```

use std::fmt;

use pbx_xmlrpc::table::prelude::*;
use pbx_xmlrpc::{Method, Request, ResultError};

use crate::{Client, ClientError};

/// A call of one API method whose result reads as a `T`.
///
/// Build one with the functions of this module; send it with
/// [`Client::send`](crate::Client::send) or add it to a [`Batch`](crate::Batch).
pub struct TypedRequest<T> {
    request: Request,
    read: fn(&Value) -> Result<T, ResultError>,
}

impl<T> TypedRequest<T> {
    /// A request whose result `read` turns into a `T` (one of the binding's
    /// `parse_*` readers, or your own for a method this module lacks).
    pub fn new(request: Request, read: fn(&Value) -> Result<T, ResultError>) -> Self {
        Self { request, read }
    }

    /// The binding's request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The method called.
    pub fn method(&self) -> Method {
        self.request.method()
    }

    /// The XML-RPC call, as the binding writes it.
    pub fn to_call(&self) -> MethodCall {
        self.request.to_call()
    }

    /// Reads the method's result; a result of the wrong shape is
    /// [`ClientError::InvalidResponse`] naming the method and the place in the value.
    pub fn read(&self, value: &Value) -> Result<T, ClientError> {
        read_as(self.method(), self.read, value)
    }

    pub(crate) fn reader(&self) -> fn(&Value) -> Result<T, ResultError> {
        self.read
    }
}

pub(crate) fn read_as<T>(
    method: Method,
    read: fn(&Value) -> Result<T, ResultError>,
    value: &Value,
) -> Result<T, ClientError> {
    read(value).map_err(|e| {
        ClientError::InvalidResponse(match e.path() {
            "" => format!("{method}: {}", e.problem()),
            path => format!("{method}: result{}: {}", at(path), e.problem()),
        })
    })
}

/// `[2].id` stays `[2].id`, `from.id` becomes `.from.id`: a path under `result`.
fn at(path: &str) -> String {
    if path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

impl<T> Clone for TypedRequest<T> {
    fn clone(&self) -> Self {
        Self {
            request: self.request.clone(),
            read: self.read,
        }
    }
}

impl<T> fmt::Debug for TypedRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedRequest").field(&self.request).finish()
    }
}

/// A client's argument as the request's field (`&str` → `String`, …): the
/// table names both types for each parameter.
trait IntoParam<T> {
    fn into_param(self) -> T;
}

/// The arguments that are borrowed and the fields they become.
macro_rules! into_param_by_ref {
    ($($arg:ty => $field:ty),* $(,)?) => {
        $(impl IntoParam<$field> for $arg {
            fn into_param(self) -> $field {
                self.to_owned()
            }
        })*
    };
}

into_param_by_ref! {
    &str => String,
    &CallId => CallId,
    &Value => Value,
    &[Favorite] => Vec<Favorite>,
    &[(String, String)] => Vec<(String, String)>,
}

/// The arguments that are taken as they are.
macro_rules! into_param_as_is {
    ($($ty:ty),* $(,)?) => {
        $(impl IntoParam<$ty> for $ty {
            fn into_param(self) -> $ty {
                self
            }
        })*
    };
}

into_param_as_is!(u32, f64, bool, Vec<MethodCall>);

/// The typed requests and the [`Client`]'s methods, generated from the table
/// (`pbx_xmlrpc::table`): one of each per method, its arguments the table's
/// client types, its result the table's result type read by the table's reader.
macro_rules! client_table {
    ($(
        $variant:ident = $name:literal {
            group: $group:ident,
            client: $client:ident,
            serve: $serve:ident $($serve_fn:ident)?,
            large_result: $large:literal,
            params: [$(
                $p:ident : $pty:ty as $parg:ty = $pname:literal [$($ptype:ident)|+] via $pkind:ident $pdoc:expr
            ),* $(,)?],
            optional: [$(
                $o:ident : $oty:ty as $oarg:ty = $oname:literal [$($otype:ident)|+] via $okind:ident $odoc:expr
            ),* $(,)?],
            result: $rty:ty = $reader:ident [$($rtype:ident)|+] $rdoc:literal,
            help: $help:literal,
            faults: [$($fault:expr),* $(,)?] $(,)?
        }
    )*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $help)]
            #[doc = ""]
            #[doc = concat!("Result: ", $rdoc)]
            pub fn $client($($p: $parg,)* $($o: Option<$oarg>,)*) -> TypedRequest<$rty> {
                TypedRequest::new(
                    Request::$variant {
                        $($p: $p.into_param(),)*
                        $($o: $o.map(IntoParam::into_param),)*
                    },
                    $reader,
                )
            }
        )*

        impl Client {
            $(client_method!($client $name $help $rdoc ($($p: $parg,)* $($o: Option<$oarg>,)*) $rty);)*
        }
    };
}

/// One method of [`Client`]: its typed request, sent.
macro_rules! client_method {
    // `Client::multicall` is written by hand: it checks that the answer holds
    // one result per call (`xmlrpc_client`'s multicall).
    (multicall $($rest:tt)*) => {};
    ($client:ident $name:literal $help:literal $rdoc:literal ($($a:ident: $aty:ty,)*) $rty:ty) => {
        #[doc = concat!("`", $name, "`: ", $help)]
        #[doc = ""]
        #[doc = concat!("Result: ", $rdoc)]
        pub async fn $client(&self, $($a: $aty,)*) -> Result<$rty, ClientError> {
            self.send($client($($a,)*)).await
        }
    };
}

pbx_xmlrpc::pbx_methods!(client_table);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_shapes_name_the_method_and_the_place() {
        let err = get_calls()
            .read(&Value::Array(vec![Value::Int(1)]))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::InvalidResponse("get_calls: result[0]: expected struct, got int 1".into())
        );
        let err = park(&CallId::new("c"), None)
            .read(&Value::String("x".into()))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::InvalidResponse("park: expected int, got string \"x\"".into())
        );
    }

    #[test]
    fn requests_are_the_bindings() {
        let call = sim_call("+15550100", "203", None).to_call();
        assert_eq!(call.method_name, "sim.call");
        assert_eq!(call.params.len(), 2);
        assert_eq!(drop_call(&CallId::new("c")).method(), Method::Drop);
        let play = sim_play("office-day", None, Some(true)).to_call();
        assert_eq!(play.params.len(), 3, "the default speed stands in");
    }
}
