"""Mapping suggestions, round 4: value profiles that see through representations (Unix times vs
dates, cents vs amounts, grams vs kilograms, lower-case currency codes, punctuated tax ids),
bracketed notes in headers, labels read in their field's context (the billed party), a leaf
that only carries its parent's value, and a target document's own number."""

from __future__ import annotations

import pytest

from pipelines.ai.suggest import parse_schema, suggest
from pipelines.ai.suggest.names import name_similarity, parse_label, parse_name
from pipelines.ai.suggest.profiles import kind_of, profile, profile_similarity, shared_values

pytestmark = pytest.mark.unit


def test_value_kinds_added_in_round_4() -> None:
    assert kind_of("usd") == "currency" and kind_of("EUR") == "currency" and kind_of("Usd") != "currency"
    assert kind_of("18-03-2024") == "date_dot" and kind_of("18-03-24") == "date_dot"
    assert all(kind_of(v) == "bool" for v in ("nej", "Nei", "tak", "nie", "sim", "ano"))
    assert kind_of("20240514") == "date_iso" and kind_of("20241399") == "int" and kind_of("2024/05/14") == "date_iso"
    assert kind_of("United States") == "country_name" and kind_of("Berlin") == "name"
    assert kind_of("€12,50") == "dec_comma" and kind_of("49.90 EUR") == "dec_point" and kind_of("19 %") == "percent"


@pytest.mark.parametrize("a,b,scale", [
    ([1712044800, 1712131200], ["2024-04-02", "2024-04-03"], 1),        # Unix seconds vs ISO dates
    (["2024-03-18T14:22:39+01:00", "2024-03-19T07:55:01+01:00"], ["18-03-2024", "19-03-2024"], 1),
    ([4900, 19900, 10750], ["49.00", "199,00", "107.50"], 100),         # cents vs amounts
    ([600, 350, 0], ["0.6", "0.35", "0"], 1000),                        # grams vs kilograms
    (["123.456.789-09", "12.345.678/0001-95"], ["12345678909", "12345678000195"], 1),  # tax ids
    (["20240101", "20240301"], ["01.01.2024", "2024/03/01"], 1),         # SAP's YYYYMMDD
])
def test_the_same_values_are_seen_through_their_representation(a: list, b: list, scale: int) -> None:
    strength, k = shared_values(profile(a), profile(b))
    assert strength >= 0.5 and k == scale


def test_country_names_are_seen_as_their_codes() -> None:
    names, codes = profile(["Italia", "Svizzera", "Österreich"]), profile(["IT", "CH", "AUT"])
    assert shared_values(names, codes)[0] > 0 and profile_similarity(names, codes) >= 0.9
    assert profile_similarity(names, profile(["Berlin", "Torino", "Wien"])) <= 0.6


def test_unrelated_or_trivial_values_are_not_shared() -> None:
    assert shared_values(profile([4, 2, 1]), profile([7.95, 24.99, 39.0])) == (0.0, 0)
    assert shared_values(profile(["0", "1", "1"]), profile(["1", "0", "0"]))[0] == 0.0
    assert shared_values(profile([12, 40]), profile([])) == (0.0, 0)
    # one coincidence across a power of ten is not a scale
    assert shared_values(profile([10, 37, 52]), profile([1.0, 8.2, 9.9])) == (0.0, 0)


def test_a_bracketed_note_qualifies_a_header_and_is_not_a_path() -> None:
    assert parse_name("Product Type [Non Editable]").leaf == parse_name("Product Type").leaf
    assert parse_name("Price (net)").leaf == {"PRICE", "NET"}
    assert parse_name("Menge [Stk]").leaf == {"QUANTITY"} and parse_label("Vikt (g)").leaf == {"WEIGHT"}
    assert parse_name("Pris eks. mva").leaf == {"PRICE", "NET"}  # a dot before a space ends an abbreviation
    assert "LINE" in parse_name("items[0].sku").parent  # an index is still a path


@pytest.mark.parametrize("a,b", [("Lagersaldo", "stock"), ("Kontrahent.Nazwisko", "buyer.lastName"),
                                 ("Højde", "height"), ("Hojd", "height"), ("Množství", "quantity"),
                                 ("cliente.cidade", "customer.city"), ("Varenummer", "product_number"),
                                 ("Gültig bis", "validUntil"), ("Gültig ab", "valid_from"),
                                 ("Staffelmenge", "tier_quantity")])
def test_more_languages_and_validity_periods(a: str, b: str) -> None:
    assert name_similarity(parse_name(a), parse_name(b)) >= 0.7


