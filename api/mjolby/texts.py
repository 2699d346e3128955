"""Every Swedish text the API itself shows to citizens, in one place.

The bot's answers come from Rasa; these are the API's own messages and errors.
"""
from __future__ import annotations

from mjolby.organisation import organisation

# From knowledge/organisation.yml, like every contact detail.
MEDBORGARSERVICE_PHONE = organisation().phone

# Messages in the chat
SENSITIVE_DATA_REMOVED = (
    "Ditt meddelande innehöll ett personnummer. Jag har tagit bort det, så det "
    "har inte sparats. Chatten är inte en säker kanal för personuppgifter, så "
    "skriv inte personnummer här. Behöver du lämna känsliga uppgifter kan "
    "Medborgarservice skicka ett säkert meddelande till dig via SEFOS i stället. "
    f"Ring {MEDBORGARSERVICE_PHONE} så hjälper de dig."
)
SECURE_CONTACT_BUTTON = {"title": "Be om ett säkert meddelande", "payload": "/secure_contact_request"}
WHAT_CAN_I_HELP_WITH = (
    "Vad kan jag hjälpa dig med? Beskriv gärna ditt ärende med några ord, "
    "utan personnummer."
)
BOT_UNREACHABLE = (
    "Tyvärr kan jag inte svara just nu, eftersom assistenten inte går att nå. "
    "Försök igen om en liten stund, eller ring Medborgarservice på "
    f"{MEDBORGARSERVICE_PHONE}."
)
NO_ANSWER = (
    "Jag har tyvärr inget svar på det. Kan du formulera frågan på ett annat sätt? "
    f"Du kan också ringa Medborgarservice på {MEDBORGARSERVICE_PHONE}."
)
CONVERSATION_CLOSED = (
    "Den här konversationen är avslutad. Starta en ny konversation om du vill "
    "fråga något mer."
)

# Errors ({"detail": ...})
ERROR_NOT_FOUND_CONVERSATION = (
    "Konversationen finns inte. Den kan ha avslutats och raderats. Starta en ny konversation."
)
ERROR_NOT_FOUND = "Sidan eller adressen finns inte."
ERROR_METHOD_NOT_ALLOWED = "Metoden stöds inte för den här adressen."
ERROR_TEXT_TOO_LONG = "Meddelandet är för långt. Skriv högst 2 000 tecken."
ERROR_BODY_TOO_LARGE = "Förfrågan är för stor."
ERROR_TOO_MANY_READS = "Du har gjort många förfrågningar på kort tid. Vänta en stund och försök igen."
ERROR_TOO_MANY_STREAMS = (
    "Chatten är redan öppen i många flikar eller fönster. Stäng några av dem och försök igen."
)
ERROR_TOO_MANY_REQUESTS = (
    "Du har skickat många meddelanden på kort tid. Vänta en stund och försök igen."
)
ERROR_INTERNAL = (
    "Något gick fel hos oss. Försök igen om en stund, eller ring Medborgarservice "
    f"på {MEDBORGARSERVICE_PHONE}."
)
ERROR_GENERIC = "Förfrågan kunde inte behandlas."

# 422: one sentence per kind of problem; the citizen's input is never repeated.
ERROR_INVALID_BODY = "Förfrågan har fel format."
ERROR_INVALID_JSON = "Förfrågan är inte giltig JSON."
ERROR_FIELD_MISSING = "Fältet {field} saknas."
ERROR_FIELD_WRONG_TYPE = "Fältet {field} har fel typ."
ERROR_FIELD_INVALID = "Fältet {field} har ett ogiltigt värde."
ERROR_TEXT_EMPTY = "Meddelandet är tomt."
ERROR_TEXT_UNSTORABLE = (
    "Meddelandet innehåller tecken som inte går att ta emot. Ta bort dem och skicka igen."
)
ERROR_FIELD_UNSTORABLE = "Fältet {field} innehåller tecken som inte går att ta emot."

# Used only if knowledge/behaviour/greet.yml cannot be read.
GREETING = (
    "Hej! Jag är Mjölby kommuns digitala assistent, ett automatiskt program. "
    "Skriv inte personnummer eller andra känsliga uppgifter här. "
    "Vad kan jag hjälpa dig med?"
)
