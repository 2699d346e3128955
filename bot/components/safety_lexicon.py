"""Phrases that signal suicide or self-harm, violence in a close relationship,
a child at risk or acute danger, in Swedish and English.

The patterns run on folded text (lowercase, å/ä → a, ö → o, see folding.py),
so "självmord", "sjalvmord" and "SJÄLVMORD" are one spelling. They are tuned
for recall: a false alarm costs one caring sentence, a miss can cost a life.

Harmless uses of the same words ("min dator dog", "jag dör av skratt",
"döda länkar", "skjuta upp mötet") are blanked out first by GUARDS, so a
message that also contains a real signal ("min dator dog och jag vill inte
leva") still fires.
"""
from __future__ import annotations

import re
from typing import Dict, List, Pattern, Set, Tuple

from .folding import fold

SUICIDE = "suicide_selfharm"
VIOLENCE = "relationship_violence"
CHILD = "child_at_risk"
ACUTE = "acute_danger"
CATEGORIES = (SUICIDE, VIOLENCE, CHILD, ACUTE)

# Blanked out before the signal patterns run. Each one is a harmless use of a
# word the patterns look for.
_GUARDS = [
    # Devices, links and things that "die".
    r"\b(dator\w*|mobil\w*|telefon\w*|batteri\w*|lamp\w*|gatlamp\w*|skarm\w*|laptop|phone|battery|"
    r"computer|lank\w*|sida|sidan|hemsida\w*|webb\w*|appen|wifi|natet|routern?|bil(en)?|motorn|"
    r"skolmat\w*|maten|festen|stan)\s+(ar\s+|har\s+|is\s+|was\s+|var\s+|blev\s+)?(helt\s+)?"
    r"(dog|dott|dod|doda|died|dead)\b",
    r"\b(dod|doda|dead)\s+(lank\w*|batteri\w*|link\w*|fisk\w*|fagel|faglar|rat\w*|mus|moss|ved|ytor)",
    r"\bdoda\s+(tid|tiden)\b|\bdodar\s+(tid|tiden)\b|\bkill(ing)?\s+time\b",
    # Hyperbole.
    r"\b(do|dor|dog|dott|doende)\s+(nastan\s+)?(av|at)\s+(skratt|tristess|langtrakan|nyfikenhet|varme|hunger|"
    r"tristhet)\b",
    r"\b(skratta\w*|tjata\w*|skrattade|frysa|fryser|fros)\s+ihjal\b",
    r"\bdying\s+(of\s+laughter|to\s+\w+|for\s+a\s+\w+)\b|\bdied\s+laughing\b|\b(is|are)\s+killing\s+me\b",
    r"\bslagen\s+av\s+(hur|att|det|den|vad)\b|\bslar\s+mig\s+(att|hur|som|vad)\b|\bdet\s+slog\s+mig\b",
    r"\bbrinner\s+for\b|\bvill\s+(bara\s+)?forsvinna\s+(fran|ur)\s+(den\s+har\s+|er\s+|era\s+)?"
    r"(kon|telefonkon|listan|utskick\w*|mejl\w*|mail\w*|nyhetsbrev\w*)\b",
    # Killing weeds and pests.
    r"\b(ta\s+(livet|dod)\s+(av|pa)|doda|dodar|kill|killing)\s+(\w+\s+)?(ogras\w*|sniglar|snigeln|"
    r"mordarsnig\w*|myror|mossa|ratt\w*|moss|weeds?|slugs?|ants|pests?|mygg\w*|getingar|getingbo\w*)\b",
    # Death as administration, news and culture.
    r"\bdods(bo\w*|fall\w*|annons\w*|runa|orsak\w*)\b",
    r"\bsjalvmords?bomb\w*|\bsuicide\s+bomb\w*",
    # "skjuta" as postpone, fireworks and shooting sport.
    r"\bskjut\w*\s+upp\b|\bskjut\w*\s+pa\s+(\w+\s+)?(mote\w*|inskolning\w*|betalning\w*|start\w*|besok\w*|det|den|"
    r"beslut\w*|faktura\w*|datum\w*|tid\w*|bröllop\w*|brollop\w*|vigsel\w*)\b|\bskjutbana\w*|\bskytte\w*|\bfyrverkeri\w*|\braketer\b|\bshoot\w*\s+fireworks\b",
    r"\b(sla|slar|slog)\s+(upp|ihop|av|pa\s+(tv|datorn|larmet|lampan))\b|\bslagit\s+sonder\b|\bslog\s+sonder\b",
    r"\bbranna\s+(cd|dvd|skiv\w*|ris|lov|gras)\w*",
]
GUARDS: Pattern = re.compile("|".join(f"(?:{g})" for g in _GUARDS))
# What a blanked-out phrase becomes: one token the learned layer sees in the
# hard negatives, so that "min dator dog" is not read as just "min".
HARMLESS = "xharmlessx"

