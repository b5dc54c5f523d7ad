//! The whole h2-testkit scenario corpus through the tokio adapter: a real connection task over
//! an in-memory duplex pipe (`h2_testkit::pipe`), with tokio's paused clock as the only time
//! source.

use h2_testkit::pipe::{run_corpus, Executor, PipeHarness, Task};
use std::future::Future;
use std::time::Duration;
use tokio::runtime::Runtime;

/// A current-thread tokio runtime with paused time.
struct Tokio(Runtime);

impl Executor for Tokio {
    fn spawn(&mut self, task: Task<()>) {
        self.0.spawn(task);
    }

    fn block_on<F: Future>(&mut self, f: F) -> F::Output {
        self.0.block_on(f)
    }

    fn settle(&mut self) {
        self.0.block_on(async {
            for _ in 0..64 {
                tokio::task::yield_now().await;
            }
        });
    }

    fn advance(&mut self, d: Duration) {
        self.0.block_on(tokio::time::advance(d));
    }
}

#[test]
fn corpus_through_the_tokio_adapter() {
    run_corpus("h2-tokio", |config| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let guard = rt.enter();
        let start = Box::new(|io, config| {
            let (tap, events, driver) = h2_tokio::testing::tap(io, config);
            (tap, events, Box::pin(driver) as Task<_>)
        });
        drop(guard);
        let _guard = rt.enter();
        PipeHarness::new(Tokio(rt), config, start)
    });
}
