"""Sixty-odd texts a practice might send, written for clinicline: what must go out (the
outbox's own sends, reminders, "please call us") and what must not (a name, a date, a
number, a diagnosis). Each leaking text names a kind the guard must find in it."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicline import phiguard
from clinicline.phiguard import Recipient

# Demo Family Medicine's options, as the outbox would pass them.
PRACTICE = {"allowed_numbers": ["+16175550100"], "link_host": "clinic.example.org",
            "practice_name": "Demo Family Medicine",
            "allowed_names": ["Dr. Amara Osei", "Nora Quigley", "Refills"]}
WALTER = Recipient(name="Walter Okafor", date_of_birth=dt.date(1958, 4, 2), mrn="RFM-100142",
                   address={"street": "14 Elm Street", "city": "Springfield", "zip": "01101"},
                   phone="+16175550142")

SAFE = [
    "Hello, this is a message from Dr. Amara Osei's office regarding your appointment. "
    "Please call us back at 617-555-0100. Thank you.",
    "Reminder: you have an appointment with Dr. Osei at Demo Family Medicine. Reply C to "
    "confirm, R to reschedule, STOP to opt out.",
    "URGENT message for Demo Family Medicine: open https://clinic.example.org/p/demo/k7m2x9/ "
    "code 4821",
    "Demo Family Medicine: EMERGENCY message. Open https://clinic.example.org/a/abcdefghjkmn "
    "or reply 1 to acknowledge (code 2000).",
    "If this is a medical emergency, call 911 now. Please do not wait for a reply to your text.",
    "We received your text and will reply during office hours. Texts are not for emergencies: "
    "if this is a medical emergency, call 911.",
    "Please call or text 988, the Suicide and Crisis Lifeline, or call Poison Control at "
    "1-800-222-1222.",
    "Demo Family Medicine: please call us at (617) 555-0100.",
    "Please call us at +1 617 555 0100 during office hours.",
    "Your clinicline verification code is 482913. It expires in 10 minutes.",
    "Your clinicline verification code is 4, 8, 2, 9, 1, 3. Again: 4, 8, 2, 9, 1, 3.",
    "3 new messages in Refills",
    "1 new message in Front desk",
    "Demo Family Medicine: an URGENT message has not been acknowledged by anyone on call. "
    "Sign in to clinicline now.",
    "This is Demo Family Medicine's answering service. An urgent message is waiting for you. "
    "Please sign in to clinicline to see and acknowledge it.",
    "You are invited to clinicline. Demo Family Medicine has added you to clinicline. Set your "
    "password here (the link works once, for 3 days): https://clinic.example.org/invite/abc",
    "Acknowledged. Open https://clinic.example.org/a/abcdefghjkmn for the message.",
    "No open page has that code.",
    "Passed on to the next person on the policy.",
    "Nora Quigley is on call without a verified phone number.",
    "Office hours are 8:00 to 17:00, Monday to Friday. Reply HELP for help.",
    "You are now unsubscribed and will receive no more texts. Reply START to opt back in.",
    "Will you be able to come in next week? May we call you to arrange it?",
    "Please bring your insurance card and a photo ID to your visit.",
    "Our office will be closed on Monday for the holiday.",
    "Thank you for choosing Demo Family Medicine. Reply STOP to opt out.",
    "Hope to see you soon. Please call us to book your annual visit.",
    "Your invoice is ready. Please call us at 617-555-0100 to pay by phone.",
    "Please call Dr. Osei's office back when you can.",
    "We tried to reach you. Please call us back at 617.555.0100.",
    "Please call Dr. Osei’s office back when you can.",
]

LEAKING = [
    ("Walter, please call us at 617-555-0100.", "name"),
    ("Mr. Okafor, your results are in.", "name"),
    ("Dear OKAFOR, please call us.", "name"),
    ("Your date of birth 04/02/1958 is on file.", "date_of_birth"),
    ("Born April 2nd, please confirm.", "date_of_birth"),
    ("Please confirm 1958-04-02 is right.", "date_of_birth"),
    ("Confirm DOB 04021958.", "date_of_birth"),
    ("Your chart rfm 100 142 is ready.", "mrn"),
    ("We will send it to 14 Elm Street.", "address"),
    ("Is your ZIP code still 01101?", "address"),
    ("We will call your cell, (617) 555-0142.", "phone"),
    ("Your appointment is on 12/10/2026 at 9:30.", "date"),
    ("Seen on 2 March 1971.", "date"),
    ("Family history since 1899.", "date"),
    ("Call your son at (617) 555-0199.", "phone"),
    ("Fax the form to 415-555-2671.", "phone"),
    ("Call +44 20 7946 0958 about your claim.", "phone"),
    ("Write to walter.okafor@example.com with questions.", "email"),
    ("Your SSN 123-45-6789 is on file.", "ssn"),
    ("Member ID MBR-4432190 is on file.", "record_number"),
    ("Account number 88120045 is overdue.", "record_number"),
    ("Card 4111 1111 1111 1111 was declined.", "record_number"),
    ("See https://portal.otherhealth.com/results for details.", "url"),
    ("Log in at www.example.com to pay.", "url"),
    ("Your device 192.168.10.44 reported a reading.", "ip"),
    ("Please call Maria Gonzalez about the forms.", "person_name"),
    ("Your husband Kwabena asked us to call.", "person_name"),
    ("Ask for Grace when you call.", "person_name"),
    ("Dr. Kwame Mensah asks you to call back.", "person_name"),
    ("Hi Jennifer, please call us.", "person_name"),
    ("Your A1C came back high.", "test"),
    ("Your biopsy results are ready.", "test"),
    ("The MRI showed no change.", "test"),
    ("Your HIV test was negative.", "test"),
    ("Your pregnancy test is positive, please call.", "test"),
    ("Time to refill your metformin.", "medication"),
    ("Your Zoloft prescription is ready.", "medication"),
    ("Your oncology appointment is confirmed.", "specialty"),
    ("Reminder: psychiatry follow-up next week.", "specialty"),
    ("Your visit with the fertility clinic is confirmed.", "specialty"),
    ("We have your OB/GYN referral.", "specialty"),
    ("Your colonoscopy prep instructions are attached.", "test"),
    ("Your knee replacement surgery is scheduled.", "procedure"),
    ("How is your diabetes today?", "condition"),
    ("We hope your migraines are better.", "condition"),
    ("Please call about your depression screening.", "condition"),
    ("Your chemotherapy session is at 9.", "procedure"),
    # A clinical word with a possessive, as "{provider}'s office" renders a roster name
    # that carries a specialty; the curly apostrophe reads as the straight one.
    ("Dr. Osei, Oncology's office: please call us.", "specialty"),
    ("Dr. Osei, Oncology’s office: please call us.", "specialty"),
    ("Your biopsy's results are ready.", "test"),
    ("Your metformin’s refill is ready.", "medication"),
    ("Walter’s appointment is confirmed.", "name"),
    ("OKAFOR’S chart is ready.", "name"),
    ("Please call Maria Gonzalez’s office.", "person_name"),
]


@pytest.mark.parametrize("text", SAFE)
def test_what_clinicline_sends_goes_out(text):
    verdict = phiguard.check(text, recipient=WALTER, **PRACTICE)
    assert verdict.allowed, [(text[f.start:f.end], f.type) for f in verdict.findings]


@pytest.mark.parametrize("text,kind", LEAKING)
def test_what_leaks_is_blocked_and_named(text, kind):
    verdict = phiguard.check(text, recipient=WALTER, **PRACTICE)
    assert verdict.verdict == "block"
    assert kind in verdict.types, [(text[f.start:f.end], f.type) for f in verdict.findings]


@pytest.mark.parametrize("text", SAFE + [text for text, _ in LEAKING])
def test_a_reused_look_gives_every_text_of_the_table_the_same_verdict(text):
    fresh = phiguard.check(text, recipient=WALTER, **PRACTICE)
    phiguard.check(text, recipient=Recipient(name="Ada Lee"), reuse=True, **PRACTICE)
    assert phiguard.check(text, recipient=WALTER, reuse=True, **PRACTICE) == fresh


def test_the_table_is_big_enough_and_balanced():
    assert len(SAFE) + len(LEAKING) >= 60
    assert len(SAFE) >= 25 and len(LEAKING) >= 25


def test_each_finding_is_a_span_of_the_text_and_has_its_category():
    text = "Walter, your A1C from 04/02/1958 is at https://other.example.com"
    verdict = phiguard.check(text, recipient=WALTER, **PRACTICE)
    spans = {(text[f.start:f.end], f.type, f.category) for f in verdict.findings}
    assert spans == {("Walter", "name", "identifier"), ("A1C", "test", "clinical"),
                     ("04/02/1958", "date_of_birth", "identifier"),
                     ("https://other.example.com", "url", "identifier")}


def test_nothing_is_allowed_unless_the_caller_says_so():
    # Without the practice's options, its own number and its provider are just a number and
    # a name.
    text = "Dr. Amara Osei: please call 617-555-0100."
    assert phiguard.check(text).types == ["person_name", "phone"]
    assert phiguard.check(text, **PRACTICE).allowed
