//! One test per rule, named after the RFC sentence it checks. Unless a test says otherwise, each
//! rule is checked in both directions: [`check`] (received) and [`check_outgoing`] (to send).

use super::*;

const NO_EXT: CheckOptions = CheckOptions {
    enable_connect_protocol: false,
};
const EXT: CheckOptions = CheckOptions {
    enable_connect_protocol: true,
};

fn field(name: &'static [u8], value: &'static [u8]) -> Header {
    Header {
        name: Bytes::from_static(name),
        value: Bytes::from_static(value),
        sensitive: false,
    }
}

fn fields(list: &[(&'static str, &'static str)]) -> Vec<Header> {
    list.iter()
        .map(|(n, v)| field(n.as_bytes(), v.as_bytes()))
        .collect()
}

/// `GET https://example.com/` followed by `extra`.
fn get(extra: &[(&'static str, &'static str)]) -> Vec<Header> {
    let mut block = fields(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
    ]);
    block.extend(fields(extra));
    block
}

/// A response with `status`, followed by `extra`.
fn response(status: &'static str, extra: &[(&'static str, &'static str)]) -> Vec<Header> {
    let mut block = fields(&[(":status", status)]);
    block.extend(fields(extra));
    block
}

/// What the HPACK decoder would vouch for in `block` had every field come from its table: the
/// fields that pass the byte rules of §8.2.1.
fn vouched(block: &[Header]) -> u64 {
    block
        .iter()
        .take(64)
        .enumerate()
        .filter(|(_, h)| crate::field::field_ok(&h.name, &h.value))
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

/// Both directions accept the block; returns what `check` reported.
#[track_caller]
fn accepted(kind: Kind, block: &[Header], opts: CheckOptions) -> MessageInfo {
    let received = check(kind, block, 0, &opts);
    assert_eq!(
        check(kind, block, vouched(block), &opts),
        received,
        "fields the decoder vouched for change nothing"
    );
    let sent = check_outgoing(kind, block, &opts);
    assert_eq!(received, sent, "both directions agree");
    received.expect("valid block")
}

/// Both directions refuse the block for `why`.
#[track_caller]
fn refused(kind: Kind, block: &[Header], opts: CheckOptions, why: &'static str) {
    assert_eq!(
        check(kind, block, 0, &opts),
        Err(Malformed(why)),
        "received"
    );
    assert_eq!(
        check(kind, block, vouched(block), &opts),
        Err(Malformed(why)),
        "received, the fields that pass §8.2.1 vouched for"
    );
    assert_eq!(
        check_outgoing(kind, block, &opts),
        Err(Malformed(why)),
        "sent"
    );
}

// ---- RFC 9113 §8.2.1 Field Validity ----

#[test]
fn uppercase_field_name_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("Accept", "*/*")]),
        NO_EXT,
        reason::UPPERCASE_NAME,
    );
    refused(
        Kind::Response,
        &response("200", &[("content-Type", "text/plain")]),
        NO_EXT,
        reason::UPPERCASE_NAME,
    );
    refused(
        Kind::Request,
        &fields(&[(":Method", "GET")]),
        NO_EXT,
        reason::UPPERCASE_NAME,
    );
}

#[test]
fn field_name_with_control_character_or_space_is_malformed() {
    for name in [&b"x\x00y"[..], b"x y", b"x\ty", b"\x1fx", b"x\x20"] {
        let mut block = get(&[]);
        block.push(field(name, b"1"));
        refused(Kind::Request, &block, NO_EXT, reason::INVALID_NAME);
    }
}

#[test]
fn field_name_with_del_or_non_ascii_byte_is_malformed() {
    for name in [&b"x\x7f"[..], b"\x80x", b"caf\xc3\xa9", b"x\xff"] {
        let mut block = get(&[]);
        block.push(field(name, b"1"));
        refused(Kind::Request, &block, NO_EXT, reason::INVALID_NAME);
    }
}

#[test]
fn colon_in_field_name_other_than_pseudo_prefix_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("x:y", "1")]),
        NO_EXT,
        reason::INVALID_NAME,
    );
    refused(
        Kind::Request,
        &fields(&[("::method", "GET")]),
        NO_EXT,
        reason::INVALID_NAME,
    );
    refused(
        Kind::Request,
        &fields(&[(":method:", "GET")]),
        NO_EXT,
        reason::INVALID_NAME,
    );
}

