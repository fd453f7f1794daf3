//! `socket-runtime`

pub mod events;
mod route_selection;

pub use route_selection::{
    route_selection_expression, select_route, DEFAULT_ROUTE_SELECTION, ROUTE_SELECTION_ENV,
};
