"""Swedish texts of the handover: what the citizen sees in the chat, and staff errors."""
from __future__ import annotations

from mjolby.organisation import organisation

PHONE = organisation().phone  # knowledge/organisation.yml
AGENT_FALLBACK_NAME = "en medarbetare på Medborgarservice"

# To the citizen (system messages unless said otherwise)
JOINED = "Du chattar nu med {name} på Medborgarservice."
JOINED_NO_NAME = "Du chattar nu med en medarbetare på Medborgarservice."
RETURNED = (
    "{who} har lämnat chatten. Nu svarar chattassistenten igen, så du kan fortsätta "
    "ställa frågor här."
)
ENDED = "{who} har avslutat chatten. Tack för att du kontaktade Medborgarservice!"
CANCELLED = (
    "Du har lämnat kön. Du kan fortsätta ställa frågor här, eller skriva att du vill "
    "prata med en människa om du ändrar dig."
)
# Nobody wrote for HANDOVER_IDLE_MINUTES: the case ends by itself.
IDLE_QUEUED = (
    "Ingen på Medborgarservice har kunnat svara dig i chatten, så du står inte längre i kö. "
    "Ring gärna Medborgarservice på {phone}. Du kan också fortsätta ställa frågor här, "
    "eller skriva att du vill prata med en människa igen."
)
IDLE_ACTIVE = (
    "Chatten med Medborgarservice har avslutats eftersom ingen har skrivit något på en stund. "
    "Nu svarar chattassistenten igen. Behöver du mer hjälp kan du ringa Medborgarservice på {phone}."
)
# A bot message with the buttons 1-5.
RATING_QUESTION = (
    "Fick du hjälp med det du behövde? Välj ett betyg från 1 (inte alls) till 5 "
    "(helt och hållet)."
)
RATING_BUTTON_TITLES = {1: "1 – inte alls", 2: "2", 3: "3", 4: "4", 5: "5 – helt och hållet"}

# Live availability, for the bot's offer
CHAT_OPEN = "Du kan chatta med en medarbetare på Medborgarservice nu."
CHAT_CLOSED_UNTIL = "Medborgarservice har stängt just nu och öppnar igen {when}."
CHAT_PAUSED_PHONE_OPEN = (
    "Chatten med Medborgarservice är stängd just nu, men växeln ({phone}) har öppet "
    "till kl. {closes} i dag."
)
NOBODY_ONLINE_PHONE_OPEN = (
    "Ingen medarbetare kan chatta just nu, men växeln ({phone}) har öppet till kl. {closes} i dag."
)

# Errors ({"detail": ...})
UNAVAILABLE = "Ingen på Medborgarservice kan chatta just nu."
CASE_NOT_FOUND = "Ärendet finns inte."
ALREADY_CLAIMED = "Någon annan har redan tagit ärendet."
NOT_YOURS = "Det är någon annan som hanterar ärendet."
CASE_NOT_ACTIVE = "Ärendet är inte pågående. Ta ärendet först, eller ladda om sidan."
CASE_ENDED = "Ärendet är redan avslutat."
NOTHING_TO_RATE = "Det finns inget avslutat ärende att betygsätta."
CONTACT_NOT_FOUND = "Kontaktförfrågan finns inte."
CONTACT_ALREADY_CLOSED = "Kontaktförfrågan är redan hanterad."
CONTACT_HAS_PERSONAL_NUMBER = (
    "Det ser ut som ett personnummer. Skriv inte personnummer här, chatten är inte en säker kanal."
)
CONTACT_NEEDS_PHONE_OR_EMAIL = "Ange ett telefonnummer eller en e-postadress."
CONTACT_BAD_PHONE = "Telefonnumret ser inte ut som ett telefonnummer."
CONTACT_BAD_EMAIL = "E-postadressen ser inte ut som en e-postadress."
UNKNOWN_MAILBOX = "Välj en av funktionsbrevlådorna i listan."
EMPTY_TEXT = "Skriv något först."
UNSTORABLE_TEXT = "Texten innehåller tecken som inte går att spara. Ta bort dem och försök igen."
CASE_ENDED_NOT_YOURS = (
    "Ärendet är avslutat och någon annan hanterade det, så du kan inte lägga till något i det."
)
