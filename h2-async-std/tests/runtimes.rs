//! The engine tests (`h2_testkit::engine`): our server and our client on the same runtime,
//! once on async-std and once on smol.

mod async_std_rt {
    h2_testkit::engine_tests!(
        runtime: h2_async_std::AsyncStd,
        block_on: async_std::task::block_on,
    );
}

mod smol_rt {
    h2_testkit::engine_tests!(runtime: h2_async_std::Smol, block_on: smol::block_on);
}
