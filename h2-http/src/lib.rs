//! What every runtime adapter shares above the core, with no runtime of its own: what a
//! request or response means is decided once, here and in `h2core`, never in an adapter.
//!
//! - the `http` conversions: the core's header lists (RFC 9113 §8.3, pseudo-headers first) to
//!   and from `http` types, [`Error`], [`OnInformational`];
//! - [`body`]: one `Body` for every runtime (`Async` or `Blocking`), bounded by flow control;
//! - [`oneshot`] and [`reply`]: one value from a connection to a task or a thread;
//! - [`session`]: one HTTP/2 connection's streams as a user sees them; [`drive`]: the
//!   connection as an adapter drives it (read, events, bodies, write, one deadline);
//! - [`http1`]: HTTP/1.1 exchanges on the same port, sans-IO;
//! - [`shell`]: one connection from accept to close (deciding, HTTP/1.1, `Upgrade: h2c`,
//!   HTTP/2, the write queue and close sequence), all but its socket, clock and handlers;
//! - [`handle`]: a handler's `StreamHandle` (1xx, push); [`pool`]: a client's connections;
//! - [`pushes`]: the responses a server pushes, as a task or a thread receives them;
//!   [`client`]: the client, once for every adapter ([`h2c`]: `Upgrade: h2c`; [`block`]);
//! - [`upgrade`]: an exchange as a two-way byte stream (extended CONNECT, `101`), [`Protocol`];
//! - [`websocket`]: the client's WebSocket opening handshake over HTTP/1.1 (RFC 6455 §4.1);
//! - [`deadline`]: a request's [`Deadline`] from gRPC's `grpc-timeout`;
//! - [`server`]: a server builder's settings and its graceful shutdown, for every adapter;
//! - [`tasks`]: what still runs (connection tasks), so a `serve` or a `close` waits for it;
//! - [`std_io`]: `std::net` and `std::io` for adapters whose threads block: connecting, the
//!   `Upgrade: h2c` exchange, the write queue's vectored writes;
//! - `tls` (feature `tls`): rustls configs offering ALPN `h2` and `http/1.1`, and a TLS
//!   session's records without sockets.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod block;
pub mod body;
pub mod client;
pub mod deadline;
pub mod drive;
pub mod h2c;
pub mod handle;
pub mod http1;
pub mod oneshot;
mod pipe;
pub mod pool;
pub mod pushes;
pub mod reply;
pub mod server;
pub mod session;
pub mod shell;
pub mod std_io;
pub mod tasks;
#[cfg(feature = "tls")]
pub mod tls;
pub mod upgrade;
pub mod websocket;

pub use deadline::Deadline;
pub use h2c::h2c_upgrade_request;
use h2core::Reason;
use std::fmt;

/// A message that cannot be represented with the `http` types (the core already checked the
/// RFC's rules, so this only happens for values `http` refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed {}", self.0)
    }
}

impl std::error::Error for Malformed {}

use bytes::Bytes;
use h2core::hpack::same_bytes;
use h2core::Header;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};

/// Fields the `http` crate would let a caller add but HTTP/2 forbids (RFC 9113 §8.2.2); dropped
/// rather than failing the request, as hyperium's h2 does.
fn is_connection_specific(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" | "host"
    )
}

fn push_fields(out: &mut Vec<Header>, headers: &HeaderMap) {
    // Setting up the map's iterator costs more than this test.
    if headers.is_empty() {
        return;
    }
    for (name, value) in headers {
        if is_connection_specific(name) {
            continue;
        }
        if name == http::header::TE && value != "trailers" {
            continue;
        }
        let mut h = Header::new(
            Bytes::copy_from_slice(name.as_str().as_bytes()),
            Bytes::copy_from_slice(value.as_bytes()),
        );
        h.sensitive = value.is_sensitive();
        out.push(h);
    }
}

/// A client's view of the 1xx responses to one request (RFC 9110 §15.2; RFC 9113 §8.1: any
/// number may precede the final response, e.g. 100 Continue or 103 Early Hints). Put it in the
/// request's extensions; the connection calls it with each one as it arrives, before the
/// final response is returned. Shared by every adapter's client (hyper's
/// `ext::on_informational` has the same shape).
#[derive(Clone)]
pub struct OnInformational(pub std::sync::Arc<dyn Fn(Response<()>) + Send + Sync>);

