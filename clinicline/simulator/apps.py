from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "clinicline.simulator"
    label = "simulator"

    def ready(self) -> None:
        # The loopback gateway is the simulator's phones: it registers with the outbox
        # itself, so the gateways app never imports the simulator.
        from clinicline.outbox import transports  # noqa: PLC0415 (app loading)
        from clinicline.simulator.transport import LoopbackTransport  # noqa: PLC0415

        transports.register(LoopbackTransport())
