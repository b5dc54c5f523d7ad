//! RFC 7541 Appendix C, byte for byte, in both directions: our decoder decodes each example
//! block to its header list and dynamic table, and our encoder (with the examples' choices of
//! indexing and Huffman coding) produces exactly the example block and the same table.

use bytes::{Bytes, BytesMut};
use h2core::hpack::{Decoder, Encoder, Header};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn headers(list: &[(&'static str, &'static str)]) -> Vec<Header> {
    list.iter().map(|&(n, v)| Header::new(n, v)).collect()
}

fn table(list: &[(&'static str, &'static str)]) -> Vec<(Bytes, Bytes)> {
    list.iter()
        .map(|&(n, v)| {
            (
                Bytes::from_static(n.as_bytes()),
                Bytes::from_static(v.as_bytes()),
            )
        })
        .collect()
}

fn decode(decoder: &mut Decoder, block: &[u8]) -> Vec<Header> {
    let mut out = Vec::new();
    decoder
        .decode(&Bytes::copy_from_slice(block), |h| out.push(h))
        .expect("RFC example decodes");
    out
}

fn encode(encoder: &mut Encoder, list: &[Header]) -> Vec<u8> {
    let mut dst = BytesMut::new();
    encoder.encode(list, &mut dst);
    dst.to_vec()
}

/// One example: the block, its header list, and the dynamic table (newest first) and size after.
struct Step {
    section: &'static str,
    block: &'static str,
    headers: &'static [(&'static str, &'static str)],
    table: &'static [(&'static str, &'static str)],
    size: usize,
}

/// Runs a sequence of examples sharing one compression context with a `table_size` table.
fn run(steps: &[Step], table_size: usize, huffman: bool) {
    let mut decoder = Decoder::new(table_size);
    let mut encoder = Encoder::new();
    encoder.set_huffman(Some(huffman));
    encoder.set_index_all(true);
    if table_size != 4096 {
        // The examples assume both tables already have this size; a real encoder must first
        // tell the peer (§4.2), which we do in a block of its own.
        encoder.set_max_table_size(table_size);
        let update = encode(&mut encoder, &[]);
        assert_eq!(table_size, 256);
        assert_eq!(update, [0x3f, 0xe1, 0x01], "§6.3 size update to 256");
        assert!(decode(&mut decoder, &update).is_empty());
    }
    for step in steps {
        let block = unhex(step.block);
        let list = headers(step.headers);
        let want_table = (table(step.table), step.size);

        let got = decode(&mut decoder, &block);
        assert_eq!(got, list, "{}: decoded header list", step.section);
        assert_eq!(
            decoder.dynamic_table(),
            want_table,
            "{}: decoder table",
            step.section
        );

        assert_eq!(
            encode(&mut encoder, &list),
            block,
            "{}: encoded block",
            step.section
        );
        assert_eq!(
            encoder.dynamic_table(),
            want_table,
            "{}: encoder table",
            step.section
        );
    }
}

#[test]
fn c2_1_literal_with_indexing() {
    let block = unhex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    let list = headers(&[("custom-key", "custom-header")]);
    let mut d = Decoder::new(4096);
    assert_eq!(decode(&mut d, &block), list);
    assert_eq!(
        d.dynamic_table(),
        (table(&[("custom-key", "custom-header")]), 55)
    );
    let mut e = Encoder::new();
    e.set_huffman(Some(false));
    assert_eq!(encode(&mut e, &list), block);
    assert_eq!(e.dynamic_table(), d.dynamic_table());
}

#[test]
fn c2_2_literal_without_indexing() {
    let block = unhex("040c 2f73 616d 706c 652f 7061 7468");
    let list = headers(&[(":path", "/sample/path")]);
    let mut d = Decoder::new(4096);
    assert_eq!(decode(&mut d, &block), list);
    assert_eq!(d.dynamic_table(), (vec![], 0));
    // `:path` values rarely repeat: the default policy sends them without indexing, as here.
    let mut e = Encoder::new();
    e.set_huffman(Some(false));
    assert_eq!(encode(&mut e, &list), block);
    assert_eq!(e.dynamic_table(), (vec![], 0));
}

