//! The engine tests (`h2_testkit::engine`): our server and our client on tokio.

h2_testkit::engine_tests!(runtime: h2_tokio::Tokio, block_on: h2_testkit::engine::on_tokio);
