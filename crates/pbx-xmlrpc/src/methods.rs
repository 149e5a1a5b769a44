//! The one table of methods ([`methods`]): names, parameters, result, help,
//! faults. Introspection, request decoding, the docs and the client all read it.

use crate::FaultCode;

/// An XML-RPC type, as `system.methodSignature` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XmlRpcType {
    /// `int` (also `i4`).
    Int,
    /// `boolean`.
    Boolean,
    /// `string`.
    String,
    /// `double`.
    Double,
    /// `dateTime.iso8601`.
    DateTime,
    /// `base64`.
    Base64,
    /// `struct`.
    Struct,
    /// `array`.
    Array,
}

impl XmlRpcType {
    /// The type's name in signatures: `int`, `boolean`, `string`, `double`,
    /// `dateTime.iso8601`, `base64`, `struct`, `array`.
    pub const fn name(self) -> &'static str {
        match self {
            XmlRpcType::Int => "int",
            XmlRpcType::Boolean => "boolean",
            XmlRpcType::String => "string",
            XmlRpcType::Double => "double",
            XmlRpcType::DateTime => "dateTime.iso8601",
            XmlRpcType::Base64 => "base64",
            XmlRpcType::Struct => "struct",
            XmlRpcType::Array => "array",
        }
    }
}

impl std::fmt::Display for XmlRpcType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a method comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Group {
    /// The PBXpress guide's methods (SPEC.md "Methods").
    Pbx,
    /// The simulated PBX's controls (`sim.*`), offered only with a simulator.
    Simulation,
    /// Introspection and batching (`system.*`).
    System,
}

impl Group {
    /// A title for docs.
    pub const fn title(self) -> &'static str {
        match self {
            Group::Pbx => "PBX methods",
            Group::Simulation => "Simulation methods (`sim.*`)",
            Group::System => "Introspection and batching (`system.*`)",
        }
    }
}

/// One positional parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamSpec {
    /// Its name, used in fault messages and docs (`callid`).
    pub name: &'static str,
    /// The types it may have on the wire, as signatures advertise them (several
    /// give one signature each). Readers are more liberal, see the crate docs.
    pub types: &'static [XmlRpcType],
    /// Whether it may be left out. Optional parameters come last.
    pub optional: bool,
    /// What it is.
    pub doc: &'static str,
}

/// Everything about one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodSpec {
    /// The method this entry describes.
    pub method: Method,
    /// The name on the wire (`get_calls`, `sim.call`, `system.multicall`).
    pub name: &'static str,
    /// Where it comes from.
    pub group: Group,
    /// Its positional parameters.
    pub params: &'static [ParamSpec],
    /// The types its result may have (several give one signature each).
    pub result: &'static [XmlRpcType],
    /// What the result is.
    pub result_doc: &'static str,
    /// What the method does (`system.methodHelp`).
    pub help: &'static str,
    /// The faults particular to it, with when they happen. Every method may also
    /// answer -32602 for wrong parameters and 1 for an internal error.
    pub faults: &'static [(FaultCode, &'static str)],
    /// Whether its result carries data of any size (a list, a stored value):
    /// in a `system.multicall` whose answer is already full, it is not run.
    pub large_result: bool,
}

impl MethodSpec {
    /// How many parameters it takes: from the required ones to all.
    pub fn arity(&self) -> std::ops::RangeInclusive<usize> {
        let required = self.params.iter().filter(|p| !p.optional).count();
        required..=self.params.len()
    }

    /// Its signatures for `system.methodSignature`: type names, result first; one
    /// signature per arity (optional parameters) and per alternative type.
    pub fn signatures(&self) -> Vec<Vec<&'static str>> {
        let mut out = Vec::new();
        for n in self.arity() {
            let mut sigs: Vec<Vec<&'static str>> =
                self.result.iter().map(|t| vec![t.name()]).collect();
            for param in self.params.iter().take(n) {
                sigs = sigs
                    .into_iter()
                    .flat_map(|sig| {
                        param.types.iter().map(move |t| {
                            let mut sig = sig.clone();
                            sig.push(t.name());
                            sig
                        })
                    })
                    .collect();
            }
            out.extend(sigs);
        }
        out
    }

    /// A one-line synopsis: `park(callid: string, slot?: int) → int`.
    pub fn synopsis(&self) -> String {
        let types = |ts: &[XmlRpcType]| ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(" | ");
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let mark = if p.optional { "?" } else { "" };
                format!("{}{mark}: {}", p.name, types(p.types))
            })
            .collect();
        format!(
            "{}({}) → {}",
            self.name,
            params.join(", "),
            types(self.result)
        )
    }

    /// The text of `system.methodHelp`: the synopsis, then the help.
    pub fn help_text(&self) -> String {
        format!("{}\n\n{}", self.synopsis(), self.help)
    }
}

