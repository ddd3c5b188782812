//! The server: shared state, the TCP listener, and per-connection tasks.
//!
//! `run` binds the configured addresses, starts the active expire thread, and spawns one Tokio task per
//! client. Each connection reads a batch, executes every complete request in it, and writes all replies
//! with one write (see [`connection`]). Shutdown on SIGINT/SIGTERM or `SHUTDOWN` stops accepting, lets
//! the expire thread finish, and returns.

pub mod client;
pub mod connection;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dashmap::DashMap;
use parking_lot::RwLock;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn, Instrument};

pub use client::{ClientInfo, ClientState};

use crate::config::Config;
use crate::storage::Keyspace;

/// Ferrite's own version, and the Redis version it is compatible with (reported as `redis_version`,
/// since clients such as Sidekiq refuse servers that report an older one).
pub const FERRITE_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REDIS_VERSION: &str = "7.2.4";

#[derive(Default)]
pub struct Stats {
    pub commands: AtomicU64,
    pub connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub dirty: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
}

pub struct Server {
    pub keyspace: Arc<Keyspace>,
    pub config: RwLock<Config>,
    pub stats: Stats,
    /// Connected clients by id, for CLIENT LIST/INFO/KILL and INFO clients.
    pub clients: DashMap<u64, ClientInfo>,
    next_client_id: AtomicU64,
    pub started: Instant,
    pub started_unix: u64,
    pub run_id: String,
    pub tcp_port: AtomicU64,
    shutting_down: AtomicBool,
    shutdown: Notify,
}

impl Server {
    pub fn new(config: Config) -> Arc<Server> {
        let run_id: String = (0..40).map(|_| char::from_digit(rand::random::<u32>() % 16, 16).unwrap_or('0')).collect();
        Arc::new(Server {
            keyspace: Arc::new(Keyspace::new(config.databases)),
            tcp_port: AtomicU64::new(config.port as u64),
            config: RwLock::new(config),
            stats: Stats::default(),
            clients: DashMap::new(),
            next_client_id: AtomicU64::new(1),
            started: Instant::now(),
            started_unix: crate::storage::clock::now_ms() / 1000,
            run_id,
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
        })
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn add_dirty(&self, n: u64) {
        self.stats.dirty.fetch_add(n, Ordering::Relaxed);
    }

    pub fn requirepass(&self) -> Option<String> {
        self.config.read().requirepass.clone()
    }

    /// Asks the server to stop (SHUTDOWN, signals).
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// Binds the configured addresses. Redis's `-` prefix marks an optional address (skipped if unavailable).
pub async fn bind(config: &Config) -> std::io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut last_err = None;
    for addr in &config.bind {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, addr.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let sock: SocketAddr = match format!("{host}:{}", config.port).parse().or_else(|_| format!("[{host}]:{}", config.port).parse()) {
            Ok(s) => s,
            Err(_) => {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("invalid bind address '{addr}'")));
            }
        };
        match TcpListener::bind(sock).await {
            Ok(l) => listeners.push(l),
            Err(e) if optional => warn!("optional bind address {sock} unavailable: {e}"),
            Err(e) => {
                last_err = Some(e);
                break;
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    if listeners.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address could be bound"));
    }
    Ok(listeners)
}

/// Serves clients on `listeners` until shutdown is requested.
pub async fn serve(server: Arc<Server>, listeners: Vec<TcpListener>) {
    if let Some(Ok(addr)) = listeners.first().map(|l| l.local_addr()) {
        server.tcp_port.store(addr.port() as u64, Ordering::Relaxed);
    }
    let stop_expire = Arc::new(AtomicBool::new(false));
    let expire_thread = {
        let ks = server.keyspace.clone();
        let srv = server.clone();
        let srv2 = server.clone();
        let stop = stop_expire.clone();
        std::thread::Builder::new()
            .name("ferrite-expire".into())
            .spawn(move || {
                let span = tracing::info_span!("active_expire");
                let _g = span.enter();
                crate::storage::expire::run(ks, move || srv.config.read().hz, move || srv2.config.read().active_expire, stop)
            })
            .ok()
    };
    for listener in listeners {
        let server = server.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        let server = server.clone();
                        let id = server.next_client_id();
                        let span = tracing::debug_span!("conn", id, %peer);
                        tokio::spawn(connection::handle(server, stream, peer, id).instrument(span));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    while !server.is_shutting_down() {
        server.shutdown.notified().await;
    }
    info!("Ferrite is now ready to exit, bye bye...");
    stop_expire.store(true, Ordering::Relaxed);
    if let Some(t) = expire_thread {
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
}