impl OnInformational {
    /// Calls `f` with each 1xx response.
    pub fn new(f: impl Fn(Response<()>) + Send + Sync + 'static) -> OnInformational {
        OnInformational(std::sync::Arc::new(f))
    }

    /// Delivers the 1xx response whose head is `headers` (`:status` first); one that `http`
    /// cannot represent is skipped, as it carries nothing the final response depends on.
    pub fn deliver(&self, headers: &[Header]) {
        if let Ok(resp) = response_from_h2(headers)
            .and_then(|b| b.body(()).map_err(|_| Malformed("informational response")))
        {
            (self.0)(resp);
        }
    }
}

impl fmt::Debug for OnInformational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnInformational")
    }
}

/// A client request's deadline: put it in the request's extensions, and the whole exchange
/// (response head, body and trailers) must be over within this long of the connection taking
/// the request. When it passes, the stream is reset with CANCEL (RFC 9113 §8.1, §5.4.2), so
/// the server stops working on it, and the response future or body fails with
/// [`Error::DeadlinePassed`]. One timer per connection serves every stream's deadline
/// (`h2core::Connection::set_deadline`). Shared by every adapter's client (reqwest's
/// `RequestBuilder::timeout` is the same idea).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub std::time::Duration);

/// What a client request asks of its connection besides its head and body, taken from its
/// extensions ([`OnInformational`], [`RequestTimeout`]).
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    /// Called with each 1xx response.
    pub on_informational: Option<OnInformational>,
    /// The exchange's deadline, from when the connection takes the request.
    pub timeout: Option<std::time::Duration>,
}

impl RequestOptions {
    /// The options `req` carries in its extensions.
    pub fn of<B>(req: &Request<B>) -> RequestOptions {
        let ext = req.extensions();
        RequestOptions {
            on_informational: ext.get::<OnInformational>().cloned(),
            timeout: ext.get::<RequestTimeout>().map(|t| t.0),
        }
    }
}

/// A client request's priority (RFC 9218 §4): put it in the request's extensions and the
/// request carries it as its `priority` header field (§5), e.g. `priority: u=0, i`; a request
/// that already has a `priority` header keeps that one. A server following RFC 9218 (ours does
/// by default) sends the responses of lower `urgency` first, and shares the connection
/// round-robin among `incremental` responses of one urgency while sending the others one
/// after another (§10). The same on every adapter's client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    /// 0 (most urgent) ..= 7; larger values are sent as 7. RFC 9218's default is 3.
    pub urgency: u8,
    /// The response is usable piece by piece (images, video), so it may share the connection.
    pub incremental: bool,
}

impl Default for Priority {
    /// RFC 9218 §4.1, §4.2: `u=3`, not incremental.
    fn default() -> Self {
        Priority {
            urgency: 3,
            incremental: false,
        }
    }
}

impl Priority {
    /// The `priority` field value (RFC 9218 §4): `u=N`, and `i` when incremental.
    pub fn field_value(&self) -> String {
        let urgency = self.urgency.min(7);
        if self.incremental {
            format!("u={urgency}, i")
        } else {
            format!("u={urgency}")
        }
    }
}

/// The `:protocol` pseudo-header of an extended CONNECT request (RFC 8441 §4), e.g.
/// `websocket`. A server finds it in the extensions of such a request (it accepts them only
/// when configured to: `Config::settings.enable_connect_protocol`, which it announces with
/// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, §3); a client puts it in the extensions of a
/// `CONNECT` request to send one, which then carries `:scheme` and `:path` too. The same as
/// hyper's `ext::Protocol` and hyperium h2's `ext::Protocol`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Protocol(Bytes);

impl Protocol {
    /// A protocol name such as `websocket`.
    pub const fn from_static(name: &'static str) -> Protocol {
        Protocol(Bytes::from_static(name.as_bytes()))
    }

    /// The name, as the request carried it.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&'static str> for Protocol {
    fn from(name: &'static str) -> Protocol {
        Protocol::from_static(name)
    }
}