#[test]
fn empty_field_name_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("", "1")]),
        NO_EXT,
        reason::EMPTY_NAME,
    );
    refused(
        Kind::Trailers,
        &fields(&[("", "1")]),
        NO_EXT,
        reason::EMPTY_NAME,
    );
}

#[test]
fn field_name_with_any_other_visible_ascii_is_valid() {
    accepted(
        Kind::Request,
        &get(&[("x-a_b.c~!#$%&'*+^`|0123456789", "1")]),
        NO_EXT,
    );
}

#[test]
fn field_value_containing_nul_cr_or_lf_is_malformed() {
    for value in [&b"a\x00b"[..], b"a\rb", b"a\nb", b"\r\n", b"a\r\nx: y"] {
        let mut block = get(&[]);
        block.push(field(b"x-test", value));
        refused(Kind::Request, &block, NO_EXT, reason::INVALID_VALUE);
    }
}

#[test]
fn field_value_starting_or_ending_with_sp_or_htab_is_malformed() {
    for value in [&b" a"[..], b"a ", b"\ta", b"a\t", b" ", b"\t"] {
        let mut block = get(&[]);
        block.push(field(b"x-test", value));
        refused(Kind::Request, &block, NO_EXT, reason::VALUE_WHITESPACE);
    }
}

#[test]
fn field_value_may_be_empty_or_contain_inner_whitespace_and_obs_text() {
    let mut block = get(&[("x-empty", ""), ("x-inner", "a b\tc")]);
    block.push(field(b"x-bytes", b"caf\xc3\xa9 \x01\x7f\xff"));
    accepted(Kind::Request, &block, NO_EXT);
}

#[test]
fn pseudo_header_value_is_checked_like_any_value() {
    refused(
        Kind::Request,
        &fields(&[(":method", "GET "), (":scheme", "https"), (":path", "/")]),
        NO_EXT,
        reason::VALUE_WHITESPACE,
    );
}

// ---- RFC 9113 §8.2.2 Connection-Specific Header Fields ----

#[test]
fn connection_field_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("connection", "keep-alive")]),
        NO_EXT,
        reason::CONNECTION,
    );
}

#[test]
fn proxy_connection_field_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("proxy-connection", "keep-alive")]),
        NO_EXT,
        reason::PROXY_CONNECTION,
    );
}

#[test]
fn keep_alive_field_is_malformed() {
    refused(
        Kind::Response,
        &response("200", &[("keep-alive", "timeout=5")]),
        NO_EXT,
        reason::KEEP_ALIVE,
    );
}

#[test]
fn transfer_encoding_field_is_malformed() {
    refused(
        Kind::Response,
        &response("200", &[("transfer-encoding", "chunked")]),
        NO_EXT,
        reason::TRANSFER_ENCODING,
    );
}

#[test]
fn upgrade_field_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("upgrade", "h2c")]),
        NO_EXT,
        reason::UPGRADE,
    );
}

#[test]
fn connection_specific_field_in_trailers_is_malformed() {
    refused(
        Kind::Trailers,
        &fields(&[("connection", "close")]),
        NO_EXT,
        reason::CONNECTION,
    );
}

#[test]
fn te_with_value_other_than_trailers_is_malformed() {
    for value in ["gzip", "trailers, gzip", "trailers;q=0.5", "chunked"] {
        refused(
            Kind::Request,
            &get(&[("te", value)]),
            NO_EXT,
            reason::TE_NOT_TRAILERS,
        );
    }
}

#[test]
fn te_trailers_is_allowed() {
    accepted(Kind::Request, &get(&[("te", "trailers")]), NO_EXT);
    accepted(Kind::Request, &get(&[("te", "Trailers")]), NO_EXT);
}

#[test]
fn fields_that_merely_resemble_connection_specific_names_are_allowed() {
    accepted(
        Kind::Request,
        &get(&[
            ("connectionx", "1"),
            ("x-upgrade", "1"),
            ("tex", "gzip"),
            ("keep-alivf", "1"),
            ("transfer-encodings", "1"),
        ]),
        NO_EXT,
    );
}

// ---- RFC 9113 §8.2.3 Compressing the Cookie Header Field ----

#[test]
fn cookie_crumbs_are_allowed() {
    accepted(
        Kind::Request,
        &get(&[("cookie", "a=b"), ("cookie", "c=d"), ("cookie", "e=f")]),
        NO_EXT,
    );
}

