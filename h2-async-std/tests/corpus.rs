//! The whole h2-testkit scenario corpus through the async-std/smol adapter's byte path: a real
//! connection task on smol's executor, reading and writing a futures-io stream through the
//! adapter's `Compat` (vectored writes included), over an in-memory pipe (`h2_testkit::pipe`).
//! Neither runtime has a paused clock, so time is the test's (`ManualClock`).

use h2_testkit::pipe::{run_corpus, Executor, ManualClock, ManualRuntime, PipeHarness, Task};
use std::future::Future;
use std::time::Duration;
use tokio_util::compat::TokioAsyncReadCompatExt;

/// smol's local executor, ticked on the test's thread until no task can make progress.
struct SmolLocal(smol::LocalExecutor<'static>);

impl Executor for SmolLocal {
    fn spawn(&mut self, task: Task<()>) {
        self.0.spawn(task).detach();
    }

    fn block_on<F: Future>(&mut self, f: F) -> F::Output {
        smol::block_on(self.0.run(f))
    }

    fn settle(&mut self) {
        // Bounded: a task that keeps waking itself would otherwise spin here forever.
        for _ in 0..100_000 {
            if !self.0.try_tick() {
                return;
            }
        }
        panic!("the connection task never went idle");
    }

    fn advance(&mut self, d: Duration) {
        ManualClock::advance(d);
    }
}

#[test]
fn corpus_through_the_async_std_adapter() {
    run_corpus("h2-async-std", |config| {
        let start = Box::new(|io: h2_testkit::pipe::Gated, config| {
            // The task sees a futures-io stream, as it would an async-std or smol socket.
            let (tap, events, driver) = h2_async_std::testing::tap::<ManualRuntime, _>(
                h2_async_std::Compat(io.compat()),
                config,
            );
            (tap, events, Box::pin(driver) as Task<_>)
        });
        PipeHarness::new(SmolLocal(smol::LocalExecutor::new()), config, start)
    });
}
