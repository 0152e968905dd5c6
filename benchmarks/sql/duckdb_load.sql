-- Loads spandb's generated spans (spandb gen --format csv) into DuckDB with explicit
-- column types: time as TIMESTAMP_NS (the same nanoseconds spandb stores), symbols and
-- strings as VARCHAR, floats as DOUBLE, integers as BIGINT. ${CSV} is the file.
CREATE OR REPLACE TABLE spans AS SELECT * FROM read_csv('${CSV}', header = true, auto_detect = false,
  delim = ',', quote = '"', escape = '"', nullstr = '',
  columns = {
    'time': 'TIMESTAMP_NS', 'duration_ms': 'DOUBLE', 'ttft_ms': 'DOUBLE',
    'trace_id': 'VARCHAR', 'span_id': 'VARCHAR', 'parent_span_id': 'VARCHAR',
    'name': 'VARCHAR', 'span_kind': 'VARCHAR', 'service': 'VARCHAR', 'project': 'VARCHAR',
    'model': 'VARCHAR', 'provider': 'VARCHAR', 'endpoint': 'VARCHAR', 'status': 'VARCHAR',
    'error_type': 'VARCHAR', 'input_tokens': 'BIGINT', 'output_tokens': 'BIGINT',
    'cost_usd': 'DOUBLE', 'retries': 'BIGINT', 'prompt_name': 'VARCHAR',
    'prompt_version': 'VARCHAR', 'session_id': 'VARCHAR', 'user_id': 'VARCHAR',
    'hallucination': 'BOOLEAN', 'relevance': 'DOUBLE', 'faithfulness': 'DOUBLE',
    'feedback': 'BIGINT'});
