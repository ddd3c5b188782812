//! Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH
//! SPUBLISH and the PUBSUB container.
//!
//! Subscription replies are push frames (RESP3) or arrays (RESP2), one per channel; messages are queued
//! on the subscriber (see [`crate::server::pubsub`]) and written by its connection task.

use bytes::Bytes;

use super::table::{flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::server::pubsub::{OutputLimit, Subscriber};

const SUB: u64 = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const SHARD_CHANNELS: &[KeySpec] = &[KeySpec::range(1, -1, 1, ks::NOT_KEY)];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "subscribe", group: Group::PubSub, arity: -2, flags: SUB, docs: docs("Listens for messages published to channels.", "2.0.0", "O(N) where N is the number of channels to subscribe to."), handler: subscribe, ..CommandSpec::DEFAULT },
    CommandSpec { name: "unsubscribe", group: Group::PubSub, arity: -1, flags: SUB, docs: docs("Stops listening to messages posted to channels.", "2.0.0", "O(N) where N is the number of channels to unsubscribe."), handler: unsubscribe, ..CommandSpec::DEFAULT },
    CommandSpec { name: "psubscribe", group: Group::PubSub, arity: -2, flags: SUB, docs: docs("Listens for messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to subscribe to."), handler: psubscribe, ..CommandSpec::DEFAULT },
    CommandSpec { name: "punsubscribe", group: Group::PubSub, arity: -1, flags: SUB, docs: docs("Stops listening to messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to unsubscribe."), handler: punsubscribe, ..CommandSpec::DEFAULT },
    CommandSpec { name: "ssubscribe", group: Group::PubSub, arity: -2, flags: SUB, keys: SHARD_CHANNELS, docs: docs("Listens for messages published to shard channels.", "7.0.0", "O(N) where N is the number of shard channels to subscribe to."), handler: ssubscribe, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sunsubscribe", group: Group::PubSub, arity: -1, flags: SUB, keys: SHARD_CHANNELS, docs: docs("Stops listening to messages posted to shard channels.", "7.0.0", "O(N) where N is the number of shard channels to unsubscribe."), handler: sunsubscribe, ..CommandSpec::DEFAULT },
    CommandSpec { name: "publish", group: Group::PubSub, arity: 3, flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, docs: docs("Posts a message to a channel.", "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client)."), handler: publish, ..CommandSpec::DEFAULT },
    CommandSpec { name: "spublish", group: Group::PubSub, arity: 3, flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, keys: &[KeySpec::one(1, ks::NOT_KEY)], docs: docs("Post a message to a shard channel", "7.0.0", "O(N) where N is the number of clients subscribed to the receiving shard channel."), handler: spublish, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pubsub", group: Group::PubSub, arity: -2, docs: docs("A container for Pub/Sub commands.", "2.8.0", "Depends on subcommand."), subcommands: PUBSUB_SUBCOMMANDS, ..CommandSpec::DEFAULT },
];

const INTROSPECT: u64 = PUBSUB | LOADING | STALE;

#[rustfmt::skip]
static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "pubsub|channels", group: Group::PubSub, arity: -2, flags: INTROSPECT, docs: docs("Returns the active channels.", "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)"), handler: pubsub_channels, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pubsub|numsub", group: Group::PubSub, arity: -2, flags: INTROSPECT, docs: docs("Returns a count of subscribers to channels.", "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels"), handler: pubsub_numsub, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pubsub|numpat", group: Group::PubSub, arity: 2, flags: INTROSPECT, docs: docs("Returns a count of unique pattern subscriptions.", "2.8.0", "O(1)"), handler: pubsub_numpat, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pubsub|shardchannels", group: Group::PubSub, arity: -2, flags: INTROSPECT, docs: docs("Returns the active shard channels.", "7.0.0", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."), handler: pubsub_shardchannels, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pubsub|shardnumsub", group: Group::PubSub, arity: -2, flags: INTROSPECT, docs: docs("Returns the count of subscribers of shard channels.", "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"), handler: pubsub_shardnumsub, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pubsub|help", group: Group::PubSub, arity: 2, flags: LOADING | STALE, docs: docs("Returns helpful text about the different subcommands.", "6.2.0", "O(1)"), handler: pubsub_help, ..CommandSpec::DEFAULT },
];

