"""Mapping suggestions: names across styles and languages, value profiles, the one-to-one
assignment, the evaluation set's goals (tuned and held-out parts), the CLI."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.ai.suggest import (
    Schema,
    ax_schema,
    evaluate,
    load_pairs,
    parse_schema,
    prestashop_schema,
    suggest,
)
from pipelines.ai.suggest.assign import assign
from pipelines.ai.suggest.names import name_similarity, parse_name
from pipelines.ai.suggest.profiles import kind_of
from runtime.cli import app

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[2] / "ai_data" / "suggest"


@pytest.mark.parametrize("a,b", [("Kundennummer", "customer_number"), ("Rechnungsadresse.PLZ", "billing.postcode"),
                                 ("prénom", "FirstName"), ("E-Mail", "email"), ("Fälligkeitsdatum", "due_date"),
                                 ("code_postal", "ZipCode"), ("VK-Preis brutto", "price_gross")])
def test_names_match_across_styles_and_languages(a: str, b: str) -> None:
    assert name_similarity(parse_name(a), parse_name(b)) >= 0.7


def test_unrelated_names_do_not_match() -> None:
    assert name_similarity(parse_name("Kundennummer"), parse_name("billing.postcode")) < 0.3
    assert name_similarity(parse_name("billing.city"), parse_name("shipping.city")) < 1.0


@pytest.mark.parametrize("value,kind", [("4006381333931", "ean"), ("ja", "bool"),
                                        ("N", "bool"), ("1.250,00", "dec_comma"), ("12.50", "dec_point"),
                                        ("<p>Hi</p>", "html"), ("31.12.2024", "date_dot"), ("EUR", "currency"),
                                        ("DE", "country2"), ("a.b@example.org", "email"), ("+49 30 1234567", "phone")])
def test_value_kinds(value: str, kind: str) -> None:
    assert kind_of(value) == kind


def test_an_ean_needs_its_check_digit() -> None:
    assert kind_of("4006381333932") != "ean"


def test_the_assignment_is_optimal_on_small_matrices() -> None:
    rng = random.Random(4)
    for _ in range(30):
        n, m = rng.randint(1, 5), rng.randint(5, 7)
        score = [[rng.random() for _ in range(m)] for _ in range(n)]
        got = assign(score)
        best = max(itertools.permutations(range(m), n), key=lambda p: sum(score[i][p[i]] for i in range(n)))
        assert len(set(got)) == n
        assert sum(score[i][got[i]] for i in range(n)) == pytest.approx(sum(score[i][best[i]] for i in range(n)))


def test_a_target_without_source_gets_no_confident_candidate() -> None:
    src = parse_schema({"system": "a", "entity": "x", "fields": [{"name": "email", "samples": ["a@b.de"]},
                                                                {"name": "city", "samples": ["Berlin"]}]})
    tgt = parse_schema({"system": "b", "entity": "y", "fields": [{"name": "E-Mail", "samples": ["x@y.fr"]},
                                                                {"name": "Kostenstelle", "samples": ["100"]}]})
    out = {s["target"]: s["candidates"] for s in suggest(src, tgt)["suggestions"]}
    assert out["E-Mail"][0]["source"] == "email" and out["E-Mail"][0]["confidence"] >= 0.9
    assert "email" in out["E-Mail"][0]["reason"]
    assert all(c["confidence"] < 0.5 for c in out["Kostenstelle"])


# Floors, not goals (docs/ai.md has the figures). Round 2's 7 held-out pairs were measured
# (0.843/0.948) and then moved into tuned/ in round 3: they keep their floor of 0.8/0.93 as a
# subset (0.974/0.991 in round 4) and the whole tuned part keeps 0.95/0.98. Round 3's 9
# held-out pairs measured 0.724/0.902 untuned; round 4 moved them into tuned/ and tuned on
# them with general rules (1.0/1.0 at the end of round 4): their floor sits just below that.
# Round 4's 14 held-out pairs measured 0.860/0.959 untuned; round 5 moved them into tuned/ and
# tuned on them with general rules (0.964/0.990 at the end of round 5): their floor sits just
# below that. Round 5's 19 held-out pairs measured 0.909/0.966 untuned (false rate 0.105);
# round 6 moved them into tuned/ and tuned on them with general rules (0.966/0.995 at the end of
# round 6): their floor sits just below that. Round 6's 20 held-out pairs measured 0.885/0.951
# untuned (false rate 0.104); round 7 moved them into tuned/ and tuned on them with general
# rules (0.947/0.996 at the end of round 7): their floor sits just below that. The held-out part
# is the newest set, never tuned on, measured once after tuning by someone who did not tune.
_ROUND2_HELDOUT = frozenset({
    "magento_customer_to_sap_b1_business_partner", "magento_order_to_ebp_piece_fr",
    "paypal_transactions_de_to_datev_buchungsstapel", "sage100_artikel_to_shopware6_product",
    "shopify_order_to_fatture_in_cloud_it", "woocommerce_order_to_pedido_venta_es",
    "woocommerce_product_to_exact_online_nl"})
_ROUND3_HELDOUT = frozenset({
    "allegro_order_to_comarch_optima_faktura_pl", "bol_order_to_snelstart_verkooporder_nl",
    "cegid_stock_fr_to_saleor_stock", "mercadolibre_order_to_contpaqi_documento_es",
    "nuvemshop_order_to_bling_pedido_pt", "s4hana_price_conditions_to_commercetools_price_de",
    "squarespace_products_to_fortnox_artikel_sv", "stripe_invoice_to_quickbooks_online_invoice",
    "wix_contacts_to_danea_easyfatt_clienti_it"})
_ROUND4_HELDOUT = frozenset({
    "cdiscount_order_to_acumatica_sales_order", "ebay_order_to_economic_order_da",
    "gambio_products_to_sevdesk_part_de", "kaufland_order_units_to_billbee_order_de",
    "klarna_order_customer_to_visma_eekonomi_kund_sv", "mollie_payments_to_fec_ecritures_fr",
    "netsuite_inventory_to_kaufland_units_stock", "opencart_order_to_tripletex_order_no",
    "shoper_order_to_fakturownia_invoice_pl", "shoptet_orders_cs_to_pohoda_objednavka_cs",
    "square_customer_to_moneybird_contact_nl", "vtex_client_to_holded_contact_es",
    "worten_mirakl_order_to_moloni_fatura_pt", "zoho_books_invoice_to_fatturapa_it"})
_ROUND5_HELDOUT = frozenset({
    "abra_flexi_faktura_to_idoklad_issued_invoice_cs", "adyen_settlement_to_sie4_verifikationer_sv",
    "afterbuy_buyer_to_collmex_kunde_de", "baselinker_order_to_wfirma_faktura_pl", "billy_invoice_to_dinero_invoice_da",
    "cin7_core_availability_to_empik_offers_pl", "cscart_users_to_italian_erp_anagrafica_clienti_it",
    "d365fo_sales_price_agreement_to_shopware5_prices_de", "emag_order_to_smartbill_factura_ro",
    "gls_parcels_de_to_otto_market_shipment", "manomano_order_to_pennylane_invoice_fr",
    "mijnwebwinkel_products_nl_to_picqer_product", "mycashflow_order_to_netvisor_salesinvoice_fi",
    "plentymarkets_variation_to_idealo_offer_de", "redsys_notifications_to_contaplus_diario_es",
    "shopware5_order_to_sage_intacct_sales_order", "sylius_order_to_invoicexpress_fatura_pt",
    "trendyol_order_to_parasut_fatura_tr", "zettle_refund_to_fiken_credit_note_no"})
_ROUND6_HELDOUT = frozenset({
    "akeneo_product_to_ongoing_wms_artikel_sv", "brightpearl_order_to_bring_booking_sending_no",
    "epicor_price_list_to_spryker_price_product_merchant_relationship", "hepsiburada_order_to_logo_tiger_siparis_tr",
    "idosell_order_to_inpost_shipx_przesylka_pl", "medusa_order_to_procountor_myyntilasku_fi",
    "n11_order_to_yurtici_kargo_gonderi_tr", "plytix_variants_to_fruugo_feed",
    "sapcommerce_order_to_primavera_documento_venda_pt", "scayle_order_to_dhl_paket_sendung_de",
    "sfcc_customer_to_factusol_cliente_es", "sfcc_order_to_lexoffice_rechnung_de",
    "shipbob_inventory_to_linnworks_stock_level", "shipstation_order_to_brt_spedizione_it",
    "spree_order_to_sameday_awb_ro", "spryker_order_to_colissimo_etiquette_fr",
    "upgates_customer_to_helios_organizace_cs", "vipps_mobilepay_ledger_to_uniconta_kassekladde_da",
    "walmart_refund_to_oracle_fusion_credit_memo", "zalando_order_to_twinfield_verkoopfactuur_nl"})


@pytest.mark.parametrize("part,subset,top1,top3", [("tuned", None, 0.95, 0.98),
                                                   ("tuned", _ROUND2_HELDOUT, 0.8, 0.93),
                                                   ("tuned", _ROUND3_HELDOUT, 0.97, 0.98),
                                                   ("tuned", _ROUND4_HELDOUT, 0.95, 0.98),
                                                   ("tuned", _ROUND5_HELDOUT, 0.95, 0.99),
                                                   ("tuned", _ROUND6_HELDOUT, 0.94, 0.99),
                                                   ("heldout", None, 0.87, 0.94)])
def test_the_evaluation_set_meets_its_floor(part: str, subset: frozenset[str] | None, top1: float,
                                            top3: float) -> None:
    pairs = [p for p in load_pairs(DATA / part) if subset is None or p["name"] in subset]
    assert len(pairs) >= (len(subset) if subset else 4) and all(p["source"]["system"] != "prestashop" for p in pairs)
    r = evaluate(pairs)
    assert r["no_source_targets"] >= 10
    assert r["top1"] >= top1 and r["top3"] >= top3 and r["false_rate"] <= 0.2


def test_schema_problems_are_listed_with_their_path() -> None:
    with pytest.raises(ValueError) as exc:
        parse_schema({"system": "a", "fields": [{"name": "x"}, {"type": "int"}, {"name": "x"}]}, "source")
    text = str(exc.value)
    assert "source.entity: missing" in text and "source.fields[1].name: missing" in text
    assert "source.fields[2].name: 'x' appears twice" in text


def test_schemas_from_the_connectors_field_tables() -> None:
    ax = ax_schema("SalesOrderService")
    assert {"SalesTable.CustAccount", "SalesLine.ItemId"} <= {f.name for f in ax.fields}
    ps = prestashop_schema("orders")
    assert {"id_customer", "order_rows.product_reference"} <= {f.name for f in ps.fields}
    with pytest.raises(ValueError, match="Unknown PrestaShop resource"):
        prestashop_schema("ordres")


def test_cli_suggest_and_schema(tmp_path: Path) -> None:
    pair = load_pairs(DATA / "tuned")[0]
    (tmp_path / "s.json").write_text(json.dumps(pair["source"]))
    (tmp_path / "t.json").write_text(json.dumps(pair["target"]))
    runner = CliRunner()
    r = runner.invoke(app, ["mapping", "suggest", "--source", str(tmp_path / "s.json"), "--target",
                            str(tmp_path / "t.json"), "--format", "json", "--top", "2"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [s["target"] for s in out["suggestions"]] == [f["name"] for f in pair["target"]["fields"]]
    assert all(len(s["candidates"]) == 2 and 0 <= s["candidates"][0]["confidence"] <= 1 for s in out["suggestions"])
    (tmp_path / "bad.json").write_text('{"system": "x", "fields": []}')
    r = runner.invoke(app, ["mapping", "suggest", "--source", str(tmp_path / "bad.json"), "--target",
                            str(tmp_path / "t.json")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["mapping", "schema", "ax", "SalesTable", "-o", str(tmp_path / "ax.json")])
    assert r.exit_code == 0, r.output
    assert isinstance(parse_schema(json.loads((tmp_path / "ax.json").read_text())), Schema)


def test_samples_from_records_follow_dotted_paths_and_skip_secrets() -> None:
    from pipelines.ai.suggest.schema import with_samples

    schema = parse_schema({"system": "prestashop", "entity": "orders", "fields": [
        {"name": "reference"}, {"name": "order_rows.product_reference"}, {"name": "passwd"}, {"name": "note"}]})
    records = [{"reference": "ABC", "passwd": "$2y$10$hash", "associations": {"order_rows": [
        {"product_reference": "demo_1"}, {"product_reference": "demo_2"}]}}, {"reference": "ABC", "note": ""}]
    got = {f.name: f.samples for f in with_samples(schema, records).fields}
    assert got == {"reference": ("ABC",), "order_rows.product_reference": ("demo_1", "demo_2"), "passwd": (),
                   "note": ()}


def test_value_kinds_added_while_tuning() -> None:
    # Unix times, written-out dates, upper-case codes, space-grouped comma decimals
    assert kind_of(1714652400000) == "epoch" and kind_of("1714652400") == "epoch" and kind_of(118) == "int"
    assert kind_of("Thu, 02 May 2024 14:30:00 +0000") == "datetime" and kind_of("3 mars 2024") == "datetime"
    assert kind_of("NOT_PAID") == "code" and kind_of("#1001") == "code" and kind_of("Berlin") == "name"
    assert kind_of("1 070,83") == "dec_comma" and kind_of("1.234,56") == "dec_comma"


def test_names_added_while_tuning() -> None:
    # an OXID table prefix is dropped; "incl. tax" qualifies a total, it is not the tax
    assert parse_name("OXORDERDATE").leaf == {"ORDER", "DATE"} and parse_name("OXPAID").leaf == {"PAYMENT"}
    assert "TAX" not in parse_name("totalAmountIncludingTax").leaf
    assert "TAX" in parse_name("totalTaxAmount").leaf
    # a bare id at the root is the entity's id: the customer number, not a postcode
    src = parse_schema({"system": "a", "entity": "customer", "fields": [
        {"name": "id", "type": "int", "samples": [12, 13, 27]},
        {"name": "billing.postcode", "samples": ["10115", "75002", "02108"]}]})
    tgt = parse_schema({"system": "b", "entity": "debitor", "fields": [
        {"name": "Kundennummer", "samples": ["10001", "10002", "10017"]}]})
    assert suggest(src, tgt)["suggestions"][0]["candidates"][0]["source"] == "id"


@pytest.mark.parametrize("a,b", [("Asiakasnumero", "customer_number"), ("Toimitusosoite.Katuosoite", "shipping.street"),
                                 ("Eräpäivä", "due_date"), ("Cod poștal", "postcode"), ("Data facturii", "invoice_date"),
                                 ("Denumire produs", "product_name"), ("Sipariş Tarihi", "order_date"),
                                 ("Müşteri Adı", "customer_name"), ("KDV Oranı", "tax_rate"), ("Stok Miktarı", "stock_qty")])
def test_finnish_romanian_and_turkish_names(a: str, b: str) -> None:
    assert name_similarity(parse_name(a), parse_name(b)) >= 0.7


def _top(src: list[dict], tgt: list[dict], entity: str = "order") -> dict[str, tuple[str, float]]:
    s = parse_schema({"system": "a", "entity": entity, "fields": src})
    t = parse_schema({"system": "b", "entity": entity, "fields": tgt})
    return {e["target"]: (e["candidates"][0]["source"], e["candidates"][0]["confidence"])
            for e in suggest(s, t)["suggestions"]}


def test_rules_added_in_round_5() -> None:
    # the billing address does not feed the delivery address, even with the same values
    got = _top([{"name": "payment_city", "samples": ["Oslo", "Bergen"]},
                {"name": "shipping_city", "samples": ["Oslo", "Bergen"]}],
               [{"name": "delivery_destination_city", "samples": ["Oslo", "Bergen"]}])
    assert got["delivery_destination_city"][0] == "shipping_city"
    # a flat "orderItem*" column is at line level: a header field is not fed from it
    got = _top([{"name": "orderItemType", "samples": ["product", "shipping"]},
                {"name": "orderItemName", "samples": ["Mug", "Cap"]}],
               [{"name": "orderHeader.orderType", "samples": ["receivedOrder"]},
                {"name": "orderDetail.orderItem.text", "samples": ["Mug"]}])
    assert got["orderHeader.orderType"][1] < 0.5
    # a line's only text field is fed by the item's name; a bare "code" labelled NIF/CIF is a tax id
    got = _top([{"name": "line_items.name", "samples": ["Desk 140", "Lamp"]},
                {"name": "line_items.description", "samples": ["Oak top", "Office hours"]},
                {"name": "id", "samples": ["a1b2c3d4-0000-4000-8000-000000000001"]},
                {"name": "vat_number", "samples": ["B12345674", "A87654325"]}],
               [{"name": "DettaglioLinee.Descrizione", "samples": ["Chair", "Toner"]},
                {"name": "code", "label": "NIF/CIF", "samples": ["B87654321", "A11223344"]}], "contact")
    assert got["DettaglioLinee.Descrizione"][0] == "line_items.name" and got["code"][0] == "vat_number"
    # legal forms mark company names; a "rate" of 250.00 is a price
    assert kind_of("Pereira & Filhos, Lda.") == "company" and kind_of("Weber Haustechnik GmbH") == "company"
    assert kind_of("Daan de Vries") == "person" and kind_of("Café en grains 1 kg") != "company"
    got = _top([{"name": "line_items.rate", "samples": ["250.00", "89.90"]},
                {"name": "line_items.tax_percentage", "samples": ["22", "10"]}],
               [{"name": "lines.unit_price", "samples": ["120.00", "35.50"]},
                {"name": "lines.vat_rate", "samples": ["22", "4"]}])
    assert got["lines.unit_price"][0] == "line_items.rate" and got["lines.vat_rate"][0] == "line_items.tax_percentage"
    # a yes/no flag is fed from a type field whose values name it
    got = _top([{"name": "customer.type", "samples": ["person", "organization", "person"]},
                {"name": "order_amount", "samples": [129900, 845000]}],
               [{"name": "IsPrivatePerson", "samples": [True, False, True]}], "customer")
    assert got["IsPrivatePerson"][0] == "customer.type"


def test_rules_added_in_round_6() -> None:
    # an XML date with its time zone is a date; a document number with slashes is a code
    assert kind_of("2024-10-01+02:00") == "date_iso" and kind_of("2024-09-30Z") == "date_iso"
    assert kind_of("FV-0145/2024") == "code" and kind_of("FV/2024/01/001") == "code"
    # a "code:" lookup prefix is not part of the value
    assert kind_of("code:CZK") == "currency"
    # a URL holds the slug a source keeps; the image URL feeds the image, not the product page
    got = _top([{"name": "itemTexts.urlPath", "samples": ["shoes/trail-pro-2", "kitchen/pot-set-8"]},
                {"name": "images.url", "samples": ["https://cdn.example.com/i/105.jpg", "https://cdn.example.com/i/230.jpg"]}],
               [{"name": "url", "samples": ["https://shop.example.com/shoes/trail-pro-2",
                                            "https://shop.example.com/kitchen/pot-set-8"]},
                {"name": "imageUrls", "samples": ["https://cdn.example.com/i/105.jpg"]}], "offer")
    assert got["url"][0] == "itemTexts.urlPath" and got["imageUrls"][0] == "images.url"
    # a leading "to" is a range's upper bound; the unit a quantity is counted in is a unit
    got = _top([{"name": "FromQuantity", "samples": ["1", "10"]}, {"name": "ToQuantity", "samples": ["0", "50"]},
                {"name": "QuantityUnitSymbol", "samples": ["ea", "box"]}, {"name": "PriceSiteId", "samples": ["1", "2"]}],
               [{"name": "prices.from", "label": "Ab", "samples": [1, 10]},
                {"name": "prices.to", "label": "Bis", "samples": ["beliebig", "50"]},
                {"name": "unitId", "label": "Maßeinheit", "samples": [1, 3]}], "price")
    assert got["prices.to"][0] == "ToQuantity" and got["unitId"][0] == "QuantityUnitSymbol"
    # a parcel's sender is not its recipient; a document's customer section is the billed party
    got = _top([{"name": "Empfänger Land", "samples": ["DE", "AT"]}, {"name": "Absender Land", "samples": ["DE", "AT"]}],
               [{"name": "shipFromAddress.countryCode", "samples": ["DEU", "AUT"]}], "parcel")
    assert got["shipFromAddress.countryCode"][0] == "Absender Land"
    got = _top([{"name": "delivery_city", "samples": ["Kraków", "Gdańsk"]},
                {"name": "invoice_city", "samples": ["Kraków", "Gdańsk"]}],
               [{"name": "contractor.city", "samples": ["Kraków", "Gdańsk"]}], "invoice")
    assert got["contractor.city"][0] == "invoice_city"
    # a bare party word holding codes points at the party's record: its id
    got = _top([{"name": "firma", "samples": ["code:NOVAK", "code:STAVBY-JIH"]},
                {"name": "varSym", "samples": ["2024145", "2024146"]}],
               [{"name": "PartnerId", "samples": [2561021, 2561044]}], "invoice")
    assert got["PartnerId"][0] == "firma"
    # the date of the taxable supply is its own date
    got = _top([{"name": "datVyst", "samples": ["2024-10-01+02:00", "2024-10-03+02:00"]},
                {"name": "duzpPuv", "samples": ["2024-10-01+02:00", "2024-09-30+02:00"]}],
               [{"name": "DateOfTaxing", "label": "Datum zdanitelného plnění", "samples": ["2024-10-01", "2024-09-30"]},
                {"name": "DateOfIssue", "samples": ["2024-10-01", "2024-10-03"]}], "invoice")
    assert got["DateOfTaxing"][0] == "duzpPuv" and got["DateOfIssue"][0] == "datVyst"
    # a target document's number, when mapped, is the source document's own (still below 0.5)
    got = _top([{"name": "kod", "samples": ["FV-0145/2024", "FV-0146/2024"]},
                {"name": "varSym", "samples": ["2024145", "2024146"]}],
               [{"name": "DocumentNumber", "samples": ["20240145", "20240146"]}], "invoice")
    assert got["DocumentNumber"][0] == "kod" and got["DocumentNumber"][1] < 0.5


@pytest.mark.parametrize("a,b", [("Számlaszám", "invoice_number"), ("Vevő neve", "customer_name"),
                                 ("Irányítószám", "zip"), ("Fizetési határidő", "due_date"), ("Egységár", "unit_price"),
                                 ("Dátum splatnosti", "due_date"), ("Priezvisko", "last_name"), ("Količina", "quantity"),
                                 ("Broj računa", "invoice_number"), ("Poštanski broj", "postcode"), ("Käibemaks", "tax"),
                                 ("Kliendi nimi", "customer_name"), ("Arve kuupäev", "invoice_date"),
                                 ("pelatis.afm", "customer.vat_number"), ("posotita", "qty"), ("Eponymo", "last_name")])
def test_hungarian_slovak_croatian_estonian_and_greek_names(a: str, b: str) -> None:
    assert name_similarity(parse_name(a), parse_name(b)) >= 0.7


def test_top_three_keeps_a_source_the_assignment_gave_elsewhere() -> None:
    # both targets look like "email": the one-to-one assignment gives it to one of them, the
    # other still lists it (below 0.5: it is taken) so that a reviewer sees the alternative
    s = parse_schema({"system": "a", "entity": "customer", "fields": [
        {"name": "email", "samples": ["a@b.de", "c@d.fr"]}, {"name": "note", "samples": ["call after 5", "VIP"]}]})
    t = parse_schema({"system": "b", "entity": "contact", "fields": [
        {"name": "E-Mail", "samples": ["x@y.de", "c@d.fr"]}, {"name": "ContactMail", "samples": ["x@y.de", "a@b.de"]}]})
    out = {e["target"]: e["candidates"] for e in suggest(s, t)["suggestions"]}
    confident = [tg for tg, cands in out.items() if cands[0]["source"] == "email" and cands[0]["confidence"] >= 0.5]
    assert len(confident) == 1
    other = out["E-Mail" if confident == ["ContactMail"] else "ContactMail"]
    assert "email" in [c["source"] for c in other] and all(c["confidence"] < 0.5 for c in other)


def _best(src: list[dict], src_entity: str, tgt: list[dict], tgt_entity: str) -> dict[str, tuple[str, float]]:
    s = parse_schema({"system": "a", "entity": src_entity, "fields": src})
    t = parse_schema({"system": "b", "entity": tgt_entity, "fields": tgt})
    return {e["target"]: (e["candidates"][0]["source"], e["candidates"][0]["confidence"])
            for e in suggest(s, t)["suggestions"]}


def test_rules_added_in_round_7() -> None:
    # a leaf that only points into its parent carries the parent's meaning: the code of a mode,
    # the amount of a quantity, a bare "with tax" of a cost
    assert name_similarity(parse_name("deliveryMode.code"), parse_name("Modo de expedição")) >= 0.7
    assert name_similarity(parse_name("paymentInfo.cardType.code"), parse_name("ModoPag")) >= 0.7
    assert name_similarity(parse_name("lines.orderLineQuantity.amount"), parse_name("Quantity")) >= 0.7
    assert parse_name("cost.withTax").leaf == {"COST", "GROSS"}
    order = [{"name": "orderTotal.withoutTax", "samples": [7555, 3857]},
             {"name": "orderTotal.withTax", "samples": [8990, 4590]},
             {"name": "paymentMethod.code", "samples": ["card", "paypal"]},
             {"name": "shippingMethod.code", "samples": ["standard", "express"]},
             {"name": "lines.sku", "samples": ["A-1", "B-2"]},
             {"name": "billing.name", "samples": ["Ana Lima", "Rui Sá"]},
             {"name": "delivery.name", "samples": ["Ana Lima", "Rui Sá"]},
             {"name": "number", "samples": ["1001", "1002"]}]
    # in a carrier's shipment: cash on delivery is the gross total, the "product" or "service"
    # is the shipping method, the receiver is the delivery party, a bare reference the order's
    got = _best(order, "order", [{"name": "cod.amount", "label": "Kwota pobrania"},
                                 {"name": "service", "samples": ["locker", "courier"]},
                                 {"name": "receiver.name", "samples": ["Ana Lima", "Rui Sá"]},
                                 {"name": "reference"}], "shipment")
    assert got["cod.amount"][0] == "orderTotal.withTax"
    assert got["service"][0] == "shippingMethod.code" and got["service"][1] >= 0.5
    assert got["receiver.name"][0] == "delivery.name"
    assert got["reference"][0] == "number"
    # a code written inside the other side's values ("mr-" prefix, a header text) is evidence
    got = _best([{"name": "ListName", "samples": ["Dealer tier A", "OEM contract 2024"]},
                 {"name": "ListCode", "samples": ["DEALER-A", "OEM-2024"]}], "price list",
                [{"name": "relation", "samples": ["mr-dealer-a", "mr-oem-2024"]}], "price")
    assert got["relation"][0] == "ListCode"
    # a product family is a category; general words of other languages
    got = _best([{"name": "identifier", "samples": ["10042-GRN", "20110"]},
                 {"name": "family", "samples": ["kitchen_textiles", "cookware"]}], "product",
                [{"name": "articleGroup.code", "label": "Artikelgrupp", "samples": ["TEXTIL", "KOK"]},
                 {"name": "articleNumber", "samples": ["10042-GRN", "20110"]}], "artikel")
    assert got["articleGroup.code"][0] == "family"
    for a, b in (("Nombre comercial", "company_name"), ("cargoCompany", "carrier"), ("expenseTotal", "cost"),
                 ("fulfillable_quantity", "available_quantity"), ("Code produit", "sku")):
        assert name_similarity(parse_name(a), parse_name(b)) >= 0.5, (a, b)
