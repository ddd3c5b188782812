//! One client connection: read a batch, execute every complete request in it, write all replies at once.
//!
//! Pipelined requests therefore cost one read and one write system call per batch, not per command.
//! No lock is held across an `.await`: commands run synchronously between reads and writes.
//! A framing error is answered with Redis's `-ERR Protocol error: ...` and the connection is closed,
//! as Redis does; command errors are ordinary replies and never close the connection.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

use super::{ClientState, Server};
use crate::commands;
use crate::protocol::{encode, Decoder, Limits, Reply};

const READ_CHUNK: usize = 16 * 1024;
/// Above this, the output buffer is flushed before more requests of the same batch are executed.
const OUTPUT_FLUSH_AT: usize = 64 * 1024;

pub async fn handle(server: Arc<Server>, mut stream: TcpStream, peer: SocketAddr, id: u64) {
    let _ = stream.set_nodelay(true);
    let laddr = stream.local_addr().unwrap_or(peer);
    let authenticated = server.requirepass().is_none();
    let mut client = ClientState::new(id, peer, laddr, authenticated);
    server.clients.insert(id, client.info());
    server.stats.connections.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = serve(&server, &mut stream, &mut client).await {
        debug!("connection closed: {e}");
    }
    server.clients.remove(&id);
}

async fn serve(server: &Server, stream: &mut TcpStream, client: &mut ClientState) -> std::io::Result<()> {
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = Decoder::new();
    loop {
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 4 {
            inbuf.reserve(READ_CHUNK);
        }
        let n = stream.read_buf(&mut inbuf).await?;
        if n == 0 {
            return Ok(());
        }
        server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
        let (max_bulk_len, query_limit) = {
            let cfg = server.config.read();
            (cfg.proto_max_bulk_len, cfg.client_query_buffer_limit)
        };
        let mut commands = 0u64;
        loop {
            let limits = Limits { max_bulk_len, auth_required: !client.authenticated };
            match decoder.decode(&mut inbuf, &limits) {
                Ok(Some(argv)) => {
                    commands += 1;
                    let reply = commands::execute(server, client, argv);
                    encode(&reply, client.resp, &mut out);
                    if client.close_after_reply {
                        break;
                    }
                    if out.len() >= OUTPUT_FLUSH_AT {
                        write_out(server, stream, &mut out).await?;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    encode(&Reply::Error(e.to_string()), client.resp, &mut out);
                    client.close_after_reply = true;
                    debug!("protocol error: {e}");
                    break;
                }
            }
        }
        if commands > 0 {
            server.stats.commands.fetch_add(commands, Ordering::Relaxed);
        }
        if client.info_changed {
            client.info_changed = false;
            server.clients.insert(client.id, client.info());
        }
        if !out.is_empty() {
            write_out(server, stream, &mut out).await?;
        }
        if client.close_after_reply || server.is_shutting_down() {
            return Ok(());
        }
        if inbuf.len() as u64 > query_limit {
            debug!("closing client that exceeded the query buffer limit");
            return Ok(());
        }
    }
}

async fn write_out(server: &Server, stream: &mut TcpStream, out: &mut BytesMut) -> std::io::Result<()> {
    stream.write_all(out).await?;
    server.stats.net_output_bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
    out.clear();
    Ok(())
}
