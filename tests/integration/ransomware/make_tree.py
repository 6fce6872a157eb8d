#!/usr/bin/env python3
"""Makes the file trees of the ransomware end-to-end test (ransomware_process_test.cc).

A small office's file server, one restore point per day, each point a folder
of a `dated-folders` backup set made like an rsync --link-dest backup: the
previous point hard-linked (`cp -al`), then the day's changes applied by
writing new files and renaming them into place, so that no earlier point is
ever modified.

  make_tree.py init DIR [--seed N]          the first point: ~2,000 files
  make_tree.py churn DIR --day D            a working day: ~1 % of the files
                                            changed, a few added, deleted and
                                            renamed, the database grown
  make_tree.py upgrade DIR --day D          a software upgrade: every binary
                                            under app/ replaced (new version)
  make_tree.py photos DIR --day D           an import: a folder of new JPEGs,
                                            PNGs and zip archives
  make_tree.py delete DIR --fraction F      mass deletion: F of the documents

Real formats where Python makes them: zip (docx, xlsx, zip) with zipfile,
SQLite with sqlite3, PDFs with deflate streams (like real ones: high entropy
after the header). JPEG and PNG carry their magic numbers and compressed-
looking bodies; binaries an MZ or ELF header and code-like bytes.
Deterministic for a given seed and day.
"""
import argparse
import io
import os
import random
import sqlite3
import struct
import zipfile
import zlib

WORDS = ("invoice client contract payment delivery meeting report budget quarter "
         "annual review project schedule team office lawyer hearing court filing "
         "notice tenant lease property insurance claim account balance transfer "
         "supplier order receipt tax audit payroll salary holiday training policy "
         "procedure security backup server network printer license renewal").split()

DEPTS = ["accounting", "legal", "hr", "sales", "management"]
YEARS = ["2024", "2025", "2026"]


def text(rng, n_bytes):
    out = []
    size = 0
    while size < n_bytes:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        line = line.capitalize() + ".\n"
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def pdf(rng, n_bytes):
    body = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
    obj = 1
    while sum(len(b) for b in body) < n_bytes:
        stream = zlib.compress(text(rng, 6000), 6)
        body.append(b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" %
                    (obj, len(stream)) + stream + b"\nendstream\nendobj\n")
        obj += 1
    body.append(b"trailer\n<< /Size %d >>\n%%%%EOF\n" % obj)
    return b"".join(body)


def office(rng, n_bytes, kind):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        part = "word/document.xml" if kind == "docx" else "xl/worksheets/sheet1.xml"
        xml = b"<?xml version=\"1.0\"?><doc>" + text(rng, n_bytes * 3) + b"</doc>"
        z.writestr(part, xml)
    return buf.getvalue()


def zip_archive(rng, n_bytes):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr("file%d.txt" % i, text(rng, n_bytes))
    return buf.getvalue()


def jpeg(rng, n_bytes):
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" +
            rng.randbytes(n_bytes) + b"\xff\xd9")


def png(rng, n_bytes):
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + rng.randbytes(n_bytes)


def binary(rng, n_bytes, elf=False, version=1):
    head = b"\x7fELF\x02\x01\x01" if elf else b"MZ\x90\x00\x03\x00\x00\x00"
    # Code-like: repeated opcode patterns, strings and tables, some noise.
    parts = [head]
    size = len(head)
    while size < n_bytes:
        choice = rng.random()
        if choice < 0.5:
            chunk = bytes(rng.choice((0x48, 0x89, 0x8b, 0xe8, 0xc3, 0x55, 0x5d, 0x0f, 0x00, 0xff))
                          for _ in range(256))
        elif choice < 0.8:
            chunk = text(rng, 200) + b"\x00" + b"v%d" % version
        else:
            chunk = bytes(256)
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[:n_bytes]


