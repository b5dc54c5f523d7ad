//! HTTP semantics of a header block: RFC 9113 §8.1–§8.5, RFC 8441 §4 (extended CONNECT) and the
//! `priority` field of RFC 9218 §4–§5.
//!
//! [`check`] validates a block received from the peer; [`check_outgoing`] applies the same rules
//! to a block the application asks us to send. Both are pure, make one pass over the fields and
//! allocate nothing. A received block that fails is *malformed* (§8.1.1): the connection answers
//! with a stream error of type PROTOCOL_ERROR and does not deliver the message. A block to send
//! that fails is the caller's error: nothing goes on the wire.
//!
//! Rules that are deliberately *not* enforced here:
//! - a `host` field that differs from `:authority` in a received request is accepted (RFC 9113
//!   §8.3.1 says a server SHOULD reject it, after normalizing both; servers use `:authority`).
//!   We refuse to *send* such a request: "Clients MUST NOT generate" it;
//! - several `cookie` fields (§8.2.3 crumbs) are valid; the connection may concatenate them;
//! - whether the DATA frames add up to `content-length` (§8.1.1) and whether an informational
//!   response ends the stream are for the connection, using [`MessageInfo`].

mod priority_field;

use crate::field;
#[cfg(test)]
use crate::field::words;
use crate::Header;
use bytes::Bytes;
use std::fmt;

/// What kind of header block this is, as known by the connection (RFC 9113 §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// The header section of a request (RFC 9113 §8.3.1), opening a stream.
    Request,
    /// The header section of a response (RFC 9113 §8.3.2), informational (1xx) or final.
    Response,
    /// A trailer section (RFC 9113 §8.1): a HEADERS block after the header section, which ends
    /// the stream and carries no pseudo-header field.
    Trailers,
    /// The request promised in a PUSH_PROMISE frame (RFC 9113 §8.4): a request that must be safe,
    /// cacheable and without content.
    PushPromiseRequest,
}

/// Settings that change which blocks are valid (RFC 8441 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CheckOptions {
    /// RFC 8441 §3 SETTINGS_ENABLE_CONNECT_PROTOCOL: for [`check`], whether *we* advertised 1
    /// (so the peer may send `:protocol`); for [`check_outgoing`], whether the *peer* did (so
    /// we may).
    pub enable_connect_protocol: bool,
}

/// The facts the connection needs from a valid header block (RFC 9113 §8.1, §8.3, §8.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MessageInfo {
    /// The `content-length` (RFC 9113 §8.1.1), which the sum of the DATA payloads must equal.
    /// Never set for trailers, where the field is not checked.
    pub content_length: Option<u64>,
    /// The `:status` of a response (RFC 9113 §8.3.2), 100..=599 and never 101.
    pub status: Option<u16>,
    /// The response is informational (1xx, RFC 9113 §8.1): more header sections follow.
    pub is_informational: bool,
    /// The request is CONNECT (RFC 9113 §8.5), plain or extended (RFC 8441 §4).
    pub method_is_connect: bool,
    /// The request is HEAD (RFC 9110 §9.3.2): its response has no content whatever its
    /// `content-length` (RFC 9113 §8.1.1).
    pub method_is_head: bool,
    /// The `:protocol` of an extended CONNECT request (RFC 8441 §4), e.g. `websocket`.
    pub extended_connect_protocol: Option<Bytes>,
    /// The `priority` field (RFC 9218 §5) of a request or response, when present and parsable.
    /// `None` means the defaults of [`Priority9218::default`] apply.
    pub priority: Option<Priority9218>,
}

/// The priority parameters of RFC 9218 §4: urgency and incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Priority9218 {
    /// RFC 9218 §4.1 `u`: 0 (most urgent) to 7 (least urgent); 3 by default.
    pub urgency: u8,
    /// RFC 9218 §4.2 `i`: the response can be used as it arrives; false by default.
    pub incremental: bool,
}