# Who the message is about.
_PARTNER = (
    r"(man|mannen|make|maken|fru|frun|frugan|sambo|sambon|partner|partnern|kille|killen|pojkvan\w*|"
    r"flickvan\w*|tjej|tjejen|gubbe|gubben|karl|karlen|ex|exet|exman\w*|exfru\w*|exsambo\w*|"
    r"fore\s+detta|svar(far|mor|son|dotter|foraldrar)|husband|wife|partner|boyfriend|girlfriend|ex-?husband|ex-?wife)"
)
# Partner words that cannot be read as anything else without "min".
_PARTNER_BARE = (
    r"(mannen|maken|frun|frugan|sambon|partnern|killen|pojkvannen|flickvannen|tjejen|gubben|karlen|exet|"
    r"exmannen|exfrun|han|hon|husband|boyfriend|girlfriend)"
)
_PARENT = r"(pappa|mamma|styv\w*|morsan|farsan|foraldrar\w*|fostermamma|fosterpappa|dad|mom|mum|stepdad|stepmom|parents)"
_VIOLENT_VERB = (
    r"(slar|slog|slagit|sparkar|sparkade|sparkat|knuffar|knuffade|stryper|strop|strypt|drammer|drammde|"
    r"misshandla\w*|nyper|kastar\s+saker\s+pa|luggar|luggade|bankar\s+pa|hotar|hotade|hotat|skadar|skadade|"
    r"valdtar|valdtog|valdtagit|tar\s+pa|tog\s+pa|ror|rorde)"
)
_ME = r"(mig|mej|oss)"
# Whom the violence in a close relationship is against, as the writer names them.
_VICTIM = r"(mig|mej|oss|henne|honom|mamma|pappa|min\s+\w+|sin\s+\w+|me|her|him|us|my\s+\w+)"
# Relatives who are not partners but whose violence is violence in a close relationship.
_RELATIVE = r"(son|sonen|dotter|dottern|bror|brorsan|storebror|syster|barnbarn|svager|svagerska|farbror|morbror|kusin|brother|son)"

