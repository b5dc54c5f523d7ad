//! `Body<Async>` read through `http_body::Body` only, as hyper, axum or tower-http read it
//! (the inherent methods of the same names are bypassed on purpose).

use bytes::Bytes;
use futures_util::stream;
use h2_http::body::{Async, Body};
use http_body_util::{BodyExt, StreamBody};

type AsyncBody = Body<Async>;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    // The bodies here are ready or fed before they are read: one poll loop with a no-op
    // waker is enough.
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1000 {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("not ready after 1000 polls");
}

#[test]
fn a_whole_body_has_an_exact_size_and_one_data_frame() {
    let body = AsyncBody::from("hello");
    assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
    assert!(!http_body::Body::is_end_stream(&body));
    let collected = block_on(BodyExt::collect(body)).expect("collect");
    assert_eq!(collected.to_bytes(), "hello");
    assert!(http_body::Body::is_end_stream(&AsyncBody::empty()));
}

#[test]
fn a_channel_body_gives_its_data_then_its_trailers() {
    let (mut tx, body) = AsyncBody::channel();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    block_on(async {
        tx.send_data(Bytes::from_static(b"ab")).await.expect("send");
        tx.send_data(Bytes::from_static(b"cd")).await.expect("send");
        tx.send_trailers(trailers).await.expect("trailers");
    });
    assert_eq!(http_body::Body::size_hint(&body).exact(), None);
    let collected = block_on(BodyExt::collect(body)).expect("collect");
    assert_eq!(collected.trailers().expect("trailers")["grpc-status"], "0");
    assert_eq!(collected.to_bytes(), "abcd");
}

#[test]
fn a_chunked_body_announces_its_length() {
    let body = AsyncBody::chunks(
        6,
        [Bytes::from_static(b"abc"), Bytes::from_static(b"def")].into_iter(),
    );
    assert_eq!(http_body::Body::size_hint(&body).exact(), Some(6));
    assert_eq!(
        block_on(BodyExt::collect(body))
            .expect("collect")
            .to_bytes(),
        "abcdef"
    );
}

#[test]
fn an_aborted_body_is_an_error() {
    let (tx, body) = AsyncBody::channel();
    block_on(tx.abort(h2core::Reason::CANCEL)).expect("abort");
    assert!(block_on(BodyExt::collect(body)).is_err());
}

#[test]
fn any_http_body_is_wrapped_with_its_frames_and_its_errors() {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-sum", http::HeaderValue::from_static("7"));
    // A body of the ecosystem's own kind: frames handed out one by one, then maybe an error.
    let frames = StreamBody::new(stream::iter([
        Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from_static(b"ab"))),
        Ok(http_body::Frame::data(Bytes::from_static(b"c"))),
        Ok(http_body::Frame::trailers(trailers)),
    ]));
    let (data, trailers) = block_on(AsyncBody::wrap(frames).collect()).expect("collect");
    assert_eq!(data, "abc");
    assert_eq!(trailers.expect("trailers")["x-sum"], "7");

    let failing = StreamBody::new(stream::iter([Err::<http_body::Frame<Bytes>, _>(
        std::io::Error::other("disk gone"),
    )]));
    let err = block_on(AsyncBody::wrap(failing).collect()).expect_err("an error");
    assert!(matches!(err, h2_http::Error::Body(_)), "{err:?}");
    assert!(err.to_string().contains("disk gone"));

    let full = AsyncBody::wrap(http_body_util::Full::new(Bytes::from_static(b"whole")));
    assert_eq!(
        full.size_hint(),
        Some(5),
        "an exact size hint becomes the length"
    );
}

#[test]
fn wrapping_a_body_of_ours_gives_it_back_as_it_is() {
    // Still whole (a wrapped body would be polled frame by frame, its bytes unknown up front).
    let body: Body<Async> = Body::wrap(Body::<Async>::from("abc"));
    assert_eq!(body.whole(), Some(Bytes::from_static(b"abc")));
    // Another crate's body is wrapped.
    let other = Body::wrap(http_body_util::Full::new(Bytes::from_static(b"abc")));
    assert_eq!(other.whole(), None);
    assert_eq!(block_on(other.bytes()).expect("bytes"), "abc");
}

#[test]
fn errors_convert_to_and_from_the_ecosystems_box_error() {
    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    let ours = h2_http::Error::Reset(h2core::Reason::CANCEL);
    let boxed: BoxError = ours.into();
    assert!(boxed.to_string().contains("CANCEL"), "{boxed}");
    let back = h2_http::Error::from(boxed);
    assert!(matches!(back, h2_http::Error::Body(_)), "{back:?}");
}
