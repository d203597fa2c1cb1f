"""The protobuf wire format, as far as the TensorBoard and W&B readers need it (no protobuf
package): varints, skipping a field, and walking a message's fields."""

from __future__ import annotations

from collections.abc import Iterator


def varint(buf: bytes, i: int) -> tuple[int, int]:
    """The varint at buf[i] and the index after it."""
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    result, shift = b & 0x7F, 7
    while True:
        i += 1
        b = buf[i]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i + 1
        shift += 7


def skip(buf: bytes, i: int, wire: int) -> int:
    """The index after a field value of wire type `wire` starting at buf[i]."""
    if wire == 0:
        return varint(buf, i)[1]
    if wire == 1:
        return i + 8
    if wire == 2:
        n, i = varint(buf, i)
        return i + n
    if wire == 5:
        return i + 4
    raise ValueError(f"unsupported wire type {wire}")


def fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of each field of a message: an int for a varint, the raw bytes for
    fixed64, fixed32 and length-delimited fields."""
    i, n = 0, len(buf)
    while i < n:
        key, i = varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            size, i = varint(buf, i)
            value, i = buf[i:i + size], i + size
        else:
            end = skip(buf, i, wire)
            value, i = buf[i:end], end
        yield key >> 3, value
