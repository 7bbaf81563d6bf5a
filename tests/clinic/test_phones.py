import pytest
from django.core.exceptions import ValidationError

from clinic.phones import phone_display, phone_normalize


@pytest.mark.parametrize("raw", [
    "8 916 123-45-67", "+7(916)123-45-67", "9161234567", "+7 916 123 45 67", "89161234567",
    " 8-916-123-45-67 ",
])
def test_russian_phones_written_any_way_normalise_to_the_same_e164(raw):
    assert phone_normalize(raw) == "+79161234567"


def test_a_foreign_number_keeps_its_country():
    assert phone_normalize("+49 30 901820") == "+4930901820"


@pytest.mark.parametrize("raw", ["12", "hello", "8 916 123", "+7 000 000 00 00"])
def test_an_invalid_phone_is_a_clear_validation_error(raw):
    with pytest.raises(ValidationError) as error:
        phone_normalize(raw)
    assert error.value.code == "invalid_phone"


def test_an_empty_phone_stays_empty():
    assert phone_normalize("  ") == ""


def test_display_format_is_international():
    assert phone_display("+79161234567") == "+7 916 123-45-67"