_RULES: List[Tuple[str, str]] = [
    # --- suicide and self-harm ------------------------------------------
    (SUICIDE, r"\bsj\w{0,3}mor(d|s)\w*|\bsjalv\s*mord\w*|\bsuicid\w*|\bsucid\w*"),
    (SUICIDE, r"\bta\s+(mitt|sitt|ditt|hans|hennes|vart)\s+(eget\s+)?liv\b|\btog\s+(sitt|mitt|hans|hennes)\s+(eget\s+)?liv\b"),
    (SUICIDE, r"\b(ta|tar|tog|tagit)\s+livet\s+av\s+(mig|mej|sig|sej|dig|dej|oss|mig\s+sjalv)\b"),
    (SUICIDE, r"\b(avsluta|gora\s+slut\s+pa)\s+(mitt\s+(eget\s+)?liv|sitt\s+liv|livet|allt|det\s+hela|mig)\b"),
    (SUICIDE, r"\bvill\s+(\w+\s+){0,2}(do|doo|dooo)\b|\b(ska|kommer\s+att|tanker)\s+(\w+\s+)?do\b|\bhellre\s+vara\s+dod\b"),
    (SUICIDE, r"\b(vill|orkar|palla\w*|klarar)\s+(\w+\s+){0,2}inte\s+(\w+\s+){0,1}(leva|lava|leeva|finnas|(vara|va)\s+(med|har|kvar))\b"),
    (SUICIDE, r"\b(vill|orkar|palla\w*)\s+inte\s+(mer|langre)\s+(med\s+)?(livet|leva|nagonting|nanting|allt)\b"),
    (SUICIDE, r"(^|\bjag\s+|\bja\s+|\bbara\s+|[.,!]\s*)(orkar|pallar|palla|klarar)\s+(bara\s+)?(inte|int)\s+(mer|langre|mer\s+nu)\s*([.!,]|$)"),
    (SUICIDE, r"\b(orkar|pallar|palla|klarar)\s+(inte|int)\s+((mer|langre)\s+)?(me|med)\s+(livet|nanting|nagonting|allt)\b"),
    (SUICIDE, r"\btrott\s+pa\s+(att\s+leva|livet|att\s+finnas|allt)\b|\bklarar\s+inte\s+av\s+livet\b"),
    (SUICIDE, r"\b(ingen\s+mening|vad\s+ar\s+poangen|poang(en)?|ingen\s+anledning)\s+"
              r"(med\s+|att\s+)?(att\s+)?(leva|livet|finnas|allt\s+det\s+har)\b|\bingenting\s+att\s+leva\s+for\b"),
    (SUICIDE, r"\b(inte|aldrig)\s+vakna\b|\bvaknar\s+eller\s+inte\b|\bsova\s+for\s+alltid\b|\bsomna\s+(in\s+)?(for\s+alltid|och\s+aldrig)\b"),
    (SUICIDE, r"\b(om\s+jag\s+inte\s+fanns|inte\s+fanns\s+(langre|mer|kvar)|inte\s+finns\s+(kvar|langre)|"
              r"battre\s+utan\s+mig|battre\s+(for\s+alla\s+)?om\s+jag\s+(inte\s+fanns|var\s+borta|forsvann|dog)|"
              r"sluta\s+finnas|(ville|vill)\s+inte\s+finnas|en\s+borda\s+for)\b"),
    (SUICIDE, r"\b(vill|ville)\s+(bara\s+)?(forsvinna|forsvina)\b|\bdisappear\s+forever\b|\b(fa|vill)\s+(bara\s+)?somna\s+in\b|"
              r"\b(vilja|vill|tanker|ska)\s+hoppa\s*([.!?]|$|fran|framfor|ner\s+fran|ut\s+fran)|"
              r"\b(jag|ja|man)\s+mar\s+(sa\s+|jatte\s*|helt\s+|psykiskt\s+)?(skit|daligt|piss|jattedaligt)\b|\bingen\s+(skulle\s+)?sakna\s+mig\b"),
    (SUICIDE, r"\bingen\s+utvag\b|\bhopplost\s+allt\b|\ballt\s+ar\s+(bara\s+)?(morkt|svart|meningslost)\b|\blivet\s+(kanns\s+)?meningslost\b"),
    (SUICIDE, r"\bavskedsbrev\w*|\bsagt\s+hejda\s+till\s+alla|\bgett\s+bort\s+(alla\s+)?mina\s+saker"),
    (SUICIDE, r"\bgora\s+(nagot|nat|nanting)\s+dumt\b|\bgora\s+sig\s+(sjalv\s+)?illa\b"),
    (SUICIDE, r"\b(skar|skara|skur\w*|rispa\w*|branner|brande|brant|slar|skadar|skada|skadade)\s+(mig|mej|sig|sej)\s+(sjalv|sjalva)\b"),
    (SUICIDE, r"\b(skar|skur\w*|rispa\w*|rispat)\s+(mig|mej|sig|sej)\b|\bbranner\s+(mig|mej|sig)\s+(med|pa)\b"),
    (SUICIDE, r"\bsjalvskad\w*|\bself[\s-]?harm\w*|\bcut(ting)?\s+(myself|herself|himself|themselves)\b|"
              r"\bhurt(ing)?\s+(myself|herself|himself)\b"),
    (SUICIDE, r"\bover\s*dos\w*|\b(tabletter|piller|somntabletter|alvedon|panodil|paracetamol|pills)\b.{0,40}"
              r"\b(do|dor|doden|vakna|vaknar|on\s+purpose|ikvall)\b|"
              r"\b(ta|tog|tagit|svalt|svalde|samla\w*)\s+(pa\s+mig\s+)?(alla|massa|en\s+massa|manga|for\s+manga|hela|en\s+hel\s+\w+|"
              r"en\s+burk|tabletter|piller|somntabletter)\b|\b(too\s+many|a\s+lot\s+of)\s+pills\b"),
    (SUICIDE, r"\bhoppa\s+(ut\s+)?(fran|framfor|ner\s+fran|ut\s+fran)\s+(\w+\s+)?(bro\w*|taket|tak|balkong\w*|tag\w*|"
              r"toget|fonstret|huset|jarnvags\w*)\b|\bpa\s+(ralsen|spar\w*)\b|\bstar\s+pa\s+(taket|bron)\b|"
              r"\b(kora|kor|ratt)\s+(rakt\s+)?(in\s+i|av)\s+(\w+\s+){0,2}(lastbil|langtradare|trad|vagen|bergvagg|betong\w*)\b"),
    (SUICIDE, r"\btanker\s+pa\s+doden\b|\bplanera\w*\s+(mitt\s+)?(sjalvmord|min\s+dod|hur\s+jag)\b|\bkopt\s+(ett\s+)?rep\b"),
    (SUICIDE, r"\bkill\s+(myself|herself|himself|themselves)\b|\bend(ing)?\s+(it\s+all|my\s+life|his\s+life|her\s+life|it)\b|"
              r"\b(want|wanna|wish)\s+(to\s+)?(die|be\s+dead|disappear)\b|\bdon'?t\s+want\s+to\s+(live|be\s+alive|wake\s+up|be\s+here)\b|"
              r"\b(no|any)\s+(point|reason)\s+(in\s+|for\s+me\s+)?(living|to\s+live|being\s+alive|to\s+be\s+here|being\s+here)\b|"
              r"\bbetter\s+off\s+(without\s+me|if\s+i)\b|\btake\s+my\s+(own\s+)?life\b|\b(be|being)\s+here\s+anymore\b|"
              r"\bsaid\s+goodbye\s+to\s+everyone\b|\bgave\s+away\s+(all\s+)?(his|her|my)\s+(things|stuff)\b|"
              r"\bcan'?t\s+(do\s+this|go\s+on)\s+anymore\b"),
    # --- violence in a close relationship --------------------------------
    (VIOLENCE, r"\bvald\s+i\s+(nara\s+)?relation\w*|\bvald\s+i\s+hemmet\b|\bkvinnofrid\w*|\bkvinnojour\w*|"
               r"\bskydd(at|ade|att|at)\s+boende\b|\bkontaktforbud\b|\bbesoksforbud\b|\bheders\w*|\btvangsaktenskap\w*|"
               r"\bfamiljevald\b|\bpartnervald\b|\bvaldsam\w*\s+(man|partner|sambo|kille|pojkvan)\b|"
               r"\bdomestic\s+(violence|abuse)\b|\babusive\s+(partner|husband|wife|relationship|boyfriend)\b|"
               r"\bwomen'?s\s+shelter\b|\bshelter\b.{0,40}\b(husband|partner|violent)\b|\bviolent\s+(husband|partner|boyfriend)\b"),
    (VIOLENCE, r"\b((min|mitt|mina|my|hennes|hans|her|his|sin|sitt)\s+((\w+\s+)?" + _PARTNER + "|" + _RELATIVE + ")|" + _PARTNER_BARE
               + r")\s+(\w+\s+){0,3}" + _VIOLENT_VERB + r"\s+(att\s+\w+\s+)?(\w+\s+){0,2}" + _VICTIM + r"\b"),
    (VIOLENCE, r"\b(min|mitt|mina|my)\s+" + _PARTNER + r"\s+(\w+\s+){0,3}(slar|slog|misshandla\w*|hotar|hotade|sparkar|"
               r"stryper|strop|knuffar|valdtog|valdtar|hits|hit|beats|beat|pushed|choked|chokes|threatens|threatened|"
               r"hurts|hurt|raped|rapes|abuses|abused|slaps|slapped|kicks|kicked)\b"),
    (VIOLENCE, r"\b(?:jag|ja|i)(?:'m|\s+(?:blir|blev|har\s+blivit|ar|am|was|got|get))\s+(\w+\s+)?(slagen|misshandlad|valdtagen|"
               r"strypt|sparkad|beaten|abused|hit|raped|choked)\b"),
    (VIOLENCE, r"\b(hotad|slagen|slagna|misshandlad|sparkad|strypt|valdtagen|knuffad|kontrollerad|forfoljd|threatened|beaten|abused|hit)\s+"
               r"(av|by)\s+(min|mitt|sin|sitt|my|her|his)\s+(\w+\s+)?(" + _PARTNER + "|" + _RELATIVE + r")\b"),
    (VIOLENCE, r"\b(blir|blev|har\s+blivit)\s+(slagen|misshandlad|valdtagen|slagna)\s+(av|hemma)\b"),
    (VIOLENCE, r"\b(struptag|strypgrepp|stryptag|tog\s+mig\s+(i|om)\s+halsen|strop)\b"),
    (VIOLENCE, r"\b(radd|livradd|radder|skrammd|afraid|scared)\s+(for|of)\s+(min|mitt|my|hur\s+min)\s+" + _PARTNER + r"\b"),
    (VIOLENCE, r"\b(vagar|vagar\s+ja|dare)\s+(inte|not)\s+(\w+\s+){0,2}(ga|aka|komma|vara|go|come)\s+(\w+\s+)?hem\w*\b|"
               r"\bscared\s+to\s+go\s+home\b|\bvagar\s+inte\s+vara\s+hemma\b"),
    (VIOLENCE, r"\b(fly\w*|rymma|komma\s+bort|ta\s+mig)\s+(fran|ifran|undan|bort\s+fran)\s+(min|mitt)\s+" + _PARTNER + r"\b|"
               r"\bleave\s+my\s+(violent\s+)?(husband|partner|boyfriend)\b"),
    (VIOLENCE, r"\b(tvingar|tvingade|tvinga)\s+(mig|mej|henne|honom)\s+(till\s+sex|att\s+ha\s+sex|att\s+gifta)\b|"
               r"\b(giftas|gifta)\s+bort\b|\btvinga\w*\s+(\w+\s+){0,2}att\s+gifta\s+(mig|sig)\b"),
    (VIOLENCE, r"\b(ska|kommer\s+att|hotar\s+att|hotat\s+att|hotade\s+att|said\s+he\s+would|will)\s+(doda|morda|kill)\s+"
               r"(mig|mej|me|henne|her|oss|us)\b"),
    (VIOLENCE, r"\b(kontrollerar|tar|laser|sparar\s+min)\s+(\w+\s+){0,2}(pengar|telefon|mobil|meddelanden|lon)\b.{0,40}"
               r"\b(han|hon|min|sambo|man)\b|\b(han|hon|min\s+\w+)\s+(kontrollerar|bestammer)\s+(allt|vem|vad|mina)\b|"
               r"\b(laser|lasa)\s+in\s+(mig|mej)\b|\bsprider\s+(naken)?bilder\s+pa\s+mig\b|\bforfoljer\s+mig\b|"
               r"\b(controls|control)\s+(all\s+)?(of\s+)?(my|our)\s+(money|phone)\b|\bstalking\s+me\b"),
    (VIOLENCE, r"\butan\s+att\s+(min|mitt)\s+" + _PARTNER + r"\s+(\w+\s+)?(far\s+veta|vet\s+om|marker)\b|"
               r"\butsatt\s+for\s+(vald|hot|misshandel|overgrepp)\b|\bvaldsutsatt\w*|"
               r"\b(far|fick)\s+inte\s+valja\s+vem\s+(jag|hon|han|vi)\s+ska\s+gifta\b|\b(trycker|bryter)\s+ner\s+mig\b|\bpsykisk\w*\s+(misshandel|vald)\b|\bkallar\s+mig\s+(hora|saker)\b"),
    (VIOLENCE, r"\b(he|she)\s+(hits|beats|hurts|chokes|kicks|slaps|threatens)\s+me\b|\b(hits|beats|hurt)\s+me\s+when\b"),
    # --- a child at risk -------------------------------------------------
    (CHILD, r"\bfar\s+illa\b|\boros\s*anmal\w*|\borosanmal\w*|\banmalningsplikt\w*|\banmalningsskyldig\w*|"
            r"\bchild\s+(abuse|neglect)\w*|\bneglect\w*|\bbeing\s+abused\b|\bgrooming\b"),
    (CHILD, _PARENT + r"\s+(\w+\s+){0,3}" + _VIOLENT_VERB + r"\s+(\w+\s+){0,2}(mig|mej|oss|mina\s+syskon|min\s+(lille|stor)\w+|"
            r"me|us)\b"),
    (CHILD, r"\b(my|min|mitt)\s+" + _PARENT + r"\s+(\w+\s+){0,2}(hits|hit|beats|beat|hurts|hurt|kicks|touches|locks)\s+me\b"),
    (CHILD, r"\b(fa|far|fatt|ge\s+mig|ger\s+mig|ge\s+mej)\s+stryk\b|\bingen\s+mat\s+(hemma|pa)\b|\b(far|fick)\s+ingen\s+mat\b|"
            r"\bger\s+(mig|oss)\s+ingen\s+mat\b|\bdon'?t\s+feed\s+(me|us|them)\b"),
    (CHILD, r"\b(ensam|ensamma)\s+hemma\s+(\w+\s+){0,3}(dag|dagar|dygn|natt|natter|kvall\w*|sen|sedan|fredags|hela)\b|"
            r"\b(lamnat|lamnar|lamnade)\s+(\w+\s+){0,3}ensam\w*\s+hemma\b|\bleft\s+(alone|on\s+their\s+own|on\s+his\s+own|on\s+her\s+own)\b"),
    (CHILD, r"\b(?:jag|ja|i)(?:'m|\s+(?:e|ar|am))\s+(\d{1,2})\b.{0,60}\b(slar|slog|full|fulla|dricker|druck\w*|stryk|radd|ingen\s+mat|"
            r"hits|drunk|scared|tar\s+pa|vill\s+traffa)\b"),
    (CHILD, r"\b(morsan|farsan|mamma|pappa|foraldrar\w*|styv\w+)\s+(\w+\s+){0,2}((ar|e|blir|var|are|is)\s+(\w+\s+)?"
            r"(full|fulla|packad|packade|berusad\w*|drogad\w*|hog|drunk|high)|dricker|knarkar|super)\b"),
    (CHILD, r"\b(radd|radda|skrammd)\s+(att|for\s+att)\s+(ga|aka|komma)\s+hem\b|\b(radd|skrammd)\s+for\s+(min\s+)?" + _PARENT + r"\b|"
            r"\b(inte|aldrig)\s+(vill|vagar)\s+(ga|aka|komma)\s+hem\b|\bvill\s+inte\s+(ga|aka|komma)\s+hem\b|\bvagar\s+inte\s+ga\s+hem\b|"
            r"\binte\s+far\s+(komma|ga)\s+hem\b|\bfar\s+inte\s+(komma|ga)\s+hem\b"),
    (CHILD, r"\b(barn\w*|unge|ungen|ungar|ungarna|ungdom\w*|elev\w*|bebis\w*|spadbarn\w*|pojke\w*|flick\w*|kid\w*|child\w*|tonaring\w*|"
            r"\d{1,2}-?aring\w*|\w+aring(en|ar|arna)?|\w*ungar\w*|son|dotter|barnbarn\w*|brorson|systerson|kusin)\b.{0,60}\b(blamarken|blamarke|marken\s+efter|slagen|"
            r"slagna|misshandla\w*|hungrig\w*|utsvult\w*|svalt\w*|ensam\w*\s+hemma|sover\s+(ute|i\s+en\s+bil)|knark\w*|droger|langar|"
            r"ska\s+giftas|ute\s+mitt\s+i\s+natten|skakade|skakar|laser\s+in|lases\s+in|lacker\s+in|bruises|abused|beaten|neglected)\b"),
    (CHILD, r"\b(skakade|skakar|slog|slar|sparkade)\s+(sin|sitt|sina)\s+(bebis|barn|son|dotter|unge)\b|"
            r"\b(tar|tog|ror|rorde)\s+pa\s+mig\s+(pa\s+ett\s+satt|fast|nar)\b|\b(vuxen|vuxen\s+man|gubbe|aldre\s+(man|kille)|en\s+man)\s+(\w+\s+){0,3}(pa\s+natet|online)\b|"
            r"\binte\s+far\s+beratta\b|\bfar\s+inte\s+beratta\b|\bskylla\s+mig\s+sjalv\b|"
            r"\bhemlighet\b.{0,40}\b(far\s+inte|beratta)\b"),
    (CHILD, r"\b(ingen|inte)\s+hamtar\s+mig\b|\b(hemskt|otryggt|farligt|jobbigt)\s+(att\s+vara\s+)?hemma\b|\bsvarar\s+inte\b.{0,30}\b(hant|hander)\s+(manga|flera)\b"),
    # --- acute danger ----------------------------------------------------
    (ACUTE, r"\b(det\s+)?brinner\b|\bbrand\s+i\b|\b(ryker|rok)\s+(ur|fran|i)\b|\belden\s+(sprider|har)\b|\b(on\s+fire|is\s+burning)\b|"
            r"\bfire\s+in\s+(my|the|our)\b|\bskogsbrand\b"),
    (ACUTE, r"\b(luktar|lukt\s+av|smell)\s+(\w+\s+){0,2}gas\b|\bgasledning\w*|\bsmell\s+smoke\b|\bgaslacka\w*|\bgas\s+leak\b"),
    (ACUTE, r"\bmedvetslos\w*|\bandas\s+(inte|knappt|konstigt|daligt|inte\s+ordentligt)\b|\bslutat\s+andas\b|\bnot\s+breathing\b|"
            r"\bunconscious\b|\b(vaknar|vakna)\s+inte\b|\bgar\s+inte\s+att\s+vacka\b|\bwon'?t\s+wake\s+up\b|\bror\s+sig\s+inte\b|"
            r"\bligger\s+(helt\s+)?still\b|\bsvarar\s+inte\s+nar\s+(jag|man|vi)\b|\bsvimma\w*|\bcollapsed\b|\bramlat\s+ihop\b|"
            r"\bbla\s+(runt|om)\s+(munnen|lapparna)\b|\bkrampanfall\b|\ballergichock\b"),
    (ACUTE, r"\b(stroke|hjart(attack|stopp|infarkt))\s+(just\s+)?(nu|tror|precis)\b|\btror\s+(\w+\s+){0,3}(stroke|hjartattack|hjartstopp)\b|"
            r"\b(fatt|fick|far)\s+(en\s+)?(stroke|hjart(attack|stopp|infarkt))\s+(nu|just|precis|idag|i\s+kvall|och\s+(andas|svarar))\b|"
            r"\b(precis|just)\s+(fatt|fått)\s+(en\s+)?(stroke|hjart\w+)\b|\bhaving\s+a\s+(stroke|heart\s+attack)\b|\b\w*ont\s+i\s+brostet\b|\bchest\s+pain\b|\bhanger\s+i\s+ansiktet\b|"
            r"\bansiktet\s+hanger\b|\bpratar\s+sluddr\w*|\bblod\w*\s+(jatte\s*mycket|mycket|kraftigt)\b|\bslutar\s+inte\s+blo\w*|"
            r"\bbleeding\s+(a\s+lot|badly)\b"),
    (ACUTE, r"\b(svalt|svalde|druckit|atit|atit\s+upp)\s+(\w+\s+){0,2}(diskmaskinstablett\w*|tablett\w*|tandvatska|rattgift|gift|"
            r"rengoring\w*|klorin|batteri|lampolja|medicin\w*)\b|\bforgiftning\b|\bforgiftad\b|\bgiftinformation\w*"),
    (ACUTE, r"\b(kniv|kniven|pistol|pistolen|vapen|vapnet|gevar\w*|yxa|knife|gun|weapon)\b.{0,40}\b(hotar|hotade|viftar|har|with|"
            r"outside|utanfor|ute|threat\w*|pa\s+torget|skolan)\b|\b(hotar|hotade|hotat)\s+(\w+\s+){0,2}(med\s+)?(kniv|pistol|vapen)\b|"
            r"\b(with|med)\s+(a\s+|en\s+)?(knife|gun|kniv|pistol)\b"),
    (ACUTE, r"\b(skjuter|skjuts|skottlossning|skott\s+(avlossa\w*|hors)|shooting|shots\s+fired)\b|\bbomb\s*hot\w*|\bbomb\s+threat\b"),
    (ACUTE, r"\b(bryter|forsoker\s+ta)\s+sig\s+in\b|\bta\s+sig\s+in\s+(genom|hos)\b|\bbreaking\s+in(to)?\b|\binbrott\s+(nu|pagar|just\s+nu)\b|"
            r"\bforsoker\s+(oppna|bryta\s+upp)\s+(min\s+|var\s+)?(dorr|dorren|fonster\w*)\b|\battackera\w*\b|\bforfoljd\s+av\b"),
    (ACUTE, r"\b(genom|ner\s+i)\s+isen\b|\bdrunkn\w*|\b(ramlat|trillat|fallit|akt)\s+(ner\s+)?i\s+(vattnet|sjon|an|alven|kanalen)\b|"
            r"\b(bil|bilen|car)\s+(\w+\s+){0,3}(i|ner\s+i|into\s+the)\s+(an|sjon|vattnet|diket|river|lake|water)\b|"
            r"\bsitter\s+(fast|kvar)\s+i\s+(bilen|den|vraket)\b|\bfell\s+into\s+the\b|\bdrowning\b"),
    (ACUTE, r"\b(trafik)?olycka\b.{0,40}\b(nu|precis|just|skadad\w*|fast|blöder|ligger)\b|\b(car\s+)?accident\b|\bkort\s+pa\s+en\s+"
            r"(cyklist|fotgangare|person|barn)\b|\bnedslagen\b|\bhuggorm\w*|\bhar\s+(fallit|ramlat)\s+(\w+\s+){0,4}(svarar\s+inte|"
            r"slagit\s+i\s+huvudet|kommer\s+inte\s+upp)\b"),
    (ACUTE, r"\bakut\s+(fara|hjalp|nodlage|lage)\b|\bnodlage\b|\bemergency\b|\bin\s+danger\b|\bi\s+akut\s+fara\b|"
            r"\bi\s+fara\s+(nu|just\s+nu)\b|\binstangd\b|\b(nagon|nan|en\s+(man|kvinna|person|kille|tjej|gubbe|tant)|ett\s+barn|han|hon|someone)\s+(\w+\s+){0,2}ligger\s+"
            r"(pa|i)\s+(marken|golvet|gatan|trottoaren|diket|snon)\b|\bsomeone\s+is\s+(breaking|attacking)\b"),
]

