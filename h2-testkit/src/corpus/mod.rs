//! The scenarios, one module per part of the RFCs. [`all`] lists every one of them.

use crate::Scenario;

mod basics;
mod extensions;
mod hpack;
mod http;
mod priority;
mod push;
mod user_errors;

/// Every scenario of the corpus.
pub fn all() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(basics::scenarios());
    v.extend(http::scenarios());
    v.extend(hpack::scenarios());
    v.extend(push::scenarios());
    v.extend(priority::scenarios());
    v.extend(extensions::scenarios());
    v.extend(user_errors::scenarios());
    v
}