impl fmt::Debug for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A request head as the core's header list. `:authority` comes from the URI, or from `Host`.
pub fn request_to_h2<B>(req: &Request<B>, default_scheme: &str) -> Vec<Header> {
    let mut out = Vec::with_capacity(4 + req.headers().len());
    let uri = req.uri();
    out.push(Header::new(
        ":method",
        Bytes::copy_from_slice(req.method().as_str().as_bytes()),
    ));
    // A plain CONNECT names only the tunnel's peer (RFC 9113 §8.5); an extended one
    // (`Protocol` in the extensions) also carries :protocol, :scheme and :path (RFC 8441 §4).
    let protocol = req.extensions().get::<Protocol>();
    if let Some(p) = protocol.filter(|_| req.method() == Method::CONNECT) {
        out.push(Header::new(":protocol", p.0.clone()));
    }
    let is_connect = req.method() == Method::CONNECT && protocol.is_none();
    let authority = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
        req.headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    });
    if !is_connect {
        let scheme = uri.scheme_str().unwrap_or(default_scheme).to_owned();
        out.push(Header::new(":scheme", scheme));
    }
    if let Some(a) = authority {
        out.push(Header::new(":authority", a));
    }
    if !is_connect {
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        out.push(Header::new(
            ":path",
            if path.is_empty() { "/".into() } else { path },
        ));
    }
    push_fields(&mut out, req.headers());
    if let Some(p) = req.extensions().get::<Priority>() {
        if !req.headers().contains_key("priority") {
            out.push(Header::new("priority", p.field_value()));
        }
    }
    out
}

/// A response head as the core's header list, with room for one more field (the
/// content-length an adapter adds when it knows the body's length).
pub fn response_to_h2<B>(resp: &Response<B>) -> Vec<Header> {
    response_head_into(resp, Vec::with_capacity(response_head_len(resp)))
}

/// How many fields [`response_head_into`] may add: `:status`, the regular fields and a
/// `content-length` the framing may add.
pub(crate) fn response_head_len<B>(resp: &Response<B>) -> usize {
    2 + resp.headers().len()
}

/// [`response_to_h2`] into `out` (empty; a list the connection kept, so no allocation).
pub(crate) fn response_head_into<B>(resp: &Response<B>, mut out: Vec<Header>) -> Vec<Header> {
    out.push(Header::new(":status", status_bytes(resp.status())));
    push_fields(&mut out, resp.headers());
    out
}

/// Every three-digit status code as ASCII, made at compile time: `:status` costs no allocation.
static STATUS_DIGITS: [[u8; 3]; 1000] = {
    let mut t = [[0u8; 3]; 1000];
    let mut i = 0;
    while i < 1000 {
        t[i] = [
            b'0' + (i / 100) as u8,
            b'0' + (i / 10 % 10) as u8,
            b'0' + (i % 10) as u8,
        ];
        i += 1;
    }
    t
};

/// The `:status` value of `status` (RFC 9113 §8.3.2: always three digits).
fn status_bytes(status: StatusCode) -> Bytes {
    Bytes::from_static(&STATUS_DIGITS[usize::from(status.as_u16()) % 1000])
}

/// Regular fields (no pseudo-headers) into a `HeaderMap`; the core already validated them.
pub fn fields_to_map(headers: &[Header]) -> Result<HeaderMap, Malformed> {
    let regular = &headers[leading_pseudo(headers)..];
    let mut map = HeaderMap::with_capacity(regular.len());
    append_fields(&mut map, regular)?;
    Ok(map)
}

/// How many pseudo-header fields lead the list.
fn leading_pseudo(headers: &[Header]) -> usize {
    headers
        .iter()
        .take_while(|h| h.name.starts_with(b":"))
        .count()
}

/// Appends the regular fields of `headers` to `map` (a pseudo-header field out of place is
/// skipped, as everywhere here).
fn append_fields(map: &mut HeaderMap, headers: &[Header]) -> Result<(), Malformed> {
    for h in headers.iter().filter(|h| !h.name.starts_with(b":")) {
        let (name, value) = convert_field(h)?;
        map.append(name, value);
    }
    Ok(())
}

fn pseudo<'a>(headers: &'a [Header], name: &str) -> Option<&'a Bytes> {
    headers
        .iter()
        .take_while(|h| h.name.starts_with(b":"))
        .find(|h| h.name == name.as_bytes())
        .map(|h| &h.value)
}

