"""The page's golden path in a real browser: an agent takes the urgent call; the on-call
provider's phone in the simulator shows the page (no PHI, a link); the provider opens the
link, signs in with MFA and acknowledges; the agent's read-back shows it acknowledged.
Also: an acknowledgement by an SMS reply typed on the simulator's phone."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from clinicline.accounts.roles import Role
from clinicline.oncall.models import ContactMethod, Policy
from clinicline.oncall.models import Page as PageRow
from clinicline.oncall.models import PolicyStep as Step
from clinicline.outbox import service as outbox
from clinicline.practices.models import GatewayAccount
from tests.conftest import PASSWORD, make_member, make_practice
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import SCREENSHOTS, check
from tests.e2e.test_urgent_clinical import SCENARIO, take_the_call

PROVIDER_PHONE = "+16175550190"


def next_code(user) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=1)
    return f"{code:06d}"


def on_call_provider(practice, kind: str = ContactMethod.Kind.SMS, wait_s: int = 300,
                     repeat: int = 2):
    GatewayAccount.objects.create(practice=practice, phone_number="+16175550100",
                                  account_sid="AC" + "1" * 32, auth_token="t",
                                  test_mode=True)  # the simulator is the carrier
    provider = make_member(practice, Role.PROVIDER, "osei")
    ContactMethod.objects.create(user=provider, kind=kind, address=PROVIDER_PHONE,
                                 verified_at=timezone.now())
    policy = Policy.objects.create(practice=practice, name="Nights", is_default=True,
                                   repeat=repeat)
    Step.objects.create(policy=policy, position=0, target=Step.Target.MEMBER,
                        member=provider, wait_s=wait_s)
    return provider


def the_phone(page: Page, base_url: str, practice) -> None:
    """The provider's phone in the simulator, opened by its number."""
    page.goto(f"{base_url}/p/{practice.slug}/simulator/")
    page.locator("input[name=number]").fill(PROVIDER_PHONE)
    page.locator("input[name=number]").press("Enter")
    page.wait_for_load_state()


def paged_on_the_phone(live_server, open_page, provider_of=on_call_provider):
    """The agent takes the urgent call (their console stays on the read-back), the worker
    hands the page to the carrier, and the provider opens their phone in the simulator."""
    practice = make_practice(SCENARIO["practice"], "Demo Family Practice")
    agent = make_member(practice, Role.AGENT, "agent")
    provider = provider_of(practice)
    console = open_page()
    log_in(console, live_server.url, agent)
    take_the_call(console, live_server.url)
    expect(console.locator(".page-live")).to_contain_text("Page: Open")
    assert outbox.send_due() >= 1  # the worker's outbox job hands it to the carrier
    phone = open_page()
    log_in(phone, live_server.url, provider)
    the_phone(phone, live_server.url, practice)
    return practice, provider, console, phone


@pytest.mark.django_db(transaction=True)
def test_the_provider_acknowledges_a_page_from_the_simulators_phone(live_server, open_page):
    practice, provider, console, phone = paged_on_the_phone(live_server, open_page)
    expect(console.locator(".page-live")).to_contain_text("Notified osei by text")
    text = phone.get_by_text(re.compile("EMERGENCY message. Open http"))
    expect(text).to_be_visible()
    for secret in SCENARIO["expect"]["secrets"]:
        assert secret not in text.inner_text()
    # The link names the public site (SITE_URL); here the site is the live server.
    link = live_server.url + re.search(r"https?://\S+?(/a/\w+)", text.inner_text()).group(1)

    # The link on a device that is not signed in: sign-in and MFA first.
    device = open_page()
    device.goto(link)
    device.wait_for_url("**/accounts/login/**")
    device.fill("#id_username", provider.username)
    device.fill("#id_password", PASSWORD)
    device.press("#id_password", "Enter")
    device.wait_for_url("**/accounts/mfa/**")
    # The phone's sign-in used this step's code, and a code works once: the next step's
    # (which the authenticator shows 30 s later; the device allows that much drift).
    device.fill("#id_code", next_code(provider))
    device.press("#id_code", "Enter")
    device.wait_for_url("**/a/**")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = check(device, "page-link")
    device.set_viewport_size({"width": 390, "height": 844})
    device.get_by_role("button", name="Acknowledge and open the message").click()
    device.wait_for_url("**/inbox/m/**")
    row = PageRow.objects.get()
    assert (row.state, row.acknowledged_by) == ("acknowledged", provider)

    console.reload()
    expect(console.locator(".page-live")).to_contain_text("Page: Acknowledged")
    expect(console.locator(".page-live")).to_contain_text("Acknowledged osei by link")
    problems += check(console, "readback-paged")
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_provider_acknowledges_by_replying_1_on_the_simulators_phone(live_server,
                                                                         open_page):
    from clinicline.intake.texts import handle_texts

    practice, provider, console, phone = paged_on_the_phone(live_server, open_page)
    phone.locator("[name=body]").fill("1")
    phone.get_by_role("button", name="Send the text").click()
    phone.wait_for_load_state()
    handle_texts()  # the worker's texts job reads the reply
    row = PageRow.objects.get()
    assert (row.state, row.acknowledged_by) == ("acknowledged", provider)
    assert row.events.get(kind="acknowledged").channel == "sms"
    outbox.send_due()
    phone.reload()
    expect(phone.get_by_text(re.compile("^Acknowledged."))).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_the_policy_page_fits_a_phone_and_a_laptop(live_server, open_page):
    practice = make_practice("riverside", "Riverside Family Medicine")
    admin = make_member(practice, Role.PRACTICE_ADMIN, "admin")
    provider = on_call_provider(practice)
    policy = Policy.objects.get(practice=practice)
    Step.objects.create(policy=policy, position=1, target=Step.Target.MANAGER, wait_s=120)
    page = open_page()
    log_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/p/{practice.slug}/oncall/policy/")
    expect(page.locator(".policy-steps")).to_contain_text(f"A named member: {provider.username}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = check(page, "policy")
    page.goto(f"{live_server.url}/p/{practice.slug}/settings/")
    expect(page.get_by_label("Page clinical after hours")).to_be_visible()
    assert problems + check(page, "practice-settings") == []
