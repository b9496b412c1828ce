"""#10.8: odd numbers must not crash the spoken forms (they crashed at spoken.py:165 on a
whole amount of an unknown currency, and on huge or non-finite amounts)."""
import pytest

from generation.scripts.spoken import en_int, format_price, speak_price, zh_int


def test_one_unit_of_an_unknown_currency():
    assert speak_price("1", "XYZ") == "one"
    assert speak_price("2", None) == "two"
    assert speak_price("1", "USD") == "one dollar"


@pytest.mark.parametrize("amount", ["1e16", "123456789012345678"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_huge_amounts_are_read_digit_by_digit(amount, language):
    words = speak_price(amount, "USD", language)
    assert words and ("one" in words or "一" in words)


def test_huge_integers_stay_bounded():
    assert en_int(10**15) == "one " + " ".join(["zero"] * 15)
    assert zh_int(10**16) == "一" + "零" * 16
    assert en_int(999_999_999_999_999).startswith("nine hundred ninety-nine trillion")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-29.99", "sNaN", "1e100000x", "1e100000"])
def test_non_prices_are_a_clear_value_error(amount):
    with pytest.raises(ValueError, match="not a"):
        speak_price(amount, "USD")
    with pytest.raises(ValueError, match="not a"):
        format_price(amount, "USD")
