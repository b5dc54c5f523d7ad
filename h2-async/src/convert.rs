//! The `http` conversions live in `h2-http`, shared by every adapter; this only maps its error
//! into ours.

use h2_http::Error;
pub use h2_http::{request_to_h2, response_to_h2, trailers_to_h2};
use h2core::Header;

/// See [`h2_http::request_from_h2`].
pub fn request_from_h2(headers: &[Header]) -> Result<http::request::Parts, Error> {
    Ok(h2_http::request_from_h2(headers)?)
}

/// See [`h2_http::response_from_h2`].
pub fn response_from_h2(headers: &[Header]) -> Result<http::response::Builder, Error> {
    Ok(h2_http::response_from_h2(headers)?)
}

/// See [`h2_http::fields_to_map`].
pub fn fields_to_map(headers: &[Header]) -> Result<http::HeaderMap, Error> {
    Ok(h2_http::fields_to_map(headers)?)
}