// ---- RFC 9113 §8.3 HTTP Control Data ----

#[test]
fn undefined_pseudo_header_is_malformed() {
    let mut block = fields(&[(":foo", "bar")]);
    block.extend(get(&[]));
    refused(Kind::Request, &block, NO_EXT, reason::UNKNOWN_PSEUDO);
    refused(
        Kind::Response,
        &fields(&[(":status", "200"), (":reason", "OK")]),
        NO_EXT,
        reason::UNKNOWN_PSEUDO,
    );
    refused(
        Kind::Request,
        &fields(&[(":", "x")]),
        NO_EXT,
        reason::UNKNOWN_PSEUDO,
    );
}

#[test]
fn pseudo_header_in_trailers_is_malformed() {
    refused(
        Kind::Trailers,
        &fields(&[(":status", "200")]),
        NO_EXT,
        reason::PSEUDO_IN_TRAILERS,
    );
    refused(
        Kind::Trailers,
        &fields(&[("grpc-status", "0"), (":path", "/")]),
        NO_EXT,
        reason::PSEUDO_IN_TRAILERS,
    );
}

#[test]
fn same_pseudo_header_twice_is_malformed() {
    for name in [":method", ":scheme", ":authority", ":path"] {
        let mut block = get(&[]);
        block.insert(0, field(name.as_bytes(), b"x"));
        refused(Kind::Request, &block, NO_EXT, reason::DUPLICATE_PSEUDO);
    }
    refused(
        Kind::Response,
        &fields(&[(":status", "200"), (":status", "200")]),
        NO_EXT,
        reason::DUPLICATE_PSEUDO,
    );
}

#[test]
fn pseudo_header_after_regular_field_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            ("accept", "*/*"),
            (":path", "/"),
        ]),
        NO_EXT,
        reason::PSEUDO_AFTER_REGULAR,
    );
    refused(
        Kind::Response,
        &fields(&[("server", "x"), (":status", "200")]),
        NO_EXT,
        reason::PSEUDO_AFTER_REGULAR,
    );
}

#[test]
fn response_pseudo_header_in_request_is_malformed() {
    let mut block = get(&[]);
    block.insert(0, field(b":status", b"200"));
    refused(
        Kind::Request,
        &block,
        NO_EXT,
        reason::RESPONSE_PSEUDO_IN_REQUEST,
    );
    refused(
        Kind::PushPromiseRequest,
        &block,
        NO_EXT,
        reason::RESPONSE_PSEUDO_IN_REQUEST,
    );
}

#[test]
fn request_pseudo_header_in_response_is_malformed() {
    for name in [":method", ":scheme", ":authority", ":path", ":protocol"] {
        let mut block = response("200", &[]);
        block.push(field(name.as_bytes(), b"x"));
        refused(
            Kind::Response,
            &block,
            EXT,
            reason::REQUEST_PSEUDO_IN_RESPONSE,
        );
    }
}

// ---- RFC 9113 §8.3.1 Request Pseudo-Header Fields ----

#[test]
fn valid_request_is_accepted() {
    let info = accepted(Kind::Request, &get(&[("accept", "*/*")]), NO_EXT);
    assert_eq!(info, MessageInfo::default());
}

#[test]
fn request_without_method_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[(":scheme", "https"), (":authority", "a"), (":path", "/")]),
        NO_EXT,
        reason::MISSING_METHOD,
    );
}

#[test]
fn request_without_scheme_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[(":method", "GET"), (":authority", "a"), (":path", "/")]),
        NO_EXT,
        reason::MISSING_SCHEME,
    );
}

#[test]
fn request_without_path_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
        ]),
        NO_EXT,
        reason::MISSING_PATH,
    );
}

#[test]
fn empty_path_is_malformed() {
    for scheme in ["https", "foo"] {
        refused(
            Kind::Request,
            &fields(&[
                (":method", "GET"),
                (":scheme", scheme),
                (":authority", "a"),
                (":path", ""),
            ]),
            NO_EXT,
            reason::EMPTY_PATH,
        );
    }
}

#[test]
fn method_that_is_not_a_token_is_malformed() {
    for method in ["", "GE T", "GET\"", "G(T"] {
        refused(
            Kind::Request,
            &fields(&[
                (":method", method),
                (":scheme", "https"),
                (":authority", "a"),
                (":path", "/"),
            ]),
            NO_EXT,
            reason::INVALID_METHOD,
        );
    }
}

