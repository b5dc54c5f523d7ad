//! hyperium's `h2` (only a test peer) against our client and server, once with our side on
//! async-std and once on smol (`h2_testkit::hyperium`; hyperium runs on its own tokio threads).

mod async_std_rt {
    h2_testkit::hyperium_tests!(
        runtime: h2_async_std::AsyncStd,
        block_on: async_std::task::block_on,
    );
}

mod smol_rt {
    h2_testkit::hyperium_tests!(runtime: h2_async_std::Smol, block_on: smol::block_on);
}
