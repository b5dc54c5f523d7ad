//! A request's deadline from gRPC's `grpc-timeout` header ("Timeout → grpc-timeout TimeoutValue
//! TimeoutUnit", gRPC over HTTP/2, PROTOCOL-HTTP2.md): the server puts it in the request's
//! extensions, so a handler (a tonic service reads `Request::extensions`) knows until when its
//! caller waits, and can stop working and answer DEADLINE_EXCEEDED by then.

use http::Request;
use std::time::{Duration, Instant};

/// Until when the caller waits for the answer: the request arrived `now` with
/// `grpc-timeout: T`, so the deadline is `now + T`. Found in the request's extensions when it
/// had a well-formed `grpc-timeout` (a malformed one is ignored, as gRPC servers do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline(pub Instant);

impl Deadline {
    /// The instant the caller stops waiting.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// How long is left at `now` (zero once passed).
    pub fn remaining(self, now: Instant) -> Duration {
        self.0.saturating_duration_since(now)
    }

    /// Reads `req`'s `grpc-timeout` and, when well-formed, inserts `Deadline(now() + timeout)`
    /// into its extensions. Servers call it as the request head arrives; the clock is read
    /// only for a request that has the field.
    pub fn mark<B>(req: &mut Request<B>, now: impl FnOnce() -> Instant) {
        let Some(timeout) = req
            .headers()
            .get(&GRPC_TIMEOUT)
            .and_then(|v| grpc_timeout(v.as_bytes()))
        else {
            return;
        };
        // A timeout beyond what Instant holds is no deadline at all.
        if let Some(at) = now().checked_add(timeout) {
            req.extensions_mut().insert(Deadline(at));
        }
    }
}

/// The field's name, parsed once: looked up by a `&str`, every request parsed it again.
static GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");

/// Parses a `grpc-timeout` value: at most 8 ASCII digits, then one unit: `H` hours, `M`
/// minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n` nanoseconds.
pub fn grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units_are_hours_to_nanoseconds() {
        let cases: [(&[u8], Duration); 6] = [
            (b"2H", Duration::from_secs(7200)),
            (b"3M", Duration::from_secs(180)),
            (b"10S", Duration::from_secs(10)),
            (b"250m", Duration::from_millis(250)),
            (b"7u", Duration::from_micros(7)),
            (b"99999999n", Duration::from_nanos(99_999_999)),
        ];
        for (value, want) in cases {
            assert_eq!(grpc_timeout(value), Some(want), "{value:?}");
        }
    }

    #[test]
    fn grpc_timeout_that_is_malformed_is_no_timeout() {
        // More than 8 digits, no digits, no unit, an unknown unit, a sign, a space.
        for value in [&b"123456789S"[..], b"S", b"10", b"", b"10s", b"-1S", b" 1S"] {
            assert_eq!(grpc_timeout(value), None, "{value:?}");
        }
    }

    #[test]
    fn mark_inserts_the_deadline_now_plus_the_timeout() {
        let now = Instant::now();
        let mut req = Request::new(());
        req.headers_mut()
            .insert("grpc-timeout", http::HeaderValue::from_static("1500m"));
        Deadline::mark(&mut req, || now);
        let deadline = req.extensions().get::<Deadline>().copied();
        assert_eq!(deadline, Some(Deadline(now + Duration::from_millis(1500))));
        assert_eq!(
            deadline.unwrap().remaining(now + Duration::from_secs(1)),
            Duration::from_millis(500)
        );
        assert_eq!(
            deadline.unwrap().remaining(now + Duration::from_secs(2)),
            Duration::ZERO
        );
    }

    #[test]
    fn mark_without_a_well_formed_grpc_timeout_inserts_nothing() {
        let now = Instant::now();
        let mut plain = Request::new(());
        Deadline::mark(&mut plain, || now);
        assert!(plain.extensions().get::<Deadline>().is_none());
        let mut bad = Request::new(());
        bad.headers_mut()
            .insert("grpc-timeout", http::HeaderValue::from_static("soon"));
        Deadline::mark(&mut bad, || now);
        assert!(bad.extensions().get::<Deadline>().is_none());
    }
}
