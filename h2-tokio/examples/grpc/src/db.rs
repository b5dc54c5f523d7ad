//! The features the server knows: a subset of gRPC's `route_guide_db.json` (the database every
//! route_guide example ships), kept inline. Unnamed entries are features too, as there: a point
//! on one counts as a feature passed by RecordRoute. tests/route_guide_client.py counts on
//! this list: 15 features, all inside its ListFeatures rectangle, two unnamed.

use crate::routeguide::{Feature, Point};

const FEATURES: &[(i32, i32, &str)] = &[
    (
        407838351,
        -746143763,
        "Patriots Path, Mendham, NJ 07945, USA",
    ),
    (
        408122808,
        -743999179,
        "101 New Jersey 10, Whippany, NJ 07981, USA",
    ),
    (413628156, -749015468, "U.S. 6, Shohola, PA 18458, USA"),
    (
        419999544,
        -740371136,
        "5 Conners Road, Kingston, NY 12401, USA",
    ),
    (
        414008389,
        -743951297,
        "Mid Hudson Psychiatric Center, New Hampton, NY 10958, USA",
    ),
    (
        419611318,
        -746524769,
        "287 Flugertown Road, Livingston Manor, NY 12758, USA",
    ),
    (
        406109563,
        -742186778,
        "4001 Tremley Point Road, Linden, NJ 07036, USA",
    ),
    (
        416802456,
        -742370183,
        "352 South Mountain Road, Wallkill, NY 12589, USA",
    ),
    (
        412950425,
        -741077389,
        "Bailey Turn Road, Harriman, NY 10926, USA",
    ),
    (
        412144655,
        -743949739,
        "193-199 Wawayanda Road, Hewitt, NJ 07421, USA",
    ),
    (407113723, -749746483, ""),
    (402133926, -743613249, ""),
    (
        409146138,
        -746188906,
        "Berkshire Valley Management Area Trail, Jefferson, NJ, USA",
    ),
    (
        404701380,
        -744781745,
        "1007 Jersey Avenue, New Brunswick, NJ 08901, USA",
    ),
    (410248224, -747127767, "3 Hasta Way, Newton, NJ 07860, USA"),
];

/// Every feature of the database.
pub fn features() -> Vec<Feature> {
    FEATURES
        .iter()
        .map(|&(latitude, longitude, name)| Feature {
            name: name.to_owned(),
            location: Some(Point {
                latitude,
                longitude,
            }),
        })
        .collect()
}
