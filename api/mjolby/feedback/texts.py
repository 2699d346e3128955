"""What citizens and editors read from the feedback domain (Swedish)."""

MAX_COMMENT_CHARACTERS = 500

ERROR_MESSAGE_NOT_FOUND = "Det finns inget sådant svar i konversationen."
ERROR_NOT_AN_ANSWER = "Det går bara att svara på frågan under ett svar från chattassistenten."
ERROR_ALREADY_GIVEN = "Du har redan svarat på den här frågan. Tack!"
ERROR_COMMENT_TOO_LONG = f"Kommentaren är för lång. Skriv högst {MAX_COMMENT_CHARACTERS} tecken."
ERROR_ITEMS_NOT_FOUND = "Meddelandet finns inte längre i inkorgen."
ERROR_TOPIC_MISSING = "Välj vilket ämne meddelandet hör till."

KIND_LABELS = {
    "fallback": "Förstod inte",
    "choice": "Valde förslag",
    "low_confidence": "Osäkert svar",
    "not_helped": "Svaret hjälpte inte",
    "low_rating": "Lågt betyg",
    "unresolved": "Lämnades över olöst",
}
