//! The user-facing API, blocking: the tests shared with every adapter (`h2_testkit::api`).

h2_testkit::api_tests!(mode: blocking, adapter: h2_mio);
