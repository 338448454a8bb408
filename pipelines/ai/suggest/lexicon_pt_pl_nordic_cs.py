"""Portuguese, Polish, Swedish, Danish, Norwegian and Czech field-name words of shops and ERPs,
by concept (merged into :data:`pipelines.ai.suggest.lexicon.LEXICON`).

Written as the words are spelled (``"försäljningspris"``, ``"ilość"``): the lexicon folds every
term the way field names are folded (umlauts spelled out, accents and strokes dropped:
``ł`` -> ``l``, ``ø`` -> ``o``), so one spelling serves both. Inflected forms that field names
use are listed next to the base form (Polish genitives: ``płatności``, ``towaru``, ``wysyłki``).
Words of two letters never split compounds (see :mod:`.names`), so short codes (``uf``,
``jm``) are safe here.
"""

from __future__ import annotations

__all__ = ["COMPOSITES", "TERMS"]

# concept: Portuguese | Polish | Swedish | Danish and Norwegian | Czech
TERMS: dict[str, str] = {
    "CUSTOMER": "cliente clientes comprador destinatário | klient klienta kontrahent kontrahenta nabywca nabywcy "
                "odbiorca | kund kunder | kunde kunder | zákazník zákazníka odběratel odběratele",
    "ORDER": "pedido pedidos encomenda venda | zamówienie zamówienia sprzedaż sprzedaży | order beställning "
             "försäljning | ordre bestilling salg | objednávka objednávky prodej prodejní",
    "INVOICE": "fatura faturas faturamento cobrança | faktura faktury | faktura fakturering | faktura | faktura "
               "fakturační",
    "DELIVERY": "entrega envio frete transporte | dostawa dostawy wysyłka wysyłki przesyłka | leverans frakt "
                "leveransadress | levering forsendelse fragt | doprava doručení dodání dodací",
    "ADDRESS": "endereço morada | adres adresu | adress | adresse | adresa",
    "STREET": "rua logradouro | ulica | gatuadress gata | gade gate vej vei gateadresse | ulice",
    "STREET2": "complemento | | utdelningsadress | | ",
    "DISTRICT": "bairro | dzielnica | | | čtvrť",
    "CITY": "cidade município localidade | miasto miejscowość | ort stad postort | poststed | město obec",
    "ZIP": "cep | kodpocztowy | postnummer | postnummer postnr | psč",
    "REGION": "estado uf distrito | województwo | län | | ",
    "COUNTRY": "país | kraj | land | land | země",
    "PHONE": "telefone fone | telefon | telefon | telefon tlf | telefon",
    "MOBILE": "celular telemóvel | komórka | mobil mobiltelefon | mobil | mobil",
    "EMAIL": "| | epost | epost | ",
    "NAME": "nome | nazwa | namn benämning | navn | název",
    "COMPANY": "empresa razãosocial | firma | företag företagsnamn | firma firmanavn virksomhed | firma společnost",
    "VAT": "cpf cnpj cpfcnpj nif | nip | momsnummer orgnr organisationsnummer vatnummer | cvr cvrnr "
           "organisasjonsnummer mvanummer | dič",
    "TAX": "imposto impostos icms | podatek | moms skatt | moms mva skat skatt | daň dph",
    "CURRENCY": "moeda | waluta | valuta | valuta | měna",
    "AMOUNT": "valor vlr montante | kwota wartość | belopp | beløb beløp | částka",
    "TOTAL": "total | razem suma | summa totalt | total | celkem",
    "NET": "líquido | netto | netto exkl | netto eks ekskl eksklusiv | bezdph",
    "GROSS": "bruto | brutto | brutto inkl | brutto inkl inklusiv | sdph",
    "PRICE": "preço preços | cena ceny | pris | pris | cena",
    "COST": "custo compra | koszt koszty zakupu | kostnad inköp | kostpris kostnad omkostning indkøb innkjøp | "
            "náklady nákupní",
    "QUANTITY": "quantidade qtde qtd | ilość | antal | antal antall | množství počet",
    "DISCOUNT": "desconto | rabat | rabatt | rabat rabatt | sleva",
    "DATE": "data | data | datum | dato | datum",
    "CREATED": "criação criado emissão | utworzenia wystawienia | skapad | oprettet opprettet | vytvořeno "
               "vystavení vyst",
    "UPDATED": "atualização atualizado alterado | zmiany | ändrad uppdaterad | ændret endret | změněno",
    "DUE": "vencimento | termin | förfallodatum förfallo | forfald forfall | splatnost splatnosti splat",
    "BIRTH": "nascimento | urodzenia | födelsedatum | fødselsdato | narození",
    "NUMBER": "número nro | numer | nummer nr | nummer nr | číslo",
    "ID": "código cod | kod identyfikator | kod | kode | kód",
    "REFERENCE": "referência | obcy zewnętrzny | referens | reference referanse | reference",
    "SKU": "produto produtos artigo | towar towaru produkt artykuł | artikel vara produkt | vare varer produkt "
           "artikel | zboží produkt položka",
    "DESCRIPTION": "descrição | opis | beskrivning | beskrivelse | popis",
    "WEIGHT": "peso | waga | vikt | vægt vekt | hmotnost váha",
    "EAN": "códigodebarras | kodkreskowy | streckkod | stregkode strekkode | čárovýkód",
    "STOCK": "estoque | stan zapas | lagersaldo | beholdning lagerbeholdning | zásoba",
    "WAREHOUSE": "armazém depósito | magazyn | lagerplats | lager | sklad",
    "STATUS": "situação | | | | stav",
    "PAYMENT": "pagamento pago | płatność płatności zapłacono zapłata | betalning betald | betaling betalt | "
               "platba zaplaceno úhrada",
    "METHOD": "forma método | forma sposób rodzaj | sätt | metode | způsob",
    "CARRIER": "transportadora | przewoźnik kurier | transportör speditör | fragtmand transportør | dopravce",
    "TRACKING": "rastreio rastreamento | | | sporing | ",
    "NOTE": "observação observações obs | uwagi notatka | anteckning kommentar | notat bemærkning kommentar | "
            "poznámka",
    "LANGUAGE": "idioma língua | język | språk | sprog språk | jazyk",
    "ACTIVE": "ativo | aktywny | aktiv webbshop | aktiv webshop nettbutikk | aktivní",
    "GENDER": "sexo gênero | płeć | kön | køn kjønn | pohlaví",
    "LINE": "itens linhas | pozycje pozycja | rader | linjer linje | položky řádky",
    "UNIT": "unidade | jednostka | enhet | enhed enhet | jednotka",
    "CATEGORY": "categoria | kategoria | kategori varugrupp | kategori varegruppe | kategorie",
    "BRAND": "marca fabricante | marka producent | tillverkare märke | mærke merke producent produsent | "
             "značka výrobce",
    "SUPPLIER": "fornecedor | dostawca | leverantör | leverandør | dodavatel",
    "HEIGHT": "altura | wysokość | höjd | højde høyde | výška",
    "WIDTH": "largura | szerokość | bredd | bredde | šířka",
    "DEPTH": "profundidade comprimento | głębokość długość | djup längd | dybde lengde længde | hloubka délka",
    "COLOR": "cor | kolor | färg | farve farge | barva",
    "SIZE": "tamanho | rozmiar | storlek | størrelse | velikost",
    "RATE": "alíquota taxa percentual | stawka | sats | sats | sazba",
    "TERMS": "condições | warunki | villkor betalningsvillkor | betingelser vilkår | podmínky",
    "BALANCE": "saldo | saldo | saldo | saldo | zůstatek",
}

