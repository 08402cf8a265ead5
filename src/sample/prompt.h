/* prompt.h — prompts as the text encoder's token ids, with textual-inversion embeddings: each
 * embedding's vectors become tokens added to the tokenizer (<tok>, <tok>_1, ... as diffusers'
 * load_textual_inversion names them) and rows of the text encoder's learned table (the `extra`
 * rows after the vocabulary, clip_text.h); a prompt naming <tok> gets all of its vectors, as
 * diffusers' maybe_convert_prompt writes "<tok> <tok>_1 <tok>_2" for it. */
#ifndef VKTI_SAMPLE_PROMPT_H
#define VKTI_SAMPLE_PROMPT_H

#include <stdint.h>

#include "io/embedding.h"
#include "io/tokenizer.h"

/* The learned rows of the text encoder, in token-id order: row r is token id vocab + r. */
typedef struct vkti_prompt_rows {
    int vocab;        /* the text encoder's table rows */
    int width;        /* its width */
    int count;        /* rows */
    float *rows;      /* [count, width] */
} vkti_prompt_rows;

void vkti_prompt_rows_free(vkti_prompt_rows *r);

/* Adds embedding e under token (NULL: e's own) to the tokenizer and its vectors to r (r->vocab and
 * r->width set by the caller). Refused: an SDXL embedding, a width other than the text encoder's,
 * a token the tokenizer already has, a tokenizer whose size does not match the text encoder's
 * table. what names the file in messages. *first_id receives the token's id. */
int vkti_prompt_add_embedding(vkti_diag *d, vkti_tokenizer *tok, vkti_prompt_rows *r, const vkti_embedding *e,
                              const char *token, const char *what, int32_t *first_id);

/* ids [length] for text: its tokens, each added token X followed by X_1, X_2, ... while the
 * tokenizer has them, then cut to length - 2, between bos and eos, padded. *truncated (may be
 * NULL) is 1 when tokens were cut. */
int vkti_prompt_encode(vkti_diag *d, vkti_tokenizer *tok, const char *text, int32_t *ids, int length, int *truncated);

/* 1 when ids [length] hold id. */
int vkti_prompt_has(const int32_t *ids, int length, int32_t id);

#endif
