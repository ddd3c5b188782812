//! The server: shared state, the TCP listener, and per-connection tasks.
//!
//! `run` binds the configured addresses, starts the active expire thread, and spawns one Tokio task per
//! client. Each connection reads a batch, executes every complete request in it, and writes all replies
//! with one write (see [`connection`]). Shutdown on SIGINT/SIGTERM or `SHUTDOWN` stops accepting, lets
//! the expire thread finish, and returns.

pub mod blocking;
mod busy_poll;
pub mod client;
pub mod connection;
pub mod cron;
pub mod memory;
pub mod pause;
pub mod pubsub;
pub mod stats;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dashmap::DashMap;
use parking_lot::RwLock;
use tokio::net::TcpListener;
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
    /// Clients blocked on keys.
    pub blocking: blocking::Blocking,
    /// Channels, patterns and their subscribers.
    pub pubsub: pubsub::PubSub,
    /// INFO commandstats/errorstats and the slow log.
    pub command_stats: stats::Stats,
    /// Lua scripts by SHA-1 (EVAL, SCRIPT LOAD).
    pub scripts: crate::scripting::ScriptCache,
    /// `used_memory` and `maxmemory` eviction.
    pub memory: memory::Memory,
    /// CLIENT PAUSE state.
    pub pause: pause::Pause,
    /// INFO's instantaneous metrics, sampled by the cron task.
    pub metrics: cron::Metrics,
    /// LATENCY's event series.
    pub latency: crate::commands::latency::Monitor,
    /// `latency-monitor-threshold` (ms), mirrored for a lock-free read per command.
    latency_threshold_ms: AtomicU64,
    /// Function libraries (FUNCTION LOAD, FCALL).
    pub functions: crate::scripting::functions::Functions,
    /// The running script, BUSY and SCRIPT/FUNCTION KILL.
    pub script_run: crate::scripting::busy::ScriptRun,
    /// `slowlog-log-slower-than`, mirrored here so every command can read it without a lock.
    slowlog_threshold: std::sync::atomic::AtomicI64,
    next_client_id: AtomicU64,
    pub started: Instant,
    pub started_unix: u64,
    pub run_id: String,
    pub tcp_port: AtomicU64,
    shutting_down: AtomicBool,
    /// Flips to true once; waiters use `changed()`, which cannot miss the flip.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Server {
    pub fn new(config: Config) -> Arc<Server> {
        let slowlog_threshold = config.slowlog_log_slower_than;
        let memory = memory::Memory::default();
        memory.sync_config(&config);
        let keyspace = Arc::new(Keyspace::new(config.databases));
        keyspace.notify.set_flags(config.notify_keyspace_events);
        let latency_threshold = config.latency_monitor_threshold;
        let busy_threshold = config.busy_reply_threshold;
        let run_id: String = (0..40)
            .map(|_| char::from_digit(rand::random::<u32>() % 16, 16).unwrap_or('0'))
            .collect();
        let server = Arc::new(Server {
            keyspace,
            tcp_port: AtomicU64::new(config.port as u64),
            config: RwLock::new(config),
            stats: Stats::default(),
            clients: DashMap::new(),
            blocking: blocking::Blocking::default(),
            command_stats: stats::Stats::default(),
            pubsub: pubsub::PubSub::default(),
            scripts: crate::scripting::ScriptCache::default(),
            memory,
            pause: pause::Pause::default(),
            latency: Default::default(),
            metrics: Default::default(),
            latency_threshold_ms: AtomicU64::new(latency_threshold),
            functions: crate::scripting::functions::Functions::default(),
            script_run: crate::scripting::busy::ScriptRun::new(busy_threshold),
            slowlog_threshold: std::sync::atomic::AtomicI64::new(slowlog_threshold),
            next_client_id: AtomicU64::new(1),
            started: Instant::now(),
            started_unix: crate::storage::clock::now_ms() / 1000,
            run_id,
            shutting_down: AtomicBool::new(false),
            shutdown: tokio::sync::watch::Sender::new(false),
        });
        let startup = server.memory.refresh();
        server
            .memory
            .startup
            .store(startup, std::sync::atomic::Ordering::Relaxed);
        server
    }

    /// Microseconds above which a command goes to the slow log (-1: never).
    pub fn slowlog_threshold(&self) -> i64 {
        self.slowlog_threshold.load(Ordering::Relaxed)
    }

    /// Re-reads configuration values that are mirrored outside the config lock.
    pub fn config_changed(&self) {
        let cfg = self.config.read();
        self.slowlog_threshold
            .store(cfg.slowlog_log_slower_than, Ordering::Relaxed);
        self.memory.sync_config(&cfg);
        self.keyspace.notify.set_flags(cfg.notify_keyspace_events);
        self.script_run.set_threshold(cfg.busy_reply_threshold);
        self.latency_threshold_ms
            .store(cfg.latency_monitor_threshold, Ordering::Relaxed);
    }

    /// `latency-monitor-threshold` in milliseconds (0: the latency monitor is off).
    pub fn latency_threshold_ms(&self) -> u64 {
        self.latency_threshold_ms.load(Ordering::Relaxed)
    }

    /// Publishes queued keyspace events (see [`crate::storage::notify`]) to `__keyspace@<db>__:<key>`
    /// and `__keyevent@<db>__:<event>`, as enabled now. Called with no shard lock held.
    pub fn publish_events(&self, events: &[crate::storage::notify::Event]) {
        let flags = self.keyspace.notify.flags();
        if events.is_empty() || flags == 0 {
            return;
        }
        let (hard, soft, soft_seconds) = self.config.read().pubsub_limit();
        let limit = pubsub::OutputLimit {
            hard,
            soft,
            soft_seconds,
        };
        let now = crate::storage::clock::now_ms();
        for e in events.iter().filter(|e| !e.is_marker()) {
            let (space, event) = crate::storage::notify::channels(flags, e);
            if let Some(channel) = space {
                self.pubsub.publish(
                    &channel,
                    &bytes::Bytes::from_static(e.name.as_bytes()),
                    limit,
                    now,
                );
            }
            if let Some(channel) = event {
                self.pubsub.publish(&channel, &e.key, limit, now);
            }
        }
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
        self.shutdown.send_replace(true);
    }

    /// Resolves once shutdown has been requested.
    pub async fn shutdown_requested(&self) {
        let mut rx = self.shutdown.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
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
        let sock: SocketAddr = match format!("{host}:{}", config.port)
            .parse()
            .or_else(|_| format!("[{host}]:{}", config.port).parse())
        {
            Ok(s) => s,
            Err(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("invalid bind address '{addr}'"),
                ));
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
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no address could be bound",
        ));
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
        let srv3 = server.clone();
        let srv4 = server.clone();
        let stop = stop_expire.clone();
        std::thread::Builder::new()
            .name("ferrite-expire".into())
            .spawn(move || {
                let span = tracing::info_span!("active_expire");
                let _g = span.enter();
                crate::storage::expire::run(
                    ks,
                    move || srv.config.read().hz,
                    move || srv2.config.read().active_expire,
                    move || srv4.config.read().active_rehashing,
                    stop,
                    move |events| srv3.publish_events(events),
                )
            })
            .ok()
    };
    tokio::spawn(cron::run(server.clone()));
    let workers = io_threads(&server);
    // Polling needs CPUs to spare: with as many I/O threads as CPUs, polling threads would take
    // them from each other (and from the fork of a save, a lazy-free thread, a client on the same
    // host). Measured on 2 CPUs with io-threads 2: GET -P 16 fell from 0.94 to 0.72 of Redis.
    let poll = std::thread::available_parallelism().is_ok_and(|n| n.get() > workers);
    let mut senders = Vec::with_capacity(workers);
    let mut worker_threads = Vec::with_capacity(workers);
    for i in 0..workers {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let server = server.clone();
        match std::thread::Builder::new()
            .name(format!("ferrite-io-{i}"))
            .spawn(move || io_thread(i, server, rx, poll))
        {
            Ok(t) => {
                senders.push(tx);
                worker_threads.push(t);
            }
            Err(e) => warn!("cannot start I/O thread {i}: {e}"),
        }
    }
    for listener in listeners {
        let server = server.clone();
        let senders = senders.clone();
        tokio::spawn(async move {
            let mut next = 0usize;
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        if senders.is_empty() {
                            return;
                        }
                        let Ok(stream) = stream.into_std() else {
                            continue;
                        };
                        let id = server.next_client_id();
                        next = (next + 1) % senders.len();
                        let _ = senders[next].send(NewConnection { stream, peer, id });
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
    drop(senders);
    server.shutdown_requested().await;
    info!("Ferrite is now ready to exit, bye bye...");
    stop_expire.store(true, Ordering::Relaxed);
    for t in worker_threads {
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    if let Some(t) = expire_thread {
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
}

/// A connection accepted by the listener, handed to an I/O thread.
struct NewConnection {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    id: u64,
}

/// How many I/O threads serve connections: `io-threads`, or one per core but one (at least one).
///
/// Leaving a core to the kernel's network processing and the clients follows Redis's own advice for
/// `io-threads`, and measured better here: on the 2-core test machine with redis-benchmark on the
/// same host, two I/O threads oversubscribed the cores (p99 4.4 ms at -P 16) where one gave 0.4-0.9 ms
/// and higher throughput on most tests.
fn io_threads(server: &Server) -> usize {
    match server.config.read().io_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
        n => n,
    }
}

/// One I/O thread: a runtime with a single worker that owns its connections for their whole life, so
/// a request never wakes another thread (thread-per-core, as measured faster than a work-stealing
/// pool: see the commit that introduced it). Runs until shutdown.
///
/// The runtime is Tokio's multi-thread flavour with one worker rather than the current-thread one
/// for a single reason: its worker can move to another OS thread (`block_in_place`). A script that
/// runs past `busy-reply-threshold` does that from its hook, so this thread's other clients get BUSY
/// and can send SCRIPT KILL while the script goes on (see [`crate::scripting::busy`]).
fn io_thread(
    index: usize,
    server: Arc<Server>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<NewConnection>,
    poll: bool,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(format!("ferrite-io-{index}w"))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            warn!("cannot start an I/O runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
        if poll {
            tokio::spawn(busy_poll::run(server.clone()));
        }
        let stop = server.clone();
        let accept = async move {
            while let Some(NewConnection { stream, peer, id }) = rx.recv().await {
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                    continue;
                };
                let conn = connection::handle(server.clone(), stream, peer, id);
                // A span per connection when debugging; entering one on every poll costs ~2% otherwise.
                if tracing::enabled!(tracing::Level::DEBUG) {
                    tokio::spawn(conn.instrument(tracing::debug_span!("conn", id, %peer)));
                } else {
                    tokio::spawn(conn);
                }
            }
        };
        tokio::select! {
            _ = accept => {}
            _ = stop.shutdown_requested() => {}
        }
    });
}
