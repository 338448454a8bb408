"""Finnish, Romanian and Turkish field-name words of shops and ERPs, by concept (merged into
:data:`pipelines.ai.suggest.lexicon.LEXICON`), the basic commerce vocabulary of invoices, orders,
customers, items and stock.

Written as the words are spelled (``"sähköposti"``, ``"județ"``, ``"müşteri"``): the lexicon
folds every term the way field names are folded (``ä`` -> ``ae`` and, for exports without
diacritics, ``a``; ``ș`` -> ``s``; ``ı`` -> ``i``), so one spelling serves all. Inflected forms
that field names use sit next to the base form (Finnish genitives ``asiakkaan``, ``tilauksen``;
Turkish possessives ``adı``, ``tarihi``; Romanian articles ``factura``, ``clientul``).

These came in round 5 (see ``docs/ai.md``), before any pair in these languages was seen: basic
commerce and accounting words, not a measured vocabulary (no Finnish, Romanian or Turkish pair
was in the tuned part when they were written).
"""

from __future__ import annotations

__all__ = ["COMPOSITES", "TERMS"]

# concept: Finnish | Romanian | Turkish
TERMS: dict[str, str] = {
    "CUSTOMER": "asiakas asiakkaan asiakkaat ostaja | client clientul clienti cumparator beneficiar | müşteri "
                "müşterisi alıcı cari",
    "ORDER": "tilaus tilauksen tilaukset myynti | comandă comanda comenzi comenzii vânzare | sipariş siparişi "
             "satış",
    "INVOICE": "lasku laskun laskut laskutus | factură factura facturi facturii facturare | fatura faturası",
    "DELIVERY": "toimitus toimituksen lähetys rahti | livrare livrarii expediere | teslimat kargo sevkiyat sevk "
                "gönderim",
    "ADDRESS": "osoite osoitteen | adresă adresa | adres adresi",
    "STREET": "katuosoite katu | stradă strada | sokak cadde",
    "CITY": "kaupunki postitoimipaikka paikkakunta kunta | oraș oras localitate localitatea municipiu | şehir "
            "şehri",
    "DISTRICT": "kaupunginosa | sector cartier | ilçe ilçesi mahalle semt",
    "ZIP": "postinumero | | postakodu",
    "COUNTRY": "maa | țară tara țara | ülke ülkesi",
    "REGION": "maakunta lääni | județ judet judetul | bölge",
    "PHONE": "puhelin puhelinnumero | telefon | telefon",
    "MOBILE": "matkapuhelin kännykkä | mobil | gsm cep",
    "EMAIL": "sähköposti | | eposta",
    "NAME": "nimi nimen | nume denumire denumirea | ad adı isim ismi",
    "COMPANY": "yritys yrityksen yhtiö | firmă firma societate companie | şirket şirketi firma unvan unvanı",
    "VAT": "alvtunnus alvnumero | cui cif codfiscal | vkn vergino",
    "REGISTRATION": "ytunnus | nrregcom | mersis",
    "TAX": "alv vero verot | impozit | vergi kdv",
    "CURRENCY": "valuutta | monedă moneda valută valuta | döviz",
    "AMOUNT": "| valoare valoarea | tutar tutarı",
    "TOTAL": "yhteensä kokonaissumma | total | toplam",
    "NET": "veroton netto | fara | hariç",
    "GROSS": "verollinen brutto | | dahil brüt",
    "PRICE": "hinta hinnat hinnan | preț pret pretul prețul | fiyat fiyatı",
    "COST": "kustannus hankintahinta | cost achizitie | maliyet alış",
    "QUANTITY": "määrä lukumäärä kpl | cantitate cantitatea buc bucati | miktar miktarı adet adedi",
    "DISCOUNT": "alennus | reducere | indirim iskonto",
    "DATE": "päivämäärä pvm päivä | data | tarih tarihi",
    "CREATED": "luotu luontipäivä | creat emitere emiterii | oluşturma oluşturulma",
    "UPDATED": "muokattu päivitetty | modificat actualizat | güncelleme güncellenme",
    "DUE": "eräpäivä erääntyy | scadență scadenta | vade vadesi",
    "BIRTH": "syntymäaika | nașterii naștere | doğum",
    "NUMBER": "numero nro | număr numar numarul | numara numarası",
    "ID": "tunnus koodi tunniste | cod codul | kod kodu kimlik",
    "REFERENCE": "viite viitenumero | referință referinta | referans",
    "SKU": "tuote tuotteet tuotteen nimike | produs produse produsul articol | ürün ürünü ürünler",
    "DESCRIPTION": "kuvaus selite | descriere | açıklama açıklaması",
    "WEIGHT": "paino | greutate | ağırlık desi",
    "EAN": "viivakoodi | | barkod",
    "STOCK": "varastosaldo | stoc | stok",
    "WAREHOUSE": "varasto | depozit gestiune | depo ambar",
    "STATUS": "tila | stare | durum durumu",
    "PAYMENT": "maksu maksettu | plată plata platit | ödeme",
    "METHOD": "tapa tyyppi | metodă modalitate | yöntem tür şekli",
    "CARRIER": "kuljetusliike | curier transportator | kargofirması",
    "TRACKING": "seurantakoodi seuranta | awb | takip",
    "NOTE": "huomautus lisätiedot kommentti viesti | observații observatii mențiuni mentiuni | notlar",
    "LANGUAGE": "kieli | limbă limba | dil",
    "ACTIVE": "aktiivinen | activ | aktif",
    "LINE": "rivit rivi | linii linie | satır satırlar kalemler",
    "UNIT": "yksikkö | unitate um | birim birimi",
    "CATEGORY": "kategoria tuoteryhmä | categorie | kategori",
    "BRAND": "valmistaja merkki | marcă producător | marka",
    "SUPPLIER": "toimittaja | furnizor | tedarikçi",
    "HEIGHT": "korkeus | înălțime | yükseklik",
    "WIDTH": "leveys | lățime | genişlik",
    "DEPTH": "syvyys pituus | adâncime lungime | derinlik uzunluk",
    "COLOR": "väri | culoare | renk",
    "SIZE": "koko | mărime | beden boyut",
    "RATE": "prosentti kanta | cotă cota procent | oran oranı",
    "TERMS": "maksuehto ehdot | termeni condiții | koşullar",
    "BALANCE": "saldo avoin | | bakiye",
}

