//! The user-facing API on tokio: the tests shared with every adapter (`h2_testkit::api`),
//! each on a multi-threaded tokio runtime of its own.

h2_testkit::api_tests!(
    mode: async,
    adapter: h2_tokio,
    runtime: h2_tokio::Tokio,
    block_on: h2_testkit::engine::on_tokio,
);
