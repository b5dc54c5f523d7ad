//! RFC 7541 (HPACK) as the connection sees it: a block that cannot be decoded is a connection
//! error COMPRESSION_ERROR (RFC 9113 §4.3), the dynamic table is shared by every stream, the
//! never-indexed bit survives, a too-large header list costs one stream and not the table, and
//! our encoder honors the peer's SETTINGS_HEADER_TABLE_SIZE.

use crate::dsl::{get, plus, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario};
use bytes::Bytes;
use h2core::{Header, Reason};

const COMPRESSION_ERROR: Reason = Reason::COMPRESSION_ERROR;

/// `GET /` on http://localhost with static-table indexes and a literal `:authority` that is
/// not indexed: the dynamic table stays empty.
fn raw_get() -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x84, 0x01, 0x09];
    b.extend_from_slice(b"localhost");
    b
}

fn raw(parts: &[&[u8]]) -> Bytes {
    Bytes::from(parts.concat())
}

/// Server: the request on stream 1 carries `block`; the connection must fail with
/// COMPRESSION_ERROR.
fn bad_block(section: &'static str, name: &'static str, block: Bytes) -> Scenario {
    Scenario::server(section, name)
        .handshake()
        .peer(vec![P::get(1, "/").raw_block(block)])
        .expect_goaway(COMPRESSION_ERROR)
        .no_event(E::Request(1, None))
}

/// A literal field without indexing, new name `x-test` (Huffman), then `value` as given.
fn x_test_literal(value: &[u8]) -> Vec<u8> {
    let mut b = vec![0x00, 0x85, 0xf2, 0xb2, 0x4a, 0x84, 0xff];
    b.extend_from_slice(value);
    b
}

fn decoding_errors() -> Vec<Scenario> {
    vec![
        bad_block(
            "RFC 7541 §6.1",
            "an indexed field with index 0 is a decoding error",
            raw(&[&raw_get(), &[0x80]]),
        ),
        bad_block(
            "RFC 7541 §2.3.3",
            "an index beyond the static and dynamic tables is a decoding error",
            raw(&[&raw_get(), &[0xbe]]),
        ),
        bad_block(
            "RFC 7541 §2.3.3",
            "a literal naming a field by an index beyond both tables is a decoding error",
            raw(&[&raw_get(), &[0x0f, 0x30, 0x01, b'x']]),
        ),
        bad_block(
            "RFC 7541 §5.2",
            "Huffman padding longer than 7 bits is a decoding error",
            raw(&[&raw_get(), &x_test_literal(&[0x84, 0x49, 0x50, 0x9f, 0xff])]),
        ),
        bad_block(
            "RFC 7541 §5.2",
            "Huffman padding that is not the EOS prefix is a decoding error",
            raw(&[&raw_get(), &x_test_literal(&[0x83, 0x49, 0x50, 0x90])]),
        ),
        bad_block(
            "RFC 7541 §5.2",
            "a Huffman string containing EOS is a decoding error",
            raw(&[
                &raw_get(),
                &x_test_literal(&[0x87, 0xff, 0xff, 0xff, 0xfd, 0x25, 0x42, 0x7f]),
            ]),
        ),
        bad_block(
            "RFC 7541 §5.1",
            "an integer overflowing 2^32-1 is a decoding error",
            raw(&[&raw_get(), &[0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]]),
        ),
        bad_block(
            "RFC 7541 §5.2",
            "a string literal longer than the rest of the block is a decoding error",
            raw(&[&raw_get(), &[0x00, 0x01, b'x', 0x0a, b'a', b'b']]),
        ),
        bad_block(
            "RFC 7541 §6.3",
            "a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE is a decoding error",
            // 4097 = 31 + 98 + 31 * 128.
            raw(&[&[0x3f, 0xe2, 0x1f], &raw_get()]),
        ),
        bad_block(
            "RFC 7541 §4.2",
            "a dynamic table size update after the first field is a decoding error",
            raw(&[&raw_get(), &[0x21]]),
        ),
        Scenario::client(
            "RFC 9113 §4.3",
            "a response header block that cannot be decoded is a connection error COMPRESSION_ERROR",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::response(1, "200").raw_block(vec![0x88, 0x80])])
        .expect_goaway(COMPRESSION_ERROR)
        .no_event(E::Response(1, None)),
        Scenario::client(
            "RFC 9113 §4.3",
            "a PUSH_PROMISE header block that cannot be decoded is a connection error COMPRESSION_ERROR",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::push_promise(1, 2, get("/pushed")).raw_block(vec![0x82, 0x80])])
        .expect_goaway(COMPRESSION_ERROR),
        Scenario::server(
            "RFC 9113 §4.3",
            "a header block on a stream we reset is still decoded: an error in it is COMPRESSION_ERROR",
        )
        .handshake()
        .peer(vec![P::request(1, "POST", "/")])
        .app(A::Reset(1, Reason::CANCEL))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        .peer(vec![P::headers(1, vec![]).eos().raw_block(vec![0x80])])
        .expect_goaway(COMPRESSION_ERROR),
    ]
}

