"""Parcel, shipping-service, payment-method and cash-on-delivery words across the lexicon's
languages (merged into :data:`pipelines.ai.suggest.lexicon.LEXICON`), plus dimension and
tracking words the per-language modules lacked.

These came in round 7 (see ``docs/ai.md``): carriers' booking and label APIs (a parcel, its
recipient, the carrier's service or product, the amount to collect on delivery) and the ways a
payment is made, in EN, DE, FR, IT, ES, PT, NL, PL, CS, SK, SV, DA, NO, FI, RO, TR, HU, HR, ET.
General vocabulary, not the names of one pair: a parcel's recipient (``receiver``,
``destinataire``, ``vastaanottaja``) is the delivery party in a shipment schema (:mod:`.context`),
a carrier's service is a concept of its own (``service``, ``Usługa``, ``Serviciu``,
``Dienstleistung``) which a shipment schema also reads in a header ``product``, and cash on
delivery (``Nachnahme``, ``contrassegno``, ``pobranie``, ``dobírka``, ``ramburs``, ``efterkrav``)
is the amount the carrier collects: the order's gross total.

Written as the words are spelled; the lexicon folds them like field names (accents dropped).
"""

from __future__ import annotations

__all__ = ["COMPOSITES", "TERMS"]

# concept: words in any of the lexicon's languages (the "|" only groups them for the reader)
TERMS: dict[str, str] = {
    # a parcel's recipient: the delivery party in a shipment schema (:mod:`.context`), while an
    # invoice's "recipient" is the billed party
    "RECIPIENT": "recipient recipients receiver receivers addressee destinataire destinatar vastaanottaja cimzett "
                 "primatelj prijemca saaja",
    # a parcel (package, consignment) is a thing shipped, not a party
    "PARCEL": "parcel parcels package packages colis paket pakete collo colli bulto paquete pacote paczka paczki "
              "balik balík koli paketti csomag pakk consignment waybill etiquette paketschein",
    "DELIVERY": "cargo expedicao expedição expedicion expedición envoi remessa zásilka zásilky försändelse gönderi "
                "gonderi küldemény pošiljka saadetis sendung zending",
    "SKU": "produit produits výrobek",
    # a carrier's service (product) and the provider of a service
    "SERVICE": "service services servicio servicios servizio servizi serviço serviços usluga usługa usługi "
               "serviciu servicii hizmet hizmeti palvelu szolgáltatás dienst dienstleistung dienstleister tjeneste "
               "tjänst služba sluzba teenus",
    # the amount a carrier collects on delivery
    "COD": "nachnahme contrassegno rembours contrerembours contrareembolso pobranie pobrania dobírka "
           "dobirka dobierka ramburs postoppkrav efterkrav postförskott jälkivaatimus utánvét pouzeće lunamaks",
    "METHOD": "modo modalidad",
    "PAYMENT": "pag",
    "CARRIER": "taşıyıcı tasiyici fragtfirma",
    "CATEGORY": "grupp grupo gruppo grupa skupina ryhmä grup csoport",
    "DEPTH": "hossz hosszúság duljina pikkus",
    "WIDTH": "szélesség širina laius",
    "HEIGHT": "magasság visina kõrgus",
    "TRACKING": "śledzenie sledzenie sledování spårning sporing urmărire nyomkövetés praćenje jälgimine",
    "NOTE": "notas anmerkning merknad",
    "REFERENCE": "referencja",
    # warehouse words: what can be shipped or sold is the available stock; an expense is a cost
    "STOCK": "fulfillable sellable",
    "COST": "expense expenses",
}

#: one word (or words written together) that stands for two concepts
COMPOSITES: dict[str, str] = {
    "cashondelivery": "COD", "collectondelivery": "COD", "kapıdaödeme": "COD", "codamount": "COD AMOUNT",
    "shippingagent": "CARRIER", "cargocompany": "CARRIER", "shippingprovider": "CARRIER",
    "shippingcarrier": "CARRIER", "versanddienstleister": "CARRIER", "deliveryservice": "CARRIER METHOD",
    "shippingservice": "CARRIER METHOD", "zahlungsart": "PAYMENT METHOD", "betaalwijze": "PAYMENT METHOD",
    "cardtype": "PAYMENT METHOD", "cardbrand": "PAYMENT METHOD", "paymentmethod": "PAYMENT METHOD",
    "nombrecomercial": "COMPANY NAME", "nomecomercial": "COMPANY NAME", "nomcommercial": "COMPANY NAME",
    "nomecommerciale": "COMPANY NAME", "handelsname": "COMPANY NAME", "handelsnaam": "COMPANY NAME",
    "nazwahandlowa": "COMPANY NAME", "obchodninazev": "COMPANY NAME", "obchodnijmeno": "COMPANY NAME",
    "ticariunvan": "COMPANY NAME", "toiminimi": "COMPANY NAME", "firmanamn": "COMPANY NAME",
    "articlegroup": "CATEGORY", "itemgroup": "CATEGORY", "productgroup": "CATEGORY", "artikelgruppe": "CATEGORY",
    "artikelgrupp": "CATEGORY", "produktgruppe": "CATEGORY", "productfamily": "CATEGORY",
    "withtax": "GROSS TAX", "withvat": "GROSS TAX", "withouttax": "NET TAX", "withoutvat": "NET TAX",
    "koptekst": "DESCRIPTION", "kopftext": "DESCRIPTION", "headertext": "DESCRIPTION",
    "postanskibroj": "ZIP", "poštanskibroj": "ZIP",
}