#[test]
fn scheme_that_is_not_a_uri_scheme_is_malformed() {
    for scheme in ["", "1http", "ht tp", "http:", "-x"] {
        refused(
            Kind::Request,
            &fields(&[
                (":method", "GET"),
                (":scheme", scheme),
                (":authority", "a"),
                (":path", "/"),
            ]),
            NO_EXT,
            reason::INVALID_SCHEME,
        );
    }
}

#[test]
fn http_path_not_starting_with_slash_is_malformed() {
    for path in ["index.html", "http://a/", "?q"] {
        refused(
            Kind::Request,
            &fields(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", "a"),
                (":path", path),
            ]),
            NO_EXT,
            reason::INVALID_PATH,
        );
    }
}

#[test]
fn asterisk_path_is_allowed_for_options() {
    accepted(
        Kind::Request,
        &fields(&[
            (":method", "OPTIONS"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "*"),
        ]),
        NO_EXT,
    );
}

#[test]
fn asterisk_path_for_method_other_than_options_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "*"),
        ]),
        NO_EXT,
        reason::ASTERISK_NOT_OPTIONS,
    );
}

#[test]
fn path_of_other_scheme_need_only_be_non_empty() {
    accepted(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "urn"),
            (":path", "isbn:123"),
        ]),
        NO_EXT,
    );
}

#[test]
fn http_request_without_authority_or_host_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]),
        NO_EXT,
        reason::MISSING_AUTHORITY,
    );
}

#[test]
fn http_request_with_host_instead_of_authority_is_allowed() {
    accepted(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            ("host", "example.com"),
        ]),
        NO_EXT,
    );
}

#[test]
fn empty_authority_or_host_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", ""),
            (":path", "/"),
        ]),
        NO_EXT,
        reason::EMPTY_AUTHORITY,
    );
    refused(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/"),
            ("host", ""),
        ]),
        NO_EXT,
        reason::EMPTY_AUTHORITY,
    );
}

#[test]
fn authority_with_userinfo_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "user:pass@example.com"),
            (":path", "/"),
        ]),
        NO_EXT,
        reason::USERINFO_IN_AUTHORITY,
    );
}

#[test]
fn userinfo_is_found_wherever_the_at_sign_is() {
    // The '@' is searched eight bytes at a time: try it at every position of short and long
    // authorities, and authorities with no '@' but every other byte a word may hold.
    for len in 1..40 {
        for at in 0..len {
            let mut authority = vec![b'a'; len];
            authority[at] = b'@';
            let mut block = get(&[]);
            block[2].value = Bytes::from(authority);
            refused(Kind::Request, &block, NO_EXT, reason::USERINFO_IN_AUTHORITY);
        }
        let mut block = get(&[]);
        block[2].value = Bytes::from(
            (0..len)
                .map(|i| b'!' + (i % 90) as u8)
                .filter(|&b| b != b'@')
                .collect::<Vec<u8>>(),
        );
        accepted(Kind::Request, &block, NO_EXT);
    }
}

#[test]
fn received_host_differing_from_authority_is_accepted() {
    let block = get(&[("host", "other.example")]);
    assert!(check(Kind::Request, &block, 0, &NO_EXT).is_ok());
}

#[test]
fn client_must_not_generate_host_differing_from_authority() {
    let block = get(&[("host", "other.example")]);
    assert_eq!(
        check_outgoing(Kind::Request, &block, &NO_EXT),
        Err(Malformed(reason::HOST_DIFFERS))
    );
    // The same authority, spelled with other case, is the same entity.
    assert!(check_outgoing(Kind::Request, &get(&[("host", "Example.COM")]), &NO_EXT).is_ok());
}

#[test]
fn head_request_is_reported() {
    let mut block = get(&[]);
    block[0] = field(b":method", b"HEAD");
    assert!(accepted(Kind::Request, &block, NO_EXT).method_is_head);
}

#[test]
fn methods_are_case_sensitive() {
    let mut block = get(&[]);
    block[0] = field(b":method", b"head");
    let info = accepted(Kind::Request, &block, NO_EXT);
    assert!(!info.method_is_head);
    // A lowercase "connect" is an ordinary method, so it needs :scheme and :path.
    refused(
        Kind::Request,
        &fields(&[(":method", "connect"), (":authority", "a:443")]),
        NO_EXT,
        reason::MISSING_SCHEME,
    );
}

