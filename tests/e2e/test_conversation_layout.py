"""The text conversation on the message page, photographed on a phone and a laptop
(var/screenshots/conversation-*), failing if anything runs off the screen; Grace, the
practice manager, answers through the real page: a blocked reply first, then a template."""

from __future__ import annotations

import pytest

from clinicline.accounts.roles import Role
from clinicline.inbox.models import Message
from clinicline.intake import texts
from clinicline.outbox.models import Delivery
from clinicline.outreach import replies
from tests.conftest import make_member, make_patient, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import SCREENSHOTS, check
from tests.gateways.test_webhooks import SMS, make_gateway, post, text


@pytest.mark.django_db(transaction=True)
def test_the_conversation_and_its_reply_form_fit_and_work(live_server, open_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    practice = make_practice()
    make_gateway(practice, test_mode=True)
    grace = make_member(practice, Role.PRACTICE_MANAGER, "grace")
    make_patient(practice, mrn="RFM-100142")
    for n, body in enumerate(["Hi, I got a letter about a balance on my account and I don't "
                              "understand it. Can someone explain it to me?",
                              "Also can you tell me what the charge from 12 November was for"]):
        post(SMS, text(body, MessageSid=f"SM{n:032x}"))
        texts.handle_texts()
    message = Message.objects.get()
    page = open_page()
    log_in(page, live_server.url, grace)
    page.goto(f"{live_server.url}/p/{practice.slug}/inbox/m/{message.pk}/")
    problems = check(page, "conversation-reply")

    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("#reply-body", "Hi Walter, the charge was for your flu shot.")
    page.click(".reply-form button[type=submit]")
    page.wait_for_load_state()
    assert "Not sent: the reply looks like it holds" in page.content()
    assert not Delivery.objects.filter(purpose=replies.STAFF_PURPOSE).exists()

    page.goto(f"{live_server.url}/p/{practice.slug}/inbox/m/{message.pk}/")
    page.check("input[name=template][value=billing]")
    page.click(".reply-form button[type=submit]")
    page.wait_for_load_state()
    assert "Reply queued" in page.content()
    assert Delivery.objects.filter(purpose=replies.STAFF_PURPOSE).count() == 1
    problems += check(page, "conversation-replied")
    assert problems == []
