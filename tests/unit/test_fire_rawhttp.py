from __future__ import annotations

import h11
import pytest

from sniper_app.engine.fire import FireRequest
from sniper_app.engine.fire_pool import _peak
from sniper_app.engine.rawhttp import Origin, ReplyReader, build_request, parse_origin


def test_origins_are_parsed_with_default_ports() -> None:
    assert parse_origin("https://API.ebay.com") == Origin("https", "api.ebay.com", 443)
    assert parse_origin("http://127.0.0.1:8080/") == Origin("http", "127.0.0.1", 8080)
    assert parse_origin("https://api.ebay.com").host_header == "api.ebay.com"
    assert parse_origin("https://h:8443").host_header == "h:8443"


ORIGIN_ONLY = r"^the URL must name an origin only \(scheme, host, port\); pass the path separately$"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://h", r"^unsupported URL scheme 'ftp': only http and https$"),
        ("https://", r"^the URL has no host$"),
        ("https://h/buy/offer", ORIGIN_ONLY),
        ("https://h?x=1", ORIGIN_ONLY),
        ("https://u:p@h", ORIGIN_ONLY),
    ],
)
def test_urls_that_are_not_a_plain_origin_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_origin(url)


def test_request_bytes_are_exact_and_framing_cannot_be_overridden() -> None:
    wire, _ = build_request(
        parse_origin("https://api.ebay.com"),
        "POST",
        "/buy/offer/v1_beta/bidding/v1%7C1%7C0/place_proxy_bid",
        {"Host": "evil", "Content-Length": "0", "Transfer-Encoding": "chunked", "Authorization": "Bearer t"},
        b'{"a":1}',
    )
    assert wire == (
        b"POST /buy/offer/v1_beta/bidding/v1%7C1%7C0/place_proxy_bid HTTP/1.1\r\n"
        b"Host: api.ebay.com\r\nAuthorization: Bearer t\r\nContent-Length: 7\r\n\r\n"
        b'{"a":1}'
    )


def test_a_get_without_body_has_no_content_length() -> None:
    wire, _ = build_request(parse_origin("http://h:81"), "GET", "/x", {}, b"")
    assert wire == b"GET /x HTTP/1.1\r\nHost: h:81\r\n\r\n"


BAD_PATH = r"^the path must be an already percent-encoded absolute path$"


@pytest.mark.parametrize(
    ("method", "path", "headers", "reason"),
    [
        ("POST", "/a b", {}, BAD_PATH),
        ("POST", "relative", {}, BAD_PATH),
        ("POST", "/x\r\nEvil: 1", {}, BAD_PATH),
        ("PO ST", "/x", {}, r"^invalid HTTP method$"),
        ("POST", "/x", {"X-A": "v\r\nEvil: 1"}, r"^invalid value for header 'X-A'$"),
        ("POST", "/x", {"X A": "v"}, r"^invalid HTTP header name$"),
    ],
)
def test_header_and_line_injection_is_refused(method: str, path: str, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        build_request(parse_origin("http://h"), method, path, headers, b"")


def test_an_injection_error_never_echoes_the_header_value() -> None:
    with pytest.raises(ValueError, match=r"Authorization") as err:
        build_request(parse_origin("http://h"), "POST", "/x", {"Authorization": "Bearer sekrit\r\n"}, b"")
    assert "sekrit" not in str(err.value)


def _reader(method: str = "POST") -> ReplyReader:
    _, hdrs = build_request(parse_origin("http://h"), method, "/x", {}, b"{}" if method == "POST" else b"")
    return ReplyReader(method, hdrs, 2 if method == "POST" else 0)


def test_a_content_length_reply_read_in_pieces() -> None:
    reader = _reader()
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"
    assert reader.feed(raw[:10]) is None
    assert reader.feed(raw[10:30]) is None
    reply = reader.feed(raw[30:])
    assert reply is not None
    assert (reply.status, reply.body, reply.reusable) == (200, b"hello", True)
    assert ("X-A", "b") in reply.headers or ("x-a", "b") in reply.headers


def test_a_chunked_reply() -> None:
    reply = _reader().feed(b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert reply is not None
    assert (reply.status, reply.body) == (503, b"abcde")


def test_a_reply_delimited_by_close_and_not_reusable() -> None:
    reader = _reader()
    assert reader.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart") is None
    reply = reader.feed(b"")
    assert reply is not None
    assert (reply.body, reply.reusable) == (b"part", False)


def test_a_reply_to_head_has_no_body() -> None:
    reply = _reader("HEAD").feed(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
    assert reply is not None
    assert reply.body == b""


def test_eof_before_a_complete_reply_is_a_connection_error() -> None:
    reader = _reader()
    assert reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") is None
    with pytest.raises(ConnectionError):
        reader.feed(b"")


def test_garbage_is_a_protocol_error() -> None:
    with pytest.raises(h11.RemoteProtocolError):
        _reader().feed(b"SMTP ready\r\n\r\n")


def test_the_bearer_token_is_not_in_a_requests_repr() -> None:
    req = FireRequest("f", 1.0, "https://h", "POST", "/x", {"Authorization": "Bearer zzz-secret"}, b"maxbid")
    assert "zzz-secret" not in repr(req)
    assert "maxbid" not in repr(req)


def test_connections_needed_is_the_peak_of_fires_close_in_time() -> None:
    assert _peak([], 3.0) == 0
    assert _peak([10.0], 3.0) == 1
    assert _peak([10.0, 20.0, 30.0], 3.0) == 1  # each reuses the previous fire's connection
    assert _peak([10.0 + i / 50 for i in range(50)] + [40.0], 3.0) == 50
