//! A client's WebSocket over HTTP/1.1 `Upgrade: websocket` (RFC 6455 §4.1): the handshake's
//! rules are `h2_http::websocket`'s; here its bytes go out and the answer is read, within
//! `OPEN_TIMEOUT`. (Over HTTP/2 a WebSocket is an extended CONNECT on a `Client`, RFC 8441.)

use crate::rt::{self, AsyncRead, AsyncWrite, Runtime};
use crate::upgrade::Upgraded;
use bytes::BytesMut;
use h2_http::Error;
use h2core::shell::pool::OPEN_TIMEOUT;
use http::{Request, Response};
use std::net::SocketAddr;

/// Opens a WebSocket over HTTP/1.1 on a new connection to `addr` (RFC 6455 §4.1): `req` (a
/// `GET` to `ws://host/path` or `http://host/path`; its other fields, such as `Origin` or
/// `Sec-WebSocket-Protocol`, go as they are) is sent with `Upgrade: websocket`, `Connection:
/// Upgrade`, a fresh `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13`. On `101 Switching
/// Protocols` whose `Sec-WebSocket-Accept` is base64(SHA-1(key + GUID)) (§4.2.2), the response
/// head comes back with the connection as an [`Upgraded`] byte stream (the runtime's
/// `AsyncRead + AsyncWrite`, the same type an HTTP/2 extended CONNECT gives, RFC 8441): run a
/// WebSocket library on it, e.g. tokio-tungstenite's `WebSocketStream::from_raw_socket`.
///
/// Any other answer is an [`Error::Http1`] naming what was wrong (another status, the wrong
/// accept key, an extension or subprotocol not offered). Connecting and the handshake must be
/// over within `h2core::shell::pool::OPEN_TIMEOUT`. The rules are `h2_http::websocket`'s;
/// over TLS (`wss://`), connect yourself and use [`websocket_http1_on`].
pub async fn websocket_http1<R: Runtime>(
    addr: SocketAddr,
    req: Request<()>,
) -> Result<(Response<()>, Upgraded), Error> {
    let socket = rt::connect_within::<R>(addr, OPEN_TIMEOUT).await?;
    websocket_http1_on::<R, _>(socket, req).await
}

/// As [`websocket_http1`], on a transport of the caller's (a TLS stream for `wss://`, whose
/// ALPN, if any, should be `http/1.1`; a proxy's tunnel; ...).
pub async fn websocket_http1_on<R, IO>(
    mut io: IO,
    req: Request<()>,
) -> Result<(Response<()>, Upgraded), Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut out = BytesMut::new();
    let handshake = h2_http::websocket::ClientHandshake::start(&req, &mut out)?;
    let exchange = async {
        io.write_all(&out).await?;
        io.flush().await?;
        let mut buf = BytesMut::with_capacity(4 * 1024);
        loop {
            if let Some(response) = handshake.poll_response(&mut buf)? {
                return Ok::<_, Error>((response, buf));
            }
            if io.read_buf(&mut buf).await? == 0 {
                return Err(Error::Http1(
                    "the server closed the connection during the WebSocket handshake".into(),
                ));
            }
        }
    };
    let (response, rest) = rt::timeout_at::<R, _>(R::now() + OPEN_TIMEOUT, exchange)
        .await
        .ok_or_else(|| Error::Io(std::io::ErrorKind::TimedOut.into()))??;
    Ok((response, Upgraded::connection(io, rest.freeze())))
}
