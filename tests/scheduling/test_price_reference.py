"""The service and price reference, the composer's price finder, and the price sentence."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from scheduling.prices import NBSP, price_format, price_language, price_sentence, price_text
from tests.clinic.factories import MembershipFactory
from tests.inbox.factories import TelegramChannelFactory
from tests.scheduling.factories import DoctorFactory, ServiceFactory

SERVICES = reverse("scheduling:services")
PRICES = reverse("scheduling:price-search")


def service(**fields):
    """An unsaved service: the sentence needs only its name and prices."""
    return ServiceFactory.build(**{"name": "Профессиональная чистка",
                                   "price_min": Decimal("3500"), "price_max": Decimal("5000"),
                                   **fields})


# --- The sentence --------------------------------------------------------------------------------

def test_a_range_is_told_from_and_to_with_who_decides_in_russian():
    assert price_sentence(service=service(), language="ru") == (
        f"Профессиональная чистка стоит от 3{NBSP}500 до 5{NBSP}000{NBSP}₽, "
        "точнее скажет врач после осмотра.")


def test_a_fixed_price_is_told_as_one_number():
    consultation = service(name="Консультация стоматолога-терапевта",
                           price_min=Decimal("1000.00"), price_max=Decimal("1000.00"))
    assert price_sentence(service=consultation, language="ru") == (
        f"Консультация стоматолога-терапевта стоит 1{NBSP}000{NBSP}₽.")
    assert price_sentence(service=consultation, language="en") == (
        f"Консультация стоматолога-терапевта costs 1,000{NBSP}₽.")


def test_a_range_in_english_groups_thousands_with_commas():
    assert price_sentence(service=service(name="Professional cleaning"), language="en") == (
        f"Professional cleaning costs from 3,500 to 5,000{NBSP}₽; the doctor will name the "
        "exact price after the examination.")


@pytest.mark.parametrize(("amount", "language", "text"), [
    ("500", "ru", "500"),
    ("4500", "ru", f"4{NBSP}500"),
    ("65000.00", "ru", f"65{NBSP}000"),
    ("1250000", "ru", f"1{NBSP}250{NBSP}000"),
    ("1499.50", "ru", f"1{NBSP}499,50"),
    ("4500", "en", "4,500"),
    ("1499.50", "en", "1,499.50"),
])
def test_amounts_are_grouped_by_thousands_and_show_kopecks_only_when_there_are_some(
        amount, language, text):
    assert price_format(Decimal(amount), language=language) == text


def test_the_price_list_short_form_is_a_dash_range_or_one_price():
    assert price_text(price_min=Decimal(4500), price_max=Decimal(6500), language="ru") == (
        f"4{NBSP}500–6{NBSP}500{NBSP}₽")
    assert price_text(price_min=Decimal(500), price_max=Decimal(500), language="en") == (
        f"500{NBSP}₽")


@pytest.mark.parametrize(("language", "expected"), [
    ("ru", "ru"), ("en", "en"), ("en-us", "en"), ("uk", "ru"), (None, "ru")])
def test_the_sentence_is_russian_unless_english_is_asked_for(language, expected):
    assert price_language(language) == expected


def test_a_service_name_keeps_the_patients_text_as_it_is():
    assert price_sentence(service=service(name="  Чистка <b>Air Flow</b> "), language="ru") == (
        f"Чистка <b>Air Flow</b> стоит от 3{NBSP}500 до 5{NBSP}000{NBSP}₽, "
        "точнее скажет врач после осмотра.")


# --- The reference page --------------------------------------------------------------------------

@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue(clinic, other_clinic):
    hygienist = DoctorFactory(clinic=clinic, name="Лебедева Мария")
    retired = DoctorFactory(clinic=clinic, name="Ушедший Врач", active=False)
    ServiceFactory(clinic=clinic, name="Профессиональная гигиена", category="Гигиена",
                   duration_minutes=60, price_min=4500, price_max=6500,
                   preparation="За 2 часа до визита не ешьте.", doctors=[hygienist, retired])
    ServiceFactory(clinic=clinic, name="Консультация терапевта", category="Диагностика",
                   duration_minutes=30, price_min=1000, price_max=1000)
    ServiceFactory(clinic=clinic, name="Снятый с продажи", category="Гигиена", active=False)
    ServiceFactory(clinic=other_clinic, name="Чужая гигиена", category="Гигиена")


def test_the_reference_lists_each_service_with_price_duration_preparation_and_doctors(
        client, administrator, catalogue, english):
    client.force_login(administrator)
    html = client.get(SERVICES).content.decode()
    assert "Профессиональная гигиена" in html and "Консультация терапевта" in html
    assert f"4,500–6,500{NBSP}₽" in html and f"1,000{NBSP}₽" in html  # the interface's style
    assert "60 min" in html and "За 2 часа до визита не ешьте." in html
    assert "Лебедева Мария" in html and "Ушедший Врач" not in html
    assert "Снятый с продажи" not in html and "Чужая гигиена" not in html
    assert html.index("<h2>Гигиена</h2>") < html.index("<h2>Диагностика</h2>")  # by category


def test_the_reference_search_ignores_case_and_matches_category_and_doctor(
        client, administrator, catalogue, english):
    client.force_login(administrator)
    by_category = client.get(SERVICES, {"q": "ГИГИЕНА"}).content.decode()
    assert "Профессиональная гигиена" in by_category
    assert "Консультация терапевта" not in by_category and "1 service of 2" in by_category
    by_doctor = client.get(SERVICES, {"q": "лебедева"}).content.decode()
    assert "Профессиональная гигиена" in by_doctor and "Консультация" not in by_doctor
    nothing = client.get(SERVICES, {"q": "имплант"}).content.decode()
    assert "No service matches." in nothing


def test_an_htmx_search_gets_only_the_results(client, administrator, catalogue):
    client.force_login(administrator)
    response = client.get(SERVICES, {"q": "гигиена"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="service-results")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="service-results"') and "<html" not in html


@pytest.mark.parametrize("role", ["administrator", "manager", "owner"])
def test_every_staff_role_sees_the_reference(client, clinic, catalogue, role):
    client.force_login(MembershipFactory(clinic=clinic, role=role).user)
    assert client.get(SERVICES).status_code == 200
    assert client.get(PRICES).status_code == 200


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in(client, catalogue):
    for url in (SERVICES, PRICES):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_reference_takes_the_same_number_of_queries_for_many_services(
        client, administrator, clinic, django_assert_max_num_queries):
    client.force_login(administrator)
    doctor = DoctorFactory(clinic=clinic)
    ServiceFactory(clinic=clinic, doctors=[doctor])
    with django_assert_max_num_queries(10) as few:  # the page layout takes a few of them
        client.get(SERVICES, {"q": "е"})
    doctors = [DoctorFactory(clinic=clinic) for _n in range(5)]
    for n in range(30):
        ServiceFactory(clinic=clinic, name=f"Услуга {n}", doctors=doctors)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(SERVICES, {"q": "е"})


# --- The composer's price finder -----------------------------------------------------------------

def test_the_price_finder_offers_each_service_with_its_sentence(client, administrator,
                                                                 catalogue):
    client.force_login(administrator)
    html = client.get(PRICES, {"price_q": "гигиен"}).content.decode()
    assert html.count("data-insert-price=") == 1
    assert (f'data-insert-price="Профессиональная гигиена стоит от 4{NBSP}500 до 6{NBSP}500'
            f'{NBSP}₽, точнее скажет врач после осмотра."') in html
    assert "Чужая гигиена" not in html


def test_the_price_finder_writes_english_for_an_english_interface(client, administrator,
                                                                  catalogue):
    client.force_login(administrator)
    client.cookies.load({"django_language": "en"})
    html = client.get(PRICES, {"price_q": "консультация"}).content.decode()
    assert f'data-insert-price="Консультация терапевта costs 1,000{NBSP}₽."' in html


def test_a_services_html_is_shown_as_text(client, administrator, clinic):
    ServiceFactory(clinic=clinic, name='<img src=x onerror="alert(1)">')
    client.force_login(administrator)
    for html in (client.get(SERVICES).content.decode(),
                 client.get(PRICES).content.decode()):
        assert "<img src=x" not in html and "&lt;img src=x" in html


def test_the_composer_has_a_prices_button_that_searches_the_price_finder(
        client, administrator, clinic):
    from inbox.models import ContactIdentity, Conversation

    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1")
    conversation = Conversation.objects.create(clinic=clinic, channel=channel, contact=contact)
    client.force_login(administrator)
    html = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "data-price-popover" in html and f'hx-get="{PRICES}"' in html