/// The client's subscriber handle, created on its first subscription.
fn subscriber(ctx: &mut ExecCtx<'_>) -> std::sync::Arc<Subscriber> {
    if let Some(s) = &ctx.client.subscriber {
        return s.clone();
    }
    let (s, rx) = Subscriber::new(ctx.client.id);
    ctx.client.subscriber = Some(s.clone());
    ctx.client.new_messages = Some(rx);
    s
}

fn confirm(kind: &'static str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk_str(kind),
        Reply::opt_bulk(name),
        Reply::Int(count as i64),
    ])
}

#[derive(Clone, Copy)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

fn subscribe_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    kind: Kind,
) -> Result<Reply, CmdError> {
    let s = subscriber(ctx);
    let ps = &ctx.server.pubsub;
    let mut out = Vec::new();
    for name in args.by_ref() {
        // A subscription lives on: its name is copied out of the request.
        let name = Bytes::copy_from_slice(name);
        let c = &mut *ctx.client;
        let (list, word) = match kind {
            Kind::Channel => (&mut c.channels, "subscribe"),
            Kind::Pattern => (&mut c.patterns, "psubscribe"),
            Kind::Shard => (&mut c.shard_channels, "ssubscribe"),
        };
        if !list.contains(&name) {
            list.push(name.clone());
            match kind {
                Kind::Channel => ps.subscribe(&name, &s, false),
                Kind::Pattern => ps.psubscribe(&name, &s),
                Kind::Shard => ps.subscribe(&name, &s, true),
            }
        }
        let count = match kind {
            Kind::Shard => c.shard_channels.len(),
            _ => c.subscriptions(),
        };
        out.push(confirm(word, Some(name), count));
    }
    ctx.client.info_changed = true;
    Ok(Reply::Multi(out))
}

fn unsubscribe_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    kind: Kind,
) -> Result<Reply, CmdError> {
    let word = match kind {
        Kind::Channel => "unsubscribe",
        Kind::Pattern => "punsubscribe",
        Kind::Shard => "sunsubscribe",
    };
    let names: Vec<Bytes> = if args.is_empty() {
        match kind {
            Kind::Channel => ctx.client.channels.clone(),
            Kind::Pattern => ctx.client.patterns.clone(),
            Kind::Shard => ctx.client.shard_channels.clone(),
        }
    } else {
        args.rest_shared()
    };
    let count_of = |c: &crate::server::ClientState| match kind {
        Kind::Shard => c.shard_channels.len(),
        _ => c.subscriptions(),
    };
    if names.is_empty() {
        return Ok(Reply::Multi(vec![confirm(
            word,
            None,
            count_of(ctx.client),
        )]));
    }
    let mut out = Vec::new();
    for name in names {
        let c = &mut *ctx.client;
        let list = match kind {
            Kind::Channel => &mut c.channels,
            Kind::Pattern => &mut c.patterns,
            Kind::Shard => &mut c.shard_channels,
        };
        if let Some(pos) = list.iter().position(|x| *x == name) {
            list.remove(pos);
            if let Some(s) = &c.subscriber {
                let ps = &ctx.server.pubsub;
                match kind {
                    Kind::Channel => ps.unsubscribe(&name, s, false),
                    Kind::Pattern => ps.punsubscribe(&name, s),
                    Kind::Shard => ps.unsubscribe(&name, s, true),
                }
            }
        }
        out.push(confirm(word, Some(name), count_of(ctx.client)));
    }
    ctx.client.info_changed = true;
    Ok(Reply::Multi(out))
}