impl Priority9218 {
    /// RFC 9218 §4.1: the urgency of a response without a `u` parameter.
    pub(crate) const DEFAULT_URGENCY: u8 = 3;
    /// RFC 9218 §4.1: the largest (least urgent) valid urgency.
    pub(crate) const LOWEST_URGENCY: u8 = 7;
}

impl Default for Priority9218 {
    /// RFC 9218 §4.1, §4.2: `u=3`, not incremental.
    fn default() -> Self {
        Priority9218 {
            urgency: Self::DEFAULT_URGENCY,
            incremental: false,
        }
    }
}

/// A header block that breaks a MUST of RFC 9113 §8 or RFC 8441 §4, with the reason for logs.
///
/// Received, it is a malformed message (RFC 9113 §8.1.1): the peer observes RST_STREAM with
/// PROTOCOL_ERROR on that stream. Returned by [`check_outgoing`], nothing has been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed(
    /// Which rule the block breaks, in a few words.
    pub &'static str,
);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed message: {}", self.0)
    }
}

impl std::error::Error for Malformed {}

/// The reasons carried by [`Malformed`], one per rule.
pub(crate) mod reason {
    pub(super) const EMPTY_NAME: &str = "empty field name";
    pub(super) const UPPERCASE_NAME: &str = "uppercase character in field name";
    pub(super) const INVALID_NAME: &str = "invalid character in field name";
    pub(super) const INVALID_VALUE: &str = "NUL, CR or LF in field value";
    pub(super) const VALUE_WHITESPACE: &str = "field value starts or ends with whitespace";
    pub(super) const CONNECTION: &str = "connection-specific field: connection";
    pub(super) const PROXY_CONNECTION: &str = "connection-specific field: proxy-connection";
    pub(super) const KEEP_ALIVE: &str = "connection-specific field: keep-alive";
    pub(super) const TRANSFER_ENCODING: &str = "connection-specific field: transfer-encoding";
    pub(super) const UPGRADE: &str = "connection-specific field: upgrade";
    pub(super) const TE_NOT_TRAILERS: &str = "te with a value other than trailers";
    pub(super) const UNKNOWN_PSEUDO: &str = "undefined pseudo-header field";
    pub(super) const PSEUDO_IN_TRAILERS: &str = "pseudo-header field in trailers";
    pub(super) const PSEUDO_AFTER_REGULAR: &str = "pseudo-header field after a regular field";
    pub(super) const DUPLICATE_PSEUDO: &str = "pseudo-header field repeated";
    pub(super) const REQUEST_PSEUDO_IN_RESPONSE: &str = "request pseudo-header field in a response";
    pub(super) const RESPONSE_PSEUDO_IN_REQUEST: &str = "response pseudo-header field in a request";
    pub(crate) const PROTOCOL_NOT_ENABLED: &str =
        ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL";
    pub(super) const PROTOCOL_WITHOUT_CONNECT: &str = ":protocol in a request that is not CONNECT";
    pub(super) const EMPTY_PROTOCOL: &str = "empty :protocol";
    pub(super) const MISSING_METHOD: &str = "missing :method";
    pub(super) const INVALID_METHOD: &str = ":method is not a token";
    pub(super) const MISSING_SCHEME: &str = "missing :scheme";
    pub(super) const INVALID_SCHEME: &str = ":scheme is not a URI scheme";
    pub(super) const MISSING_PATH: &str = "missing :path";
    pub(super) const EMPTY_PATH: &str = "empty :path";
    pub(super) const INVALID_PATH: &str = ":path of an http(s) request is neither absolute nor *";
    pub(super) const ASTERISK_NOT_OPTIONS: &str = ":path * in a request that is not OPTIONS";
    pub(super) const MISSING_AUTHORITY: &str = "missing :authority and host";
    pub(super) const EMPTY_AUTHORITY: &str = "empty :authority or host";
    pub(super) const USERINFO_IN_AUTHORITY: &str = "userinfo in :authority";
    pub(super) const HOST_DIFFERS: &str = "host differs from :authority";
    pub(super) const CONNECT_WITH_SCHEME_OR_PATH: &str = "CONNECT with :scheme or :path";
    pub(super) const CONNECT_WITHOUT_AUTHORITY: &str = "CONNECT without :authority";
    pub(super) const PUSH_UNSAFE_METHOD: &str = "promised request is not GET or HEAD";
    pub(super) const PUSH_WITH_CONTENT: &str = "promised request with content";
    pub(super) const PUSH_WITHOUT_AUTHORITY: &str = "promised request without :authority";
    pub(super) const MISSING_STATUS: &str = "missing :status";
    pub(super) const INVALID_STATUS: &str = ":status is not three digits in 100..=599";
    pub(super) const STATUS_101: &str = ":status 101 is not allowed in HTTP/2";
    pub(super) const INVALID_CONTENT_LENGTH: &str = "content-length is not a decimal number";
    pub(super) const CONTENT_LENGTH_MISMATCH: &str = "content-length values differ";
}

