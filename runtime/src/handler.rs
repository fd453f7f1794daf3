//! Type erasure for handlers: any `Fn(T, Socket) -> impl Future<Output = Result<R, Error>>`.

use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::response::{IntoResponse, Response};
use crate::socket::Socket;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How a handler call ended, when it did not produce a response.
pub(crate) enum Failure {
    /// `data` did not deserialize into the handler's type.
    InvalidData(serde_json::Error),
    /// The handler returned an error.
    Failed(Error),
}

/// A registered handler with its data type erased.
pub(crate) trait ErasedHandler: Send + Sync {
    fn call(&self, data: Value, socket: Socket) -> BoxFuture<Result<Response, Failure>>;
}

/// Wraps a typed handler function.
pub(crate) struct TypedHandler<F, T> {
    function: F,
    _data: std::marker::PhantomData<fn(T)>,
}

impl<F, T> TypedHandler<F, T> {
    pub(crate) fn new(function: F) -> Self {
        Self {
            function,
            _data: std::marker::PhantomData,
        }
    }
}

impl<F, T, Fut, R> ErasedHandler for TypedHandler<F, T>
where
    F: Fn(T, Socket) -> Fut + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    Fut: Future<Output = Result<R, Error>> + Send + 'static,
    R: IntoResponse + 'static,
{
    fn call(&self, data: Value, socket: Socket) -> BoxFuture<Result<Response, Failure>> {
        let data = match serde_json::from_value::<T>(data) {
            Ok(data) => data,
            Err(error) => return Box::pin(async move { Err(Failure::InvalidData(error)) }),
        };
        let future = (self.function)(data, socket);
        Box::pin(async move {
            match future.await {
                Ok(response) => Ok(response.into_response()),
                Err(error) => Err(Failure::Failed(error)),
            }
        })
    }
}
