"""gRPC's RouteGuide served by grpcio (Python), answering as gRPC's own route_guide server:
the peer our `grpc --connect` is tested against.

    route_guide_server.py STUB_DIR

STUB_DIR holds route_guide_pb2*.py, generated at test time by `python -m grpc_tools.protoc`.
Listens on 127.0.0.1, port 0, and prints `listening on 127.0.0.1:PORT` first.
"""

import math
import sys
import time
from concurrent import futures

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import route_guide_pb2 as pb  # noqa: E402
import route_guide_pb2_grpc as rpc  # noqa: E402

# A few entries of route_guide_db.json.
FEATURES = [
    pb.Feature(name=name, location=pb.Point(latitude=lat, longitude=lon))
    for lat, lon, name in [
        (407838351, -746143763, "Patriots Path, Mendham, NJ 07945, USA"),
        (408122808, -743999179, "101 New Jersey 10, Whippany, NJ 07981, USA"),
        (413628156, -749015468, "U.S. 6, Shohola, PA 18458, USA"),
        (409146138, -746188906, "Berkshire Valley Management Area Trail, Jefferson, NJ, USA"),
        (407113723, -749746483, ""),
    ]
]


def feature_at(point):
    for feature in FEATURES:
        if feature.location == point:
            return feature
    return None


def distance(start, end):
    lat_1, lat_2 = start.latitude / 1e7, end.latitude / 1e7
    lon_1, lon_2 = start.longitude / 1e7, end.longitude / 1e7
    d_lat = math.radians(lat_2 - lat_1)
    d_lon = math.radians(lon_2 - lon_1)
    a = math.sin(d_lat / 2) ** 2 + math.cos(math.radians(lat_1)) * math.cos(
        math.radians(lat_2)
    ) * math.sin(d_lon / 2) ** 2
    return 6371000 * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


class RouteGuide(rpc.RouteGuideServicer):
    def GetFeature(self, request, context):
        return feature_at(request) or pb.Feature(name="", location=request)

    def ListFeatures(self, request, context):
        left = min(request.lo.longitude, request.hi.longitude)
        right = max(request.lo.longitude, request.hi.longitude)
        top = max(request.lo.latitude, request.hi.latitude)
        bottom = min(request.lo.latitude, request.hi.latitude)
        for feature in FEATURES:
            loc = feature.location
            if left <= loc.longitude <= right and bottom <= loc.latitude <= top:
                yield feature

    def RecordRoute(self, request_iterator, context):
        point_count, feature_count, travelled = 0, 0, 0.0
        previous = None
        start = time.time()
        for point in request_iterator:
            point_count += 1
            if feature_at(point):
                feature_count += 1
            if previous:
                travelled += distance(previous, point)
            previous = point
        return pb.RouteSummary(
            point_count=point_count,
            feature_count=feature_count,
            distance=int(travelled),
            elapsed_time=int(time.time() - start),
        )

    def RouteChat(self, request_iterator, context):
        earlier = []
        for note in request_iterator:
            for prev in earlier:
                if prev.location == note.location:
                    yield prev
            earlier.append(note)


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    rpc.add_RouteGuideServicer_to_server(RouteGuide(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
