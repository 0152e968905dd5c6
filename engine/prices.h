/* Model price table for computing cost_usd at import (docs/import.md "Cost"). The file format
 * is Langfuse's model list: a JSON array of {modelName, matchPattern, startDate?,
 * pricingTiers:[{isDefault, prices:{input, output, ...}}]} (also accepted: a model-level
 * `prices` object, or `inputPrice` / `outputPrice`), prices in USD per token. matchPattern is
 * a regular expression; the `(?i)` prefix Langfuse uses is stripped and matching is
 * case-insensitive POSIX extended (regcomp), `\d` read as [0-9]. The default table ships
 * inside spandb (engine/data/default-model-prices.json, Langfuse's). */
#ifndef SDB_ENGINE_PRICES_H
#define SDB_ENGINE_PRICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

typedef struct sdb_prices sdb_prices;

/* Parse a table from text (name is for messages). A pattern that does not compile is
 * SDB_ERR_PARSE naming the model and the pattern. */
sdb_rc sdb_prices_parse(const char *text, size_t len, const char *name, sdb_prices **out,
                        sdb_err *err);
sdb_rc sdb_prices_load_file(const char *path, sdb_prices **out, sdb_err *err);
/* The table built into spandb. */
sdb_rc sdb_prices_default(sdb_prices **out, sdb_err *err);
void sdb_prices_destroy(sdb_prices *p);
size_t sdb_prices_count(const sdb_prices *p);

/* Cost in USD of a call to model at time_ns: input_tokens x input price + output_tokens x
 * output price of the matching entry (of those whose pattern matches, the one with the
 * latest start date not after time_ns; no start date counts as the earliest). False when no
 * entry matches. Matches are cached per model name. */
bool sdb_prices_cost(sdb_prices *p, const char *model, size_t len, int64_t time_ns,
                     int64_t input_tokens, int64_t output_tokens, double *cost);
/* The modelName of the entry model matches at time_ns, or NULL. */
const char *sdb_prices_match(sdb_prices *p, const char *model, size_t len, int64_t time_ns);

#endif
