"""A small SMSC for the SMPP sender's tests, run as its own process on loopback.

It is smpp34's SMPP 3.4 server (an independent implementation, in Rust) with a listener that accepts
binds, accepts every submit_sm (or refuses those to one chosen number), decodes the text (GSM-7 or
UCS-2, joining concatenated segments by their UDH) and prints one JSON line per complete message to
stdout for the test to read:

    python tests/notifications/smpp_server.py PORT [--refuse NUMBER]

The first line printed is {"ready": PORT} once the server listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import smpp34

# Decoding is written out here on its own, from GSM 03.38 and SMPP 3.4, rather than borrowed from the
# sender's encoder, so that a mistake in the encoder cannot cancel itself out in the test.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
UDHI = 0x40


def decode_gsm7(octets: bytes) -> str:
    chars = []
    escaped = False
    for septet in octets:
        if escaped:
            chars.append(GSM7_EXTENSION[septet])
            escaped = False
        elif septet == 0x1B:
            escaped = True
        else:
            chars.append(GSM7_BASIC[septet])
    return "".join(chars)


def decode_short_message(
    short_message: bytes, *, data_coding: int, esm_class: int
) -> tuple[str, tuple[int, int, int] | None]:
    """The text of one submit_sm and its concatenation header (reference, total, number), if any."""
    concatenation = None
    body = short_message
    if esm_class & UDHI:
        header_length = short_message[0]
        header = short_message[1 : 1 + header_length]
        body = short_message[1 + header_length :]
        position = 0
        while position + 2 <= len(header):
            iei, length = header[position], header[position + 1]
            value = header[position + 2 : position + 2 + length]
            if iei == 0x00 and length == 3:
                concatenation = (value[0], value[1], value[2])
            position += 2 + length
    if data_coding == 0x08:
        return body.decode("utf-16-be"), concatenation
    if data_coding == 0x00:
        return decode_gsm7(body), concatenation
    raise ValueError(f"data_coding {data_coding} is not expected from selfcare")


def emit(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


async def serve(port: int, refuse: str | None) -> None:
    server = smpp34.Server(host="127.0.0.1", port=port, system_id="TESTSMSC")
    await server.start()
    emit({"ready": port})
    pending: dict[tuple[str, str, int], dict[int, str]] = {}
    counter = 0
    while True:
        event = await server.next()
        if isinstance(event, smpp34.Esme):
            emit({"bound": event.system_id})
            continue
        if isinstance(event, smpp34.Unbound):
            emit({"unbound": True})
            continue
        if not isinstance(event, smpp34.SubmitSmEvent):
            continue
        if refuse is not None and event.destination_addr == refuse:
            event.reject(smpp34.ESME_RINVDSTADR)
            emit({"refused": event.destination_addr})
            continue
        counter += 1
        event.accept(message_id=f"msg-{counter}")
        text, concatenation = decode_short_message(
            event.short_message, data_coding=event.data_coding, esm_class=event.esm_class
        )
        record = {
            "source_addr": event.source_addr,
            "source_addr_ton": event.source_addr_ton,
            "destination_addr": event.destination_addr,
            "dest_addr_ton": event.dest_addr_ton,
            "dest_addr_npi": event.dest_addr_npi,
            "data_coding": event.data_coding,
        }
        if concatenation is None:
            emit({**record, "segments": 1, "text": text})
            continue
        reference, total, number = concatenation
        key = (event.source_addr, event.destination_addr, reference)
        parts = pending.setdefault(key, {})
        parts[number] = text
        if len(parts) == total:
            del pending[key]
            emit({**record, "segments": total, "text": "".join(parts[n] for n in sorted(parts))})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--refuse")
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.refuse))


if __name__ == "__main__":
    main()
