from clinicline.outreach.appointment_models import *  # noqa: F403
from clinicline.outreach.appointment_models import (
    Appointment,
    AppointmentStatus,
    AppointmentUpload,
    Reminder,
    ReminderPolicy,
    ReminderRun,
    ReminderStatus,
    RunState,
)

__all__ = ["Appointment", "AppointmentStatus", "AppointmentUpload", "Reminder",
           "ReminderPolicy", "ReminderRun", "ReminderStatus", "RunState"]
