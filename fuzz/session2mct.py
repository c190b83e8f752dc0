#!/usr/bin/env python3
"""Prints a fuzz_pop3_session or fuzz_smtp_session input as a transcript
(docs/transcript.md), so a crasher can be read, edited and run with
`mailconform check`.

    fuzz/session2mct.py [--smtp] crash-file > crash.mct

--smtp reads it as the SMTP target does (option bit 3: submission). The
option bytes are printed as a comment. The record layout is described at
the top of fuzz/fuzz_pop3_session.c and fuzz/fuzz_smtp_session.c.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_seeds import escape  # noqa: E402  (one writer of the escape rules)


def decode(b, smtp=False):
    modes = ["cut in two", "chunks 1..8", "one octet at a time", "chunks 1..64"]
    if len(b) < 2:
        return ["# too short: fewer than 2 option bytes"]
    opts = b[0]
    proto = ("submission" if opts & 8 else "smtp") if smtp else "pop3"
    out = ["# fuzz_%s_session input: options 0x%02x 0x%02x (re-cut: %s%s)"
           % ("smtp" if smtp else "pop3", b[0], b[1], modes[opts & 3],
              ", protocol detection" if opts & 4 else ""),
           "# protocol: detected from the first server line" if opts & 4 else "@ protocol " + proto]
    i = 2
    while i < len(b):
        h = b[i]
        i += 1
        d = "S" if h & 0x80 else "C"
        kind = (h >> 4) & 7
        l = h & 15
        if kind < 4:
            n = l
            if l == 14:
                n = 14 + (b[i] if i < len(b) else 0)
                i += min(1, len(b) - i)
            elif l == 15:
                ext = b[i:i + 2]
                i += len(ext)
                n = 270 + int.from_bytes(ext, "little")
            data = b[i:i + n]
            i += len(data)
            if data:
                out.append("%s: %s" % (d, escape(data)))
        elif kind in (4, 5):
            out.append("! tls decrypted" if kind == 5 else "! tls")
        elif kind == 6:
            if l < 15:
                n = l + 1
            else:
                ext = b[i:i + 4]
                i += len(ext)
                n = 16 + int.from_bytes(ext, "little")
            out.append("! gap %s %d" % (d, n))
        else:
            out.append("! close %s" % d)
    return out


def main(argv):
    smtp = bool(argv) and argv[0] == "--smtp"
    if smtp:
        argv = argv[1:]
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[0], "rb") as f:
        print("\n".join(decode(f.read(), smtp)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
