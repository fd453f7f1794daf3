//! Application state: values given to [`Router::with_state`](crate::Router::with_state) once and
//! shared by every handler and middleware through [`Socket::state`](crate::Socket::state).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// The router's state values, one per type. Each event's `Socket` holds a clone of the outer
/// `Arc`, so sharing it costs a reference count, not an allocation.
#[derive(Clone, Default)]
pub(crate) struct States(Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl States {
    /// Adds `value`, replacing an earlier value of the same type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        Arc::make_mut(&mut self.0).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was added.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref::<T>()
    }
}
