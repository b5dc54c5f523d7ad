#!/usr/bin/env python3
"""Interop client for the demo servers (h2core's blocking_server and every adapter's server
example), built on python-hyper's sans-IO `h2`. Run by h2-testkit's `interop::python_h2`.

    python3 py_client.py PORT [flow|ping]

flow (default): checks the server's SETTINGS (RFC 9113 §6.5) and its connection WINDOW_UPDATE
(§6.9.2), a GET /, a POST /echo of 200 KB within our send windows, a POST /echo of 3 MiB that
cannot go out without the server's WINDOW_UPDATEs (§6.9.1), then sends GOAWAY and expects the
server's GOAWAY(NO_ERROR) and a clean close of the transport (§6.8).

ping: a PING must come back as PING ACK with the same opaque data (§6.7).

Exit status 0 on success; on failure a message on stderr and status 1. Every wait is bounded.
"""

import os
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

TIMEOUT = 5.0
# h2core Config::server() defaults (h2core/src/config.rs).
MAX_CONCURRENT_STREAMS = 100
INITIAL_WINDOW_SIZE = 1 << 20
CONNECTION_WINDOW = 2 << 20
DEFAULT_WINDOW = 65_535


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        self.flush()
        # What the server told us, accumulated over every event.
        self.settings = {}
        self.window_updates = []  # (stream_id, delta), in arrival order
        self.responses = {}  # stream_id -> {"headers": dict, "body": bytearray, "ended": bool}
        self.ping_acks = []
        self.terminated = None

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def read_once(self):
        """Reads once from the socket and records every event; False at EOF."""
        data = self.sock.recv(65_536)
        if not data:
            return False
        for event in self.conn.receive_data(data):
            self.record(event)
        self.flush()
        return True

    def record(self, event):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            for code, change in event.changed_settings.items():
                self.settings[code] = change.new_value
        elif isinstance(event, h2.events.WindowUpdated):
            self.window_updates.append((event.stream_id, event.delta))
        elif isinstance(event, h2.events.ResponseReceived):
            self.response(event.stream_id)["headers"] = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.response(event.stream_id)["body"] += event.data
            # Give the window back, or a long echo stalls on our 65,535-byte receive window.
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.response(event.stream_id)["ended"] = True
        elif isinstance(event, h2.events.StreamReset):
            raise Failure(f"stream {event.stream_id} reset by server: {event.error_code!r}")
        elif isinstance(event, h2.events.PingAckReceived):
            self.ping_acks.append(event.ping_data)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.terminated = event

    def response(self, stream_id):
        return self.responses.setdefault(
            stream_id, {"headers": None, "body": bytearray(), "ended": False}
        )

    def wait_for(self, what, cond):
        deadline = time.monotonic() + TIMEOUT
        while not cond():
            check(self.terminated is None, f"server sent GOAWAY while waiting for {what}: "
                  f"{self.terminated!r}")
            check(time.monotonic() < deadline, f"timed out waiting for {what}")
            try:
                alive = self.read_once()
            except socket.timeout:
                raise Failure(f"socket timeout waiting for {what}") from None
            check(alive, f"server closed the connection while waiting for {what}")

    def handshake(self):
        self.wait_for(
            "the server's SETTINGS and connection WINDOW_UPDATE",
            lambda: self.settings and any(sid == 0 for sid, _ in self.window_updates),
        )

    def request(self, method, path, body=b"", pad=0):
        """Sends a request, its body within the send windows (DATA padded with `pad` bytes
        when nonzero: padding counts against flow control, §6.1); returns the stream id and how
        many DATA bytes were sent after waiting for a WINDOW_UPDATE."""
        stream_id = self.conn.get_next_available_stream_id()
        headers = [
            (":method", method),
            (":path", path),
            (":scheme", "http"),
            (":authority", "127.0.0.1"),
        ]
        if body:
            headers.append(("content-length", str(len(body))))
        self.conn.send_headers(stream_id, headers, end_stream=not body)
        self.flush()
        sent = 0
        waited_bytes = 0
        while sent < len(body):
            window = self.conn.local_flow_control_window(stream_id)
            if window == 0:
                # §6.9: no DATA beyond the window; the server must open it with WINDOW_UPDATE.
                before = len(self.window_updates)
                self.wait_for(
                    f"WINDOW_UPDATE on stream {stream_id} after {sent} bytes",
                    lambda: len(self.window_updates) > before
                    and self.conn.local_flow_control_window(stream_id) > 0,
                )
                waited_bytes = len(body) - sent
                continue
            # A padded frame spends the Pad Length octet and the padding too.
            overhead = pad + 1 if pad else 0
            room = min(window, self.conn.max_outbound_frame_size) - overhead
            if room <= 0:
                before = len(self.window_updates)
                self.wait_for(
                    f"WINDOW_UPDATE on stream {stream_id} after {sent} bytes",
                    lambda: len(self.window_updates) > before,
                )
                waited_bytes = len(body) - sent
                continue
            n = min(room, len(body) - sent)
            end = sent + n == len(body)
            self.conn.send_data(
                stream_id, body[sent : sent + n], end_stream=end, pad_length=pad or None
            )
            sent += n
            self.flush()
        return stream_id, waited_bytes

    def await_response(self, stream_id):
        self.wait_for(f"the response on stream {stream_id}", lambda: self.response(stream_id)["ended"])
        r = self.response(stream_id)
        check(r["headers"] is not None, f"stream {stream_id} ended without a response")
        return r["headers"].get(":status"), bytes(r["body"])


