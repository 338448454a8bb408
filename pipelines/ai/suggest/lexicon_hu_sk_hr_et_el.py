"""Hungarian, Slovak, Croatian, Estonian and Greek (in Latin transliteration, as exports and
APIs write it: ``timologio``, ``pelatis``) field-name words of shops and ERPs, by concept (merged
into :data:`pipelines.ai.suggest.lexicon.LEXICON`): the basic commerce vocabulary of invoices,
orders, customers, items and stock.

Written as the words are spelled (``"számla"``, ``"odberateľ"``, ``"količina"``, ``"käibemaks"``):
the lexicon folds every term the way field names are folded (accents and carons dropped, ``ä`` ->
``ae`` and ``a``), so one spelling serves all. Inflected forms that field names use sit next to
the base form (Hungarian ``számlázási``, Croatian genitives ``računa``, Estonian ``kliendi``).

These came in round 6 (see ``docs/ai.md``), before any pair in these languages was seen: basic
commerce and accounting words, not a measured vocabulary. Words another language already uses
for another concept are left out (Slovak ``meno`` is a name, Czech ``měna`` a currency: ``mena``
keeps the Czech reading).
"""

from __future__ import annotations

__all__ = ["COMPOSITES", "TERMS"]

# concept: Hungarian | Slovak | Croatian | Estonian | Greek (Latin transliteration)
TERMS: dict[str, str] = {
    "CUSTOMER": "vevő vevőkód ügyfél ügyfelek megrendelő | zákazník zákazníka odberateľ odberateľa | kupac kupca "
                "klijent | klient kliendi ostja | pelatis pelati pelates",
    "ORDER": "rendelés rendelések megrendelés | objednávka objednávky | narudžba narudžbe narudzba | tellimus "
             "tellimuse müük | paraggelia paraggelias paragelia polisi",
    "INVOICE": "számla számlák számlázási | faktúra faktúry | račun računa | arve arved arvete | timologio "
               "timologiou parastatiko",
    "DELIVERY": "szállítás szállítási kiszállítás | doručenie dodanie dodacia | dostava isporuka | tarne "
                "kohaletoimetamine saatmine | apostoli paradosi",
    "ADDRESS": "cím címe | adresa | adresa | aadress | dieuthinsi diefthinsi",
    "STREET": "utca | ulica | ulica | tänav | odos",
    "CITY": "város település helység | mesto | grad mjesto | linn asula | poli",
    "ZIP": "irányítószám irsz | | poštanskibroj | postiindeks sihtnumber | tk",
    "COUNTRY": "ország | krajina | država zemlja | riik | chora",
    "REGION": "megye | | županija | maakond | nomos perifereia",
    "PHONE": "telefonszám | telefón | | | tilefono",
    "NAME": "név neve megnevezés | názov | naziv | nimetus | onoma",
    "COMPANY": "cég cégnév vállalat | spoločnosť | tvrtka poduzeće | ettevõte | etaireia",
    "VAT": "adószám | ičdph | oib | kmkr | afm",
    "REGISTRATION": "cégjegyzékszám | ičo | mbs | registrikood | gemi",
    "TAX": "adó áfa | daň | porez pdv | maks käibemaks | fpa foros",
    "CURRENCY": "pénznem deviza | | | valuuta | nomisma",
    "AMOUNT": "összeg | čiastka | iznos | | poso",
    "TOTAL": "összesen végösszeg | celkom spolu | ukupno | kokku | synolo synoliko",
    "NET": "nettó | | neto | neto | kathari katharo",
    "GROSS": "bruttó | | bruto | bruto | mikti",
    "PRICE": "egységár | | cijena | hind | timi",
    "COST": "költség beszerzési | náklady | trošak nabavna | kulu | kostos",
    "QUANTITY": "mennyiség darab | množstvo | količina | kogus | posotita",
    "DISCOUNT": "kedvezmény engedmény | zľava | popust | allahindlus soodustus | ekptosi",
    "DATE": "dátum kelte | dátum | | kuupäev | imerominia",
    "CREATED": "kiállítás kiállítási létrehozva | vystavenia vytvorené | izdavanja izdano | koostatud | "
               "ekdosis dimiourgia",
    "UPDATED": "módosítva | zmenené | izmijenjeno | muudetud | enimerosi",
    "DUE": "esedékesség határidő | splatnosť | dospijeće | tähtaeg maksetähtaeg | lixi",
    "BIRTH": "születési | narodenia | rođenja | sünniaeg | gennisis",
    "NUMBER": "szám sorszám | | broj | | arithmos",
    "ID": "azonosító kód | | šifra | kood | kodikos",
    "REFERENCE": "hivatkozás | | poziv | viitenumber | anafora",
    "SKU": "termék cikk | tovar | proizvod artikl | toode artikkel | eidos proion",
    "DESCRIPTION": "leírás | | opis | kirjeldus | perigrafi",
    "WEIGHT": "súly tömeg | hmotnosť | težina | kaal | baros",
    "EAN": "vonalkód | | barkod | ribakood | ",
    "STOCK": "készlet | zásoba zásoby | zaliha zalihe | laoseis | apothema",
    "WAREHOUSE": "raktár | | skladište | ladu | apothiki",
    "STATUS": "állapot státusz | | stanje | olek staatus | katastasi",
    "PAYMENT": "fizetés fizetési | platba úhrada | plaćanje | makse | pliromi",
    "METHOD": "| spôsob | način | viis | tropos",
    "CARRIER": "futár futárszolgálat | kuriér prepravca | kurir prijevoznik | kuller vedaja | metaforiki",
    "NOTE": "megjegyzés | poznámka | napomena | märkus | sxolia sxolio paratiriseis",
    "LINE": "tételek tétel | položky | stavke stavka | rida | ",
    "UNIT": "egység mértékegység | jednotka | jedinica | ühik | monada",
    "CATEGORY": "kategória | kategória | kategorija | kategooria | katigoria",
    "BRAND": "márka gyártó | značka výrobca | marka proizvođač | kaubamärk tootja | marka kataskevastis",
    "SUPPLIER": "beszállító | dodávateľ | dobavljač | tarnija | promitheutis",
    "LANGUAGE": "nyelv | jazyk | jezik | keel | glossa",
    "RATE": "kulcs | sadzba | stopa | määr | syntelestis",
}

#: one word (or words written together) that stands for two concepts
COMPOSITES: dict[str, str] = {
    "keresztnév": "FIRST NAME", "utónév": "FIRST NAME", "vezetéknév": "LAST NAME", "számlaszám": "INVOICE NUMBER",
    "rendelésszám": "ORDER NUMBER", "cikkszám": "SKU NUMBER", "áfakulcs": "TAX RATE", "egységár": "PRICE UNIT",
    "mennyiségiegység": "UNIT", "fizetésimód": "PAYMENT METHOD", "fizetésihatáridő": "DUE DATE",
    "krstnémeno": "FIRST NAME", "priezvisko": "LAST NAME", "sadzbadph": "TAX RATE", "dátumsplatnosti": "DUE DATE",
    "ime": "FIRST NAME", "prezime": "LAST NAME", "stopapdv": "TAX RATE", "brojračuna": "INVOICE NUMBER",
    "jmj": "UNIT", "eesnimi": "FIRST NAME", "perekonnanimi": "LAST NAME", "arvenumber": "INVOICE NUMBER",
    "käibemaksumäär": "TAX RATE", "eponymo": "LAST NAME", "epitheto": "LAST NAME", "eponymia": "COMPANY NAME",
    "arithmostimologiou": "INVOICE NUMBER", "timimonadas": "PRICE UNIT",
}
