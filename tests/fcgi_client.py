#!/usr/bin/env python3
# Summary: a FastCGI client for the tests and the soak: sends requests to
#   the authorizer as Apache's mod_authnz_fcgi would, one connection each.
# Usage: tests/fcgi_client.py ADDRESS [--role authorizer|responder] [NAME=VALUE ...]
#          one request; its stdout stream on stdout (CR kept), its stderr stream
#          on stderr. A VALUE of "@hex:HEX" is those bytes; "@bytes:N" is N
#          letters 'a'. A NAME may repeat (each is sent).
#          Exit: 0 answered, 3 the connection ended before the answer did,
#          4 the connection was refused.
#        tests/fcgi_client.py ADDRESS --load N [--keys K] [--param NAME=VALUE ...]
#          N requests, QUERY_STRING=app_id=kI for I in 0..K-1 in turn, on one
#          connection after another; prints "STATUS COUNT" lines, then
#          "refused R" and "broken B" (connections refused, answers cut).
# ADDRESS is HOST:PORT or a unix socket's path.
import socket
import struct
import sys

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7
ROLES = {"responder": 1, "authorizer": 2}


def record(kind, content, request_id=1):
    out = b""
    # Records carry at most 65535 bytes; an empty one ends a stream.
    chunks = [content[i:i + 65535] for i in range(0, len(content), 65535)] or [b""]
    for chunk in chunks:
        out += struct.pack("!BBHHBx", 1, kind, request_id, len(chunk), 0) + chunk
    return out


def length(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def encode_params(pairs):
    return b"".join(length(len(n)) + length(len(v)) + n + v for n, v in pairs)


def request_bytes(pairs, role="authorizer", stdin=b""):
    body = record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", ROLES[role], 0))
    params = encode_params(pairs)
    if params:
        body += record(FCGI_PARAMS, params)
    body += record(FCGI_PARAMS, b"")
    if role == "responder":
        if stdin:
            body += record(FCGI_STDIN, stdin)
        body += record(FCGI_STDIN, b"")
    return body


def connect(address):
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address)
        return sock
    host, port = address.rsplit(":", 1)
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.connect((host.strip("[]"), int(port)))
    return sock


def exchange(address, data):
    """Returns (stdout bytes, stderr bytes, ended properly)."""
    sock = connect(address)
    try:
        sock.sendall(data)
        buffer = b""
        out, err = b"", b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out, err, False
            buffer += chunk
            while len(buffer) >= 8:
                _, kind, _, size, padding = struct.unpack("!BBHHBx", buffer[:8])
                if len(buffer) < 8 + size + padding:
                    break
                content = buffer[8:8 + size]
                buffer = buffer[8 + size + padding:]
                if kind == FCGI_STDOUT:
                    out += content
                elif kind == FCGI_STDERR:
                    err += content
                elif kind == FCGI_END_REQUEST:
                    return out, err, True
    finally:
        sock.close()


def value_of(text):
    if text.startswith("@hex:"):
        return bytes.fromhex(text[5:])
    if text.startswith("@bytes:"):
        return b"a" * int(text[7:])
    return text.encode("utf-8", "surrogateescape")


def parse_pair(word):
    name, _, value = word.partition("=")
    return name.encode(), value_of(value)


def status_of(out):
    first = out.split(b"\r\n", 1)[0]
    return first.split()[1].decode() if first.startswith(b"Status: ") else "none"


def load(address, count, keys, extra):
    statuses, refused, broken = {}, 0, 0
    for i in range(count):
        pairs = [(b"QUERY_STRING", b"app_id=k%d" % (i % keys)), (b"REQUEST_METHOD", b"GET")] + extra
        try:
            out, _, ended = exchange(address, request_bytes(pairs))
        except ConnectionRefusedError:
            refused += 1
            continue
        except OSError:
            broken += 1
            continue
        if not ended:
            broken += 1
            continue
        status = status_of(out)
        statuses[status] = statuses.get(status, 0) + 1
    for status in sorted(statuses):
        print(status, statuses[status])
    print("refused", refused)
    print("broken", broken)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stdout.write(open(__file__).read().split("\nimport", 1)[0])
        return 0 if len(argv) >= 2 else 2
    address = argv[1]
    words = argv[2:]
    if words[:1] == ["--load"]:
        count, keys, extra = int(words[1]), 1, []
        rest = words[2:]
        while rest:
            if rest[0] == "--keys":
                keys, rest = int(rest[1]), rest[2:]
            elif rest[0] == "--param":
                extra.append(parse_pair(rest[1]))
                rest = rest[2:]
            else:
                sys.stderr.write("unknown option %s\n" % rest[0])
                return 2
        load(address, count, keys, extra)
        return 0
    role = "authorizer"
    if words[:1] == ["--role"]:
        role, words = words[1], words[2:]
    pairs = [parse_pair(word) for word in words]
    try:
        out, err, ended = exchange(address, request_bytes(pairs, role))
    except ConnectionRefusedError:
        sys.stderr.write("connection refused\n")
        return 4
    sys.stdout.buffer.write(out)
    sys.stderr.buffer.write(err)
    return 0 if ended else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
