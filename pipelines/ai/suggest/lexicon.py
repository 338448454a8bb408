"""The concept lexicon: field-name words of shops and ERPs in English, German and French, with
their abbreviations, plus Italian, Spanish and Dutch (:mod:`.lexicon_it_es_nl`) and Portuguese,
Polish, Swedish, Danish, Norwegian and Czech (:mod:`.lexicon_pt_pl_nordic_cs`), Finnish,
Romanian and Turkish (:mod:`.lexicon_fi_ro_tr`) and Hungarian, Slovak, Croatian, Estonian and
Greek in Latin letters (:mod:`.lexicon_hu_sk_hr_et_el`), Slovenian and round 7's gaps
(:mod:`.lexicon_sl_gaps`), parcel, service and payment words (:mod:`.lexicon_parcels`), each mapped to
concept ids (``"vorname" -> FIRST NAME``).

A term is stored folded by :func:`fold` (lower case, umlauts as ae/oe/ue, accents and strokes
removed) with separators dropped: ``"e-mail"`` is ``"email"``, ``"code postal"`` is
``"codepostal"``; field names are folded the same way before lookup. :data:`WEIGHT` lowers the
concepts that occur in many field names (an id, a number, a name) so that two fields sharing
only "number" are not taken for a match.
"""

from __future__ import annotations

import unicodedata

from pipelines.ai.suggest import (
    lexicon_fi_ro_tr,
    lexicon_hu_sk_hr_et_el,
    lexicon_it_es_nl,
    lexicon_parcels,
    lexicon_pt_pl_nordic_cs,
    lexicon_sl_gaps,
)

__all__ = ["LEXICON", "PARENT_RELATED", "RELATED", "WEIGHT", "fold", "terms"]

# letters NFKD does not decompose (Polish l with stroke, Danish o with stroke, ligatures)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ł": "l",
                       "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "đ": "d", "Đ": "D", "œ": "oe",
                       "ı": "i", "İ": "I"})


_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "Ä": "A", "Ö": "O", "Ü": "U"})


def _spellings(term: str) -> tuple[str, ...]:
    """A term as stored: folded, and for Nordic words also with plain vowels, as exports without
    diacritics write them (``höjd`` is ``hoejd`` and ``hojd``)."""
    folded = fold(term).lower()
    plain = fold(term.translate(_PLAIN)).lower()
    return (folded, plain) if plain != folded else (folded,)


def fold(text: str) -> str:
    """Umlauts spelled out, accents and strokes removed (``Straße`` -> ``Strasse``, ``Ilość`` ->
    ``Ilosc``, ``Højde`` -> ``Hojde``); case is kept (camelCase splitting needs it)."""
    text = text.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))

