"""gRPC's route_guide client in grpcio (Python), checking every answer of our RouteGuide
server (`grpc --listen`) against what gRPC's own route_guide server answers.

    route_guide_client.py STUB_DIR PORT

STUB_DIR holds route_guide_pb2*.py, generated at test time by `python -m grpc_tools.protoc`.
Exits 0 when all four kinds of call were answered as expected; every call has a deadline.
"""

import math
import queue
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import route_guide_pb2 as pb  # noqa: E402
import route_guide_pb2_grpc as rpc  # noqa: E402

DEADLINE = 10  # seconds, for each call
BERKSHIRE = pb.Point(latitude=409146138, longitude=-746188906)
PATRIOTS = pb.Point(latitude=407838351, longitude=-746143763)


def expect(ok, what):
    if not ok:
        sys.exit(f"unexpected: {what}")


def distance(start, end):
    lat_1, lat_2 = start.latitude / 1e7, end.latitude / 1e7
    lon_1, lon_2 = start.longitude / 1e7, end.longitude / 1e7
    d_lat = math.radians(lat_2 - lat_1)
    d_lon = math.radians(lon_2 - lon_1)
    a = math.sin(d_lat / 2) ** 2 + math.cos(math.radians(lat_1)) * math.cos(
        math.radians(lat_2)
    ) * math.sin(d_lon / 2) ** 2
    return 6371000 * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def note(message, latitude, longitude):
    return pb.RouteNote(
        message=message, location=pb.Point(latitude=latitude, longitude=longitude)
    )


def get_feature(stub):
    feature = stub.GetFeature(BERKSHIRE, timeout=DEADLINE)
    expect(feature.name == "Berkshire Valley Management Area Trail, Jefferson, NJ, USA", feature)
    expect(feature.location == BERKSHIRE, feature)
    nowhere = pb.Point(latitude=0, longitude=0)
    feature = stub.GetFeature(nowhere, timeout=DEADLINE)
    expect(feature.name == "" and feature.location == nowhere, feature)
    print("GetFeature: named feature, and an unnamed one where there is none")


def list_features(stub):
    rectangle = pb.Rectangle(
        lo=pb.Point(latitude=400000000, longitude=-750000000),
        hi=pb.Point(latitude=420000000, longitude=-730000000),
    )
    features = list(stub.ListFeatures(rectangle, timeout=DEADLINE))
    # Every feature of the server's database lies in that rectangle; two have no name.
    expect(len(features) == 15, f"{len(features)} features")
    expect(sum(1 for f in features if f.name == "") == 2, features)
    # A rectangle given by its other two corners, edges included: the one feature on it.
    on_edge = pb.Rectangle(lo=BERKSHIRE, hi=BERKSHIRE)
    features = list(stub.ListFeatures(on_edge, timeout=DEADLINE))
    expect([f.location for f in features] == [BERKSHIRE], features)
    print(f"ListFeatures: 15 features streamed")


def record_route(stub):
    elsewhere = pb.Point(latitude=400000000, longitude=-740000000)
    route = [BERKSHIRE, PATRIOTS, elsewhere, BERKSHIRE]
    summary = stub.RecordRoute(iter(route), timeout=DEADLINE)
    expect(summary.point_count == 4, summary)
    expect(summary.feature_count == 3, summary)
    travelled = sum(distance(a, b) for a, b in zip(route, route[1:]))
    expect(abs(summary.distance - int(travelled)) <= 1, f"{summary} vs {travelled}")
    print(f"RecordRoute: 4 points, 3 features, {summary.distance} m")


def route_chat(stub):
    # Bidirectional: the third note is sent only once the reply to the second arrived, so the
    # server must answer while the request still streams.
    replied = queue.Queue()

    def notes():
        yield note("First message", 0, 0)
        yield note("Second message", 0, 0)
        replied.get(timeout=DEADLINE)
        yield note("Third message", 1, 0)
        yield note("Fourth message", 1, 0)

    received = []
    for reply in stub.RouteChat(notes(), timeout=DEADLINE):
        received.append(reply.message)
        replied.put(reply)
    expect(received == ["First message", "Third message"], received)
    print("RouteChat: replies streamed while the notes were")


def unknown_method(channel):
    # A method the service does not have: a trailers-only answer with grpc-status 12.
    call = channel.unary_unary("/routeguide.RouteGuide/NoSuchMethod")
    try:
        call(b"", timeout=DEADLINE)
    except grpc.RpcError as e:
        expect(e.code() == grpc.StatusCode.UNIMPLEMENTED, e)
        print("unknown method: UNIMPLEMENTED")
        return
    expect(False, "an unknown method answered OK")


def main():
    port = sys.argv[2]
    # No proxy from the environment: the server is on loopback.
    options = [("grpc.enable_http_proxy", 0)]
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        stub = rpc.RouteGuideStub(channel)
        get_feature(stub)
        list_features(stub)
        record_route(stub)
        route_chat(stub)
        unknown_method(channel)


if __name__ == "__main__":
    main()
