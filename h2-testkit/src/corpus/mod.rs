//! The scenarios, one module per part of the RFCs. [`all`] lists every one of them.

use crate::Scenario;

mod basics;

/// Every scenario of the corpus.
pub fn all() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(basics::scenarios());
    v
}