/// The request pseudo-header fields of a list, each the first of its name among the leading
/// pseudo-header fields (as [`pseudo`] would find it), found in one pass; `leading` is how many
/// pseudo-header fields lead the list.
#[derive(Default)]
struct RequestPseudo<'a> {
    method: Option<&'a Bytes>,
    scheme: Option<&'a Bytes>,
    authority: Option<&'a Bytes>,
    path: Option<&'a Bytes>,
    protocol: Option<&'a Bytes>,
    leading: usize,
}

impl<'a> RequestPseudo<'a> {
    fn of(headers: &'a [Header]) -> Self {
        let mut p = RequestPseudo::default();
        for h in headers.iter().take_while(|h| h.name.starts_with(b":")) {
            p.leading += 1;
            // `==` on a slice of known length is a few word compares; a `match` on byte
            // strings would compare byte by byte.
            let name = &h.name[..];
            let slot = match name.len() {
                5 if name == b":path" => &mut p.path,
                7 if name == b":method" => &mut p.method,
                7 if name == b":scheme" => &mut p.scheme,
                9 if name == b":protocol" => &mut p.protocol,
                10 if name == b":authority" => &mut p.authority,
                _ => continue,
            };
            slot.get_or_insert(&h.value);
        }
        p
    }
}

/// What a connection's requests usually repeat, converted once: the `:authority` and the
/// regular fields (RFC 9113 §8.3.1, §8.2). Comparing bytes costs less than parsing and
/// checking them again for every request.
#[derive(Default)]
pub(crate) struct RequestCache {
    authority: AuthorityCache,
    fields: FieldCache,
}

/// The last `:authority` of a connection, parsed: most requests on a connection name the
/// same one, and comparing bytes costs less than parsing them again (RFC 3986 §3.2).
#[derive(Default)]
struct AuthorityCache(Option<http::uri::Authority>);

impl AuthorityCache {
    /// `raw` as an `Authority`: the cached one if its text is the same bytes (an `Authority`
    /// keeps its input verbatim, so equal bytes parse to an equal value), else parsed and
    /// kept. The kept copy owns its bytes: it does not hold on to a header block's memory.
    fn get(&mut self, raw: &Bytes) -> Result<http::uri::Authority, Malformed> {
        use http::uri::Authority;
        if let Some(a) = &self.0 {
            if same_bytes(a.as_str().as_bytes(), raw) {
                return Ok(a.clone());
            }
        }
        let a = Authority::from_maybe_shared(Bytes::copy_from_slice(raw))
            .map_err(|_| Malformed(":authority"))?;
        self.0 = Some(a.clone());
        Ok(a)
    }
}

/// The regular fields of a connection's last request, by position: a client sends the same
/// fields in the same order request after request (user-agent, accept, cookie, ...), so field
/// `i` is compared with slot `i`, and an equal one is a reference-count increment instead of
/// a parse of its name (an allocation, for a name `http` does not know) and a check of its
/// value. A kept value owns its bytes (it does not hold on to a header block's memory), within
/// [`FieldCache::VALUE_BUDGET`] bytes. A value is copied the second time its name comes at its
/// position, and never again once the value there changed: a field that differs every time,
/// or requests of alternating shapes, cost no copy per request.
#[derive(Default)]
struct FieldCache {
    slots: Vec<FieldSlot>,
    /// The bytes of the kept values, summed.
    value_bytes: usize,
}

/// One position of [`FieldCache`].
struct FieldSlot {
    name: HeaderName,
    /// The value, owned, while the requests so far repeated it.
    value: Option<HeaderValue>,
    /// The value at this position changed: it is taken as it comes from now on.
    varies: bool,
}

impl FieldCache {
    /// The most positions kept: a typical browser request has fewer regular fields.
    const SLOTS: usize = 32;
    /// The most value bytes kept, all slots together.
    const VALUE_BUDGET: usize = 4096;

