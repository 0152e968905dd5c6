/* The client side of the TCP line protocol (docs/protocol.md), for `spandb query --connect`
 * and `spandb shell --connect`: connect (127.0.0.1 or localhost), authenticate, send a
 * statement and rebuild its reply as a result set, so it prints exactly as an embedded
 * query does (engine/result_fmt.h). */
#ifndef SDB_ENGINE_CLIENT_H
#define SDB_ENGINE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/run.h"
#include "storage/common/error.h"

typedef struct sdb_client sdb_client;

/* Connect to addr ("HOST:PORT", IPv4) and, when token is set, send AUTH. timeout_ms bounds
 * each wait for the server (0: none). Caller owns *out (sdb_client_close). */
sdb_rc sdb_client_connect(const char *addr, const char *token, uint32_t timeout_ms,
                          sdb_client **out, sdb_err *err);
void sdb_client_close(sdb_client *c);

/* Run one statement (line breaks in sql become spaces). On success the caller owns
 * out->rows (sdb_run_result_free); out->rows is NULL for statements without rows, with
 * out->message set. A statement error is SDB_ERR_PARSE... as sent by the server with its
 * message; a lost connection SDB_ERR_IO. Error lines about earlier writes are counted in
 * *write_errors (may be NULL) and the last one's text kept in sdb_client_last_write_error. */
sdb_rc sdb_client_query(sdb_client *c, const char *sql, sdb_run_result *out,
                        uint64_t *write_errors, sdb_err *err);
/* Send line-protocol text as is (whole lines). */
sdb_rc sdb_client_send(sdb_client *c, const void *data, size_t len, sdb_err *err);
const char *sdb_client_last_write_error(const sdb_client *c);

#endif