// ---- RFC 9113 §8.5 The CONNECT Method ----

#[test]
fn connect_request_is_accepted() {
    let info = accepted(
        Kind::Request,
        &fields(&[(":method", "CONNECT"), (":authority", "example.com:443")]),
        NO_EXT,
    );
    assert!(info.method_is_connect);
    assert_eq!(info.extended_connect_protocol, None);
}

#[test]
fn connect_with_scheme_or_path_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[
            (":method", "CONNECT"),
            (":scheme", "https"),
            (":authority", "a:443"),
        ]),
        NO_EXT,
        reason::CONNECT_WITH_SCHEME_OR_PATH,
    );
    refused(
        Kind::Request,
        &fields(&[
            (":method", "CONNECT"),
            (":authority", "a:443"),
            (":path", "/"),
        ]),
        NO_EXT,
        reason::CONNECT_WITH_SCHEME_OR_PATH,
    );
}

#[test]
fn connect_without_authority_is_malformed() {
    refused(
        Kind::Request,
        &fields(&[(":method", "CONNECT"), ("host", "a:443")]),
        NO_EXT,
        reason::CONNECT_WITHOUT_AUTHORITY,
    );
    refused(
        Kind::Request,
        &fields(&[(":method", "CONNECT"), (":authority", "")]),
        NO_EXT,
        reason::EMPTY_AUTHORITY,
    );
}

// ---- RFC 8441 §3, §4 Extended CONNECT ----

fn websocket(extra: &[(&'static str, &'static str)]) -> Vec<Header> {
    let mut block = fields(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/chat"),
    ]);
    block.extend(fields(extra));
    block
}

#[test]
fn extended_connect_is_accepted_when_enabled() {
    let info = accepted(Kind::Request, &websocket(&[]), EXT);
    assert!(info.method_is_connect);
    assert_eq!(
        info.extended_connect_protocol,
        Some(Bytes::from_static(b"websocket"))
    );
}

#[test]
fn protocol_without_enable_connect_protocol_is_malformed() {
    refused(
        Kind::Request,
        &websocket(&[]),
        NO_EXT,
        reason::PROTOCOL_NOT_ENABLED,
    );
}

#[test]
fn protocol_on_method_other_than_connect_is_malformed() {
    let mut block = websocket(&[]);
    block[0] = field(b":method", b"GET");
    refused(Kind::Request, &block, EXT, reason::PROTOCOL_WITHOUT_CONNECT);
}

#[test]
fn extended_connect_without_scheme_or_path_is_malformed() {
    let mut block = websocket(&[]);
    block.remove(2);
    refused(Kind::Request, &block, EXT, reason::MISSING_SCHEME);
    let mut block = websocket(&[]);
    block.remove(4);
    refused(Kind::Request, &block, EXT, reason::MISSING_PATH);
}

#[test]
fn extended_connect_without_authority_is_malformed() {
    let mut block = websocket(&[("host", "example.com")]);
    block.remove(3);
    refused(
        Kind::Request,
        &block,
        EXT,
        reason::CONNECT_WITHOUT_AUTHORITY,
    );
}

#[test]
fn empty_protocol_is_malformed() {
    let mut block = websocket(&[]);
    block[1] = field(b":protocol", b"");
    refused(Kind::Request, &block, EXT, reason::EMPTY_PROTOCOL);
}

// ---- RFC 9113 §8.4 Server Push ----

#[test]
fn promised_get_or_head_request_is_accepted() {
    accepted(Kind::PushPromiseRequest, &get(&[]), NO_EXT);
    accepted(
        Kind::PushPromiseRequest,
        &get(&[("content-length", "0")]),
        NO_EXT,
    );
    let mut block = get(&[]);
    block[0] = field(b":method", b"HEAD");
    assert!(accepted(Kind::PushPromiseRequest, &block, NO_EXT).method_is_head);
}

#[test]
fn promised_request_that_is_not_safe_and_cacheable_is_malformed() {
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let mut block = get(&[]);
        block[0] = field(b":method", method.as_bytes());
        refused(
            Kind::PushPromiseRequest,
            &block,
            NO_EXT,
            reason::PUSH_UNSAFE_METHOD,
        );
    }
    refused(
        Kind::PushPromiseRequest,
        &fields(&[(":method", "CONNECT"), (":authority", "a:443")]),
        NO_EXT,
        reason::PUSH_UNSAFE_METHOD,
    );
}

