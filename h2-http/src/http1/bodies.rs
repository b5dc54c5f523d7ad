//! Message bodies of an HTTP/1.1 exchange as they move (RFC 9112 §6-7): the request body
//! decoded into the handler's inbox while it keeps up, the response body framed into the
//! write queue while that is short, and an upgraded connection's bytes both ways.

use super::{Exchange, Tunnel, Wire, READ_AHEAD};
use crate::body::{Chunk, Outgoing};
use crate::Error;
use bytes::Bytes;
use h2core::http1::{BodyEvent, Http1Error, ServerConn};
use h2core::shell::Transport;
use std::task::{Context, Poll};

/// A streamed response body is pulled only while less than this is queued for the socket.
const WRITE_HIGH_WATER: usize = 256 * 1024;

/// Moves a tunnel's bytes: what was read to the handler while it keeps up, what its body gives
/// to the write queue while that is short. `Some(true)` while it goes on, `Some(false)` once
/// both sides ended, `None` if the handler's side failed.
pub(super) fn tunnel(
    w: &mut Wire<'_>,
    t: &mut Tunnel,
    cx: &mut Context<'_>,
    progress: &mut bool,
) -> Option<bool> {
    match &t.inbox {
        // The handler no longer reads: what arrives is dropped.
        None => w.read_buf.clear(),
        Some(inbox) if !w.read_buf.is_empty() && t.unread < READ_AHEAD => {
            let data = w.read_buf.split().freeze();
            let n = data.len();
            *progress = true;
            if inbox.data(data) {
                t.unread += n;
            } else {
                t.inbox = None;
            }
        }
        Some(_) => {}
    }
    if w.read_closed && w.read_buf.is_empty() {
        if let Some(inbox) = t.inbox.take() {
            *progress = true;
            inbox.end();
        }
    }
    while let Some(out) = t.out.as_mut() {
        if w.transport.queued() >= WRITE_HIGH_WATER {
            break;
        }
        let Poll::Ready(chunk) = out.poll_chunk(cx, true) else {
            break;
        };
        *progress = true;
        match chunk {
            Chunk::Data(d, last) => {
                if !d.is_empty() {
                    w.transport.push(d);
                }
                if last {
                    t.out = None;
                }
            }
            Chunk::Trailers(_) | Chunk::End => t.out = None,
            Chunk::Abort(_) => return None,
        }
    }
    Some(t.out.is_some() || t.inbox.is_some())
}

/// Decodes the request body into the handler's inbox while it keeps up (all of it when
/// discarding).
pub(super) fn read_request_body(
    sc: &mut ServerConn,
    w: &mut Wire<'_>,
    x: &mut Exchange,
    progress: &mut bool,
) -> Result<(), Http1Error> {
    while x.reading && (x.body.is_none() || x.unread < READ_AHEAD) {
        let event = match sc.read_body(w.read_buf) {
            Ok(Some(ev)) => ev,
            Ok(None) if !w.read_closed => return Ok(()),
            Ok(None) => match sc.read_eof() {
                // The body ended with the connection: read_body says End next.
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(()),
                Err(e) => return Err(body_failed(x, e)),
            },
            Err(e) => return Err(body_failed(x, e)),
        };
        *progress = true;
        match event {
            BodyEvent::Data(d) => {
                let n = d.len();
                match &x.body {
                    Some(inbox) if inbox.data(d) => x.unread += n,
                    _ => x.body = None,
                }
            }
            BodyEvent::Trailers(t) => {
                if let Some(inbox) = x.body.take() {
                    match crate::fields_to_map(&t) {
                        Ok(t) => inbox.trailers(t),
                        Err(e) => inbox.fail(e.into()),
                    }
                }
            }
            BodyEvent::End => {
                x.reading = false;
                if let Some(inbox) = x.body.take() {
                    inbox.end();
                }
            }
        }
    }
    Ok(())
}

/// A truncated or malformed request body: the handler sees the error.
fn body_failed(x: &mut Exchange, e: Http1Error) -> Http1Error {
    x.reading = false;
    if let Some(inbox) = x.body.take() {
        inbox.fail(Error::Http1(e.to_string()));
    }
    e
}

pub(super) enum Pumped {
    Waiting,
    Done,
    Failed,
}

/// Writes response body bytes while the write queue is short.
pub(super) fn pump(
    sc: &mut ServerConn,
    t: &mut Transport,
    out: &mut Outgoing,
    cx: &mut Context,
) -> Pumped {
    loop {
        if t.queued() >= WRITE_HIGH_WATER {
            return Pumped::Waiting;
        }
        let Poll::Ready(chunk) = out.poll_chunk(cx, true) else {
            return Pumped::Waiting;
        };
        let (data, end) = match chunk {
            Chunk::Data(d, last) => (d, last.then_some(None)),
            Chunk::Trailers(t) => (Bytes::new(), Some(Some(t))),
            Chunk::End => (Bytes::new(), Some(None)),
            // Unfinished: the client sees the message incomplete (RFC 9112 §8).
            Chunk::Abort(_) => return Pumped::Failed,
        };
        if !data.is_empty() {
            match sc.send_data(data) {
                Ok(chunk) => chunk.into_parts().for_each(|p| t.push(p)),
                Err(e) => {
                    tracing::debug!("response body: {e}");
                    return Pumped::Failed;
                }
            }
        }
        let Some(trailers) = end else {
            continue;
        };
        let trailers = trailers.map(|t| crate::trailers_to_h2(&t));
        return match sc.finish_response(trailers.as_deref()) {
            Ok(end) => {
                t.push(end.unwrap_or_default());
                Pumped::Done
            }
            Err(e) => {
                tracing::debug!("response end: {e}");
                Pumped::Failed
            }
        };
    }
}
