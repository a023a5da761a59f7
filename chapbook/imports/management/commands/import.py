"""chapbook import PATH... --pseud NAME: post story files (.txt, .html) as works."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chapbook.imports.services import ImportFailed, check_pseud_name, import_file

# Distinct from 1 (a usage error, nothing imported) so a script can tell "some files
# need fixing" apart from "the command was called wrongly".
REJECTED_EXIT_CODE = 2


class Command(BaseCommand):
    help = (
        "Import story files (plain text or HTML) as works credited to --pseud. Each file is "
        "imported on its own, all or nothing; the exit code is 2 when any file was rejected. "
        "Tags given here come first, then the ones in each file's header; without a rating "
        "or warning the work is Not Rated / Creator Chose Not To Use Archive Warnings."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files to import.")
        parser.add_argument(
            "--pseud",
            metavar="NAME",
            help="Pseud to credit (required). Created if missing, on the user of the same name, "
            "who is created too (without a password) if there is none.",
        )
        parser.add_argument("--fandom", action="append", default=[], metavar="X", help="A fandom; repeat for several.")
        parser.add_argument("--rating", metavar="X", help="The rating; replaces the file's.")
        parser.add_argument("--warning", action="append", default=[], metavar="X", help="An archive warning; repeatable.")
        parser.add_argument("--relationship", action="append", default=[], metavar="X", help="A/B or A & B; repeatable.")
        parser.add_argument("--character", action="append", default=[], metavar="X", help="A character; repeatable.")
        parser.add_argument("--tag", action="append", default=[], metavar="X", help="An additional tag; repeatable.")
        parser.add_argument("--title", metavar="T", help="The work's title (only with a single file).")
        parser.add_argument("--draft", action="store_true", help="Save as drafts instead of posting.")
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON object per imported work on stdout (id, url, title, word_count), nothing else.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[str] = options["paths"]
        if not options["pseud"]:
            raise CommandError(
                "--pseud NAME is required: imported works are credited to that pseud "
                "(created, with a user of the same name, if it does not exist)."
            )
        if options["title"] and len(paths) > 1:
            # One title on several works is almost always a mistake; refuse before importing anything.
            raise CommandError("--title names one work: import one file at a time to set titles.")
        try:
            pseud_name = check_pseud_name(options["pseud"], creating_user=True)
        except ImportFailed as error:
            raise CommandError(error.message) from None

        rejected = 0
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as error:
                self._reject(path, f"cannot be read ({error.strerror or error})")
                rejected += 1
                continue
            try:
                work, removed = import_file(
                    filename=Path(path).name,
                    data=data,
                    pseud_name=pseud_name,
                    fandoms=options["fandom"],
                    rating=options["rating"],
                    warnings=options["warning"],
                    relationships=options["relationship"],
                    characters=options["character"],
                    tags=options["tag"],
                    title=options["title"],
                    draft=options["draft"],
                )
            except ImportFailed as error:
                hint = " Give one with --fandom NAME." if error.field == "fandoms" else ""
                self._reject(path, error.message + hint)
                rejected += 1
                continue
            url = settings.BASE_URL + work.get_absolute_url()
            if options["json"]:
                record = {"id": work.pk, "url": url, "title": work.title, "word_count": work.word_count}
                self.stdout.write(json.dumps(record, ensure_ascii=False))
            else:
                self.stdout.write(f"imported {path} → {url} ({work.word_count} words)")
            if removed:
                self.stderr.write(f"{path}: removed: {'; '.join(removed)}")
        if rejected:
            raise CommandError(
                f"{rejected} of {len(paths)} file{'s' if len(paths) > 1 else ''} rejected.",
                returncode=REJECTED_EXIT_CODE,
            )

    def _reject(self, path: str, message: str) -> None:
        self.stderr.write(f"{path}: rejected: {message}")
