#!/usr/bin/python3
"""The Python side of parse_bench: the same files, parsed with the standard `email`
package the way the reference job (../shared/bench/ref_job.py) does it.

  py_parse_bench.py [DIR] [ROUNDS] [default|compat32]

default policy: email.message_from_bytes(raw, policy=email.policy.default) and the text of
get_body(("plain", "html")); compat32: the same parse with the legacy policy and the first
text/plain part decoded by hand. Skips the shared corpus' LICENSES/, expected/ and *.md,
as parse_bench does. Prints one line in parse_bench's format; exits 77 without DIR.
Run with Debian's /usr/bin/python3.
"""
import email
import email.policy
import os
import resource
import sys
import time


def read_all(root):
    paths = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if rel.startswith(("LICENSES" + os.sep, "expected" + os.sep)) or n.endswith(".md"):
                continue
            paths.append(p)
    out = []
    for p in sorted(paths):
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def text_default(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def text_compat32(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for p in msg.walk():
        if p.get_content_type() == "text/plain":
            payload = p.get_payload(decode=True) or b""
            return payload.decode(p.get_content_charset() or "utf-8", "replace")
    return ""


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    policy = sys.argv[3] if len(sys.argv) > 3 else "default"
    if not os.path.isdir(root):
        print(f"py_parse_bench: SKIPPED: no directory {root}", file=sys.stderr)
        sys.exit(77)
    files = read_all(root)
    parse = text_default if policy == "default" else text_compat32
    errors = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in files:
            try:
                parse(raw)
            except Exception:  # the real corpus has malformed mail; count, go on
                errors += 1
    s = time.perf_counter() - start
    nbytes = sum(len(f) for f in files)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"py_parse_bench policy={policy} files={len(files)} bytes={nbytes} rounds={rounds} "
          f"seconds={s:.3f} msgs_per_s={len(files) * rounds / s:.0f} "
          f"MB_per_s={nbytes * rounds / s / 1e6:.2f} peak_rss_kb={rss} errors={errors}")


if __name__ == "__main__":
    main()
