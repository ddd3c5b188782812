//! Pub/sub: who listens to which channel or pattern, and delivery to them.
//!
//! Channels live in a `DashMap` (sharded, so PUBLISH on different channels does not contend); patterns
//! in a small locked list. Each subscribed connection owns an unbounded queue of [`Message`]s that its
//! connection task drains into the socket. A message holds `Bytes` handles, so fanning one payload out to
//! 10,000 subscribers copies no payload bytes.
//!
//! A slow subscriber cannot grow memory without bound: every subscriber counts the bytes queued for it,
//! and `client-output-buffer-limit pubsub <hard> <soft> <seconds>` applies as in Redis: over the hard
//! limit, or over the soft limit for longer than the given seconds, the subscriber is disconnected.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use parking_lot::RwLock;
use tokio::sync::mpsc;

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum Message {
    Message {
        channel: Bytes,
        payload: Bytes,
    },
    PMessage {
        pattern: Bytes,
        channel: Bytes,
        payload: Bytes,
    },
    SMessage {
        channel: Bytes,
        payload: Bytes,
    },
    /// A MONITOR line (already formatted, ASCII).
    Monitor(Bytes),
}

impl Message {
    /// Approximate bytes this message occupies in the subscriber's output buffer.
    pub fn size(&self) -> usize {
        match self {
            Message::Message { channel, payload } | Message::SMessage { channel, payload } => {
                channel.len() + payload.len() + 40
            }
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => pattern.len() + channel.len() + payload.len() + 50,
            Message::Monitor(line) => line.len() + 3,
        }
    }
}

/// `client-output-buffer-limit pubsub` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// One subscribed connection, as publishers see it.
#[derive(Debug)]
pub struct Subscriber {
    pub client_id: u64,
    tx: mpsc::UnboundedSender<Message>,
    /// Bytes queued and not yet written.
    pending: AtomicUsize,
    /// Milliseconds since the epoch when `pending` first exceeded the soft limit (0 = below it).
    soft_since: AtomicU64,
    /// Set when the subscriber exceeded its limit: the connection closes.
    killed: AtomicBool,
}

impl Subscriber {
    pub fn new(client_id: u64) -> (Arc<Subscriber>, mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let s = Subscriber {
            client_id,
            tx,
            pending: AtomicUsize::new(0),
            soft_since: AtomicU64::new(0),
            killed: AtomicBool::new(false),
        };
        (Arc::new(s), rx)
    }

    /// The connection wrote `n` bytes of queued messages.
    pub fn delivered(&self, n: usize) {
        let _ = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(n))
            });
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Bytes queued for this subscriber and not yet written (CLIENT LIST's `omem`).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Queues `m` unless the subscriber is over its output limit (then it is marked for disconnection).
    /// Returns whether the message was queued.
    fn send(&self, m: Message, limit: OutputLimit, now_ms: u64) -> bool {
        if self.is_killed() {
            return false;
        }
        let size = m.size();
        let pending = self.pending.fetch_add(size, Ordering::Relaxed) + size;
        if limit.hard > 0 && pending as u64 > limit.hard {
            self.killed.store(true, Ordering::Relaxed);
            return false;
        }
        if limit.soft > 0 && pending as u64 > limit.soft {
            let since = self.soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since.store(now_ms, Ordering::Relaxed);
            } else if now_ms.saturating_sub(since) > limit.soft_seconds * 1000 {
                self.killed.store(true, Ordering::Relaxed);
                return false;
            }
        } else {
            self.soft_since.store(0, Ordering::Relaxed);
        }
        self.tx.send(m).is_ok()
    }
}

type Subscribers = Vec<Arc<Subscriber>>;

#[derive(Default)]
pub struct PubSub {
    channels: DashMap<Bytes, Subscribers, ahash::RandomState>,
    shard_channels: DashMap<Bytes, Subscribers, ahash::RandomState>,
    patterns: RwLock<Vec<(Bytes, Subscribers)>>,
    pattern_count: AtomicUsize,
    monitors: RwLock<Subscribers>,
    monitor_count: AtomicUsize,
}

