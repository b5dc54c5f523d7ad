//! `grpc --connect URL`: the four kinds of RouteGuide call, through tonic's generated client
//! over `h2_tokio::Client` (a tower Service), as gRPC's own route_guide client makes them.

use crate::routeguide::route_guide_client::RouteGuideClient;
use crate::routeguide::{Point, Rectangle, RouteNote};
use futures_util::stream;
use h2_tokio::Client;
use std::error::Error;

/// Calls GetFeature (twice), ListFeatures, RecordRoute and RouteChat against the RouteGuide
/// server at `url` (`http://HOST:PORT`), printing what each answered. An error in any call is
/// returned.
pub async fn run(url: &str) -> Result<(), Box<dyn Error>> {
    let origin: http::Uri = url.parse()?;
    if origin.scheme_str() != Some("http") {
        return Err(format!("{url}: only http:// (h2c by prior knowledge) is supported").into());
    }
    let host = origin.host().ok_or("URL without a host")?;
    let port = origin.port_u16().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let client = Client::connect(addr).await?;
    // Our Client is a tower Service for requests with any http_body::Body, tonic's included:
    // it is the channel as it is.
    let mut guide = RouteGuideClient::with_origin(client.clone(), origin);
    let result = calls(&mut guide).await;
    client.close().await;
    result
}

async fn calls<T>(guide: &mut RouteGuideClient<T>) -> Result<(), Box<dyn Error>>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    println!("-------------- GetFeature --------------");
    for point in [point(409146138, -746188906), point(0, 0)] {
        let feature = guide.get_feature(point).await?.into_inner();
        match (&feature.location, feature.name.as_str()) {
            (None, _) => return Err("GetFeature: a feature without a location".into()),
            (Some(at), "") => println!("Found no feature at {}", show(at)),
            (Some(at), name) => println!("Feature called {name} at {}", show(at)),
        }
    }

    println!("-------------- ListFeatures --------------");
    println!("Looking for features between 40, -75 and 42, -73");
    let rectangle = Rectangle {
        lo: Some(point(400000000, -750000000)),
        hi: Some(point(420000000, -730000000)),
    };
    let mut features = guide.list_features(rectangle).await?.into_inner();
    while let Some(feature) = features.message().await? {
        let at = feature.location.unwrap_or_default();
        println!("Feature called {} at {}", feature.name, show(&at));
    }

    println!("-------------- RecordRoute --------------");
    // Ten points of the route_guide database (gRPC's client picks them at random).
    let route: Vec<Point> = crate::db::features()
        .into_iter()
        .filter_map(|f| f.location)
        .cycle()
        .step_by(4)
        .take(10)
        .collect();
    for p in &route {
        println!("Visiting point {}", show(p));
    }
    let sent = route.len() as i32;
    let summary = guide.record_route(stream::iter(route)).await?.into_inner();
    println!("Finished trip with {} points", summary.point_count);
    println!("Passed {} features", summary.feature_count);
    println!("Travelled {} meters", summary.distance);
    println!("It took {} seconds", summary.elapsed_time);
    if summary.point_count != sent {
        return Err(format!(
            "RecordRoute: sent {sent} points, the server counted {}",
            summary.point_count
        )
        .into());
    }

    println!("-------------- RouteChat --------------");
    let notes = [
        ("First message", 0, 0),
        ("Second message", 0, 1),
        ("Third message", 1, 0),
        ("Fourth message", 0, 0),
        ("Fifth message", 1, 0),
    ]
    .map(|(message, latitude, longitude)| RouteNote {
        location: Some(point(latitude, longitude)),
        message: message.to_owned(),
    });
    for note in &notes {
        let at = note.location.unwrap_or_default();
        println!("Sending {} at {}", note.message, show(&at));
    }
    let mut replies = guide.route_chat(stream::iter(notes)).await?.into_inner();
    while let Some(note) = replies.message().await? {
        let at = note.location.unwrap_or_default();
        println!("Received message {} at {}", note.message, show(&at));
    }
    Ok(())
}

fn point(latitude: i32, longitude: i32) -> Point {
    Point {
        latitude,
        longitude,
    }
}

fn show(p: &Point) -> String {
    format!("latitude: {}, longitude: {}", p.latitude, p.longitude)
}