#: one word (or words written together) that stands for two concepts
COMPOSITES: dict[str, str] = {
    "sobrenome": "LAST NAME", "primeironome": "FIRST NAME", "nomecompleto": "NAME", "razaosocial": "COMPANY",
    "nazwisko": "LAST NAME", "imie": "FIRST NAME", "imię": "FIRST NAME", "kodpocztowy": "ZIP",
    "efternamn": "LAST NAME", "förnamn": "FIRST NAME", "efternavn": "LAST NAME", "etternavn": "LAST NAME",
    "fornavn": "FIRST NAME", "příjmení": "LAST NAME", "jméno": "NAME", "lagersaldo": "STOCK",
    "försäljningspris": "PRICE", "salgspris": "PRICE", "inköpspris": "COST PRICE", "innkjøpspris": "COST PRICE",
    "indkøbspris": "COST PRICE", "kostpris": "COST PRICE", "kundnummer": "CUSTOMER NUMBER",
    "kundenummer": "CUSTOMER NUMBER", "kundenr": "CUSTOMER NUMBER", "artikelnummer": "SKU NUMBER",
    "varenummer": "SKU NUMBER", "varenr": "SKU NUMBER", "fakturanummer": "INVOICE NUMBER",
    "ordrenummer": "ORDER NUMBER", "ordernummer": "ORDER NUMBER", "numerodopedido": "ORDER NUMBER",
    "jednostkamiary": "UNIT", "jm": "UNIT", "mj": "UNIT", "un": "UNIT", "uf": "REGION", "psc": "ZIP",
    "vlrunit": "PRICE UNIT", "valorunitario": "PRICE UNIT", "precounitario": "PRICE UNIT",
    "cenajednostkowa": "PRICE UNIT", "terminplatnosci": "DUE DATE", "formaplatnosci": "PAYMENT METHOD",
    "formadepagamento": "PAYMENT METHOD", "betalningssatt": "PAYMENT METHOD", "forfallodatum": "DUE DATE",
    "datavencimento": "DUE DATE", "fodelsedatum": "BIRTH DATE", "datanascimento": "BIRTH DATE",
    "adresselinje": "STREET", "adresselinje1": "STREET", "adresselinje2": "STREET2", "adressrad1": "STREET",
    "adressrad2": "STREET2", "momssats": "TAX RATE", "stawkavat": "TAX RATE", "sazbadph": "TAX RATE", "mvasats": "TAX RATE",
}