    /// Field `h`, the `i`th regular field of its request, as `http` types.
    fn get(&mut self, i: usize, h: &Header) -> Result<(HeaderName, HeaderValue), Malformed> {
        if i >= Self::SLOTS {
            return convert_field(h);
        }
        if i == self.slots.len() {
            let (name, value) = convert_field(h)?;
            self.slots.push(FieldSlot {
                name: name.clone(),
                value: None,
                varies: false,
            });
            return Ok((name, value));
        }
        let slot = &mut self.slots[i];
        // Names arrive lowercase (RFC 9113 §8.2.1) and `http` keeps them verbatim: equal
        // bytes are the same name.
        if !same_bytes(slot.name.as_str().as_bytes(), &h.name) {
            let (name, value) = convert_field(h)?;
            if let Some(old) = slot.value.take() {
                self.value_bytes -= old.len();
            }
            *slot = FieldSlot {
                name: name.clone(),
                value: None,
                varies: false,
            };
            return Ok((name, value));
        }
        let name = slot.name.clone();
        if let Some(v) = &slot.value {
            if same_bytes(v.as_bytes(), &h.value) {
                let mut value = v.clone();
                value.set_sensitive(h.sensitive);
                return Ok((name, value));
            }
        }
        let value = convert_value(h)?;
        if let Some(old) = slot.value.take() {
            self.value_bytes -= old.len();
            slot.varies = true;
        } else {
            self.keep_value(i, h, &value);
        }
        Ok((name, value))
    }

    /// Keeps an owned copy of `value` (valid: it was just converted) in slot `i` if the
    /// position has not varied and the budget has room.
    fn keep_value(&mut self, i: usize, h: &Header, value: &HeaderValue) {
        let slot = &mut self.slots[i];
        if slot.varies || self.value_bytes + h.value.len() > Self::VALUE_BUDGET {
            return;
        }
        if let Ok(owned) = HeaderValue::from_bytes(value.as_bytes()) {
            self.value_bytes += owned.len();
            slot.value = Some(owned);
        }
    }
}

/// A field as `http` types, its value sharing the header block's memory.
fn convert_field(h: &Header) -> Result<(HeaderName, HeaderValue), Malformed> {
    let name = HeaderName::from_bytes(&h.name).map_err(|_| Malformed("field name"))?;
    Ok((name, convert_value(h)?))
}

/// A field's value as a `HeaderValue`, sharing the header block's memory.
fn convert_value(h: &Header) -> Result<HeaderValue, Malformed> {
    let mut value =
        HeaderValue::from_maybe_shared(h.value.clone()).map_err(|_| Malformed("field value"))?;
    value.set_sensitive(h.sensitive);
    Ok(value)
}

/// A received request head (already validated by the core) as `http` parts, version HTTP/2.
/// The target's pieces share the header block's memory (no copy); the scheme is the static
/// `http`/`https` when it is one of those.
pub fn request_from_h2(headers: &[Header]) -> Result<http::request::Parts, Malformed> {
    request_parts(headers, None)
}

/// [`request_from_h2`], the `:authority` and the regular fields taken from `cache` when they
/// are the cached ones.
pub(crate) fn request_parts(
    headers: &[Header],
    mut cache: Option<&mut RequestCache>,
) -> Result<http::request::Parts, Malformed> {
    use http::uri::{Authority, PathAndQuery, Scheme};
    let pseudo = RequestPseudo::of(headers);
    let method = pseudo.method.ok_or(Malformed(":method"))?;
    // The usual method without the general parse.
    let method = if method.len() == 3 && &method[..] == b"GET" {
        Method::GET
    } else {
        Method::from_bytes(method).map_err(|_| Malformed(":method"))?
    };
    let mut target = http::uri::Parts::default();
    if let Some(s) = pseudo.scheme {
        target.scheme = Some(match &s[..] {
            b"http" => Scheme::HTTP,
            b"https" => Scheme::HTTPS,
            other => std::str::from_utf8(other)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(Malformed(":scheme"))?,
        });
    }
    if let Some(a) = pseudo.authority {
        target.authority = Some(match cache.as_deref_mut() {
            Some(cache) => cache.authority.get(a)?,
            None => Authority::from_maybe_shared(a.clone()).map_err(|_| Malformed(":authority"))?,
        });
    }
    if let Some(p) = pseudo.path {
        let p = PathAndQuery::from_maybe_shared(p.clone()).map_err(|_| Malformed(":path"))?;
        target.path_and_query = Some(p);
    }
    let uri = Uri::from_parts(target).map_err(|_| Malformed("request target"))?;
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    parts.version = http::Version::HTTP_2;
    // Filled in place: no second map made and the empty one dropped.
    let regular = &headers[pseudo.leading..];
    parts.headers.reserve(regular.len());
    match cache {
        Some(cache) => {
            let regular = regular.iter().filter(|h| !h.name.starts_with(b":"));
            for (i, h) in regular.enumerate() {
                let (name, value) = cache.fields.get(i, h)?;
                parts.headers.append(name, value);
            }
        }
        None => append_fields(&mut parts.headers, regular)?,
    }
    if let Some(p) = pseudo.protocol {
        parts.extensions.insert(Protocol(p.clone()));
    }
    Ok(parts)
}

