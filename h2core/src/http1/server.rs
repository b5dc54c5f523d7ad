//! The server side of one HTTP/1.1 connection (RFC 9112 §9): one exchange at a time, so that
//! pipelined requests are answered in order (§9.3.2); persistence (§9.3); `Expect:
//! 100-continue` (RFC 9110 §10.1.1).

use super::fields::{self, has_token};
use super::{
    encode_response_head, BodyDecoder, BodyEncoder, BodyEvent, BodyKind, EncodeError, EncodedChunk,
    Http1Error, Limits, RequestHead, Version,
};
use crate::hpack::Header;
use bytes::{Bytes, BytesMut};

/// The interim response that tells a client waiting on `Expect: 100-continue` to send the body
/// (RFC 9110 §10.1.1, §15.2.1).
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How much of a request body the handler left unread we read and discard to keep the
/// connection; past it, closing is cheaper.
const DRAIN_LIMIT: u64 = 64 * 1024;

/// A request whose head was read by [`ServerConn::read_head`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRequest {
    /// The head; [`RequestHead::to_h2_headers`] turns it into the handler's field list and
    /// [`RequestHead::h2c_upgrade`] tells whether it asks for HTTP/2.
    pub head: RequestHead,
    /// How its body is delimited; read it with [`ServerConn::read_body`].
    pub body: BodyKind,
    /// The client waits for `100 Continue` before sending the body (RFC 9110 §10.1.1): when the
    /// handler starts reading the body, write what [`ServerConn::take_continue`] returns. A
    /// handler that answers without reading it spares the client the upload.
    pub expect_continue: bool,
    /// How many bytes of the receive buffer the head took, from the request line (or the empty
    /// lines before it, RFC 9112 §2.2) to the empty line that ends the header section.
    pub head_len: usize,
}

/// The server's state for one HTTP/1.1 connection, sans-IO: the adapter feeds it the receive
/// buffer and writes what it returns.
///
/// One exchange at a time: after [`read_head`](Self::read_head) returns a request, it returns
/// `Ok(None)` and leaves pipelined requests in the buffer until that request's body has been read
/// (or drained) and its response finished, so responses go out in request order (RFC 9112
/// §9.3.2). After every call, [`should_close`](Self::should_close) tells whether the adapter
/// must close the connection once its writes are flushed.
#[derive(Debug, Clone)]
pub struct ServerConn {
    limits: Limits,
    reading: Reading,
    writing: Writing,
    exchange: Option<Exchange>,
    /// Whether the connection persists after the current exchange (RFC 9112 §9.3).
    keep_alive: bool,
    closed: bool,
    /// How much of the receive buffer is known to hold no complete head: a head can only
    /// complete when a LF arrives, so a peer trickling bytes does not make us re-parse the
    /// whole partial head on every read.
    head_scanned: usize,
}