def read_frames_until_eof(sock):
    """After our GOAWAY the h2 state machine is closed, so parse the rest by hand: returns the
    frames (type, flags, stream, payload) the server sent before it closed the transport."""
    buf = b""
    deadline = time.monotonic() + TIMEOUT
    while True:
        check(time.monotonic() < deadline, "server did not close the connection within 5 s "
              "after GOAWAY")
        try:
            data = sock.recv(65_536)
        except socket.timeout:
            raise Failure("socket timeout: server did not close the connection after GOAWAY") \
                from None
        except ConnectionResetError:
            raise Failure("server reset the connection (RST) instead of closing it") from None
        if not data:
            break
        buf += data
    frames = []
    while len(buf) >= 9:
        length = int.from_bytes(buf[0:3], "big")
        ftype, flags = buf[3], buf[4]
        stream = int.from_bytes(buf[5:9], "big") & 0x7FFF_FFFF
        check(len(buf) >= 9 + length, f"truncated frame at EOF: {buf[:9].hex()}")
        frames.append((ftype, flags, stream, buf[9 : 9 + length]))
        buf = buf[9 + length :]
    check(not buf, f"{len(buf)} stray bytes before EOF")
    return frames


def mode_flow(port):
    c = Client(port)
    c.handshake()
    codes = h2.settings.SettingCodes
    check(
        c.settings.get(codes.MAX_CONCURRENT_STREAMS) == MAX_CONCURRENT_STREAMS,
        f"SETTINGS_MAX_CONCURRENT_STREAMS: want {MAX_CONCURRENT_STREAMS}, got {c.settings}",
    )
    check(
        c.settings.get(codes.INITIAL_WINDOW_SIZE) == INITIAL_WINDOW_SIZE,
        f"SETTINGS_INITIAL_WINDOW_SIZE: want {INITIAL_WINDOW_SIZE}, got {c.settings}",
    )
    conn_updates = [d for sid, d in c.window_updates if sid == 0]
    check(
        conn_updates[:1] == [CONNECTION_WINDOW - DEFAULT_WINDOW],
        f"connection WINDOW_UPDATE: want {CONNECTION_WINDOW - DEFAULT_WINDOW}, got {conn_updates}",
    )
    print(f"settings ok: {dict((k.name if hasattr(k, 'name') else k, v) for k, v in c.settings.items())}")

    sid, _ = c.request("GET", "/")
    status, body = c.await_response(sid)
    check(status == "200" and body == b"hello\n", f"GET /: {status} {body!r}")
    print(f"GET / ok on stream {sid}")

    # 200 KB fits the server's initial windows (1 MiB stream, 2 MiB connection).
    small = os.urandom(200 * 1000)
    sid, _ = c.request("POST", "/echo", small)
    status, body = c.await_response(sid)
    check(status == "200", f"POST /echo 200 KB: status {status}")
    check(body == small, f"POST /echo 200 KB: echoed {len(body)} bytes, differ from sent")
    print(f"POST /echo 200 KB ok on stream {sid}")

    # 3 MiB does not fit: the connection window (2 MiB) must be reopened by the server as it
    # consumes the body (its policy: WINDOW_UPDATE once half the window is consumed). The DATA
    # is padded, so the server must also return the padding it never hands to the application.
    updates_before = len(c.window_updates)
    big = os.urandom(3 << 20)
    sid, waited = c.request("POST", "/echo", big, pad=32)
    status, body = c.await_response(sid)
    check(status == "200", f"POST /echo 3 MiB: status {status}")
    check(body == big, f"POST /echo 3 MiB: echoed {len(body)} bytes, differ from sent")
    updates = c.window_updates[updates_before:]
    conn_inc = sum(d for s, d in updates if s == 0)
    stream_inc = sum(d for s, d in updates if s == sid)
    check(waited > 0, "3 MiB went out without ever waiting for a window: test is not testing")
    # Everything beyond the initial 2 MiB window (minus the 200 KB already in it) must have
    # been granted by connection-level WINDOW_UPDATEs, and beyond 1 MiB by stream ones.
    check(
        conn_inc >= len(big) + len(small) - CONNECTION_WINDOW,
        f"connection WINDOW_UPDATEs granted {conn_inc} bytes for {len(big)} sent",
    )
    check(
        stream_inc >= len(big) - INITIAL_WINDOW_SIZE,
        f"stream {sid} WINDOW_UPDATEs granted {stream_inc} bytes for {len(big)} sent",
    )
    print(
        f"POST /echo 3 MiB ok on stream {sid}: {waited} bytes sent after waiting for a window; "
        f"WINDOW_UPDATE connection +{conn_inc} ({sum(1 for s, _ in updates if s == 0)} frames), "
        f"stream +{stream_inc} ({sum(1 for s, _ in updates if s == sid)} frames)"
    )

    last_stream = sid
    c.conn.close_connection()
    c.flush()
    started = time.monotonic()
    frames = read_frames_until_eof(c.sock)
    elapsed = time.monotonic() - started
    goaways = [f for f in frames if f[0] == 0x7]
    summary = [(t, fl, s, len(p)) for t, fl, s, p in frames]
    check(goaways, f"no GOAWAY from the server before EOF; frames (type, flags, stream, len): "
          f"{summary}")
    last_id, code = struct.unpack(">II", goaways[-1][3][:8])
    check(code == 0, f"server GOAWAY error code {code}, want NO_ERROR")
    check(
        last_id & 0x7FFF_FFFF == last_stream,
        f"server GOAWAY last-stream-id {last_id}, want {last_stream}",
    )
    c.sock.close()
    print(f"GOAWAY ok: server answered GOAWAY(last={last_id}, NO_ERROR) and closed after "
          f"{elapsed:.2f} s; frames after ours: {summary}")


def mode_ping(port):
    c = Client(port)
    c.handshake()
    payload = b"interop!"
    c.conn.ping(payload)
    c.flush()
    c.wait_for("PING ACK", lambda: c.ping_acks)
    check(c.ping_acks == [payload], f"PING ACK payload {c.ping_acks!r}, want {payload!r}")
    c.sock.close()
    print(f"PING ok: ACK carried {payload!r}")


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: py_client.py PORT [flow|ping]", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) == 3 else "flow"
    modes = {"flow": mode_flow, "ping": mode_ping}
    if mode not in modes:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    try:
        modes[mode](port)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except (OSError, h2.exceptions.H2Error) as e:
        # The server broke the protocol (as h2 sees it) or the transport failed.
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