def _schema(entity: str, fields: list[dict]) -> object:
    return parse_schema({"system": "x", "entity": entity, "fields": fields})


def test_a_customer_section_is_fed_from_the_billing_party_not_the_delivery_one() -> None:
    people = ["Jan", "Sanne", "Pieter"]
    src = _schema("order", [{"name": "shipmentDetails.firstName", "samples": people},
                            {"name": "billingDetails.firstName", "samples": people},
                            {"name": "orderItems.quantity", "samples": [1, 2]}])
    assert "LINE" not in parse_name("billingDetails.firstName").parent
    tgt = _schema("verkooporder", [{"name": "Relatie.Voornaam", "label": "Voornaam", "samples": people}])
    top = suggest(src, tgt)["suggestions"][0]["candidates"][0]
    assert top["source"] == "billingDetails.firstName" and top["confidence"] >= 0.5


def test_a_target_documents_own_number_gets_no_confident_source() -> None:
    src = _schema("order", [{"name": "orderId", "samples": ["1043946570", "1043951288"]},
                            {"name": "placed", "samples": ["2024-03-18", "2024-03-19"]}])
    tgt = _schema("verkooporder", [{"name": "Ordernummer", "type": "int", "samples": [20240311, 20240312]},
                                   {"name": "Referentie", "samples": ["1043946570", "1043951288", "WEB-2291"]}])
    out = {s["target"]: s["candidates"] for s in suggest(src, tgt)["suggestions"]}
    assert all(c["confidence"] < 0.5 for c in out["Ordernummer"])
    assert "own document number" in out["Ordernummer"][0]["reason"]
    assert out["Referentie"][0]["source"] == "orderId" and out["Referentie"][0]["confidence"] >= 0.5


def test_a_value_leaf_means_its_parent_and_lower_case_currencies_match() -> None:
    assert parse_name("CurrencyRef.value").leaf >= {"CURRENCY"}
    src = _schema("invoice", [{"name": "currency", "samples": ["usd", "usd", "eur"]},
                              {"name": "amount_paid", "samples": [5292, 0, 139320]}])
    tgt = _schema("Invoice", [{"name": "CurrencyRef.value", "samples": ["USD", "USD"]},
                              {"name": "SalesTermRef.value", "samples": ["3", "1"]}])
    out = {s["target"]: s["candidates"] for s in suggest(src, tgt)["suggestions"]}
    assert out["CurrencyRef.value"][0]["source"] == "currency" and out["CurrencyRef.value"][0]["confidence"] >= 0.5
    assert all(c["confidence"] < 0.5 for c in out["SalesTermRef.value"])


def test_a_sap_code_is_read_through_its_german_label() -> None:
    src = _schema("preiskondition", [
        {"name": "MATNR", "label": "Material", "samples": ["FG-100-BLK", "TG11"]},
        {"name": "VTWEG", "label": "Vertriebsweg", "samples": ["10", "20"]},
        {"name": "DATAB", "label": "Gültig ab", "samples": ["01.01.2024", "01.03.2024"]},
        {"name": "DATBI", "label": "Gültig bis", "samples": ["31.12.9999", "31.12.2024"]}])
    tgt = _schema("standalone_price", [{"name": "sku"}, {"name": "channel.key"}, {"name": "validFrom"},
                                       {"name": "validUntil"}])
    got = {s["target"]: s["candidates"][0]["source"] for s in suggest(src, tgt)["suggestions"]}
    assert got == {"sku": "MATNR", "channel.key": "VTWEG", "validFrom": "DATAB", "validUntil": "DATBI"}


def test_the_source_documents_number_feeds_the_targets_reference_and_the_entity_word_adds_nothing() -> None:
    # target without samples: only names speak
    src = _schema("order", [{"name": "Order ID", "samples": ["3012345678"]},
                            {"name": "Order Total", "samples": ["50.00"]},
                            {"name": "Street 1", "samples": ["1 Main St"]}])
    tgt = _schema("ordre", [{"name": "Referanse", "label": "Deres referanse"},
                            {"name": "Totalbelop", "label": "Totalt beløp inkl. mva"},
                            {"name": "Leveringsadresse.Adresselinje1"}])
    out = {s["target"]: s["candidates"][0] for s in suggest(src, tgt)["suggestions"]}
    assert {k: c["source"] for k, c in out.items()} == {
        "Referanse": "Order ID", "Totalbelop": "Order Total", "Leveringsadresse.Adresselinje1": "Street 1"}
    assert out["Referanse"]["confidence"] >= 0.5 and "reference" in out["Referanse"]["reason"]
    assert out["Leveringsadresse.Adresselinje1"]["confidence"] >= 0.5