#[test]
fn promised_request_with_content_is_malformed() {
    refused(
        Kind::PushPromiseRequest,
        &get(&[("content-length", "5")]),
        NO_EXT,
        reason::PUSH_WITH_CONTENT,
    );
}

#[test]
fn promised_request_without_authority_is_malformed() {
    refused(
        Kind::PushPromiseRequest,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/"),
            ("host", "a"),
        ]),
        NO_EXT,
        reason::PUSH_WITHOUT_AUTHORITY,
    );
}

#[test]
fn promised_request_follows_request_rules() {
    refused(
        Kind::PushPromiseRequest,
        &fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
        ]),
        NO_EXT,
        reason::MISSING_PATH,
    );
}

// ---- RFC 9113 §8.3.2 Response Pseudo-Header Fields, §8.6 ----

#[test]
fn final_response_is_reported() {
    let info = accepted(Kind::Response, &response("204", &[]), NO_EXT);
    assert_eq!(info.status, Some(204));
    assert!(!info.is_informational);
    assert_eq!(
        accepted(Kind::Response, &response("599", &[]), NO_EXT).status,
        Some(599)
    );
}

#[test]
fn informational_response_is_reported() {
    for (text, code) in [("100", 100), ("103", 103), ("199", 199)] {
        let info = accepted(Kind::Response, &response(text, &[]), NO_EXT);
        assert_eq!(info.status, Some(code));
        assert!(info.is_informational);
    }
}

#[test]
fn response_without_status_is_malformed() {
    refused(
        Kind::Response,
        &fields(&[("server", "x")]),
        NO_EXT,
        reason::MISSING_STATUS,
    );
}

#[test]
fn status_that_is_not_three_digits_is_malformed() {
    for status in ["", "20", "2000", "2a0", "+20", "20 ", "２00", "0200"] {
        let block = vec![field(b":status", status.as_bytes())];
        let expected = if status.ends_with(' ') {
            reason::VALUE_WHITESPACE
        } else {
            reason::INVALID_STATUS
        };
        refused(Kind::Response, &block, NO_EXT, expected);
    }
}

#[test]
fn status_outside_100_to_599_is_malformed() {
    for status in ["000", "099", "600", "999"] {
        refused(
            Kind::Response,
            &response(status, &[]),
            NO_EXT,
            reason::INVALID_STATUS,
        );
    }
}

#[test]
fn status_101_is_malformed_in_http2() {
    refused(
        Kind::Response,
        &response("101", &[("upgrade-x", "1")]),
        NO_EXT,
        reason::STATUS_101,
    );
}

// ---- content-length (RFC 9113 §8.1.1, RFC 9110 §8.6) ----

#[test]
fn content_length_is_reported() {
    let info = accepted(Kind::Request, &get(&[("content-length", "42")]), NO_EXT);
    assert_eq!(info.content_length, Some(42));
    let info = accepted(
        Kind::Response,
        &response("200", &[("content-length", "18446744073709551615")]),
        NO_EXT,
    );
    assert_eq!(info.content_length, Some(u64::MAX));
}

#[test]
fn repeated_identical_content_length_is_accepted() {
    let info = accepted(
        Kind::Request,
        &get(&[("content-length", "42, 42,42"), ("content-length", "042")]),
        NO_EXT,
    );
    assert_eq!(info.content_length, Some(42));
}

#[test]
fn differing_content_length_values_are_malformed() {
    refused(
        Kind::Request,
        &get(&[("content-length", "42, 43")]),
        NO_EXT,
        reason::CONTENT_LENGTH_MISMATCH,
    );
    refused(
        Kind::Response,
        &response("200", &[("content-length", "1"), ("content-length", "2")]),
        NO_EXT,
        reason::CONTENT_LENGTH_MISMATCH,
    );
}

#[test]
fn content_length_that_is_not_digits_is_malformed() {
    for value in [
        "", "-1", "+1", "1e3", "0x10", "4 2", "42,", ",42", "42,,42", "1.0",
    ] {
        refused(
            Kind::Request,
            &get(&[("content-length", value)]),
            NO_EXT,
            reason::INVALID_CONTENT_LENGTH,
        );
    }
}

