//! The whole scenario corpus against the core: input whole, then one byte at a time; both runs
//! must pass and produce the same transcript.

use h2_testkit::{corpus, run, CoreHarness};

#[test]
fn corpus_against_the_core_whole_and_byte_at_a_time() {
    let scenarios = corpus::all();
    let mut failures = Vec::new();
    for s in &scenarios {
        let whole = run(s, &mut CoreHarness::new(s.config.clone(), false));
        let bytewise = run(s, &mut CoreHarness::new(s.config.clone(), true));
        match (whole, bytewise) {
            (Ok(a), Ok(b)) => {
                if a != b {
                    failures.push(format!(
                        "{} [{}]: whole and byte-at-a-time differ:\n{a:#?}\n{b:#?}",
                        s.name, s.section
                    ));
                }
            }
            (Err(e), _) => failures.push(format!("whole: {e}")),
            (_, Err(e)) => failures.push(format!("byte at a time: {e}")),
        }
    }
    println!("{} scenarios", scenarios.len());
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}
