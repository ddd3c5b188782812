//! One client connection: read a batch, execute every complete request in it, write all replies at once.
//!
//! Pipelined requests therefore cost one read and one write system call per batch, not per command.
//! No lock is held across an `.await`: commands run synchronously between reads and writes.
//! A framing error is answered with Redis's `-ERR Protocol error: ...` and the connection is closed,
//! as Redis does; command errors are ordinary replies and never close the connection.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tracing::debug;

use super::blocking::Waiter;
use super::pubsub::Message;
use super::{ClientState, Server};
use crate::commands::{self, BlockOn, Outcome};
use crate::protocol::{encode, Decoder, Limits, Reply};
use tokio::sync::mpsc;

/// The first read's size, and the smallest a connection's reads shrink back to.
const READ_CHUNK: usize = 16 * 1024;
/// The largest read of small requests: a quarter of the smallest `client-query-buffer-limit`
/// (1 MB), so a burst of small pipelined requests read at once is never taken for one over the limit.
const READ_MAX: usize = 256 * 1024;
const _: () = assert!(READ_MAX * 4 <= 1024 * 1024, "see READ_MAX");
/// An argument at least this long is read up to its end (Redis's `PROTO_MBULK_BIG_ARG`)...
const BIG_ARG: usize = 32 * 1024;
/// ... in reads of at most this much.
const BIG_READ_MAX: usize = 1024 * 1024;

/// How much a connection's next read may take.
///
/// Redis 7 reads as much as its query buffer has room for and grows that buffer greedily, so a
/// client that sends faster than it is served is read in large pieces (one read per 16 pipelined
/// 10 KB SETs, measured). Reads here start at [`READ_CHUNK`], double each time one comes back full,
/// up to [`READ_MAX`], and halve when one brings less than a quarter of what it could. The rest of
/// an argument of [`BIG_ARG`] bytes or more is read as one piece, as Redis does.
#[derive(Debug)]
struct ReadSize {
    room: usize,
}

impl ReadSize {
    fn new() -> Self {
        ReadSize { room: READ_CHUNK }
    }

    /// Bytes the next read may take, given what is still to come of the argument being received.
    fn next(&self, bulk_remaining: usize) -> usize {
        if bulk_remaining >= BIG_ARG {
            bulk_remaining.min(BIG_READ_MAX)
        } else {
            self.room
        }
    }

    /// Learns from a read of `n` bytes that was allowed `limit`.
    fn update(&mut self, n: usize, limit: usize) {
        if limit != self.room {
            // A big argument's read says nothing about the requests around it.
            return;
        }
        if n >= limit {
            self.room = (self.room * 2).min(READ_MAX);
        } else if n < self.room / 4 {
            self.room = (self.room / 2).max(READ_CHUNK);
        }
    }
}

/// Requests decoded, prefetched and run together: enough to overlap the memory loads of a pipelined
/// batch (redis-benchmark -P 16 sends 16), few enough that what was loaded first is still in cache
/// when its request runs.
const WINDOW: usize = 16;
/// Output smaller than this waits for the other ready connections' turn before it is written.
const BURST_REPLY_MAX: usize = 8 * 1024;
/// Above this, the output buffer is flushed before more requests of the same batch are executed.
const OUTPUT_FLUSH_AT: usize = 64 * 1024;

/// Redis's accept-time checks: `maxclients`, then protected mode. `Some(error)` refuses the
/// connection with that error line.
fn refuse(server: &Server, peer: &SocketAddr) -> Option<crate::error::CmdError> {
    let (maxclients, protected, nopass) = {
        let cfg = server.config.read();
        (
            cfg.maxclients,
            cfg.protected_mode,
            cfg.requirepass.is_none(),
        )
    };
    if server.clients.len() as u64 >= maxclients {
        return Some(crate::error::CmdError::MaxClients);
    }
    if protected && nopass && !peer.ip().to_canonical().is_loopback() {
        return Some(crate::error::CmdError::ProtectedMode);
    }
    None
}

