//! The user-facing API on async-std: the tests shared with every adapter (`h2_testkit::api`).

mod rt {
    use std::future::Future;

    pub fn block_on<F: Future>(f: F) -> F::Output {
        async_std::task::block_on(f)
    }

    /// Starts `f` now; the returned future gives its output.
    pub fn spawn<F>(f: F) -> impl Future<Output = F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        async_std::task::spawn(f)
    }
}

h2_testkit::api_tests!(mode: async, adapter: h2_async_std);
