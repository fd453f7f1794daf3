//! The open WebSocket connections, by connection id.
//!
//! A connection is in the registry from the moment `$connect` accepted it until it starts
//! closing; after that `@connections/{id}` answers 410 Gone, as API Gateway does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use socket_protocol::events::EventContext;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

/// What the gateway asks a connection's task to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send a frame to the client; `written` (if any) hears once it is written to the socket.
    Message {
        message: Message,
        written: Option<oneshot::Sender<()>>,
    },
    /// Close the connection with this code and reason.
    Close { code: u16, reason: String },
}

/// The connection is gone (closed or closing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// One client connection.
pub struct Connection {
    pub id: String,
    /// The facts every event of this connection carries.
    pub context: EventContext,
    pub connected_at: SystemTime,
    /// Last message from the client: wall clock (for `@connections` GET) and monotonic (for the
    /// idle timeout).
    last_active: Mutex<(SystemTime, Instant)>,
    outbound: mpsc::UnboundedSender<Outbound>,
}

impl Connection {
    pub fn new(
        context: EventContext,
        connected_at: SystemTime,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Outbound>) {
        let (outbound, receiver) = mpsc::unbounded_channel();
        let connection = Arc::new(Self {
            id: context.connection_id.clone(),
            context,
            connected_at,
            last_active: Mutex::new((connected_at, Instant::now())),
            outbound,
        });
        (connection, receiver)
    }

    /// Records activity from the client.
    pub fn touch(&self) {
        *self.last_active.lock().expect("last_active lock") = (SystemTime::now(), Instant::now());
    }

    pub fn last_active(&self) -> SystemTime {
        self.last_active.lock().expect("last_active lock").0
    }

    pub fn last_active_instant(&self) -> Instant {
        self.last_active.lock().expect("last_active lock").1
    }

    /// Queues a frame for the client.
    pub fn send(&self, message: Message) -> Result<(), Gone> {
        self.outbound
            .send(Outbound::Message {
                message,
                written: None,
            })
            .map_err(|_| Gone)
    }

    /// Sends a frame and waits until it is written to the client's socket: the management API
    /// answers a send only then, so the caller's wake-up never races ahead of the client's, and a
    /// connection that closes first makes the send `Gone`. (A client that stops reading holds the
    /// send only once the kernel's socket buffer is full, far past what any test or page sends.)
    pub async fn deliver(&self, message: Message) -> Result<(), Gone> {
        let (written, delivered) = oneshot::channel();
        self.outbound
            .send(Outbound::Message {
                message,
                written: Some(written),
            })
            .map_err(|_| Gone)?;
        delivered.await.map_err(|_| Gone)
    }

    /// Asks the connection to close; frames queued before are sent first.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Gone> {
        self.outbound
            .send(Outbound::Close {
                code,
                reason: reason.to_string(),
            })
            .map_err(|_| Gone)
    }
}

/// All open connections.
#[derive(Default)]
pub struct Registry {
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl Registry {
    pub fn insert(&self, connection: Arc<Connection>) {
        self.lock().insert(connection.id.clone(), connection);
    }

    pub fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.lock().get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Connection>> {
        self.lock().remove(id)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Connection>>> {
        self.connections.lock().expect("registry lock")
    }
}

/// Counts connections whose lifecycle (handshake to `$disconnect`) has not finished, so that
/// shutdown can wait for every `$disconnect` handler.
pub struct Lifecycles {
    open: watch::Sender<usize>,
}

/// Held by a connection's task; dropping it ends the lifecycle.
pub struct LifecycleGuard {
    open: watch::Sender<usize>,
}

impl Default for Lifecycles {
    fn default() -> Self {
        Self {
            open: watch::channel(0).0,
        }
    }
}

impl Lifecycles {
    pub fn begin(&self) -> LifecycleGuard {
        self.open.send_modify(|open| *open += 1);
        LifecycleGuard {
            open: self.open.clone(),
        }
    }

    /// Waits until every lifecycle has ended.
    pub async fn all_ended(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open == 0).await;
    }
}

impl Drop for LifecycleGuard {
    fn drop(&mut self) {
        self.open.send_modify(|open| *open -= 1);
    }
}
