"""Slovenian field-name words of shops and ERPs, and gaps round 7 found in the other languages'
vocabulary (merged into :data:`pipelines.ai.suggest.lexicon.LEXICON`).

Slovenian came in round 7 before any pair in it was seen: the basic words of orders, invoices,
customers, addresses, amounts, tax, dates, items and stock (``naročilo``, ``račun``, ``stranka``,
``naslov``, ``znesek``, ``DDV``, ``rok plačila``, ``količina``, ``enota``, ``zaloga``). The gaps
are words of the brief's commerce vocabulary that a check of each language's list showed
missing: house numbers (``numero civico``, ``huisnummer``, ``husnummer``, ``talonumero``,
``házszám``, ``kućni broj``), Danish and Norwegian due dates, Portuguese ``apelido``, Swedish
``gatan``, product codes (``šifra artikla``, ``tootekood``, ``katalogové číslo``).

Written as the words are spelled; the lexicon folds them like field names (accents dropped).
"""

from __future__ import annotations

__all__ = ["COMPOSITES", "GAPS", "TERMS"]

# concept: Slovenian | other languages
TERMS: dict[str, str] = {
    "ORDER": "naročilo naročila naročilnica",
    "INVOICE": "računa računi",
    "CUSTOMER": "stranka stranke kupec kupca naročnik naročnika",
    "SUPPLIER": "dobavitelj dobavitelja",
    "ADDRESS": "naslov naslova",
    "STREET": "| gatan gatuadress",
    "DELIVERY": "dobava dobave odprema",
    "AMOUNT": "znesek zneska",
    "TOTAL": "skupaj skupno",
    "NET": "brez",
    "TAX": "ddv davek davka",
    "RATE": "stopnja",
    "PAYMENT": "plačilo plačila",
    "UNIT": "enota enote",
    "WEIGHT": "teža",
    "SKU": "izdelek izdelka",
    "ID": "šifra koda",
    "STOCK": "zaloga zaloge",
    "WAREHOUSE": "skladišče skladišča",
    "NOTE": "opomba opombe | anmärkning",
    "COMPANY": "podjetje podjetja",
    "DATE": "datuma",
    "NUMBER": "številka številke",
}

