//! [`Multicall`]: many calls in one `system.multicall` round trip, each with its
//! own result or fault.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use xmlrpc_codec::{Fault, MethodCall, Struct, Value, from_value, to_params};

use crate::client::Client;
use crate::error::Error;

/// Calls collected to be sent in one `system.multicall` request; made by
/// [`Client::multicall`].
///
/// Each call added returns its index; [`MulticallResults::get`] reads that call's
/// result, typed, or its fault. A fault of one call is that call's error only.
///
/// ```no_run
/// use xmlrpc_client::{Client, Error};
///
/// # async fn run(client: Client) -> Result<(), Error> {
/// let mut batch = client.multicall();
/// let sum = batch.call("add", (2, 3))?;
/// let bad = batch.call("divide", (1, 0))?;
/// let results = batch.send().await?;
///
/// let sum: i32 = results.get(sum)?;
/// match results.get::<f64>(bad) {
///     Ok(q) => println!("{q}"),
///     Err(Error::Fault(fault)) => println!("{sum}, and divide failed: {fault}"),
///     Err(e) => return Err(e),
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a multicall does nothing until `send` is called"]
pub struct Multicall {
    client: Client,
    calls: Vec<MethodCall>,
}

impl Multicall {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            calls: Vec::new(),
        }
    }

    /// Adds a call of `method` with `params` (the parameter list, as
    /// [`Client::call`] takes it) and returns its index in the results.
    ///
    /// Params that do not convert are [`Error::Serialize`], and nothing is added.
    pub fn call<P: Serialize>(&mut self, method: &str, params: P) -> Result<usize, Error> {
        let params = to_params(&params).map_err(Error::Serialize)?;
        Ok(self.push(MethodCall::new(method, params)))
    }

    /// Adds a call of `method` with `params` as they are; returns its index.
    pub fn call_value(&mut self, method: &str, params: Vec<Value>) -> usize {
        self.push(MethodCall::new(method, params))
    }

    /// Adds `call`; returns its index.
    pub fn push(&mut self, call: MethodCall) -> usize {
        self.calls.push(call);
        self.calls.len() - 1
    }

    /// How many calls there are.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Sends every call in one `system.multicall` (an empty multicall sends
    /// nothing) and returns one result per call, in order.
    ///
    /// The request as a whole can still fail: a transport error, HTTP 401, a fault
    /// of `system.multicall` itself (a server without it answers a fault, usually
    /// -32601), or an answer that is not one result per call
    /// ([`Error::InvalidResponse`]).
    pub async fn send(self) -> Result<MulticallResults, Error> {
        if self.calls.is_empty() {
            return Ok(MulticallResults {
                results: Vec::new(),
            });
        }
        let expected = self.calls.len();
        let calls = self.calls.into_iter().map(call_struct).collect();
        let answer = self
            .client
            .call_value("system.multicall", vec![Value::Array(calls)])
            .await?;
        let results = parse_results(answer, expected)?;
        Ok(MulticallResults { results })
    }
}

impl fmt::Debug for Multicall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multicall")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

/// `{methodName, params}`, as `system.multicall` takes each call.
fn call_struct(call: MethodCall) -> Value {
    Value::Struct(Struct::from_iter([
        ("methodName", Value::String(call.method_name)),
        ("params", Value::Array(call.params)),
    ]))
}