/// What the table (`crate::table`) generates in this crate: [`Method`] and
/// [`methods()`] here, [`Request`] with its conversions
/// ([`Request::from_call`], [`Request::to_call`], [`Request::method`]) and
/// [`Reply::from_value`]. The pattern names every part of an entry.
macro_rules! method_table {
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
        /// Every method, one variant each; [`Method::spec`] is its entry in the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Method {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant,
            )*
        }

        const COUNT: usize = [$(Method::$variant),*].len();

        static METHODS: [MethodSpec; COUNT] = [$(
            MethodSpec {
                method: Method::$variant,
                name: $name,
                group: Group::$group,
                params: &[
                    $(ParamSpec {
                        name: $pname,
                        types: &[$(XmlRpcType::$ptype),+],
                        optional: false,
                        doc: $pdoc,
                    },)*
                    $(ParamSpec {
                        name: $oname,
                        types: &[$(XmlRpcType::$otype),+],
                        optional: true,
                        doc: $odoc,
                    },)*
                ],
                result: &[$(XmlRpcType::$rtype),+],
                result_doc: $rdoc,
                help: $help,
                faults: &[$($fault),*],
                large_result: $large,
            },
        )*];

        request_enum! {
            []
            $(($variant $name $help) [$($p: $pty, $pname;)*] [$($o: $oty, $oname;)*])*
        }

        impl Request {
            /// The method this is a call of.
            pub fn method(&self) -> Method {
                match self {
                    $(Request::$variant { .. } => Method::$variant,)*
                }
            }

            /// Decodes a call's parameters (the server side).
            ///
            /// Faults: -32601 for a name not in the table; -32602 for a wrong number of
            /// parameters or a parameter of the wrong shape, with a message naming the
            /// method, the parameter's position and name and what was expected, e.g.
            /// `transfer: parameter 2 (destination): expected string, got array`.
            ///
            /// Reading is liberal (see the crate docs): a string may arrive as `<int>`, an
            /// int as digits; an optional parameter given as nil or `""` counts as absent.
            /// Whether a method is *offered* (`sim.*` needs a simulator) is the
            /// server's business (`pbx_handler::Handler`), not this function's.
            pub fn from_call(call: &MethodCall) -> Result<Request, Fault> {
                let spec = method(&call.method_name)
                    .ok_or_else(|| no_such_method(&call.method_name))?;
                let mut params = Params::new(spec, &call.params)?;
                Ok(match spec.method {
                    $(Method::$variant => {
                        $(let $p = params.required(wire::$pkind::read)?;)*
                        $(let $o = params.optional(wire::$okind::read)?;)*
                        Request::$variant { $($p,)* $($o,)* }
                    })*
                })
            }

            /// The XML-RPC call for this request (the client side), written strictly:
            /// ints as `<int>`, strings as `<string>`, optional parameters left out
            /// when absent (an absent one that a present one follows is written as
            /// its stand-in: `""`, or the default where `""` would not do).
            pub fn to_call(&self) -> MethodCall {
                let params = match self {
                    $(Request::$variant { $($p,)* $($o,)* } => {
                        #[allow(unused_mut)]
                        let mut params: Vec<Value> = vec![$(wire::$pkind::write($p)),*];
                        push_optional(&mut params, [
                            $(($o.as_ref().map(wire::$okind::write), wire::$okind::absent)),*
                        ]);
                        params
                    })*
                };
                MethodCall::new(self.method().name(), params)
            }
        }

        impl Reply {
            /// Reads the result of `method` liberally (see "Reading liberally" in
            /// the crate docs).
            pub fn from_value(method: Method, value: &Value) -> Result<Reply, ResultError> {
                Ok(match method {
                    $(Method::$variant => Reply::from($reader(value)?),)*
                })
            }
        }
    };
}

