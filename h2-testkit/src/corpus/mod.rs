//! The scenarios, one module per part of the RFCs. [`all`] lists every one of them.

use crate::Scenario;

mod attacks;
mod basics;
mod continuation;
mod extensions;
mod flow;
mod frames;
mod hpack;
mod http;
mod ping_goaway;
mod preface;
mod priority;
mod push;
mod settings;
mod streams;
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
    v.extend(preface::scenarios());
    v.extend(frames::scenarios());
    v.extend(streams::scenarios());
    v.extend(settings::scenarios());
    v.extend(flow::scenarios());
    v.extend(ping_goaway::scenarios());
    v.extend(continuation::scenarios());
    v.extend(attacks::scenarios());
    v
}
