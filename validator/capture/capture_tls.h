/*
 * The TLS layer of one captured connection, between the TCP reassembly and
 * the protocol session: TLS records go to the TLS engine (validator/tls/),
 * what it reports becomes findings of the TLS.* rules in the flow's session,
 * and the decrypted application data (with a key log) goes to the session
 * as the plaintext inside TLS.
 *
 * Which octets are TLS is the caller's business: every octet of an
 * implicit-TLS connection (993, 995, 465), or each direction's octets from
 * its first TLS record after a STARTTLS/STLS go-ahead (the session says
 * where, mc_session_on_tls_turn).
 *
 * Event -> rule (the side is the direction that sent the record):
 *   NOT_TLS                          TLS.{CLIENT,SERVER}.NOT_TLS
 *   SSLV2_HELLO                      TLS.CLIENT.SSLV2_HELLO
 *   PLAINTEXT_AFTER_START            TLS.*.PLAINTEXT
 *   BAD_RECORD_TYPE, BAD_RECORD_VERSION, RECORD_VERSION_MISMATCH,
 *   EMPTY_RECORD, BAD_MESSAGE, HS_SPANS_KEY_CHANGE, BAD_INNER_PLAINTEXT
 *                                    TLS.*.RECORD_INVALID
 *   RECORD_TOO_LONG                  TLS.*.RECORD_TOO_LONG
 *   UNEXPECTED_MESSAGE, DATA_AFTER_CLOSE_NOTIFY
 *                                    TLS.*.UNEXPECTED_MESSAGE
 *   OLD_VERSION                      TLS.SERVER.OLD_VERSION (the server chose it)
 *   a ClientHello offering nothing newer than TLS 1.1
 *                                    TLS.CLIENT.OLD_VERSION
 *   HANDSHAKE_FAILED                 TLS.*.HANDSHAKE_ABORTED (the alert's sender)
 *   DECRYPT_FAILED                   TLS.*.DECRYPT_FAILED (a note: wrong keys or tampering)
 * OUT_OF_MEMORY (the engine could not allocate its state) is no finding:
 * the session is abandoned at that frame (mc_session_abandon: nothing of
 * the connection is judged from there on), the note says so, and the
 * caller reports the loss (mc_session_out_of_memory).
 * NO_KEY, UNSUPPORTED_SUITE and EARLY_DATA_SKIPPED are the flow's note (its
 * summary says why it was not validated); gaps become session gaps (they are
 * capture loss, counted in the flow summary, not findings); HELLO_RETRY,
 * KEY_UPDATE, HANDSHAKE_TOO_LONG, TRUNCATED_RECORD and NO_CLOSE_NOTIFY are
 * not reported (docs/capture.md says why).
 */
#ifndef MC_CAPTURE_TLS_H
#define MC_CAPTURE_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "report/report.h"
#include "session/session.h"
#include "tls/tls.h"

struct mc_capture_tls;

/* s and kl (may be NULL) must outlive it. NULL: out of memory; the caller
 * must then neither hand the TLS octets to the session as plaintext nor
 * let it judge what it misses (mc_session_abandon), and report the loss. */
struct mc_capture_tls *mc_capture_tls_new(struct mc_session *s, const struct mc_tls_keylog *kl);
void mc_capture_tls_free(struct mc_capture_tls *t);
/* Also hands each decrypted chunk to fn (the capture keeps the server's
 * greeting line for the flow summary from it). */
void mc_capture_tls_on_plain(struct mc_capture_tls *t,
                             void (*fn)(void *ctx, enum mc_dir d, const uint8_t *p, size_t n),
                             void *ctx);

/* data, gap and end do nothing when t is NULL. */
void mc_capture_tls_data(struct mc_capture_tls *t, enum mc_dir d, const uint8_t *p, size_t n,
                         uint64_t frame);
void mc_capture_tls_gap(struct mc_capture_tls *t, enum mc_dir d, uint64_t n, uint64_t frame);
void mc_capture_tls_end(struct mc_capture_tls *t, enum mc_dir d, uint64_t frame);

/* Application data was decrypted in some direction (false for NULL). */
bool mc_capture_tls_decrypted(const struct mc_capture_tls *t);
/* Fills the TLS fields of a flow summary (strings live as long as t). */
void mc_capture_tls_summary(const struct mc_capture_tls *t, struct mc_flow_summary *fs);

#endif