/// A received response head as `http` parts.
pub fn response_from_h2(headers: &[Header]) -> Result<http::response::Builder, Malformed> {
    let status = pseudo(headers, ":status").ok_or(Malformed(":status"))?;
    let status = StatusCode::from_bytes(status).map_err(|_| Malformed(":status"))?;
    let mut b = Response::builder()
        .status(status)
        .version(http::Version::HTTP_2);
    if let Some(map) = b.headers_mut() {
        *map = fields_to_map(headers)?;
    }
    Ok(b)
}

/// Trailers as the core's header list.
pub fn trailers_to_h2(map: &HeaderMap) -> Vec<Header> {
    let mut out = Vec::with_capacity(map.len());
    push_fields(&mut out, map);
    out
}

/// What can go wrong, as a user of any adapter sees it (the same in every runtime).
#[derive(Debug)]
pub enum Error {
    /// The transport failed.
    Io(std::io::Error),
    /// The stream was reset (RST_STREAM, RFC 9113 §6.4) with this code.
    Reset(Reason),
    /// The connection ended (GOAWAY or transport closed).
    Connection {
        /// The error code.
        reason: Reason,
        /// True if the peer ended it.
        remote: bool,
        /// Why.
        detail: String,
    },
    /// The call was not allowed (see `h2core::UserError`).
    User(h2core::UserError),
    /// A message could not be represented (bad header name, status, ...).
    Malformed(&'static str),
    /// An HTTP/1.1 message was malformed or incomplete (e.g. a truncated chunked body).
    Http1(String),
    /// The connection task (or event loop) is gone.
    ConnectionGone,
    /// The receiving side of a body was dropped.
    BodyDropped,
    /// A body given as any `http_body::Body` ([`body::Body::wrap`]) failed with this error.
    Body(Box<dyn std::error::Error + Send + Sync>),
    /// The request's [`RequestTimeout`] passed before the exchange was over: the stream was
    /// reset with CANCEL (RFC 9113 §8.1).
    DeadlinePassed,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o: {e}"),
            Error::Reset(r) => write!(f, "stream reset: {r}"),
            Error::Connection {
                reason,
                remote,
                detail,
            } => write!(
                f,
                "connection closed by {} ({reason}): {detail}",
                if *remote { "peer" } else { "us" }
            ),
            Error::User(e) => write!(f, "{e}"),
            Error::Malformed(what) => write!(f, "malformed {what}"),
            Error::Http1(what) => write!(f, "HTTP/1.1: {what}"),
            Error::ConnectionGone => f.write_str("connection closed"),
            Error::BodyDropped => f.write_str("body receiver dropped"),
            Error::Body(e) => write!(f, "body: {e}"),
            Error::DeadlinePassed => f.write_str("the request's deadline passed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Body(e) => Some(&**e),
            _ => None,
        }
    }
}

impl Error {
    /// What this failure of a request means to the client pool's retry rule
    /// ([`h2core::shell::pool::Retry`]): refused unprocessed (RFC 9113 §8.7) or never started,
    /// the connection failed, or neither.
    pub fn failure(&self) -> h2core::shell::pool::Failure {
        use h2core::shell::pool::Failure;
        use h2core::UserError;
        match self {
            Error::Reset(Reason::REFUSED_STREAM)
            | Error::User(UserError::ConnectionClosed | UserError::StreamsExhausted) => {
                Failure::Refused
            }
            Error::Connection { .. } | Error::Io(_) | Error::ConnectionGone => {
                Failure::ConnectionFailed
            }
            _ => Failure::Other,
        }
    }
}

