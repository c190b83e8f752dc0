/*
 * The text transcript format (docs/transcript.md): one record per line,
 * one data record per chunk so segment boundaries survive.
 *
 *   # comment                  ignored, as are blank lines
 *   @ protocol pop3            directive: protocol, session, client, server, ...
 *   @ session NAME             later records belong to session NAME
 *   C: USER alice\r\n          a chunk the client sent (escaped bytes)
 *   S: +OK\r\n                 a chunk the server sent
 *   ! tls                      TLS starts; what follows is TLS records
 *   ! tls decrypted            TLS starts; what follows is the plaintext inside
 *   ! gap C 120                120 octets the client sent are missing
 *   ! close S                  the server closed its direction
 *
 * Escapes in data: \r \n \t \\ \xHH; every other octet 0x20-0x7E stands
 * for itself. The reader strips the file's own line end (LF or CRLF).
 */
#ifndef MC_TRANSCRIPT_H
#define MC_TRANSCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "session/finding.h"

/* A transcript line may hold at most this many octets before decoding. */
#define MC_TRANSCRIPT_LINE_MAX (4u << 20)
/* Reading stops after this many malformed lines (binary garbage). */
#define MC_TRANSCRIPT_MAX_ERRORS 20

struct mc_transcript_handler {
    void *ctx;
    /* Each callback may be NULL. 'line' is the 1-based transcript line. */
    void (*directive)(void *ctx, const char *key, const char *value, uint64_t line);
    void (*data)(void *ctx, enum mc_dir dir, const uint8_t *buf, size_t len, uint64_t line);
    void (*tls)(void *ctx, bool decrypted, uint64_t line);
    void (*gap)(void *ctx, enum mc_dir dir, uint64_t n, uint64_t line);
    void (*close)(void *ctx, enum mc_dir dir, uint64_t line);
    /* A malformed line: the record is skipped, reading goes on. */
    void (*error)(void *ctx, uint64_t line, uint64_t col, const char *msg);
    /* Out of memory at line: reported through error() too, and reading
     * stops there, since a session judged without the records it missed
     * would blame a peer for them; the caller stops its sessions
     * (mc_session_abandon) rather than finishing them. */
    void (*out_of_memory)(void *ctx, uint64_t line);
};

/* Reads a whole transcript. Returns the number of malformed lines (0: all
 * good); stops early after MC_TRANSCRIPT_MAX_ERRORS, or on a read error
 * (reported through error() with col 0). */
unsigned mc_transcript_read(FILE *f, const struct mc_transcript_handler *h);
/* The same over a buffer in memory (fuzzing, tests). */
unsigned mc_transcript_read_mem(const uint8_t *buf, size_t len, const struct mc_transcript_handler *h);

/* Writers. Each writes one complete line; data is escaped losslessly. */
void mc_transcript_write_directive(FILE *f, const char *key, const char *value);
void mc_transcript_write_data(FILE *f, enum mc_dir dir, const uint8_t *buf, size_t len);
void mc_transcript_write_tls(FILE *f, bool decrypted);
void mc_transcript_write_gap(FILE *f, enum mc_dir dir, uint64_t n);
void mc_transcript_write_close(FILE *f, enum mc_dir dir);
void mc_transcript_write_comment(FILE *f, const char *text);

#endif
