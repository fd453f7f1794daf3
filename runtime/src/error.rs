//! The error type handlers, middleware and [`run`](crate::run) return.

use std::fmt;

/// A boxed error, as `lambda_runtime` and most libraries exchange them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Any error: what a handler or middleware returns with `?`, and what [`run`](crate::run) reports.
///
/// Every `std::error::Error + Send + Sync` converts into it (so `?` works on [`SendError`](crate::SendError),
/// `serde_json::Error`, `std::io::Error`, ...), as do `String`, `&str` and `anyhow::Error`.
/// A handler that returns an error is logged with this message and becomes a Lambda function error (`Socket.HandlerError`): a refused handshake on connect, API Gateway's "Internal server error" frame on a message.
pub struct Error {
    inner: BoxError,
}

impl Error {
    /// An error with only a message: `Err(Error::msg("user not found"))`.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            inner: message.to_string().into(),
        }
    }

    /// The underlying error, e.g. to `downcast_ref::<SendError>()`.
    pub fn as_std(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }

    /// The underlying error, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.inner.downcast_ref::<T>()
    }

    /// The boxed error, for APIs that want one.
    pub fn into_boxed(self) -> BoxError {
        self.inner
    }
}

impl<E: Into<BoxError>> From<E> for Error {
    fn from(error: E) -> Self {
        Self {
            inner: error.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        let mut source = self.inner.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    // `main() -> Result<(), Error>` prints this: keep it the readable message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
