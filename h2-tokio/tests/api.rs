//! The user-facing API on tokio: the tests shared with every adapter (`h2_testkit::api`),
//! each on a multi-threaded tokio runtime of its own.

mod rt {
    use std::future::Future;

    pub fn block_on<F: Future>(f: F) -> F::Output {
        h2_testkit::engine::on_tokio(f)
    }

    /// Starts `f` now; the returned future gives its output.
    pub fn spawn<F>(f: F) -> impl Future<Output = F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = tokio::spawn(f);
        async move { task.await.expect("task panicked") }
    }
}

h2_testkit::api_tests!(mode: async, adapter: h2_tokio);
