//! Property tests for HPACK (RFC 7541): whatever we encode decodes back to the same header list
//! with both dynamic tables in step, across blocks and table size changes; no input makes the
//! decoder panic or deliver more than the header list size limit; Huffman coding round-trips.

use bytes::{Bytes, BytesMut};
use h2core::hpack::{huffman, Decoder, DecoderError, Encoder, Header};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        // Static-table names, including those with special indexing policies.
        prop::sample::select(vec![
            ":authority",
            ":method",
            ":path",
            ":status",
            "accept-encoding",
            "authorization",
            "cookie",
            "set-cookie",
            "user-agent",
            "content-length",
        ])
        .prop_map(|s: &'static str| Bytes::from_static(s.as_bytes())),
        // A few custom names, so that names and fields repeat across blocks.
        prop::sample::select(vec!["x-a", "x-b", "x-request-id"])
            .prop_map(|s: &'static str| Bytes::from_static(s.as_bytes())),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from),
    ]
}

fn value() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        prop::sample::select(vec!["", "GET", "/", "200", "gzip, deflate", "v1", "v2"])
            .prop_map(|s: &'static str| Bytes::from_static(s.as_bytes())),
        prop::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from),
        // Long enough to exceed 3/4 of small tables.
        prop::collection::vec(any::<u8>(), 100..600).prop_map(Bytes::from),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (name(), value(), prop::bool::weighted(0.2)).prop_map(|(name, value, sensitive)| Header {
        name,
        value,
        sensitive,
    })
}

fn table_size() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![0usize, 32, 64, 100, 256, 1000, 4096, 8192])
}

/// One block: the table size changes (peer SETTINGS) before it, and its header list.
fn block() -> impl Strategy<Value = (Vec<usize>, Vec<Header>)> {
    (
        prop::collection::vec(table_size(), 0..3),
        prop::collection::vec(header(), 0..16),
    )
}

fn decode(d: &mut Decoder, block: &Bytes) -> (Vec<Header>, Result<(), DecoderError>) {
    let mut out = Vec::new();
    let r = d.decode(block, |h| out.push(h));
    (out, r)
}

proptest! {
    #[test]
    fn header_lists_round_trip_across_blocks_and_size_changes(blocks in prop::collection::vec(block(), 1..8)) {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new(4096);
        let mut dst = BytesMut::new();
        let mut indexable = std::collections::HashSet::new();
        for (sizes, headers) in &blocks {
            for &s in sizes {
                // Our setting changes and is acknowledged; the peer's encoder learns it.
                decoder.set_max_table_size(s);
                encoder.set_max_table_size(s);
            }
            encoder.encode(headers, &mut dst);
            let wire = dst.split().freeze();
            let (got, r) = decode(&mut decoder, &wire);
            prop_assert_eq!(r, Ok(()));
            prop_assert_eq!(got.len(), headers.len());
            for (g, h) in got.iter().zip(headers) {
                prop_assert_eq!(&g.name, &h.name);
                prop_assert_eq!(&g.value, &h.value);
                // §7.1.3: what the caller marked sensitive reaches the peer as never-indexed.
                prop_assert!(g.sensitive || !h.sensitive);
            }
            prop_assert_eq!(encoder.dynamic_table(), decoder.dynamic_table());
            // §7.1.3: sensitive fields never enter the table (unless also sent as ordinary ones).
            indexable.extend(headers.iter().filter(|h| !h.sensitive).map(|h| (h.name.clone(), h.value.clone())));
            for entry in decoder.dynamic_table().0 {
                prop_assert!(indexable.contains(&entry));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        prefix in prop::collection::vec(header(), 0..8),
        junk in prop::collection::vec(any::<u8>(), 0..256),
        limit in prop::sample::select(vec![0usize, 50, 200, usize::MAX]),
    ) {
        let mut decoder = Decoder::new(4096);
        decoder.set_max_header_list_size(limit);
        // Give the dynamic table some entries first so indices into it are exercised.
        let mut dst = BytesMut::new();
        Encoder::new().encode(&prefix, &mut dst);
        let _ = decode(&mut decoder, &dst.freeze());
        let (got, _) = decode(&mut decoder, &Bytes::from(junk));
        let size: usize = got.iter().map(Header::size).sum();
        prop_assert!(size <= limit);
    }

    #[test]
    fn mutated_blocks_never_panic(
        headers in prop::collection::vec(header(), 1..12),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut dst = BytesMut::new();
        Encoder::new().encode(&headers, &mut dst);
        let mut block = dst.to_vec();
        for (at, byte) in flips {
            let i = at.index(block.len());
            block[i] = byte;
        }
        let keep = cut.index(block.len() + 1);
        block.truncate(keep);
        let mut decoder = Decoder::new(4096);
        decoder.set_max_header_list_size(1000);
        let (got, _) = decode(&mut decoder, &Bytes::from(block));
        prop_assert!(got.iter().map(Header::size).sum::<usize>() <= 1000);
    }

    #[test]
    fn delivered_list_never_exceeds_the_limit(
        headers in prop::collection::vec(header(), 0..24),
        limit in 0usize..2000,
    ) {
        let mut dst = BytesMut::new();
        Encoder::new().encode(&headers, &mut dst);
        let mut decoder = Decoder::new(4096);
        decoder.set_max_header_list_size(limit);
        let (got, r) = decode(&mut decoder, &dst.freeze());
        let delivered: usize = got.iter().map(Header::size).sum();
        let total: usize = headers.iter().map(Header::size).sum();
        prop_assert!(delivered <= limit);
        if total > limit {
            prop_assert_eq!(r, Err(DecoderError::HeaderListTooLarge));
        } else {
            prop_assert_eq!(r, Ok(()));
            prop_assert_eq!(got.len(), headers.len());
        }
    }

    #[test]
    fn huffman_round_trips_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut code = BytesMut::new();
        huffman::encode(&data, &mut code);
        prop_assert_eq!(code.len(), huffman::encoded_len(&data));
        let mut back = BytesMut::new();
        prop_assert_eq!(huffman::decode(&code, &mut back), Ok(()));
        prop_assert_eq!(&back[..], &data[..]);
    }

    #[test]
    fn huffman_decoding_arbitrary_bytes_never_panics(data in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut out = BytesMut::new();
        if huffman::decode(&data, &mut out).is_ok() {
            // Whatever decodes re-encodes to the same code (the code is prefix-free and the
            // padding is forced).
            let mut again = BytesMut::new();
            huffman::encode(&out, &mut again);
            prop_assert_eq!(&again[..], &data[..]);
        }
    }
}