def put(path, data):
    """Writes a new file and renames it into place: a hard link to an
    earlier point's file is replaced, never written through."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp-mk"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def document(rng, path):
    ext = path.rsplit(".", 1)[-1]
    n = rng.randint(2000, 24000)
    if ext == "pdf":
        return pdf(rng, n)
    if ext in ("docx", "xlsx"):
        return office(rng, n, ext)
    return text(rng, n)


DOC_EXTS = ["txt", "txt", "md", "csv", "pdf", "pdf", "docx", "docx", "xlsx"]


def init(root, rng):
    for dept in DEPTS:
        for year in YEARS:
            for i in range(80):
                ext = rng.choice(DOC_EXTS)
                p = os.path.join(root, "docs", dept, year, "%s-%03d.%s" % (dept, i, ext))
                put(p, document(rng, p))
    for i in range(300):
        ext = "dll" if i % 3 else "exe"
        put(os.path.join(root, "app", "bin", "module%03d.%s" % (i, ext)),
            binary(rng, rng.randint(4000, 30000)))
    for i in range(40):
        put(os.path.join(root, "app", "lib", "lib%02d.so" % i), binary(rng, 20000, elf=True))
    for i in range(120):
        put(os.path.join(root, "photos", "2025", "IMG_%04d.jpg" % i), jpeg(rng, rng.randint(5000, 40000)))
    db = os.path.join(root, "db", "office.sqlite")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    grow_db(db, rng, 400)


def grow_db(db, rng, rows):
    tmp = db + ".tmp-mk"
    if os.path.exists(db):
        with open(db, "rb") as f, open(tmp, "wb") as g:
            g.write(f.read())
    elif os.path.exists(tmp):
        os.remove(tmp)
    con = sqlite3.connect(tmp)
    con.execute("CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, day TEXT, memo TEXT)")
    con.executemany("INSERT INTO ledger (day, memo) VALUES (?, ?)",
                    [(str(rng.randint(1, 28)), text(rng, 120).decode()) for _ in range(rows)])
    con.commit()
    con.close()
    os.replace(tmp, db)


def documents(root):
    out = []
    for d, _, files in os.walk(os.path.join(root, "docs")):
        out.extend(os.path.join(d, f) for f in files)
    return sorted(out)


def churn(root, rng, day):
    docs = documents(root)
    for p in rng.sample(docs, max(1, len(docs) // 100)):  # ~1 % edited
        put(p, document(rng, p))
    for i in range(8):  # new documents
        dept = rng.choice(DEPTS)
        ext = rng.choice(DOC_EXTS)
        p = os.path.join(root, "docs", dept, "2026", "new-d%02d-%d.%s" % (day, i, ext))
        put(p, document(rng, p))
    for p in rng.sample(documents(root), 4):  # deleted
        os.remove(p)
    for p in rng.sample(documents(root), 3):  # renamed ("final" versions)
        base, ext = p.rsplit(".", 1)
        os.replace(p, "%s-final-d%02d.%s" % (base, day, ext))
    grow_db(os.path.join(root, "db", "office.sqlite"), rng, 60)


def upgrade(root, rng, day):
    for d in ("bin", "lib"):
        for f in sorted(os.listdir(os.path.join(root, "app", d))):
            p = os.path.join(root, "app", d, f)
            put(p, binary(rng, rng.randint(4000, 30000), elf=f.endswith(".so"), version=day))


def photos(root, rng, day):
    folder = os.path.join(root, "photos", "import-d%02d" % day)
    for i in range(250):
        put(os.path.join(folder, "IMG_%04d.jpg" % i), jpeg(rng, rng.randint(5000, 40000)))
    for i in range(40):
        put(os.path.join(folder, "scan_%03d.png" % i), png(rng, 20000))
    for i in range(30):
        put(os.path.join(folder, "batch_%03d.zip" % i), zip_archive(rng, 3000))


def delete(root, rng, fraction):
    docs = documents(root)
    for p in rng.sample(docs, int(len(docs) * fraction)):
        os.remove(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["init", "churn", "upgrade", "photos", "delete"])
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--day", type=int, default=0)
    ap.add_argument("--fraction", type=float, default=0.7)
    a = ap.parse_args()
    rng = random.Random(a.seed * 1000 + a.day)
    if a.what == "init":
        init(a.dir, rng)
    elif a.what == "churn":
        churn(a.dir, rng, a.day)
    elif a.what == "upgrade":
        upgrade(a.dir, rng, a.day)
    elif a.what == "photos":
        photos(a.dir, rng, a.day)
    else:
        delete(a.dir, rng, a.fraction)


if __name__ == "__main__":
    main()