# round 7's gaps in every language: concepts of their own that field names carry (an image, a
# transaction, a refund, a return, the seller, a reason, a shop, a volume, a cancellation, a
# posting, the origin, customs, a lot, a gift), and words of known concepts (a payment condition,
# a fee, an identifier, an observation, a payer, a variant, a storage bin, shipped/invoiced)
GAPS: dict[str, str] = {
    "IMAGE": "image images img picture pictures photo photos foto fotos bild bilder afbeelding afbeeldingen "
             "immagine immagini imagen imagenes imagem imagens zdjęcie zdjecia obrázek obrazek kuva kuvat resim "
             "kép kep pilt slika thumbnail",
    "TRANSACTION": "transaction transactions transaktion transaktionen transakce transakcja transacción transaccion "
                   "transazione transactie tapahtuma işlem islem tranzacție tranzacția tranzakció txn",
    "REFUND": "refund refunds refunded erstattung rückerstattung gutschrift remboursement rimborso reembolso "
              "terugbetaling zwrotpieniedzy återbetalning refusion refusjon hyvitys rambursare iade visszatérítés",
    "RETURN": "return returns retour retouren reso devolución devolucion devolução devolucao zwrot retur vrácení "
              "palautus returnare",
    "SELLER": "seller sellers merchant merchants verkäufer händler vendeur marchand venditore vendedor verkoper "
              "sprzedawca säljare sælger selger prodejce myyjä vânzător satıcı satici eladó",
    "REASON": "reason reasons grund raison motivo motivos reden powód powod anledning årsag årsak důvod syy motiv "
              "sebep ok",
    "SHOP": "shop shops store stores storefront webshop loja tienda negozio winkel sklep butik obchod kauppa "
            "mağaza magaza webáruház pood",
    "VOLUME": "volume volumen volym objem tilavuus hacim térfogat",
    "TERMS": "condition betalingsconditie betalingsbetingelse betalingsbetingelser zahlungsbedingung warunki "
             "villkor betingelser podmínky ehdot koşul",
    "COST": "fee fees charge charges gebühr gebuehr gebühren opłata oplata avgift gebyr poplatek ücret ucret díj "
            "frais spese gasto gastos kulut ücreti ucreti",
    "ID": "guid uuid identifiant identyfikator identifikátor tunniste identificador identificativo anahtar anahtarı",
    "NOTE": "observation observations observacion observaciones observação observacao observações observacoes "
            "observații observatii observatie",
    "DESCRIPTION": "tekst teksti szöveg concepto",
    "CUSTOMER": "kontakt kontakty consumer payer platitor plătitor zahler payeur pagador betaler płatnik",
    "QUANTITY": "kvantitet stuk stuks",
    "GROSS": "included inclus inclu incluido incluso inbegrepen",
    "SKU": "variant variants variante wariant varianta variantti varyant asin",
    "CATEGORY": "classification klasa",
    "PAYMENT": "tahsilat incasso",
    "DELIVERY": "fulfillment fulfilment shipped fulfilled lever verzend teslim przesyłki przesylki",
    "TRACKING": "trackandtrace sledovací sledovaci",
    "NAME": "lib",
    "AMOUNT": "cuota",
    # events and documents of an order's life, costs and places, in English and the shop languages
    "CANCEL": "cancel cancelled canceled cancellation storno stornierung storniert annulation annule annullato "
              "anulado anulacion anulación geannuleerd anulowane zrušeno peruttu iptal anulat",
    "POSTING": "posting posted booked buchung buchungs gebucht accounting comptabilisation contabilizzazione "
               "contabilizacion boeking",
    "ORIGIN": "origin origine origen herkunft ursprung pochodzenie původ alkupera mensei",
    "CUSTOMS": "customs hs harmonized hscode tariff intrastat zoll zolltarif douane dogana aduana",
    "LOT": "lot lots batch batches lote chargennummer",
    "GIFT": "gift giftcard geschenk cadeau regalo presente prezent",
    "WAREHOUSE": "bin aisle shelf lagerplatz regal stellplatz emplacement ubicacion ubicación ubicazione",
    "PARCEL": "packaging pallet pallets palette",
    "SEO": "handle",
    "INVOICE": "invoiced facturation",
    "ORDER": "bestell bestel",
    "COMPANY": "firmy",
    "DUE": "scadentei scadenței",
    "UNIT": "jednotková jednotkova",
}


#: one word (or words written together) that stands for two concepts
COMPOSITES: dict[str, str] = {
    "priimek": "LAST NAME", "apelido": "LAST NAME", "poštnaštevilka": "ZIP", "davčnaštevilka": "VAT",
    "davčna": "VAT", "rokplačila": "DUE DATE", "datumzapadlosti": "DUE DATE", "enotamere": "UNIT",
    "forfaldsdato": "DUE DATE", "forfallsdato": "DUE DATE", "forfallsdatum": "DUE DATE",
    "numerocivico": "STREET NUMBER", "civico": "STREET NUMBER", "huisnummer": "STREET NUMBER",
    "husnummer": "STREET NUMBER", "talonumero": "STREET NUMBER", "házszám": "STREET NUMBER",
    "hišnaštevilka": "STREET NUMBER", "kućnibroj": "STREET NUMBER", "číslopopisné": "STREET NUMBER",
    "nrdomu": "STREET NUMBER", "numerdomu": "STREET NUMBER", "kapıno": "STREET NUMBER",
    "lieferschein": "DELIVERY DOCUMENT", "styckpris": "PRICE UNIT", "dopravné": "DELIVERY COST",
    "fraisport": "DELIVERY COST", "baseimponible": "NET AMOUNT", "imponible": "NET AMOUNT",
    "základdaně": "NET AMOUNT", "compareatprice": "LIST PRICE", "moq": "MIN QUANTITY",
    "bestbefore": "UNTIL DATE", "zahlungseingang": "PAYMENT",
    "zahlungsweise": "PAYMENT METHOD", "zahlungsziel": "DUE DATE", "betalingsfrist": "DUE DATE",
    "šifraartikla": "SKU ID", "tootekood": "SKU ID", "katalogovéčíslo": "SKU NUMBER", "črtnakoda": "EAN",
}