/// Drops every subscription of `client` (RESET, disconnect).
pub fn unsubscribe_all(server: &crate::server::Server, client: &mut crate::server::ClientState) {
    let Some(s) = client.subscriber.clone() else {
        return;
    };
    for c in client.channels.drain(..) {
        server.pubsub.unsubscribe(&c, &s, false);
    }
    for p in client.patterns.drain(..) {
        server.pubsub.punsubscribe(&p, &s);
    }
    for c in client.shard_channels.drain(..) {
        server.pubsub.unsubscribe(&c, &s, true);
    }
}

/// `SUBSCRIBE channel [channel ...]` → one `subscribe` confirmation per channel.
fn subscribe(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    subscribe_generic(ctx, args, Kind::Channel)
}

/// `UNSUBSCRIBE [channel ...]` → one `unsubscribe` confirmation per channel (all if none named).
fn unsubscribe(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    unsubscribe_generic(ctx, args, Kind::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]` → one `psubscribe` confirmation per pattern.
fn psubscribe(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    subscribe_generic(ctx, args, Kind::Pattern)
}

/// `PUNSUBSCRIBE [pattern ...]` → one `punsubscribe` confirmation per pattern.
fn punsubscribe(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    unsubscribe_generic(ctx, args, Kind::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]` → one `ssubscribe` confirmation per channel.
fn ssubscribe(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    subscribe_generic(ctx, args, Kind::Shard)
}

/// `SUNSUBSCRIBE [shardchannel ...]` → one `sunsubscribe` confirmation per channel.
fn sunsubscribe(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    unsubscribe_generic(ctx, args, Kind::Shard)
}

fn limit(ctx: &ExecCtx<'_>) -> OutputLimit {
    let (hard, soft, soft_seconds) = ctx.server.config.read().pubsub_limit();
    OutputLimit {
        hard,
        soft,
        soft_seconds,
    }
}

/// `PUBLISH channel message` → how many subscribers received it.
fn publish(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let channel = args.next_shared()?;
    let payload = args.next_shared()?;
    let limit = limit(ctx);
    Ok(Reply::Int(
        ctx.server
            .pubsub
            .publish(&channel, &payload, limit, ctx.now) as i64,
    ))
}

/// `SPUBLISH shardchannel message` → how many shard subscribers received it.
fn spublish(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let channel = args.next_shared()?;
    let payload = args.next_shared()?;
    let limit = limit(ctx);
    Ok(Reply::Int(
        ctx.server
            .pubsub
            .spublish(&channel, &payload, limit, ctx.now) as i64,
    ))
}

fn channels(ctx: &mut ExecCtx<'_>, args: &mut Args, shard: bool) -> Result<Reply, CmdError> {
    if args.remaining() > 1 {
        let sub = String::from_utf8_lossy(&args.argv()[1]).into_owned();
        return Err(CmdError::SubcommandArgs {
            sub,
            container: "PUBSUB",
        });
    }
    let pattern = args.next();
    let names = ctx.server.pubsub.channels(pattern, shard);
    Ok(Reply::Array(names.into_iter().map(Reply::Bulk).collect()))
}

/// `PUBSUB CHANNELS [pattern]` → active channels.
fn pubsub_channels(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    channels(ctx, args, false)
}

/// `PUBSUB SHARDCHANNELS [pattern]` → active shard channels.
fn pubsub_shardchannels(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    channels(ctx, args, true)
}

fn numsub(ctx: &mut ExecCtx<'_>, args: &mut Args, shard: bool) -> Result<Reply, CmdError> {
    let ps = &ctx.server.pubsub;
    Ok(Reply::Map(
        args.by_ref()
            .map(|c| {
                let n = ps.numsub(c, shard) as i64;
                (Reply::Bulk(Bytes::copy_from_slice(c)), Reply::Int(n))
            })
            .collect(),
    ))
}

/// `PUBSUB NUMSUB [channel ...]` → channel → subscriber count.
fn pubsub_numsub(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    numsub(ctx, args, false)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]` → shard channel → subscriber count.
fn pubsub_shardnumsub(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    numsub(ctx, args, true)
}

/// `PUBSUB NUMPAT` → the number of distinct patterns subscribed to.
fn pubsub_numpat(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.server.pubsub.numpat() as i64))
}

fn pubsub_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}