#: one word (or words written together) that stands for two concepts
COMPOSITES: dict[str, str] = {
    "etunimi": "FIRST NAME", "sukunimi": "LAST NAME", "prenume": "FIRST NAME", "numedefamilie": "LAST NAME",
    "soyad": "LAST NAME", "soyadı": "LAST NAME", "adsoyad": "NAME", "adısoyadı": "NAME",
    "toimitusosoite": "DELIVERY ADDRESS", "laskutusosoite": "INVOICE ADDRESS", "yksikköhinta": "PRICE UNIT",
    "myyntihinta": "PRICE", "ostohinta": "COST PRICE", "pretunitar": "PRICE UNIT", "birimfiyat": "PRICE UNIT",
    "birimfiyatı": "PRICE UNIT", "verokanta": "TAX RATE", "alvprosentti": "TAX RATE", "cotatva": "TAX RATE",
    "kdvoranı": "TAX RATE", "eräpäivä": "DUE DATE", "syntymäaika": "BIRTH DATE", "tuotenumero": "SKU NUMBER",
    "tuotekoodi": "SKU ID", "stokkodu": "SKU ID", "asiakasnumero": "CUSTOMER NUMBER", "laskunumero": "INVOICE NUMBER",
    "tilausnumero": "ORDER NUMBER", "siparişno": "ORDER NUMBER", "faturano": "INVOICE NUMBER",
    "verginumarası": "VAT", "vergidairesi": "TAX", "postakodu": "ZIP", "parabirimi": "CURRENCY", "maakoodi": "COUNTRY",
    "codpostal": "ZIP", "coddebare": "EAN", "kargotakipno": "TRACKING NUMBER", "takipno": "TRACKING NUMBER",
    "kargofirması": "CARRIER",
}