# concept: terms (EN, DE, FR, abbreviations); a term may stand for several concepts ("FIRST NAME")
_RAW: dict[str, str] = {
    "CUSTOMER": "customer customers cust cst client clients kunde kunden kd kdn debitor debitoren debtor "
                "buyer acheteur shopper account accounts acct partner bp businesspartner card cardcode tiers "
                "soldto selltocustomer contact contractor",
    "ORDER": "order orders ord bestellung bestellungen auftrag auftraege commande commandes cde so salesorder "
             "purchase vente sales sale verkauf",
    "INVOICE": "invoice invoices inv rechnung rechnungen re facture factures fact billing bill billed faktura",
    "DELIVERY": "delivery deliveries shipping shipment ship shipto lieferung liefer versand livraison expedition "
                "dispatch deliver freight destination consignee empfaenger "
                "warenempfaenger ontvanger geadresseerde prijemce mottagare modtager mottaker",
    "ADDRESS": "address addresses addr adresse adressen anschrift",
    "STREET": "street str strasse rue line1 address1 adresszeile1 voie streetaddress",
    "STREET2": "street2 line2 address2 adresszeile2 complement addresscomplement adresszusatz zusatz suite "
               "building batiment gebaeude apartment apt appartement wohnung floor etage",
    "CITY": "city town ort stadt ville localite locality wohnort commune",
    "ZIP": "zip zipcode postcode postalcode postal plz postleitzahl codepostal cp npa",
    "COUNTRY": "country countries land pays laender countrycode iso",
    "REGION": "region state province bundesland departement county canton provinz",
    "PHONE": "phone telephone tel telefon fon telefonnummer tele phonenumber",
    "MOBILE": "mobile cell cellphone handy mobil portable gsm mobiltelefon",
    "FAX": "fax telefax telecopie",
    "EMAIL": "email mail emailaddress courriel mel adresseemail emailadresse mailadresse",
    "NAME": "name names nom bezeichnung designation libelle label title titel intitule full fullname",
    "FIRST": "first firstname vorname prenom given givenname forename",
    "LAST": "last lastname nachname familienname surname family familyname nomdefamille",
    "COMPANY": "company firma unternehmen societe entreprise organisation organization org raisonsociale "
               "companyname firmenname business corporate corporation",
    "VAT": "vat vatnumber ustid ustidnr ustidnummer umsatzsteuerid tva tvaintracom taxid taxnumber steuernummer "
           "siret siren uid",
    "TAX": "tax taxes steuer mwst ust taxe tva vat taxamount steuerbetrag",
    "CURRENCY": "currency currencies curr ccy cur waehrung devise monnaie currencycode",
    "AMOUNT": "amount amt betrag montant sum summe somme value wert valeur umsatz",
    "TOTAL": "total totals gesamt gesamtbetrag grandtotal doctotal endbetrag totalpaid",
    "NET": "net netto ht nettobetrag subtotal untaxed excl exclusive excluding exkl ex hors",
    "GROSS": "gross brutto ttc bruttobetrag incl inc inclusive including inkl",
    "PRICE": "price prices preis prix pricing vk vkpreis verkaufspreis unitprice einzelpreis pu tarif",
    "COST": "cost costs kosten cout ek einkaufspreis purchaseprice prixachat",
    "QUANTITY": "quantity qty quantities menge anzahl quantite qte qt count stueck stk pieces pcs nb units",
    "DISCOUNT": "discount discounts rabatt remise reduction nachlass skonto voucher coupon",
    "DATE": "date datum dt day tag jour on at",
    "CREATED": "created creation create erstellt angelegt anlage creation cree add added placed issue issued "
               "emission emis ausgestellt",
    "UPDATED": "updated update modified modification changed geaendert aenderung modifie maj upd lastmodified",
    "DUE": "due faellig faelligkeit echeance deadline limite payby",
    "BIRTH": "birth birthday birthdate dob geburtstag geburtsdatum naissance datedenaissance born",
    "NUMBER": "number no nr num nummer numero n nbr folio",
    "DOCUMENT": "document documents doc dokument dokumentu dokumenty documento documentos documenten",
    "ID": "id ids identifier key schluessel cle code symbol",
    "REFERENCE": "reference ref referenz ref external extern externe beleg externalreference yourref customerref externaldocumentno numatcard "
                 "purchaseordernumber",
    "SKU": "sku item items article artikel produkt product products prod itemid itemcode articlecode "
           "artikelnummer artnr reference material matnr offer offers model mpn",
    "DESCRIPTION": "description desc beschreibung descriptif details detail text texte body longtext langtext",
    "SHORT": "short kurz court summary resume kurzbeschreibung",
    "WEIGHT": "weight gewicht poids wt kg grams",
    "EAN": "ean gtin barcode upc ean13 codebarre codebarres strichcode isbn",
    "STOCK": "stock inventory onhand bestand lager lagerbestand inventaire disponible available availability "
             "verfuegbar instock qtyonhand",
    "WAREHOUSE": "warehouse lager lagerort depot entrepot location site magasin",
    "STATUS": "status state zustand statut etat stage",
    "PAYMENT": "payment payments zahlung paiement reglement paid bezahlt paye payed gateway",
    "METHOD": "method methode art mode type typ",
    "CARRIER": "carrier spediteur transporteur versandart shippingmethod courier",
    "TRACKING": "tracking trackingnumber sendungsnummer suivi numerodesuivi trackingcode",
    "NOTE": "note notes comment comments bemerkung kommentar remarque commentaire memo message notiz narration "
            "remarks remark anmerkung freitext",
    "LANGUAGE": "language lang sprache langue locale",
    "ACTIVE": "active enabled aktiv actif visible published online enable",
    "GENDER": "gender salutation anrede civilite title geschlecht sexe honorific",
    "WEBSITE": "website web url homepage site siteweb link",
    "IBAN": "iban bankaccount konto kontonummer compte rib",
    "BIC": "bic swift bankcode blz",
    "BANK": "bank banque",
    "LINE": "line lines position positionen pos row rows zeile zeilen ligne lignes item items detail details "
            "lineitems orderlines salesline products articles",
    "UNIT": "unit einheit unite uom mengeneinheit masseinheit unitofmeasure",
    "CATEGORY": "category categories kategorie warengruppe categorie famille group gruppe groupe class",
    "BRAND": "brand manufacturer hersteller marke fabricant marque vendor",
    "SUPPLIER": "supplier lieferant fournisseur vendor kreditor",
    "NEWSLETTER": "newsletter optin marketing subscribed abonniert",
    "OPTOUT": "optout unsubscribed abgemeldet desinscrit",
    "PASSWORD": "password passwort motdepasse pwd",
    "TIME": "time zeit heure timestamp",
    "TERMS": "terms bedingungen conditions zahlungsbedingungen paymentterms",
    "HEIGHT": "height hoehe hauteur",
    "WIDTH": "width breite largeur",
    "DEPTH": "depth length tiefe laenge profondeur longueur",
    "COLOR": "color colour farbe couleur",
    "SIZE": "size groesse taille",
    # a rate or share: a tax rate is not a price
    "RATE": "rate rates satz taux percent percentage pct prozent pourcentage",
    # the regular (list) price, as opposed to a sale price
    "LIST": "regular list listprice msrp uvp",
    # validity periods ("Gültig ab/bis", validFrom/validUntil, "valable du/au")
    "VALID": "valid validity gueltig gueltigkeit valable validite valido validez geldig geldigheid giltig gyldig",
    "FROM": "from ab since start starts begin beginning debut desde dal vanaf fran fra od",
    "UNTIL": "until till bis end ends ending expiry expires expiration fin hasta tot til",
    "CHANNEL": "channel channels vertriebsweg vertriebskanal kanal canal canale distribution",
    "TIER": "tier tiers staffel staffeln scale palier tranche scaglione tramo",
    "RESERVED": "reserved reservation allocated allocation reserviert reserve reservee committed",
    "MIN": "min minimum minimal mindest minimo",
    "MAX": "max maximum maximal hoechst maximo",
    "BALANCE": "balance outstanding restbetrag offen solde saldo openstaand",
    "DISTRICT": "district neighbourhood neighborhood suburb quartier ortsteil stadtteil barrio colonia wijk",
    "LOGIN": "login username user nickname nick benutzer benutzername pseudo",
    "TAG": "tag tags labels keywords schlagworte etichette etiquetas",
    # round 5: an exchange rate is not a tax or discount rate; a company register number is not
    # a VAT number (Czech IČO vs DIČ, Polish REGON vs NIP); bookkeeping sides; a private person
    "EXCHANGE": "exchange wechselkurs kurs fx cambio wisselkoers valutakurs",
    "REGISTRATION": "registration regnr registernummer handelsregister hrb companynumber regon krs kvk ico siren",
    "DEBIT": "debit debet",
    "CREDIT": "credit kredit",
    "PERSON": "person private privat privatperson individual particulier privato",
    # round 6: a parcel's sender (the shop's warehouse) is not its recipient (the delivery party)
    "SENDER": "sender shipper shipfrom absender versender expediteur mittente remitente afzender nadawca "
              "odesilatel remetente avsandare avsender afsender",
    # round 6: the date of the taxable supply (Czech DUZP, German Leistungsdatum, UK tax point)
    # is neither the issue date nor the due date, though it often falls on the issue day
    "SUPPLY": "supply taxpoint taxing duzp plneni zdanitelneho teljesites",
    # search-engine texts of a product page: not its name or description
    "SEO": "meta seo metatitle metadescription metakeywords slug",
}