/// `tcp-keepalive`: SO_KEEPALIVE with the idle time Redis uses (probes every third of it, 3 probes).
fn set_keepalive(stream: &TcpStream, secs: u64) {
    if secs == 0 {
        return;
    }
    let idle = std::time::Duration::from_secs(secs);
    let ka = socket2::TcpKeepalive::new().with_time(idle);
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
    let ka = ka
        .with_interval(std::time::Duration::from_secs((secs / 3).max(1)))
        .with_retries(3);
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&ka) {
        debug!("cannot set tcp-keepalive: {e}");
    }
}

pub async fn handle(server: Arc<Server>, mut stream: TcpStream, peer: SocketAddr, id: u64) {
    if let Some(e) = refuse(&server, &peer) {
        let line = format!("-{e}\r\n");
        let _ = stream.write_all(line.as_bytes()).await;
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        return;
    }
    let _ = stream.set_nodelay(true);
    set_keepalive(&stream, server.config.read().tcp_keepalive);
    let laddr = stream.local_addr().unwrap_or(peer);
    let authenticated = server.requirepass().is_none();
    let mut client = ClientState::new(id, peer, laddr, authenticated);
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        client
            .live
            .fd
            .store(stream.as_raw_fd() as u64, Ordering::Relaxed);
    }
    client.live.touch(crate::storage::clock::now_ms(), None);
    server.clients.insert(id, client.info());
    server.stats.connections.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = serve(&server, &mut stream, &mut client).await {
        debug!("connection closed: {e}");
    }
    commands::transaction::unwatch_all(&server, &mut client);
    commands::pubsub::unsubscribe_all(&server, &mut client);
    server.clients.remove(&id);
}

