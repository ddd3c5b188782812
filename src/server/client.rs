//! Per-connection client state, and the summary of it kept in the server's client registry.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::protocol::Protocol;

/// What a connection knows about itself. Only its own task touches it.
pub struct ClientState {
    pub id: u64,
    pub db: usize,
    pub resp: Protocol,
    pub name: Option<Bytes>,
    pub authenticated: bool,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    /// Set by QUIT (and fatal errors): the connection closes once pending replies are written.
    pub close_after_reply: bool,
    pub created_ms: u64,
    /// Set by commands that change what CLIENT LIST shows; the connection then refreshes the registry.
    pub info_changed: bool,
    /// True while a blocked client re-runs its command after a wake-up: a key that now holds another
    /// type then means "nothing yet" (Redis keeps such a client blocked), not WRONGTYPE.
    pub retrying_block: bool,
    /// This client as publishers see it, once it has subscribed to anything.
    pub subscriber: Option<std::sync::Arc<super::pubsub::Subscriber>>,
    /// The receiving end of the subscriber's queue, until the connection task takes it.
    pub new_messages: Option<tokio::sync::mpsc::UnboundedReceiver<super::pubsub::Message>>,
    /// Subscribed channels, patterns and shard channels, in subscription order.
    pub channels: Vec<Bytes>,
    pub patterns: Vec<Bytes>,
    pub shard_channels: Vec<Bytes>,
    /// True once the client ran MONITOR.
    pub monitor: bool,
    /// The open transaction between MULTI and EXEC/DISCARD.
    pub multi: Option<crate::commands::transaction::MultiState>,
    /// Keys this client WATCHes.
    pub watch: Option<crate::commands::transaction::WatchState>,
    /// True while EXEC runs the queued requests (blocking commands then answer at once).
    pub in_exec: bool,
    /// The last top-level command run (a one-entry lookup cache for dispatch).
    pub last_command: Option<&'static crate::commands::CommandSpec>,
}

impl ClientState {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, authenticated: bool) -> ClientState {
        ClientState {
            id,
            db: 0,
            resp: Protocol::Resp2,
            name: None,
            authenticated,
            addr,
            laddr,
            lib_name: None,
            lib_ver: None,
            close_after_reply: false,
            created_ms: crate::storage::clock::now_ms(),
            info_changed: false,
            last_command: None,
            retrying_block: false,
            subscriber: None,
            monitor: false,
            new_messages: None,
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            multi: None,
            watch: None,
            in_exec: false,
        }
    }

    /// Channel and pattern subscriptions (what SUBSCRIBE/PSUBSCRIBE replies count).
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// True while RESP2 restricts the client to subscription commands.
    pub fn in_subscribed_mode(&self) -> bool {
        self.resp == Protocol::Resp2 && (self.subscriptions() + self.shard_channels.len()) > 0
    }

    pub fn info(&self) -> ClientInfo {
        ClientInfo {
            id: self.id,
            addr: self.addr,
            laddr: self.laddr,
            name: self.name.clone(),
            db: self.db,
            resp: if self.resp == Protocol::Resp3 { 3 } else { 2 },
            lib_name: self.lib_name.clone(),
            lib_ver: self.lib_ver.clone(),
            created_ms: self.created_ms,
        }
    }
}

/// The registry's copy of a client's visible state (CLIENT LIST, INFO clients).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub name: Option<Bytes>,
    pub db: usize,
    pub resp: u8,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    pub created_ms: u64,
}
