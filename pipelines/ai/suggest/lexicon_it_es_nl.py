"""Italian, Spanish and Dutch field-name words of shops and ERPs, by concept (merged into
:data:`pipelines.ai.suggest.lexicon.LEXICON`), written like the English/German/French terms there:
lower case, accents removed, separators dropped (``"ragione sociale"`` is ``"ragionesociale"``).

These three languages came in round 3 of the evaluation (see ``docs/ai.md``); Portuguese,
Polish, the Nordic languages and Czech came in round 4 (:mod:`.lexicon_pt_pl_nordic_cs`).
"""

from __future__ import annotations

__all__ = ["COMPOSITES", "TERMS"]

# concept: Italian | Spanish | Dutch terms (one string per concept, the languages in that order)
TERMS: dict[str, str] = {
    "CUSTOMER": "cliente clienti committente contatto | cliente clientes comprador contacto | klant klanten debiteur "
                "afnemer relatie "
                "koper",
    "ORDER": "ordine ordini vendita | pedido pedidos orden venta ventas | bestelling bestellingen verkoop "
             "verkooporder",
    "INVOICE": "fattura fatture | factura facturas | factuur facturen",
    "DELIVERY": "spedizione spedizioni consegna destinazione | envio entrega destino descarga | levering verzending "
                "aflevering bezorging afleveradres",
    "ADDRESS": "indirizzo | direccion domicilio | adres",
    "STREET": "via | calle | straat straatnaam",
    "CITY": "citta comune localita | ciudad poblacion localidad municipio | plaats woonplaats stad gemeente",
    "ZIP": "cap | codpostal | postcode",
    "COUNTRY": "paese nazione | pais | land",
    "REGION": "provincia regione prov | region comunidad | provincie",
    "PHONE": "telefono | telefono | telefoon",
    "MOBILE": "cellulare cell | movil celular | mobiel",
    "EMAIL": "posta | correo correoelectronico | emailadres",
    "NAME": "nome denominazione | nombre denominacion | naam benaming",
    "COMPANY": "azienda societa ditta | empresa compania | bedrijf bedrijfsnaam onderneming",
    "VAT": "partitaiva piva | nif cif | btwnummer btwnr",
    "TAX": "iva imposta imposte tassa tasse | iva impuesto impuestos | btw belasting",
    "CURRENCY": "valuta | moneda divisa | valuta munt",
    "AMOUNT": "importo importi | importe monto | bedrag",
    "TOTAL": "totale | totales | totaal",
    "NET": "netto imponibile | neto | exclusief",
    "GROSS": "lordo ivato | bruto | inclusief",
    "PRICE": "prezzo prezzi | precio precios | prijs prijzen",
    "COST": "costo costi acquisto | coste compra | inkoop",
    "QUANTITY": "quantita qta pz pezzi | cantidad cant unidades uds | aantal hoeveelheid",
    "DISCOUNT": "sconto sconti | descuento dto | korting",
    "DATE": "data | fecha | datum",
    "CREATED": "creazione creato | creacion alta creado | aangemaakt",
    "UPDATED": "modifica aggiornato | modificacion actualizado | gewijzigd",
    "DUE": "scadenza | vencimiento | vervaldatum vervaldag",
    "BIRTH": "nascita | nacimiento | geboorte",
    "NUMBER": "numero | numero | nummer",
    "ID": "codice cod | codigo | code",
    "REFERENCE": "riferimento rif | referencia | referentie kenmerk",
    "SKU": "articolo articoli prodotto prodotti | articulo articulos producto productos | artikel artikelen product",
    "DESCRIPTION": "descrizione | descripcion | omschrijving beschrijving",
    "WEIGHT": "peso | peso | gewicht",
    "EAN": "codiceabarre | codigobarras | streepjescode",
    "STOCK": "giacenza giacenze disponibilita | existencias inventario | voorraad",
    "WAREHOUSE": "magazzino | almacen | magazijn",
    "STATUS": "stato | estado | status",
    "PAYMENT": "pagamento pagamenti pagato | pago pagos pagado | betaling betaald",
    "METHOD": "metodo modalita tipo | metodo forma tipo | methode wijze soort",
    "CARRIER": "corriere vettore | transportista | vervoerder",
    "TRACKING": "tracciamento | seguimiento | trackingcode",
    "NOTE": "note nota causale | nota observaciones comentario comentarios | opmerking opmerkingen notitie",
    "LANGUAGE": "lingua | idioma | taal",
    "ACTIVE": "attivo | activo | actief",
    "GENDER": "sesso | sexo | geslacht aanhef",
    "LINE": "righe riga linee linea dettaglio dettagli | lineas linea | regels regel",
    "UNIT": "unita unitario | unidad unitario | eenheid",
    "CATEGORY": "categoria | categoria | categorie groep",
    "BRAND": "marca produttore | marca fabricante | merk fabrikant",
    "SUPPLIER": "fornitore | proveedor | leverancier",
    "HEIGHT": "altezza | altura | hoogte",
    "WIDTH": "larghezza | ancho anchura | breedte",
    "DEPTH": "profondita lunghezza | profundidad longitud | diepte lengte",
    "COLOR": "colore | color | kleur",
    "SIZE": "taglia | talla | maat",
    "RATE": "aliquota percentuale | tasa porcentaje | percentage tarief",
}

#: one word (or words written together) that stands for two concepts
COMPOSITES: dict[str, str] = {
    "cognome": "LAST NAME", "apellido": "LAST NAME", "apellidos": "LAST NAME", "achternaam": "LAST NAME",
    "voornaam": "FIRST NAME", "ragionesociale": "COMPANY", "razonsocial": "COMPANY",
    "codicefiscale": "VAT", "partitaiva": "VAT", "unitadimisura": "UNIT", "unitamisura": "UNIT",
    "codigopostal": "ZIP", "huisnummer": "STREET NUMBER", "verkoopprijs": "PRICE", "inkoopprijs": "COST PRICE",
    "prezzodiacquisto": "COST PRICE", "preciodecompra": "COST PRICE", "prezzodivendita": "PRICE",
    "preciodeventa": "PRICE", "formapago": "PAYMENT METHOD", "metodopagamento": "PAYMENT METHOD",
    "geboortedatum": "BIRTH DATE", "fechanacimiento": "BIRTH DATE", "datadinascita": "BIRTH DATE",
    "ordernummer": "ORDER NUMBER", "factuurnummer": "INVOICE NUMBER", "klantnummer": "CUSTOMER NUMBER",
    "numerofattura": "INVOICE NUMBER", "kostprijs": "COST PRICE", "tipoiva": "TAX RATE",
    "aliquotaiva": "TAX RATE", "tipoimpositivo": "TAX RATE", "numerofactura": "INVOICE NUMBER", "artikelcode": "SKU ID",
}