/// Validates a received header block against RFC 9113 §8.1–§8.5 and RFC 8441 §4 and returns
/// what the connection needs from it.
///
/// Bit `i` of `vouched` says field `i` is known to pass the byte rules of §8.2.1
/// ([`field::field_ok`]): the HPACK decoder checked it as it entered the dynamic table, so its
/// bytes are not scanned again. Every other rule applies to every field.
///
/// `Err` means the message is malformed (RFC 9113 §8.1.1): the connection must answer with a
/// stream error PROTOCOL_ERROR, which the peer observes as RST_STREAM on that stream, and must
/// not deliver the message.
pub(crate) fn check(
    kind: Kind,
    headers: &[Header],
    vouched: u64,
    opts: &CheckOptions,
) -> Result<MessageInfo, Malformed> {
    check_block(kind, headers, vouched, opts, Direction::Received)
}

/// Validates a header block the application asks us to send, with the rules of [`check`]: the
/// MUSTs of RFC 9113 §8 bind the sender first. In addition, a request whose `host` differs from
/// its `:authority` (ASCII case-insensitively) is refused (§8.3.1: "Clients MUST NOT generate"
/// it).
///
/// `Err` is the caller's mistake: nothing is sent and the peer observes nothing.
pub(crate) fn check_outgoing(
    kind: Kind,
    headers: &[Header],
    opts: &CheckOptions,
) -> Result<MessageInfo, Malformed> {
    check_block(kind, headers, 0, opts, Direction::Sent)
}

/// Parses the value of a `priority` field, a Structured Field Dictionary (RFC 9218 §4, §5).
///
/// `u=N` sets the urgency and `i`, `i=?1` or `i=?0` the incremental flag; unknown members and
/// all parameters are ignored, and a `u` or `i` out of range or of another type is ignored too,
/// leaving its default (§4). `None` when the value is not a valid dictionary: the caller then
/// uses the defaults (§4: the field as a whole is ignored).
pub(crate) fn parse_priority_field(value: &[u8]) -> Option<Priority9218> {
    let mut priority = Priority9218::default();
    priority_field::apply(value, &mut priority).map(|()| priority)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Received,
    Sent,
}

/// The pseudo-header fields of RFC 9113 §8.3 and RFC 8441 §4.
#[derive(Clone, Copy)]
enum Pseudo {
    Method,
    Scheme,
    Authority,
    Path,
    Protocol,
    Status,
}