/// Queues `make()` (handles to the same bytes, never a copy of the payload) on every subscriber of
/// `list`; returns how many took it.
fn fan_out(
    list: &[Arc<Subscriber>],
    limit: OutputLimit,
    now_ms: u64,
    make: impl Fn() -> Message,
) -> usize {
    list.iter()
        .filter(|s| s.send(make(), limit, now_ms))
        .count()
}

fn add(list: &mut Subscribers, s: &Arc<Subscriber>) {
    if !list.iter().any(|x| Arc::ptr_eq(x, s)) {
        list.push(s.clone());
    }
}

fn remove_from(
    map: &DashMap<Bytes, Subscribers, ahash::RandomState>,
    channel: &[u8],
    s: &Arc<Subscriber>,
) {
    let empty = match map.get_mut(channel) {
        Some(mut list) => {
            list.retain(|x| !Arc::ptr_eq(x, s));
            list.is_empty()
        }
        None => false,
    };
    if empty {
        map.remove_if(channel, |_, l| l.is_empty());
    }
}

impl PubSub {
    pub fn subscribe(&self, channel: &Bytes, s: &Arc<Subscriber>, shard: bool) {
        let map = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        add(&mut map.entry(channel.clone()).or_default(), s);
    }

    pub fn unsubscribe(&self, channel: &[u8], s: &Arc<Subscriber>, shard: bool) {
        remove_from(
            if shard {
                &self.shard_channels
            } else {
                &self.channels
            },
            channel,
            s,
        );
    }

    pub fn psubscribe(&self, pattern: &Bytes, s: &Arc<Subscriber>) {
        let mut p = self.patterns.write();
        match p.iter_mut().find(|(pat, _)| pat == pattern) {
            Some((_, list)) => add(list, s),
            None => p.push((pattern.clone(), vec![s.clone()])),
        }
        self.pattern_count.store(p.len(), Ordering::Relaxed);
    }

    pub fn punsubscribe(&self, pattern: &[u8], s: &Arc<Subscriber>) {
        let mut p = self.patterns.write();
        if let Some(i) = p.iter().position(|(pat, _)| &pat[..] == pattern) {
            p[i].1.retain(|x| !Arc::ptr_eq(x, s));
            if p[i].1.is_empty() {
                p.swap_remove(i);
            }
        }
        self.pattern_count.store(p.len(), Ordering::Relaxed);
    }

    /// Delivers to subscribers of `channel` and of matching patterns; returns how many received it.
    pub fn publish(
        &self,
        channel: &Bytes,
        payload: &Bytes,
        limit: OutputLimit,
        now_ms: u64,
    ) -> usize {
        let mut n = 0;
        if let Some(list) = self.channels.get(&channel[..]) {
            n += fan_out(&list, limit, now_ms, || Message::Message {
                channel: channel.clone(),
                payload: payload.clone(),
            });
        }
        if self.pattern_count.load(Ordering::Relaxed) > 0 {
            for (pattern, list) in self.patterns.read().iter() {
                if crate::glob::matches(pattern, channel, false) {
                    n += fan_out(list, limit, now_ms, || Message::PMessage {
                        pattern: pattern.clone(),
                        channel: channel.clone(),
                        payload: payload.clone(),
                    });
                }
            }
        }
        n
    }

    /// SPUBLISH: subscribers of the shard channel.
    pub fn spublish(
        &self,
        channel: &Bytes,
        payload: &Bytes,
        limit: OutputLimit,
        now_ms: u64,
    ) -> usize {
        self.shard_channels.get(&channel[..]).map_or(0, |list| {
            fan_out(&list, limit, now_ms, || Message::SMessage {
                channel: channel.clone(),
                payload: payload.clone(),
            })
        })
    }

    pub fn add_monitor(&self, s: &Arc<Subscriber>) {
        let mut m = self.monitors.write();
        add(&mut m, s);
        self.monitor_count.store(m.len(), Ordering::Relaxed);
    }

    pub fn remove_monitor(&self, s: &Arc<Subscriber>) {
        let mut m = self.monitors.write();
        m.retain(|x| !Arc::ptr_eq(x, s));
        self.monitor_count.store(m.len(), Ordering::Relaxed);
    }

    /// True if any client runs MONITOR (dispatch formats lines only then).
    #[inline]
    pub fn monitoring(&self) -> bool {
        self.monitor_count.load(Ordering::Relaxed) > 0
    }

