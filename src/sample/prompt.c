/* prompt.c — embeddings as added tokens and learned rows; prompts to ids (see prompt.h). */
#include "sample/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vkti_prompt_rows_free(vkti_prompt_rows *r)
{
    free(r->rows);
    r->rows = NULL;
    r->count = 0;
}

int vkti_prompt_add_embedding(vkti_diag *d, vkti_tokenizer *tok, vkti_prompt_rows *r, const vkti_embedding *e,
                              const char *token, const char *what, int32_t *first_id)
{
    const char *fam = vkti_embedding_family(e);
    if (e->sets != 1)
        return vkti_fail(d, VKTI_E_INVALID, "%s: an SDXL embedding (clip_l %d + clip_g %d wide); this model's text "
                         "encoder is %d wide", what, e->width[0], e->width[1], r->width);
    if (e->width[0] != r->width)
        return vkti_fail(d, VKTI_E_INVALID, "%s: its vectors are %d wide (%s), this model's text encoder is %d wide; "
                         "use an embedding trained for this model's family", what, e->width[0], fam ? fam : "no SD model",
                         r->width);
    if (!token)
        token = e->token;
    if (vkti_embedding_check_token(d, token))
        return vkti_fail_wrap(d, VKTI_E_INVALID, "%s: ", what);
    if (vkti_tokenizer_size(tok) != (size_t)r->vocab + (size_t)r->count)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the tokenizer has %zu tokens where the text encoder has %d rows (and %d "
                         "learned); the tokenizer does not belong to this model", what, vkti_tokenizer_size(tok),
                         r->vocab, r->count);
    float *rows = realloc(r->rows, sizeof(float) * (size_t)(r->count + e->num_vectors) * (size_t)r->width);
    if (!rows)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    r->rows = rows;
    for (int i = 0; i < e->num_vectors; i++) {
        char name[VKTI_EMB_MAX_TOKEN + 16];
        if (i == 0)
            snprintf(name, sizeof name, "%s", token);
        else
            snprintf(name, sizeof name, "%s_%d", token, i); /* diffusers' names of the further vectors */
        int32_t id;
        if (vkti_tokenizer_add_token(d, tok, name, &id))
            return vkti_fail_wrap(d, VKTI_E_INVALID, "%s: ", what);
        if (id != r->vocab + r->count)
            return vkti_fail(d, VKTI_E_INTERNAL, "%s: token %s got id %d, expected %d", what, name, (int)id,
                             r->vocab + r->count);
        if (i == 0 && first_id)
            *first_id = id;
        memcpy(r->rows + (size_t)r->count * (size_t)r->width, e->vec[0] + (size_t)i * (size_t)r->width,
               sizeof(float) * (size_t)r->width);
        r->count++;
    }
    return VKTI_OK;
}

int vkti_prompt_has(const int32_t *ids, int length, int32_t id)
{
    for (int i = 0; i < length; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

int vkti_prompt_encode(vkti_diag *d, vkti_tokenizer *tok, const char *text, int32_t *ids, int length, int *truncated)
{
    if (length < 2)
        return vkti_fail(d, VKTI_E_INTERNAL, "prompt: length %d", length);
    int32_t *raw = NULL;
    size_t n = 0;
    int rc = vkti_tokenizer_tokenize(d, tok, text, &raw, &n);
    if (rc)
        return rc;
    const int32_t vocab = (int32_t)vkti_tokenizer_vocab_size(tok);
    int out = 1, cut = 0;
    ids[0] = vkti_tokenizer_bos(tok);
    for (size_t i = 0; i < n; i++) {
        int32_t id = raw[i];
        int32_t comp[VKTI_EMB_MAX_VECTORS];
        int nc = 0;
        const char *s = id >= vocab ? vkti_tokenizer_token_text(tok, id) : NULL;
        for (int k = 1; s && k < VKTI_EMB_MAX_VECTORS; k++) {
            char name[VKTI_EMB_MAX_TOKEN + 16];
            snprintf(name, sizeof name, "%s_%d", s, k);
            int32_t c = vkti_tokenizer_token_id(tok, name);
            if (c < vocab)
                break;
            comp[nc++] = c;
        }
        for (int k = -1; k < nc; k++) {
            if (out < length - 1)
                ids[out++] = k < 0 ? id : comp[k];
            else
                cut = 1;
        }
    }
    free(raw);
    ids[out++] = vkti_tokenizer_eos(tok);
    while (out < length)
        ids[out++] = vkti_tokenizer_pad(tok);
    if (truncated)
        *truncated = cut;
    return VKTI_OK;
}
