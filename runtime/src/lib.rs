//! `socket-runtime`
