//! The chat example: rooms with presence, on socket's connection registry.
//!
//! The wire contract (what the page, the tests and README rely on):
//! - connect with `?name=<name>` (1–32 letters, digits, `-`, `_`); otherwise 403;
//! - `{"route":"join","data":{"room":R}}` → the joiner gets
//!   `{"type":"joined","room":R,"members":<count with the joiner>}`, the others
//!   `{"type":"presence","room":R,"name":N,"event":"join"}`;
//! - `{"route":"say","data":{"room":R,"text":T}}` → every member, the sender too, gets
//!   `{"type":"message","room":R,"from":N,"text":T}`; a non-member gets
//!   `{"type":"error","error":"not_a_member","room":R}`;
//! - `{"route":"leave","data":{"room":R}}` → the others get presence `leave`; a disconnect
//!   leaves every room the same way.

use serde::Deserialize;
use serde_json::{json, Value};
use socket_runtime::{on, run, Error, Socket};

#[derive(Deserialize)]
struct Room {
    room: String,
}

#[derive(Deserialize)]
struct Say {
    room: String,
    text: String,
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The caller's name, recorded by `connect` as a connection attribute.
async fn name_of(socket: &Socket) -> Result<String, Error> {
    let attributes = socket.attributes(socket.connection_id()).await?;
    Ok(attributes
        .and_then(|attributes| attributes.get("name")?.as_str().map(str::to_owned))
        .unwrap_or_default())
}

/// Tells the room's other members that `name` joined or left.
async fn presence(socket: &Socket, room: &str, name: &str, event: &str) -> Result<(), Error> {
    let notice = json!({ "type": "presence", "room": room, "name": name, "event": event });
    socket
        .broadcast_except(room, &notice, socket.connection_id())
        .await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    on("connect", |_: Value, socket: Socket| async move {
        match socket.query("name") {
            Some(name) if valid_name(name) => {
                socket.set_attribute("name", name).await?;
                Ok(200)
            }
            _ => Ok(403),
        }
    });
    on("join", |data: Room, socket: Socket| async move {
        if let Err(error) = socket.join(&data.room).await {
            let reply = json!({ "type": "error", "error": "invalid_room", "room": data.room, "message": error.to_string() });
            socket.send(&reply).await?;
            return Ok(400);
        }
        let members = socket.member_count(&data.room).await?;
        let reply = json!({ "type": "joined", "room": data.room, "members": members });
        socket.send(&reply).await?;
        presence(&socket, &data.room, &name_of(&socket).await?, "join").await?;
        Ok(200)
    });
    on("say", |data: Say, socket: Socket| async move {
        if !socket.channels().await?.contains(&data.room) {
            let reply = json!({ "type": "error", "error": "not_a_member", "room": data.room });
            socket.send(&reply).await?;
            return Ok(403);
        }
        let message = json!({
            "type": "message",
            "room": data.room,
            "from": name_of(&socket).await?,
            "text": data.text,
        });
        socket.broadcast(&data.room, &message).await?;
        Ok(200)
    });
    on("leave", |data: Room, socket: Socket| async move {
        socket.leave(&data.room).await?;
        presence(&socket, &data.room, &name_of(&socket).await?, "leave").await?;
        Ok(200)
    });
    on("disconnect", |_: Value, socket: Socket| async move {
        // The registry forgets this connection after this handler: its rooms are still known here.
        let name = name_of(&socket).await?;
        for room in socket.channels().await? {
            socket.leave(&room).await?;
            presence(&socket, &room, &name, "leave").await?;
        }
        Ok(200)
    });
    run().await
}
