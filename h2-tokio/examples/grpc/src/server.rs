//! `grpc --listen ADDR`: tonic's generated RouteGuide service, implemented as gRPC's own
//! route_guide server answers, served by `h2_tokio::Server::serve_service`.

use crate::routeguide::route_guide_server::{RouteGuide, RouteGuideServer};
use crate::routeguide::{Feature, Point, Rectangle, RouteNote, RouteSummary};
use futures_util::stream::{self, BoxStream, StreamExt};
use h2_tokio::Deadline;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Request, Response, Status, Streaming};

/// The RouteGuide service over the features of [`crate::db`].
#[derive(Clone)]
pub struct RouteGuideService {
    features: Arc<Vec<Feature>>,
}

impl RouteGuideService {
    pub fn new(features: Vec<Feature>) -> RouteGuideService {
        RouteGuideService {
            features: Arc::new(features),
        }
    }

    /// The feature of the database at `point`, named or not.
    fn feature_at(&self, point: &Point) -> Option<&Feature> {
        self.features
            .iter()
            .find(|f| f.location.as_ref() == Some(point))
    }
}

#[tonic::async_trait]
impl RouteGuide for RouteGuideService {
    /// The feature at the point, or one with an empty name there.
    async fn get_feature(&self, request: Request<Point>) -> Result<Response<Feature>, Status> {
        let point = request.into_inner();
        let feature = self.feature_at(&point).cloned().unwrap_or(Feature {
            name: String::new(),
            location: Some(point),
        });
        Ok(Response::new(feature))
    }

    type ListFeaturesStream = BoxStream<'static, Result<Feature, Status>>;

    /// Every feature inside the rectangle (edges included), one message each.
    async fn list_features(
        &self,
        request: Request<Rectangle>,
    ) -> Result<Response<Self::ListFeaturesStream>, Status> {
        let rect = request.into_inner();
        let (lo, hi) = (rect.lo.unwrap_or_default(), rect.hi.unwrap_or_default());
        let (left, right) = (
            lo.longitude.min(hi.longitude),
            lo.longitude.max(hi.longitude),
        );
        let (bottom, top) = (lo.latitude.min(hi.latitude), lo.latitude.max(hi.latitude));
        let inside: Vec<_> = self
            .features
            .iter()
            .filter(|f| {
                let p = f.location.unwrap_or_default();
                (left..=right).contains(&p.longitude) && (bottom..=top).contains(&p.latitude)
            })
            .cloned()
            .map(Ok)
            .collect();
        Ok(Response::new(stream::iter(inside).boxed()))
    }

    /// Counts the points as they stream in, the known features among them and the distance
    /// between consecutive ones, and answers once the client ends its stream.
    async fn record_route(
        &self,
        request: Request<Streaming<Point>>,
    ) -> Result<Response<RouteSummary>, Status> {
        // The caller waits until its grpc-timeout passes, and so do we.
        let deadline = request.extensions().get::<Deadline>().copied();
        let mut points = request.into_inner();
        let started = Instant::now();
        let (mut point_count, mut feature_count, mut distance) = (0, 0, 0.0);
        let mut previous: Option<Point> = None;
        while let Some(point) = before(deadline, points.message()).await? {
            point_count += 1;
            if self.feature_at(&point).is_some() {
                feature_count += 1;
            }
            if let Some(previous) = previous {
                distance += metres_between(&previous, &point);
            }
            previous = Some(point);
        }
        Ok(Response::new(RouteSummary {
            point_count,
            feature_count,
            distance: distance as i32,
            elapsed_time: started.elapsed().as_secs() as i32,
        }))
    }

    type RouteChatStream = BoxStream<'static, Result<RouteNote, Status>>;

