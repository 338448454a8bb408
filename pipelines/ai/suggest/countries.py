"""Country names as exports write them (English, the country's own language and the languages
of the lexicon), mapped to ISO 3166 alpha-2 codes, so that a field of names (``Italia``,
``United States``) and a field of codes (``IT``, ``US``) are seen to hold the same countries.

Keys are folded like field names (lower case, accents and separators dropped: ``"Österreich"``
-> ``"oesterreich"``, ``"Pays-Bas"`` -> ``"paysbas"``). Not every country: the ones shops and
ERPs in the evaluation's languages (and Finnish, Romanian, Turkish) meet most.
"""

from __future__ import annotations

from pipelines.ai.suggest.lexicon import fold

__all__ = ["country_code"]

_NAMES = {
    "DE": "germany deutschland allemagne germania alemania duitsland alemanha niemcy tyskland tyskland nemecko saksa "
          "almanya",
    "AT": "austria österreich autriche oostenrijk áustria rakousko österrike østerrike",
    "CH": "switzerland schweiz suisse svizzera suiza zwitserland suíça szwajcaria schweiz sveits švýcarsko",
    "FR": "france frankreich francia frankrijk frança francja frankrike frankrig francie ranska fransa franta",
    "IT": "italy italien italie italia itália włochy italien italia itálie",
    "ES": "spain spanien espagne spagna españa spanje espanha hiszpania španělsko",
    "PT": "portugal portogallo portugalia portugalsko",
    "NL": "netherlands niederlande pays-bas paesi bassi países bajos nederland holland holanda holandia "
          "nederländerna nederlandene nizozemsko",
    "BE": "belgium belgien belgique belgio bélgica belgië belgia belgie",
    "LU": "luxembourg luxemburg lussemburgo luxemburgo luksemburg lucembursko",
    "PL": "poland polen pologne polonia polónia polska polsko",
    "CZ": "czechia czech republic tschechien république tchèque repubblica ceca república checa tsjechië "
          "chéquia czechy tjeckien tjekkiet tsjekkia česko česká republika",
    "SK": "slovakia slowakei slovaquie slovacchia eslovaquia slowakije eslováquia słowacja slovensko",
    "HU": "hungary ungarn hongrie ungheria hungría hongarije hungria węgry ungern maďarsko",
    "SE": "sweden schweden suède svezia suecia zweden suécia szwecja sverige švédsko ruotsi suedia isveç",
    "NO": "norway norwegen norvège norvegia noruega noorwegen norwegia norge norsko",
    "DK": "denmark dänemark danemark danimarca dinamarca denemarken dania danmark dánsko",
    "FI": "finland finnland finlande finlandia finlândia suomi finsko finlanda finlandiya",
    "IE": "ireland irland irlande irlanda ierland irlandia irsko",
    "GB": "united kingdom great britain england vereinigtes königreich großbritannien royaume-uni regno unito "
          "reino unido verenigd koninkrijk wielka brytania storbritannien",
    "US": "united states united states of america usa vereinigte staaten états-unis stati uniti estados unidos "
          "verenigde staten stany zjednoczone usa",
    "CA": "canada kanada canadá",
    "MX": "mexico mexiko mexique messico méxico meksyk",
    "BR": "brazil brasilien brésil brasile brasil brazilië brazylia",
    "AR": "argentina argentinien argentine",
    "CN": "china chine cina chiny kina",
    "JP": "japan japon giappone japón japão japonia",
    "AU": "australia australien australie austrália",
    "GR": "greece griechenland grèce grecia griekenland grécia grecja grekland",
    "HR": "croatia kroatien croatie croazia croacia kroatië chorwacja",
    "SI": "slovenia slowenien slovénie eslovenia slovenië słowenia",
    "RO": "romania rumänien roumanie rumanía roemenië rumunia românia romanya",
    "TR": "turkey türkiye turkiye türkei turquie turchia turquía turkije turcja turkiet tyrkiet tyrkia turcia",
}
# names of several words are listed word by word above; these are their joined forms
_JOINED = {"czechrepublic": "CZ", "republiquetcheque": "CZ", "repubblicaceca": "CZ", "republicacheca": "CZ",
           "ceskarepublika": "CZ", "paesibassi": "NL", "paisesbajos": "NL", "unitedkingdom": "GB",
           "greatbritain": "GB", "vereinigteskoenigreich": "GB", "royaumeuni": "GB", "regnounito": "GB",
           "reinounido": "GB", "verenigdkoninkrijk": "GB", "wielkabrytania": "GB", "unitedstates": "US",
           "unitedstatesofamerica": "US", "vereinigtestaaten": "US", "etatsunis": "US", "statiuniti": "US",
           "estadosunidos": "US", "verenigdestaten": "US", "stanyzjednoczone": "US"}
_ONE_WORD = {"czech", "republic", "republique", "tcheque", "repubblica", "ceca", "republica", "checa", "ceska",
             "republika", "paesi", "bassi", "paises", "bajos", "united", "kingdom", "great", "britain",
             "vereinigtes", "koenigreich", "royaume", "uni", "regno", "unito", "reino", "unido", "verenigd",
             "koninkrijk", "wielka", "brytania", "states", "of", "america", "vereinigte", "staaten", "etats",
             "unis", "stati", "uniti", "estados", "unidos", "verenigde", "staten", "stany", "zjednoczone"}


def _key(text: str) -> str:
    return "".join(c for c in fold(text).lower() if c.isalpha())


_CODES: dict[str, str] = dict(_JOINED)
for _code, _words in _NAMES.items():
    for _w in _words.split():
        if _key(_w) not in _ONE_WORD:
            _CODES.setdefault(_key(_w), _code)


def country_code(text: str) -> str | None:
    """The ISO alpha-2 code of a country name (``"Österreich"`` -> ``"AT"``), or None."""
    return _CODES.get(_key(text)) if 4 <= len(text) <= 40 else None