    /// Sends a MONITOR line to every monitor.
    pub fn feed_monitors(&self, line: Bytes) {
        let no_limit = OutputLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
        for s in self.monitors.read().iter() {
            s.send(Message::Monitor(line.clone()), no_limit, 0);
        }
    }

    /// Active channels (or shard channels) matching `pattern`.
    pub fn channels(&self, pattern: Option<&[u8]>, shard: bool) -> Vec<Bytes> {
        let map = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        map.iter()
            .filter(|e| pattern.is_none_or(|p| crate::glob::matches(p, e.key(), false)))
            .map(|e| e.key().clone())
            .collect()
    }

    pub fn numsub(&self, channel: &[u8], shard: bool) -> usize {
        let map = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        map.get(channel).map_or(0, |l| l.len())
    }

    pub fn numpat(&self) -> usize {
        self.pattern_count.load(Ordering::Relaxed)
    }
}

/// One MONITOR line as Redis formats it: `<unix time with microseconds> [<db> <client>] "arg" ...`,
/// each argument escaped as `sdscatrepr` does.
pub fn monitor_line(now_us: u64, db: usize, peer: &str, argv: &crate::protocol::Argv) -> Bytes {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(64);
    let _ = write!(
        s,
        "{}.{:06} [{db} {peer}]",
        now_us / 1_000_000,
        now_us % 1_000_000
    );
    let redact = argv
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case(b"AUTH"));
    let mut hello_auth_left = 0;
    for (i, a) in argv.iter().enumerate() {
        s.push(' ');
        if (redact && i > 0) || hello_auth_left > 0 {
            s.push_str("\"(redacted)\"");
            hello_auth_left -= (hello_auth_left > 0) as usize;
            continue;
        }
        if i > 0 && argv[0].eq_ignore_ascii_case(b"HELLO") && a.eq_ignore_ascii_case(b"AUTH") {
            hello_auth_left = 2;
        }
        s.push('"');
        for &c in a.iter() {
            match c {
                b'\\' => s.push_str("\\\\"),
                b'"' => s.push_str("\\\""),
                b'\n' => s.push_str("\\n"),
                b'\r' => s.push_str("\\r"),
                b'\t' => s.push_str("\\t"),
                7 => s.push_str("\\a"),
                8 => s.push_str("\\b"),
                c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
                c => {
                    let _ = write!(s, "\\x{c:02x}");
                }
            }
        }
        s.push('"');
    }
    Bytes::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: OutputLimit = OutputLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    };

    #[test]
    fn fan_out_shares_the_payload() {
        let ps = PubSub::default();
        let mut rxs = Vec::new();
        for id in 0..100 {
            let (s, rx) = Subscriber::new(id);
            ps.subscribe(&Bytes::from_static(b"news"), &s, false);
            rxs.push((s, rx));
        }
        let payload = Bytes::from(vec![7u8; 1000]);
        assert_eq!(
            ps.publish(&Bytes::from_static(b"news"), &payload, NO_LIMIT, 0),
            100
        );
        for (_, rx) in rxs.iter_mut() {
            match rx.try_recv().unwrap() {
                Message::Message { payload: p, .. } => assert_eq!(p.as_ptr(), payload.as_ptr()),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn patterns_and_limits() {
        let ps = PubSub::default();
        let (s, mut rx) = Subscriber::new(1);
        ps.psubscribe(&Bytes::from_static(b"h?llo"), &s);
        assert_eq!(
            ps.publish(
                &Bytes::from_static(b"hello"),
                &Bytes::from_static(b"x"),
                NO_LIMIT,
                0
            ),
            1
        );
        assert!(matches!(rx.try_recv().unwrap(), Message::PMessage { .. }));
        let hard = OutputLimit {
            hard: 1000,
            soft: 0,
            soft_seconds: 0,
        };
        let big = Bytes::from(vec![0u8; 600]);
        assert_eq!(ps.publish(&Bytes::from_static(b"hallo"), &big, hard, 0), 1);
        assert_eq!(ps.publish(&Bytes::from_static(b"hallo"), &big, hard, 0), 0);
        assert!(s.is_killed());
        ps.punsubscribe(b"h?llo", &s);
        assert_eq!(ps.numpat(), 0);
    }
}