    /// For each note received, every earlier note of this call at the same location, at once
    /// (the response streams while the request still does).
    async fn route_chat(
        &self,
        request: Request<Streaming<RouteNote>>,
    ) -> Result<Response<Self::RouteChatStream>, Status> {
        let replies = request
            .into_inner()
            .scan(Vec::<RouteNote>::new(), |earlier, note| {
                let out: Vec<_> = match note {
                    Ok(note) => {
                        let same_place = earlier
                            .iter()
                            .filter(|n| n.location == note.location)
                            .cloned()
                            .map(Ok)
                            .collect();
                        earlier.push(note);
                        same_place
                    }
                    Err(status) => vec![Err(status)],
                };
                std::future::ready(Some(stream::iter(out)))
            })
            .flatten();
        Ok(Response::new(replies.boxed()))
    }
}

/// `next`, unless the caller's deadline passes first: then DEADLINE_EXCEEDED, as a gRPC server
/// answers once the `grpc-timeout` of a call has passed.
async fn before<T>(
    deadline: Option<Deadline>,
    next: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    let Some(deadline) = deadline else {
        return next.await;
    };
    let at = tokio::time::Instant::from_std(deadline.instant());
    tokio::time::timeout_at(at, next)
        .await
        .unwrap_or_else(|_| Err(Status::deadline_exceeded("grpc-timeout passed")))
}

/// The great-circle distance in metres (haversine), as route_guide computes it.
fn metres_between(a: &Point, b: &Point) -> f64 {
    const E7: f64 = 1e7;
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (lat1, lat2) = (
        (a.latitude as f64 / E7).to_radians(),
        (b.latitude as f64 / E7).to_radians(),
    );
    let d_lat = lat2 - lat1;
    let d_lon = ((b.longitude - a.longitude) as f64 / E7).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    EARTH_RADIUS_M * 2.0 * h.sqrt().atan2((1.0 - h).sqrt())
}

/// Serves RouteGuide on `addr` until Ctrl-C; prints `listening on ADDR` first.
pub async fn run(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let server = h2_tokio::Server::bind(addr).await?;
    println!("listening on {}", server.local_addr()?);
    let service = RouteGuideServer::new(RouteGuideService::new(crate::db::features()));
    server
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .serve_service(service)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2_tokio::{Body, Client, Server};

    #[tokio::test]
    async fn record_route_past_its_grpc_timeout_answers_deadline_exceeded() {
        let server = Server::bind("127.0.0.1:0").await.expect("bind");
        let addr = server.local_addr().expect("addr");
        let stop = server.shutdown_handle();
        let service = RouteGuideServer::new(RouteGuideService::new(crate::db::features()));
        let serving = tokio::spawn(server.serve_service(service));

        let client = Client::connect(addr).await.expect("connect");
        // A request stream that never ends: only the server's deadline can end the call (our
        // client has none of its own).
        let (_points, body) = Body::channel();
        let request =
            http::Request::post(format!("http://{addr}/routeguide.RouteGuide/RecordRoute"))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .header("grpc-timeout", "100m")
                .body(body)
                .expect("request");
        // Bounded, should the deadline never be kept.
        let answered = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            let response = client.send(request).await.expect("response head");
            let head = response.headers().clone();
            let (_, trailers) = response.into_body().collect().await.expect("body");
            // Trailers-only (the error came before any message) or trailers after the head.
            trailers
                .as_ref()
                .unwrap_or(&head)
                .get("grpc-status")
                .cloned()
        })
        .await
        .expect("the call ended");
        assert_eq!(answered.as_ref().map(|v| v.as_bytes()), Some(&b"4"[..]));
        client.close().await;
        stop.shutdown();
        serving.await.expect("join").expect("serve");
    }

    #[test]
    fn distance_between_two_features_is_the_haversine_in_metres() {
        let a = Point {
            latitude: 409146138,
            longitude: -746188906,
        };
        let b = Point {
            latitude: 409319800,
            longitude: -746201391,
        };
        // 0.0173662 degrees of latitude (about 1.93 km) and a little longitude.
        let d = metres_between(&a, &b);
        assert!((1925.0..1940.0).contains(&d), "{d}");
        assert_eq!(metres_between(&a, &a), 0.0);
    }
}
