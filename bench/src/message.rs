//! The echo message each server under test takes, and the check that a reply echoes it.
//!
//! `socket` routes on `route` (`$request.body.route`); the peers' apps route on `action`
//! (`$request.body.action`, API Gateway's own example). The shape is a flag so the same load runs
//! against all of them.

use serde_json::{json, Value};

/// How to build an echo request and recognise its reply.
#[derive(Debug, Clone)]
pub struct EchoShape {
    /// The field the server's route selection expression reads.
    pub route_field: String,
    /// The route that echoes.
    pub route: String,
    /// Bytes of padding in each message's data, to make messages of a realistic size.
    pub padding: usize,
}

impl EchoShape {
    /// The data of message `seq` on connection `connection`.
    pub fn data(&self, connection: usize, seq: usize) -> Value {
        json!({ "c": connection, "seq": seq, "pad": "x".repeat(self.padding) })
    }

    /// The frame that asks the server to echo `data`.
    pub fn request(&self, data: &Value) -> String {
        let mut body = serde_json::Map::new();
        body.insert(self.route_field.clone(), Value::String(self.route.clone()));
        body.insert("data".into(), data.clone());
        Value::Object(body).to_string()
    }

    /// Whether `reply` is the echo of `data` (servers send the data back as JSON text).
    pub fn is_echo_of(reply: &str, data: &Value) -> bool {
        serde_json::from_str::<Value>(reply).is_ok_and(|value| &value == data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uses_the_route_field() {
        let shape = EchoShape {
            route_field: "action".into(),
            route: "echo".into(),
            padding: 2,
        };
        let data = shape.data(3, 9);
        let request: Value = serde_json::from_str(&shape.request(&data)).unwrap();
        assert_eq!(request["action"], "echo");
        assert_eq!(request["data"]["seq"], 9);
        assert_eq!(request["data"]["pad"], "xx");
    }

    #[test]
    fn recognises_only_its_own_echo() {
        let shape = EchoShape {
            route_field: "route".into(),
            route: "echo".into(),
            padding: 0,
        };
        let data = shape.data(0, 1);
        assert!(EchoShape::is_echo_of(&data.to_string(), &data));
        assert!(!EchoShape::is_echo_of(&shape.data(0, 2).to_string(), &data));
        assert!(!EchoShape::is_echo_of("not json", &data));
    }
}