RULES: List[Tuple[str, Pattern]] = [(category, re.compile(pattern)) for category, pattern in _RULES]

_PARENT_HURTS_ME = re.compile(
    r"\b" + _PARENT + r"\s+(\w+\s+){0,3}" + _VIOLENT_VERB + r"\s+(\w+\s+){0,2}(mig|mej|oss|me|us)\b"
)


def prepare(text: str) -> str:
    """The folded text with harmless uses of signal words blanked out."""
    folded = " ".join(fold(text).replace("’", "'").split())
    return GUARDS.sub(" " + HARMLESS + " ", folded)


def matches(text: str) -> Dict[str, List[str]]:
    """The categories whose patterns match the message, with the matched text."""
    return matches_prepared(prepare(text))


def matches_prepared(prepared: str) -> Dict[str, List[str]]:
    """matches() for text that has been through prepare()."""
    found: Dict[str, List[str]] = {}
    for category, pattern in RULES:
        match = pattern.search(prepared)
        if match:
            found.setdefault(category, []).append(match.group(0))
    if VIOLENCE in found and _PARENT_HURTS_ME.search(prepared):
        # A parent hurting the writer is a child at risk, not a relationship.
        found.setdefault(CHILD, []).extend(found.pop(VIOLENCE))
    return found


def categories(text: str) -> Set[str]:
    return set(matches(text))
