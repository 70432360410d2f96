from django.urls import path

from clinicline.gateways import webhooks

urlpatterns = [
    path("voice", webhooks.voice, name="twilio_voice"),
    path("voice/fallback", webhooks.voice_fallback, name="twilio_voice_fallback"),
    path("voice/gather", webhooks.gather, name="twilio_gather"),
    path("voice/page", webhooks.page, name="twilio_page"),
    path("voice/outreach", webhooks.outreach, name="twilio_outreach"),
    path("voice/recording", webhooks.recording, name="twilio_recording"),
    path("sms", webhooks.sms, name="twilio_sms"),
    path("status", webhooks.status, name="twilio_status"),
]