fn dynamic_table() -> Vec<Scenario> {
    // `:authority: localhost` with incremental indexing: it becomes entry 62.
    let indexing_get = || {
        let mut b = vec![0x82, 0x86, 0x84, 0x41, 0x09];
        b.extend_from_slice(b"localhost");
        b
    };
    vec![
        Scenario::server(
            "RFC 7541 §2.3.2",
            "a block may reference a table entry added by a previous stream's block",
        )
        .handshake()
        .peer(vec![
            P::get(1, "/").raw_block(indexing_get()),
            P::get(3, "/").raw_block(vec![0x82, 0x86, 0x84, 0xbe]),
        ])
        .events(vec![
            E::Request(1, Some("/")),
            E::Field(3, ":authority", "localhost"),
        ])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 9113 §4.3",
            "a header block on a stream we reset still adds to the dynamic table",
        )
        .handshake()
        .peer(vec![P::request(1, "POST", "/")])
        .app(A::Reset(1, Reason::CANCEL))
        .peer(vec![
            // Trailers on the reset stream: `x-kept: yes` with incremental indexing.
            P::headers(1, vec![]).eos().raw_block(
                [&[0x40, 0x06][..], b"x-kept", &[0x03], b"yes"].concat(),
            ),
            P::get(3, "/").raw_block([&raw_get()[..], &[0xbe]].concat()),
        ])
        .events(vec![E::Field(3, "x-kept", "yes")])
        .no_event(E::Trailers(1))
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 7541 §4.3",
            "a table size update to 0 evicts every entry: a later reference to it is a decoding error",
        )
        .handshake()
        .peer(vec![P::get(1, "/").raw_block(indexing_get())])
        .events(vec![E::Request(1, Some("/"))])
        .peer(vec![P::get(3, "/").raw_block(vec![0x20, 0x82, 0x86, 0x84, 0xbe])])
        .expect_goaway(COMPRESSION_ERROR),
        Scenario::server(
            "RFC 7541 §4.2",
            "two table size updates at the start of a block are accepted",
        )
        .handshake()
        // 0, then 4096 = 31 + 97 + 31 * 128.
        .peer(vec![P::get(1, "/").raw_block(raw(&[&[0x20, 0x3f, 0xe1, 0x1f], &raw_get()]))])
        .events(vec![E::Request(1, Some("/"))])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 7541 §4.2",
            "after we lower SETTINGS_HEADER_TABLE_SIZE, the next block must start with a size update",
        )
        .config(|c| c.settings.header_table_size = 0)
        .handshake()
        .peer(vec![P::get(1, "/").raw_block(raw_get())])
        .expect_goaway(COMPRESSION_ERROR),
        Scenario::server(
            "RFC 7541 §4.2",
            "after we lower SETTINGS_HEADER_TABLE_SIZE, a block starting with the size update decodes",
        )
        .config(|c| c.settings.header_table_size = 0)
        .handshake()
        .peer(vec![P::get(1, "/").raw_block(raw(&[&[0x20], &raw_get()]))])
        .events(vec![E::Request(1, Some("/"))])
        .expect_not(X::any_goaway()),
    ]
}

fn sensitive_get() -> Vec<Header> {
    let mut h = get("/");
    h.push(Header::sensitive("authorization", "Bearer s3cr3t"));
    h
}

