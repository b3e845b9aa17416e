"""Exit 0 when the Kafka broker at HOST PORT answers a Metadata request that lists a broker.

Standard library only, so that `kafka.sh start` needs no virtualenv. Speaks Metadata v4, the
oldest version Kafka 4.0 still serves, with request header v1 (both non-flexible encodings).
"""

import socket
import struct
import sys

METADATA, VERSION, CORRELATION_ID = 3, 4, 1


def request() -> bytes:
    """Metadata v4 for no topics (an empty array; null would mean all of them)."""
    header = struct.pack(">hhih", METADATA, VERSION, CORRELATION_ID, -1)  # client_id null
    body = struct.pack(">i?", 0, False)  # topics [], allow_auto_topic_creation
    return struct.pack(">i", len(header) + len(body)) + header + body


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def broker_count(host: str, port: int) -> int:
    """Number of brokers in the Metadata answer (0 while the broker is still fenced)."""
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(request())
        (size,) = struct.unpack(">i", read_exactly(sock, 4))
        answer = read_exactly(sock, size)
    correlation_id, _throttle_ms, brokers = struct.unpack_from(">iii", answer)
    if correlation_id != CORRELATION_ID:
        raise ConnectionError("unexpected correlation id")
    return int(brokers)


if __name__ == "__main__":
    try:
        sys.exit(0 if broker_count(sys.argv[1], int(sys.argv[2])) > 0 else 1)
    except (OSError, struct.error) as error:
        print(f"kafka not ready: {error}", file=sys.stderr)
        sys.exit(1)
