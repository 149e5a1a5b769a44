//! [`Context`]: what a handler knows of the request beyond its parameters.

/// The per-request context a handler registered with
/// [`Router::method_with_context`](crate::Router::method_with_context) receives: the
/// request's [`http::Extensions`], where an authentication layer puts the caller
/// (or axum's `ConnectInfo` its address).
///
/// The HTTP service ([`Router::into_service`](crate::Router::into_service)) moves
/// the request's extensions here; [`Router::handle`](crate::Router::handle) takes
/// one you build. Each call of a `system.multicall` gets its own copy.
///
/// ```
/// use xmlrpc_server::Context;
///
/// #[derive(Clone)]
/// struct User(String);
///
/// let mut ctx = Context::new();
/// ctx.insert(User("alice".into()));
/// assert_eq!(ctx.get::<User>().map(|u| u.0.as_str()), Some("alice"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Context {
    extensions: http::Extensions,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context holding `extensions` (an HTTP request's, usually).
    pub fn from_extensions(extensions: http::Extensions) -> Self {
        Self { extensions }
    }

    /// The value of type `T`, if one was inserted.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// Inserts `value`, returning the value of the same type it replaces.
    pub fn insert<T: Clone + Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        self.extensions.insert(value)
    }

    /// All the extensions.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// All the extensions, to change.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }
}

impl From<http::Extensions> for Context {
    fn from(extensions: http::Extensions) -> Self {
        Self::from_extensions(extensions)
    }
}