#[derive(Debug, Clone)]
enum Reading {
    /// Waiting for the next request head.
    Head,
    /// Reading the current request's body.
    Body(BodyDecoder),
    /// The current request's body is complete.
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Writing {
    /// No request to answer.
    Idle,
    /// The response head is due.
    Head,
    /// The response body is being written; `discard` for a response to HEAD (RFC 9110 §9.3.2).
    Body { encoder: BodyEncoder, discard: bool },
    /// The response is complete.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exchange {
    version: Version,
    head: bool,
    connect: bool,
    continue_: Continue,
    drained: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continue {
    /// Not expected, or there is no body to ask for.
    No,
    /// The client waits for 100 Continue.
    Pending,
    /// 100 Continue was written.
    Sent,
}

impl ServerConn {
    /// A new connection whose heads and trailer sections are bounded by `limits`.
    pub fn new(limits: Limits) -> ServerConn {
        ServerConn {
            limits,
            reading: Reading::Head,
            writing: Writing::Idle,
            exchange: None,
            keep_alive: true,
            closed: false,
            head_scanned: 0,
        }
    }

    /// Whether the adapter must close the connection once what it was given is written: the
    /// exchange ended without persistence (RFC 9112 §9.3, §9.6), the peer closed, or a framing
    /// error made the byte stream unusable.
    pub fn should_close(&self) -> bool {
        self.closed
    }

    /// Whether the current response's head was written: after that, an error can no longer be
    /// answered with a status, only with a close.
    pub fn response_started(&self) -> bool {
        matches!(self.writing, Writing::Body { .. } | Writing::Done)
    }

    /// Reads the next request head from `buf`, the connection's receive buffer (between calls
    /// the adapter only appends to it).
    ///
    /// `Ok(None)`: more bytes are needed, or the current exchange is not over yet (pipelined
    /// requests stay in `buf`), or the connection is closing. Once the response is finished, a
    /// request body the handler left unread is drained from `buf` here (up to 64 KiB; beyond
    /// that, or when the client still waits for 100 Continue, the connection closes instead).
    ///
    /// `Err(e)`: a malformed head or body framing (RFC 9112 §6.3): write
    /// [`Http1Error::encode_response`] and close ([`should_close`](Self::should_close) is now
    /// true).
    pub fn read_head(&mut self, buf: &mut BytesMut) -> Result<Option<IncomingRequest>, Http1Error> {
        if self.closed {
            return Ok(None);
        }
        if self.writing == Writing::Done {
            self.drain(buf);
        }
        if self.closed || !matches!(self.reading, Reading::Head) || self.writing != Writing::Idle {
            return Ok(None);
        }
        let scanned = self.head_scanned.min(buf.len());
        if scanned > 0 && buf.len() <= self.limits.max_head_size && !buf[scanned..].contains(&b'\n')
        {
            self.head_scanned = buf.len();
            return Ok(None);
        }
        let before = buf.len();
        let parsed = parse_head(buf, &self.limits);
        let (head, body) = match parsed {
            Ok(Some(parsed)) => parsed,
            Ok(None) => {
                self.head_scanned = buf.len();
                return Ok(None);
            }
            Err(e) => {
                self.closed = true;
                return Err(e);
            }
        };
        self.head_scanned = 0;
        let has_body = !matches!(body, BodyKind::Empty | BodyKind::ContentLength(0));
        let expect_continue = has_body && head.expects_continue();
        self.keep_alive = head.keep_alive();
        self.exchange = Some(Exchange {
            version: head.version,
            head: head.method_is("HEAD"),
            connect: head.method_is("CONNECT"),
            continue_: if expect_continue {
                Continue::Pending
            } else {
                Continue::No
            },
            drained: 0,
        });
        self.reading = Reading::Body(BodyDecoder::new(body, &self.limits));
        self.writing = Writing::Head;
        Ok(Some(IncomingRequest {
            head,
            body,
            expect_continue,
            head_len: before - buf.len(),
        }))
    }

    /// Reads the next part of the current request's body from `buf`, as
    /// [`BodyDecoder::decode`]. `Ok(None)` when more bytes are needed or there is no request;
    /// `End` again after the end. `Err(e)`: a chunked framing error; answer `e.status()` if the
    /// response has not started, and close.
    pub fn read_body(&mut self, buf: &mut BytesMut) -> Result<Option<BodyEvent>, Http1Error> {
        let Reading::Body(decoder) = &mut self.reading else {
            return Ok(match self.reading {
                Reading::Done => Some(BodyEvent::End),
                _ => None,
            });
        };
        match decoder.decode(buf) {
            Ok(Some(BodyEvent::End)) => {
                self.reading = Reading::Done;
                self.settle();
                Ok(Some(BodyEvent::End))
            }
            Err(e) => {
                self.closed = true;
                Err(e)
            }
            other => other,
        }
    }

    /// The peer closed its side of the connection (after all it sent went through
    /// [`read_body`](Self::read_body)). The body being read ends or is incomplete, as
    /// [`BodyDecoder::eof`]; no further request can come, so the connection closes once the
    /// current response, if any, is written.
    pub fn read_eof(&mut self) -> Result<Option<BodyEvent>, Http1Error> {
        self.keep_alive = false;
        let result = match &mut self.reading {
            Reading::Body(decoder) => match decoder.eof() {
                Ok(event) => {
                    self.reading = Reading::Done;
                    Ok(event)
                }
                Err(e) => {
                    self.closed = true;
                    Err(e)
                }
            },
            Reading::Done => Ok(None),
            Reading::Head => {
                self.closed = true;
                Ok(None)
            }
        };
        self.settle();
        result
    }

    /// What to write now that the handler starts reading the body: [`CONTINUE`] once, if the
    /// client waits for it and no final response was started (RFC 9110 §10.1.1).
    #[must_use = "the returned bytes must be written before the client sends the body"]
    pub fn take_continue(&mut self) -> Option<Bytes> {
        let exchange = self.exchange.as_mut()?;
        if exchange.continue_ != Continue::Pending || self.writing != Writing::Head {
            return None;
        }
        exchange.continue_ = Continue::Sent;
        Some(Bytes::from_static(CONTINUE))
    }

    /// Writes an interim (1xx) response head, e.g. 103 Early Hints, into `dst`.
    ///
    /// Nothing is written to an HTTP/1.0 client (RFC 9110 §15.2: a server MUST NOT send it
    /// one). A 100 counts as the answer to `Expect: 100-continue`. 101 is not an interim response
    /// here: for h2c write [`SWITCHING_PROTOCOLS`](super::SWITCHING_PROTOCOLS).
    pub fn write_informational(
        &mut self,
        status: u16,
        headers: &[Header],
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let Some(exchange) = self.exchange.as_mut() else {
            return Err(EncodeError::OutOfOrder);
        };
        if self.writing != Writing::Head {
            return Err(EncodeError::OutOfOrder);
        }
        if !(100..200).contains(&status) || status == 101 {
            return Err(EncodeError::InvalidStartLine);
        }
        if exchange.version == Version::Http10 {
            return Ok(());
        }
        encode_response_head(status, None, headers, BodyKind::Empty, dst)?;
        if status == 100 {
            exchange.continue_ = Continue::Sent;
        }
        Ok(())
    }

    /// Writes the final response head into `dst`, choosing its framing (RFC 9112 §6.1–§6.3):
    ///
    /// - `length` known (given, or a valid `content-length` among `headers`): Content-Length;
    /// - unknown, to an HTTP/1.1 client: chunked;
    /// - unknown, to an HTTP/1.0 client: close-delimited, and the connection closes;
    /// - 204, 304 and a 2xx to CONNECT have no body and no framing field (RFC 9110 §8.6); a
    ///   response to HEAD declares the length if known and its body is discarded.
    ///
    /// Persistence (RFC 9112 §9.3, §9.6): `connection: close` is added when the connection will
    /// close after this exchange (the client asked, the handler put `close` in `headers`, the
    /// framing needs it); `connection: keep-alive` for an HTTP/1.0 client otherwise. Any
    /// `connection` and `keep-alive` fields in `headers` are replaced, and Content-Length and
    /// Transfer-Encoding are the codec's.
    ///
    /// 1xx goes through [`write_informational`](Self::write_informational).
    pub fn write_response_head(
        &mut self,
        status: u16,
        reason: Option<&str>,
        headers: &[Header],
        length: Option<u64>,
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let Some(exchange) = self.exchange else {
            return Err(EncodeError::OutOfOrder);
        };
        if self.writing != Writing::Head {
            return Err(EncodeError::OutOfOrder);
        }
        if status < 200 {
            return Err(EncodeError::InvalidStartLine);
        }
        let length = length.or_else(|| declared_length(headers));
        let mut keep_alive = self.keep_alive && !has_token(headers, b"connection", b"close");
        let tunnel = exchange.connect && (200..300).contains(&status);
        let (declared, body) = if status == 204 || status == 304 || tunnel {
            // A successful CONNECT turns the connection into a tunnel, which this codec does not
            // carry on: close after it.
            keep_alive &= !tunnel;
            (BodyKind::Empty, BodyKind::Empty)
        } else if exchange.head {
            (
                length.map_or(BodyKind::Empty, BodyKind::ContentLength),
                BodyKind::Empty,
            )
        } else {
            let kind = match (length, exchange.version) {
                (Some(n), _) => BodyKind::ContentLength(n),
                (None, Version::Http11) => BodyKind::Chunked,
                (None, Version::Http10) => {
                    keep_alive = false;
                    BodyKind::CloseDelimited
                }
            };
            (kind, kind)
        };

        let mut fields: Vec<Header> = headers
            .iter()
            .filter(|h| {
                !h.name.eq_ignore_ascii_case(b"connection")
                    && !h.name.eq_ignore_ascii_case(b"keep-alive")
            })
            .cloned()
            .collect();
        if !keep_alive {
            fields.push(Header::new("connection", Bytes::from_static(b"close")));
        } else if exchange.version == Version::Http10 {
            fields.push(Header::new("connection", Bytes::from_static(b"keep-alive")));
        }
        encode_response_head(status, reason, &fields, declared, dst)?;
        self.keep_alive = keep_alive;
        self.writing = Writing::Body {
            encoder: BodyEncoder::new(body),
            discard: exchange.head,
        };
        Ok(())
    }

    /// Frames response body data, as [`BodyEncoder::encode`]; the body of a response to HEAD
    /// is dropped (RFC 9110 §9.3.2).
    #[must_use = "the returned chunk must be written"]
    pub fn send_data(&mut self, data: Bytes) -> Result<EncodedChunk, EncodeError> {
        match &mut self.writing {
            Writing::Body { discard: true, .. } => Ok(EncodedChunk::default()),
            Writing::Body { encoder, .. } => encoder.encode(data),
            _ => Err(EncodeError::OutOfOrder),
        }
    }

    /// Ends the response body, as [`BodyEncoder::finish`] (for chunked: the last-chunk and
    /// the trailers). The exchange is over once the request body is read too; a request body
    /// the client has not been asked to send (100 Continue never written) cannot be skipped
    /// reliably, so the connection then closes (RFC 9110 §10.1.1).
    #[must_use = "the returned bytes end the response and must be written"]
    pub fn finish_response(
        &mut self,
        trailers: Option<&[Header]>,
    ) -> Result<Option<Bytes>, EncodeError> {
        let Writing::Body { encoder, discard } = &mut self.writing else {
            return Err(EncodeError::OutOfOrder);
        };
        let closes = encoder.closes_connection();
        let end = if *discard {
            None
        } else {
            encoder.finish(trailers)?
        };
        self.writing = Writing::Done;
        let awaiting_continue = self
            .exchange
            .is_some_and(|e| e.continue_ == Continue::Pending);
        if closes || (awaiting_continue && matches!(self.reading, Reading::Body(_))) {
            self.keep_alive = false;
        }
        self.settle();
        Ok(end)
    }

    /// Reads and discards the rest of a request body the handler did not read, once the
    /// response is complete.
    fn drain(&mut self, buf: &mut BytesMut) {
        loop {
            match self.read_body(buf) {
                Ok(Some(BodyEvent::Data(data))) => {
                    let Some(exchange) = self.exchange.as_mut() else {
                        return;
                    };
                    exchange.drained += data.len() as u64;
                    if exchange.drained > DRAIN_LIMIT {
                        self.closed = true;
                        return;
                    }
                }
                Ok(Some(BodyEvent::Trailers(_))) => {}
                // `read_body` settled the exchange at its end, or closed on error.
                Ok(Some(BodyEvent::End)) | Ok(None) | Err(_) => return,
            }
        }
    }

    /// Ends the exchange when both directions are done: ready for the next request if the
    /// connection persists, closed otherwise.
    fn settle(&mut self) {
        if self.writing != Writing::Done {
            return;
        }
        match self.reading {
            Reading::Done if self.keep_alive => {
                self.reading = Reading::Head;
                self.writing = Writing::Idle;
                self.exchange = None;
            }
            Reading::Body(_) if self.keep_alive => {}
            _ => self.closed = true,
        }
    }
}

fn parse_head(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<(RequestHead, BodyKind)>, Http1Error> {
    let Some(head) = super::parse_request(buf, limits)? else {
        return Ok(None);
    };
    let body = head.body_kind()?;
    Ok(Some((head, body)))
}

/// A single valid Content-Length among the handler's fields.
fn declared_length(headers: &[Header]) -> Option<u64> {
    let mut values = fields::values(headers, b"content-length");
    let value = values.next()?;
    if values.next().is_some() || value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> ServerConn {
        ServerConn::new(Limits::default())
    }

    #[test]
    fn a_second_head_waits_for_the_first_exchange() {
        let mut c = conn();
        let mut buf = BytesMut::from(
            &b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        );
        let first = c.read_head(&mut buf).unwrap().unwrap();
        assert_eq!(first.head.target, "/1");
        assert_eq!(first.head_len, b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n".len());
        assert_eq!(c.read_head(&mut buf), Ok(None));
        assert_eq!(c.read_body(&mut buf), Ok(Some(BodyEvent::End)));
        assert_eq!(c.read_head(&mut buf), Ok(None));
        let mut out = BytesMut::new();
        c.write_response_head(200, None, &[], Some(0), &mut out)
            .unwrap();
        assert_eq!(c.finish_response(None), Ok(None));
        let second = c.read_head(&mut buf).unwrap().unwrap();
        assert_eq!(second.head.target, "/2");
        assert!(!c.should_close());
    }

    #[test]
    fn verbs_out_of_order_are_refused() {
        let mut c = conn();
        let mut out = BytesMut::new();
        assert_eq!(
            c.write_response_head(200, None, &[], None, &mut out),
            Err(EncodeError::OutOfOrder)
        );
        assert_eq!(c.send_data(Bytes::new()), Err(EncodeError::OutOfOrder));
        assert_eq!(c.finish_response(None), Err(EncodeError::OutOfOrder));
        assert_eq!(c.take_continue(), None);
        assert_eq!(c.read_body(&mut BytesMut::new()), Ok(None));
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
        c.read_head(&mut buf).unwrap().unwrap();
        assert_eq!(
            c.write_response_head(100, None, &[], None, &mut out),
            Err(EncodeError::InvalidStartLine)
        );
        c.write_response_head(200, None, &[], None, &mut out)
            .unwrap();
        assert_eq!(
            c.write_response_head(200, None, &[], None, &mut out),
            Err(EncodeError::OutOfOrder)
        );
    }

    #[test]
    fn head_trickling_in_is_parsed_once_complete() {
        let mut c = conn();
        let text = b"GET /t HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaa\r\n\r\n";
        let mut buf = BytesMut::new();
        for (i, &b) in text.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            let parsed = c.read_head(&mut buf).unwrap();
            assert_eq!(
                parsed.is_some(),
                i + 1 == text.len(),
                "after {} bytes",
                i + 1
            );
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn malformed_head_closes() {
        let mut c = conn();
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"[..]);
        assert_eq!(c.read_head(&mut buf), Err(Http1Error::InvalidContentLength));
        assert!(c.should_close());
        assert_eq!(c.read_head(&mut buf), Ok(None));
    }

    #[test]
    fn eof_between_requests_closes() {
        let mut c = conn();
        assert_eq!(c.read_eof(), Ok(None));
        assert!(c.should_close());
    }
}
