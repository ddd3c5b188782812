//! Criterion benches for the request path's pure parts: decoding, reply encoding, command lookup and
//! keyspace operations. Side-by-side numbers against redis-server come from `bench/compare.py`; whole commands are
//! benched in `commands.rs`.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ferrite::protocol::{encode, Decoder, Limits, Protocol, Reply};

fn decode_pipeline(c: &mut Criterion) {
    let mut req = Vec::new();
    for i in 0..16 {
        req.extend(
            format!("*3\r\n$3\r\nSET\r\n$10\r\nkey:{i:06}\r\n$10\r\nvalue:{i:04}\r\n").as_bytes(),
        );
    }
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(16));
    g.bench_function("set_pipeline_16", |b| {
        let mut d = Decoder::new();
        let limits = Limits::default();
        b.iter(|| {
            let mut buf = BytesMut::from(&req[..]);
            let mut n = 0;
            while let Ok(Some(r)) = d.decode(&mut buf, &limits) {
                n += r.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

fn encode_replies(c: &mut Criterion) {
    let bulk = Reply::bulk_str("value:0001");
    let arr = Reply::Array(
        (0..100)
            .map(|i| Reply::bulk_string(format!("element:{i}")))
            .collect(),
    );
    let mut g = c.benchmark_group("encode");
    g.bench_function("bulk", |b| {
        let mut out = BytesMut::with_capacity(1024);
        b.iter(|| {
            out.clear();
            encode(black_box(&bulk), Protocol::Resp2, &mut out);
        })
    });
    g.bench_function("array_100", |b| {
        let mut out = BytesMut::with_capacity(8192);
        b.iter(|| {
            out.clear();
            encode(black_box(&arr), Protocol::Resp3, &mut out);
        })
    });
    g.finish();
}

fn lookup(c: &mut Criterion) {
    c.bench_function("command_lookup", |b| {
        b.iter(|| ferrite::commands::lookup(black_box(b"get")))
    });
}

fn keyspace(c: &mut Criterion) {
    use ferrite::storage::{db::Ttl, Db, Keyspace, Locks, Value};
    let ks = Keyspace::new(16);
    let keys: Vec<Vec<u8>> = (0..100_000)
        .map(|i| format!("key:{i:08}").into_bytes())
        .collect();
    {
        let mut dirty = 0;
        for k in &keys {
            let mut locks = Locks::for_keys(&ks, std::iter::once(&k[..]));
            Db::new(&mut locks, 0, 0, &mut dirty).set(k, Value::from_bytes(b"value"), Ttl::Clear);
        }
    }
    let mut i = 0;
    c.bench_function("keyspace_get_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            let k = &keys[i];
            let mut dirty = 0;
            let mut locks = Locks::for_keys(&ks, std::iter::once(&k[..]));
            let mut db = Db::new(&mut locks, 0, 0, &mut dirty);
            black_box(db.get(k).is_some())
        })
    });
}

criterion_group!(benches, decode_pipeline, encode_replies, lookup, keyspace);
criterion_main!(benches);