/// Regular fields that some rule looks at; names compared by length first, then bytes.
#[derive(Clone, Copy)]
enum Regular {
    /// RFC 9113 §8.2.2, with the reason naming it.
    ConnectionSpecific(&'static str),
    Te,
    Host,
    ContentLength,
    Priority,
    Other,
}

// Names are compared with `==` on a slice of known length, which compiles to a few word
// compares; a `match` on byte-string patterns would compare byte by byte.
fn pseudo_name(name: &[u8]) -> Option<Pseudo> {
    // `name` includes the leading ':'.
    match name.len() {
        5 if name == b":path" => Some(Pseudo::Path),
        7 if name == b":method" => Some(Pseudo::Method),
        7 if name == b":scheme" => Some(Pseudo::Scheme),
        7 if name == b":status" => Some(Pseudo::Status),
        9 if name == b":protocol" => Some(Pseudo::Protocol),
        10 if name == b":authority" => Some(Pseudo::Authority),
        _ => None,
    }
}

fn regular_name(name: &[u8]) -> Regular {
    match name.len() {
        2 if name == b"te" => Regular::Te,
        4 if name == b"host" => Regular::Host,
        7 if name == b"upgrade" => Regular::ConnectionSpecific(reason::UPGRADE),
        8 if name == b"priority" => Regular::Priority,
        10 if name == b"connection" => Regular::ConnectionSpecific(reason::CONNECTION),
        10 if name == b"keep-alive" => Regular::ConnectionSpecific(reason::KEEP_ALIVE),
        14 if name == b"content-length" => Regular::ContentLength,
        16 if name == b"proxy-connection" => Regular::ConnectionSpecific(reason::PROXY_CONNECTION),
        17 if name == b"transfer-encoding" => {
            Regular::ConnectionSpecific(reason::TRANSFER_ENCODING)
        }
        _ => Regular::Other,
    }
}

/// RFC 9113 §8.2.1: bytes allowed in a field name, that is, none of 0x00–0x20, 0x41–0x5A,
/// 0x7F–0xFF, and no ':' (the leading ':' of a pseudo-header is stripped before the lookup).
const NAME_BYTE_OK: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = !(b >= 0x41 && b <= 0x5a) && b != 0x3a;
        b += 1;
    }
    table
};

/// RFC 9113 §8.2.1 for a name, without its leading ':' if it is a pseudo-header.
fn check_name_bytes(name: &[u8]) -> Result<(), Malformed> {
    // The common case, a valid name, eight bytes at a time; the byte loop only names the reason.
    if field::name_ok(name) {
        return Ok(());
    }
    for &b in name {
        if !NAME_BYTE_OK[usize::from(b)] {
            return Err(Malformed(if b.is_ascii_uppercase() {
                reason::UPPERCASE_NAME
            } else {
                reason::INVALID_NAME
            }));
        }
    }
    Ok(())
}

/// RFC 9113 §8.2.1: no NUL, CR or LF anywhere; no SP or HTAB first or last.
fn check_value(value: &[u8]) -> Result<(), Malformed> {
    if field::value_ok(value) {
        return Ok(());
    }
    if field::value_edge_is_whitespace(value) {
        return Err(Malformed(reason::VALUE_WHITESPACE));
    }
    Err(Malformed(reason::INVALID_VALUE))
}

/// The pseudo-header values seen so far, each at most once (RFC 9113 §8.3).
#[derive(Default)]
struct PseudoValues<'a> {
    method: Option<&'a Bytes>,
    scheme: Option<&'a Bytes>,
    authority: Option<&'a Bytes>,
    path: Option<&'a Bytes>,
    protocol: Option<&'a Bytes>,
    status: Option<&'a Bytes>,
}

