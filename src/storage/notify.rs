//! Keyspace notifications: the event classes of `notify-keyspace-events` and the per-command queue of
//! events waiting to be published.
//!
//! Why it is built this way:
//! * The configured classes live in one atomic word on the [`super::Keyspace`] ([`Notify::flags`]), so
//!   every producer (the [`super::Db`] write path, dispatch, the active expire thread) checks with one
//!   relaxed load, and nothing else happens while notifications are off.
//! * Producers never publish while they hold a shard lock: they append [`Event`]s to the command's
//!   queue ([`Events`]), and dispatch publishes the queue once the command's locks are dropped (the
//!   expire thread publishes after releasing each batch's lock). Order in the queue is the order in
//!   which Redis emits the events.
//! * Generic events come from the `Db` itself (`new` on key creation, `del` when a key is deleted,
//!   `expired` on lazy expiry, `expire`/`persist` when a TTL is set or removed, `keymiss` on a read
//!   miss). The command's own event comes from its table entry (`CommandSpec::event`): the `Db` drops a
//!   [`Event::marker`] in the queue at the first write of each key, and dispatch turns the markers into
//!   the command's event (or drops them when the command changed nothing). Handlers whose events depend
//!   on the outcome (LMOVE, SMOVE, ZADD INCR, RENAME, ...) leave `event` empty and call
//!   `ExecCtx::notify`.
//! * "Changed anything" is the command's dirty count: a handler that found nothing to do (LREM or ZREM
//!   removing nothing, LINSERT without its pivot, SETBIT leaving the bit, XDEL of absent IDs...) puts
//!   the count back as Redis's `server.dirty` would be, which also silences its event. A command that
//!   fails raises no table event. Why markers rather than a call per handler: the table states each
//!   command's event once, and a handler cannot forget it; `Db` already sees every write.
//! * Inside MULTI/EXEC and scripts each nested command resolves its own markers as it finishes, so the
//!   queue keeps Redis's order; the whole queue is published when the outer command ends.

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: expired keys.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: evicted keys.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: key misses (not part of `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module key type events.
pub const MODULE: u32 = 1 << 13;
/// `n`: new keys (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: alias for `g$lshzxetd`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Parses a `notify-keyspace-events` value; `None` on a character Redis does not know.
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// The canonical spelling CONFIG GET shows (Redis's `keyspaceEventsFlagsToString`: `A` when every class
/// of the alias is on, and then `n` is not shown even if set, as in Redis).
pub fn flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// The configured classes, shared by every producer.
#[derive(Default)]
pub struct Notify {
    flags: AtomicU32,
}

impl Notify {
    /// The configured flags (0 when notifications are off).
    #[inline]
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_flags(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    /// Whether an event of `class` would be published at all.
    #[inline]
    pub fn wants(&self, class: u32) -> bool {
        wanted(self.flags(), class)
    }
}

/// Whether `flags` publish events of `class`: the class is on and so is `K` or `E`.
#[inline]
pub fn wanted(flags: u32, class: u32) -> bool {
    flags & class != 0 && flags & (KEYSPACE | KEYEVENT) != 0
}

/// One queued event. A marker (`name` empty) records that the command wrote `key`; dispatch replaces
/// it with the command's own event or drops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub class: u32,
    pub name: &'static str,
    pub db: usize,
    pub key: Bytes,
}

impl Event {
    pub fn marker(db: usize, key: &[u8]) -> Event {
        Event {
            class: 0,
            name: "",
            db,
            key: Bytes::copy_from_slice(key),
        }
    }

    pub fn is_marker(&self) -> bool {
        self.name.is_empty()
    }
}

/// The events of the running command, in emission order.
pub type Events = Vec<Event>;

/// Records that `key` of `db` was written, once per key per command.
pub fn mark_written(events: &mut Events, db: usize, key: &[u8]) {
    if !events
        .iter()
        .any(|e| e.is_marker() && e.db == db && e.key == key)
    {
        events.push(Event::marker(db, key));
    }
}

/// Turns the markers from `from` on into the command's `event` (when it changed anything), or drops
/// them.
pub fn resolve_markers(
    events: &mut Events,
    from: usize,
    event: Option<(u32, &'static str)>,
    changed: bool,
    flags: u32,
) {
    let Some(tail) = events.get_mut(from..) else {
        return;
    };
    if !tail.iter().any(Event::is_marker) {
        return;
    }
    match event {
        Some((class, name)) if changed && wanted(flags, class) => {
            for e in tail.iter_mut().filter(|e| e.is_marker()) {
                e.class = class;
                e.name = name;
            }
        }
        _ => {
            let mut i = from;
            while i < events.len() {
                if events[i].is_marker() {
                    events.remove(i);
                } else {
                    i += 1;
                }
            }
        }
    }
}

/// The two channels an event goes to: `(keyspace channel, keyevent channel)`, each only if enabled.
pub fn channels(flags: u32, e: &Event) -> (Option<Bytes>, Option<Bytes>) {
    let space = (flags & KEYSPACE != 0).then(|| {
        let mut c = format!("__keyspace@{}__:", e.db).into_bytes();
        c.extend_from_slice(&e.key);
        Bytes::from(c)
    });
    let event =
        (flags & KEYEVENT != 0).then(|| Bytes::from(format!("__keyevent@{}__:{}", e.db, e.name)));
    (space, event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_matches_redis() {
        let cases = [
            ("Elm", "lEm"),
            ("g$lshzxetd", "A"),
            ("KEA", "AKE"),
            ("nmK", "nKm"),
            ("EKtdx", "xtdKE"),
            ("", ""),
            ("An", "A"),
            ("gn", "gn"),
            ("AmE", "AEm"),
        ];
        for (input, shown) in cases {
            assert_eq!(
                flags_to_string(parse_flags(input).unwrap()),
                shown,
                "{input}"
            );
        }
        assert_eq!(parse_flags("Q"), None);
    }

    #[test]
    fn markers_become_the_command_event_or_vanish() {
        let on = parse_flags("KEA").unwrap();
        let mut ev = Events::new();
        mark_written(&mut ev, 0, b"k");
        mark_written(&mut ev, 0, b"k");
        ev.push(Event {
            class: GENERIC,
            name: "del",
            db: 0,
            key: Bytes::from_static(b"k"),
        });
        resolve_markers(&mut ev, 0, Some((LIST, "lpop")), true, on);
        let names: Vec<_> = ev.iter().map(|e| e.name).collect();
        assert_eq!(names, ["lpop", "del"]);
        mark_written(&mut ev, 0, b"x");
        resolve_markers(&mut ev, 2, Some((LIST, "lpop")), false, on);
        assert_eq!(ev.len(), 2);
        mark_written(&mut ev, 0, b"x");
        resolve_markers(
            &mut ev,
            0,
            Some((HASH, "hset")),
            true,
            parse_flags("Kl").unwrap(),
        );
        assert_eq!(ev.len(), 2);
    }
}