#[test]
fn content_length_beyond_u64_is_malformed() {
    refused(
        Kind::Request,
        &get(&[("content-length", "18446744073709551616")]),
        NO_EXT,
        reason::INVALID_CONTENT_LENGTH,
    );
}

#[test]
fn content_length_up_to_u64_max_is_reported_whatever_its_digits() {
    // 19 digits and fewer take the short path; 20 digits the general one (leading zeros too).
    for (value, n) in [
        ("0", 0),
        ("007", 7),
        ("9999999999999999999", 9_999_999_999_999_999_999),
        ("18446744073709551615", u64::MAX),
        ("00000000000000000000042", 42),
        ("42, 42", 42),
    ] {
        let info = accepted(Kind::Request, &get(&[("content-length", value)]), NO_EXT);
        assert_eq!(info.content_length, Some(n), "{value}");
    }
    refused(
        Kind::Request,
        &get(&[("content-length", "5"), ("content-length", "6")]),
        NO_EXT,
        reason::CONTENT_LENGTH_MISMATCH,
    );
}

#[test]
fn content_length_in_trailers_is_not_checked() {
    let info = accepted(
        Kind::Trailers,
        &fields(&[("content-length", "nope"), ("grpc-status", "0")]),
        NO_EXT,
    );
    assert_eq!(info, MessageInfo::default());
}

// ---- RFC 9218 §4, §5 the priority field ----

#[test]
fn priority_field_of_request_is_reported() {
    let info = accepted(Kind::Request, &get(&[("priority", "u=1, i")]), NO_EXT);
    assert_eq!(
        info.priority,
        Some(Priority9218 {
            urgency: 1,
            incremental: true
        })
    );
    let info = accepted(
        Kind::Response,
        &response("200", &[("priority", "u=6")]),
        NO_EXT,
    );
    assert_eq!(info.priority.map(|p| p.urgency), Some(6));
}

#[test]
fn several_priority_lines_form_one_dictionary() {
    let info = accepted(
        Kind::Request,
        &get(&[("priority", "u=1"), ("priority", "i, u=5")]),
        NO_EXT,
    );
    assert_eq!(
        info.priority,
        Some(Priority9218 {
            urgency: 5,
            incremental: true
        })
    );
    let info = accepted(
        Kind::Request,
        &get(&[("priority", "u=1"), ("priority", "u=(")]),
        NO_EXT,
    );
    assert_eq!(info.priority, None);
}

#[test]
fn unparsable_priority_field_is_ignored_not_malformed() {
    let info = accepted(Kind::Request, &get(&[("priority", "u=1;;")]), NO_EXT);
    assert_eq!(info.priority, None);
}

#[test]
fn priority_in_trailers_is_ignored() {
    let info = accepted(Kind::Trailers, &fields(&[("priority", "u=0")]), NO_EXT);
    assert_eq!(info.priority, None);
}

fn prio(urgency: u8, incremental: bool) -> Option<Priority9218> {
    Some(Priority9218 {
        urgency,
        incremental,
    })
}

#[test]
fn priority_parameters_default_to_urgency_3_not_incremental() {
    assert_eq!(Priority9218::default(), prio(3, false).unwrap());
    assert_eq!(parse_priority_field(b""), prio(3, false));
    assert_eq!(parse_priority_field(b"   "), prio(3, false));
}

#[test]
fn urgency_is_an_integer_from_0_to_7() {
    for u in 0..=7u8 {
        let value = format!("u={u}");
        assert_eq!(parse_priority_field(value.as_bytes()), prio(u, false));
    }
}

