"""What a patient's text asks for: every carrier keyword in any case and spacing, the
plain-language and Spanish opt-outs, reminder replies, and the texts that only look like
one ("my stomach pain won't stop")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicline.outreach.keywords import Kind, classify

OPT_OUT_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
                 "ALTO", "PARAR", "CANCELAR"]


@pytest.mark.parametrize("word", OPT_OUT_WORDS)
@pytest.mark.parametrize("shape", ["{}", "{}.", " {} ", "{}!", "{}!!", "\n{}\n"])
def test_every_opt_out_keyword_in_any_case_and_spacing(word, shape):
    for variant in (word, word.lower(), word.capitalize()):
        assert classify(shape.format(variant)).kind is Kind.OPT_OUT, shape.format(variant)


@pytest.mark.parametrize("body", ["Stop all", "opt out", "Opt-Out", "S T O P", "stop 🙏",
                                  "Unsubscribe.", "¡ALTO!", "Párar"])
def test_spaces_inside_a_keyword_and_accents_do_not_hide_it(body):
    assert classify(body).kind is Kind.OPT_OUT


@pytest.mark.parametrize("word,kind", [
    ("START", Kind.OPT_IN), ("start", Kind.OPT_IN), ("Yes", Kind.OPT_IN),
    ("UNSTOP", Kind.OPT_IN), ("HELP", Kind.HELP), ("info", Kind.HELP), ("Help?", Kind.HELP),
    ("ayuda", Kind.HELP),
    ("1", Kind.CONFIRM), ("C", Kind.CONFIRM), ("c.", Kind.CONFIRM), ("confirm", Kind.CONFIRM),
    ("2", Kind.CANCEL), ("3", Kind.RESCHEDULE), ("R", Kind.RESCHEDULE), ("r", Kind.RESCHEDULE),
    ("reschedule", Kind.RESCHEDULE),
])
def test_opt_in_help_and_reminder_replies(word, kind):
    assert classify(word).kind is kind


@pytest.mark.parametrize("body", [
    "please stop texting me", "Please stop texting me.", "STOP TEXTING ME", "stop messaging me",
    "Stop sending me these", "stop sending texts", "stop the texts please", "no more messages",
    "No more texts!!", "remove me from this list", "Remove my number please",
    "take me off your list", "don't text me again", "Do not text this number",
    "I want to revoke my consent", "unsubscribe me", "please opt me out",
    # Spanish
    "no me manden más mensajes", "No me envíen mensajes", "ya no quiero mensajes",
    "no más mensajes por favor", "dejen de enviarme mensajes", "quítenme de la lista",
    "quiero darme de baja",
])
def test_plain_language_opt_outs(body):
    reply = classify(body)
    assert reply.kind is Kind.OPT_OUT
    assert reply.evidence == "opt-out reply in plain words"  # never the patient's words


@pytest.mark.parametrize("body", [
    "my stomach pain won't stop", "The bleeding will not stop", "stop", "Can you stop by?",
    "I ran out of my medication, please call", "don't stop texting me the reminders",
    "Please don't stop messaging me", "when does the office end its day",
    "I need to cancel my credit card on file", "yes I can come at 3", "Help me please, my "
    "chest hurts", "1 more question about my bill", "C you tomorrow",
])
def test_texts_that_merely_contain_a_keyword_are_messages(body):
    reply = classify(body)
    if body == "stop":  # the one true keyword here, kept to show the contrast
        assert reply.kind is Kind.OPT_OUT
    else:
        assert reply.kind is Kind.NONE, body


@pytest.mark.parametrize("body,kind", [
    ("cancel my appointment", Kind.CANCEL), ("Cancel appointment please", Kind.CANCEL),
    ("cancelar mi cita", Kind.CANCEL), ("I need to reschedule", Kind.RESCHEDULE),
    ("reschedule my appt", Kind.RESCHEDULE),
])
def test_cancel_with_the_appointment_named_cancels_the_appointment_not_the_texts(body, kind):
    """A bare CANCEL is the carrier's opt-out (Twilio has already blocked the number);
    "cancel my appointment" is no carrier keyword, and means the appointment."""
    assert classify(body).kind is kind


def test_the_language_of_a_reply_decides_the_answers_language():
    assert classify("ALTO").language == "es"
    assert classify("no me manden más mensajes").language == "es"
    assert classify("STOP").language == "en"
    assert classify("please stop texting me").language == "en"


def test_a_long_text_is_a_message_even_if_it_ends_with_a_phrase():
    body = "I have a question about my bill " * 30 + " no more messages"
    assert classify(body).kind is Kind.NONE  # only its first 500 characters are read


@given(st.text(max_size=300))
def test_any_text_gets_a_kind_never_an_exception(body):
    reply = classify(body)
    assert reply.kind in Kind
    assert reply.word == "phrase" or reply.word == "" or len(reply.word) <= 16


@given(st.sampled_from(OPT_OUT_WORDS), st.text(alphabet=" .!?\t\n", max_size=5),
       st.text(alphabet=" .!?\t\n", max_size=5))
def test_an_opt_out_keyword_survives_any_surrounding_spaces_and_punctuation(word, before, after):
    assert classify(before + word + after).kind is Kind.OPT_OUT


@given(st.sampled_from(["my pain won't ", "it will not ", "the cough doesn't ", "can you "]),
       st.sampled_from(["stop", "end", "quit"]), st.text(alphabet="abc .", max_size=10))
def test_a_keyword_inside_a_sentence_is_never_an_opt_out(prefix, word, suffix):
    assert classify(prefix + word + suffix).kind is Kind.NONE