fn never_indexed() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 7541 §6.2.3",
            "a field received never-indexed is delivered marked sensitive",
        )
        .handshake()
        .peer(vec![P::headers(1, sensitive_get()).eos()])
        .events(vec![E::Sensitive(1, "authorization")]),
        Scenario::client(
            "RFC 7541 §6.2.3",
            "a response field received never-indexed is delivered marked sensitive",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::headers(
            1,
            vec![
                Header::new(":status", "200"),
                Header::sensitive("x-token", "abc"),
            ],
        )
        .eos()])
        .events(vec![E::Sensitive(1, "x-token")]),
        Scenario::client(
            "RFC 7541 §7.1.3",
            "a field the application marks sensitive is sent never-indexed",
        )
        .handshake()
        .app(A::SendRequest(sensitive_get(), true))
        .expect(vec![X::headers(1).sensitive("authorization")]),
        Scenario::server(
            "RFC 7541 §7.1.3",
            "a response field marked sensitive is sent never-indexed, every time",
        )
        .handshake()
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .app(A::SendResponse(
            1,
            vec![
                Header::new(":status", "200"),
                Header::sensitive("set-cookie", "session=0123456789abcdef0123"),
            ],
            true,
        ))
        .app(A::SendResponse(
            3,
            vec![
                Header::new(":status", "200"),
                Header::sensitive("set-cookie", "session=0123456789abcdef0123"),
            ],
            true,
        ))
        .expect(vec![
            X::headers(1).sensitive("set-cookie"),
            X::headers(3).sensitive("set-cookie"),
        ]),
    ]
}

fn big_value() -> String {
    "v".repeat(300)
}

fn header_list_size() -> Vec<Scenario> {
    let big = big_value();
    vec![
        Scenario::server(
            "RFC 9113 §6.5.2",
            "a request above our SETTINGS_MAX_HEADER_LIST_SIZE is reset and HPACK stays in sync",
        )
        .config(|c| c.settings.max_header_list_size = Some(400))
        .handshake()
        // The peer's encoder indexes both fields; stream 3 refers to `x-a` by index.
        .peer(vec![P::headers(
            1,
            plus(get("/big"), &[("x-a", "1"), ("x-big", &big)]),
        )
        .eos()])
        .expect(vec![X {
            stream: Some(1),
            ..X::any_rst()
        }])
        .no_event(E::Request(1, None))
        .peer(vec![
            P::headers(3, plus(get("/small"), &[("x-a", "1")])).eos()
        ])
        .events(vec![E::Field(3, "x-a", "1")])
        .expect_not(X::any_goaway()),
        Scenario::client(
            "RFC 9113 §6.5.2",
            "a response above our SETTINGS_MAX_HEADER_LIST_SIZE is reset and HPACK stays in sync",
        )
        .config(|c| c.settings.max_header_list_size = Some(400))
        .handshake()
        .app(A::SendRequest(get("/1"), true))
        .app(A::SendRequest(get("/3"), true))
        .peer(vec![P::headers(
            1,
            plus(response("200"), &[("x-a", "1"), ("x-big", &big)]),
        )
        .eos()])
        .expect(vec![X {
            stream: Some(1),
            ..X::any_rst()
        }])
        .no_event(E::Response(1, None))
        .peer(vec![
            P::headers(3, plus(response("200"), &[("x-a", "1")])).eos()
        ])
        .events(vec![E::Field(3, "x-a", "1")])
        .expect_not(X::any_goaway()),
    ]
}

fn custom_response() -> Vec<Header> {
    plus(response("200"), &[("x-custom", "some value")])
}

fn encoder_table_size() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 7541 §4.2",
            "our encoder honors a peer SETTINGS_HEADER_TABLE_SIZE of 0",
        )
        .handshake_with(vec![(0x1, 0)])
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .app(A::SendResponse(1, custom_response(), true))
        .app(A::SendResponse(3, custom_response(), true))
        .expect(vec![
            X::headers(1).field("x-custom", "some value"),
            X::headers(3).field("x-custom", "some value"),
        ]),
        Scenario::client(
            "RFC 7541 §4.2",
            "our encoder signals a table size the peer lowered mid-connection before its next block",
        )
        .handshake()
        .app(A::SendRequest(plus(get("/"), &[("x-custom", "v")]), true))
        .expect(vec![X::headers(1).field("x-custom", "v")])
        .peer(vec![P::settings(vec![(0x1, 0)])])
        .expect(vec![X::settings_ack()])
        .app(A::SendRequest(plus(get("/"), &[("x-custom", "v")]), true))
        .app(A::SendRequest(plus(get("/"), &[("x-custom", "v")]), true))
        .expect(vec![
            X::headers(3).field("x-custom", "v"),
            X::headers(5).field("x-custom", "v"),
        ]),
    ]
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = decoding_errors();
    v.extend(dynamic_table());
    v.extend(never_indexed());
    v.extend(header_list_size());
    v.extend(encoder_table_size());
    v
}
