//! The registry's bookkeeping around `connect` and `disconnect`, done by the runtime itself:
//! a connection is recorded once `connect` answered 2xx and removed once `disconnect` ran.
//! A failure is logged and changes nothing else: the connection stays open (unregistered, it is
//! in no channel and gets no broadcast until it reconnects), and records a failed removal left
//! behind expire with their TTL.

use crate::socket::Socket;

/// After `connect` answered `status`: records the connection if it was accepted.
pub(crate) async fn after_connect(socket: &Socket, status: u16) {
    let Some(registry) = socket.registry_if_on() else {
        return;
    };
    if !(200..300).contains(&status) {
        return;
    }
    if let Err(error) = registry.register(&socket.connection_record()).await {
        tracing::error!(
            connection_id = socket.connection_id(),
            %error,
            "could not record the connection in the registry; it stays connected but is in no channel and gets no broadcast until it reconnects"
        );
    }
}

/// After `disconnect` ran, whatever it returned: removes the connection and its memberships.
pub(crate) async fn after_disconnect(socket: &Socket) {
    let Some(registry) = socket.registry_if_on() else {
        return;
    };
    if let Err(error) = registry.unregister(socket.connection_id()).await {
        tracing::error!(
            connection_id = socket.connection_id(),
            %error,
            "could not remove the connection from the registry; its records expire with their TTL"
        );
    }
}