/// Another crate's error (the ecosystem's `BoxError`), as a body's failure: [`Error::Body`].
/// The other way needs nothing: `Error` is `std::error::Error + Send + Sync + 'static`, so
/// `?` and `.into()` turn it into a `Box<dyn Error + Send + Sync>`.
impl From<Box<dyn std::error::Error + Send + Sync>> for Error {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Error::Body(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Error::Malformed(m.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priority_field(req: &Request<()>) -> Vec<Vec<u8>> {
        request_to_h2(req, "https")
            .into_iter()
            .filter(|h| h.name == "priority".as_bytes())
            .map(|h| h.value.to_vec())
            .collect()
    }

    #[test]
    fn a_priority_extension_becomes_the_priority_header_field() {
        let mut req = Request::get("https://example.com/").body(()).unwrap();
        assert!(priority_field(&req).is_empty());
        req.extensions_mut().insert(Priority {
            urgency: 0,
            incremental: true,
        });
        assert_eq!(priority_field(&req), vec![b"u=0, i".to_vec()]);
        req.extensions_mut().insert(Priority {
            urgency: 9,
            incremental: false,
        });
        assert_eq!(priority_field(&req), vec![b"u=7".to_vec()]);
    }

    #[test]
    fn a_priority_header_set_by_the_user_wins_over_the_extension() {
        let mut req = Request::get("https://example.com/")
            .header("priority", "u=1")
            .body(())
            .unwrap();
        req.extensions_mut().insert(Priority::default());
        assert_eq!(priority_field(&req), vec![b"u=1".to_vec()]);
    }

    fn request_head(fields: &[(&'static str, &'static str)]) -> Vec<Header> {
        let mut head = vec![
            Header::new(":method", "GET"),
            Header::new(":scheme", "https"),
            Header::new(":authority", "example.com"),
            Header::new(":path", "/"),
        ];
        head.extend(fields.iter().map(|&(n, v)| Header::new(n, v)));
        head
    }

    fn fields_of(parts: &http::request::Parts) -> Vec<(String, Vec<u8>, bool)> {
        parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec(), v.is_sensitive()))
            .collect()
    }

    #[test]
    fn requests_converted_through_the_cache_equal_those_converted_without() {
        let shapes: &[&[(&str, &str)]] = &[
            &[("user-agent", "ua/1"), ("x-custom", "a"), ("accept", "*/*")],
            &[("user-agent", "ua/1"), ("x-custom", "a"), ("accept", "*/*")],
            &[("user-agent", "ua/1"), ("x-custom", "a"), ("accept", "*/*")],
            // A value changes, then a name, then fields are missing or added.
            &[("user-agent", "ua/1"), ("x-custom", "b"), ("accept", "*/*")],
            &[("user-agent", "ua/1"), ("x-other", "b"), ("accept", "*/*")],
            &[("user-agent", "ua/1")],
            &[("user-agent", "ua/2"), ("x-custom", "a"), ("accept", "*/*")],
            &[("user-agent", "ua/1"), ("x-custom", "a"), ("accept", "*/*")],
            &[],
        ];
        let mut cache = RequestCache::default();
        for (i, fields) in shapes.iter().enumerate() {
            let mut head = request_head(fields);
            // A sensitive flag travels with each request, never with the cache.
            if let Some(h) = head.get_mut(4) {
                h.sensitive = i % 2 == 1;
            }
            let cached = request_parts(&head, Some(&mut cache)).unwrap();
            let plain = request_from_h2(&head).unwrap();
            assert_eq!(fields_of(&cached), fields_of(&plain), "request {i}");
            assert_eq!(cached.uri, plain.uri);
        }
        let kept: usize = cache
            .fields
            .slots
            .iter()
            .flat_map(|s| &s.value)
            .map(|v| v.len())
            .sum();
        assert_eq!(kept, cache.fields.value_bytes);
    }

    #[test]
    fn methods_convert_to_their_http_method() {
        for m in [
            "GET", "POST", "HEAD", "PUT", "OPTIONS", "CONNECT", "PATCH", "QUERY", "get",
        ] {
            let mut head = request_head(&[]);
            head[0] = Header::new(":method", m);
            let parts = request_from_h2(&head).unwrap();
            assert_eq!(parts.method.as_str(), m);
        }
    }

    #[test]
    fn a_field_name_http_cannot_represent_is_malformed_through_the_cache_too() {
        let mut cache = RequestCache::default();
        let mut head = request_head(&[("user-agent", "ua/1")]);
        for _ in 0..3 {
            request_parts(&head, Some(&mut cache)).unwrap();
        }
        head[4] = Header::new("user agent", "ua/1");
        assert!(request_parts(&head, Some(&mut cache)).is_err());
        assert!(request_from_h2(&head).is_err());
    }
}
