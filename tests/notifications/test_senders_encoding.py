"""GSM-7 or UCS-2 as the text needs, and segmenting long texts behind a concatenation header."""

from __future__ import annotations

import pytest

from selfcare.notifications.senders.encoding import (
    DATA_CODING_GSM7,
    DATA_CODING_UCS2,
    ESM_CLASS_DEFAULT,
    ESM_CLASS_UDHI,
    MessageTooLong,
    encode_sms,
)
from tests.notifications.smpp_server import decode_short_message


def joined_text(data_coding: int, esm_class: int, parts: tuple[bytes, ...]) -> str:
    return "".join(decode_short_message(p, data_coding=data_coding, esm_class=esm_class)[0] for p in parts)


def test_a_latin_text_goes_as_gsm7_one_octet_per_character() -> None:
    # given an English OTP / when encoded / then GSM-7, unpacked, no header
    encoded = encode_sms("Your code: 123456. Don't tell anyone @ home!", reference=1)
    assert (encoded.data_coding, encoded.esm_class) == (DATA_CODING_GSM7, ESM_CLASS_DEFAULT)
    assert encoded.parts == (b"Your code: 123456. Don't tell anyone \x00 home!",)


def test_gsm7_extension_characters_take_an_escape_and_count_twice() -> None:
    # given characters of the GSM extension table / when encoded / then each is ESC + its septet
    encoded = encode_sms("[5€]", reference=1)
    assert encoded.parts == (b"\x1b<5\x1be\x1b>",)


def test_a_persian_text_goes_as_ucs2() -> None:
    # given a Persian OTP (outside the GSM alphabet) / when encoded / then UCS-2 big-endian
    text = "کد ورود شما: 123456"
    encoded = encode_sms(text, reference=1)
    assert (encoded.data_coding, encoded.esm_class) == (DATA_CODING_UCS2, ESM_CLASS_DEFAULT)
    assert encoded.parts == (text.encode("utf-16-be"),)


def test_one_non_gsm_character_turns_the_whole_text_into_ucs2() -> None:
    # given a Latin text with a single Cyrillic letter / when encoded / then UCS-2
    assert encode_sms("Code 123456 для входа", reference=1).data_coding == DATA_CODING_UCS2


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("€" * 80, 1),  # 160 septets: each € is ESC + 0x65
        ("€" * 81, 2),
    ],
)
def test_segment_counts_follow_the_single_and_concatenated_limits(text: str, segments: int) -> None:
    # given texts at the 160/153 septet and 70/67 character limits / when encoded / then this many SMS
    encoded = encode_sms(text, reference=9)
    assert len(encoded.parts) == segments
    assert encoded.esm_class == (ESM_CLASS_UDHI if segments > 1 else ESM_CLASS_DEFAULT)
    assert joined_text(encoded.data_coding, encoded.esm_class, encoded.parts) == text


def test_segments_carry_a_udh_with_reference_total_and_number() -> None:
    # given a 200-character Latin text / when encoded with reference 0xAB
    encoded = encode_sms("x" * 200, reference=0xAB)
    # then 153 + 47 septets, each behind IEI 0x00 (8-bit reference) with total 2 and numbers 1, 2
    assert [part[:6] for part in encoded.parts] == [b"\x05\x00\x03\xab\x02\x01", b"\x05\x00\x03\xab\x02\x02"]
    assert [len(part) - 6 for part in encoded.parts] == [153, 47]


def test_an_escape_sequence_is_never_split_between_segments() -> None:
    # given a text whose 153rd septet would be the escape of a € / when encoded
    encoded = encode_sms("a" * 152 + "€" + "b" * 10, reference=1)
    # then the € moves whole to the second segment
    assert encoded.parts[0][6:] == b"a" * 152
    assert encoded.parts[1][6:] == b"\x1be" + b"b" * 10


def test_a_surrogate_pair_is_never_split_between_segments() -> None:
    # given an emoji (a surrogate pair in UTF-16) at the segment boundary / when encoded
    encoded = encode_sms("ж" * 66 + "🙂" + "ж" * 10, reference=1)
    # then the first segment stops before it (132 octets) and the pair travels whole
    assert len(encoded.parts[0]) - 6 == 132
    assert encoded.parts[1][6:10] == "🙂".encode("utf-16-be")
    assert joined_text(DATA_CODING_UCS2, ESM_CLASS_UDHI, encoded.parts) == "ж" * 66 + "🙂" + "ж" * 10


def test_more_than_255_segments_is_refused() -> None:
    # given a text needing 256 UCS-2 segments / when encoded / then refused
    with pytest.raises(MessageTooLong):
        encode_sms("ж" * (67 * 255 + 1), reference=1)