fn check_block(
    kind: Kind,
    headers: &[Header],
    vouched: u64,
    opts: &CheckOptions,
    direction: Direction,
) -> Result<MessageInfo, Malformed> {
    let is_request = matches!(kind, Kind::Request | Kind::PushPromiseRequest);
    let mut pseudo = PseudoValues::default();
    let mut regular_seen = false;
    let mut host_seen = false;
    let mut host_empty = false;
    let mut content_length = None;
    // RFC 9651 §4.2: several `priority` lines form one dictionary; one bad line spoils it all.
    let mut priority = Priority9218::default();
    let mut priority_seen = false;
    let mut priority_valid = true;

    for (i, header) in headers.iter().enumerate() {
        let name = &header.name[..];
        let value = &header.value[..];
        let bytes_ok = i < 64 && (vouched >> i) & 1 == 1;
        if !bytes_ok {
            check_value(value)?;
        }

        if let Some(rest) = name.strip_prefix(b":") {
            // A name we recognise is made of valid bytes: only an unknown one needs the scan.
            let which = pseudo_name(name);
            if which.is_none() && !bytes_ok {
                check_name_bytes(rest)?;
            }
            // §8.3: "All pseudo-header fields MUST appear in a field block before all regular
            // field lines"; none in a trailer section.
            if kind == Kind::Trailers {
                return Err(Malformed(reason::PSEUDO_IN_TRAILERS));
            }
            if regular_seen {
                return Err(Malformed(reason::PSEUDO_AFTER_REGULAR));
            }
            let which = which.ok_or(Malformed(reason::UNKNOWN_PSEUDO))?;
            let slot = match which {
                Pseudo::Status if is_request => {
                    return Err(Malformed(reason::RESPONSE_PSEUDO_IN_REQUEST))
                }
                Pseudo::Status => &mut pseudo.status,
                _ if !is_request => return Err(Malformed(reason::REQUEST_PSEUDO_IN_RESPONSE)),
                Pseudo::Method => &mut pseudo.method,
                Pseudo::Scheme => &mut pseudo.scheme,
                Pseudo::Authority => &mut pseudo.authority,
                Pseudo::Path => &mut pseudo.path,
                // RFC 8441 §3: only after SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
                Pseudo::Protocol if !opts.enable_connect_protocol => {
                    return Err(Malformed(reason::PROTOCOL_NOT_ENABLED))
                }
                Pseudo::Protocol => &mut pseudo.protocol,
            };
            if slot.is_some() {
                return Err(Malformed(reason::DUPLICATE_PSEUDO));
            }
            *slot = Some(&header.value);
            continue;
        }

        if name.is_empty() {
            return Err(Malformed(reason::EMPTY_NAME));
        }
        regular_seen = true;
        match regular_name(name) {
            // As for pseudo-headers, only a name we do not recognise needs the byte scan.
            Regular::Other if !bytes_ok => check_name_bytes(name)?,
            Regular::Other => {}
            Regular::ConnectionSpecific(why) => return Err(Malformed(why)),
            // §8.2.2: TE "MUST NOT contain any value other than trailers" (a case-insensitive
            // token, RFC 9110 §10.1.4).
            Regular::Te => {
                if !value.eq_ignore_ascii_case(b"trailers") {
                    return Err(Malformed(reason::TE_NOT_TRAILERS));
                }
            }
            Regular::Host => {
                host_seen = true;
                host_empty |= value.is_empty();
                // Every pseudo-header precedes this field, so `:authority` is final here.
                if direction == Direction::Sent && is_request {
                    if let Some(authority) = pseudo.authority {
                        if !value.eq_ignore_ascii_case(authority) {
                            return Err(Malformed(reason::HOST_DIFFERS));
                        }
                    }
                }
            }
            Regular::ContentLength => {
                if kind != Kind::Trailers {
                    content_length = Some(parse_content_length(value, content_length)?);
                }
            }
            Regular::Priority => {
                if kind != Kind::Trailers {
                    priority_seen = true;
                    if priority_valid {
                        priority_valid = priority_field::apply(value, &mut priority).is_some();
                    }
                }
            }
        }
    }

    let mut info = MessageInfo {
        content_length,
        priority: (priority_seen && priority_valid).then_some(priority),
        ..MessageInfo::default()
    };
    match kind {
        Kind::Trailers => {}
        Kind::Response => {
            let status = parse_status(pseudo.status)?;
            info.status = Some(status);
            info.is_informational = status < 200;
        }
        Kind::Request | Kind::PushPromiseRequest => {
            check_request(
                kind,
                &pseudo,
                host_seen,
                host_empty,
                content_length,
                &mut info,
            )?;
        }
    }
    Ok(info)
}

