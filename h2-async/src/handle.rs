//! Handles on one stream: a server handler's (1xx responses, server push), a client's
//! (reprioritize), and a client's pushed responses.

/// The handler's handle on its stream, `StreamHandle::of(&req)`: 1xx responses before the
/// final one and server push (see `h2_http::handle`).
pub type StreamHandle = h2_http::handle::StreamHandle<h2_http::body::Async>;

/// A client's handle on a request it sent, found in the response's extensions:
/// `reprioritize(Priority).await` sends PRIORITY_UPDATE (RFC 9218 §7.1; see
/// `h2_http::handle::RequestHandle`).
pub type RequestHandle = h2_http::handle::RequestHandle<h2_http::body::Async>;

/// A pushed response promised by the server (client side, RFC 9113 §8.4).
pub type PushPromise = h2_http::reply::PushPromise<h2_http::body::Async>;

/// A pushed response on its way; [`PushedResponse::wait`] for its head. Dropping it before the
/// head resets the promised stream with CANCEL (RFC 9113 §8.4).
pub type PushedResponse = h2_http::reply::PushedResponse<h2_http::body::Async>;

/// The responses a server pushes (RFC 9113 §8.4), from `Client::pushes` or a client
/// handshake: `recv().await` (or `poll_recv`) gives the next one, `None` once no connection
/// can deliver any more (see `h2_http::pushes`).
pub type Pushes = h2_http::pushes::Pushes<h2_http::body::Async>;