async fn serve(
    server: &Server,
    stream: &mut TcpStream,
    client: &mut ClientState,
) -> std::io::Result<()> {
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = Decoder::new();
    let mut read_size = ReadSize::new();
    // The requests of the current window (kept to reuse its allocation).
    let mut batch: Vec<crate::protocol::Argv> = Vec::with_capacity(WINDOW);
    client
        .live
        .buffers
        .store(0, inbuf.capacity(), out.capacity(), 0);
    // Pub/sub messages for this client, once it has subscribed to something.
    let mut messages: Option<mpsc::UnboundedReceiver<Message>> = None;
    // One kill-notification future for the connection's life: creating one per read registered and
    // unregistered a waiter (a lock and two list operations) on every request.
    let live = client.live.clone();
    let killed = live.killed();
    tokio::pin!(killed);
    loop {
        let most = read_size.next(decoder.bulk_remaining(inbuf.len()));
        if inbuf.capacity() - inbuf.len() < most {
            // Once the requests of the previous read are dropped this reuses the same allocation.
            inbuf.reserve(most);
        }
        let mut room = (&mut inbuf).limit(most);
        let n = match messages.as_mut() {
            None => tokio::select! {
                biased;
                _ = &mut killed => return Ok(()),
                r = stream.read_buf(&mut room) => r?,
            },
            Some(rx) => {
                tokio::select! {
                    biased;
                    _ = &mut killed => return Ok(()),
                    r = stream.read_buf(&mut room) => r?,
                    m = rx.recv() => {
                        if let Some(m) = m {
                            deliver(server, stream, client, rx, m, &mut out).await?;
                        }
                        continue;
                    }
                }
            }
        };
        if n == 0 {
            return Ok(());
        }
        read_size.update(n, most);
        server
            .stats
            .net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        let (max_bulk_len, query_limit) = {
            let cfg = server.config.read();
            (cfg.proto_max_bulk_len, cfg.client_query_buffer_limit)
        };
        // As Redis checks it after each read, before parsing: what is still unparsed (the arguments
        // of a request in progress read so far do not count).
        if (inbuf.len() - decoder.parsed()) as u64 > query_limit {
            debug!("closing client that exceeded the query buffer limit");
            return Ok(());
        }
        let mut commands = 0u64;
        let mut now = crate::storage::clock::now_ms();
        'frames: loop {
            // Decode a window of requests, start loading the keys they name, then run them. Before
            // AUTH the decoding limits depend on each request's outcome, so requests go one by one.
            let window = if client.authenticated { WINDOW } else { 1 };
            let mut proto_err = None;
            while batch.len() < window {
                let limits = Limits {
                    max_bulk_len,
                    auth_required: !client.authenticated,
                };
                match decoder.decode(&mut inbuf, &limits) {
                    Ok(Some(argv)) => batch.push(argv),
                    Ok(None) => break,
                    Err(e) => {
                        proto_err = Some(e);
                        break;
                    }
                }
            }
            let more = batch.len() == window && proto_err.is_none();
            if batch.len() > 1 {
                commands::prefetch(server, client.db, &batch);
            }
            let mut requests = std::mem::take(&mut batch);
            for mut argv in requests.drain(..) {
                commands += 1;
                if server.pause.maybe_active() {
                    if !wait_pause(server, stream, client, &argv, &mut out).await? {
                        return Ok(());
                    }
                    now = crate::storage::clock::now_ms();
                }
                let outcome = commands::execute(server, client, &mut argv, now);
                decoder.recycle(argv);
                let reply = match outcome {
                    Outcome::Reply(r) => r,
                    Outcome::Block { argv, db, on } => {
                        // Replies so far go out before the client waits.
                        if !out.is_empty() {
                            write_out(server, stream, &mut out).await?;
                        }
                        match wait_blocked(server, stream, client, &mut inbuf, argv, db, on).await?
                        {
                            Some(r) => r,
                            None => return Ok(()),
                        }
                    }
                };
                if client.reply_mode == super::client::ReplyMode::On || client.reply_allowed() {
                    encode(&reply, client.resp, &mut out);
                }
                if client.close_after_reply {
                    break 'frames;
                }
                if out.len() >= OUTPUT_FLUSH_AT {
                    write_out(server, stream, &mut out).await?;
                    // As Redis writes at most 64 KB to a client per pass of its event loop: a batch
                    // of large replies lets the other ready connections run between its writes, or
                    // their requests wait behind all of it (GET of 10 KB values -P 16: p99 4.0 ms
                    // without this, 1.1 ms with it; Redis 2.4).
                    tokio::task::yield_now().await;
                }
            }
            batch = requests;
            if let Some(e) = proto_err {
                encode(&Reply::Error(e.to_string()), client.resp, &mut out);
                client.close_after_reply = true;
                debug!("protocol error: {e}");
                break;
            }
            if !more {
                break;
            }
        }
        if commands > 0 {
            super::busy_poll::activity();
            server.stats.commands.fetch_add(commands, Ordering::Relaxed);
            client.live.touch(now, Some(client.last_command_name));
        }
        if client.live.is_killed() {
            return Ok(());
        }
        if let Some(rx) = client.new_messages.take() {
            messages = Some(rx);
        }
        if client.subscriber.as_ref().is_some_and(|s| s.is_killed()) {
            debug!("closing a subscriber over its output buffer limit");
            return Ok(());
        }
        if client.info_changed {
            client.info_changed = false;
            server.clients.insert(client.id, client.info());
        }
        if !out.is_empty() {
            // Small replies: let every other connection that is ready read and run its requests
            // first, then write, so the replies of one pass go out in a burst, as Redis writes them
            // all before it sleeps. A client process reading many connections is then woken once
            // per burst instead of once per reply (a wake-up is a cross-CPU interrupt and a
            // reschedule: 18% of ZADD -P 16 was spent in them). A large reply goes at once, while
            // it is still in the cache (LRANGE of 300 elements -P 16: 30% slower when held back).
            if out.len() < BURST_REPLY_MAX {
                tokio::task::yield_now().await;
            }
            write_out(server, stream, &mut out).await?;
        }
        if inbuf.is_empty() && inbuf.capacity() > 4 * READ_MAX {
            // What a big argument grew is not kept once it is done with (Redis trims in its cron).
            inbuf = BytesMut::with_capacity(READ_CHUNK);
        }
        client
            .live
            .buffers
            .store(inbuf.len(), inbuf.capacity(), out.capacity(), out.len());
        if client.close_after_reply || server.is_shutting_down() {
            return Ok(());
        }
    }
}