LEXICON: dict[str, tuple[str, ...]] = {}
for _concept, _terms in [*_RAW.items(), *lexicon_it_es_nl.TERMS.items(), *lexicon_pt_pl_nordic_cs.TERMS.items(),
                         *lexicon_fi_ro_tr.TERMS.items(), *lexicon_hu_sk_hr_et_el.TERMS.items(),
                         *lexicon_parcels.TERMS.items(), *lexicon_sl_gaps.TERMS.items(),
                         *lexicon_sl_gaps.GAPS.items()]:
    for _t in dict.fromkeys(x for t in _terms.replace("|", " ").split() for x in _spellings(t)):
        if _concept not in LEXICON.get(_t, ()):
            LEXICON[_t] = (*LEXICON.get(_t, ()), _concept)

# composite terms: one word that stands for two concepts
for _term, _concepts in {
    "vorname": "FIRST NAME", "prenom": "FIRST NAME", "firstname": "FIRST NAME", "givenname": "FIRST NAME",
    "nachname": "LAST NAME", "familienname": "LAST NAME", "surname": "LAST NAME", "lastname": "LAST NAME",
    "nomdefamille": "LAST NAME", "kundennummer": "CUSTOMER NUMBER", "kdnr": "CUSTOMER NUMBER",
    "custno": "CUSTOMER NUMBER", "debitorennummer": "CUSTOMER NUMBER", "cardcode": "CUSTOMER ID",
    "rechnungsnummer": "INVOICE NUMBER", "renr": "INVOICE NUMBER", "bestellnummer": "ORDER NUMBER",
    "auftragsnummer": "ORDER NUMBER", "artnr": "SKU NUMBER", "artikelnummer": "SKU NUMBER",
    "itemid": "SKU ID", "rechnungsadresse": "INVOICE ADDRESS", "lieferadresse": "DELIVERY ADDRESS",
    "unitprice": "PRICE UNIT", "einzelpreis": "PRICE UNIT", "prixunitaire": "PRICE UNIT",
    "vkpreis": "PRICE", "verkaufspreis": "PRICE", "totalpaid": "TOTAL PAYMENT",
    "doctotal": "TOTAL", "grandtotal": "TOTAL", "geburtsdatum": "BIRTH DATE", "datedenaissance": "BIRTH DATE",
    "dob": "BIRTH DATE", "lagerbestand": "STOCK", "qtyonhand": "STOCK QUANTITY", "mwst": "TAX",
    "ustidnr": "VAT", "numatcard": "REFERENCE", "trackingnumber": "TRACKING NUMBER",
    "sendungsnummer": "TRACKING NUMBER", "telefonnummer": "PHONE", "phonenumber": "PHONE",
    "emailadresse": "EMAIL", "mailadresse": "EMAIL", "emailaddress": "EMAIL", "codepostal": "ZIP",
    "postleitzahl": "ZIP", "zipcode": "ZIP", "postalcode": "ZIP", "countrycode": "COUNTRY",
    "currencycode": "CURRENCY", "companyname": "COMPANY", "firmenname": "COMPANY", "raisonsociale": "COMPANY",
    "faelligkeitsdatum": "DUE DATE", "kurzbeschreibung": "SHORT DESCRIPTION", "paymentterms": "TERMS PAYMENT",
    "zahlungsbedingungen": "TERMS PAYMENT", "shippingmethod": "CARRIER METHOD", "versandart": "CARRIER METHOD",
    "mobiltelefon": "MOBILE", "nettobetrag": "NET AMOUNT", "bruttobetrag": "GROSS AMOUNT",
    "steuerbetrag": "TAX AMOUNT", "taxamount": "TAX AMOUNT", "gesamtbetrag": "TOTAL AMOUNT",
    "endbetrag": "TOTAL AMOUNT", "lastmodified": "UPDATED DATE", "selltocustomer": "CUSTOMER",
    "externaldocumentno": "REFERENCE", "purchaseordernumber": "REFERENCE ORDER", "salesorder": "ORDER",
    "salesline": "LINE", "orderlines": "LINE", "lineitems": "LINE", "einkaufspreis": "COST PRICE",
    "unitamount": "PRICE UNIT", "firstline": "STREET", "entityid": "ID", "incrementid": "ORDER NUMBER",
    "fraisdeport": "DELIVERY COST", "belegfeld": "REFERENCE NUMBER", "steuersatz": "TAX RATE",
    "mwstsatz": "TAX RATE", "saleprice": "DISCOUNT PRICE", "basismengeneinheit": "UNIT",
    "denominazione": "COMPANY NAME", "validfrom": "VALID FROM", "validto": "VALID UNTIL",
    "addressline": "STREET", "addressline1": "STREET", "businessname": "COMPANY NAME", "tradename": "COMPANY NAME",
    "exchangerate": "EXCHANGE RATE", "companyid": "REGISTRATION", "registrationnumber": "REGISTRATION",
    "textline": "NOTE", "textline1": "NOTE", "textline2": "NOTE", "textzeile": "NOTE", "vatid": "VAT",
    "addressline2": "STREET2", "hausnummer": "STREET NUMBER", "housenumber": "STREET NUMBER", "secondline": "STREET2", "prixachat": "COST PRICE", "prixdachat": "COST PRICE", "purchaseprice": "COST PRICE", "achat": "COST", "kontonummer": "IBAN",
    # the unit a quantity is counted in is a unit, not a quantity (D365's QuantityUnitSymbol)
    "quantityunit": "UNIT", "salesunit": "UNIT",
    # "Ship via" names the carrier (not an Italian street); a part number is an item number
    "leistungsdatum": "SUPPLY DATE", "shipvia": "CARRIER METHOD",
    # a tax class (WooCommerce, Magento, Shopware) names the tax code an item is taxed by
    "taxclass": "TAX ID", "steuerklasse": "TAX ID", "partnumber": "SKU NUMBER", "partno": "SKU NUMBER", "partnr": "SKU NUMBER",
}.items() | lexicon_it_es_nl.COMPOSITES.items() | lexicon_pt_pl_nordic_cs.COMPOSITES.items() \
        | lexicon_fi_ro_tr.COMPOSITES.items() | lexicon_hu_sk_hr_et_el.COMPOSITES.items() \
        | lexicon_parcels.COMPOSITES.items() | lexicon_sl_gaps.COMPOSITES.items():
    # (the item sets agree where they overlap: one term, one reading)
    for _t in _spellings(_term):
        LEXICON[_t] = tuple(_concepts.split())

