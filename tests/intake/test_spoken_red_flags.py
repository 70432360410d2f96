"""The protocol's spoken red flags on generated speech: a caller who leaves a voicemail
about a presentation added to the default protocol (an infant's fever, an overdose, a
stroke, thoughts of suicide) is heard through the real worker path — the IVR's webhooks,
the worker's fetch, pocketsphinx's transcript and keyword spotting — and the message rises
to that presentation's priority; a caller who says "no chest pain" stays routine."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from clinicline.intake import transcribe
from clinicline.triage import service as triage
from clinicline.triage.engine import decide
from clinicline.triage.spec import SPOKEN
from tests.gateways.test_webhooks import make_gateway
from tests.intake.test_transcribe import flite, reread, routine_voicemail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path):
    with override_settings(DATA_DIR=tmp_path):
        yield tmp_path


@pytest.fixture(autouse=True)
def gateway(practice):
    return make_gateway(practice, test_mode=True, delete_recordings=True)


# --- the phrases ---------------------------------------------------------------------------

def test_every_spoken_phrase_of_the_default_protocol_is_in_the_speech_dictionary(practice):
    """A word the model cannot say is never listened for (the keyword decoder would not
    load): each one is named here, so the file's author can respell it."""
    dictionary = transcribe.general_decoder(transcribe.MODEL_RATE)
    spoken = triage.protocol_for(practice).spec.spoken_phrases
    unknown = sorted({w for phrase in spoken for w in phrase.split()
                      if not dictionary.lookup_word(w)})
    assert unknown == []
    assert all(SPOKEN.fullmatch(p) for p in spoken)


def test_most_red_flags_of_the_default_protocol_are_listened_for(practice):
    """The flags a caller says out loud carry spoken phrases; the few without are
    findings that only matter beside another (a man, confusion, any bleeding)."""
    flags = triage.protocol_for(practice).spec.red_flags
    heard = [f for f in flags if f.spoken]
    assert len(heard) >= 0.9 * len(flags)
    assert len({p for f in flags for p in f.spoken}) >= 350


def test_each_new_presentation_is_listened_for_in_a_callers_words(practice):
    spec = triage.protocol_for(practice).spec
    for phrase, flag in [("newborn has a fever", "young-infant"),
                         ("took too many pills", "self-harm"),
                         ("face is drooping", "stroke"),
                         ("don't want to live", "suicidal-thoughts"),
                         ("water broke", "labour"), ("vomiting blood", "gi-bleed")]:
        assert phrase in spec.spoken_phrases
        assert flag in decide(spec, "refill", {}, [phrase]).red_flags


# --- voicemails ----------------------------------------------------------------------------

@pytest.mark.parametrize(("words", "priority", "flag"), [
    ("My baby is six weeks old and has a fever.", "emergency", "fever"),
    ("I took too many pills.", "emergency", "self-harm"),
    ("I think my wife is having a stroke. Her speech is slurred.", "emergency", "stroke"),
    ("I don't want to live anymore.", "emergency", "suicidal-thoughts"),
])
def test_a_voicemail_of_a_new_presentation_rises_to_its_priority(practice, data_dir, words,
                                                                  priority, flag):
    message = routine_voicemail(practice, data_dir, flite(words))

    assert transcribe.transcribe_due() == 1

    message = reread(message)
    assert message.priority == priority and message.triage["raised_by"] == "transcript"
    assert flag in message.triage["red_flags"]


def test_a_spoken_no_chest_pain_stays_negated(practice, data_dir):
    message = routine_voicemail(practice, data_dir,
                                flite("I have no chest pain at all, I just need my refill."))

    assert transcribe.transcribe_due() == 1

    message = reread(message)
    assert "refill" in message.transcript and "phrases heard: chest pain" not in \
        message.transcript
    assert message.priority == "routine"


def test_no_chest_pain_is_spotted_whole():
    """The spotter hears "no chest pain" as one phrase, never "chest pain" alone, so the
    detector reads it negated."""
    spoken = ("chest pain", "no chest pain", "chest hurts")
    pcm = transcribe.read_wav(flite("No chest pain. I need a refill."))
    pcm = transcribe.Pcm(transcribe.upsample(pcm.samples, pcm.rate), transcribe.MODEL_RATE)
    decoder = transcribe.keyword_decoder(transcribe.MODEL_RATE, spoken)
    assert decoder is not None
    heard = transcribe.spotted(transcribe.run(decoder, pcm))
    assert "no chest pain" in heard and "chest pain" not in heard


def test_a_spotted_phrase_is_kept_only_when_the_transcript_shares_a_word():
    """The spotter "hears" some phrase in any speech; the transcript confirms the real
    ones ("my chest hurt" confirms "chest hurts"), and a function word confirms nothing."""
    spotted = ["chest hurts", "collapsed", "want to die"]
    assert transcribe.confirmed(spotted, "my chest hurt and i") == ["chest hurts"]
    assert transcribe.confirmed(spotted, "i want to know my results") == []
    assert transcribe.confirmed(spotted, "") == []
