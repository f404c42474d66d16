"""resource.Quantity parsing and printing, checked against apimachinery v0.30.0's rules."""
import pytest

from kubectl_inject.gotypes.quantity import (
    ERR_FORMAT_WRONG, ERR_SUFFIX, QuantityError, normalize_quantity, parse_quantity,
)
from kubectl_inject.gostd.json import float_text


@pytest.mark.parametrize("text,want", [
    # canonical forms reached through the slow path
    ("0.1", "100m"), ("1000m", "1"), ("1024Mi", "1Gi"), ("1.5", "1500m"), ("1000", "1k"),
    ("1.5Gi", "1536Mi"), ("0.5Ki", "512"), ("8Ki", "8Ki"), ("1024Ki", "1Mi"), ("2000000", "2M"),
    ("-0", "0"), ("0.0", "0"), (".5", "500m"), ("12e6", "12e6"), ("1e3", "1e3"), ("1E", "1E"),
    # strings the fast path judges canonical are kept verbatim, quirks included
    ("100m", "100m"), ("+1", "+1"), ("0100m", "0100m"), ("1500e-3", "1500e-3"), ("3Mi", "3Mi"),
    ("1.", "1."),
    # rounding up to whole nano units
    ("1n", "1n"), ("0.5n", "1n"), ("1.5n", "2n"), ("1e-12", "1e-9"), ("-1.5n", "-2n"),
    # exponent without an SI suffix loses it, as apimachinery prints it
    ("1000E", "1"),
    # binary values beyond int64 are capped
    ("9Ei", "9223372036854775807"),
    # a suffix alone is zero
    ("m", "0"), ("Ki", "0"),
])
def test_parse_and_print(text, want):
    assert parse_quantity(text).string() == want


@pytest.mark.parametrize("text,err", [
    ("", ERR_FORMAT_WRONG), ("abc", ERR_FORMAT_WRONG), ("1 Gi", ERR_FORMAT_WRONG),
    ("1.5.5", ERR_FORMAT_WRONG), ("1Gib", ERR_FORMAT_WRONG), ("1e", ERR_SUFFIX), ("1e+", ERR_SUFFIX),
    ("1Qi", ERR_FORMAT_WRONG), ("1ki", ERR_SUFFIX),
])
def test_bad_quantities(text, err):
    with pytest.raises(QuantityError) as e:
        parse_quantity(text)
    assert str(e.value) == err


def test_error_text_is_apimachinerys():
    assert ERR_FORMAT_WRONG == ("quantities must match the regular expression "
                                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@pytest.mark.parametrize("value,want", [
    (0.5, "500m"), (2, "2"), (1000, "1k"), (1e-7, "100e-9"), (None, "0"), (" 1Gi ", "1Gi"),
    (1.0, "1"), (0.25, "250m"),
])
def test_from_json_values(value, want):
    assert normalize_quantity(value) == want


@pytest.mark.parametrize("f,want", [
    (1.0, "1"), (1.5, "1.5"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (1e-7, "1e-7"),
    (0.000001, "0.000001"), (-0.0, "-0"), (123.456, "123.456"), (1.5e300, "1.5e+300"),
])
def test_numbers_are_read_from_encoding_json_text(f, want):
    # Quantity.UnmarshalJSON sees the text encoding/json wrote for a float64
    assert float_text(f) == want
