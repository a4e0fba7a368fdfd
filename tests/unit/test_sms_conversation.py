"""The conversation of a report by text (chalicelib.domain.sms_intake), branch by branch,
with a town made of plain data and a clock the test moves (never the wall clock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import sms_intake as sms
from chalicelib.domain.gazetteer import GazetteerEntry, GazetteerIndex
from chalicelib.domain.place_words import find_place
from chalicelib.domain.sms_intake import FoundPlace, Question, ServiceChoice
from chalicelib.domain.sms_wording import fit, segments

T0 = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
POTHOLE = ServiceChoice("pothole", "Pothole")
SIDEWALK = ServiceChoice("sidewalk_damage", "Sidewalk damage")
OTHER = ServiceChoice("other", "Other")
PLACES = GazetteerIndex([
    GazetteerEntry("address", "12 Oak St", 44.98, -93.26, "Oak St", "12"),
    GazetteerEntry("address", "14 Oak St", 44.98, -93.26, "Oak St", "14"),
    GazetteerEntry("intersection", "Oak St & 3rd Ave", 44.981, -93.265),
    GazetteerEntry("landmark", "Maple Falls Public Library", 44.977, -93.266),
])


# The town's words in Spanish, as its catalogue words would give them (a town's own words
# without a translation stay as written: "Sidewalk damage", "How deep, in inches?").
SPANISH = {"Pothole": "Bache", "Other": "Otro", "About how big is it?": "¿Qué tan grande es?",
           "Small": "Pequeño", "Medium": "Mediano", "Large": "Grande"}


def _named(language: str, text: str) -> str:
    return SPANISH.get(text, text) if language == "es" else text


@dataclass
class Town:
    """TownFacts of plain data: "pothole"/"bache" is sure, "hole" is not; names in the
    language asked for (``SPANISH``)."""

    name: str = "Maple Falls"
    answers: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def guess(self, text: str, language: str) -> tuple[list[ServiceChoice], bool]:
        lowered = text.lower()
        found: tuple[list[ServiceChoice], bool] = ([], False)
        if "pothole" in lowered or "bache" in lowered:
            found = [POTHOLE, SIDEWALK], True
        elif "hole" in lowered or "broken" in lowered or "hoyo" in lowered:
            found = [POTHOLE, SIDEWALK, OTHER], False
        return ([ServiceChoice(c.code, _named(language, c.name)) for c in found[0]],
                found[1])

    def find_place(self, text: str) -> FoundPlace | None:
        entry = find_place(text, PLACES.suggest).entry
        return FoundPlace(entry.label, entry.lat, entry.long) if entry else None

    def questions(self, service_code: str, language: str) -> list[Question]:
        return [Question(q.code, q.datatype, _named(language, q.prompt),
                         tuple((key, _named(language, name)) for key, name in q.choices))
                for q in self._questions(service_code)]

    def _questions(self, service_code: str) -> list[Question]:
        if service_code == "pothole":
            return [Question("size", "singlevaluelist", "About how big is it?",
                             (("small", "Small"), ("medium", "Medium"), ("large", "Large"))),
                    Question("depth", "number", "How deep, in inches?")]
        if service_code == "sidewalk_damage":
            return [Question("hazard", "multivaluelist", "What kind of damage?",
                             (("lifted", "Lifted"), ("cracked", "Cracked"),
                              ("missing", "Missing"))),
                    Question("seen", "datetime", "When did you see it?"),
                    Question("note", "string", "Anything else?")]
        return []

    def answer(self, text: str, language: str) -> str | None:
        self.asked.append(text)
        return next((a for q, a in self.answers.items() if q in text.lower()), None)


def talk(town: Town, *texts: str, start: sms.Conversation | None = None,
         at: datetime = T0, language: str = "en") -> tuple[sms.Conversation | None,
                                                           list[sms.Outcome]]:
    """Send the texts one a minute; the conversation after the last, and each outcome."""
    conversation, outcomes = start, []
    for n, text in enumerate(texts):
        outcome = sms.receive(conversation, text, at + timedelta(minutes=n), town, language)
        outcomes.append(outcome)
        conversation = outcome.conversation if outcome.action != sms.FILE else None
    return conversation, outcomes


def test_a_sure_guess_and_a_known_address_are_confirmed_then_questions_then_filed():
    town = Town()
    _, said = talk(town, "pothole outside 12 Oak St", "YES", "3", "4.5")
    assert said[0].replies == ("Pothole at 12 Oak St? Reply YES, or send the right address.",)
    assert said[0].conversation.place == FoundPlace("12 Oak St", 44.98, -93.26)
    assert said[1].replies == ("About how big is it? Reply 1 Small, 2 Medium, 3 Large.",)
    assert said[2].replies == ("How deep, in inches? Reply with a number.",)
    last = said[3]
    assert (last.action, last.ended, last.replies) == (sms.FILE, True, ())
    report = last.conversation
    assert (report.service_code, report.answers) == ("pothole", {"size": "large",
                                                                 "depth": "4.5"})
    assert report.description == "pothole outside 12 Oak St"


def test_an_unsure_guess_lists_the_top_three_by_number():
    _, said = talk(Town(), "big hole by the library", "2")
    assert said[0].replies == ("Which problem is it? Reply 1 Pothole, 2 Sidewalk damage, "
                               "3 Other.",)
    assert said[0].conversation.step == sms.CHOOSE_SERVICE
    # The place found in the first text is kept for the confirmation.
    assert said[1].replies == ("Sidewalk damage at Maple Falls Public Library? Reply YES, "
                               "or send the right address.",)


def test_a_choice_that_is_not_on_the_list_is_asked_again():
    conversation, said = talk(Town(), "broken thing", "7", "Sidewalk damage")
    assert said[1].replies[0].startswith("Please reply with one number: 1 Pothole")
    assert conversation.service_code == "sidewalk_damage"
    assert said[2].replies == ("Sidewalk damage: where is it? Send the address or the "
                               "nearest corner, e.g. 'Oak St & 3rd Ave'.",)


def test_without_a_place_the_address_is_asked_for_and_a_corner_is_found():
    conversation, said = talk(Town(), "pothole", "YES", "oak st and 3rd ave")
    assert said[0].conversation.step == sms.ASK_PLACE
    assert said[1].replies == said[0].replies  # YES without a place: asked again
    assert said[2].replies == ("Pothole at Oak St & 3rd Ave? Reply YES, or send the right "
                               "address.",)
    assert conversation.place.label == "Oak St & 3rd Ave"


def test_a_different_address_replaces_the_guess():
    conversation, said = talk(Town(), "pothole outside 12 Oak St", "no, 14 Oak St")
    assert conversation.place.label == "14 Oak St"
    assert said[1].replies[0].startswith("Pothole at 14 Oak St?")


def test_an_address_the_map_lacks_is_asked_again_then_taken_as_written():
    conversation, said = talk(Town(), "pothole", "99 Nowhere Rd", "the old mill", "YES")
    assert said[1].replies == ("We couldn't find '99 Nowhere Rd'. Send the address or the "
                               "nearest corner, e.g. 'Oak St & 3rd Ave'.",)
    assert said[2].replies[0].startswith("We couldn't find it on our map. File it at "
                                         "'the old mill'")
    assert said[2].conversation.place == FoundPlace("the old mill")
    assert said[3].conversation.step == sms.QUESTION


def test_list_answers_by_number_or_name_and_many_at_once():
    conversation, said = talk(Town(), "broken slab at 12 Oak St", "2", "YES", "1 3",
                              "yesterday", "2026-11-19 08:00", "tree roots")
    assert said[3].replies == ("When did you see it? Reply with a date, e.g. 2026-11-20 "
                               "08:00.",)
    assert said[4].replies[0].startswith("Sorry, that isn't one of the choices. When did")
    final = said[6]
    assert final.action == sms.FILE
    assert final.conversation.answers == {"hazard": ["lifted", "missing"],
                                          "seen": "2026-11-19 08:00", "note": "tree roots"}


def test_a_wrong_answer_is_asked_again_without_moving_on():
    conversation, said = talk(Town(), "pothole outside 12 Oak St", "YES", "huge", "Medium",
                              "deep")
    assert said[2].replies[0].startswith("Sorry, that isn't one of the choices. About how big")
    assert conversation.answers == {"size": "medium"}
    assert said[4].replies[0].startswith("Sorry, that isn't one of the choices. How deep")
    assert conversation.question == "depth"


def test_yes_with_no_conversation_says_how_to_start():
    conversation, said = talk(Town(), "YES")
    assert conversation is None
    assert said[0].replies == ("No report in progress. Text what's wrong and where, e.g. "
                               "'pothole outside 12 Oak St'.",)


def test_thirty_minutes_of_silence_end_a_conversation():
    conversation, _ = talk(Town(), "pothole outside 12 Oak St")
    later = T0 + timedelta(minutes=sms.CONVERSATION_MINUTES)
    assert conversation.expired(later) and not conversation.expired(later - timedelta(
        seconds=1))
    _, said = talk(Town(), "YES", start=conversation, at=later)
    assert said[0].replies[0].startswith("No report in progress.")
    _, fresh = talk(Town(), "hole at 12 Oak St", start=conversation, at=later)
    assert fresh[0].conversation.step == sms.CHOOSE_SERVICE
    assert fresh[0].conversation.started_at == later


def test_each_text_keeps_a_conversation_alive():
    conversation, _ = talk(Town(), "pothole outside 12 Oak St")
    later = T0 + timedelta(minutes=25)
    conversation, _ = talk(Town(), "14 Oak St", start=conversation, at=later)
    assert not conversation.expired(later + timedelta(minutes=25))


def test_help_and_status_leave_the_conversation_where_it_was():
    conversation, said = talk(Town(), "pothole outside 12 Oak St", "HELP", "status k7qd-3m2p")
    assert said[1].replies[0].startswith("Maple Falls 311 by text:")
    assert said[1].conversation == said[0].conversation
    assert (said[2].action, said[2].argument) == (sms.STATUS, "k7qd-3m2p")
    assert conversation.step == sms.CONFIRM_PLACE


def test_status_works_without_a_conversation_in_either_language():
    _, said = talk(Town(), "ESTADO ABCD-1234")
    assert (said[0].conversation, said[0].action, said[0].argument) == (
        None, sms.STATUS, "ABCD-1234")


def test_cancelar_ends_the_report():
    conversation, said = talk(Town(), "pothole outside 12 Oak St", "cancelar")
    assert conversation is None and said[1].ended
    assert said[1].replies == ("Report cancelled. Text again any time.",)


def test_spanish_in_spanish_out_and_kept_for_the_conversation():
    conversation, said = talk(Town(), "hay un bache en 12 Oak St", "sí", "ok")
    assert said[0].replies == ("¿Bache en 12 Oak St? Responda SI, o envíe la dirección "
                               "correcta.",)
    assert conversation.language == "es"
    assert said[1].replies == ("¿Qué tan grande es? Responda 1 Pequeño, 2 Mediano, "
                               "3 Grande.",)
    assert said[2].replies[0] == ("Esa no es una de las opciones. ¿Qué tan grande es? "
                                  "Responda 1 Pequeño, 2 Mediano, 3 Grande.")
    _, help_ = talk(Town(), "AYUDA")
    assert help_[0].replies[0].startswith("Maple Falls 311 por texto:")
    _, yes = talk(Town(), "si", language="es")
    assert yes[0].replies[0].startswith("No hay ningún reporte en curso.")


def test_a_spanish_texter_chooses_and_answers_by_the_spanish_names():
    _, said = talk(Town(), "hay un hoyo en la calle", "bache", "12 Oak St", "si", "grande",
                   "4")
    assert said[0].replies == ("¿Cuál es el problema? Responda 1 Bache, 2 Sidewalk damage, "
                               "3 Otro.",)
    assert said[1].replies[0].startswith("Bache: ¿dónde está?")
    assert said[3].replies[0].startswith("¿Qué tan grande es? Responda 1 Pequeño")
    # A question the town wrote itself, without a translation, is asked as written.
    assert said[4].replies == ("How deep, in inches? Responda con un número.",)
    report = said[5].conversation
    assert said[5].action == sms.FILE
    assert (report.service_code, report.service_name) == ("pothole", "Bache")
    # The answer is kept in the catalogue's terms, whatever language it was given in.
    assert report.answers["size"] == "large"


def test_the_towns_default_language_is_used_when_the_text_does_not_say():
    _, said = talk(Town(), "pothole at 12 Oak St", language="es")
    assert said[0].conversation.language == "es"
    _, said = talk(Town(), "pothole at 12 Oak St", language="fr")
    assert said[0].conversation.language == "en"


def test_a_question_that_is_not_a_report_is_offered_to_the_answer_hook():
    town = Town(answers={"leaf pickup": "Leaf pickup is every Monday in November."})
    conversation, said = talk(town, "When is leaf pickup?")
    assert conversation is None
    assert said[0].replies == ("Leaf pickup is every Monday in November.",)
    # With no answer, a text that names no service is not understood.
    _, said = talk(Town(), "when is the library open?")
    assert said[0].replies[0].startswith("Sorry, we couldn't tell what the problem is.")


def test_a_report_is_not_sent_to_the_answer_hook_unless_it_reads_as_a_question():
    town = Town(answers={"pothole": "never say this"})
    talk(town, "pothole outside 12 Oak St")
    assert town.asked == []


def test_a_1600_character_text_is_cut_and_the_reply_says_so():
    text = "pothole outside 12 Oak St " + "it is very deep and dangerous " * 60
    assert len(text) > 1600
    conversation, said = talk(Town(), text[:1600])
    assert len(conversation.description) <= sms.DESCRIPTION_LIMIT
    assert said[0].replies[0].startswith("(Long text: we read the first 300 characters.) "
                                         "Pothole at 12 Oak St?")
    assert segments(said[0].replies[0]) <= 2


def test_emoji_are_dropped_and_never_break_the_conversation():
    conversation, said = talk(Town(), "🕳️ pothole 👎🏽 outside 12 Oak St 🚗💥", "🙂", "YES 🙂")
    assert conversation.description == "pothole outside 12 Oak St"
    # An emoji alone says nothing: the question is asked again.
    assert said[1].replies == said[0].replies
    assert said[1].conversation.step == sms.CONFIRM_PLACE
    assert said[2].conversation.step == sms.QUESTION
    # A thumbs-up alone (any skin tone) is a yes.
    _, thumbs = talk(Town(), "pothole outside 12 Oak St", "👍🏾")
    assert thumbs[1].conversation.step == sms.QUESTION
    _, only = talk(Town(), "🙂🙂🙂")
    assert only[0].conversation is None
    assert only[0].replies[0].startswith("Sorry, we couldn't tell")


def test_every_reply_fits_two_segments_in_either_alphabet():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # an extension: 2 septets
    assert segments("é" * 160) == 1  # in the GSM alphabet
    assert segments("ó" * 70) == 1 and segments("ó" * 71) == 2  # UCS-2
    assert segments("🙂" * 35) == 1 and segments("🙂" * 36) == 2  # two UTF-16 units each
    long = "¿" + "ó" * 400
    assert segments(fit(long)) == 2 and fit(long).endswith("…")
    assert fit("short") == "short"
    # A GSM-7 text keeps its alphabet when cut (three dots, not "…", which would make the
    # whole text UCS-2: 134 characters in two segments instead of 306), and cuts at a word.
    words = "Rake them to the edge of the curb, not into the street. " * 8
    cut = fit(words)
    assert cut.endswith("...") and segments(cut) == 2 and len(cut) > 250
    assert cut[:-3] == words[:len(cut) - 3] and words[len(cut) - 3] == " "


@pytest.mark.parametrize("text, language", [("hola, hay basura en la calle", "es"),
                                            ("the light is out on Main St", "en"),
                                            ("Bache en la esquina", "es"),
                                            ("en la", "es"), ("I left it", "en")])
def test_the_language_is_read_from_spanish_words(text, language):
    assert sms.detect_language(text, "en") == language


def test_status_names_a_step_in_the_texters_language_or_by_staffs_summary():
    from chalicelib.domain.sms_wording import step_words

    assert step_words("es", "routed", "Sent to Public Works") == "Enviado al departamento"
    assert step_words("en", "routed", "Sent to Public Works") == "Sent to Public Works"
    # A kind without Spanish words keeps the summary rather than saying nothing.
    assert step_words("es", "something_new", "Done") == "Done"
