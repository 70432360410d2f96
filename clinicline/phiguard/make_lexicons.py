"""Builds the guard's name and word lists (run by hand, the output is committed; nothing is
downloaded when the guard runs).

Sources, both public domain or freely licensed:

- given names and surnames: the US Census Bureau's 1990 frequency files (dist.male.first,
  dist.female.first, dist.all.last), as the ``names`` package (PyPI, 0.3.0) ships them;
- English words: Debian's ``wamerican`` word list (SCOWL), lower-case entries only, so a
  word that is also a name ("will", "grace") is known to be both.

    python -m clinicline.phiguard.make_lexicons CENSUS_DIR /usr/share/dict/american-english
"""

from __future__ import annotations

import gzip
import sys
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def census_names(path: Path) -> list[str]:
    return [line.split()[0].casefold() for line in path.read_text().splitlines() if line.strip()]


def english_words(path: Path, names: set[str]) -> list[str]:
    """Lower-case entries, and capitalised ones that are no name ("English", "Monday")."""
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word = unicodedata.normalize("NFKD", line.strip())
        word = "".join(c for c in word if not unicodedata.combining(c))
        if not word or word.endswith("'s"):
            continue
        if word[0].islower() or word.casefold() not in names:
            words.add(word.casefold())
    return sorted(words)


def write(name: str, entries: list[str]) -> None:
    with gzip.open(DATA / name, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(entries) + "\n")


def main(census: Path, dictionary: Path) -> None:
    given = sorted(set(census_names(census / "dist.male.first")
                       + census_names(census / "dist.female.first")))
    family = sorted(set(census_names(census / "dist.all.last")))
    write("given_names.txt.gz", given)
    write("surnames.txt.gz", family)
    write("english_words.txt.gz", english_words(dictionary, set(given) | set(family)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