#[test]
fn incremental_is_a_boolean() {
    assert_eq!(parse_priority_field(b"i"), prio(3, true));
    assert_eq!(parse_priority_field(b"i=?1"), prio(3, true));
    assert_eq!(parse_priority_field(b"i=?0"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=0, i=?1"), prio(0, true));
}

#[test]
fn out_of_range_or_mistyped_parameters_are_ignored() {
    assert_eq!(parse_priority_field(b"u=8"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=-1"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=999999999999999"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=1.0"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=\"1\""), prio(3, false));
    assert_eq!(parse_priority_field(b"u=?1"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=(1)"), prio(3, false));
    assert_eq!(parse_priority_field(b"i=1"), prio(3, false));
    assert_eq!(parse_priority_field(b"i=tok, u=2"), prio(2, false));
    // The last value of a key is the one that counts, even when it is ignored.
    assert_eq!(parse_priority_field(b"u=1, u=9"), prio(3, false));
    assert_eq!(parse_priority_field(b"u=1, u=2"), prio(2, false));
}

#[test]
fn unknown_keys_and_parameters_are_ignored() {
    assert_eq!(
        parse_priority_field(b"x=1, u=2;q=\"a\\\"b\";r, y=(a \"b\" 1.5 ?0 :AAE=:);s=tok/x:y, i"),
        prio(2, true)
    );
    assert_eq!(
        parse_priority_field(b"*k=@1659578233, d=%\"caf%c3%a9\", b=:YWJj:, u=4"),
        prio(4, false)
    );
    assert_eq!(parse_priority_field(b"u=1;i"), prio(1, false));
}

#[test]
fn optional_whitespace_around_members_is_allowed() {
    assert_eq!(parse_priority_field(b"  u=1 ,\ti  "), prio(1, true));
    assert_eq!(parse_priority_field(b"u=1,i"), prio(1, true));
    assert_eq!(parse_priority_field(b"u=1;  a=2, i"), prio(1, true));
}

#[test]
fn invalid_structured_field_is_unparsable() {
    for value in [
        &b"u="[..],
        b"U=1",
        b"u=1,",
        b",u=1",
        b"u=1;;",
        b"u=1 i",
        b"u = 1",
        b"\tu=1",
        b"u=1234567890123456",
        b"u=1234567890123.0",
        b"u=1.",
        b"u=1.2345",
        b"u=-",
        b"u=\"abc",
        b"u=\"a\\b\"",
        b"u=\"\x01\"",
        b"u=:abc",
        b"u=?2",
        b"u=(a",
        b"u=(a,b)",
        b"u=@1.5",
        b"u=%\"%ZZ\"",
        b"u=%\"%C3\"",
        b"u=!",
        b"0u=1",
        b"u=1\xff",
    ] {
        assert_eq!(
            parse_priority_field(value),
            None,
            "{:?}",
            String::from_utf8_lossy(value)
        );
    }
}

// ---- Robustness ----

proptest::proptest! {
    #[test]
    fn check_never_panics(
        block in proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    &b":method"[..], b":scheme", b":authority", b":path", b":protocol",
                    b":status", b"host", b"te", b"content-length", b"priority", b"x", b"",
                ]),
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8),
            ),
            0..8,
        ),
        kind in proptest::sample::select(vec![
            Kind::Request, Kind::Response, Kind::Trailers, Kind::PushPromiseRequest,
        ]),
        ext in proptest::prelude::any::<bool>(),
    ) {
        let block: Vec<Header> = block
            .into_iter()
            .map(|(n, v)| Header {
                name: Bytes::from_static(n),
                value: Bytes::from(v),
                sensitive: false,
            })
            .collect();
        let opts = CheckOptions { enable_connect_protocol: ext };
        let _ = check(kind, &block, 0, &opts);
        let _ = check(kind, &block, u64::MAX, &opts);
        let _ = check_outgoing(kind, &block, &opts);
    }

    #[test]
    fn parse_priority_field_never_panics(value in proptest::collection::vec(
        proptest::sample::select(b"ui=?01-.;,() \t\"\\:@%*aZ9".to_vec()),
        0..24,
    )) {
        if let Some(p) = parse_priority_field(&value) {
            proptest::prop_assert!(p.urgency <= Priority9218::LOWEST_URGENCY);
        }
    }
}

/// The word-at-a-time byte tests agree with the byte-at-a-time rules for every byte at every
/// position of every length up to three words.
#[test]
fn word_tests_agree_with_byte_rules() {
    for len in 1..=24 {
        for pos in 0..len {
            for b in 0..=255u8 {
                let mut s = vec![b'a'; len];
                s[pos] = b;
                assert_eq!(
                    words::any(&s, words::bad_name_byte),
                    !NAME_BYTE_OK[usize::from(b)],
                    "name byte {b:#04x} at {pos} of {len}"
                );
                assert_eq!(
                    words::any(&s, words::bad_value_byte),
                    matches!(b, 0 | b'\r' | b'\n'),
                    "value byte {b:#04x} at {pos} of {len}"
                );
            }
        }
    }
    assert!(!words::any(b"", words::bad_name_byte));
    assert!(!words::any(b"", words::bad_value_byte));
}
