//! Property tests of the request decoder: what the encoder of a client produces decodes back exactly,
//! however the bytes are split across reads, and arbitrary bytes never panic or loop.

use bytes::BytesMut;
use ferrite::protocol::{Argv, Decoder, Limits};
use proptest::prelude::*;

fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend(format!("${}\r\n", a.len()).as_bytes());
        v.extend(a);
        v.extend(b"\r\n");
    }
    v
}

/// Feeds `input` in pieces cut at `cuts` and returns every decoded request (or the error).
fn decode_in_pieces(
    input: &[u8],
    cuts: &[usize],
) -> Result<Vec<Argv>, ferrite::error::ProtocolError> {
    let mut d = Decoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(input.len());
    points.sort_unstable();
    for p in points {
        buf.extend_from_slice(&input[start..p]);
        start = p;
        while let Some(r) = d.decode(&mut buf, &Limits::default())? {
            out.push(r);
        }
    }
    Ok(out)
}

proptest! {
    #[test]
    fn multibulk_roundtrips_whatever_the_split(
        reqs in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let input: Vec<u8> = reqs.iter().flat_map(|r| multibulk(r)).collect();
        let got = decode_in_pieces(&input, &cuts).unwrap();
        let got: Vec<Vec<Vec<u8>>> = got.iter().map(|r| r.iter().map(|a| a.to_vec()).collect()).collect();
        prop_assert_eq!(got, reqs);
    }

    #[test]
    fn inline_roundtrips(words in prop::collection::vec("[a-zA-Z0-9:_-]{1,12}", 1..6), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        let line = format!("{}\r\n", words.join(" "));
        let got = decode_in_pieces(line.as_bytes(), &cuts).unwrap();
        prop_assert_eq!(got.len(), 1);
        let got: Vec<String> = got[0].iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        prop_assert_eq!(got, words);
    }

    #[test]
    fn garbage_never_panics(input in prop::collection::vec(any::<u8>(), 0..300), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let _ = decode_in_pieces(&input, &cuts);
    }

    #[test]
    fn garbage_with_resp_markers_never_panics(
        parts in prop::collection::vec(prop_oneof![
            Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()), Just(b"-1".to_vec()),
            Just(b"99999999999".to_vec()), Just(b"\"".to_vec()), Just(b"'".to_vec()), Just(b"\\x".to_vec()),
            prop::collection::vec(any::<u8>(), 0..5),
        ], 0..40),
    ) {
        let input: Vec<u8> = parts.concat();
        let _ = decode_in_pieces(&input, &[]);
    }
}
