//! The connection as a client (RFC 9113) on any bytes: never a panic, memory bounded.
#![no_main]

#[path = "connection_common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(h2core::Role::Client, data));
