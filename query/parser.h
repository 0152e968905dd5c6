/* SQL parser: recursive descent over the lexer's tokens (two tokens of lookahead), building
 * the AST of query/ast.h in a caller-owned arena. Grammar (keywords case-insensitive):
 *
 *   stmt     := (select | EXPLAIN [ANALYZE] select | SHOW TABLES | DESCRIBE name | DESC name
 *               | create | drop) [';']
 *   select   := SELECT item [, item]* [FROM name [WHERE expr] [GROUP BY expr [, expr]*]
 *               [HAVING expr] [ORDER BY expr [ASC|DESC] [NULLS FIRST|LAST] [, ...]]
 *               [LIMIT n] [OFFSET m]]
 *   item     := '*' | expr [[AS] alias]
 *   create   := CREATE TABLE [IF NOT EXISTS] name '(' name type [, name type]* ')'
 *               [PARTITION BY HOUR|DAY|MONTH] [ORDER BY '(' name [, name]* ')']
 *   drop     := DROP TABLE [IF EXISTS] name
 *   expr     := or;  or := and [OR and]*;  and := not [AND not]*;  not := NOT not | cmp
 *   cmp      := add [ (= | != | <> | < | <= | > | >=) add | IS [NOT] NULL
 *               | [NOT] IN '(' expr [, expr]* ')' | [NOT] BETWEEN add AND add
 *               | [NOT] (LIKE | ILIKE) add ]*
 *   add      := mul [(+ | -) mul]*;  mul := unary [(* | / | %) unary]*
 *   unary    := - unary | + unary | postfix;  postfix := primary ['::' type]*
 *   primary  := integer | float | 'string' | TRUE | FALSE | NULL | TIMESTAMP 'iso-8601'
 *               | INTERVAL 'text' | INTERVAL n unit | CASE [expr] (WHEN expr THEN expr)+
 *               [ELSE expr] END | CAST '(' expr AS type ')' | '(' expr ')'
 *               | name '(' [* | [DISTINCT] expr [, expr]*] ')' | name ['.' name]
 *
 * A SELECT without FROM takes no further clauses. A negative numeric literal (-5) is one
 * literal, so -9223372036854775808 is representable. Unquoted identifiers fold to lower
 * case; "quoted" ones keep their case.
 *
 * Errors are SDB_ERR_PARSE with messages such as
 *   parse error at 1:27 near 'FORM': expected FROM
 *   parse error at 1:8 near ''abc': unterminated string literal
 * and SDB_ERR_LIMIT for a query over SDB_SQL_MAX_LEN bytes or nested deeper than
 * SDB_AST_MAX_DEPTH; the position is also returned through err_pos. */
#ifndef SDB_QUERY_PARSER_H
#define SDB_QUERY_PARSER_H

#include <stddef.h>

#include "query/ast.h"
#include "query/lexer.h"
#include "storage/common/arena.h"
#include "storage/common/error.h"

/* Parse one statement of len bytes of sql. On success *out is the statement, allocated in
 * arena a (as are all its nodes and strings; sql is not referenced afterwards). On failure
 * err holds a message with 'at LINE:COL' and, when err_pos is not NULL, *err_pos that
 * position (0:0 when there is none, as for an arena failure). */
sdb_rc sdb_parse(sdb_arena *a, const char *sql, size_t len, sdb_stmt **out, sdb_pos *err_pos,
                 sdb_err *err);

/* Parse a lone expression (all of sql, an optional trailing ';' allowed), same rules. */
sdb_rc sdb_parse_expr(sdb_arena *a, const char *sql, size_t len, sdb_expr **out, sdb_pos *err_pos,
                      sdb_err *err);

#endif