/// Each result is a one-element array holding the value, or a fault struct.
fn parse_results(answer: Value, expected: usize) -> Result<Vec<Result<Value, Fault>>, Error> {
    let invalid = |what: String| Error::InvalidResponse(format!("system.multicall: {what}"));
    let Value::Array(items) = answer else {
        return Err(invalid(format!(
            "expected an array of results, got {}",
            type_name(&answer)
        )));
    };
    if items.len() != expected {
        return Err(invalid(format!(
            "{expected} calls sent, {} results received",
            items.len()
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Array(mut one) if one.len() == 1 => Ok(Ok(one.remove(0))),
            Value::Struct(_) => Fault::try_from(item)
                .map(Err)
                .map_err(|e| invalid(format!("result [{i}]: {e}"))),
            other => Err(invalid(format!(
                "result [{i}]: expected a one-element array or a fault struct, got {}",
                type_name(&other)
            ))),
        })
        .collect()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "an int",
        Value::Bool(_) => "a boolean",
        Value::String(_) => "a string",
        Value::Double(_) => "a double",
        Value::DateTime(_) => "a dateTime",
        Value::Base64(_) => "base64",
        Value::Struct(_) => "a struct",
        Value::Array(a) => match a.len() {
            0 => "an empty array",
            _ => "an array of several values",
        },
        Value::Nil => "nil",
        _ => "another type",
    }
}

/// What a [`Multicall`] answered: one result or fault per call, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct MulticallResults {
    results: Vec<Result<Value, Fault>>,
}

impl MulticallResults {
    /// The result of the call at `index`, converted to `R` ([`Value`] to keep it as
    /// it came): that call's fault is [`Error::Fault`], a result that does not fit
    /// [`Error::Deserialize`], an index beyond the calls [`Error::InvalidResponse`].
    pub fn get<R: DeserializeOwned>(&self, index: usize) -> Result<R, Error> {
        match self.results.get(index) {
            Some(Ok(value)) => from_value(value.clone()).map_err(Error::Deserialize),
            Some(Err(fault)) => Err(Error::Fault(fault.clone())),
            None => Err(Error::InvalidResponse(format!(
                "system.multicall: no result at index {index} ({} calls)",
                self.results.len()
            ))),
        }
    }

    /// The result or fault of the call at `index`, as it came.
    pub fn value(&self, index: usize) -> Option<&Result<Value, Fault>> {
        self.results.get(index)
    }

    /// How many results there are (one per call).
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The results in order, as they came.
    pub fn iter(&self) -> std::slice::Iter<'_, Result<Value, Fault>> {
        self.results.iter()
    }

    /// The results in order, as they came.
    pub fn into_inner(self) -> Vec<Result<Value, Fault>> {
        self.results
    }
}

impl IntoIterator for MulticallResults {
    type Item = Result<Value, Fault>;
    type IntoIter = std::vec::IntoIter<Result<Value, Fault>>;

    fn into_iter(self) -> Self::IntoIter {
        self.results.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_faults_are_read_per_call() {
        let answer = Value::Array(vec![
            Value::Array(vec![Value::Int(5)]),
            Fault::new(4, "no").to_value(),
        ]);
        let results = parse_results(answer, 2).unwrap();
        assert_eq!(results, [Ok(Value::Int(5)), Err(Fault::new(4, "no"))]);
    }

    #[test]
    fn answers_of_the_wrong_shape_are_invalid_responses() {
        let cases = [
            (Value::Int(1), 1, "expected an array of results, got an int"),
            (Value::Array(vec![]), 1, "1 calls sent, 0 results received"),
            (
                Value::Array(vec![Value::Array(vec![Value::Int(1), Value::Int(2)])]),
                1,
                "result [0]: expected a one-element array or a fault struct",
            ),
            (
                Value::Array(vec![Value::Struct(Struct::new())]),
                1,
                "result [0]: not a fault",
            ),
        ];
        for (answer, expected, says) in cases {
            let err = parse_results(answer, expected).unwrap_err();
            assert!(
                matches!(err, Error::InvalidResponse(ref m) if m.contains(says)),
                "{err:?} should say {says:?}"
            );
        }
    }

    #[test]
    fn get_tells_fault_shape_and_index_apart() {
        let results = MulticallResults {
            results: vec![Ok(Value::String("x".into())), Err(Fault::new(-1, "gone"))],
        };
        assert_eq!(results.get::<String>(0).unwrap(), "x");
        assert!(matches!(results.get::<i32>(0), Err(Error::Deserialize(_))));
        assert!(matches!(results.get::<Value>(1), Err(Error::Fault(f)) if f.code == -1));
        assert!(matches!(
            results.get::<Value>(2),
            Err(Error::InvalidResponse(_))
        ));
    }
}
