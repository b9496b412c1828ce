"""Spoken forms and their inverse (the claim checker reads voice lines through it)."""
import pytest

from generation.scripts.numerals import spoken_to_digits
from generation.scripts.spoken import en_int, format_price, speak_price, speak_text, zh_int, zh_number


@pytest.mark.parametrize("amount,currency,en,zh", [
    ("29.99", "USD", "twenty-nine ninety-nine", "二十九点九九美元"),
    ("29.00", "USD", "twenty-nine dollars", "二十九美元"),
    ("0.99", "USD", "ninety-nine cents", "零点九九美元"),
    ("329.05", "USD", "three hundred twenty-nine oh five", "三百二十九点零五美元"),
    ("48.99", "GBP", "forty-eight pounds ninety-nine", "四十八点九九英镑"),
    ("1149", "EUR", "one thousand one hundred forty-nine euros", "一千一百四十九欧元"),
    ("12.50", "CNY", "twelve yuan fifty", "十二元五角"),
    ("5499.00", "CNY", "five thousand four hundred ninety-nine yuan", "五千四百九十九元"),
])
def test_prices(amount, currency, en, zh):
    assert speak_price(amount, currency, "en") == en
    assert speak_price(amount, currency, "zh") == zh


def test_formatted_prices_keep_symbols():
    assert format_price("29.99", "USD") == "$29.99"
    assert format_price("1149.00", "EUR") == "€1,149"
    assert format_price("149.00", "CNY") == "¥149"


@pytest.mark.parametrize("n,words", [(0, "零"), (10, "十"), (15, "十五"), (105, "一百零五"), (1005, "一千零五"),
                                     (10010, "一万零一十"), (20000, "两万"), (120000, "十二万"), (100000000, "一亿")])
def test_chinese_integers(n, words):
    assert zh_int(n) == words


def test_text_units_and_dimensions():
    assert speak_text("Measuring 36 x 17 x 15 inches, 7W, 50% off", "en") == \
        "Measuring thirty-six by seventeen by fifteen inches, seven watts, fifty percent off"
    assert speak_text("续航10h，4.2分，50%", "zh") == "续航十小时，四点二分，百分之五十"
    assert speak_text("iPhone 11 4G", "zh") == "iPhone十一四G"


@pytest.mark.parametrize("n", [0, 7, 13, 40, 99, 100, 101, 999, 1000, 1149, 20000, 123456, 7000001])
def test_spoken_numbers_read_back(n):
    assert spoken_to_digits(en_int(n), "en") == str(n)
    assert spoken_to_digits(zh_int(n), "zh") == str(n)
    assert spoken_to_digits(zh_number(f"{n}.25"), "zh") == f"{n}.25"


@pytest.mark.parametrize("amount", ["29.99", "87.11", "329.05", "1.10", "12.34"])
def test_spoken_prices_read_back(amount):
    assert spoken_to_digits(speak_price(amount, "USD", "en"), "en") == f"${amount}"


def test_chinese_words_are_not_numbers():
    assert spoken_to_digits("百搭万能，千万别错过", "zh") == "百搭万能，千万别错过"
    assert "1001" not in spoken_to_digits("一百一定要买", "zh")


@pytest.mark.parametrize("text, en, zh", [
    ("18/8 stainless steel", "eighteen-eight stainless steel", "十八八stainless steel"),
    ("24/7 support", "twenty-four seven support", "二十四七support"),
    ("1/2 inch thick", "half inch thick", "二分之一inch thick"),
    ("3-in-1 charger", "three-in-one charger", "三合一charger"),
])
def test_ratios_fractions_and_n_in_one_are_read_as_a_whole(text, en, zh):
    """Regression: "18/8" was read "eighteen / eight", "3-in-1" as "three inches -1"."""
    assert speak_text(text, "en") == en
    assert speak_text(text, "zh") == zh


def test_ratio_with_two_digit_part_never_reads_back_as_a_price():
    spoken = speak_text("10/11 size", "en")
    assert spoken == "ten over eleven size"
    assert "$" not in spoken_to_digits(spoken, "en")


def test_word_slashes_are_read_as_words():
    """Regression: "Realistic Zombie / Halloween" was voiced with a slash."""
    assert speak_text("Pan/Tilt camera", "en") == "Pan and Tilt camera"
    assert speak_text("Realistic Zombie / Halloween Tattoos", "en") == "Realistic Zombie, Halloween Tattoos"
    assert speak_text("Mug w/ lid", "en") == "Mug with lid"


# ---- issue 16: dates, currencies, languages, names, cuts ---------------------------------------
from generation.scripts.facts import clip_words, url_name  # noqa: E402
from generation.scripts.language import language_for_product, text_language  # noqa: E402
from generation.scripts.spoken import speak_price, speak_text  # noqa: E402


@pytest.mark.parametrize("text,en,zh", [
    ("Delivery by 7.12.2020.", "Delivery by the seventh of December, two thousand twenty.", "二零二零年十二月七日"),
    ("Released 2020-12-07", "Released the seventh of December, two thousand twenty", "二零二零年十二月七日"),
])
def test_dates_are_spoken_as_dates(text, en, zh):
    assert speak_text(text, "en") == en
    assert zh in speak_text(text, "zh") and "点" not in speak_text(text, "zh")


def test_chinese_never_calls_a_foreign_price_yuan():
    assert speak_price("99", "SAR", "zh") == "九十九沙特里亚尔"
    assert "元" not in speak_price("229.99", "CLP", "zh")
    assert speak_price("99", "SAR", "en") == "ninety-nine riyals"


@pytest.mark.parametrize("text,language", [
    ("Keeps drinks cold for 24 hours", "en"), ("WÄRMESTRAHLUNG: Das Mica-Heizelement erwärmt die Oberfläche", "de"),
    ("Lampa LED do ogrodu, wodoodporna i energooszczędna dla domu", "pl"), ("保温杯 500ml 不锈钢", "zh")])
def test_text_language(text, language):
    assert text_language(text) == language


def test_language_for_product_follows_the_page():
    assert language_for_product({"title": "小米 保温杯 500ml 不锈钢"}) == "zh"
    assert language_for_product({"title": "【官网价直降】Apple/苹果 iPhone 11 4G全网通智能手机"}) == "zh"
    assert language_for_product({"title": "Apple AirPods Pro (2nd generation)"}) == "en"


def test_url_slug_gives_a_latin_name():
    assert url_name("https://ar-sa.namshi.com/buy-adidas-youth-badge-of-sport-essential-t-shirt-w712550a.html") \
        == "Adidas Youth Badge of Sport"
    assert url_name("https://item.taobao.com/item.htm?id=562283240178") is None


def test_a_cut_never_inverts_a_clause():
    assert clip_words("The lamps cannot be used outdoors in heavy rain", 4) == ""
    assert clip_words("Works with all phones except older Android models running version 4", 4) == ""
    assert clip_words("Soft breathable cotton fabric for everyday comfort and style all day long", 4) \
        == "Soft breathable cotton fabric"