/// [`Request`] itself: a unit variant for a method without parameters, a
/// struct variant for the others.
macro_rules! request_enum {
    ([$($done:tt)*]) => {
        /// One call of an API method, with its parameters decoded: one variant per
        /// method of the table ([`methods()`](crate::methods())), each field one
        /// parameter (an optional one as an `Option`), in order.
        ///
        /// [`Request::from_call`] reads one (the server side), [`Request::to_call`]
        /// writes one (the client side); the wire name comes from the table through
        /// [`Request::method`].
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Request {
            $($done)*
        }
    };
    ([$($done:tt)*] ($variant:ident $name:literal $help:literal) [] [] $($rest:tt)*) => {
        request_enum! {
            [
                $($done)*
                #[doc = concat!("`", $name, "`: ", $help)]
                $variant,
            ]
            $($rest)*
        }
    };
    (
        [$($done:tt)*]
        ($variant:ident $name:literal $help:literal)
        [$($p:ident : $pty:ty, $pname:literal;)*]
        [$($o:ident : $oty:ty, $oname:literal;)*]
        $($rest:tt)*
    ) => {
        request_enum! {
            [
                $($done)*
                #[doc = concat!("`", $name, "`: ", $help)]
                $variant {
                    $(
                        #[doc = concat!("Parameter `", $pname, "`.")]
                        $p: $pty,
                    )*
                    $(
                        #[doc = concat!("Parameter `", $oname, "`, optional.")]
                        $o: Option<$oty>,
                    )*
                },
            ]
            $($rest)*
        }
    };
}

crate::pbx_methods!(method_table);

impl Method {
    /// The method's entry in the table.
    pub fn spec(self) -> &'static MethodSpec {
        // In bounds and in order: checked at compile time below.
        &METHODS[self as usize]
    }

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The method named `name`, if any.
    pub fn from_name(name: &str) -> Option<Method> {
        method(name).map(|spec| spec.method)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every method in the table, in docs order (PBX, simulation, system).
pub fn methods() -> &'static [MethodSpec] {
    &METHODS
}

/// The method named `name` (exact, case-sensitive), if any.
pub fn method(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

use crate::convert::ResultError;
use crate::reply::Reply;
use crate::request::{Params, no_such_method, push_optional, wire};
use crate::table::prelude::*;

// `Method::spec` indexes the table by discriminant: every entry must sit at its
// method's position. Checked when compiling, so the indexing cannot panic.
const _: () = {
    let mut i = 0;
    while i < COUNT {
        assert!(METHODS[i].method as usize == i, "METHODS is out of order");
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for spec in methods() {
            assert_eq!(method(spec.name).map(|m| m.method), Some(spec.method));
            assert_eq!(Method::from_name(spec.name), Some(spec.method));
        }
        assert!(method("no_such").is_none());
    }

    #[test]
    fn only_reads_of_the_pbx_are_large_results() {
        for spec in methods().iter().filter(|m| m.large_result) {
            assert_eq!(spec.group, Group::Pbx, "{}", spec.name);
            assert!(!spec.result.contains(&XmlRpcType::Boolean), "{}", spec.name);
            assert!(spec.name.starts_with("get_") || spec.name.starts_with("dict_get"));
        }
        assert!(Method::GetAll.spec().large_result);
        assert!(!Method::Park.spec().large_result);
    }

    #[test]
    fn optional_params_come_last() {
        for spec in methods() {
            let first_optional = spec.params.iter().position(|p| p.optional);
            if let Some(i) = first_optional {
                assert!(spec.params[i..].iter().all(|p| p.optional), "{}", spec.name);
            }
        }
    }

    #[test]
    fn signatures_expand_optional_params_and_alternatives() {
        let park = Method::Park.spec();
        assert_eq!(
            park.signatures(),
            vec![vec!["int", "string"], vec!["int", "string", "int"]]
        );
        let set = Method::DictSetSerialized.spec();
        assert_eq!(
            set.signatures(),
            vec![
                vec!["boolean", "string", "array"],
                vec!["boolean", "string", "struct"]
            ]
        );
        assert_eq!(Method::GetCalls.spec().signatures(), vec![vec!["array"]]);
        assert_eq!(park.synopsis(), "park(callid: string, slot?: int) → int");
    }
}