/// Holds a request while CLIENT PAUSE applies to it (replies so far go out first). False if the
/// connection must close meanwhile (killed, or the server shuts down).
async fn wait_pause(
    server: &Server,
    stream: &mut TcpStream,
    client: &ClientState,
    argv: &crate::protocol::Argv,
    out: &mut BytesMut,
) -> std::io::Result<bool> {
    let now = crate::storage::clock::now_ms();
    match server.pause.current(now) {
        Some(mode) if commands::held_by_pause(client, argv, mode) => {}
        _ => return Ok(true),
    }
    if !out.is_empty() {
        write_out(server, stream, out).await?;
    }
    let live = client.live.clone();
    tokio::select! {
        _ = server.pause.wait(|m| commands::held_by_pause(client, argv, m)) => Ok(true),
        _ = live.killed() => Ok(false),
        _ = server.shutdown_requested() => Ok(false),
    }
}

async fn write_out(
    server: &Server,
    stream: &mut TcpStream,
    out: &mut BytesMut,
) -> std::io::Result<()> {
    stream.write_all(out).await?;
    server
        .stats
        .net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    out.clear();
    Ok(())
}

/// Waits, holding no lock, until a key the client blocked on is ready, its timeout passes, or the client
/// disconnects (then `None`). Meanwhile further pipelined requests are read into `inbuf` but not run,
/// as in Redis. On wake-up the request runs again; if another client took the element first, the
/// client waits again at the head of the queue.
async fn wait_blocked(
    server: &Server,
    stream: &mut TcpStream,
    client: &mut ClientState,
    inbuf: &mut BytesMut,
    argv: crate::protocol::Argv,
    db: usize,
    on: BlockOn,
) -> std::io::Result<Option<Reply>> {
    // CLIENT UNBLOCK only acts on a client that is waiting.
    let live = client.live.clone();
    live.blocked.store(true, Ordering::Relaxed);
    let result = wait_until_served(server, stream, client, inbuf, argv, db, on).await;
    live.blocked.store(false, Ordering::Relaxed);
    result
}

