//! A connection over `std::net` and `std::io`, for an adapter whose threads block rather than
//! await (h2-mio): opening a client's connection (resolving, connecting within
//! [`OPEN_TIMEOUT`], the `Upgrade: h2c` exchange) and writing the shell's [`Transport`] to a
//! non-blocking stream with vectored writes. With TLS (feature `tls`), the records sit
//! between the queue and the stream: `tls::Records::flush_transport`, and the client's
//! handshake is `tls::client_handshake`.

use crate::h2c::H2cStart;
use crate::Error;
use bytes::BytesMut;
use h2core::shell::pool::OPEN_TIMEOUT;
use h2core::shell::{Transport, WRITE_SLICES};
use h2core::Connection;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Instant;

/// The addresses `addr` names; an error if it names none.
pub fn resolve(addr: impl ToSocketAddrs) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(no_address());
    }
    Ok(addrs)
}

fn no_address() -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidInput, "no address"))
}

/// A TCP connection to the first of `addrs` that answers, each tried within
/// [`OPEN_TIMEOUT`], with Nagle's algorithm off (the connection batches its own writes).
/// Blocking; the last failure if none answers.
pub fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, Error> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, OPEN_TIMEOUT) {
            Ok(socket) => {
                let _ = socket.set_nodelay(true);
                return Ok(socket);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(no_address, Error::Io))
}

/// `Upgrade: h2c` (RFC 7540 §3.2) over a blocking `socket`: `switch`'s request goes out, and
/// its answer is read until the `101` and the switch to HTTP/2; returns the connection and
/// the bytes read past the `101`.
pub fn h2c_exchange(
    socket: &mut (impl Read + Write),
    mut switch: H2cStart,
) -> Result<(Connection, BytesMut), Error> {
    socket.write_all(switch.request())?;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(started) = switch.poll(Instant::now())? {
            return Ok(started);
        }
        let n = socket.read(&mut chunk)?;
        if n == 0 {
            return Err(H2cStart::closed());
        }
        switch.read_buf().extend_from_slice(&chunk[..n]);
    }
}

/// Writes what `queue` holds to `to`, a non-blocking stream, with vectored writes of up to
/// [`WRITE_SLICES`] chunks, until the queue is empty or `to` would block; true if anything
/// went out. A write that takes nothing is `WriteZero`; other errors are returned as they
/// are (`Interrupted` is tried again).
pub fn write_transport(to: &mut dyn Write, queue: &mut Transport) -> io::Result<bool> {
    let mut wrote = false;
    // Bounded: each round moves bytes or stops. The slices are made only when there is
    // something to write (4 KiB of them, while most calls find the queue empty).
    for _ in 0..64 {
        if queue.is_empty() {
            break;
        }
        let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
        let n = queue.io_slices(&mut slices);
        match to.write_vectored(&slices[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(w) => {
                queue.advance(w);
                wrote = true;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(wrote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A non-blocking writer: takes at most `per_write` bytes a call and `room` in all, then
    /// would block.
    struct Socket {
        written: Vec<u8>,
        per_write: usize,
        room: usize,
        writes: usize,
    }

    impl Socket {
        fn new(per_write: usize, room: usize) -> Socket {
            Socket {
                written: Vec::new(),
                per_write,
                room,
                writes: 0,
            }
        }
    }

    impl Write for Socket {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(data)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            let limit = self.per_write.min(self.room);
            if limit == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.writes += 1;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(limit - n);
                self.written.extend_from_slice(&b[..take]);
                n += take;
            }
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn queue(chunks: &[&'static [u8]]) -> Transport {
        let mut t = Transport::new();
        chunks.iter().for_each(|c| t.push(Bytes::from_static(c)));
        t
    }

    #[test]
    fn the_whole_queue_goes_out_in_order_in_one_vectored_write() {
        let mut t = queue(&[b"head", b"er ", b"payload"]);
        let mut s = Socket::new(usize::MAX, usize::MAX);
        assert!(write_transport(&mut s, &mut t).unwrap());
        assert_eq!(s.written, b"header payload");
        assert_eq!(s.writes, 1);
        assert!(t.is_empty());
        assert!(!write_transport(&mut s, &mut t).unwrap(), "nothing queued");
    }

    #[test]
    fn short_writes_continue_until_the_stream_would_block() {
        let mut t = queue(&[b"0123456789", b"abcdef"]);
        let mut s = Socket::new(3, 11);
        assert!(write_transport(&mut s, &mut t).unwrap());
        assert_eq!(s.written, b"0123456789a");
        assert_eq!(
            t.queued(),
            5,
            "the rest stays queued for the next readiness"
        );
        s.room = usize::MAX;
        assert!(write_transport(&mut s, &mut t).unwrap());
        assert_eq!(s.written, b"0123456789abcdef");
    }

    #[test]
    fn a_stream_that_takes_nothing_is_write_zero() {
        struct Zero;
        impl Write for Zero {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut t = queue(&[b"x"]);
        let e = write_transport(&mut Zero, &mut t).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
    }

    #[test]
    fn resolving_nothing_is_an_error_and_connect_takes_the_first_that_answers() {
        assert!(resolve(&[][..] as &[SocketAddr]).is_err());
        assert!(connect(&[]).is_err());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addrs = resolve(listener.local_addr().unwrap()).unwrap();
        let socket = connect(&addrs).unwrap();
        assert!(socket.nodelay().unwrap());
    }

    #[test]
    fn an_h2c_exchange_the_server_closes_is_an_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = [0u8; 1024];
            let _ = s.read(&mut head);
        });
        let mut socket = connect(&[addr]).unwrap();
        let req = http::Request::get("http://localhost/")
            .body(Bytes::new())
            .unwrap();
        let switch = H2cStart::new(&req, h2core::Config::client()).unwrap();
        assert!(h2c_exchange(&mut socket, switch).is_err());
        server.join().unwrap();
    }
}
