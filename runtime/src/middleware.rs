//! Middleware: code that runs before handlers and may answer in their place.

use std::future::Future;

use crate::error::Error;
use crate::handler::BoxFuture;
use crate::response::{IntoResponse, Response};
use crate::socket::Socket;

/// What a middleware decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Run the next middleware, then the handler.
    Continue,
    /// Answer with this response; later middleware and the handler do not run.
    Respond(Response),
}

impl Flow {
    /// Stops here with `response`: `Flow::respond(401)`.
    pub fn respond(response: impl IntoResponse) -> Self {
        Flow::Respond(response.into_response())
    }
}

/// A registered middleware with its future type erased.
pub(crate) trait ErasedMiddleware: Send + Sync {
    fn call(&self, socket: Socket) -> BoxFuture<Result<Flow, Error>>;
}

impl<F, Fut> ErasedMiddleware for F
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
{
    fn call(&self, socket: Socket) -> BoxFuture<Result<Flow, Error>> {
        Box::pin(self(socket))
    }
}
