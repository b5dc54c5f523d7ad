//! Responses a server pushes, as the blocking client receives them.

/// A response the server promised to push (RFC 9113 §8.4), from [`Client::pushes`](crate::Client::pushes).
pub type PushPromise = h2_http::reply::PushPromise<h2_http::body::Blocking>;

/// A pushed response on its way; [`PushedResponse::wait`] blocks for its head. Dropping it
/// before the head resets the promised stream with CANCEL (RFC 9113 §8.4).
pub type PushedResponse = h2_http::reply::PushedResponse<h2_http::body::Blocking>;

/// The responses a server pushes (RFC 9113 §8.4), from [`Client::pushes`](crate::Client::pushes):
/// `recv` blocks for the next one (`None` once no connection can deliver any more),
/// `recv_timeout` waits at most so long; an iterator too (see `h2_http::pushes`).
pub type Pushes = h2_http::pushes::Pushes<h2_http::body::Blocking>;
