from clinicline.outreach.appointment_models import *  # noqa: F403

__all__ = ["Appointment", "AppointmentStatus", "AppointmentUpload", "Reminder",  # noqa: F405
           "ReminderPolicy", "ReminderRun", "ReminderStatus", "RunState"]
