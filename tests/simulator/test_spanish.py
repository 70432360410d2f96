"""A caller who speaks Spanish walks the whole IVR in the simulator: the offer in Spanish,
the menu in Spanish in a Spanish voice, a voicemail spoken by espeak-ng's Spanish voice,
and a message that records the language and the scripts version."""

from __future__ import annotations

import datetime as dt
import shutil
import zoneinfo

import pytest
import time_machine

from clinicline.inbox.models import Message, Recording
from clinicline.simulator.models import SimulatorEvent
from tests.conftest import signed_in
from tests.simulator.test_calls import account, data_dir, url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

AFTER_HOURS = dt.datetime(2026, 12, 5, 2, 10, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
WORDS = "Soy Walter Okafor, nací el tres de marzo. Llámenme al seis uno siete, cinco cinco cinco."


def test_a_spanish_caller_walks_the_whole_menu(nurse, practice, account, patient,  # noqa: F811
                                               data_dir):  # noqa: F811
    assert shutil.which("espeak-ng"), "espeak-ng (Debian package) is needed: `make debian`"
    with time_machine.travel(AFTER_HOURS, tick=True):
        clinician = signed_in(nurse)  # a nurse trying the line from a patient's phone
        html = clinician.post(url(practice, "call"), follow=True).content.decode()
        assert 'lang="es-US">Menu: “Para español, oprima 9.' in html

        html = clinician.post(url(practice, "keys"), {"key": "9"}, follow=True).content.decode()
        assert "Si tiene un problema médico urgente que no puede esperar, oprima 1." in html
        assert "Para resurtir una receta, oprima 3." in html
        assert "Para cualquier otro asunto, oprima 0." in html
        assert "For English, press 9." in html  # and the way back

        html = clinician.post(url(practice, "keys"), {"key": "3"}, follow=True).content.decode()
        assert "El buzón de voz no es un medio seguro" in html and "records a voicemail" in html

        html = clinician.post(url(practice, "voicemail"), {"words": WORDS},
                              follow=True).content.decode()
        assert "Gracias. Su mensaje fue enviado a la oficina." in html
        assert "Adiós." in html

    message = Message.objects.get()
    assert message.call_type == "refill" and message.language == "es"
    assert message.scripts_version == 1 and message.recording == Recording.objects.get()
    spoken = SimulatorEvent.objects.get(kind="record").body
    assert spoken == WORDS
    [audio] = (data_dir / "simulator").glob("*.wav")
    assert audio.stat().st_size > 8000  # Spanish speech, not a second of silence