/// RFC 9113 §8.3.1, §8.4 and §8.5, and RFC 8441 §4, once every field has been seen.
fn check_request(
    kind: Kind,
    pseudo: &PseudoValues<'_>,
    host_seen: bool,
    host_empty: bool,
    content_length: Option<u64>,
    info: &mut MessageInfo,
) -> Result<(), Malformed> {
    let method = &pseudo.method.ok_or(Malformed(reason::MISSING_METHOD))?[..];
    // RFC 9110 §9.1: method = token (the usual methods are, without the scan).
    let common = match method.len() {
        3 => method == b"GET" || method == b"PUT",
        4 => method == b"POST" || method == b"HEAD",
        _ => false,
    };
    if !common && (method.is_empty() || !method.iter().all(|&b| priority_field::is_tchar(b))) {
        return Err(Malformed(reason::INVALID_METHOD));
    }
    // Methods are case-sensitive (RFC 9110 §9.1).
    info.method_is_connect = method == b"CONNECT";
    info.method_is_head = method == b"HEAD";

    if let Some(protocol) = pseudo.protocol {
        // RFC 8441 §4: `:protocol` turns a CONNECT request into an extended CONNECT.
        if !info.method_is_connect {
            return Err(Malformed(reason::PROTOCOL_WITHOUT_CONNECT));
        }
        if protocol.is_empty() {
            return Err(Malformed(reason::EMPTY_PROTOCOL));
        }
        info.extended_connect_protocol = Some(protocol.clone());
    }

    if info.method_is_connect && pseudo.protocol.is_none() {
        // §8.5: ":scheme and :path pseudo-header fields MUST be omitted"; ":authority
        // pseudo-header field contains the host and port to connect to".
        if pseudo.scheme.is_some() || pseudo.path.is_some() {
            return Err(Malformed(reason::CONNECT_WITH_SCHEME_OR_PATH));
        }
        match pseudo.authority {
            None => return Err(Malformed(reason::CONNECT_WITHOUT_AUTHORITY)),
            Some(a) if a.is_empty() => return Err(Malformed(reason::EMPTY_AUTHORITY)),
            Some(_) => {}
        }
    } else {
        // §8.3.1: "All HTTP/2 requests MUST include exactly one valid value for the :method,
        // :scheme, and :path pseudo-header fields, unless they are CONNECT requests"; RFC 8441
        // §4: an extended CONNECT includes :scheme and :path too.
        let scheme = &pseudo.scheme.ok_or(Malformed(reason::MISSING_SCHEME))?[..];
        // The usual spellings first: they are valid schemes, without the scan.
        let lowercase_http = scheme == b"http" || scheme == b"https";
        if !lowercase_http && !is_scheme(scheme) {
            return Err(Malformed(reason::INVALID_SCHEME));
        }
        let path = &pseudo.path.ok_or(Malformed(reason::MISSING_PATH))?[..];
        if path.is_empty() {
            return Err(Malformed(reason::EMPTY_PATH));
        }
        let is_http = lowercase_http
            || scheme.eq_ignore_ascii_case(b"http")
            || scheme.eq_ignore_ascii_case(b"https");
        if is_http {
            // §8.3.1: an http(s) :path is "/..." or, for OPTIONS only, "*".
            if path == b"*" {
                if method != b"OPTIONS" {
                    return Err(Malformed(reason::ASTERISK_NOT_OPTIONS));
                }
            } else if path[0] != b'/' {
                return Err(Malformed(reason::INVALID_PATH));
            }
            // §8.3.1: a scheme with a mandatory authority "MUST contain either an :authority
            // pseudo-header field or a Host header field. If these fields are present, they MUST
            // NOT be empty"; and the authority "MUST NOT include the deprecated userinfo".
            match pseudo.authority {
                Some(a) if a.is_empty() => return Err(Malformed(reason::EMPTY_AUTHORITY)),
                Some(a) if contains_at(a) => return Err(Malformed(reason::USERINFO_IN_AUTHORITY)),
                Some(_) => {}
                None if !host_seen => return Err(Malformed(reason::MISSING_AUTHORITY)),
                None => {}
            }
            if host_empty {
                return Err(Malformed(reason::EMPTY_AUTHORITY));
            }
        }
        // RFC 8441 §4: the extended CONNECT names the tunnel's peer in :authority.
        if pseudo.protocol.is_some() && pseudo.authority.is_none_or(|a| a.is_empty()) {
            return Err(Malformed(reason::CONNECT_WITHOUT_AUTHORITY));
        }
    }

    if kind == Kind::PushPromiseRequest {
        // §8.4: "Promised requests MUST be safe ... and cacheable" (GET and HEAD are both) and
        // "cannot include any content"; "The server MUST include a value in the :authority
        // pseudo-header field for which the server is authoritative".
        if method != b"GET" && method != b"HEAD" {
            return Err(Malformed(reason::PUSH_UNSAFE_METHOD));
        }
        if content_length.is_some_and(|n| n > 0) {
            return Err(Malformed(reason::PUSH_WITH_CONTENT));
        }
        if pseudo.authority.is_none() {
            return Err(Malformed(reason::PUSH_WITHOUT_AUTHORITY));
        }
    }
    Ok(())
}

