"""How an SMS text becomes SMPP short_message octets: GSM 03.38 7-bit or UCS-2, split with a UDH.

GSM-7 is used whenever every character is in the GSM default alphabet or its extension table (Latin
texts: 160 characters per SMS); anything else (Persian, Russian) goes as UCS-2 (70 per SMS). Over
SMPP the 7-bit alphabet travels unpacked, one septet per octet (data_coding 0, the SMSC default).

Long texts are split into segments of 153 septets / 134 octets, each behind an 8-bit-reference
concatenation header (IEI 0x00), and never in the middle of an escape sequence or a surrogate pair.
"""

from __future__ import annotations

from dataclasses import dataclass

DATA_CODING_GSM7 = 0x00
DATA_CODING_UCS2 = 0x08
ESM_CLASS_DEFAULT = 0x00
ESM_CLASS_UDHI = 0x40  # "short_message starts with a user data header"

GSM7_SINGLE_SEPTETS = 160
GSM7_SEGMENT_SEPTETS = 153
UCS2_SINGLE_OCTETS = 140
UCS2_SEGMENT_OCTETS = 134
MAX_SEGMENTS = 255

_ESCAPE = 0x1B
# GSM 03.38 default alphabet, by septet value; the escape position (0x1B) is a placeholder.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_BASIC_INDEX = {char: septet for septet, char in enumerate(GSM7_BASIC) if septet != _ESCAPE}

assert len(GSM7_BASIC) == 128


class MessageTooLong(ValueError):
    pass


@dataclass(frozen=True)
class EncodedSms:
    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]


def gsm7_septets(text: str) -> list[bytes] | None:
    """The text as one octet string per character (two for extension characters), or None if some
    character is outside the GSM 03.38 alphabet."""
    encoded = []
    for char in text:
        septet = _BASIC_INDEX.get(char)
        if septet is not None:
            encoded.append(bytes((septet,)))
            continue
        extension = GSM7_EXTENSION.get(char)
        if extension is None:
            return None
        encoded.append(bytes((_ESCAPE, extension)))
    return encoded


def _ucs2_units(text: str) -> list[bytes]:
    # One entry per character: 2 octets in the BMP, 4 (a surrogate pair) above it, kept together.
    return [char.encode("utf-16-be") for char in text]


def _pack(units: list[bytes], limit: int) -> list[bytes]:
    segments: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > limit:
            segments.append(current)
            current = b""
        current += unit
    segments.append(current)
    return segments


def encode_sms(text: str, *, reference: int) -> EncodedSms:
    """Encode `text` for submit_sm; `reference` (0..255) ties the segments of one long message."""
    septets = gsm7_septets(text)
    if septets is not None:
        data_coding, units, single, segment = (
            DATA_CODING_GSM7,
            septets,
            GSM7_SINGLE_SEPTETS,
            GSM7_SEGMENT_SEPTETS,
        )
    else:
        data_coding, units, single, segment = (
            DATA_CODING_UCS2,
            _ucs2_units(text),
            UCS2_SINGLE_OCTETS,
            UCS2_SEGMENT_OCTETS,
        )
    whole = b"".join(units)
    if len(whole) <= single:
        return EncodedSms(data_coding=data_coding, esm_class=ESM_CLASS_DEFAULT, parts=(whole,))
    segments = _pack(units, segment)
    if len(segments) > MAX_SEGMENTS:
        raise MessageTooLong(f"{len(segments)} segments")
    total = len(segments)
    parts = tuple(
        bytes((0x05, 0x00, 0x03, reference & 0xFF, total, number)) + body
        for number, body in enumerate(segments, start=1)
    )
    return EncodedSms(data_coding=data_coding, esm_class=ESM_CLASS_UDHI, parts=parts)
