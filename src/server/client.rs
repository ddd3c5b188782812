//! Per-connection client state, and the summary of it kept in the server's client registry.

use std::net::SocketAddr;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Notify;

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
    /// Memory was over `maxmemory` (and nothing could be freed) when the current command started.
    pub pre_command_oom: bool,
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
    /// Full name of the last command run (`client|list`), for CLIENT LIST's `cmd=`.
    pub last_command_name: &'static str,
    /// Shared with the registry: last activity, last command, kill switch.
    pub live: Arc<ClientLive>,
    /// The last top-level command run (a one-entry lookup cache for dispatch).
    pub last_command: Option<&'static crate::commands::CommandSpec>,
    /// CLIENT REPLY: what happens to this client's replies.
    pub reply_mode: ReplyMode,
    /// CLIENT NO-EVICT ON: excluded from client eviction (shown as flag `e`).
    pub no_evict: bool,
    /// CLIENT NO-TOUCH ON: this client's reads leave keys' LRU/idle time alone (flag `T`).
    pub no_touch: bool,
}

/// CLIENT REPLY's state, as Redis's `CLIENT_REPLY_OFF` / `_SKIP` / `_SKIP_NEXT` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    /// No reply is sent until CLIENT REPLY ON.
    Off,
    /// The next command's reply is dropped (set by CLIENT REPLY SKIP, whose own reply is dropped too).
    SkipNext,
    /// This command's reply is dropped.
    Skip,
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
            live: Arc::default(),
            last_command_name: "",
            retrying_block: false,
            pre_command_oom: false,
            subscriber: None,
            monitor: false,
            new_messages: None,
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            multi: None,
            watch: None,
            in_exec: false,
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
        }
    }

    /// Whether the reply to the command just run goes out, and CLIENT REPLY SKIP's bookkeeping:
    /// a skip covers exactly the command after CLIENT REPLY SKIP.
    pub fn reply_allowed(&mut self) -> bool {
        match self.reply_mode {
            ReplyMode::On => true,
            ReplyMode::Off => false,
            ReplyMode::Skip => {
                self.reply_mode = ReplyMode::On;
                false
            }
            ReplyMode::SkipNext => {
                self.reply_mode = ReplyMode::Skip;
                false
            }
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
        let mut flags = String::new();
        if self.monitor {
            flags.push('O');
        }
        if self.subscriptions() + self.shard_channels.len() > 0 {
            flags.push('P');
        }
        if self.multi.is_some() {
            flags.push('x');
        }
        if self.close_after_reply {
            flags.push('c');
        }
        if self.no_evict {
            flags.push('e');
        }
        if self.no_touch {
            flags.push('T');
        }
        ClientInfo {
            live: self.live.clone(),
            flags,
            sub: self.channels.len(),
            psub: self.patterns.len(),
            ssub: self.shard_channels.len(),
            multi: self.multi.as_ref().map_or(-1, |m| m.queue.len() as i64),
            multi_mem: self.multi.as_ref().map_or(0, |m| {
                m.queue
                    .iter()
                    .map(|q| q.argv.iter().map(|a| a.len() as u64).sum::<u64>())
                    .sum()
            }),
            argv_mem: 0,
            request_len: 0,
            subscriber: self.subscriber.clone(),
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
    /// What changes on every request (idle time, last command) and the kill switch.
    pub live: Arc<ClientLive>,
    pub flags: String,
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
    /// Queued commands inside MULTI, -1 outside.
    pub multi: i64,
    /// Bytes of the queued commands' arguments (`multi-mem`).
    pub multi_mem: u64,
    /// Bytes of the arguments of the command running now (`argv-mem`): only the client asking
    /// CLIENT LIST/INFO is running one.
    pub argv_mem: u64,
    /// The size of that request as received (it is still in the query buffer).
    pub request_len: u64,
    /// The client's message queue once it subscribed or ran MONITOR (`oll`/`omem`).
    pub subscriber: Option<Arc<super::pubsub::Subscriber>>,
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

/// The part of a client's state others read while it runs: updated with relaxed stores per batch.
#[derive(Debug, Default)]
pub struct ClientLive {
    /// Unix milliseconds of the last request.
    pub last_interaction_ms: AtomicU64,
    /// Name of the last command run (a static string from the command table), or "NULL".
    last_command: parking_lot::Mutex<&'static str>,
    killed: AtomicBool,
    kill: Notify,
    /// True while the client waits in a blocking command.
    pub blocked: AtomicBool,
    /// CLIENT UNBLOCK's request: 0 none, 1 as if timed out, 2 with an error.
    unblock_mode: std::sync::atomic::AtomicU8,
    unblock: Notify,
    /// Buffer sizes for CLIENT LIST, stored by the connection once per batch (relaxed stores to
    /// this client's own cache line): see [`Buffers`].
    pub buffers: Buffers,
    /// The socket's file descriptor (`fd=`).
    pub fd: AtomicU64,
}

/// What CLIENT LIST reports about a connection's buffers.
#[derive(Debug, Default)]
pub struct Buffers {
    /// Bytes received and not yet executed (`qbuf`), and the room left before the buffer grows.
    pub qbuf: AtomicU64,
    pub qbuf_free: AtomicU64,
    /// Bytes of the request being executed (`argv-mem`).
    pub argv_mem: AtomicU64,
    /// The reply buffer's size (`rbs`) and the replies waiting in it (`obl`).
    pub rbs: AtomicU64,
    pub obl: AtomicU64,
}

impl Buffers {
    /// Records the buffers' state (called by the connection once per batch).
    pub fn store(&self, qbuf: usize, qbuf_cap: usize, rbs: usize, obl: usize) {
        self.qbuf.store(qbuf as u64, Ordering::Relaxed);
        self.qbuf_free
            .store(qbuf_cap.saturating_sub(qbuf) as u64, Ordering::Relaxed);
        self.rbs.store(rbs as u64, Ordering::Relaxed);
        self.obl.store(obl as u64, Ordering::Relaxed);
    }
}

impl ClientLive {
    pub fn touch(&self, now_ms: u64, command: Option<&'static str>) {
        self.last_interaction_ms.store(now_ms, Ordering::Relaxed);
        if let Some(c) = command {
            *self.last_command.lock() = c;
        }
    }

    pub fn last_command(&self) -> &'static str {
        let c = *self.last_command.lock();
        if c.is_empty() {
            "NULL"
        } else {
            c
        }
    }

    /// CLIENT KILL: the connection closes as soon as it notices (between requests or while blocked).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        // Every waiter: the connection keeps one for its whole life, and a blocked or paused client
        // waits on a second one.
        self.kill.notify_waiters();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// CLIENT UNBLOCK: true if the client was blocked (it then stops waiting).
    pub fn unblock(&self, with_error: bool) -> bool {
        if !self.blocked.load(Ordering::Relaxed) {
            return false;
        }
        self.unblock_mode
            .store(if with_error { 2 } else { 1 }, Ordering::Relaxed);
        self.unblock.notify_one();
        true
    }

    /// Resolves when CLIENT UNBLOCK asks; returns true for the error form.
    pub async fn unblocked(&self) -> bool {
        loop {
            match self.unblock_mode.swap(0, Ordering::Relaxed) {
                1 => return false,
                2 => return true,
                _ => self.unblock.notified().await,
            }
        }
    }

    /// Resolves once the client has been killed.
    pub async fn killed(&self) {
        // Register first, then check the flag: a kill between the two still wakes this waiter
        // (`notify_waiters` stores no permit for later ones).
        let notified = self.kill.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.killed.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}