/// Whether `authority` contains '@' (userinfo, RFC 3986 §3.2.1), eight bytes at a time.
#[inline]
fn contains_at(authority: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Zero lanes of `v ^ '@'...` are '@' bytes (exact as to whether one exists).
    field::words::any(authority, |v| {
        let x = v ^ (LO * u64::from(b'@'));
        x.wrapping_sub(LO) & !x & HI
    })
}

/// RFC 3986 §3.1: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(scheme: &[u8]) -> bool {
    match scheme.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic()
                && rest
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// RFC 9113 §8.3.2 and RFC 9110 §15: `:status` is present and is three digits in 100..=599;
/// §8.6: HTTP/2 has no 101 (Switching Protocols).
fn parse_status(status: Option<&Bytes>) -> Result<u16, Malformed> {
    let status = status.ok_or(Malformed(reason::MISSING_STATUS))?;
    let code = match status[..] {
        [a @ b'1'..=b'5', b, c] if b.is_ascii_digit() && c.is_ascii_digit() => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(Malformed(reason::INVALID_STATUS)),
    };
    if code == 101 {
        return Err(Malformed(reason::STATUS_101));
    }
    Ok(code)
}

/// RFC 9110 §8.6: `content-length = 1*DIGIT`. A list (or several lines) of the same decimal
/// value is accepted as that value; differing values make the message malformed. `previous`
/// is the value of earlier `content-length` lines of the same block.
fn parse_content_length(value: &[u8], previous: Option<u64>) -> Result<u64, Malformed> {
    // The usual value, one number: up to 19 digits cannot overflow a u64.
    if (1..=19).contains(&value.len()) && value.iter().all(u8::is_ascii_digit) {
        let n = value
            .iter()
            .fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
        return match previous {
            Some(previous) if previous != n => Err(Malformed(reason::CONTENT_LENGTH_MISMATCH)),
            _ => Ok(n),
        };
    }
    let mut result = previous;
    for element in value.split(|&b| b == b',') {
        let element = trim_ows(element);
        if element.is_empty() {
            return Err(Malformed(reason::INVALID_CONTENT_LENGTH));
        }
        let mut n: u64 = 0;
        for &b in element {
            if !b.is_ascii_digit() {
                return Err(Malformed(reason::INVALID_CONTENT_LENGTH));
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
                .ok_or(Malformed(reason::INVALID_CONTENT_LENGTH))?;
        }
        match result {
            Some(previous) if previous != n => {
                return Err(Malformed(reason::CONTENT_LENGTH_MISMATCH))
            }
            _ => result = Some(n),
        }
    }
    // `split` yields at least one element, so `result` is set.
    result.ok_or(Malformed(reason::INVALID_CONTENT_LENGTH))
}

/// Strips OWS (SP / HTAB, RFC 9110 §5.6.3) around a list element.
fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests;