async fn wait_until_served(
    server: &Server,
    stream: &mut TcpStream,
    client: &mut ClientState,
    inbuf: &mut BytesMut,
    argv: crate::protocol::Argv,
    db: usize,
    on: BlockOn,
) -> std::io::Result<Option<Reply>> {
    let waiter = Waiter::with_kind(client.id, on.shared);
    let deadline = on
        .timeout_ms
        .map(|ms| Instant::now() + std::time::Duration::from_millis(ms));
    let query_limit = server.config.read().client_query_buffer_limit;
    let mut at_head = false;
    loop {
        server.blocking.register(db, &on.keys, &waiter, at_head);
        // Run again once registered: a push between the first run and the registration would
        // otherwise be missed.
        let mut again = argv.clone();
        client.retrying_block = true;
        let outcome =
            commands::execute(server, client, &mut again, crate::storage::clock::now_ms());
        client.retrying_block = false;
        match outcome {
            Outcome::Reply(r) => {
                server.blocking.unregister(db, &on.keys, &waiter);
                // The key may hold more: let the next blocked client look. A shared waiter took
                // nothing, and the others were woken with it.
                if !on.shared {
                    for k in &on.keys {
                        server.blocking.wake_first(db, k);
                    }
                }
                return Ok(Some(r));
            }
            Outcome::Block { .. } => {}
        }
        let woken = loop {
            tokio::select! {
                _ = waiter.woken() => break true,
                _ = sleep_until(deadline) => break false,
                _ = server.shutdown_requested() => {
                    server.blocking.unregister(db, &on.keys, &waiter);
                    return Ok(None);
                }
                _ = client.live.killed() => {
                    server.blocking.unregister(db, &on.keys, &waiter);
                    return Ok(None);
                }
                with_error = client.live.unblocked() => {
                    server.blocking.unregister(db, &on.keys, &waiter);
                    return Ok(Some(if with_error {
                        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
                    } else {
                        on.timeout_reply
                    }));
                }
                r = stream.read_buf(inbuf) => {
                    let n = r?;
                    if n == 0 || inbuf.len() as u64 > query_limit {
                        server.blocking.unregister(db, &on.keys, &waiter);
                        return Ok(None);
                    }
                }
            }
        };
        server.blocking.unregister(db, &on.keys, &waiter);
        if !woken {
            return Ok(Some(on.timeout_reply));
        }
        at_head = true;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Writes a published message (and any others already queued) to a subscriber, as push frames in
/// RESP3 and arrays in RESP2. Closes the connection if the subscriber went over its output limit.
async fn deliver(
    server: &Server,
    stream: &mut TcpStream,
    client: &mut ClientState,
    rx: &mut mpsc::UnboundedReceiver<Message>,
    first: Message,
    out: &mut BytesMut,
) -> std::io::Result<()> {
    let Some(sub) = client.subscriber.clone() else {
        return Ok(());
    };
    if sub.is_killed() {
        return Err(std::io::Error::other(
            "subscriber over its output buffer limit",
        ));
    }
    let mut next = Some(first);
    let mut sizes = 0;
    while let Some(m) = next.take() {
        sizes += m.size();
        let frame = match m {
            Message::Monitor(line) => {
                // MONITOR lines are status replies in both protocols.
                let text = String::from_utf8_lossy(&line).into_owned();
                encode(&Reply::Status(text), client.resp, out);
                if out.len() >= OUTPUT_FLUSH_AT {
                    break;
                }
                next = rx.try_recv().ok();
                continue;
            }
            Message::Message { channel, payload } => {
                vec![
                    Reply::bulk_str("message"),
                    Reply::Bulk(channel),
                    Reply::Bulk(payload),
                ]
            }
            Message::SMessage { channel, payload } => {
                vec![
                    Reply::bulk_str("smessage"),
                    Reply::Bulk(channel),
                    Reply::Bulk(payload),
                ]
            }
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => vec![
                Reply::bulk_str("pmessage"),
                Reply::Bulk(pattern),
                Reply::Bulk(channel),
                Reply::Bulk(payload),
            ],
        };
        encode(&Reply::Push(frame), client.resp, out);
        if out.len() >= OUTPUT_FLUSH_AT {
            break;
        }
        next = rx.try_recv().ok();
    }
    // A subscriber that stopped reading blocks this write; it is closed once publishers find it over
    // its output buffer limit.
    let write = write_out(server, stream, out);
    tokio::pin!(write);
    loop {
        tokio::select! {
            r = &mut write => {
                r?;
                break;
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                if sub.is_killed() {
                    return Err(std::io::Error::other("subscriber over its output buffer limit"));
                }
            }
        }
    }
    sub.delivered(sizes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_grow_while_they_come_back_full_and_shrink_when_they_do_not() {
        let mut r = ReadSize::new();
        assert_eq!(r.next(0), READ_CHUNK);
        let mut sizes = vec![];
        for _ in 0..8 {
            let most = r.next(0);
            r.update(most, most);
            sizes.push(r.next(0));
        }
        assert_eq!(sizes[0], 2 * READ_CHUNK);
        assert_eq!(*sizes.last().unwrap(), READ_MAX);
        // A read that brings a third of its room keeps the size; a small one halves it.
        r.update(READ_MAX / 3, READ_MAX);
        assert_eq!(r.next(0), READ_MAX);
        r.update(100, READ_MAX);
        assert_eq!(r.next(0), READ_MAX / 2);
        for _ in 0..10 {
            let most = r.next(0);
            r.update(10, most);
        }
        assert_eq!(r.next(0), READ_CHUNK);
    }

    #[test]
    fn a_big_argument_is_read_to_its_end_in_bounded_pieces() {
        let mut r = ReadSize::new();
        assert_eq!(r.next(BIG_ARG - 1), READ_CHUNK);
        assert_eq!(r.next(BIG_ARG + 5), BIG_ARG + 5);
        assert_eq!(r.next(100 << 20), BIG_READ_MAX);
        // Filling a big argument's read does not grow the reads of small requests.
        r.update(BIG_ARG + 5, BIG_ARG + 5);
        assert_eq!(r.next(0), READ_CHUNK);
    }
}