#: concepts that many fields share weigh less in a match
WEIGHT: dict[str, float] = {"ID": 0.35, "NUMBER": 0.35, "NAME": 0.5, "DATE": 0.6, "CODE": 0.4, "AMOUNT": 0.6,
                            "TYPE": 0.4, "METHOD": 0.5, "CUSTOMER": 0.7, "ORDER": 0.6, "LINE": 0.6, "STATUS": 0.8,
                            "UNIT": 0.6, "LIST": 0.3, "DOCUMENT": 0.4}


#: concepts that are near each other: a share of a match when one side has one and the other the other
RELATED: dict[frozenset[str], float] = {frozenset(k.split()): v for k, v in {
    "STOCK QUANTITY": 0.6, "PRICE AMOUNT": 0.5, "TOTAL AMOUNT": 0.6, "NAME DESCRIPTION": 0.5, "ID NUMBER": 0.7,
    "ID REFERENCE": 0.4, "NUMBER REFERENCE": 0.5, "ADDRESS STREET": 0.6, "PHONE MOBILE": 0.5, "NAME COMPANY": 0.4,
    "NAME LAST": 0.4, "CREATED DATE": 0.5, "STATUS ACTIVE": 0.5, "PAYMENT STATUS": 0.4, "CUSTOMER COMPANY": 0.4,
    "SKU ID": 0.3, "COST AMOUNT": 0.4, "BALANCE DUE": 0.6, "DISTRICT CITY": 0.4, "LOGIN ID": 0.3,
    "BALANCE AMOUNT": 0.4, "NOTE DESCRIPTION": 0.5, "RATE TAX": 0.3, "VAT REGISTRATION": 0.4, "GROSS TOTAL": 0.5, "NET TOTAL": 0.3, "CARRIER DELIVERY": 0.5, "EMAIL WEBSITE": 0.2,
    # the amount collected on delivery is the order's total; a carrier's service is its method
    "COD TOTAL": 0.6, "SERVICE METHOD": 0.5, "SERVICE CARRIER": 0.5, "SERVICE DELIVERY": 0.4, "TRANSACTION PAYMENT": 0.4,
    "SHOP CHANNEL": 0.6, "SELLER SUPPLIER": 0.4,
}.items()}


#: parents (sections of a record) that name the same party: the customer is the one billed, so
#: a customer section (SnelStart's ``Relatie``, ``cliente``) is read from the billing section,
#: not from the delivery one
PARENT_RELATED: dict[frozenset[str], float] = {**RELATED, frozenset(("CUSTOMER", "INVOICE")): 0.6}


def terms() -> list[str]:
    """Every single-word term, longest first (for splitting compounds)."""
    return sorted(LEXICON, key=len, reverse=True)
