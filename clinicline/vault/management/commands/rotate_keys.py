"""``clinicline rotate-keys``: re-wrap data keys under a new master key, rotate practice
data keys. Both are resumable: after an interruption, run the same command again.

    clinicline rotate-keys --master             # after putting the new key first
    clinicline rotate-keys --practice riverside
    clinicline rotate-keys --all-practices

See clinicline/vault/rotation.py for how each works and why it is safe to interrupt.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db.models import Model
from tqdm import tqdm

from clinicline.vault import rotation
from clinicline.vault.keyring import VaultError
from clinicline.vault.models import DataKey
from clinicline.vault.rotation import Progress, ProgressFactory, RotationError

# The practice model, reached through the key's foreign key: the vault sits below the
# practices app and names it only there.
# (A foreign key's related_model is "self" only for a key to its own model.)
Practice = cast(type[Model], DataKey._meta.get_field("practice").related_model)


class _BarStream:
    """tqdm redraws its line with carriage returns; OutputWrapper would end each write with
    a newline (and colour it as an error), so write through it unstyled, unterminated."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.out.flush()


class Command(BaseCommand):
    help = ("Rotate encryption keys: --master re-wraps every data key under the current "
            "master key; --practice SLUG / --all-practices rotates practice data keys and "
            "re-encrypts their data. Resumable: run again after an interruption.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--master", action="store_true",
                            help="re-wrap data keys still under a previous master key")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--practice", metavar="SLUG",
                           help="rotate this practice's data key")
        which.add_argument("--all-practices", action="store_true",
                           help="rotate the data key of every practice that has one")
        parser.add_argument("--batch-size", type=int, default=rotation.BATCH_SIZE,
                            help=f"rows per transaction (default {rotation.BATCH_SIZE})")
        parser.add_argument(
            "--settle-seconds", type=float, default=rotation.SETTLE_S,
            help="wait this long after a new data key before the final sweep, so other "
                 "processes stop sealing under the old one (default %(default)s); 0 only "
                 "when nothing else is running")
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bar on stderr")

    def handle(self, *args: Any, master: bool, practice: str | None, all_practices: bool,
               batch_size: int, settle_seconds: float, no_progress: bool,
               **options: Any) -> None:
        if not (master or practice or all_practices):
            raise CommandError(
                "nothing to do: pass --master, --practice SLUG or --all-practices")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if settle_seconds < 0:
            raise CommandError("--settle-seconds cannot be negative")
        progress = self._progress(no_progress)
        try:
            if master:
                self._master(progress)
            if practice:
                self._practice(self._find(practice), batch_size, settle_seconds, progress)
            elif all_practices:
                self._all_practices(batch_size, settle_seconds, progress)
        except (RotationError, VaultError) as exc:
            raise CommandError(str(exc)) from None

    def _progress(self, disabled: bool) -> ProgressFactory:
        stream = _BarStream(self.stderr)

        def bar(total: int, desc: str) -> Progress:
            # Nothing to do draws nothing (a final sweep usually finds no rows).
            return tqdm(total=total, desc=desc, unit="row", file=stream,
                        disable=disabled or not total, ncols=80)

        return bar

    def _note(self, text: str) -> None:
        self.stderr.write(text, style_func=str)  # news, not an error: no red

    def _find(self, slug: str) -> Any:
        try:
            return Practice._default_manager.get(slug=slug)
        except ObjectDoesNotExist:  # Practice.DoesNotExist, which type[Model] does not name
            raise CommandError(f"no practice with slug {slug!r}") from None

    def _master(self, progress: ProgressFactory) -> None:
        result = rotation.rewrap_master_keys(progress=progress)
        if result.keys:
            self.stdout.write(f"master key {result.kid}: re-wrapped {result.keys} data keys")
        else:
            self.stdout.write(f"master key {result.kid}: every data key is already wrapped "
                              "by it; nothing to re-wrap")
        if result.remaining:
            raise CommandError(f"{result.remaining} data keys changed during the run and are "
                               "not yet re-wrapped; run again")

    def _practice(self, practice: Any, batch_size: int, settle_s: float,
                  progress: ProgressFactory) -> None:
        self._practices([practice], batch_size, settle_s, progress)

    def _all_practices(self, batch_size: int, settle_s: float,
                       progress: ProgressFactory) -> None:
        with_keys = DataKey.objects.filter(purpose=DataKey.Purpose.DATA).values("practice_id")
        practices = list(Practice._default_manager.filter(pk__in=with_keys).order_by("pk"))
        if not practices:
            self.stdout.write("no practice has a data key yet (nothing is encrypted); "
                              "nothing to rotate")
            return
        self._practices(practices, batch_size, settle_s, progress)

    def _practices(self, practices: list[Any], batch_size: int, settle_s: float,
                   progress: ProgressFactory) -> None:
        results = rotation.rotate_practices([p.pk for p in practices], batch_size=batch_size,
                                            settle_s=settle_s, progress=progress,
                                            notify=self._note)
        for practice, result in zip(practices, results, strict=True):
            what = "resumed the rotation of" if result.resumed else "rotated"
            self.stdout.write(
                f"practice {practice.slug}: {what} data key v{result.from_version} -> "
                f"v{result.to_version}; re-encrypted {result.values} values in "
                f"{result.rows} rows"
                + (f" ({result.swept} found by the final sweep)" if result.swept else ""))
