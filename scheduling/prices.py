"""How a price is told to a patient: the clinic's standard is a range rather than a hidden price.

The sentence is patient-facing text in the patient's language (Russian or English), written here
rather than through the translation catalogue, so it reads the same whoever's interface language
the administrator uses and its wording is pinned by tests. Thousands are grouped the way each
language writes them (Russian "3 500" with a non-breaking space, English "3,500"), and the number
never breaks away from "₽".
"""

from decimal import Decimal

from scheduling.models import Service

NBSP = "\u00a0"
CURRENCY = "₽"

_SENTENCES = {
    "ru": {
        "fixed": "{name} стоит {price}.",
        "range": "{name} стоит от {low} до {high}, точнее скажет врач после осмотра.",
    },
    "en": {
        "fixed": "{name} costs {price}.",
        "range": "{name} costs from {low} to {high}; the doctor will name the exact price "
                 "after the examination.",
    },
}


def price_language(language: str | None) -> str:
    """"en", "en-us" -> "en"; anything else -> "ru", the clinics' language."""
    return "en" if (language or "").lower().startswith("en") else "ru"


def price_format(amount: Decimal, *, language: str) -> str:
    """3500 -> "3 500" (ru, a non-breaking space) or "3,500" (en); kopecks only if there are any."""
    language = price_language(language)
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    if language == "ru":
        text = text.replace(",", NBSP).replace(".", ",")
    return text


def price_text(*, price_min: Decimal, price_max: Decimal, language: str) -> str:
    """"4 500 ₽" for a fixed price, "4 500–6 500 ₽" for a range (the price list's short form)."""
    low = price_format(price_min, language=language)
    if price_min == price_max:
        return f"{low}{NBSP}{CURRENCY}"
    return f"{low}–{price_format(price_max, language=language)}{NBSP}{CURRENCY}"


def price_sentence(*, service: Service, language: str) -> str:
    """The sentence an administrator puts into a reply: the price, or the range and who decides.

    "Профессиональная чистка стоит от 3 500 до 5 000 ₽, точнее скажет врач после осмотра."
    """
    sentences = _SENTENCES[price_language(language)]
    name = service.name.strip()
    if service.price_min == service.price_max:
        price = f"{price_format(service.price_min, language=language)}{NBSP}{CURRENCY}"
        return sentences["fixed"].format(name=name, price=price)
    return sentences["range"].format(
        name=name, low=price_format(service.price_min, language=language),
        high=f"{price_format(service.price_max, language=language)}{NBSP}{CURRENCY}")
