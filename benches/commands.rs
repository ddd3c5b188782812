//! Criterion benches for whole commands without the network: each iteration runs one request
//! through `commands::execute` (lookup, arity, key locking, the handler, the data structure) and
//! encodes its reply, as the connection loop does. One bench per data structure's hot operations,
//! on a warm data set, so a change to dispatch or to a type's encoding shows up here before it shows
//! up in `bench/compare.py`'s side-by-side numbers.

use std::net::SocketAddr;

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ferrite::commands::{execute, Outcome};
use ferrite::config::Config;
use ferrite::protocol::{encode, Argv, Protocol};
use ferrite::server::{ClientState, Server};

struct Bench {
    server: std::sync::Arc<Server>,
    client: ClientState,
    out: BytesMut,
    rng: u64,
}

impl Bench {
    fn new() -> Bench {
        let addr: SocketAddr = "127.0.0.1:1".parse().expect("literal address");
        Bench {
            server: Server::new(Config::default()),
            client: ClientState::new(1, addr, addr, true),
            out: BytesMut::with_capacity(1 << 16),
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// A pseudo-random number below `n` (xorshift: cheap and repeatable).
    fn rand(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }

    fn run(&mut self, argv: Argv) {
        let mut argv = argv;
        match execute(&self.server, &mut self.client, &mut argv, 1) {
            Outcome::Reply(r) => {
                self.out.clear();
                encode(&r, Protocol::Resp2, &mut self.out);
                black_box(self.out.len());
            }
            Outcome::Block { .. } => panic!("a bench command blocked"),
        }
    }
}

fn argv(parts: &[&[u8]]) -> Argv {
    Argv::from_args(parts)
}

/// `key:NNNNNN`-style names, as redis-benchmark's `__rand_int__`.
fn name(prefix: &str, i: u64) -> Vec<u8> {
    format!("{prefix}{i:012}").into_bytes()
}

fn strings(c: &mut Criterion) {
    let mut b = Bench::new();
    for i in 0..100_000 {
        b.run(argv(&[b"SET", &name("key:", i), b"xxx"]));
    }
    let mut g = c.benchmark_group("strings");
    g.bench_function("get_100k", |it| {
        it.iter(|| {
            let k = name("key:", b.rand(100_000));
            b.run(argv(&[b"GET", &k]))
        })
    });
    g.bench_function("set_100k", |it| {
        it.iter(|| {
            let k = name("key:", b.rand(100_000));
            b.run(argv(&[b"SET", &k, b"xxx"]))
        })
    });
    g.bench_function("incr", |it| it.iter(|| b.run(argv(&[b"INCR", b"counter"]))));
    g.bench_function("mset_10", |it| {
        it.iter(|| {
            let mut a: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
            for _ in 0..10 {
                a.push(name("key:", b.rand(100_000)));
                a.push(b"xxx".to_vec());
            }
            b.run(Argv::from_args(a))
        })
    });
    g.finish();
}

fn lists(c: &mut Criterion) {
    let mut b = Bench::new();
    for _ in 0..1000 {
        b.run(argv(&[b"RPUSH", b"mylist", b"xxx"]));
    }
    let mut g = c.benchmark_group("lists");
    g.bench_function("lpush_lpop", |it| {
        it.iter(|| {
            b.run(argv(&[b"LPUSH", b"mylist", b"xxx"]));
            b.run(argv(&[b"LPOP", b"mylist"]));
        })
    });
    g.bench_function("rpush_rpop_small", |it| {
        it.iter(|| {
            let k = name("l:", b.rand(1000));
            b.run(argv(&[b"RPUSH", &k, b"a", b"b", b"c"]));
            b.run(argv(&[b"RPOP", &k, b"3"]));
        })
    });
    g.bench_function("lrange_100", |it| {
        it.iter(|| b.run(argv(&[b"LRANGE", b"mylist", b"0", b"99"])))
    });
    g.finish();
}

/// A list far past the listpack limit (the block deque): redis-benchmark's LRANGE tests run on one.
fn big_lists(c: &mut Criterion) {
    let mut b = Bench::new();
    for _ in 0..1000 {
        let mut a: Vec<&[u8]> = vec![b"RPUSH", b"biglist"];
        a.extend(std::iter::repeat_n(&b"xxx"[..], 100));
        b.run(argv(&a));
    }
    let mut g = c.benchmark_group("big_lists");
    g.bench_function("lpush_rpop", |it| {
        it.iter(|| {
            b.run(argv(&[b"LPUSH", b"biglist", b"xxx"]));
            b.run(argv(&[b"RPOP", b"biglist"]));
        })
    });
    g.bench_function("lrange_100", |it| {
        it.iter(|| b.run(argv(&[b"LRANGE", b"biglist", b"0", b"99"])))
    });
    g.bench_function("lrange_300_mid", |it| {
        it.iter(|| b.run(argv(&[b"LRANGE", b"biglist", b"50000", b"50299"])))
    });
    g.bench_function("lindex", |it| {
        it.iter(|| {
            let i = b.rand(100_000).to_string().into_bytes();
            b.run(argv(&[b"LINDEX", b"biglist", &i]))
        })
    });
    g.finish();
}

fn hashes(c: &mut Criterion) {
    let mut b = Bench::new();
    for i in 0..10_000 {
        let k = name("h:", i);
        b.run(argv(&[
            b"HSET", &k, b"f1", b"v1", b"f2", b"v2", b"f3", b"v3", b"f4", b"v4", b"f5", b"v5",
        ]));
    }
    let mut g = c.benchmark_group("hashes");
    g.bench_function("hget_small", |it| {
        it.iter(|| {
            let k = name("h:", b.rand(10_000));
            b.run(argv(&[b"HGET", &k, b"f4"]))
        })
    });
    g.bench_function("hset_small", |it| {
        it.iter(|| {
            let k = name("h:", b.rand(10_000));
            b.run(argv(&[b"HSET", &k, b"f3", b"v9"]))
        })
    });
    g.bench_function("hset_big", |it| {
        it.iter(|| {
            let f = name("element:", b.rand(100_000));
            b.run(argv(&[b"HSET", b"myhash", &f, b"xxx"]))
        })
    });
    g.finish();
}

fn sets(c: &mut Criterion) {
    let mut b = Bench::new();
    for i in 0..10_000 {
        b.run(argv(&[
            b"SADD",
            &name("i:", i),
            b"1",
            b"2",
            b"3",
            b"4",
            b"5",
        ]));
    }
    let mut g = c.benchmark_group("sets");
    g.bench_function("sismember_intset", |it| {
        it.iter(|| {
            let k = name("i:", b.rand(10_000));
            b.run(argv(&[b"SISMEMBER", &k, b"4"]))
        })
    });
    g.bench_function("sadd_big", |it| {
        it.iter(|| {
            let m = name("element:", b.rand(100_000));
            b.run(argv(&[b"SADD", b"myset", &m]))
        })
    });
    g.finish();
}

fn zsets(c: &mut Criterion) {
    let mut b = Bench::new();
    for i in 0..100_000 {
        b.run(argv(&[b"ZADD", b"myzset", b"0", &name("element:", i)]));
    }
    for i in 0..10_000 {
        b.run(argv(&[
            b"ZADD",
            &name("z:", i),
            b"1",
            b"m1",
            b"2",
            b"m2",
            b"3",
            b"m3",
            b"4",
            b"m4",
        ]));
    }
    let mut g = c.benchmark_group("zsets");
    g.bench_function("zadd_big_tie", |it| {
        it.iter(|| {
            let m = name("element:", b.rand(200_000));
            b.run(argv(&[b"ZADD", b"myzset", b"0", &m]))
        })
    });
    g.bench_function("zadd_big_score", |it| {
        it.iter(|| {
            let m = name("element:", b.rand(100_000));
            let s = b.rand(1_000_000).to_string();
            b.run(argv(&[b"ZADD", b"myzset", s.as_bytes(), &m]))
        })
    });
    g.bench_function("zrank_big", |it| {
        it.iter(|| {
            let m = name("element:", b.rand(100_000));
            b.run(argv(&[b"ZRANK", b"myzset", &m]))
        })
    });
    g.bench_function("zrange_100", |it| {
        it.iter(|| {
            b.run(argv(&[
                b"ZRANGE",
                b"myzset",
                b"1000",
                b"1099",
                b"WITHSCORES",
            ]))
        })
    });
    g.bench_function("zscore_small", |it| {
        it.iter(|| {
            let k = name("z:", b.rand(10_000));
            b.run(argv(&[b"ZSCORE", &k, b"m3"]))
        })
    });
    g.finish();
}

fn streams(c: &mut Criterion) {
    let mut b = Bench::new();
    let mut g = c.benchmark_group("streams");
    g.bench_function("xadd", |it| {
        it.iter(|| b.run(argv(&[b"XADD", b"s", b"*", b"field", b"value"])))
    });
    g.bench_function("xrange_10", |it| {
        it.iter(|| b.run(argv(&[b"XRANGE", b"s", b"-", b"+", b"COUNT", b"10"])))
    });
    g.bench_function("xrevrange_10", |it| {
        it.iter(|| b.run(argv(&[b"XREVRANGE", b"s", b"+", b"-", b"COUNT", b"10"])))
    });
    g.finish();
}

fn scripting(c: &mut Criterion) {
    let mut b = Bench::new();
    let body: &[u8] = b"return redis.call('incr', KEYS[1])";
    let mut g = c.benchmark_group("scripting");
    g.bench_function("eval_incr", |it| {
        it.iter(|| b.run(argv(&[b"EVAL", body, b"1", b"counter"])))
    });
    let sha = ferrite::scripting::sha1_hex(body);
    g.bench_function("evalsha_incr", |it| {
        it.iter(|| b.run(argv(&[b"EVALSHA", sha.as_bytes(), b"1", b"counter"])))
    });
    g.finish();
}

criterion_group!(benches, strings, lists, big_lists, hashes, sets, zsets, streams, scripting);
criterion_main!(benches);
