//! The connection registry from a handler: channels, members, attributes and broadcast on
//! [`Socket`]. On when `SOCKET_REGISTRY_TABLE` is set (`connections: true` in serverless.yml);
//! otherwise every call here fails with [`RegistryError::Disabled`].

use serde::Serialize;
use serde_json::{Map, Value};
use socket_client::{
    broadcast, Audience, BroadcastOptions, BroadcastReport, ConnectionRecord, Frame, Registry,
    RegistryError,
};

use crate::socket::Socket;

impl Socket {
    /// The registry, or [`RegistryError::Disabled`] when it is off.
    pub fn registry(&self) -> Result<&Registry, RegistryError> {
        self.registry_if_on().ok_or(RegistryError::Disabled)
    }

    /// Adds the caller to `channel` (1–128 of `A-Z a-z 0-9 - _ . : @ /`).
    pub async fn join(&self, channel: &str) -> Result<(), RegistryError> {
        self.registry()?.join(self.connection_id(), channel).await
    }

    /// Removes the caller from `channel`.
    pub async fn leave(&self, channel: &str) -> Result<(), RegistryError> {
        self.registry()?.leave(self.connection_id(), channel).await
    }

    /// The connection ids in `channel` (every page); none for an unknown channel.
    pub async fn members(&self, channel: &str) -> Result<Vec<String>, RegistryError> {
        self.registry()?.members(channel).await
    }

    /// How many connections are in `channel`.
    pub async fn member_count(&self, channel: &str) -> Result<usize, RegistryError> {
        self.registry()?.member_count(channel).await
    }

    /// The channels the caller is in.
    pub async fn channels(&self) -> Result<Vec<String>, RegistryError> {
        self.channels_of(self.connection_id()).await
    }

    /// The channels any connection is in.
    pub async fn channels_of(&self, connection_id: &str) -> Result<Vec<String>, RegistryError> {
        self.registry()?.channels_of(connection_id).await
    }

    /// Sets an attribute of the caller (any JSON), readable with [`attributes`](Self::attributes)
    /// by every handler. During `connect` it is kept and written with the connection's record
    /// once `connect` has answered 2xx.
    pub async fn set_attribute<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), RegistryError> {
        let registry = self.registry()?;
        let value = serde_json::to_value(value)?;
        if self.event_type() == "CONNECT" {
            self.pending_attributes().insert(key.to_string(), value);
            return Ok(());
        }
        registry
            .set_attribute(self.connection_id(), key, value)
            .await
    }

    /// A connection's attributes; `None` when it is not registered (it has disconnected). During
    /// `connect`, the caller's are the ones set so far.
    pub async fn attributes(
        &self,
        connection_id: &str,
    ) -> Result<Option<Map<String, Value>>, RegistryError> {
        let registry = self.registry()?;
        if self.event_type() == "CONNECT" && connection_id == self.connection_id() {
            return Ok(Some(self.pending_attributes().clone()));
        }
        registry.attributes(connection_id).await
    }

    /// Sends `message` as JSON to every member of `channel`, the caller included if a member.
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        message: &T,
    ) -> Result<BroadcastReport, RegistryError> {
        let audience = Audience::Channel(channel.to_string());
        self.broadcast_with(&audience, message, &BroadcastOptions::default())
            .await
    }

    /// Sends `message` as JSON to every member of `channel` but `skip_id` (usually the caller's
    /// [`connection_id`](Self::connection_id)).
    pub async fn broadcast_except<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        message: &T,
        skip_id: &str,
    ) -> Result<BroadcastReport, RegistryError> {
        let audience = Audience::Channel(channel.to_string());
        let options = BroadcastOptions::default().skipping(skip_id);
        self.broadcast_with(&audience, message, &options).await
    }

    /// Sends `message` as JSON to every registered connection.
    pub async fn broadcast_all<T: Serialize + ?Sized>(
        &self,
        message: &T,
    ) -> Result<BroadcastReport, RegistryError> {
        self.broadcast_with(&Audience::Everyone, message, &BroadcastOptions::default())
            .await
    }

    /// Sends `message` as JSON to `audience` as `options` say. Members that have gone (410) are
    /// removed from the registry and listed in the report.
    pub async fn broadcast_with<T: Serialize + ?Sized>(
        &self,
        audience: &Audience,
        message: &T,
        options: &BroadcastOptions,
    ) -> Result<BroadcastReport, RegistryError> {
        let registry = self.registry()?;
        let frame = Frame::Text(serde_json::to_string(message)?);
        broadcast(registry, self.management(), audience, &frame, options).await
    }

    /// What the registry records for the caller when its `connect` succeeds.
    pub(crate) fn connection_record(&self) -> ConnectionRecord {
        ConnectionRecord {
            connection_id: self.connection_id().to_string(),
            connected_at_ms: self.connected_at_ms(),
            source_ip: self.source_ip().unwrap_or_default().to_string(),
            user_agent: self.user_agent().unwrap_or_default().to_string(),
            attributes: self.pending_attributes().clone(),
        }
    }
}
