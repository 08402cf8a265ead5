/* tokenizer.h — the CLIP byte-level BPE tokenizer of Stable Diffusion, giving the same ids as
 * Hugging Face's CLIPTokenizer (transformers 5, backed by the `tokenizers` library): loading
 * (vocab.json + merges.txt with tokenizer_config.json / special_tokens_map.json, or OpenAI's
 * bpe_simple_vocab_16e6.txt.gz), added tokens (the placeholder and its _1, _2... companions),
 * encoding to the 77 ids the text encoder takes, decoding for logs.
 * tokenizer.c's header comment states exactly which behaviour is reproduced and why. */
#ifndef VKTI_IO_TOKENIZER_H
#define VKTI_IO_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define VKTI_CLIP_LENGTH 77            /* the CLIP text encoder's sequence length */
#define VKTI_TOKENIZER_MAX_FILE (64u << 20) /* largest vocabulary / merges / config file read */
#define VKTI_TOKENIZER_MAX_TEXT (1u << 20)  /* longest text encode() accepts, in bytes */

typedef struct vkti_tokenizer vkti_tokenizer;

/* Loads the tokenizer in a folder: vocab.json + merges.txt (and tokenizer_config.json /
 * special_tokens_map.json when present), else bpe_simple_vocab_16e6.txt.gz. */
int vkti_tokenizer_load(vkti_diag *d, const char *dir, vkti_tokenizer **out);
/* Loads vocab.json + merges.txt by path; config_dir (may be NULL) is where the optional
 * tokenizer_config.json / special_tokens_map.json are looked for. */
int vkti_tokenizer_load_files(vkti_diag *d, const char *vocab_json, const char *merges_txt,
                              const char *config_dir, vkti_tokenizer **out);
/* Loads OpenAI's bpe_simple_vocab_16e6.txt.gz and builds the vocabulary exactly as openai/CLIP's
 * simple_tokenizer.py does (byte symbols, byte symbols + "</w>", the first 48,894 merges joined,
 * <|startoftext|>, <|endoftext|>); the default special tokens apply. */
int vkti_tokenizer_load_bpe_gz(vkti_diag *d, const char *gz_path, vkti_tokenizer **out);
/* The same from memory (name is used in messages). Config texts may be NULL (absent). */
int vkti_tokenizer_from_memory(vkti_diag *d, const char *name, const char *vocab_json, size_t vocab_size,
                               const char *merges_txt, size_t merges_size, const char *tokenizer_config,
                               const char *special_tokens_map, vkti_tokenizer **out);
void vkti_tokenizer_free(vkti_tokenizer *t);

/* Where the tokenizer came from (a path), for messages and `vkti inspect`. */
const char *vkti_tokenizer_source(const vkti_tokenizer *t);

/* Adds a new token that is never split (Hugging Face add_tokens(): not special, matched on the
 * normalized — NFC, whitespace-collapsed, lower-cased — text, no whitespace stripping). Its id is
 * the next one after the vocabulary and the tokens added before. Refused, unlike in Hugging
 * Face (which would reuse the existing id), when the text is empty or already a token of the
 * vocabulary or an added token. *id (may be NULL) receives the new id. */
int vkti_tokenizer_add_token(vkti_diag *d, vkti_tokenizer *t, const char *token, int32_t *id);
/* Makes `token` the padding token, as if pad_token had been set to it in tokenizer_config.json
 * (a special token: it is also never split out of texts). SD 2.x uses "!" (id 0). */
int vkti_tokenizer_set_pad_token(vkti_diag *d, vkti_tokenizer *t, const char *token);

/* Encodes text like CLIPTokenizer(text, padding="max_length", truncation=True,
 * max_length=length): bos, at most length-2 tokens, eos, then the pad id up to length.
 * ids has room for length (>= 2) ids. used (may be NULL) receives how many ids precede the
 * padding; truncated (may be NULL) receives 1 when tokens were dropped.
 * Not thread-safe: the tokenizer keeps a BPE cache and scratch buffers. */
int vkti_tokenizer_encode(vkti_diag *d, vkti_tokenizer *t, const char *text, int32_t *ids, int length,
                          int *used, int *truncated);
/* The token ids of text without bos/eos, truncation or padding (Hugging Face
 * encode(text, add_special_tokens=False)): *ids is a new array the caller frees (free()). */
int vkti_tokenizer_tokenize(vkti_diag *d, vkti_tokenizer *t, const char *text, int32_t **ids, size_t *n);
/* 1 when text encodes to exactly one token (stored in *id, may be NULL), 0 when to none or
 * several, negative on error. For --init words and for placeholder checks. */
int vkti_tokenizer_single_token(vkti_diag *d, vkti_tokenizer *t, const char *text, int32_t *id);

/* The id of a token string exactly as stored ("cat</w>", "<|endoftext|>", an added token), or -1
 * (Hugging Face convert_tokens_to_ids without the fallback to unk). */
int32_t vkti_tokenizer_token_id(const vkti_tokenizer *t, const char *token);
/* The stored string of an id, or NULL when out of range. Owned by the tokenizer. */
const char *vkti_tokenizer_token_text(const vkti_tokenizer *t, int32_t id);
/* Decodes ids to text for logs (Hugging Face decode(): byte-level decoding, "</w>" becomes a
 * space, surrounding spaces trimmed); skip_special drops bos/eos/pad and other special tokens.
 * *text is a new string the caller frees (free()). */
int vkti_tokenizer_decode(vkti_diag *d, const vkti_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                          char **text);

size_t vkti_tokenizer_vocab_size(const vkti_tokenizer *t); /* the base vocabulary (49408 for CLIP) */
size_t vkti_tokenizer_size(const vkti_tokenizer *t);       /* with added tokens: the embedding rows needed */
int32_t vkti_tokenizer_bos(const vkti_tokenizer *t);
int32_t vkti_tokenizer_eos(const vkti_tokenizer *t);
int32_t vkti_tokenizer_pad(const vkti_tokenizer *t);

#endif
