//! Which priority scheme a connection follows (RFC 9218 §2.1, SETTINGS_NO_RFC7540_PRIORITIES).
//!
//! An endpoint announces the setting in its first SETTINGS frame and never changes it (§2.1:
//! "MUST NOT change"; a change is a connection error PROTOCOL_ERROR here, as nghttp2 does).
//! A server announces 1 by default ([`Config::new`](crate::Config::new)): it schedules by
//! urgency and incremental. The decision:
//! - the peer announced 1: RFC 7540 signals (PRIORITY frames, the priority fields of HEADERS)
//!   are ignored (§2.1: "MUST ignore"); its RFC 9218 signals decide;
//! - we announced 1 and the peer did not: RFC 9218, unless the peer sends RFC 7540 signals
//!   before any RFC 9218 signal (a `priority` header field, PRIORITY_UPDATE): a peer that still
//!   builds a dependency tree gets the tree (nghttp2 falls back the same way). Its first RFC
//!   9218 signal settles RFC 9218 for the rest of the connection; RFC 7540 signals are ignored
//!   from then on. A HEADERS frame carrying both counts as RFC 9218;
//! - we announced 0: the tree; RFC 9218 signals are recorded but do not decide.

use super::Mode;

/// The choice of [`Mode`] for one connection, from both SETTINGS and the peer's signals.
#[derive(Debug)]
pub(crate) struct Scheme {
    /// Our first SETTINGS carried NO_RFC7540_PRIORITIES = 1.
    announced: bool,
    /// The peer's value, known once its first SETTINGS frame was processed.
    peer: Option<bool>,
    /// An RFC 9218 signal arrived while we follow RFC 9218: the tree is never chosen again.
    settled: bool,
    mode: Mode,
}

impl Scheme {
    /// The scheme before the peer said anything: RFC 9218 if we announced it.
    pub(crate) fn new(announced: bool) -> Scheme {
        Scheme {
            announced,
            peer: None,
            settled: false,
            mode: if announced {
                Mode::Rfc9218
            } else {
                Mode::Rfc7540
            },
        }
    }

    /// The mode the scheduler follows now.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether we announced NO_RFC7540_PRIORITIES = 1 in our first SETTINGS.
    pub(crate) fn announced(&self) -> bool {
        self.announced
    }

    /// Whether the peer's first SETTINGS carried NO_RFC7540_PRIORITIES = 1 (false before it).
    pub(crate) fn peer_announced(&self) -> bool {
        self.peer == Some(true)
    }

    /// Whether the peer's first SETTINGS frame was processed.
    pub(crate) fn peer_settings_seen(&self) -> bool {
        self.peer.is_some()
    }

    /// A SETTINGS frame from the peer; `value` is its NO_RFC7540_PRIORITIES entry, if any (the
    /// last one). The first frame fixes the peer's value (absent means 0); a later frame that
    /// names a different value breaks §2.1's "MUST NOT change": `Err`.
    pub(crate) fn peer_settings(&mut self, value: Option<bool>) -> Result<(), ()> {
        match self.peer {
            None => {
                self.peer = Some(value.unwrap_or(false));
                Ok(())
            }
            Some(fixed) if value.is_some_and(|v| v != fixed) => Err(()),
            Some(_) => Ok(()),
        }
    }

    /// An RFC 7540 signal from the peer (PRIORITY, or a HEADERS priority field): returns
    /// whether to apply it to the tree. It may switch the mode to the tree (see the module).
    pub(crate) fn rfc7540_signal(&mut self) -> bool {
        if self.peer_announced() || self.settled {
            return false;
        }
        self.mode = Mode::Rfc7540;
        true
    }

    /// An RFC 9218 signal from the peer (a `priority` header field, PRIORITY_UPDATE): settles
    /// RFC 9218 when we announced it.
    pub(crate) fn rfc9218_signal(&mut self) {
        if self.announced {
            self.settled = true;
            self.mode = Mode::Rfc9218;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcing_1_schedules_by_urgency_until_the_peer_uses_the_tree() {
        let mut s = Scheme::new(true);
        assert_eq!(s.mode(), Mode::Rfc9218);
        assert_eq!(s.peer_settings(None), Ok(()));
        assert!(s.rfc7540_signal());
        assert_eq!(s.mode(), Mode::Rfc7540);
        s.rfc9218_signal();
        assert_eq!(s.mode(), Mode::Rfc9218);
        assert!(
            !s.rfc7540_signal(),
            "RFC 9218 settled: the tree is not chosen again"
        );
        assert_eq!(s.mode(), Mode::Rfc9218);
    }

    #[test]
    fn a_peer_announcing_1_has_its_rfc7540_signals_ignored() {
        for announced in [false, true] {
            let mut s = Scheme::new(announced);
            assert_eq!(s.peer_settings(Some(true)), Ok(()));
            assert!(!s.rfc7540_signal());
            assert!(s.peer_announced());
        }
    }

    #[test]
    fn announcing_0_keeps_the_tree() {
        let mut s = Scheme::new(false);
        assert_eq!(s.peer_settings(Some(false)), Ok(()));
        s.rfc9218_signal();
        assert_eq!(s.mode(), Mode::Rfc7540);
        assert!(s.rfc7540_signal());
    }

    #[test]
    fn the_peer_value_cannot_change_after_the_first_settings() {
        let mut s = Scheme::new(true);
        assert_eq!(s.peer_settings(None), Ok(()));
        assert_eq!(s.peer_settings(None), Ok(()));
        assert_eq!(s.peer_settings(Some(false)), Ok(()), "the same value again");
        assert_eq!(
            s.peer_settings(Some(true)),
            Err(()),
            "absent from the first is 0"
        );
        let mut s = Scheme::new(true);
        assert_eq!(s.peer_settings(Some(true)), Ok(()));
        assert_eq!(s.peer_settings(Some(true)), Ok(()));
        assert_eq!(s.peer_settings(Some(false)), Err(()));
    }
}
