/* tokenizer_find.h — where the CLIP tokenizer of a model is: single-file checkpoints carry none,
 * so it is looked for in --tokenizer DIR, in the model's own folder (a diffusers folder's
 * tokenizer/), then in the Hugging Face hub cache; when it is nowhere, the message lists every
 * place looked at and says what to pass. */
#ifndef VKTI_IO_TOKENIZER_FIND_H
#define VKTI_IO_TOKENIZER_FIND_H

#include "base/diag.h"

#define VKTI_TOKFIND_MAX_HUBS 4

typedef struct vkti_tokenizer_search {
    const char *tokenizer_dir; /* --tokenizer DIR (a folder with the files, or a diffusers folder), or NULL */
    const char *model_path;    /* the model: a diffusers folder or a checkpoint file, or NULL */
    int sd2;                   /* an SD 2.x model: prefer SD 2.x tokenizers (they pad with "!") */
    /* Hugging Face hub caches to search, NULL-terminated; all NULL: from the environment
     * ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub). */
    const char *hub_dirs[VKTI_TOKFIND_MAX_HUBS];
} vkti_tokenizer_search;

typedef struct vkti_tokenizer_found {
    char dir[4096];     /* the folder to pass to vkti_tokenizer_load */
    int from_hub;       /* found in a Hugging Face cache */
    int needs_sd2_pad;  /* an SD 2.x model but a CLIP tokenizer: call vkti_tokenizer_set_pad_token("!") */
} vkti_tokenizer_found;

/* 1 when dir holds vocab.json + merges.txt or bpe_simple_vocab_16e6.txt.gz. */
int vkti_tokenizer_dir_ok(const char *dir);
/* Finds the tokenizer (first match in the order above); VKTI_E_IO with the list of places when
 * there is none. */
int vkti_tokenizer_find(vkti_diag *d, const vkti_tokenizer_search *s, vkti_tokenizer_found *out);

#endif
