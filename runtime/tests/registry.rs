//! The registry from handlers: `join`/`leave`/`members`/`broadcast` and the runtime's own
//! registration around `connect` and `disconnect`, through `TestApp`'s in-memory registry (the
//! production registry code on in-memory tables), and what happens when the registry is off or
//! unreachable on the production dispatch path.

use serde::Deserialize;
use serde_json::{json, Value};
use socket_runtime::events::{self, EventContext};
use socket_runtime::testing::TestApp;
use socket_runtime::{Registry, RegistryError, Response, Router, Socket};

#[derive(Deserialize)]
struct Room {
    room: String,
}

#[derive(Deserialize)]
struct Say {
    room: String,
    text: String,
}

/// A small chat: a name at connect, rooms, messages to a room (or to the others only), and a
/// report of what each broadcast did.
fn chat() -> Router {
    Router::new()
        .on("connect", |_: Value, socket: Socket| async move {
            let Some(name) = socket.query("name").map(str::to_string) else {
                return Ok(Response::new(403));
            };
            socket.set_attribute("name", &name).await?;
            Ok(Response::ok())
        })
        .on("join", |data: Room, socket: Socket| async move {
            socket.join(&data.room).await?;
            let members = socket.member_count(&data.room).await?;
            socket
                .send(&json!({"joined": data.room, "members": members}))
                .await?;
            Ok(())
        })
        .on("leave", |data: Room, socket: Socket| async move {
            socket.leave(&data.room).await?;
            Ok(())
        })
        .on("say", |data: Say, socket: Socket| async move {
            let name = socket
                .attributes(socket.connection_id())
                .await?
                .and_then(|attributes| attributes.get("name").cloned());
            let message = json!({"from": name, "text": data.text});
            let report = socket.broadcast(&data.room, &message).await?;
            socket
                .send(&json!({"delivered": report.delivered, "gone": report.gone}))
                .await?;
            Ok(())
        })
        .on("shout", |data: Say, socket: Socket| async move {
            let report = socket
                .broadcast_except(
                    &data.room,
                    &json!({"shout": data.text}),
                    socket.connection_id(),
                )
                .await?;
            socket.send(&json!({"delivered": report.delivered})).await?;
            Ok(())
        })
        .on("everyone", |data: Value, socket: Socket| async move {
            socket.broadcast_all(&data).await?;
            Ok(())
        })
        .on("where", |_: Value, socket: Socket| async move {
            let mut channels = socket.channels().await?;
            channels.sort();
            socket.send(&json!({"channels": channels})).await?;
            Ok(())
        })
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn connect_registers_with_attributes_and_disconnect_removes_everything() {
    let app = TestApp::new(chat());
    let ada = app.connection("ada-1=");
    assert_eq!(
        ada.connect_with(&[], &[("name", "ada")]).await.status(),
        200
    );
    let registry = app.registry();
    let record = registry
        .connection("ada-1=")
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(record.attributes.get("name"), Some(&json!("ada")));
    assert_eq!(record.source_ip, ada.context().source_ip);
    assert_eq!(registry.connections().await.unwrap(), ["ada-1="]);

    for room in ["lobby", "games"] {
        ada.send_json(&json!({"route": "join", "data": {"room": room}}))
            .await;
    }
    ada.send_json(&json!({"route": "where"})).await;
    assert_eq!(
        ada.received_json().last(),
        Some(&json!({"channels": ["games", "lobby"]}))
    );

    ada.disconnect().await;
    assert_eq!(registry.connection("ada-1=").await.unwrap(), None);
    assert!(registry.members("lobby").await.unwrap().is_empty());
    assert!(registry.channels_of("ada-1=").await.unwrap().is_empty());
    assert!(registry.connections().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_connect_is_not_registered() {
    let app = TestApp::new(chat());
    let anonymous = app.connection("anon");
    assert_eq!(anonymous.connect().await.status(), 403);
    assert_eq!(app.registry().connection("anon").await.unwrap(), None);
    assert!(app.registry().connections().await.unwrap().is_empty());
}

#[tokio::test]
async fn broadcast_reaches_the_room_skips_the_sender_when_asked_and_prunes_the_gone() {
    let app = TestApp::new(chat());
    let names = ["ada", "bo", "cy", "di"];
    let people: Vec<_> = names.iter().map(|name| app.connection(name)).collect();
    for (person, name) in people.iter().zip(names) {
        assert_eq!(
            person.connect_with(&[], &[("name", name)]).await.status(),
            200
        );
    }
    for person in &people[..3] {
        person
            .send_json(&json!({"route": "join", "data": {"room": "lobby"}}))
            .await;
    }
    assert_eq!(
        people[2].received_json(),
        [json!({"joined": "lobby", "members": 3})]
    );
    app.clear();

    people[0]
        .send_json(&json!({"route": "say", "data": {"room": "lobby", "text": "hi"}}))
        .await;
    let message = json!({"from": "ada", "text": "hi"});
    for person in &people[..3] {
        assert!(person.received_json().contains(&message), "{}", person.id());
    }
    assert!(people[3].received().is_empty(), "not in the room");
    assert!(people[0]
        .received_json()
        .contains(&json!({"delivered": 3, "gone": []})));
    app.clear();

    people[0]
        .send_json(&json!({"route": "shout", "data": {"room": "lobby", "text": "hey"}}))
        .await;
    assert_eq!(people[0].received_json(), [json!({"delivered": 2})]);
    assert_eq!(people[1].received_json(), [json!({"shout": "hey"})]);
    app.clear();

    // bo's client vanished without a disconnect: the post answers 410 and bo is pruned.
    app.mark_gone("bo");
    people[0]
        .send_json(&json!({"route": "say", "data": {"room": "lobby", "text": "still there?"}}))
        .await;
    assert!(people[0]
        .received_json()
        .contains(&json!({"delivered": 2, "gone": ["bo"]})));
    assert_eq!(
        sorted(app.registry().members("lobby").await.unwrap()),
        ["ada", "cy"]
    );
    assert_eq!(app.registry().connection("bo").await.unwrap(), None);

    people[2]
        .send_json(&json!({"route": "leave", "data": {"room": "lobby"}}))
        .await;
    assert_eq!(app.registry().members("lobby").await.unwrap(), ["ada"]);

    app.clear();
    people[3]
        .send_json(&json!({"route": "everyone", "data": {"notice": 1}}))
        .await;
    for id in ["ada", "cy", "di"] {
        assert_eq!(app.sent_to(id).len(), 1, "{id}");
    }
}

#[tokio::test]
async fn invalid_channel_names_fail_the_handler_with_the_rule() {
    let app = TestApp::new(
        Router::new().on("join", |data: Room, socket: Socket| async move {
            match socket.join(&data.room).await {
                Err(error @ RegistryError::InvalidChannel { .. }) => {
                    socket.send(&json!({"error": error.to_string()})).await?;
                    Ok(400)
                }
                other => other.map(|()| 200).map_err(Into::into),
            }
        }),
    );
    let ada = app.connection("ada");
    ada.connect().await;
    let response = ada
        .send_json(&json!({"route": "join", "data": {"room": "no spaces"}}))
        .await;
    assert_eq!(response.status(), 400);
    let error = ada.received_json()[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains(socket_runtime::CHANNEL_RULE), "{error}");
}

fn with_context(id: &str) -> EventContext {
    let mut context = EventContext::new(id);
    context.domain_name = "abc.execute-api.eu-west-1.amazonaws.com".into();
    context
}

#[tokio::test]
async fn without_a_table_registry_calls_say_how_to_turn_it_on() {
    // The production path, with SOCKET_REGISTRY_TABLE unset (no test in this binary sets it).
    let router = Router::new().on("join", |data: Room, socket: Socket| async move {
        let error = socket.join(&data.room).await.unwrap_err();
        assert!(matches!(error, RegistryError::Disabled));
        assert!(error.to_string().contains("connections: true"), "{error}");
        Ok(204)
    });
    let context = with_context("c1");
    let event = events::message(
        &context,
        "$default",
        &events::MessageBody::Text(r#"{"route":"join","data":{"room":"lobby"}}"#.into()),
        "m1",
    );
    let answer = router.dispatch(event).await.unwrap();
    assert_eq!(answer.status_code, 204);
}

#[tokio::test]
async fn an_unreachable_registry_does_not_fail_the_connect() {
    // A port nothing listens on: every DynamoDB call fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = socket_runtime::DynamoDb::new(
        &format!("http://127.0.0.1:{closed}"),
        "us-east-1",
        Some(socket_runtime::Credentials::new("testing", "testing")),
    )
    .unwrap();
    let router = Router::new()
        .registry(Registry::new(db, "app-dev-connections"))
        .on(
            "connect",
            |_: Value, _socket: Socket| async move { Ok(200) },
        );
    let event = events::connect(&with_context("c2"), &[], &[]);
    let answer = router.dispatch(event).await.unwrap();
    assert_eq!(answer.status_code, 200);
}