#[test]
fn c2_3_literal_never_indexed_is_sensitive() {
    let block = unhex("1008 7061 7373 776f 7264 0673 6563 7265 74");
    let list = vec![Header::sensitive("password", "secret")];
    let mut d = Decoder::new(4096);
    let got = decode(&mut d, &block);
    assert_eq!(got, list);
    assert!(got[0].sensitive);
    assert_eq!(d.dynamic_table(), (vec![], 0));
    let mut e = Encoder::new();
    e.set_huffman(Some(false));
    e.set_index_all(true);
    assert_eq!(encode(&mut e, &list), block);
    assert_eq!(e.dynamic_table(), (vec![], 0));
}

#[test]
fn c2_4_indexed_field() {
    let list = headers(&[(":method", "GET")]);
    let mut d = Decoder::new(4096);
    assert_eq!(decode(&mut d, &[0x82]), list);
    assert_eq!(d.dynamic_table(), (vec![], 0));
    assert_eq!(encode(&mut Encoder::new(), &list), [0x82]);
}

const REQ1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const REQ_TABLE1: &[(&str, &str)] = &[(":authority", "www.example.com")];
const REQ_TABLE2: &[(&str, &str)] = &[
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];
const REQ_TABLE3: &[(&str, &str)] = &[
    ("custom-key", "custom-value"),
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];

#[test]
fn c3_requests_without_huffman() {
    run(
        &[
            Step {
                section: "C.3.1",
                block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                headers: REQ1,
                table: REQ_TABLE1,
                size: 57,
            },
            Step {
                section: "C.3.2",
                block: "8286 84be 5808 6e6f 2d63 6163 6865",
                headers: REQ2,
                table: REQ_TABLE2,
                size: 110,
            },
            Step {
                section: "C.3.3",
                block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                headers: REQ3,
                table: REQ_TABLE3,
                size: 164,
            },
        ],
        4096,
        false,
    );
}

#[test]
fn c4_requests_with_huffman() {
    run(
        &[
            Step {
                section: "C.4.1",
                block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                headers: REQ1,
                table: REQ_TABLE1,
                size: 57,
            },
            Step {
                section: "C.4.2",
                block: "8286 84be 5886 a8eb 1064 9cbf",
                headers: REQ2,
                table: REQ_TABLE2,
                size: 110,
            },
            Step {
                section: "C.4.3",
                block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
                headers: REQ3,
                table: REQ_TABLE3,
                size: 164,
            },
        ],
        4096,
        true,
    );
}

const DATE1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RESP1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", DATE1),
    ("location", LOCATION),
];
const RESP2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", DATE1),
    ("location", LOCATION),
];
const RESP3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", DATE2),
    ("location", LOCATION),
    ("content-encoding", "gzip"),
    ("set-cookie", COOKIE),
];
const RESP_TABLE1: &[(&str, &str)] = &[
    ("location", LOCATION),
    ("date", DATE1),
    ("cache-control", "private"),
    (":status", "302"),
];
const RESP_TABLE2: &[(&str, &str)] = &[
    (":status", "307"),
    ("location", LOCATION),
    ("date", DATE1),
    ("cache-control", "private"),
];
const RESP_TABLE3: &[(&str, &str)] = &[
    ("set-cookie", COOKIE),
    ("content-encoding", "gzip"),
    ("date", DATE2),
];

#[test]
fn c5_responses_without_huffman_evict() {
    run(
        &[
            Step {
                section: "C.5.1",
                block: "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 \
                        3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 \
                        7777 2e65 7861 6d70 6c65 2e63 6f6d",
                headers: RESP1,
                table: RESP_TABLE1,
                size: 222,
            },
            Step {
                section: "C.5.2",
                block: "4803 3330 37c1 c0bf",
                headers: RESP2,
                table: RESP_TABLE2,
                size: 222,
            },
            Step {
                section: "C.5.3",
                block: "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 \
                        3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a \
                        584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 \
                        3630 303b 2076 6572 7369 6f6e 3d31",
                headers: RESP3,
                table: RESP_TABLE3,
                size: 215,
            },
        ],
        256,
        false,
    );
}

#[test]
fn c6_responses_with_huffman_evict() {
    run(
        &[
            Step {
                section: "C.6.1",
                block: "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 \
                        66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
                headers: RESP1,
                table: RESP_TABLE1,
                size: 222,
            },
            Step {
                section: "C.6.2",
                block: "4883 640e ffc1 c0bf",
                headers: RESP2,
                table: RESP_TABLE2,
                size: 222,
            },
            Step {
                section: "C.6.3",
                block: "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a \
                        839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 \
                        72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
                headers: RESP3,
                table: RESP_TABLE3,
                size: 215,
            },
        ],
        256,
        true,
    );
}
