//! The user-facing API on async-std: the tests shared with every adapter (`h2_testkit::api`).

h2_testkit::api_tests!(
    mode: async,
    adapter: h2_async_std,
    runtime: h2_async_std::AsyncStd,
    block_on: async_std::task::block_on,
);
